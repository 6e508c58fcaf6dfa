# refusal-flood (issue 14, proof 4): 1,000 refusals in about a second
# (mmaps larger than RAM + swap) from a matched service while 3,000 forks
# run: every refusal counted in the
# metric, the log rate-limited (RF_LOG_BURST lines, then one line saying
# how many were folded), no proc-connector event lost (no rescan), the
# daemon's loop never blocked (the matched probe processes still get their
# oom_score_adj; the longest wake spent on refusals is measured) and the
# daemon itself asks the commit check for nothing while it records (its
# VmData stays; none of the records is its own).
# vm-timeout: 150
N=1000
SIZE_KB=$((3 * 1024 * 1024))  # more than RAM + swap: refused whatever the daemon plans
need_oc
mkdir -p /tmp/bin /tmp/probe
cp /oc/bin/probe /tmp/bin/ocd-probe
cp /oc/bin/allocer /tmp/bin/ocd-flood  # matched at its exec by this name
policy 00-host.ini <<'POL'
[host]
enforce = yes
interval = 1
POL
policy 50-flood.ini <<'POL'
[service flood]
match_comm = ocd-flood

[service probe]
match_comm = ocd-probe
oom_score_adj = -321
POL
ocd_start
nap 1
vd0=$(status_kb "$OCD_PID" VmData)
# mode 0 (as booted): a request larger than RAM + swap is refused, forks are not
forkstorm -k 500 -j 8 3000 /tmp/bin/ocd-probe -t 30000 -a -321 /tmp/probe > /tmp/storm.txt 2>&1 &
SPID=$!
OC_BG_PIDS="$OC_BG_PIDS $SPID"
read -r t0 _ < /proc/uptime
/tmp/bin/ocd-flood -m -c "$N" "$SIZE_KB" > /tmp/alloc.out 2>&1
read -r t1 _ < /proc/uptime
wait "$SPID"
src=$?
read -r res < /tmp/alloc.out
info "allocer: $res in $(awk "BEGIN{print $t1 - $t0}") s; forkstorm (exit $src): $(cat /tmp/storm.txt)"
case $res in *enomem=$N*) ;; *) fail "expected $N refused mmaps: $res" ;; esac
ms=$(echo "$res" | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
[ "$ms" -le 1000 ] || fail "the $N refusals took $ms ms, not one second"

# the book is saved at most once a second
nap 2.5
oc status --format prometheus
got=$(sed -n 's/^overcommitd_commit_refusals_total{operation="mmap",service="flood"} //p' "$OUT")
[ "$got" = "$N" ] || fail "metric counts ${got:-nothing} of $N refusals: $(grep refusal "$OUT" | tr '\n' ';')"
lost=$(sed -n 's/^overcommitd_commit_refusals_lost_total //p' "$OUT")
[ "$lost" = 0 ] || fail "$lost refusals lost in the ring buffer"
# the capture never makes the daemon ask the commit check for more: no
# allocation per refusal (its VmData, the private writable memory the check
# charges, stays; a save's JSON reuses the heap), so it cannot be refused
# and record itself
vd1=$(status_kb "$OCD_PID" VmData)
[ $((vd1 - vd0)) -le 256 ] || fail "the daemon's VmData grew $vd0 -> $vd1 kB during the flood"
mine=$(jget -c -f "$RF_FILE" "recent/tgid=$OCD_PID")
[ "$mine" = 0 ] || fail "the daemon recorded $mine refusals of its own"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "the daemon exited $OCD_RC"
lines=$(grep -c 'of ocd-flood (pid .*) refused' "$OCD_LOG")
folded=$(sed -n 's/.*service flood: \([0-9]*\) more commit refusals.*/\1/p' "$OCD_LOG" | awk '{s+=$1} END{print s+0}')
info "log: $lines lines, $folded folded"
[ "$lines" -le 5 ] && [ "$lines" -ge 1 ] || fail "$lines log lines for $N refusals (rate limit 5 a minute)"
[ $((lines + folded)) = "$N" ] || fail "$lines logged + $folded folded != $N"
rescans=$(grep -c 'lost events; rescanning' "$OCD_LOG")
[ "$rescans" = 0 ] || fail "proc connector lost events $rescans time(s) during the flood"
got=0 hit=0
for f in /tmp/probe/*; do
	[ -f "$f" ] || continue
	read -r pid adj _ < "$f"
	got=$((got + 1))
	[ "$adj" = -321 ] && hit=$((hit + 1))
done
[ "$got" -ge 1 ] && [ "$hit" = "$got" ] || fail "probes during the flood: $hit of $got got oom_score_adj -321"
wake=$(sed -n 's/.*commit refusal capture: \([0-9]*\) records in \([0-9]*\) wakes, the longest \([0-9]*\) us.*/\1 \2 \3/p' "$OCD_LOG")
set -- $wake
[ "$#" = 3 ] || fail "no drain figures at exit: $(grep 'records in' "$OCD_LOG")"
[ "$1" = "$N" ] || fail "the loop handled $1 records, $N refusals"
# one wake handles at most 256 records, then the proc connector is served
[ "$3" -le 1000000 ] || fail "one wake of the loop spent $3 us on refusals"
info "the loop: $1 records in $2 wakes, the longest wake $3 us; daemon VmData $vd0 -> $vd1 kB, 0 records of its own"
info "proc connector: 0 lost; $hit of $got matched probes enforced during the flood; $(grep 'stopping: ' "$OCD_LOG" | sed 's/^[0-9.]* //')"
pass
