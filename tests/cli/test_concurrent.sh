#!/bin/sh
# Issue 13, "tests a trusted daemon has" #2: the daemon, `apply` and
# `restore` on one state directory at the same time, on a private fixture
# tree (the daemon enforces into the fixture; nothing of this host is
# written).  The state directory's lock serialises them and the daemon
# reads the journal again after another process replaced it, so no
# original is lost: after the daemon stops, one `restore` brings every
# file of the tree back byte for byte.  Before the lock, a daemon saving
# its in-memory journal wrote over the originals `apply` had recorded.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 - # SKIP the daemon's proc connector needs root"
	echo "1..1"
	exit 0
fi
T=$(mktemp -d)
DPID=
cleanup() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
sh tests/fixtures/seed-host.sh "$T/pristine"
cp -a "$T/pristine" "$T/host"
S="$T/state"
R="--procfs $T/host/proc --sysfs $T/host/sys --cgroupfs $T/host/cgroup --state-dir $S"
mkpolicy "$T/pol" <<'INI'
[host]
overcommit = auto
fork_headroom = 110%
enforce = yes
interval = 1
reapply_on_drift = yes
restore_on_exit = no
; a value the daemon writes again after each restore: its journal is
; rewritten all through the run
admin_reserve = 1%
INI
cp policies/examples/redis.ini "$T/pol/60-redis.ini"
chmod 0644 "$T/pol/60-redis.ini"
P="--policy-dir policies --policy-dir $T/pol"
# the one-shot apply also sets what the daemon's policy leaves alone: its
# original is the one a daemon writing its stale journal would lose (the
# lost user_reserve_kbytes of issue 12; the daemon must see every other
# lock: the lock file's generation, DESIGN "The lock")
mkdir -p "$T/pol1"
chmod 0755 "$T/pol1"
printf '[host]\nuser_reserve = 3%%\n' >"$T/pol1/70-reserve.ini"
chmod 0644 "$T/pol1/70-reserve.ini"
P1="$P --policy-dir $T/pol1"
# shellcheck disable=SC2086
"$BIN" run $P $R >"$T/daemon.log" 2>&1 &
DPID=$!
i=0
while [ "$i" -lt 50 ] && ! grep -q 'running:' "$T/daemon.log"; do sleep 0.1; i=$((i + 1)); done
check "daemon runs on the fixture tree" grep -q 'running:' "$T/daemon.log"
# one-shot writers beside it, for ~6 s: apply and restore interleaved
rounds=0 bad=0
end=$(($(date +%s) + 6))
while [ "$(date +%s)" -lt "$end" ]; do
	# shellcheck disable=SC2086
	"$BIN" apply $P1 $R >/dev/null 2>>"$T/oneshot.err" &
	a=$!
	# shellcheck disable=SC2086
	"$BIN" restore $R >/dev/null 2>>"$T/oneshot.err" &
	b=$!
	wait "$a" || bad=$((bad + 1))
	wait "$b" || bad=$((bad + 1))
	rounds=$((rounds + 1))
done
# shellcheck disable=SC2086
"$BIN" apply $P1 $R >/dev/null 2>>"$T/oneshot.err"
check "the one-shot's own target written" [ "$(cat "$T/host/proc/sys/vm/user_reserve_kbytes")" != "$(cat "$T/pristine/proc/sys/vm/user_reserve_kbytes")" ]
kill -TERM "$DPID"
wait "$DPID"
drc=$?
DPID=
echo "# $rounds rounds of apply + restore beside the daemon; $bad one-shot exits non-zero"
sort "$T/oneshot.err" | uniq -c | sort -rn | head -3 | sed "s/^/# /"
check "daemon stopped cleanly" [ "$drc" -eq 0 ]
check "no journal was refused as corrupt" [ "$(grep -c 'corrupt' "$T/oneshot.err" "$T/daemon.log" | awk -F: '{s+=$2} END {print s+0}')" = 0 ]
# shellcheck disable=SC2086
"$BIN" restore $R >"$T/final.txt" 2>&1
check "final restore: exit 0" [ $? -eq 0 ]
for pid in 100 101; do cp "$T/pristine/proc/$pid/cgroup" "$T/host/proc/$pid/cgroup"; done
diff -r -x cgroup.procs "$T/pristine" "$T/host" >&2; check "every original restored: the tree is back byte for byte" diff -r -x cgroup.procs "$T/pristine" "$T/host"
check "no temp file left in the state directory" [ "$(ls "$S" | grep -c tmp)" = 0 ]
echo "1..$n"
