#!/bin/sh
# snapshot + what-if on the fixture trees (issue 15): what-if on a host's
# snapshot prints the very plan recommend prints on that host (text and
# JSON, two hosts, two policies), the fleet summary and exit codes, and a
# corrupt or foreign-version snapshot is a clear error naming the file.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sh tests/fixtures/seed-host.sh "$T/seed"
cp -a tests/fixtures/compliant "$T/compliant"
roots() { echo "--procfs $T/$1/proc --sysfs $T/$1/sys --cgroupfs $T/$1/cgroup --state-dir $T/state-$1"; }

mkpolicy "$T/auto" <<'INI'
[host]
overcommit = auto
fork_headroom = 110%
enforce = yes
INI
cp policies/examples/redis.ini "$T/auto/60-redis.ini"
chmod 0644 "$T/auto/60-redis.ini"
# a rollout of strict accounting with ratio 50 (the seed host's own
# setting): what-if must name the BGSAVE fork that fails there; the planner
# never keeps a ratio under which a fork RAM + swap can back would fail, so
# its plan raises the limit (the fix) as under the auto policy
mkpolicy "$T/ratio" <<'INI'
[host]
overcommit = strict
commit_ratio = 50
INI
cp policies/examples/redis.ini "$T/ratio/60-redis.ini"
chmod 0644 "$T/ratio/60-redis.ini"

# ---- snapshot ---------------------------------------------------------------
for h in seed compliant; do
	cp -a "$T/$h" "$T/$h.pristine"
	# shellcheck disable=SC2046
	"$BIN" snapshot $(roots "$h") "$T/$h.json" 2>"$T/snap-$h.err"
	check "snapshot $h: exit 0" [ $? -eq 0 ]
	check "snapshot $h: wrote nothing in the tree" diff -r "$T/$h.pristine" "$T/$h"
done
check "snapshot: file mode 0600 (command lines)" [ "$(stat -c %a "$T/seed.json")" = 600 ]
check "snapshot: format and version" [ "$(jq_py "$T/seed.json" '(d["format"], d["version"])')" = "('overcommitd-snapshot', 1)" ]
check "snapshot: every process with its cheap fields" [ "$(jq_py "$T/seed.json" '[(p["pid"], p["comm"], p["vm_data_kb"] + p["vm_stk_kb"]) for p in d["processes"]]')" = \
	"[(1, 'init', 1156), (2, 'kthreadd', 0), (100, 'redis-server', 614532), (101, 'redis-rdb-bgsave', 614532), (200, 'bash', 2632)]" ]
check "snapshot: vm sysctls and meminfo" [ "$(jq_py "$T/seed.json" '(d["sysctls"]["vm.overcommit_memory"], d["meminfo"]["committed_as_kb"])')" = "(2, 921600)" ]
check "snapshot: systemd unit and cgroup facts" [ "$(jq_py "$T/compliant.json" '([p["unit"] for p in d["processes"] if p["pid"]==100], [g["path"] for g in d["cgroup"]["groups"]], d["cgroup"]["v2_memory"])')" = \
	"(['redis-server.service'], ['/system.slice/redis-server.service', '/user.slice/user-0.slice/session-1.scope'], True)" ]
check "snapshot: cmdline kept without --redact" grep -q '127.0.0.1:6379' "$T/seed.json"
# shellcheck disable=SC2046
"$BIN" snapshot --redact $(roots seed) >"$T/redacted.json"
check "snapshot --redact to stdout: no cmdline anywhere" [ "$(jq_py "$T/redacted.json" '(d["host"]["redacted"], sum("cmdline" in p for p in d["processes"]))')" = "(True, 0)" ]
check "snapshot --redact: no argument leaked" sh -c "! grep -q '6379' '$T/redacted.json'"

# a FIFO (like /dev/stdout) is written in place, never replaced by a file
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/fromfifo.json" &
# shellcheck disable=SC2046
"$BIN" snapshot -q $(roots seed) "$T/fifo"
wait
check "snapshot to a FIFO: the FIFO stays a FIFO" [ -p "$T/fifo" ]
check "snapshot to a FIFO: the document came through it" [ "$(jq_py "$T/fromfifo.json" 'len(d["processes"])')" = 5 ]

