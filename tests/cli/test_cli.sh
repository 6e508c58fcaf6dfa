#!/bin/sh
# The real binary against fixture trees (DESIGN §5): recommend (text, JSON,
# exit codes), apply (files changed exactly as planned, journal written), a
# second apply (no change), restore (tree back byte for byte), validate.
# Every tree is a private copy under a temp dir; nothing outside it is touched.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# the seed host with its service's group already made
sh tests/fixtures/seed-host.sh "$T/host"
cp -a "$T/host" "$T/pristine"
R="--procfs $T/host/proc --sysfs $T/host/sys --cgroupfs $T/host/cgroup --state-dir $T/state"

mkpolicy "$T/pol" <<'INI'
[host]
overcommit = auto
fork_headroom = 110%
enforce = yes
INI
cp policies/examples/redis.ini "$T/pol/60-redis.ini"
chmod 0644 "$T/pol/60-redis.ini"
P="--policy-dir policies --policy-dir $T/pol"

# ---- recommend ------------------------------------------------------------
# shellcheck disable=SC2086
"$BIN" recommend $P $R >"$T/rec.txt" 2>"$T/rec.err"
rc=$?
check "recommend: exit 2 when a fork does not fit" [ "$rc" -eq 2 ]
check "recommend text names the service and the failing fork" \
	grep -q 'fork of redis-server (pid 100) needs 600 MiB' "$T/rec.txt"
check "recommend text shows the sysctl change" grep -q 'sysctl vm.overcommit_kbytes: 0 ->' "$T/rec.txt"
check "recommend text cites the policy file:line" grep -q "policy: $T/pol/60-redis.ini:11" "$T/rec.txt"
# shellcheck disable=SC2086
"$BIN" --format json $P $R recommend >"$T/rec.json"
rc=$?
check "recommend json: exit 2 (options before the command)" [ "$rc" -eq 2 ]
check "json: risk fork_fails for redis" [ "$(jq_py "$T/rec.json" '[r["service"] for r in d["risks"] if r["kind"]=="fork_fails"]')" = "['redis']" ]
check "json: service fork_fits false, fits after" [ "$(jq_py "$T/rec.json" '(d["services"][0]["fork_fits"], d["services"][0]["fork_fits_after"], d["services"][0]["main_pid"])')" = "(False, True, 100)" ]
want_kb=$(jq_py "$T/rec.json" '[a["desired"] for a in d["actions"] if a["target"]=="vm.overcommit_kbytes"][0]')
check "json: overcommit_kbytes action with a number" [ "$want_kb" -gt 1048576 ]
check "json: host figures" [ "$(jq_py "$T/rec.json" '(d["host"]["overcommit_memory"], d["host"]["commit_limit_kb"], d["host"]["mem_total_kb"])')" = "(2, 1048576, 2097152)" ]
check "json: action kinds" [ "$(jq_py "$T/rec.json" 'sorted(set(a["kind"] for a in d["actions"]))')" = "['cgroup_attach', 'memory_high', 'oom_score_adj', 'sysctl']" ]
check "recommend wrote nothing" diff -r "$T/pristine" "$T/host"
check "recommend created no state" [ ! -e "$T/state" ]

# ---- apply ----------------------------------------------------------------
# Cgroups are written through libcgroup, which acts on the mounted hierarchy
# only: on a fixture tree those actions fail cleanly and nothing is written
# (the VM tiers test the writer: tests/vm/scenarios/*-cgroup-v1/-v2).  So
# this is also the partial failure: the rest is done and journaled, exit 1.
# shellcheck disable=SC2086
"$BIN" apply $P $R --format json >"$T/apply.json" 2>"$T/apply.err"
rc=$?
check "apply: exit 1 (cgroup actions refused on a fixture tree)" [ "$rc" -eq 1 ]
check "apply: cgroup actions failed, the rest done" [ "$(jq_py "$T/apply.json" 'sorted(set((a["kind"], a["result"]) for a in d["actions"]))')" = \
	"[('cgroup_attach', 'failed'), ('memory_high', 'failed'), ('oom_score_adj', 'done'), ('sysctl', 'done')]" ]
