#!/bin/sh
# bench/journal_scale.sh [BIN] - issue 13 item 4: what a large journal costs
# the one-shot commands, on a private fixture tree (never this host's /proc).
#   1. `apply` over a journal of 65,536 per-process entries (processes long
#      gone): wall time and peak RSS (load, prune, plan, write);
#   2. `restore` of a journal of 2,000 host entries (cgroups that exist).
# Prints one line each; run it with the old and new binary to compare.
set -eu
BIN=${1:-${BUILD:-build}/overcommitd}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sh tests/fixtures/seed-host.sh "$T/host"
mkdir -p "$T/host/proc/sys/kernel/random"
echo 11111111-2222-3333-4444-555555555555 >"$T/host/proc/sys/kernel/random/boot_id"
mkdir -p "$T/pol" "$T/state"
chmod 0755 "$T/pol"
printf '[host]\novercommit = auto\nenforce = yes\n' >"$T/pol/50.ini"
chmod 0644 "$T/pol/50.ini"
R="--procfs $T/host/proc --sysfs $T/host/sys --cgroupfs $T/host/cgroup --state-dir $T/state"
entries() { # kind count -> the entries array of a journal
	python3 - "$1" "$2" <<'PY'
import json, sys
kind, n = sys.argv[1], int(sys.argv[2])
out = []
for i in range(1, n + 1):
    if kind == "pid":
        out.append({"kind": "oom_score_adj", "key": str(100000 + i), "original": "0",
                    "pid": 100000 + i, "start_time": 1, "seq": i})
    else:
        out.append({"kind": "memory_high", "key": "/b/g%d" % i, "original": "max",
                    "pid": 0, "start_time": 0, "seq": i})
print(json.dumps({"version": 1, "boot_id": "11111111-2222-3333-4444-555555555555",
                  "entries": out}, indent=2))
PY
}
measure() { # label, command...
	label=$1
	shift
	/usr/bin/time -f "%e %M" -o "$T/time" "$@" >"$T/out" 2>&1 || true
	read -r secs kb <"$T/time"
	echo "$label: ${secs} s, peak RSS $((kb / 1024)) MiB ($(tail -n 1 "$T/out" | cut -c1-100))"
}
entries pid 65536 >"$T/state/journal.json"
chmod 0600 "$T/state/journal.json"
# shellcheck disable=SC2086
measure "apply over a 65,536-entry journal" "$BIN" apply --policy-dir "$T/pol" $R
for i in $(seq 1 2000); do
	mkdir -p "$T/host/cgroup/b/g$i"
	echo max >"$T/host/cgroup/b/g$i/memory.high"
done
entries cg 2000 >"$T/state/journal.json"
chmod 0600 "$T/state/journal.json"
# shellcheck disable=SC2086
measure "restore of 2,000 entries" "$BIN" restore $R