# ---- what-if == recommend ------------------------------------------------------
# the host part of what-if's text: the lines after the host's "== " header up
# to the blank line that closes it
host_block() { # file, n-th host (1-based)
	awk -v want="$2" '/^== / { k++; next } /^fleet: / { k = -1 } k == want' "$1" | sed '$d'
}
for pol in auto ratio; do
	P="--policy-dir policies --policy-dir $T/$pol"
	for h in seed compliant; do
		# shellcheck disable=SC2046,SC2086
		"$BIN" recommend $P $(roots "$h") >"$T/rec-$pol-$h.txt"
		echo $? >"$T/rec-$pol-$h.rc"
		# shellcheck disable=SC2046,SC2086
		"$BIN" recommend --format json $P $(roots "$h") >"$T/rec-$pol-$h.json"
	done
	# shellcheck disable=SC2086
	"$BIN" what-if $P "$T/seed.json" "$T/compliant.json" >"$T/wi-$pol.txt" 2>"$T/wi-$pol.err"
	echo $? >"$T/wi-$pol.rc"
	# shellcheck disable=SC2086
	"$BIN" what-if --format json $P "$T/seed.json" "$T/compliant.json" >"$T/wi-$pol.json"
	host_block "$T/wi-$pol.txt" 1 >"$T/wi-$pol-seed.txt"
	host_block "$T/wi-$pol.txt" 2 >"$T/wi-$pol-compliant.txt"
	for h in seed compliant; do
		check "$pol/$h: what-if text = recommend text" diff "$T/rec-$pol-$h.txt" "$T/wi-$pol-$h.txt"
	done
	check "$pol: what-if json per host = recommend json" python3 -c '
import json, sys
w = json.load(open(sys.argv[1]))
recs = [json.load(open(f)) for f in sys.argv[2:]]
got = [h["report"] for h in w["hosts"]]
sys.exit(0 if got == recs and len(got) == 2 else 1)' "$T/wi-$pol.json" "$T/rec-$pol-seed.json" "$T/rec-$pol-compliant.json"
	check "$pol: what-if exit 2 (changes or risks)" [ "$(cat "$T/wi-$pol.rc")" = 2 ]
	check "$pol: what-if wrote nothing" diff -r "$T/seed.pristine" "$T/seed"
done
check "auto: the seed host's fork is fixed by the plan" grep -q 'failing forks the plan fixes (services): seed.json (1)' "$T/wi-auto.txt"
check "auto: fleet json counts" [ "$(jq_py "$T/wi-auto.json" '(d["fleet"]["hosts_planned"], d["fleet"]["hosts_fork_fails"], d["fleet"]["hosts_fork_fixed"])')" = "(2, 0, 1)" ]
check "ratio 50: the BGSAVE fork failure named with its numbers" grep -q 'fork of redis-server (pid 100) needs 600 MiB of commit but only 96 MiB is left' "$T/wi-ratio.txt"
check "ratio 50: largest risk first is the seed host's fork, short 504 MiB" [ "$(jq_py "$T/wi-ratio.json" '(d["fleet"]["risks"][0]["file"].endswith("seed.json"), d["fleet"]["risks"][0]["kind"], d["fleet"]["risks"][0]["short_kb"])')" = "(True, 'fork_fails', 516440)" ]
check "ratio 50: the compliant host has no risk and stays unchanged" [ "$(jq_py "$T/wi-ratio.json" '(d["hosts"][1]["report"]["risks"], d["fleet"]["hosts"][1]["forks_fail_now"])')" = "([], 0)" ]

# ---- a cgroup v1 host (RHEL 8): its groups travel in the snapshot ------------
sh tests/fixtures/seed-host.sh "$T/v1" v1
P="--policy-dir policies --policy-dir $T/auto"
# shellcheck disable=SC2046
"$BIN" snapshot $(roots v1) "$T/v1.json" 2>/dev/null
check "v1: the snapshot names the hierarchy and carries its groups" [ "$(jq_py "$T/v1.json" '(d["cgroup"]["hierarchy"], d["cgroup"]["v2_memory"], [g["path"] for g in d["cgroup"]["groups"]])')" = \
	"('v1', False, ['/overcommitd', '/overcommitd/redis'])" ]
