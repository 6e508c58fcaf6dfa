#!/bin/sh
# bench/whatif.sh - cost of `snapshot` and `what-if` (issue 15; BENCHMARKS.md
# "Snapshots and what-if").  Not part of `make bench`'s parts: seconds, not
# minutes, and nothing runs as a service.
#
#   BUILD=build sh bench/whatif.sh
# Environment: WI_PROCS [10000] processes of the generated host,
#   WI_HOSTS [1000] snapshots for what-if, WI_BIG_HOSTS [20] copies of the
#   WI_PROCS-process snapshot for the worst case, WI_REPS [3] (medians), WI_CPU [0]
#   the one core everything is pinned to (taskset).
# Figures:
#   1. snapshot of a generated procfs of WI_PROCS processes (files on this
#      machine's /tmp: a fixture tree, so real /proc reads are timed too:
#      2. snapshot of this machine's own /proc);
#   3. what-if over WI_HOSTS snapshots of a Redis host (the seed fixture with
#      300 ordinary processes added), then 4. over WI_BIG_HOSTS copies of
#      the WI_PROCS-process snapshot (the worst case, per host), one core.
# Nothing is written outside a temp dir; /proc is only read.
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
OC=$TOP/$BUILD/overcommitd
NP=${WI_PROCS:-10000}
NH=${WI_HOSTS:-1000}
NB=${WI_BIG_HOSTS:-20}
REPS=${WI_REPS:-3}
CPU=${WI_CPU:-0}
T=$(mktemp -d /tmp/ocwhatif.XXXXXX)
trap 'rm -rf "$T"' EXIT
[ -x "$OC" ] || { echo "whatif: $OC missing (make)" >&2; exit 1; }
pin() { taskset -c "$CPU" "$@"; }
# "CPU WALL": the run with the median CPU time (user + sys) of REPS runs,
# in seconds.  CPU time is the cost; wall time also holds what other
# work on this shared machine took from the core.
timed() {
	for _ in $(seq "$REPS"); do
		/usr/bin/time -f '%U %S %e' -o "$T/time" taskset -c "$CPU" "$@" >/dev/null 2>&1
		tail -n 1 "$T/time" | awk '{ printf "%.2f %.2f\n", $1 + $2, $3 }'
	done | sort -n | awk '{ c[NR] = $1; w[NR] = $2 } END { m = int((NR + 1) / 2); print c[m], w[m] }'
}

# ---- a host of NP processes: the seed tree plus NP - 5 ordinary ones
gen() { # dest, extra processes
	sh tests/fixtures/seed-host.sh "$1"
	python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    pid = 1000 + i
    d = f"{root}/proc/{pid}"
    os.makedirs(d)
    comm = f"worker{i % 50}"
    with open(f"{d}/stat", "w") as f:
        f.write(f"{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 "
                f"{5000 + i} 12345678 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n")
    with open(f"{d}/status", "w") as f:
        f.write(f"Name:\t{comm}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\n"
                f"PPid:\t1\nUid:\t{1000 + i % 20}\t{1000 + i % 20}\t{1000 + i % 20}\t{1000 + i % 20}\n"
                f"VmSize:\t   20480 kB\nVmData:\t    4096 kB\nVmStk:\t     132 kB\nRssAnon:\t    2048 kB\n"
                f"CapEff:\t0000000000000000\n")
    with open(f"{d}/oom_score_adj", "w") as f:
        f.write("0\n")
    with open(f"{d}/cgroup", "w") as f:
        f.write(f"0::/system.slice/app{i % 100}.service\n")
    with open(f"{d}/cmdline", "wb") as f:
        f.write(f"/usr/bin/{comm}\0--id\0{i}\0".encode())
    with open(f"{d}/comm", "w") as f:
        f.write(comm + "\n")
    os.symlink(f"/usr/bin/{comm}", f"{d}/exe")
for k in range(100):
    g = f"{root}/cgroup/system.slice/app{k}.service"
    os.makedirs(g, exist_ok=True)
    for name, v in (("memory.current", "1048576"), ("memory.high", "max"), ("memory.max", "max"),
                    ("memory.peak", "2097152")):
        open(f"{g}/{name}", "w").write(v + "\n")
    open(f"{g}/memory.stat", "w").write("anon 524288\nfile 524288\n")
PY
}
roots() { echo "--procfs $1/proc --sysfs $1/sys --cgroupfs $1/cgroup --state-dir $T/state"; }

