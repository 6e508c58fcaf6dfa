#!/bin/sh
# test_metrics.sh - `--format prometheus` of the real binary against a copy
# of the seed-strict fixture: status, recommend and apply pass
# `promtool check metrics` (Debian's prometheus package) with no complaint,
# carry the figures the JSON report has (in bytes), and follow an apply
# (memory.high in bytes, memory.max "max" as +Inf, the fork fits).
. tests/packaging/lib.sh
BIN=$PWD/$BUILD/overcommitd
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

need promtool prometheus || { finish; exit 1; }
need python3 python3 || { finish; exit 1; }
[ -x "$BIN" ] || { not_ok "$BIN exists" "run make first"; finish; exit 1; }

# promtool: exit 0 and nothing said (it prints lint problems and exits 3)
promcheck() { # name, file
	if out=$(promtool check metrics <"$2" 2>&1) && [ -z "$out" ] && [ -s "$2" ]; then
		ok "$1"
	else
		not_ok "$1"
		printf '%s\n' "$out" | comment
	fi
}
has() { grep -qxF "$2" "$1"; } # file, exact line
py() { python3 -c "$1" "$T"; }

# the checker itself must catch what we guard against
printf '# HELP x_count c\n# TYPE x_count gauge\nx_count 1\n' >"$T/bad.prom"
if ! promtool check metrics <"$T/bad.prom" >/dev/null 2>&1; then
	ok "promtool rejects a lint error (a gauge named _count)"
else
	not_ok "promtool rejects a lint error (a gauge named _count)"
fi

# the host with its service's group already made (as tests/cli/test_cli.sh)
sh tests/fixtures/seed-host.sh "$T/host"
G="$T/host/cgroup/overcommitd/redis"
mkdir -p "$T/pol"
chmod 0755 "$T/pol"
printf '[host]\novercommit = auto\nenforce = yes\n' >"$T/pol/50-test.ini"
cp policies/examples/redis.ini "$T/pol/60-redis.ini"
chmod 0644 "$T/pol/50-test.ini" "$T/pol/60-redis.ini"
run() { # command, format
	"$BIN" "$1" --format "$2" --policy-dir policies --policy-dir "$T/pol" \
		--procfs "$T/host/proc" --sysfs "$T/host/sys" --cgroupfs "$T/host/cgroup" \
		--state-dir "$T/state"
}

# ---- status ---------------------------------------------------------------
run status prometheus >"$T/status.prom" 2>"$T/status.err"
check "status --format prometheus: exit 0" [ $? -eq 0 ]
promcheck "status: promtool check metrics clean" "$T/status.prom"
check "status: commit limit in bytes (1 GiB)" has "$T/status.prom" "overcommitd_commit_limit_bytes 1073741824"
check "status: strict mode" has "$T/status.prom" "overcommitd_overcommit_memory 2"
check "status: redis fork does not fit" has "$T/status.prom" 'overcommitd_service_fork_fits{service="redis"} 0'
check "status: negative fork headroom" grep -q '^overcommitd_service_fork_headroom_bytes{service="redis"} -[0-9]' "$T/status.prom"
check "status: risk fork_fails for redis" has "$T/status.prom" 'overcommitd_risks{kind="fork_fails",service="redis"} 1'
check "status: COW learning (nothing learned yet)" has "$T/status.prom" 'overcommitd_service_cow_learning{service="redis"} 1'
check "status: no apply figures" sh -c "! grep -q '^overcommitd_actions_' '$T/status.prom'"
check "status: every metric has HELP and TYPE" [ "$(grep -c '^# HELP' "$T/status.prom")" -eq "$(grep -c '^# TYPE' "$T/status.prom")" ]

# the same figures as the JSON report, KiB -> bytes
run status json >"$T/status.json"
cat >"$T/cmp.py" <<'PY'
import json, re, sys
T = sys.argv[1]
d = json.load(open(T + "/status.json"))
m = {}
for l in open(T + "/status.prom"):
    if l.startswith("#"):
        continue
    k, v = l.rsplit(" ", 1)
    m[k] = float(v)