check "apply: says libcgroup acts on the mounted hierarchy only" grep -q 'written through libcgroup, which acts on the mounted hierarchy' "$T/apply.json"
check "apply: stderr names each failed target" [ "$(grep -c 'cgroup_attach pid 10[01]\|memory_high /overcommitd/redis' "$T/apply.err")" = 3 ]
check "apply: the fixture's cgroup tree untouched" diff -r "$T/pristine/cgroup" "$T/host/cgroup"
check "apply: overcommit_kbytes written as planned" [ "$(cat "$T/host/proc/sys/vm/overcommit_kbytes")" = "$want_kb" ]
check "apply: oom_score_adj of the main process" [ "$(cat "$T/host/proc/100/oom_score_adj")" = "-500" ]
check "apply: child_oom_score_adj of the BGSAVE child" [ "$(cat "$T/host/proc/101/oom_score_adj")" = "800" ]
check "apply: unrelated process untouched" [ "$(cat "$T/host/proc/200/oom_score_adj")" = "0" ]
check "apply: journal holds the originals" [ "$(jq_py "$T/state/journal.json" 'sorted(e["original"] for e in d["entries"] if e["kind"]=="sysctl")')" = "['0', '50']" ]
check "apply: nothing journaled for a refused cgroup write" [ "$(jq_py "$T/state/journal.json" 'sorted(set(e["kind"] for e in d["entries"]))')" = "['oom_score_adj', 'sysctl']" ]

cp -a "$T/host" "$T/after1"
# shellcheck disable=SC2086
"$BIN" apply $P $R --format json >"$T/apply2.json" 2>/dev/null
check "second apply: only the cgroup actions left" [ "$(jq_py "$T/apply2.json" 'sorted(set((a["kind"], a["result"]) for a in d["actions"]))')" = \
	"[('cgroup_attach', 'failed'), ('memory_high', 'failed')]" ]
check "second apply: tree unchanged" diff -r "$T/after1" "$T/host"

# ---- restore --------------------------------------------------------------
# shellcheck disable=SC2086
"$BIN" restore $R >"$T/restore.txt" 2>&1
rc=$?
check "restore: exit 0" [ "$rc" -eq 0 ]
check "restore: every file back byte for byte" diff -r "$T/pristine" "$T/host"
check "restore: journal emptied" [ "$(jq_py "$T/state/journal.json" 'len(d["entries"])')" = "0" ]
# shellcheck disable=SC2086
"$BIN" restore $R >"$T/restore2.txt" 2>&1
check "restore twice: nothing to do, exit 0" grep -q 'nothing to restore' "$T/restore2.txt"

# ---- a cgroup v1 host (the memory controller on v1: RHEL 8) ------------------
sh tests/fixtures/seed-host.sh "$T/hostv1" v1
R1="--procfs $T/hostv1/proc --sysfs $T/hostv1/sys --cgroupfs $T/hostv1/cgroup --state-dir $T/state1"
# shellcheck disable=SC2086
"$BIN" status $P $R1 >"$T/v1.txt" 2>&1
check "v1 host: status names the hierarchy" grep -q 'cgroups: memory controller on cgroup v1' "$T/v1.txt"
# shellcheck disable=SC2086
"$BIN" status $P $R1 --format json >"$T/v1.json" 2>/dev/null
check "v1 host: status json cgroup_hierarchy v1" [ "$(jq_py "$T/v1.json" 'd["host"]["cgroup_hierarchy"]')" = v1 ]
# shellcheck disable=SC2086
"$BIN" recommend $P $R1 --format json >"$T/v1rec.json" 2>/dev/null
check "v1 host: recommend places and limits redis" [ "$(jq_py "$T/v1rec.json" 'sorted(set(a["kind"] for a in d["actions"] if a.get("service")=="redis"))')" = "['cgroup_attach', 'memory_high', 'oom_score_adj']" ]
check "v1 host: no no_cgroup2 risk" [ "$(jq_py "$T/v1rec.json" '[r["kind"] for r in d["risks"] if r["kind"]=="no_cgroup2"]')" = "[]" ]
check "v1 host: the process's group read from its v1 memory line" [ "$(jq_py "$T/v1rec.json" '[a["current"] for a in d["actions"] if a["kind"]=="cgroup_attach"][0]')" = "/" ]
check "v2 host: status json cgroup_hierarchy v2" [ "$(jq_py "$T/rec.json" 'd["host"]["cgroup_hierarchy"]')" = v2 ]

# ---- enforce = no -----------------------------------------------------------
rm -rf "$T/host" "$T/state"
cp -a "$T/pristine" "$T/host"
# shellcheck disable=SC2086
"$BIN" apply --policy-dir policies --policy-dir "$T/pol/60-redis.ini" $R >"$T/noenf.txt" 2>&1
rc=$?
check "enforce = no: apply exits 2 and writes nothing" [ "$rc" -eq 2 ]
check "enforce = no: tree unchanged" diff -r "$T/pristine" "$T/host"
check "enforce = no: says so" grep -q 'enforce = no' "$T/noenf.txt"

# ---- compliant host -----------------------------------------------------------
C="--procfs tests/fixtures/compliant/proc --sysfs tests/fixtures/compliant/sys --cgroupfs tests/fixtures/compliant/cgroup"
# shellcheck disable=SC2086
"$BIN" recommend $P $C --state-dir "$T/state2" >"$T/compliant.txt" 2>&1
rc=$?
check "compliant host: exit 0" [ "$rc" -eq 0 ]
# shellcheck disable=SC2086
"$BIN" status $P $C --format json >"$T/status.json" 2>&1
check "status json: service figures" [ "$(jq_py "$T/status.json" '(d["services"][0]["name"], d["services"][0]["own_cgroup"], d["services"][0]["fork_fits"])')" = "('redis', True, True)" ]