# shellcheck disable=SC2046,SC2086
"$BIN" recommend $P $(roots v1) >"$T/rec-v1.txt"
# shellcheck disable=SC2086
"$BIN" what-if $P "$T/v1.json" >"$T/wi-v1.txt" 2>/dev/null
host_block "$T/wi-v1.txt" 1 >"$T/wi-v1-host.txt"
check "v1: what-if text = recommend text (groups placed and limited on v1)" diff "$T/rec-v1.txt" "$T/wi-v1-host.txt"
check "v1: what-if says cgroup v1" grep -q 'memory controller on cgroup v1' "$T/wi-v1-host.txt"

# ---- the exact fork charge (smaps) travels in the snapshot --------------------
# pid 100 with a 252 KiB accounted heap and 600 MiB mapped MAP_NORESERVE
# (jemalloc started under mode 0/1): recommend reads smaps, what-if the copy
cp -a "$T/seed.pristine" "$T/smaps"
cat >"$T/smaps/proc/100/smaps" <<'SMAPS'
55f78f16f000-55f78f1ae000 rw-p 00000000 00:00 0                          [heap]
Size:                252 kB
Rss:                 252 kB
VmFlags: rd wr mr mw me ac
7f0000000000-7f0025800000 rw-p 00000000 00:00 0
Size:             614400 kB
Rss:              589824 kB
VmFlags: rd wr mr mw me nr
SMAPS
P="--policy-dir policies --policy-dir $T/auto"
# shellcheck disable=SC2046
"$BIN" snapshot $(roots smaps) "$T/smaps.json" 2>/dev/null
check "smaps: the snapshot carries pid 100's exact charge" [ "$(jq_py "$T/smaps.json" '[p["smaps"]["charge_kb"] for p in d["processes"] if "smaps" in p]')" = "[252]" ]
# shellcheck disable=SC2046,SC2086
"$BIN" recommend $P $(roots smaps) >"$T/rec-smaps.txt"
# shellcheck disable=SC2086
"$BIN" what-if $P "$T/smaps.json" >"$T/wi-smaps.txt"
host_block "$T/wi-smaps.txt" 1 >"$T/wi-smaps-host.txt"
check "smaps: what-if text = recommend text" diff "$T/rec-smaps.txt" "$T/wi-smaps-host.txt"
check "smaps: both judge the fork on 252 KiB, not 600 MiB" grep -q 'fork needs 252 KiB' "$T/wi-smaps-host.txt"

# ---- exit 0: nothing would change --------------------------------------------
mkpolicy "$T/none" <<'INI'
[host]
overcommit = auto
INI
"$BIN" what-if --policy-dir "$T/none" "$T/compliant.json" >"$T/wi-none.txt" 2>&1
check "what-if: exit 0 when nothing would change" [ $? -eq 0 ]

# ---- bad input ---------------------------------------------------------------------
P="--policy-dir policies --policy-dir $T/auto"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["version"]=2; json.dump(d, open(sys.argv[2], "w"))' "$T/seed.json" "$T/v2.json"
head -c 700 "$T/seed.json" >"$T/cut.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["processes"][2]["pid"]="x"; json.dump(d, open(sys.argv[2], "w"))' "$T/seed.json" "$T/badpid.json"
# shellcheck disable=SC2086
"$BIN" what-if $P "$T/v2.json" "$T/seed.json" "$T/cut.json" "$T/badpid.json" "$T/missing.json" >"$T/bad.txt" 2>"$T/bad.err"
check "bad input: exit 1" [ $? -eq 1 ]
check "bad input: version named with the file" grep -q "$T/v2.json: snapshot version 2: this overcommitd (.*) reads version 1" "$T/bad.err"
check "bad input: truncated file named" grep -q "$T/cut.json: not JSON" "$T/bad.err"
check "bad input: the field named" grep -q "$T/badpid.json: processes\[2\].pid: missing or not an integer" "$T/bad.err"
check "bad input: a missing file named" grep -q "$T/missing.json: No such file" "$T/bad.err"
check "bad input: the good snapshot still planned" grep -q '^== seed.json' "$T/bad.txt"
check "bad input: the summary counts the unreadable files" grep -q '4 snapshots could not be read' "$T/bad.txt"
"$BIN" what-if $P >/dev/null 2>"$T/noargs.err"
check "what-if without a snapshot: exit 1" [ $? -eq 1 ]
echo "1..$n"
