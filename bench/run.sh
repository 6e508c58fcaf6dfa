#!/bin/sh
# bench/run.sh - `make bench` (issue 6): speed, loss and overhead of
# overcommitd side by side with the floor and with peers; BENCHMARKS.md says
# what each figure means and how it is measured.
#
# Usage (root: the proc connector, other users' /proc files):
#   BUILD=build sh bench/run.sh [PART...]     PART: latency storm scan harm foot smaps vm
# Environment (defaults in brackets):
#   BENCH_N        spawns per latency run on this host [1000]
#   BENCH_REPS     repeated runs per host figure; medians are reported [3]
#   BENCH_STORM    forks per storm [20000]; every BENCH_STORM_K-th execs the
#                  matched program [100]
#   BENCH_HARM_MIB size of the observed service [4096]; BENCH_HARM_S seconds
#                  per window [5]
#   BENCH_FOOT_S   footprint window [300]
#   OC_BENCH_VM_N  spawns per latency run in the guest [1000]
#   BENCH_VM=0     skip the qemu guest (items 1 guest half and 6)
# Every figure lands in $BUILD/bench/results/*.txt (key=value lines); the
# table is printed at the end and kept in $BUILD/bench/table.md.
# On this host overcommitd runs with enforce = no (nothing written to
# /proc/sys/vm, oom_score_adj or cgroups); enforce = yes runs in the guest.
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
N=${BENCH_N:-1000}
REPS=${BENCH_REPS:-3}
STORM=${BENCH_STORM:-20000}
STORM_K=${BENCH_STORM_K:-100}
HARM_MIB=${BENCH_HARM_MIB:-4096}
HARM_S=${BENCH_HARM_S:-5}
FOOT_S=${BENCH_FOOT_S:-300}
B=$BUILD/bench
R=$B/results
OC=$BUILD/overcommitd
FS=$BUILD/tests/helpers/forkstorm
T=$(mktemp -d /tmp/ocbench.XXXXXX)
PIDS=
T0=$(date +%s)

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
track() { PIDS="$PIDS $1"; }
untrack() { PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '); }

[ "$(id -u)" -eq 0 ] || die "run as root (the proc connector and other processes' /proc files)"
for f in "$OC" "$FS" "$BUILD/liboc.a" "$BUILD/tests/helpers/vmas"; do
	[ -e "$f" ] || die "$f missing: make $BUILD/overcommitd $BUILD/liboc.a $FS $BUILD/tests/helpers/vmas (or: make bench)"
done
BUILD=$BUILD sh bench/build.sh || die "building the bench programs failed"
mkdir -p "$R"

# median of the numbers on stdin (one a line); "-" when none
median() { sort -n | awk '{v[NR]=$1} END{if(NR==0){print "-"; exit} print (NR%2)?v[(NR+1)/2]:int((v[NR/2]+v[NR/2+1])/2)}'; }
# kv KEY FILE...: the values of KEY=... in spawnlat/scanpass/... lines
kv() { _k=$1; shift; cat "$@" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$_k=//p"; }

# a policy directory with one service matching the bench target
mkpol() { # DIR INTERVAL ENFORCE COMM
	mkdir -p "$1"
	chmod 0755 "$1"
	cat > "$1/50-bench.ini" <<EOF
[host]
enforce = $3
interval = $2
[service bench]
match_comm = $4
oom_score_adj = -100
memory_high = auto
cgroup = ocbench/target
EOF
	chmod 0644 "$1/50-bench.ini"
}

machine() {
	{
		echo "nproc=$(nproc)"
		echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1 | tr ' ' '_')"
		echo "kernel=$(uname -r)"
		echo "memtotal_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
		echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
		echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
	} > "$R/machine.txt"
	say "machine: $(tr '\n' ' ' < "$R/machine.txt")"
}

# ---- 1. exec -> joined latency on this host (enforce = no) ------------------
part_latency() {
	: > "$R/latency.txt"
	mkpol "$T/lpol" 60 no ocb-target
	# load "smaps" (issue 10): 4 matched mains of 60,000 VMAs each, whose
	# smaps reads (first sighting, ~1 s each) run while the spawns join
	mkpol "$T/lpol-smaps" 60 no ocb-target
	printf '[service bench-big]\nmatch_comm = ocb-vmas\n' >> "$T/lpol-smaps/50-bench.ini"
	cp "$BUILD/tests/helpers/vmas" "$T/ocb-vmas"
	for load in quiet storm smaps; do
		for rep in $(seq "$REPS"); do
			pol=$T/lpol
			VP=
			if [ "$load" = storm ]; then
				"$FS" -j 8 10000000 > /dev/null 2>&1 &
				SP=$!
				track $SP
				sleep 1
			elif [ "$load" = smaps ]; then
				pol=$T/lpol-smaps
				for k in 1 2 3 4; do
					"$T/ocb-vmas" 60000 0 > "$T/vmas$k.out" 2>&1 &
					VP="$VP $!"
					track $!
				done
				i=0
				until [ "$(cat "$T"/vmas*.out | grep -c ready)" -ge 4 ] || [ $i -gt 100 ]; do
					sleep 0.1
					i=$((i + 1))
				done
			fi
			"$B/spawnlat" -n "$N" -k -t "$B/ocb-target" -L "floor-$load" -r "pcfloor ready" \
				-p "exec " -- "$B/pcfloor" -p >> "$R/latency.txt"
			rm -rf "$T/lstate"
			"$B/spawnlat" -n "$N" -t "$B/ocb-target" -L "ocd-$load" -r "running:" -p "joined" \
				-s "stopping:" -- "$OC" run -v --policy-dir "$pol" --state-dir "$T/lstate" \
				>> "$R/latency.txt"
			if [ "$load" = storm ]; then
				kill $SP
				wait $SP 2>/dev/null
				untrack $SP
			fi
			for p in $VP; do
				kill "$p"
				wait "$p" 2>/dev/null
				untrack "$p"
			done
			say "latency $load run $rep: $(grep -c '^spawnlat' "$R/latency.txt") lines"
		done
	done
	# issue 10: how often the daemon read smaps (on its reader thread, never
	# on the loop) and how many execs joined while a read ran
	grep -o 'smaps reads [0-9]* ([0-9]* us for [0-9]* MiB) on the reader thread, [0-9]* unreadable; [0-9]* execs joined during a read (max [0-9]* us)' \
		"$R/latency.txt" | sed 's/^/latency /' >> "$R/smaps.txt" || true
}

# ---- 2. no loss under a storm; CPU per 1,000 events ----------------------------
# CPU time of a pid in ns: /proc/PID/schedstat (on-CPU time), and ticks of
# /proc/PID/stat utime+stime for reference.
cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
part_storm() {
	: > "$R/storm.txt"
	mkpol "$T/spol" 60 no ocb-target
	for rep in $(seq "$REPS"); do
		# overcommitd (4 MiB buffer, rescans on loss)
		rm -rf "$T/sstate"
		"$OC" run -v --policy-dir "$T/spol" --state-dir "$T/sstate" > "$T/slog" 2>&1 &
		DP=$!
		track $DP
		i=0
		until grep -q 'running:' "$T/slog" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
		c0=$(cpu_ns $DP)
		k0=$(cpu_ticks $DP)
		"$FS" -k "$STORM_K" -j 64 "$STORM" "$B/ocb-target" 1 > "$T/sout" 2>&1
		sleep 1.5
		c1=$(cpu_ns $DP)
		k1=$(cpu_ticks $DP)
		kill -TERM $DP
		wait $DP
		untrack $DP
		execs=$(sed -n 's/.*execs=\([0-9]*\).*/\1/p' "$T/sout")
		rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' "$T/sout")
		seen=$(grep -c 'bench: pid [0-9]* (ocb-target) joined' "$T/slog")
		ev=$(sed -n 's/.*stopping: \([0-9]*\) events, \([0-9]*\) resyncs.*/\1/p' "$T/slog")
		rs=$(sed -n 's/.*stopping: \([0-9]*\) events, \([0-9]*\) resyncs.*/\2/p' "$T/slog")
		grep -o 'smaps reads [0-9]* ([0-9]* us for [0-9]* MiB) on the reader thread, [0-9]* unreadable; [0-9]* execs joined during a read (max [0-9]* us)' \
			"$T/slog" | sed 's/^/storm /' >> "$R/smaps.txt" || true
		echo "storm ocd forks=$STORM execs=$execs seen=$seen missed=$((execs - seen)) events=$ev resyncs=$rs cpu_us=$(((c1 - c0) / 1000)) ticks=$((k1 - k0)) cpu_us_per_1k_events=$(((c1 - c0) / (ev > 0 ? ev : 1)))" \
			"rate=$rate" >> "$R/storm.txt"
		# the floor with libnl's default buffer and with the daemon's, no rescan
		for buf in 0 4194304; do
			"$B/pcfloor" -b $buf -c ocb-target > "$T/fout" 2>&1 &
			FP=$!
			track $FP
			i=0
			until grep -q 'ready' "$T/fout" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
			"$FS" -k "$STORM_K" -j 64 "$STORM" "$B/ocb-target" 1 > "$T/sout" 2>&1
			sleep 1.5
			kill -TERM $FP
			wait $FP
			untrack $FP
			execs=$(sed -n 's/.*execs=\([0-9]*\).*/\1/p' "$T/sout")
			m=$(kv matched "$T/fout")
			echo "storm floor-$buf forks=$STORM execs=$execs seen=$m missed=$((execs - m)) $(grep '^pcfloor:' "$T/fout" | cut -d' ' -f2-)" \
				>> "$R/storm.txt"
		done
		say "storm run $rep done"
	done
}

# ---- 3. observation cost: 1,000 and 10,000 processes -----------------------------
part_scan() {
	: > "$R/scan.txt"
	mkdir -p "$T/allpol"
	chmod 0755 "$T/allpol"
	printf '[service sleepers]\nmatch_comm = ocb-sleeper\noom_score_adj = 100\n' > "$T/allpol/50-all.ini"
	chmod 0644 "$T/allpol/50-all.ini"
	for np in 1000 10000; do
		mkfifo "$T/sleep.in"
		"$B/sleepers" "$np" < "$T/sleep.in" > "$T/sleep.out" &
		SL=$!
		track $SL
		exec 8> "$T/sleep.in"
		i=0
		until grep -q '^ready' "$T/sleep.out" || [ $i -gt 600 ]; do sleep 0.1; i=$((i + 1)); done
		echo "sleepers $(cat "$T/sleep.out")" >> "$R/scan.txt"
		echo "scan np=$np policy=shipped $("$B/scanpass" -r 10 policies)" >> "$R/scan.txt"
		echo "scan np=$np policy=all-match $("$B/scanpass" -r 10 policies "$T/allpol")" >> "$R/scan.txt"
		# the daemon's pass (worker cache), every sleeper a main of its own
		echo "scan np=$np shape=mains $("$B/scanpass" -w -r 10 policies "$T/allpol")" >> "$R/scan.txt"
		# the whole command, start to exit: CPU of one `status --format json`
		for rep in $(seq 5); do
			c0=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
			s0=$(date +%s%N)
			"$OC" --policy-dir policies --format json status > /dev/null 2>&1
			s1=$(date +%s%N)
			echo "status np=$np wall_us=$(((s1 - s0) / 1000))"
		done >> "$R/scan.txt"
		exec 8>&-
		wait $SL
		untrack $SL
		rm -f "$T/sleep.in"
		# issue 11 item 6: one main and np workers (prefork, PostgreSQL)
		mkfifo "$T/sleep.in"
		"$B/sleepers" -p "$np" < "$T/sleep.in" > "$T/sleep.out" &
		SL=$!
		track $SL
		exec 8> "$T/sleep.in"
		i=0
		until grep -q '^ready' "$T/sleep.out" || [ $i -gt 600 ]; do sleep 0.1; i=$((i + 1)); done
		echo "scan np=$np shape=prefork $("$B/scanpass" -r 10 policies "$T/allpol")" >> "$R/scan.txt"
		echo "scan np=$np shape=prefork $("$B/scanpass" -w -r 10 policies "$T/allpol")" >> "$R/scan.txt"
		exec 8>&-
		wait $SL
		untrack $SL
		rm -f "$T/sleep.in"
		say "scan with $np processes done"
	done
}

# ---- 4. harm to the observed service ------------------------------------------------
part_harm() {
	: > "$R/harm.txt"
	mkpol "$T/hpol" 1 no ocb-service
	for mode in plain churn; do
		rm -f "$T/tcmd"
		mkfifo "$T/tcmd"
		flag=
		[ $mode = churn ] && flag=-c
		"$B/toucher" -m "$HARM_MIB" -n ocb-service $flag < "$T/tcmd" > "$T/tout" 2>&1 &
		TP=$!
		track $TP
		exec 7> "$T/tcmd"
		i=0
		until grep -q 'toucher ready' "$T/tout" || [ $i -gt 1200 ]; do sleep 0.1; i=$((i + 1)); done
		grep -q 'toucher ready' "$T/tout" || { say "toucher did not start: $(cat "$T/tout")"; exec 7>&-; return; }
		for rep in $(seq "$REPS"); do
			# rotate the order so no condition always follows the same one
			case $((rep % 3)) in
			1) order="none ocd smaps" ;;
			2) order="ocd smaps none" ;;
			0) order="smaps none ocd" ;;
			esac
			for cond in $order; do
				AP=
				case $cond in
				ocd)
					rm -rf "$T/hstate"
					"$OC" run --policy-dir "$T/hpol" --state-dir "$T/hstate" > "$T/hlog" 2>&1 &
					AP=$!
					;;
				smaps)
					"$B/smapspoll" 1 > "$T/hlog" 2>&1 &
					AP=$!
					;;
				esac
				[ -n "$AP" ] && track $AP
				sleep 2
				echo "start $mode-$cond" >&7
				sleep "$HARM_S"
				echo "stop" >&7
				sleep 0.2
				if [ -n "$AP" ]; then
					kill -TERM $AP
					wait $AP 2>/dev/null
					untrack $AP
					[ $cond = smaps ] && sed 's/^/# /' "$T/hlog" >> "$R/harm.txt"
				fi
			done
		done
		echo quit >&7
		exec 7>&-
		wait $TP
		untrack $TP
		grep '^toucher ' "$T/tout" | grep -v ready >> "$R/harm.txt"
		say "harm ($mode) done"
	done
}

