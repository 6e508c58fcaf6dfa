#!/bin/sh
# test_refusal.sh - commit refusals in the one-shot commands (issue 14):
# the daemon's book (STATE/refusals.json) shown by `status` (text, JSON,
# Prometheus), cited by `recommend` as observed evidence; an untrusted or
# corrupt book refused without failing the command; no book: "no record".
# The capture itself needs a real kernel: tests/vm/scenarios/9*-refusal-*.
. tests/cli/lib.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sh tests/fixtures/seed-host.sh "$T/host"
R="--procfs $T/host/proc --sysfs $T/host/sys --cgroupfs $T/host/cgroup --state-dir $T/state"
mkpolicy "$T/pol" <<'INI'
[host]
overcommit = auto
enforce = yes
INI
cp policies/examples/redis.ini "$T/pol/60-redis.ini"
chmod 0644 "$T/pol/60-redis.ini"
P="--policy-dir policies --policy-dir $T/pol"

# ---- no book ------------------------------------------------------------------
# shellcheck disable=SC2086
"$BIN" status $P $R >"$T/st0.txt" 2>"$T/st0.err"
check "no book: status exit 0" [ $? -eq 0 ]
check "no book: status says there is no record" grep -q '^commit refusals: no record' "$T/st0.txt"

# ---- a book as the daemon writes it -------------------------------------------
now=$(($(date +%s) * 1000))
mkdir -m 0700 "$T/state"
rec() { # op service tgid need_kb time
	printf '{"time_ms":%s,"pid":%s,"tgid":%s,"uid":0,"comm":"redis-server","service":"%s","instance":%s,"op":"%s","size_kb":614400,"need_kb":%s,"need_partial":true,"committed_kb":946176,"commit_limit_kb":1048576,"reserve_kb":8192,"mem_available_kb":1468006,"mode":2,"exact":true}' \
		"$5" "$3" "$3" "$2" "$3" "$1" "$4"
}
cat >"$T/state/refusals.json" <<JSON
{"version":1,"capture":"active","why":"","since_ms":$((now - 60000)),"lost":2,
 "tally":[{"service":"redis","first_ms":$((now - 50000)),"last_ms":$((now - 1000)),"fork":2,"mmap":0,"brk":0,"mremap":0,"other":0},
          {"service":"","first_ms":$((now - 40000)),"last_ms":$((now - 40000)),"fork":0,"mmap":1,"brk":0,"mremap":0,"other":0}],
 "recent":[$(rec fork redis 100 614400 $((now - 50000))),$(rec mmap "" 4242 4096 $((now - 40000))),$(rec fork redis 100 615424 $((now - 1000)))]}
JSON
chmod 0600 "$T/state/refusals.json"
# shellcheck disable=SC2086
"$BIN" status $P $R >"$T/st.txt" 2>"$T/st.err"
check "status exit 0 with a book" [ $? -eq 0 ]
check "status: capture active, 3 seen, 2 lost" grep -q '^commit refusals: capture active since .*, 3 seen (+2 counted by the kernel, not recorded)' "$T/st.txt"
check "status: per service and operation" grep -q '^  redis: fork 2; last at' "$T/st.txt"
check "status: the daemon's words" grep -q 'fork of redis-server (pid 100, service redis) refused: needs at least 601 MiB of commit, 100 MiB left under CommitLimit 1.0 GiB (vm.overcommit_memory=2) while 1.4 GiB of RAM is available' "$T/st.txt"
# shellcheck disable=SC2086
"$BIN" status $P $R --format json >"$T/st.json" 2>"$T/st.err"
check "status json: capture, total, newest record" [ "$(jq_py "$T/st.json" '(d["commit_refusals"]["capture"], d["commit_refusals"]["total"], d["commit_refusals"]["recent"][-1]["need_kb"])')" = "('active', 3, 615424)" ]
# shellcheck disable=SC2086
"$BIN" status $P $R --format prometheus >"$T/st.prom" 2>"$T/st.err"
check "prom: counter per service and operation" grep -qx 'overcommitd_commit_refusals_total{operation="fork",service="redis"} 2' "$T/st.prom"
check "prom: no service label for unmatched processes" grep -qx 'overcommitd_commit_refusals_total{operation="mmap"} 1' "$T/st.prom"
check "prom: lost and capture" grep -qx 'overcommitd_commit_refusal_capture 1' "$T/st.prom"
if command -v promtool >/dev/null 2>&1; then
	out=$(promtool check metrics <"$T/st.prom" 2>&1)
	check "prom: promtool clean" [ -z "$out" ]
fi

# ---- recommend cites it ----------------------------------------------------------
# shellcheck disable=SC2086
"$BIN" recommend $P $R --format json >"$T/rec.json" 2>"$T/rec.err"
check "recommend: the fork risk says it was observed" [ "$(jq_py "$T/rec.json" '[r["kind"] for r in d["risks"] if r["service"]=="redis" and "observed 2 times since" in r["message"]]')" = "['fork_fails']" ]
check "recommend: unmatched refusals a host-wide risk" [ "$(jq_py "$T/rec.json" '[r["service"] for r in d["risks"] if r["kind"]=="commit_refused" and "observed 1 time since" in r["message"]]')" = "[None]" ]

# ---- old refusals are history, not evidence ----------------------------------------
sed -i "s/\"last_ms\":$((now - 1000))/\"last_ms\":1000/; s/\"last_ms\":$((now - 40000))/\"last_ms\":1000/" "$T/state/refusals.json"
# shellcheck disable=SC2086
"$BIN" recommend $P $R --format json >"$T/rec2.json" 2>"$T/rec.err"
check "recommend: refusals older than a week not cited" [ "$(jq_py "$T/rec2.json" '[r for r in d["risks"] if "observed" in r["message"]]')" = "[]" ]

# ---- untrusted and corrupt books -----------------------------------------------------
chmod 0622 "$T/state/refusals.json"
# shellcheck disable=SC2086
"$BIN" status $P $R >"$T/st3.txt" 2>"$T/st3.err"
check "world-writable book: status still exit 0" [ $? -eq 0 ]
check "world-writable book: refused, said why" grep -q 'refusals.json refused' "$T/st3.err"
chmod 0600 "$T/state/refusals.json"
printf '{"version":1,"capture":"active"' >"$T/state/refusals.json"
# shellcheck disable=SC2086
"$BIN" status $P $R >"$T/st4.txt" 2>"$T/st4.err"
check "corrupt book: status still exit 0, said so" grep -q 'refusals.json unusable' "$T/st4.err"
echo "1..$n"