gen "$T/big" $((NP - 5))
# shellcheck disable=SC2046
pin "$OC" snapshot $(roots "$T/big") "$T/big.json" 2>/dev/null || { echo "whatif: snapshot failed" >&2; exit 1; }
nproc_doc=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["processes"]))' "$T/big.json")
# shellcheck disable=SC2046
t_big=$(timed "$OC" snapshot $(roots "$T/big") "$T/big2.json")
s_big=$(stat -c %s "$T/big.json")
"$OC" snapshot "$T/self.json" 2>/dev/null
nproc_self=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["processes"]))' "$T/self.json")
t_self=$(timed "$OC" snapshot "$T/self2.json")
s_self=$(stat -c %s "$T/self.json")
"$OC" snapshot --redact "$T/self-r.json" 2>/dev/null
s_self_r=$(stat -c %s "$T/self-r.json")

# ---- what-if over NH snapshots
mkdir -p "$T/pol" "$T/fleet" "$T/fleetbig"
cp policies/examples/redis.ini "$T/pol/60-redis.ini"
printf '[host]\novercommit = auto\nfork_headroom = 110%%\n' > "$T/pol/50-host.ini"
chmod 0644 "$T/pol"/*.ini
gen "$T/redis" 300
# shellcheck disable=SC2046
"$OC" snapshot $(roots "$T/redis") "$T/redis.json" 2>/dev/null
s_redis=$(stat -c %s "$T/redis.json")
python3 - "$T/redis.json" "$T/fleet" "$NH" "$T/big.json" "$T/fleetbig" "$NB" <<'PY'
import json, sys
for src, out, n in ((sys.argv[1], sys.argv[2], sys.argv[3]), (sys.argv[4], sys.argv[5], sys.argv[6])):
    d = json.load(open(src))
    for i in range(int(n)):
        d["host"]["hostname"] = f"host{i:04d}"
        # every tenth host a bigger Committed_AS: some forks fail even after a raise
        d["meminfo"]["committed_as_kb"] = 921600 + (i % 10) * 40960
        with open(f"{out}/host{i:04d}.json", "w") as f:
            json.dump(d, f, separators=(",", ":"))
PY
pin "$OC" what-if --policy-dir policies --policy-dir "$T/pol" "$T"/fleet/*.json > "$T/wi.txt" 2>&1
wrc=$?
t_wi=$(timed "$OC" what-if --policy-dir policies --policy-dir "$T/pol" "$T"/fleet/*.json)
t_wi_json=$(timed "$OC" what-if --format json --policy-dir policies --policy-dir "$T/pol" "$T"/fleet/*.json)
t_wi_big=$(timed "$OC" what-if --policy-dir policies --policy-dir "$T/pol" "$T"/fleetbig/*.json)
fleet_line=$(grep '^fleet:' "$T/wi.txt")

cat <<EOF
snapshot_generated_procs=$nproc_doc
snapshot_generated_s=$t_big
snapshot_generated_bytes=$s_big
snapshot_self_procs=$nproc_self
snapshot_self_s=$t_self
snapshot_self_bytes=$s_self
snapshot_self_redacted_bytes=$s_self_r
whatif_hosts=$NH
whatif_host_procs=305
whatif_snapshot_bytes=$s_redis
whatif_exit=$wrc
whatif_text_s=$t_wi
whatif_json_s=$t_wi_json
whatif_big_hosts=$NB
whatif_big_hosts_s=$t_wi_big
whatif_fleet="$fleet_line"
cpu=$(grep -m 1 'model name' /proc/cpuinfo | sed 's/.*: //'), pinned to core $CPU, load $(cut -d' ' -f1 /proc/loadavg)
EOF
