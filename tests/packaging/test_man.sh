#!/bin/sh
# test_man.sh - overcommitd(8) and overcommitd.policy(5): both lint clean
# with mandoc -Tlint and with man-db's `man --warnings` (the check lintian
# runs), and they document the real contract: every command and option the
# binary's --help names, the exit codes, and every policy key README.md's
# tables list.
. tests/packaging/lib.sh
MAN8=${MAN8:-packaging/man/overcommitd.8}
MAN5=${MAN5:-packaging/man/overcommitd.policy.5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need mandoc mandoc || { finish; exit 1; }
need man man-db || { finish; exit 1; }

for page in "$MAN8" "$MAN5"; do
	name=$(basename "$page")
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		ok "$name: mandoc -Tlint clean"
	else
		not_ok "$name: mandoc -Tlint clean" "exit $rc"
		printf '%s\n' "$out" | comment
	fi
	# lintian's check: groff warnings on stderr
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >"$tmp/$name.out")
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ] && [ -s "$tmp/$name.out" ]; then
		ok "$name: man --warnings clean"
	else
		not_ok "$name: man --warnings clean" "exit $rc"
		printf '%s\n' "$out" | comment
	fi
done

# the rendered page, as a reader sees it
render() { LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$1" 2>/dev/null | col -b; }
render "$MAN8" >"$tmp/8.txt"
render "$MAN5" >"$tmp/5.txt"
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS FILES "EXIT STATUS" "SEE ALSO"; do
	grep -q "^$s\$" "$tmp/8.txt" || { not_ok "overcommitd.8: section $s"; continue; }
	ok "overcommitd.8: section $s"
done

# every command and long option of the real binary is documented
BIN=$BUILD/overcommitd
if [ -x "$BIN" ] && "$BIN" --help >"$tmp/help" 2>&1; then
	cmds=$(sed -n '/^commands:/,/^options:/p' "$tmp/help" | awk 'NF && $1 !~ /:$/ {print $1}')
	opts=$(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u)
	missing=""
	for c in $cmds; do
		grep -q "^\.It Cm $c\( \|$\)" "$MAN8" || missing="$missing $c"
	done
	sed -n '/^OPTIONS$/,/^[A-Z]/p' "$tmp/8.txt" >"$tmp/8.options"
	for o in $opts; do
		grep -qE -- "^ +(-[a-z], )?$o( |,|\$)" "$tmp/8.options" || missing="$missing $o"
	done
	if [ -n "$cmds" ] && [ -z "$missing" ]; then
		ok "overcommitd.8 documents every command and option of --help"
	else
		not_ok "overcommitd.8 documents every command and option of --help" "missing:$missing"
	fi
else
	not_ok "overcommitd.8 documents every command and option of --help" "no $BIN (run make first)"
fi

# exit codes 0, 1, 2 under EXIT STATUS
codes=$(sed -n '/^EXIT STATUS$/,/^[A-Z]/p' "$tmp/8.txt" | awk '$1 ~ /^[0-9]$/ {print $1}' | tr '\n' ' ')
if [ "$codes" = "0 1 2 " ]; then
	ok "overcommitd.8: exit codes 0 1 2"
else
	not_ok "overcommitd.8: exit codes 0 1 2" "got: $codes"
fi

# every policy key of README.md's [host] and [service NAME] tables
keys=$(sed -n 's/^| `\([a-z_]*\)`\( \/ `\([a-z_]*\)`\)\{0,1\} |.*/\1 \3/p' README.md | tr ' ' '\n' | grep -v '^$' | sort -u)
missing=""
for k in $keys; do
	grep -q "^\.It Cm $k No = " "$MAN5" || missing="$missing $k"
done
if [ "$(printf '%s\n' "$keys" | wc -l)" -ge 20 ] && [ -z "$missing" ]; then
	ok "overcommitd.policy.5 documents every key of README.md ($(printf '%s\n' "$keys" | wc -l))"
else
	not_ok "overcommitd.policy.5 documents every key of README.md" "missing:$missing" "keys: $(echo $keys)"
fi
# and no key the README does not know
extra=""
for k in $(sed -n 's/^\.It Cm \([a-z_]*\) No = .*/\1/p' "$MAN5"); do
	printf '%s\n' "$keys" | grep -qx "$k" || extra="$extra $k"
done
if [ -z "$extra" ]; then ok "overcommitd.policy.5: no undocumented keys"; else not_ok "overcommitd.policy.5: no undocumented keys" "extra:$extra"; fi

# the shipped defaults the page states are the shipped file's
if grep -q '^enforce = no' policies/00-default.ini && grep -q 'recommend-only' "$tmp/5.txt"; then
	ok "overcommitd.policy.5: the shipped default is recommend-only, as in 00-default.ini"
else
	not_ok "overcommitd.policy.5: the shipped default is recommend-only, as in 00-default.ini"
fi

finish
