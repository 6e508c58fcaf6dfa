#!/bin/sh
# The whole test suite: unit + CLI tests, the same under ASan/UBSan,
# cppcheck, bounded fuzzing, and the real-kernel (qemu) tier.
# Prints each stage's result and one closing line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
pass=0
fail=0
stage() { # name, command...
	name=$1
	shift
	echo "=== $name"
	t0=$(date +%s)
	out=$("$@" 2>&1)
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	printf '%s\n' "$out" | tail -n 60
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed*}
	elif [ "$rc" -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	pass=$((pass + p))
	fail=$((fail + f))
	echo "=== $name: exit $rc ($p passed, $f failed) in $secs s"
}
T0=$(date +%s)
# The systemd guest's Debian kernel and debootstrap'ed rootfs (minutes on a
# fresh machine, mostly waiting on the mirror) are made while the build and
# the host tests run; both VM tiers wait for it, so no timing scenario
# shares the CPU with it.
mkdir -p build
sh tests/vm/systemd/run.sh --prepare > build/vm-prepare.log 2>&1 &
prep=$!
stage build make -j"$JOBS"
stage unit+cli make -j"$JOBS" check
stage sanitizers make -j"$JOBS" SANITIZE=1 check
stage cppcheck make cppcheck
stage packaging make pkg-check
stage fuzz make -j"$JOBS" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
wait "$prep"
prc=$?
stage vm-prepare sh -c 'cat build/vm-prepare.log; exit "$1"' sh "$prc"
stage vm make vm-check
stage vm-systemd make vm-systemd-check
echo "total $(( $(date +%s) - T0 )) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
