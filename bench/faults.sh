#!/bin/sh
# bench/faults.sh - the fault-injection scenario at its full level (issue 13,
# "tests a trusted daemon has" #3): SIGKILL, ENOSPC and EROFS at EVERY
# write-class system call of `apply`, `restore` and the daemon's scripted
# run (start-up, a fork episode, SIGHUP, SIGTERM with restore_on_exit), one
# run each, a plain `restore` after each and every value checked against
# the boot snapshot.  `make vm-check` runs the same scenario at FI_LEVEL=ci
# (a few call numbers per command and fault).  Not part of `make bench`.
#
# The call numbers are shared out over FI_JOBS guests booted at once
# (guest J of N takes the numbers k with k mod N = J, of every command and
# fault), each under nice 19.  A run that does not come back is reported
# as "BAD ..." and the guest is reset by hand so the level goes on.
#
# Usage: BUILD=build sh bench/faults.sh
#        sh bench/faults.sh --tally CONSOLE-LOG...   (what those guests covered)
# Environment:
#   FI_JOBS    guests at once (default 2)
#   FI_CMDS    which commands (default "apply restore daemon")
#   FI_FAULTS  which faults (default "KILL ENOSPC EROFS")
#   FI_BPF     yes: the daemon loads its refusal capture (BPF, ~10 s a start
#              under TCG); default no (no write-class call of its own)
#   FI_KORDER  asc (default) or desc: call numbers from the last down
#   FI_KFROM   the first call number (levels from the middle outwards)
#   FI_KS      only these call numbers: ranges "47-105 155-238 264-"
#   FI_CHILD_MS  the episode child's life (default 3000: long enough that
#              the daemon places it in its leaf group in every run, so call
#              K is the same call in every run; the CI level: 1000)
#   FI_PAST    % more daemon call numbers than its plain run made (default
#              1: the run is deterministic with FI_CHILD_MS=3000; CI: 10)
#   FI_PLAIN   plain daemon runs before the injected ones (default 1); more:
#              their counts and call lists compared (determinism)
#   FI_WAIT    seconds a daemon step may take (default 90: guests at nice 19
#              on a loaded host are starved)
#   FI_TAG     guest J works in $BUILD/vm/faults.$FI_TAG$J (levels at once)
#   OC_VM_SMP, OC_VM_MEM as for tests/vm/run.sh
set -eu

