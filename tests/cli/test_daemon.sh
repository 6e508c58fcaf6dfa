#!/bin/sh
# `overcommitd run` on this machine's real kernel with enforce = no: it only
# logs what it would do, so nothing here is written (the VM tier runs it
# with enforce = yes).  Proves: start-up and capabilities, exec events reach
# a recommendation for the right pid, a bad SIGHUP keeps the old policy, a
# fork storm with matched execs inside misses none, SIGTERM stops cleanly.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 - # SKIP the proc connector and capability checks need root"
	echo "1..1"
	exit 0
fi
T=$(mktemp -d)
DPID=
cleanup() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# a name of this run's own: other test runs on the machine exec sleepers too,
# and the proc connector reports every process on the host
SL=ocd-s$$
cp /bin/sleep "$T/$SL"
mkpolicy "$T/pol" <<INI
[host]
enforce = no
interval = 60
[service sleeper]
match_comm = $SL
oom_score_adj = -100
INI
"$BIN" run -v --policy-dir "$T/pol" --state-dir "$T/state" --metrics-file "$T/oc.prom" >"$T/log" 2>&1 &
DPID=$!
wait_for() { # pattern, tenths of a second
	i=0
	while [ "$i" -lt "$2" ]; do
		grep -q "$1" "$T/log" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
check "run: starts and says so" wait_for 'running: 1 service' 50
check "run: metrics textfile written at start" grep -q '^overcommitd_service_running{service="sleeper"} 0' "$T/oc.prom"
check "run: metrics carry the daemon's counters" grep -q '^overcommitd_proc_events_total ' "$T/oc.prom"
st=/proc/$DPID/status
check "run: no_new_privs set" grep -q '^NoNewPrivs:[[:space:]]*1' "$st"
# privilege separation (issue 13): the daemon (the writer) keeps at most
# DAC_OVERRIDE(1) SYS_RESOURCE(24): no SYS_PTRACE(19), no NET_ADMIN(12) once bound
eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "$st")
prm=$(sed -n 's/^CapPrm:[[:space:]]*//p' "$st")
bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "$st")
check "run: effective capabilities within DAC_OVERRIDE, SYS_RESOURCE" [ $((0x$eff & ~0x1000002)) -eq 0 ]
check "run: permitted capabilities within the two" [ $((0x$prm & ~0x1000002)) -eq 0 ]
check "run: bounding set within the two" [ $((0x$bnd & ~0x1000002)) -eq 0 ]
check "run: keeps what it needs (DAC_OVERRIDE)" [ $((0x$eff & 0x2)) -eq $((0x2)) ]
check "run: self-test logged /proc/1/mem as not writable" \
	grep -q 'self-test: /proc/1/mem cannot be opened for writing' "$T/log"
# the reader: the daemon's only child, uid 65534, SYS_PTRACE alone, seccomp
RPID=$(cat "/proc/$DPID/task/$DPID/children" 2>/dev/null | tr -d ' ')
rst=/proc/$RPID/status
check "reader: a child of the daemon" [ -n "$RPID" ] && [ -r "$rst" ]
check "reader: runs as uid and gid 65534" sh -c "grep -q '^Uid:[[:space:]]*65534[[:space:]]*65534[[:space:]]*65534' '$rst' && grep -q '^Gid:[[:space:]]*65534' '$rst'"
reff=$(sed -n 's/^CapEff:[[:space:]]*//p' "$rst")
rbnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "$rst")
check "reader: SYS_PTRACE is all it has" [ "$((0x$reff))" -eq $((0x80000)) ] && [ "$((0x$rbnd))" -eq $((0x80000)) ]
check "reader: seccomp filter and no_new_privs" sh -c "grep -q '^Seccomp:[[:space:]]*2' '$rst' && grep -q '^NoNewPrivs:[[:space:]]*1' '$rst'"
# with the writer's capabilities a root process's memory cannot be opened
# for writing; the control (the same plus SYS_PTRACE, the old daemon) can
sleep 30 &
VICTIM=$!
MP=$PWD/${BUILD:-build}/tests/helpers/memprobe
"$MP" "$DPID" "$VICTIM" >"$T/memprobe" 2>&1
check "writer's credentials: /proc/PID/mem of a root process refused" [ $? -eq 0 ]
echo "# $(cat "$T/memprobe")"
"$MP" -p "$DPID" "$VICTIM" >/dev/null
check "control: with SYS_PTRACE added it opens (the probe can fail)" [ $? -eq 3 ]
kill "$VICTIM"

"$T/$SL" 2 &
S1=$!
check "exec of a matched program: recommended for its pid" wait_for "oom_score_adj pid $S1 ($SL): 0 -> -100" 20

