# lib.sh - TAP helpers for the packaging tests (sourced; run from the repo
# root with BUILD set).
BUILD=${BUILD:-build}
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # name, command...
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
# a command the test needs; install-build-deps.sh installs them all
need() { # command, package
	command -v "$1" >/dev/null 2>&1 && return 0
	not_ok "$1 is installed" "missing: install package $2 (sh packaging/install-build-deps.sh)"
	return 1
}
# every line of stdin as a TAP comment
comment() { sed 's/^/# /'; }
make_version() { sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; }
