#!/bin/sh
# Run every packaging test (TAP), print one closing line "N passed, N failed".
# usage: BUILD=build sh tests/packaging/run.sh   (from the repo root)
BUILD=${BUILD:-build}
export BUILD
pass=0
fail=0
for s in tests/packaging/test_*.sh; do
	name=$(basename "$s" .sh)
	start=$(date +%s)
	out=$(sh "$s" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	printf '%s\n' "$out" | grep -A8 '^not ok ' || true
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		printf '%s\n' "$out" | tail -n 20
		echo "FAIL $name: exited $rc"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	echo "$name: $p passed, $f failed ($(($(date +%s) - start))s)"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
