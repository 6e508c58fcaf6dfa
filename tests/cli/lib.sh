# lib.sh - TAP helpers for the CLI tests (sourced).
BIN=${BIN:-$PWD/${BUILD:-build}/overcommitd}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # name, condition command...
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
# JSON queries without jq: python3 (Debian's python3, installed by deps)
jq_py() { # file, python expression over `d`
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
# a policy dir the agent accepts: owned by us, mode 0644
mkpolicy() { # dir, then INI text on stdin
	mkdir -p "$1"
	chmod 0755 "$1"
	cat >"$1/50-test.ini"
	chmod 0644 "$1/50-test.ini"
}
