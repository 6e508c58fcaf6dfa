# bench-soak (issue 13, "tests a trusted daemon has" #4, in the guest where
# enforce = yes really writes): the daemon enforces while a matched main
# forks N children that live 100 ms each (64 at a time; each one an
# oom_score_adj write, a journal.pids line and its drop) and an unmatched
# storm of N/5 forks (256 at a time) makes the proc connector lose events
# (2N made a 100,000 run take an hour in TCG).  Figures (INFO lines):
#   RSS       the daemon's and its reader's VmRSS every 5 s, their VmHWM,
#             against the unit's MemoryMax (64M)
#   journal   journal.json and journal.pids sizes every 5 s, and the largest
#   tables    tracked processes, drift entries, journal entries at exit
#   fsync     the daemon's fsync/fdatasync calls (counted by sysfault -c,
#             which stops the daemon only at those calls), per second
# vm-timeout: 2400
N=@SOAK_N@
MEMORY_MAX_KB=65536
cp /oc/bin/forkstorm /tmp/ocsoak
policy 50-soak.ini <<'POL'
[host]
enforce = yes
interval = 5
[service soak]
match_comm = ocsoak
oom_score_adj = -100
child_oom_score_adj = 800
memory_high = 256M
cgroup = overcommitd/soak
POL
sysfault -c fsync,fdatasync,syncfs,sync_file_range "$OC" run -v --policy-dir "$POL" \
	--state-dir "$OCSTATE" > /tmp/soak.log 2>&1 &
SF=$!
OC_BG_PIDS="$OC_BG_PIDS $SF"
n=600
until grep -q 'running: ' /tmp/soak.log; do
	kill -0 "$SF" 2>/dev/null && [ "$n" -gt 0 ] || fail "the daemon did not start: $(tail -n 5 /tmp/soak.log | tr '\n' ';')"
	n=$((n - 1))
	nap 0.1
done
read -r D _ < "/proc/$SF/task/$SF/children"
read -r R _ < "/proc/$D/task/$D/children"
kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
size() { if [ -e "$1" ]; then wc -c < "$1"; else echo 0; fi; }
max_rss=0 max_json=0 max_pids=0
sample() {
	_d=$(kb "$D" VmRSS) _r=$(kb "$R" VmRSS)
	_j=$(size "$OCSTATE/journal.json") _p=$(size "$OCSTATE/journal.pids")
	[ $((_d + _r)) -le "$max_rss" ] || max_rss=$((_d + _r))
	[ "$_j" -le "$max_json" ] || max_json=$_j
	[ "$_p" -le "$max_pids" ] || max_pids=$_p
	log "t=${1}s: daemon VmRSS $_d KiB, reader $_r KiB; journal.json $_j B, journal.pids $_p B"
}
sample 0
read -r t0 _ < /proc/uptime
bg forkstorm -j 256 $((N / 5))
NOISE=$BG_PID
bg /tmp/ocsoak -j 64 -l 100 "$N"
STORM=$BG_PID
t=0
while kill -0 "$STORM" 2>/dev/null; do
	nap 5
	t=$((t + 5))
	sample "$t"
done
wait "$NOISE"
read -r t1 _ < /proc/uptime
nap 11 # two periodic passes after the storm
sample end
hwm_d=$(kb "$D" VmHWM) hwm_r=$(kb "$R" VmHWM)
adds=$(grep -c '^+' "$OCSTATE/journal.pids" 2>/dev/null)
drops=$(grep -c '^-' "$OCSTATE/journal.pids" 2>/dev/null)
log "journal.pids: ${adds:-0} added, ${drops:-0} dropped; first added: $(grep -m 3 '^+' "$OCSTATE/journal.pids" | tr '\n' ';')"
p1=$(grep -m 1 '^+' "$OCSTATE/journal.pids" | cut -d' ' -f3)
[ -z "$p1" ] || log "daemon lines about pid $p1: $(grep -E "(pid|process) $p1[ )]" /tmp/soak.log | head -n 5 | tr '\n' ';')"
kill -TERM "$SF"
wait "$SF"
secs=$(awk "BEGIN{print $t1 - $t0}")
fs=$(sed -n 's/^sysfault: count total //p' /tmp/soak.log)
info "$N matched short-lived processes + $((N / 5)) unmatched forks in $secs s; $(grep -c 'lost events' /tmp/soak.log) lost-event resyncs"
info "RSS: daemon + reader at most $max_rss KiB sampled every 5 s; VmHWM daemon $hwm_d KiB + reader $hwm_r KiB (MemoryMax $MEMORY_MAX_KB KiB)"
info "journal: journal.json at most $max_json B, journal.pids at most $max_pids B"
info "$(grep -o 'state: .*' /tmp/soak.log | tail -n 1)"
info "$(grep -o 'stopping: .*' /tmp/soak.log | tail -n 1 | cut -c1-160)"
info "fsync: $fs calls of the daemon in $secs s of storm + 11 s ($(awk "BEGIN{printf \"%.2f\", $fs / ($secs + 11)}")/s)"
[ $((hwm_d + hwm_r)) -lt "$MEMORY_MAX_KB" ] || fail "VmHWM $((hwm_d + hwm_r)) KiB reaches MemoryMax"
pass
