#!/bin/sh
# tests/funclen.sh - the longest functions in the C sources, longest first,
# and exit 1 when one in src/ reaches LIMIT lines (STYLE: functions < 70).
# A function runs from the line that opens its signature to its closing
# "}" at column 0 (the project's style; ctags -e gives the same counts).
#   sh tests/funclen.sh [TOP]      TOP lines of the table (default 10)
LIMIT=${LIMIT:-70}
TOP=${1:-10}
cd "$(dirname "$0")/.." || exit 1
table=$(awk '
/^[A-Za-z_].*\(/ && !/;[ \t]*$/ { sig = FNR; name = $0 }
/^\{/ || /^[A-Za-z_].*\)[ \t]*\{[ \t]*$/ {
	if (!infn) { infn = 1; start = sig; n = name; sub(/\(.*/, "", n); k = split(n, w, /[ \t*]+/); n = w[k] }
}
/^\}/ && infn { infn = 0; printf "%d %s:%d %s\n", FNR - start + 1, FILENAME, start, n }
' src/*.c agent/*.c | sort -rn)
printf '%s\n' "$table" | head -n "$TOP"
over=$(printf '%s\n' "$table" | awk -v l="$LIMIT" '$1 >= l && $2 ~ /^src\//')
if [ -n "$over" ]; then
	echo "functions in src/ of $LIMIT lines or more:"
	printf '%s\n' "$over"
	exit 1
fi