# ---- validate and bad input -------------------------------------------------------
"$BIN" validate policies policies/examples >"$T/val.txt" 2>&1
check "validate: shipped policies and examples pass" [ $? -eq 0 ]
mkpolicy "$T/bad" <<'INI'
[host]
overcommit = sometimes
bogus = 1
[service web]
oom_score_adj = -5000
INI
"$BIN" validate "$T/bad" >"$T/bad.txt" 2>&1
rc=$?
check "validate: bad policy exits 1" [ "$rc" -eq 1 ]
check "validate: FILE:LINE for a bad value" grep -q "^$T/bad/50-test.ini:2: " "$T/bad.txt"
check "validate: FILE:LINE for an unknown key" grep -q "^$T/bad/50-test.ini:3: " "$T/bad.txt"
check "validate: FILE:LINE for an out-of-range value" grep -q "^$T/bad/50-test.ini:5: " "$T/bad.txt"
check "validate: FILE:LINE for a service without match_*" grep -q "^$T/bad/50-test.ini:4: " "$T/bad.txt"
# shellcheck disable=SC2086
"$BIN" recommend --policy-dir "$T/bad" $R >/dev/null 2>&1
check "recommend with a bad policy: exit 1" [ $? -eq 1 ]
chmod 0664 "$T/pol/50-test.ini"
"$BIN" validate "$T/pol" >"$T/perm.txt" 2>&1
rc=$?
check "group-writable policy refused" sh -c "[ $rc -eq 1 ] && grep -q refused '$T/perm.txt'"
chmod 0644 "$T/pol/50-test.ini"
# issue 13 item 9: the directory is checked like the files, symlinks refused
chmod 0777 "$T/pol"
"$BIN" validate "$T/pol" >"$T/perm.txt" 2>&1
rc=$?
check "world-writable policy directory refused with its name" \
	sh -c "[ $rc -eq 1 ] && grep -q '^$T/pol: refused: writable by group/others (mode 0777)' '$T/perm.txt'"
chmod 0755 "$T/pol"
ln -s "$T/pol/50-test.ini" "$T/pol/70-link.ini"
"$BIN" validate "$T/pol" >"$T/perm.txt" 2>&1
rc=$?
check "symlinked policy file refused with its name" \
	sh -c "[ $rc -eq 1 ] && grep -q '^$T/pol/70-link.ini: refused: a symbolic link' '$T/perm.txt'"
rm "$T/pol/70-link.ini"
cp "$T/pol/50-test.ini" "$T/ansible-tmp-XYZ"
"$BIN" validate "$T/ansible-tmp-XYZ" >/dev/null 2>&1
check "validate FILE without .ini (Ansible validate: %s)" [ $? -eq 0 ]
"$BIN" --format yaml recommend >/dev/null 2>&1
check "bad --format: exit 1" [ $? -eq 1 ]
"$BIN" frobnicate >/dev/null 2>&1
check "unknown command: exit 1" [ $? -eq 1 ]
# shellcheck disable=SC2086
"$BIN" recommend $P --procfs "$T/nonexistent" >/dev/null 2>&1
check "unreadable procfs: exit 1" [ $? -eq 1 ]
# ---- issue 13 item 7: a hostile comm is escaped, never printed raw -----------
sh tests/fixtures/seed-host.sh "$T/evil"
printf '100 (rdb\n<0>PWNED \033[2J) S 1 100 100 0 -1 4194560 1000 0 0 0 12 5 0 0 20 0 1 0 4200 678035456 147456 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n' \
	>"$T/evil/proc/100/stat"
mkpolicy "$T/evilpol" <<'INI'
[service redis]
match_exe = /usr/bin/redis-server
oom_score_adj = -500
INI
E="--procfs $T/evil/proc --sysfs $T/evil/sys --cgroupfs $T/evil/cgroup --state-dir $T/evilstate"
# shellcheck disable=SC2086
"$BIN" recommend --policy-dir "$T/evilpol" $E >"$T/evil.txt" 2>&1
check "hostile comm: the report shows it escaped" grep -qF 'pid 100 (rdb\n<0>PWNED \x1b[2J)' "$T/evil.txt"
check "hostile comm: no line of the report starts with it" sh -c "! grep -q '^<0>PWNED' '$T/evil.txt'"
check "hostile comm: no escape byte reaches the terminal" sh -c "! grep -q \"\$(printf '\\033')\" '$T/evil.txt'"

echo "1..$n"