# ---- 5. footprint: idle daemon, 5 minutes -----------------------------------------------
# Runs in the background (started before the guest part, which only adds qemu
# threads to the host's event stream).  One daemon with the shipped policy
# dir, one with it plus the examples; a pcfloor counts the host's own events
# in the same window (each is a wakeup the daemon cannot avoid).
foot_start() {
	mkdir -p "$T/ex"
	cp policies/examples/*.ini "$T/ex/"
	chmod 0755 "$T/ex"
	chmod 0644 "$T/ex"/*.ini
	"$OC" run --policy-dir policies --state-dir "$T/f1" > "$T/f1.log" 2>&1 &
	F1=$!
	"$OC" run --policy-dir policies --policy-dir "$T/ex" --state-dir "$T/f2" > "$T/f2.log" 2>&1 &
	F2=$!
	"$B/pcfloor" -b 4194304 > "$T/f3.log" 2>&1 &
	F3=$!
	track $F1
	track $F2
	track $F3
	sleep 5
	# the window is sampled by a background job at exactly FOOT_S seconds, so
	# the guest part may run past it
	(
		for p in $F1 $F2; do
			echo "$p $(cpu_ns $p) $(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' /proc/$p/status)" \
				"$(sed -n 's/^nonvoluntary_ctxt_switches:[[:space:]]*//p' /proc/$p/status)" > "$T/foot0.$p"
		done
		sleep "$FOOT_S"
		for p in $F1 $F2; do
			read -r _ c0 v0 n0 < "$T/foot0.$p"
			echo "$p $FOOT_S $c0 $(cpu_ns $p) $v0 $(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' /proc/$p/status)" \
				"$n0 $(sed -n 's/^nonvoluntary_ctxt_switches:[[:space:]]*//p' /proc/$p/status)" \
				"$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$p/status)" \
				"$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$p/status)" > "$T/foot1.$p"
		done
		kill -TERM $F1 $F2 $F3
	) &
	FOOT_JOB=$!
	track $FOOT_JOB
	say "footprint: two idle daemons for $FOOT_S s (in the background)"
}
foot_finish() {
	say "footprint: waiting for its window to end"
	wait $FOOT_JOB
	untrack $FOOT_JOB
	wait $F1 $F2 $F3 2>/dev/null
	untrack $F1; untrack $F2; untrack $F3
	: > "$R/foot.txt"
	# events over the daemons' whole run (the window + 5 s of start-up): the
	# daemon's own count and a pcfloor's alongside
	hostev=$(kv events "$T/f3.log")
	for which in shipped:$F1:f1 examples:$F2:f2; do
		name=${which%%:*}
		rest=${which#*:}
		p=${rest%%:*}
		log=$T/${rest#*:}.log
		read -r _ dt c0 c1 v0 v1 n0 n1 rss hwm < "$T/foot1.$p"
		ev=$(sed -n 's/.*stopping: \([0-9]*\) events.*/\1/p' "$log")
		echo "foot $name seconds=$dt rss_kb=$rss hwm_kb=$hwm cpu_ms=$(((c1 - c0) / 1000000)) cpu_pct_x1000=$(((c1 - c0) / 10000 / dt)) wakeups=$((v1 - v0)) wakeups_per_min=$(((v1 - v0) * 60 / dt)) preempted=$((n1 - n0)) events_per_min=$((${ev:-0} * 60 / (dt + 5))) host_events_per_min=$((${hostev:-0} * 60 / (dt + 5)))" >> "$R/foot.txt"
	done
	say "footprint done"
}

# ---- 7. the exact fork charge: one smaps read per GiB (issue 10) -----------------
part_smaps() {
	for mib in 256 1024; do
		"$B/smapscost" "$mib" 10 >> "$R/smaps.txt"
	done
	say "smaps: $(grep -c '^smapscost' "$R/smaps.txt") cost lines"
}

# ---- 6 and the guest half of 1: qemu ---------------------------------------------------
part_vm() {
	if [ "${BENCH_VM:-1}" = 0 ]; then
		echo "skipped=BENCH_VM=0" > "$R/vm.txt"
		return
	fi
	BUILD=$BUILD sh bench/vm.sh > "$R/vm.log" 2>&1 || VM_FAILED=1
	grep -E '^ *INFO|^(PASS|FAIL)|passed, ' "$R/vm.log" | sed 's/^ *//' > "$R/vm.txt"
	say "guest: $(tail -n 1 "$R/vm.txt")"
	grep -h 'bench-vm: error' "$R/vm.log" >&2 || true
}

# ---- the table -----------------------------------------------------------------------------
table() { sh bench/table.sh "$R" | tee "$B/table.md"; }

PARTS=${*:-latency storm scan harm foot smaps vm}
VM_FAILED=
: > "$R/smaps.txt"
machine
for p in $PARTS; do
	case $p in
	latency | storm | scan | harm | smaps) say "part $p"; "part_$p" ;;
	foot) foot_start ;;
	vm) say "part vm (qemu)"; part_vm ;;
	*) die "unknown part $p" ;;
	esac
done
case " $PARTS " in *" foot "*) foot_finish ;; esac
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')" >> "$R/machine.txt"
echo "seconds=$(($(date +%s) - T0))" >> "$R/machine.txt"
table
# a guest scenario that failed (a missing peer among them) fails the bench
[ -z "$VM_FAILED" ] || die "the guest part failed (see $R/vm.log)"
