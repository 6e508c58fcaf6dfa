#!/bin/sh
# bench/faults.sh - the fault-injection scenario at its full level (issue 13,
# "tests a trusted daemon has" #3): SIGKILL, ENOSPC and EROFS at EVERY
# write-class system call of `apply`, `restore` and the daemon, one run each,
# a plain `restore` after each and every value checked against the boot
# snapshot.  `make vm-check` runs the same scenario at FI_LEVEL=ci (a few
# call numbers per command and fault).  Takes about 30 min in the TCG guest
# (369 apply/restore runs + ~600 daemon runs at 2-5 s each); not part of
# `make bench`.
# Usage: BUILD=build sh bench/faults.sh
set -eu
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
sed 's/^FI_LEVEL=ci$/FI_LEVEL=full/; s/^# vm-timeout: .*/# vm-timeout: 7200/' \
	"$TOP/tests/vm/scenarios/41-fault-injection.sh" > "$D/41-fault-injection.sh"
grep -q '^FI_LEVEL=full$' "$D/41-fault-injection.sh" || { echo "bench/faults.sh: FI_LEVEL line not found" >&2; exit 1; }
OC_VM_SCENARIO_DIR=$D BUILD=$BUILD sh "$TOP/tests/vm/run.sh" fault-injection
