# daemon-storm: `overcommitd run` (enforce = yes) while forkstorm makes
# 20,000 forks at full speed, 64 children at a time; every 1000th child
# execs a copy of the probe helper named ocd-probe, which the policy
# matches (oom_score_adj = -321).  Each probe polls its own oom_score_adj
# (every 2 ms, up to 60 s), then writes what it saw to a file named by its
# pid.  Midway the daemon is stopped (SIGSTOP) while 7,000 pids go by, more
# fork/exit events than its receive buffer holds, so the kernel drops
# events.  Every matched process must get its oom_score_adj (none missed:
# through its exec event, or the rescan after the loss), and the daemon
# must have logged the loss.  Meanwhile the metrics file (written by every
# 1 s pass) must keep changing: the backlog after SIGCONT is drained in
# time-bounded slices (issue 13), so the pass, the metrics file and
# WATCHDOG=1 are never starved by a drain.
# vm-timeout: 180

FORKS=${OC_STORM_FORKS:-20000}
EVERY=${OC_STORM_EVERY:-1000}
ADJ=-321
need_oc
mkdir -p /tmp/bin /tmp/probe
cp /oc/bin/probe /tmp/bin/ocd-probe
policy 00-host.ini <<'POL'
[host]
enforce = yes
interval = 1
POL
policy 50-probe.ini <<POL
[service probe]
match_comm = ocd-probe
oom_score_adj = $ADJ
POL
mkdir -p /tmp/m
OCD_ARGS="--metrics-file /tmp/m/oc.prom"
ocd_start
# every change of the metrics file's event counter, stamped with the uptime
# (builtins only: no fork per sample)
msample() {
	_last=
	while :; do
		_v=
		while read -r _k _x; do
			[ "$_k" != overcommitd_proc_events_total ] || _v=$_x
		done < /tmp/m/oc.prom
		if [ -n "$_v" ] && [ "$_v" != "$_last" ]; then
			read -r _up _ < /proc/uptime
			echo "$_up $_v"
			_last=$_v
		fi
		nap 0.2
	done
}
msample > /tmp/m/changes 2>/dev/null &
OC_BG_PIDS="$OC_BG_PIDS $!"
# ahead of the 64 storm children, or it would measure its own waits
renice -n -20 -p $! > /dev/null || fail "renice of the metrics sampler"

read -r t0 _ < /proc/uptime
forkstorm -k "$EVERY" -j 64 "$FORKS" /tmp/bin/ocd-probe -t 60000 -a "$ADJ" /tmp/probe > /tmp/storm.txt 2>&1 &
SPID=$!
OC_BG_PIDS="$OC_BG_PIDS $SPID"
# a daemon that falls behind: stopped while 7,000 forks (14,000 fork and
# exit events, more than its 4 MiB receive buffer holds) go by, then let go:
# the kernel drops events (ENOBUFS) and the rescan must find what it missed
nap 3
# (cat, not read: sysctl files return EOF past offset 0, see vm())
p0=$(cat /proc/sys/kernel/ns_last_pid)
pmax=$(cat /proc/sys/kernel/pid_max)
kill -STOP "$OCD_PID"
read -r st0 _ < /proc/uptime
d=0
while [ "$d" -lt 7000 ] && kill -0 "$SPID" 2>/dev/null; do
	nap 0.2
	p1=$(cat /proc/sys/kernel/ns_last_pid)
	d=$((p1 >= p0 ? p1 - p0 : p1 + pmax - p0))