# a broken policy on SIGHUP: every error logged, the old policy kept
printf 'bogus_key = 1\n' >>"$T/pol/50-test.ini"
kill -HUP "$DPID"
check "bad reload: the error is logged with FILE:LINE" wait_for "50-test.ini:7: " 30
check "bad reload: says it keeps the previous policy" wait_for 'still running the previous one' 30
# the first goes before the next one starts (each would be an instance)
kill "$S1"
wait "$S1" 2>/dev/null
"$T/$SL" 2 &
S2=$!
check "after a bad reload: still enforcing the old policy" wait_for "oom_score_adj pid $S2 ($SL)" 20
sed -i '$d' "$T/pol/50-test.ini"
kill -HUP "$DPID"
check "good reload: loaded" wait_for 'reload: policy loaded' 30

# a storm of forks with matched execs inside: none is missed.  Each matched
# process lives 3 s, so a daemon that is behind (ASan build, a loaded
# 2-core host: 18 of 20 seen at 1 s under load 16) still finds it in /proc;
# "joined" lines (debug log) count what the tracker took in, any role.
kill "$S2" 2>/dev/null
wait "$S2" 2>/dev/null
before=$(grep -c "sleeper: pid [0-9]* ($SL) joined" "$T/log")
STORM=${STORM:-20000}
"${BUILD:-build}/tests/helpers/forkstorm" -k 1000 -j 64 "$STORM" "$T/$SL" 3 >"$T/storm.txt" 2>&1
sleep 1
execs=$(sed -n 's/.*execs=\([0-9]*\).*/\1/p' "$T/storm.txt")
after=$(grep -c "sleeper: pid [0-9]* ($SL) joined" "$T/log")
seen=$((after - before))
echo "# storm: $(cat "$T/storm.txt"); matched execs the daemon took in: $seen of $execs"
echo "# lost-event resyncs: $(grep -c 'lost events' "$T/log")"
check "storm: every matched exec taken in" [ "$seen" -eq "$execs" ]
check "storm: it had matched execs in it" [ "$execs" -gt 0 ]

kill -TERM "$DPID"
wait "$DPID"
rc=$?
DPID=
check "SIGTERM: exit 0" [ "$rc" -eq 0 ]
check "SIGTERM: logs its totals" grep -q 'stopping: ' "$T/log"
check "enforce = no: nothing was written (oom_score_adj of a sleeper untouched)" [ "$(cat /proc/$S2/oom_score_adj 2>/dev/null || echo 0)" = 0 ]
# smaps reads (the exact fork charges) run on the daemon's reader thread,
# not on its event loop: execs that join while one runs are not held by
# it.  Two instance mains of 60,000 VMAs each: ~1 s per smaps read here.
# If the loop did the reads, an exec arriving during one would wait for
# its end: the worst join during the reads would be near a read's length.
VM=ocd-v$$
cp "${BUILD:-build}/tests/helpers/vmas" "$T/$VM"
VPIDS=
for i in 1 2; do
	"$T/$VM" 60000 0 >"$T/vm$i.out" &
	VPIDS="$VPIDS $!"
done
i=0
until [ "$(cat "$T"/vm*.out 2>/dev/null | grep -c ready)" -eq 2 ] || [ $i -gt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
mkpolicy "$T/pol2" <<INI
[host]
enforce = no
interval = 60
[service big]
match_comm = $VM
[service sleeper]
match_comm = $SL
INI
: >"$T/log2"
"$BIN" run -vv --policy-dir "$T/pol2" --state-dir "$T/state2" >"$T/log2" 2>&1 &
DPID=$!
i=0
until grep -q 'running:' "$T/log2" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
i=0
until [ "$(grep -c 'fork charge of pid' "$T/log2")" -ge 2 ] || [ $i -gt 300 ]; do
	"$T/$SL" 0.01 &
	sleep 0.05
	i=$((i + 1))
done
kill -TERM "$DPID"
wait "$DPID"
DPID=
for p in $VPIDS; do kill "$p"; done
for p in $VPIDS; do wait "$p" 2>/dev/null; done
line=$(grep 'stopping: ' "$T/log2")
reads=$(echo "$line" | sed -n 's/.*smaps reads \([0-9]*\) (\([0-9]*\) us.*/\1/p')
read_us=$(echo "$line" | sed -n 's/.*smaps reads [0-9]* (\([0-9]*\) us.*/\1/p')
during=$(echo "$line" | sed -n 's/.* \([0-9]*\) execs joined during a read (max \([0-9]*\) us).*/\1/p')
max_us=$(echo "$line" | sed -n 's/.*execs joined during a read (max \([0-9]*\) us).*/\1/p')
echo "# smaps: $reads reads, ${read_us:-?} us in all; $during execs joined during them, worst ${max_us:-?} us"
vread=0
for p in $VPIDS; do grep -q "fork charge of pid $p (first sighting): read" "$T/log2" && vread=$((vread + 1)); done
check "smaps off the loop: both instance mains read (every main, not only the largest)" [ "$vread" -eq 2 ]
check "smaps off the loop: execs joined while a read ran" [ "${during:-0}" -ge 1 ]
check "smaps off the loop: none held for half a read (${max_us:-?} us vs $((${read_us:-0} / 2 / ${reads:-1})) us)" \
	[ "${max_us:-0}" -lt $((${read_us:-0} / 2 / ${reads:-1})) ]
echo "1..$n"
