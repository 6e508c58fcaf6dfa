#!/bin/sh
# bench/soak.sh [N] - issue 13, "tests a trusted daemon has" #4: the daemon
# (enforce = no on this host: it writes nothing) watches N short-lived
# matched processes (default 100,000: children of a matched main, the BGSAVE
# pattern) while an unmatched fork storm makes the proc connector lose
# events.  Prints the daemon's RSS over time, its peak, its resyncs and the
# sizes of its tables at exit.  Needs root (the proc connector).
set -eu
N=${1:-100000}
BUILD=${BUILD:-build}
BIN=$BUILD/overcommitd
T=$(mktemp -d)
DPID=
cleanup() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
NAME=ocd-soak$$
cp "$BUILD/tests/helpers/forkstorm" "$T/$NAME"
mkdir -p "$T/pol"
chmod 0755 "$T/pol"
cat >"$T/pol/50.ini" <<INI
[host]
enforce = no
interval = 5
[service soak]
match_comm = $NAME
oom_score_adj = -100
child_oom_score_adj = 800
INI
chmod 0644 "$T/pol/50.ini"
"$BIN" run --policy-dir "$T/pol" --state-dir "$T/state" >"$T/log" 2>&1 &
DPID=$!
i=0
while [ "$i" -lt 100 ] && ! grep -q 'running:' "$T/log"; do sleep 0.1; i=$((i + 1)); done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DPID/status"; }
echo "start: VmRSS $(rss) KiB"
ps -o pid=,rss=,comm= --ppid "$DPID" -p "$DPID" | tr "\n" ";" >"$T/procs"
"$BUILD/tests/helpers/forkstorm" -j 256 $((N * 2)) >"$T/noise" 2>&1 &
NOISE=$!
"$T/$NAME" -j 64 "$N" >"$T/storm" 2>&1 &
STORM=$!
t=0
while kill -0 "$STORM" 2>/dev/null; do
	sleep 2
	t=$((t + 2))
	echo "t=${t}s: VmRSS $(rss) KiB"
done
wait "$STORM" || true
wait "$NOISE" || true
sleep 6 # one periodic pass after the storm
echo "matched storm: $(cat "$T/storm")"
echo "noise storm:   $(cat "$T/noise")"
echo "end: VmRSS $(rss) KiB, VmHWM $(awk '/^VmHWM/ {print $2}' "/proc/$DPID/status") KiB"
kill -TERM "$DPID"
wait "$DPID" || true
DPID=
grep -E "stopping:|state:" "$T/log" | sed "s/^overcommitd: //"
echo "recommendation lines logged: $(grep -c "recommend (enforce = no)" "$T/log"); processes of the daemon: $(cat "$T/procs")"
echo "lost-event resyncs logged: $(grep -c 'lost events' "$T/log")"
echo "journal: $(cat "$T/state/journal.json" 2>/dev/null | wc -c) bytes"
