#!/bin/sh
# Run every unit test binary (cmocka, TAP output) and every CLI test script,
# count the TAP lines, print one closing line "N passed, N failed".
# usage: BUILD=build sh tests/run-tests.sh build/tests/test_*
BUILD=${BUILD:-build}
export BUILD
pass=0
fail=0
log=$BUILD/test-log.txt
: >"$log"

for t in "$@"; do
	name=$(basename "$t")
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" >>"$log"
	printf '%s\n' "$out" | grep '^not ok ' || true
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		printf '%s\n' "$out" | tail -n 20
		echo "FAIL $name: exited $rc"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	echo "$name: $p passed, $f failed"
done

for s in tests/cli/test_*.sh; do
	[ -e "$s" ] || continue
	name=$(basename "$s" .sh)
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
	echo "$name: $p passed, $f failed"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