# tally LOG...: per command and fault, the runs, the distinct call numbers
# (and their range), those past a daemon run's end, the distinct calls hit
# ("write #12": the 12th write, whatever its number) against the calls of
# the command's plain runs (per name, the most any plain run made), the
# BAD runs
tally() {
	awk '
	{ sub(/\r$/, "") }
	FNR == 1 { nref = 0 }
	# a plain daemon run: its call list (sysfault -l) follows the count line;
	# the last plain run of each guest is what call #K should be
	/^\[fault-injection\] INFO daemon: [0-9]+ write-class calls/ { nref = 1; delete ref }
	nref && /dlog\| [0-9.]+ sysfault: call #[0-9]+ / {
		l = $0; sub(/.*sysfault: call #/, "", l); k = l; sub(/ .*/, "", k)
		sub(/^[0-9]+ /, "", l); gsub(/[0-9]+/, "N", l); ref[k] = l
	}
	/^\[fault-injection\] INFO (apply|restore|daemon): [0-9]+ write-class calls \(/ {
		c = $3; sub(":", "", c)
		l = $0; sub(/.*calls \(/, "", l); sub(/;.*/, "", l)
		m = split(l, parts, ",")
		for (i = 1; i <= m; i++) {
			split(parts[i], nv, " ")
			if (nv[2] + 0 > most[c, nv[1]]) { most[c, nv[1]] = nv[2] + 0 }
			names[c, nv[1]] = 1
		}
		cmds[c] = 1
	}
	/^\[fault-injection\] (apply|restore|daemon), [A-Z]+ at #[0-9]+/ {
		c = $2; sub(",", "", c); f = $3; k = $5; sub("#", "", k); sub(":", "", k)
		key = c " " f; runs[key]++
		if (!((key, k) in seen)) { seen[key, k] = 1; n[key]++ }
		if (!(key in lo) || k + 0 < lo[key]) lo[key] = k + 0
		if (k + 0 > hi[key]) hi[key] = k + 0
		if ($0 ~ /not reached/) past[key]++
		if (match($0, /\([a-z0-9]+ #[0-9]+/)) {
			id = substr($0, RSTART + 1, RLENGTH - 1)
			if (!((key, id) in hit)) { hit[key, id] = 1; nhit[key]++ }
			if (c == "daemon" && (k in ref)) {
				t = $0; sub(/^[^(]*\(/, "", t); sub(/\): exit.*/, "", t); sub(/ #[0-9]+/, "", t); gsub(/[0-9]+/, "N", t)
				if (t == ref[k]) same[key]++; else if (++other[key] <= 4) others[key] = others[key] " #" k
			}
		}
	}
	/^\[fault-injection\] BAD / { bad++; print "  " $0 }
	/^\[fault-injection\] SELF / { self++; print "  " $0 }
	/^\[fault-injection\] SHIFT / { shift++ }
	END {
		for (key in runs) {
			split(key, cf, " "); want = 0; miss = ""; nmiss = 0
			for (cn in names) {
				split(cn, pair, SUBSEP)
				if (pair[1] != cf[1]) continue
				for (i = 1; i <= most[cn]; i++) {
					want++
					if (!((key, pair[2] " #" i) in hit)) { nmiss++; if (nmiss <= 6) miss = miss " " pair[2] " #" i }
				}
			}
			printf "  %-16s %4d runs, %4d call numbers (#%d..#%d), %d past the run'"'"'s end; calls hit %d of %d%s%s\n",
				key, runs[key], n[key], lo[key], hi[key], past[key], nhit[key], want,
				nmiss ? " (not:" miss (nmiss > 6 ? " ..." : "") ")" : "",
				(key in same) || (key in other) ? sprintf("; call #K = the plain run'"'"'s #K in %d of %d%s", same[key], same[key] + other[key], other[key] ? " (not:" others[key] (other[key] > 4 ? " ..." : "") ")" : "") : ""
		}
		printf "  BAD runs: %d; daemon runs not back by their own restore_on_exit (SELF): %d; daemon runs whose call #K was not the plain run'"'"'s (SHIFT): %d\n", bad, self, shift
	}' "$@" | sort
}
if [ "${1:-}" = --tally ]; then
	shift
	tally "$@"
	exit 0
fi

BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
JOBS=${FI_JOBS:-2}
CMDS=${FI_CMDS:-apply restore daemon}
FAULTS=${FI_FAULTS:-KILL ENOSPC EROFS}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
echo "faults: $JOBS guests, commands '$CMDS', faults '$FAULTS', BPF ${FI_BPF:-no}, order ${FI_KORDER:-asc}; host: $(uptime)"
t0=$(date +%s)
j=0
while [ "$j" -lt "$JOBS" ]; do
	mkdir -p "$D/s$j"
	sed "s/^FI_LEVEL=ci\$/FI_LEVEL=full/; s/^# vm-timeout: .*/# vm-timeout: 9000/;
		s|^FI_SHARD=.*|FI_SHARD=$j/$JOBS|; s/^FI_CMDS=.*/FI_CMDS=\"$CMDS\"/;
		s/^FI_FAULTS=.*/FI_FAULTS=\"$FAULTS\"/; s/^FI_BPF=.*/FI_BPF=${FI_BPF:-no}/;
		s/^FI_KORDER=.*/FI_KORDER=${FI_KORDER:-asc}/; s/^FI_WAIT=.*/FI_WAIT=${FI_WAIT:-90}/;
		s/^FI_KFROM=.*/FI_KFROM=${FI_KFROM:-}/; s/^FI_KS=.*/FI_KS=\"${FI_KS:-}\"/;
		s/^FI_CHILD_MS=[0-9]*/FI_CHILD_MS=${FI_CHILD_MS:-3000}/; s/^FI_PLAIN=[0-9]*/FI_PLAIN=${FI_PLAIN:-1}/;
		s/^FI_PAST=[0-9]*/FI_PAST=${FI_PAST:-1}/" \
		"$TOP/tests/vm/scenarios/41-fault-injection.sh" > "$D/s$j/41-fault-injection.sh"
	grep -q '^FI_LEVEL=full$' "$D/s$j/41-fault-injection.sh" ||
		{ echo "bench/faults.sh: FI_LEVEL line not found" >&2; exit 1; }
	OC_VM_WORK=$BUILD/vm/faults.${FI_TAG:-}$j OC_VM_SCENARIO_DIR=$D/s$j BUILD=$BUILD \
		nice -n 19 sh "$TOP/tests/vm/run.sh" fault-injection > "$D/out.$j" 2>&1 &
	echo "$!" > "$D/pid.$j"
	j=$((j + 1))
done
rc=0
j=0
while [ "$j" -lt "$JOBS" ]; do
	wait "$(cat "$D/pid.$j")" || rc=1
	echo "--- guest $j/$JOBS (console: $BUILD/vm/faults.${FI_TAG:-}$j/logs)"
	grep -E '^(  INFO|PASS|FAIL|vm: boot)' "$D/out.$j" || tail -n 20 "$D/out.$j"
	grep -h '^\[fault-injection\] BAD' "$BUILD/vm/faults.${FI_TAG:-}$j/logs/41-fault-injection.console.log" || true
	j=$((j + 1))
done
echo "faults: $(($(date +%s) - t0)) s wall; host: $(uptime)"
j=0
set --
while [ "$j" -lt "$JOBS" ]; do
	set -- "$@" "$BUILD/vm/faults.${FI_TAG:-}$j/logs/41-fault-injection.console.log"
	j=$((j + 1))
done
tally "$@"
exit "$rc"
