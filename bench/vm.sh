#!/bin/sh
# bench/vm.sh - the guest part of `make bench` (issue 6, items 1 and 6):
# stages a build tree $BUILD/bench-vm that tests/vm/run.sh boots unchanged
# (BUILD= and OC_VM_SCENARIO_DIR= are its own knobs): overcommitd and the test
# helpers of $BUILD, the bench programs, Debian's cgrulesengd (package
# cgroup-tools, installed by the dependency step or here), the
# scenarios bench/vm/*.sh plus the VM tier's 30-redis-bgsave.sh, and the
# kernel cache of $BUILD/vm.  All scenarios run in one boot.
# Output: the run.sh transcript on stdout (INFO lines carry the figures).
# Knobs: OC_BENCH_VM_N spawns per latency run (1000); OC_BENCH_VM_REPS
# repetitions of the latency rows (3, interleaved); OC_BENCH_VM_SOAK_N
# matched processes of the enforcing soak (100000); OC_BENCH_VM_SOAK_LOSS_EVERY
# seconds between its lost-event episodes (120); OC_BENCH_VM_SOAK_SECONDS
# stops its storm after that long (0: none); OC_BENCH_VM_ONLY=1 leaves
# out the Redis scenario; OC_BENCH_VM_DIR=DIR runs DIR/*.sh instead of the
# scenarios (experiments); OC_BENCH_VM_SCEN names scenarios to run;
# OC_BENCH_VM_FDM=no runs the latency rows without cgroup_favordynmods.
set -eu
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
BVM=$BUILD/bench-vm
mkdir -p "$BVM/tests/helpers" "$BVM/vm" "$BVM/deb"
rm -rf "$BVM/scenarios"
mkdir -p "$BVM/scenarios"
ln -sf "$BUILD/overcommitd" "$BVM/overcommitd"
for h in "$BUILD"/tests/helpers/*; do ln -sf "$h" "$BVM/tests/helpers/$(basename "$h")"; done
for p in pcfloor spawnlat ocb-target cowblow refusalcost; do
	ln -sf "$BUILD/bench/$p" "$BVM/tests/helpers/$p"
done
# cgrulesengd: the peer of item 1, from Debian's cgroup-tools (installed here
# when missing: it brings libcgroup2, which the binary needs).  No peer, no
# comparison: the bench fails rather than print a table without it.
CGR=/usr/sbin/cgrulesengd
if [ ! -x "$CGR" ]; then
	echo "bench-vm: installing cgroup-tools (cgrulesengd, the peer)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cgroup-tools >&2 ||
		{ apt-get update -q >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cgroup-tools >&2; }
fi
if [ ! -x "$CGR" ] || ! ldd "$CGR" >/dev/null 2>&1 || ldd "$CGR" | grep -q 'not found'; then
	echo "bench-vm: error: cgrulesengd unusable ($CGR; apt-get install cgroup-tools failed?): no peer, no bench" >&2
	echo "FAIL bench-vm: cgrulesengd (cgroup-tools) missing"
	exit 1
fi
ln -sf "$CGR" "$BVM/tests/helpers/cgrulesengd"
[ -e "$BVM/vm/kernel" ] || [ ! -d "$BUILD/vm/kernel" ] || ln -s "$BUILD/vm/kernel" "$BVM/vm/kernel"
for s in "$TOP"/bench/vm/*.sh; do
	sed "s/@N@/${OC_BENCH_VM_N:-1000}/; s/@REPS@/${OC_BENCH_VM_REPS:-3}/; s/@SOAK_N@/${OC_BENCH_VM_SOAK_N:-100000}/; s/@SOAK_LOSS_EVERY@/${OC_BENCH_VM_SOAK_LOSS_EVERY:-120}/; s/@SOAK_SECONDS@/${OC_BENCH_VM_SOAK_SECONDS:-0}/; s/@FDM@/${OC_BENCH_VM_FDM:-yes}/" "$s" \
		> "$BVM/scenarios/$(basename "$s")"
done
[ -n "${OC_BENCH_VM_ONLY:-}" ] || cp "$TOP/tests/vm/scenarios/30-redis-bgsave.sh" "$BVM/scenarios/"
[ -z "${OC_BENCH_VM_DIR:-}" ] || { rm -f "$BVM"/scenarios/*; cp "$OC_BENCH_VM_DIR"/*.sh "$BVM/scenarios/"; }
# The commit refusal capture's cost (BENCHMARKS.md 8) is a few per cent of
# CPU time, and under TCG a guest's CPU times follow the host's load (its
# blocks varied 0.63x-1.53x here): it gets a boot of its own under
# -icount, where the guest clock counts instructions (one CPU, no host
# noise), in a build tree of its own (logs apart).
BIC=$BUILD/bench-vm-icount
rm -rf "$BIC/scenarios"
mkdir -p "$BIC/scenarios" "$BIC/vm"
ln -sfn "$BVM/tests" "$BIC/tests"
ln -sf "$BUILD/overcommitd" "$BIC/overcommitd"
[ -e "$BIC/vm/kernel" ] || [ ! -d "$BUILD/vm/kernel" ] || ln -s "$BUILD/vm/kernel" "$BIC/vm/kernel"
[ ! -e "$BVM/scenarios/50-bench-refusal.sh" ] || mv "$BVM/scenarios/50-bench-refusal.sh" "$BIC/scenarios/"
# OC_BENCH_VM_SCEN: each boot runs the names it has
pick() { for n in ${OC_BENCH_VM_SCEN:-}; do ls "$1" | grep -q -- "$n" && printf '%s ' "$n"; done; }
rc=0
if [ -z "${OC_BENCH_VM_SCEN:-}" ] || [ -n "$(pick "$BVM/scenarios")" ]; then
	# shellcheck disable=SC2046
	OC_VM_BOOT=once OC_VM_SCENARIO_DIR=$BVM/scenarios BUILD=$BVM sh "$TOP/tests/vm/run.sh" \
		$(pick "$BVM/scenarios") || rc=1
fi
if [ -n "$(ls "$BIC/scenarios")" ] && { [ -z "${OC_BENCH_VM_SCEN:-}" ] || [ -n "$(pick "$BIC/scenarios")" ]; }; then
	OC_VM_ICOUNT=3 OC_VM_SMP=1 OC_VM_BOOT=once OC_VM_SCENARIO_DIR=$BIC/scenarios BUILD=$BIC \
		sh "$TOP/tests/vm/run.sh" || rc=1
fi
exit $rc