done
kill -CONT "$OCD_PID"
read -r st1 _ < /proc/uptime
log "daemon stopped for $(awk "BEGIN{print $st1 - $st0}") s while $d pids went by"
wait "$SPID"
src=$?
read -r t1 _ < /proc/uptime
storm=$(cat /tmp/storm.txt)
log "forkstorm exit $src after $(awk "BEGIN{print $t1 - $t0}") s: $storm"
[ "$src" = 0 ] || fail "forkstorm exit $src: $storm"
execs=$(echo "$storm" | sed -n 's/.*execs=\([0-9]*\).*/\1/p')
forks=$(echo "$storm" | sed -n 's/.*forks=\([0-9]*\).*/\1/p')
[ "$forks" -ge 20000 ] || [ "$FORKS" -lt 20000 ] || fail "only $forks forks"
[ "$execs" -ge 1 ] || fail "no matched execs in the storm: $storm"
# one file per probe: "PID ADJ LATENCY_US START_MS SEEN_MS CGROUP"
# after SIGCONT the daemon works through its backlog, then rescans: a probe
# that started before the last rescan may have waited for it
tr=$(grep 'lost events; rescanning' "$OCD_LOG" | tail -n 1 | cut -d' ' -f1)
st0ms=$(awk "BEGIN{printf \"%d\", $st0 * 1000}")
st1ms=$(awk "BEGIN{printf \"%d\", $st1 * 1000}")
trms=$(awk "BEGIN{printf \"%d\", ${tr:-$st1} * 1000}")
got=0 hit=0 missed='' lmax=0 late=0 resync=0
for f in /tmp/probe/*; do
	[ -f "$f" ] || continue
	read -r pid adj lat start seen _ < "$f"
	got=$((got + 1))
	if [ "$adj" != "$ADJ" ] || [ "$lat" -lt 0 ]; then
		missed="$missed $pid(adj $adj)"
		continue
	fi
	hit=$((hit + 1))
	if [ "$seen" -ge "$st0ms" ] && [ "$start" -le "$trms" ]; then
		# it lived while the daemon was stopped or behind: caught how long after it resumed?
		late=$((late + 1))
		a=$((seen - st1ms))
		[ "$a" -le "$resync" ] || resync=$a
	else
		[ "$lat" -le "$lmax" ] || lmax=$lat
	fi
done
# the longest the metrics file stood still while the daemon ran (from
# SIGCONT to the storm's end: its backlog, then the rest of the storm)
mgap=$(awk -v a="$st1" -v b="$t1" '$1 >= a && $1 <= b { if (p != "" && $1 - p > g) { g = $1 - p; at = p - a } p = $1; n++ }
	END { if (p != "" && b - p > g) { g = b - p; at = p - a } printf "%.1f %.1f %d", g, at, n }' /tmp/m/changes)
mchanges=${mgap##* } mgap=${mgap% *} mat=${mgap#* } mgap=${mgap% *}
lost=$(grep -c 'lost events; rescanning' "$OCD_LOG")
joined=$(grep -c 'probe: pid [0-9]* (ocd-probe) joined' "$OCD_LOG")
rate=$(echo "$storm" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
info "storm: $forks forks at ${rate}/s with $execs matched execs: oom_score_adj $ADJ reached $hit of $got (missed $((got - hit))); $((hit - late)) while the daemon ran, each within $((lmax / 1000)) ms of its start; $late while it was stopped ($(awk "BEGIN{print $st1 - $st0}") s, $d pids) or behind (backlog until the last rescan $((trms - st1ms)) ms after SIGCONT), caught at most $resync ms after SIGCONT; daemon log: $joined joined by exec event, $lost 'lost events; rescanning'"
[ "$got" = "$execs" ] || fail "$execs matched execs but $got probe reports"
[ "$hit" = "$got" ] || fail "$((got - hit)) of $got matched processes never got oom_score_adj $ADJ (each waited up to 60 s):$missed"
[ "$lost" -ge 1 ] || fail "no 'lost events; rescanning' although the daemon was stopped while $d pids went by"
info "metrics file: $mchanges changes in the $(awk "BEGIN{print $t1 - $st1}") s from SIGCONT to the storm's end, standing still at most $mgap s ($mat s after SIGCONT; interval 1 s)"
awk -v g="$mgap" 'BEGIN { exit !(g <= 4) }' ||
	fail "the metrics file stood still $mgap s while the daemon ran (interval 1 s): a drain starved the pass"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "SIGTERM: the daemon exited $OCD_RC"
grep -e 'stopping: ' -e 'proc connector: [0-9]' "$OCD_LOG" | sed 's/^/  /'
pass