h, s = d["host"], d["services"][0]
want = {
    "overcommitd_commit_limit_bytes": h["commit_limit_kb"] * 1024,
    "overcommitd_committed_bytes": h["committed_as_kb"] * 1024,
    "overcommitd_commit_headroom_bytes": h["commit_headroom_kb"] * 1024,
    "overcommitd_mem_total_bytes": h["mem_total_kb"] * 1024,
    "overcommitd_swap_total_bytes": h["swap_total_kb"] * 1024,
    'overcommitd_service_commit_bytes{service="redis"}': s["commit_kb"] * 1024,
    'overcommitd_service_anon_bytes{service="redis"}': s["anon_kb"] * 1024,
    'overcommitd_service_fork_need_bytes{service="redis"}': s["fork_need_kb"] * 1024,
    'overcommitd_service_fork_headroom_bytes{service="redis"}': s["fork_headroom_kb"] * 1024,
    'overcommitd_service_processes{service="redis"}': len(s["pids"]),
    "overcommitd_risks_found": len(d["risks"]),
    "overcommitd_changes_recommended": d["changes"],
}
bad = [f"{k}: prom {m.get(k)} json {v}" for k, v in want.items() if m.get(k) != v]
if abs(m['overcommitd_service_cow_amplification{service="redis"}'] - s["cow_amplification"]) > 1e-9:
    bad.append("cow_amplification")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
if out=$(python3 "$T/cmp.py" "$T" 2>&1); then
	ok "status: prometheus figures equal the JSON report's"
else
	not_ok "status: prometheus figures equal the JSON report's"
	printf '%s\n' "$out" | comment
fi

# ---- recommend, apply -------------------------------------------------------
cp -a "$T/host" "$T/pristine"
run recommend prometheus >"$T/rec.prom"
check "recommend --format prometheus: exit 2 (changes)" [ $? -eq 2 ]
promcheck "recommend: promtool check metrics clean" "$T/rec.prom"
check "recommend: 6 changes recommended" has "$T/rec.prom" "overcommitd_changes_recommended 6"
check "recommend wrote nothing" diff -r "$T/pristine" "$T/host"

high_want=$(run recommend json | python3 -c 'import json, sys
print([a["desired"] for a in json.load(sys.stdin)["actions"] if a["kind"] == "memory_high"][0])')
# cgroups are written through libcgroup, which refuses a fixture tree (the
# VM tiers test it): the two moves and memory.high fail here, the rest is done
run apply prometheus >"$T/apply.prom" 2>"$T/apply.err"
check "apply --format prometheus: exit 1 (cgroup actions refused on a fixture)" [ $? -eq 1 ]
promcheck "apply: promtool check metrics clean" "$T/apply.prom"
check "apply: 3 actions applied" has "$T/apply.prom" "overcommitd_actions_applied 3"
check "apply: 3 failed" has "$T/apply.prom" "overcommitd_actions_failed 3"

# play the kernel's and libcgroup's part: the pids moved into the group,
# its memory.high written as planned
for pid in 100 101; do echo "0::/overcommitd/redis" >"$T/host/proc/$pid/cgroup"; done
echo "$high_want" >"$G/memory.high"
# ... and for meminfo: CommitLimit is overcommit_kbytes + SwapTotal (no swap here);
# status reads the kernel's own CommitLimit, not the formula
kb=$(cat "$T/host/proc/sys/vm/overcommit_kbytes")
sed -i "s/^CommitLimit:.*/CommitLimit:     $kb kB/" "$T/host/proc/meminfo"
run status prometheus >"$T/after.prom"
check "status after apply: exit 0" [ $? -eq 0 ]
promcheck "status after apply: promtool check metrics clean" "$T/after.prom"
high=$(cat "$G/memory.high")
check "after apply: memory.high in bytes ($high)" has "$T/after.prom" "overcommitd_service_memory_high_bytes{service=\"redis\"} $high"
check "after apply: memory.max max is +Inf" has "$T/after.prom" 'overcommitd_service_memory_max_bytes{service="redis"} +Inf'
check "after apply: the fork fits" has "$T/after.prom" 'overcommitd_service_fork_fits{service="redis"} 1'
check "after apply: no risk left" has "$T/after.prom" "overcommitd_risks_found 0"
check "after apply: commit limit raised" [ "$(sed -n 's/^overcommitd_commit_limit_bytes //p' "$T/after.prom")" -gt 1073741824 ]

# ---- the option --------------------------------------------------------------
"$BIN" --format prom status >/dev/null 2>"$T/bad.err"
check "--format prom (misspelt): exit 1" [ $? -eq 1 ]
check "--help names the prometheus format" sh -c "'$BIN' --help | grep -q 'text|json|prometheus'"

finish
