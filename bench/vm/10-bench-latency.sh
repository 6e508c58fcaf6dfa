# bench-latency (issue 6, item 1, in the guest: enforce = yes really writes):
# exec -> done latency of one matched spawn at a time (bench/spawnlat.c),
# quiet and under a background fork storm (forkstorm -j 8, started by
# spawnlat once the agent is ready, stopped before it: -B), for
#   floor      bench/pcfloor -p: the proc connector event read and printed
#   enforce-floor  bench/pcfloor -p -c -m -a: the least a name-matching
#              enforcer does: /proc/PID/comm read, oom_score_adj written,
#              the pid written to a kept-open cgroup.procs, then printed; the
#              kernel's own share of exec -> enforced (no policy, journal, log)
#   ocd-line   overcommitd run -v, enforce = yes: its debug line "pid N enforced"
#              (logged after oom_score_adj and the cgroup attach were written)
#   ocd-poll   the same daemon, seen from outside: /proc/PID/cgroup and
#              oom_score_adj polled (every 200 us) until both are the policy's;
#              a cross-check of the method: quiet only, N/4 spawns (time)
#   cgrulesengd  Debian's cgroup-tools 2.0.2, rule "*:ocb-target memory ocbcgr/",
#              no logging (-Q), /proc/PID/cgroup polled (missing: the bench fails)
#   ocd-light  the daemon without -v (no debug line), its group polled
#              every 5 ms: for the kernel's clock
#   cgrulesengd-light  the same, polled every 5 ms: for the kernel's clock
# kernel-timed (INFO "kernel-timed LABEL"): exec -> moved as the kernel
# stamps it (sched_process_exec, cgroup_attach_task; tracefs, trace_clock
# mono), for enforce-floor (its line run), ocd and cgrulesengd (their light
# runs, round 9: the same observer for both, the group polled every 5 ms;
# the daemon without -v, as in production): no observer inside the timed
# path, and the same light one beside it.
# fsyncs: every fsync/fdatasync/syncfs/sync/sync_file_range/msync the daemon
# makes is counted by a tracefs hist trigger (keys common_pid.execname,
# summed over "overcommitd"), for each ocd-line run and for a daemon that
# starts, reaches "running:" and stops with no spawn (its start-up cost);
# the host-wide originals the run journaled (journal.json: one rewrite each,
# once per target, two fsyncs: file and directory) are named too; INFO
# "fsyncs LABEL total=T startup=S hostwide=H per_exec=(T - S - 2H) / N ...".
# Each result is an INFO line "spawnlat LABEL n= ok= missed= p50_us= ...".
# The rows run REPS times, interleaved (floor, daemon, peer, then again):
# the host's load moves under a guest, so only rows run side by side
# compare.  The goals of issue 12 are asserted on the medians over the
# repetitions of each row's p99, for each load: the daemon's p99 <= 3x the
# floor's (both by their line) and below cgrulesengd's, by the line against
# the 200 us poller and by the kernel's clock against the light run (round
# 8: the poller slows the peer it times, the line costs our daemon a write
# and its reader a wake-up), and 0 fsyncs per exec in every run;
# INFO "goal LOAD: ..." says each, and a goal missed fails the scenario.
# The host is set up first by `overcommitd apply` with a policy of
# `cgroup_favordynmods = FDM` (OC_BENCH_VM_FDM, default yes): the cgroup2
# mount's favordynmods, which spares each cgroup move the kernel's RCU grace
# period (DESIGN "Exec -> enforced, round 6"); every row runs on that mount
# (cgrulesengd's too), and `overcommitd restore` gives it back at the end.
# vm-timeout: 4500
N=@N@
REPS=@REPS@
FDM=@FDM@
T=/oc/bin/ocb-target
info "guest: $(nproc) CPUs, kernel $(uname -r), $(grep MemTotal /proc/meminfo | tr -s ' ')"
mkdir -p /tmp/ocfdm
printf '[host]\nenforce = yes\novercommit = heuristic\ncgroup_favordynmods = %s\n' "$FDM" > /tmp/ocfdm/00-host.ini
chmod 0755 /tmp/ocfdm
chmod 0644 /tmp/ocfdm/00-host.ini
"$OC" apply --policy-dir /tmp/ocfdm --state-dir /tmp/ocfdm-state > /tmp/fdm.out 2>&1 ||
	fail "overcommitd apply (cgroup_favordynmods = $FDM): $(head -c 300 /tmp/fdm.out)"
info "cgroup_favordynmods = $FDM applied: $(sed -n 's|^.* /sys/fs/cgroup .* - cgroup2 [^ ]* ||p' /proc/self/mountinfo)"
policy 50-bench.ini <<'POL'
[host]
enforce = yes
interval = 60
[service bench]
match_comm = ocb-target
oom_score_adj = -100
; a memory limit is what makes the daemon give the service a group of its
; own: the attach at exec is part of what is timed
memory_high = auto
cgroup = ocbench/target
POL
if command -v cgrulesengd >/dev/null 2>&1; then
	mkdir -p /etc/cgconfig.d /etc/cgrules.d /var/run /sys/fs/cgroup/ocbcgr
	: > /etc/cgconfig.conf
	echo '*:ocb-target memory ocbcgr/' > /etc/cgrules.conf
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control
	mkdir -p /sys/fs/cgroup/ocbfloor
	CGR=1
else
	fail "cgrulesengd is not in the guest (bench/vm.sh installs cgroup-tools): no peer, no bench"
fi
TR=/sys/kernel/tracing
mount -t tracefs tracefs "$TR" 2>/dev/null
FSY="fsync fdatasync syncfs sync sync_file_range msync"
HIST='hist:keys=common_pid.execname:vals=hitcount'
for e in $FSY; do
	[ -w "$TR/events/syscalls/sys_enter_$e/trigger" ] || fail "tracefs: no syscalls/sys_enter_$e event (CONFIG_FTRACE_SYSCALLS): fsyncs cannot be counted"
done
fsync_reset() {
	for e in $FSY; do
		echo "!$HIST" > "$TR/events/syscalls/sys_enter_$e/trigger" 2>/dev/null
		echo "$HIST" > "$TR/events/syscalls/sys_enter_$e/trigger" || fail "tracefs: hist trigger on $e refused"
	done
}
# fsync_count: FSC = the daemon's sync calls since fsync_reset
fsync_count() {
	FSC=0
	for e in $FSY; do
		_c=$(awk '/overcommitd/ {for (i = 1; i <= NF; i++) if ($i == "hitcount:") s += $(i + 1)} END {print s + 0}' \
			"$TR/events/syscalls/sys_enter_$e/hist")
		FSC=$((FSC + _c))
	done
}
# kernel-timed exec -> moved, for every row that moves the target: the
# target's sched_process_exec and the cgroup_attach_task that moves it, both
# stamped by the kernel on one clock for both CPUs (trace_clock mono).  No
# observer is in this path: the line (a pipe write and the reader's wake-up,
# ours and the floors') and polling (cgrulesengd's: a /proc read every
# 200 us beside the enforcer) each add their own.  The move is the last
# write of both enforcers (overcommitd writes oom_score_adj first).
echo mono > "$TR/trace_clock" || fail "tracefs: no mono trace_clock"
for e in sched/sched_process_exec cgroup/cgroup_attach_task; do
	[ -w "$TR/events/$e/enable" ] || fail "tracefs: no $e event: the kernel-timed rows cannot be made"
done
echo 'filename ~ "*ocb-target"' > "$TR/events/sched/sched_process_exec/filter" ||
	fail "tracefs: sched_process_exec filter refused"
echo 'comm == "ocb-target"' > "$TR/events/cgroup/cgroup_attach_task/filter" ||
	fail "tracefs: cgroup_attach_task filter refused"
echo 1 > "$TR/events/sched/sched_process_exec/enable"
echo 1 > "$TR/events/cgroup/cgroup_attach_task/enable"
echo 1 > "$TR/tracing_on"
kt_reset() { : > "$TR/trace"; }
# kt_row LABEL: a "spawnlat kt-LABEL n= ok= p50_us= p99_us= max_us=" line
# from the trace since kt_reset (each exec paired with its pid's first move
# after it; nearest-rank percentiles, as spawnlat's)
kt_row() {
	_kt=$(awk '
		function ts(ev,   i, t) { for (i = 1; i < NF; i++) if ($(i + 1) == ev) { t = $i; sub(":", "", t); return t } return -1 }
		function pid(   i) { for (i = 1; i <= NF; i++) if ($i ~ /^pid=/) return substr($i, 5); return -1 }
		/ sched_process_exec: / { n++; ex[pid()] = ts("sched_process_exec:"); next }
		/ cgroup_attach_task: / { p = pid(); if (p in ex) { l[++ok] = int((ts("cgroup_attach_task:") - ex[p]) * 1000000 + 0.5); delete ex[p] } }
		function pct(q,   k) { k = int(q / 100 * ok + 0.999999); if (k < 1) k = 1; if (k > ok) k = ok; return l[k] }
		END {
			for (i = 2; i <= ok; i++) { v = l[i]; for (j = i - 1; j >= 1 && l[j] > v; j--) l[j + 1] = l[j]; l[j + 1] = v }
			printf "n=%d ok=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d", n, ok, ok ? pct(50) : 0, ok ? pct(90) : 0, ok ? pct(99) : 0, ok ? l[ok] : 0
		}' "$TR/trace")
	echo "spawnlat kt-$1 $_kt" >> /tmp/p99s
	info "kernel-timed $1 (exec -> moved): $_kt"
}
# the start-up's own syncs: a daemon that starts and stops, no spawn
rm -rf /tmp/ocstate
fsync_reset
bg "$OC" run -v --policy-dir "$POL" --state-dir /tmp/ocstate > /tmp/ocd0.log 2>&1
_p=$BG_PID
_n=0
until grep -q 'running:' /tmp/ocd0.log; do
	_n=$((_n + 1)); [ "$_n" -lt 300 ] || fail "daemon did not start: $(tail -n 3 /tmp/ocd0.log)"
	nap 0.1
done
nap 1
kill "$_p"; wait "$_p"
fsync_count
FS0=$FSC
info "fsyncs startup: $FS0 sync calls by a daemon that started and stopped (no spawn)"
# storm: spawnlat starts the fork storm once its agent is ready and stops
# it before the agent (-B): an agent is never started or stopped while the
# storm runs (under TCG the daemon's BPF attach, which patches
# __vm_enough_memory's text, has locked a vCPU up inside a storm's fork)
run() { # LABEL spawnlat-args...
	_l=$1
	shift
	if [ "$load" = storm ]; then
		spawnlat -n "$N" -w 5000 -L "$_l" -B "forkstorm -j 8 10000000" "$@" > /tmp/sl.out 2> /tmp/sl.err
	else
		spawnlat -n "$N" -w 5000 -L "$_l" "$@" > /tmp/sl.out 2> /tmp/sl.err  # a later -n wins
	fi
	while read -r _line; do info "$_line"; done < /tmp/sl.out
	grep '^spawnlat .* n=' /tmp/sl.out >> /tmp/p99s
	[ -s /tmp/sl.err ] && info "$_l stderr: $(head -c 300 /tmp/sl.err | tr '\n' ' ')"
	return 0
}
# one repetition of one load's rows; $1 = the repetition
rows() {
	run "floor-$load" -k -t "$T" -r "pcfloor ready" -p "exec " -- pcfloor -p
	kt_reset
	run "enforce-floor-$load" -k -t "$T" -r "pcfloor ready" -p "exec " -s "enforce_errors" -- \
		pcfloor -p -c ocb-target -m /sys/fs/cgroup/ocbfloor/cgroup.procs -a -100
	kt_row "enforce-floor-$load"
	rm -rf /tmp/ocstate
	fsync_reset
	run "ocd-line-$load" -o /tmp/raw -t "$T" -r "running:" -p "enforced" -s "stopping:" -- \
		"$OC" run -v --policy-dir "$POL" --state-dir /tmp/ocstate
	fsync_count
	# host-wide originals journaled in the run (a created group, +memory in
	# a subtree_control, a limit): one fsync'd journal.json rewrite each,
	# once per target, by design; what remains is per exec
	hw=$(grep -o '"kind": *"[a-z_]*"' /tmp/ocstate/journal.json 2>/dev/null |
		grep -cv 'oom_score_adj\|cgroup_attach')
	# a rewrite is two fsyncs: the temp file, then the directory
	unexp=$((FSC - FS0 - 2 * hw))
	[ "$unexp" -le 0 ] || FSYNC_BAD="$FSYNC_BAD $load-r$1:$unexp"
	info "fsyncs ocd-line-$load total=$FSC startup=$FS0 hostwide=$hw execs=$N per_exec=$(awk -v t="$FSC" -v s="$FS0" -v h="$hw" -v n="$N" 'BEGIN{d=t-s-2*h; if(d<0)d=0; printf "%.4f", d/n}') extra=$((FSC - FS0)) unexplained=$unexp"
	# the same run in deciles of spawn order: does it slow down as it goes?
	info "ocd-line-$load by spawn order: p50 of each 10% (us): $(awk -v n="$N" '{d=int((NR-1)*10/n); v[d]=v[d] " " $1} END{for(i=0;i<10;i++){m=split(v[i],a," "); for(x=1;x<=m;x++)for(y=x+1;y<=m;y++)if(a[y]+0<a[x]+0){t=a[x];a[x]=a[y];a[y]=t} printf "%s ", a[int((m+1)/2)]}}' /tmp/raw); first spawn: $(head -n 1 /tmp/raw) us; journal entries at the end: $(grep -c '"kind"' /tmp/ocstate/journal.json 2>/dev/null)"
	# for the kernel's clock, the daemon as it runs in production (no -v:
	# no debug line) under the observer cgrulesengd's light row has: the
	# group polled every 5 ms
	rm -rf /tmp/ocstate
	kt_reset
	run "ocd-light-$load" -P 5000 -t "$T" -r "running:" -g "/ocbench/target" -- \
		"$OC" run --policy-dir "$POL" --state-dir /tmp/ocstate
	kt_row "ocd-$load"
	if [ "$load" = quiet ] && [ "$1" = 1 ]; then
		rm -rf /tmp/ocstate
		run "ocd-poll-$load" -n "$((N / 4))" -t "$T" -r "running:" -g "/ocbench/target" -a -100 -- \
			"$OC" run --policy-dir "$POL" --state-dir /tmp/ocstate
	fi
	bg cgrulesengd -n -Q
	CP=$BG_PID
	nap 2
	run "cgrulesengd-$load" -t "$T" -g "/ocbcgr"
	# for the kernel's clock, the observer made light: /proc polled every
	# 5 ms, not 200 us (the 200 us poller takes CPU from the peer it times;
	# its own figures are coarse, the trace's are not)
	kt_reset
	run "cgrulesengd-light-$load" -P 5000 -t "$T" -g "/ocbcgr"
	kt_row "cgrulesengd-$load"
	kill "$CP" 2>/dev/null
	wait "$CP" 2>/dev/null
}
FSYNC_BAD=
: > /tmp/p99s
r=1
while [ "$r" -le "$REPS" ]; do
	for load in quiet storm; do
		rows "$r"
	done
	r=$((r + 1))
done
# median over the repetitions of LABEL's p99 (us)
p99med() {
	sed -n "s/^spawnlat $1 n=.* p99_us=\([0-9]*\).*/\1/p" /tmp/p99s | sort -n |
		awk '{v[NR]=$1} END{if(NR)print v[int((NR+1)/2)]; else print 0}'
}
GOAL_BAD=
for load in quiet storm; do
	f=$(p99med "floor-$load"); o=$(p99med "ocd-line-$load"); c=$(p99med "cgrulesengd-$load")
	e=$(p99med "enforce-floor-$load")
	info "enforce-floor $load: p99 median $e us: the kernel's share, $(awk -v e="$e" -v f="$f" 'BEGIN{printf "%.2f", f ? e / f : 99}')x the floor; overcommitd $(awk -v o="$o" -v e="$e" 'BEGIN{printf "%.2f", e ? o / e : 99}')x it"
	vf=$(awk -v o="$o" -v f="$f" 'BEGIN{printf "%.2f", f ? o / f : 99}')
	vc=$(awk -v o="$o" -v c="$c" 'BEGIN{printf "%.2f", c ? o / c : 99}')
	okf=$(awk -v v="$vf" 'BEGIN{print (v <= 3.0) ? "met" : "NOT met"}')
	okc=$(awk -v o="$o" -v c="$c" 'BEGIN{print (o < c) ? "met" : "NOT met"}')
	info "goal $load: p99 medians over $REPS runs: floor $f us, overcommitd $o us, cgrulesengd $c us; overcommitd ${vf}x the floor (<= 3x: $okf), ${vc}x cgrulesengd (below: $okc)"
	ko=$(p99med "kt-ocd-$load"); kc=$(p99med "kt-cgrulesengd-$load"); ke=$(p99med "kt-enforce-floor-$load")
	vk=$(awk -v o="$ko" -v c="$kc" 'BEGIN{printf "%.2f", c ? o / c : 99}')
	okk=$(awk -v o="$ko" -v c="$kc" 'BEGIN{print (o > 0 && o < c) ? "met" : "NOT met"}')
	info "goal $load, kernel-timed: p99 medians over $REPS runs (exec -> moved, each mover's own observer light): enforce-floor $ke us, overcommitd $ko us, cgrulesengd $kc us; overcommitd ${vk}x cgrulesengd (below: $okk), $(awk -v o="$ko" -v e="$ke" 'BEGIN{printf "%.2f", e ? o / e : 99}')x the enforce-floor"
	[ "$okk" = met ] || GOAL_BAD="$GOAL_BAD $load:${vk}x-cgrulesengd-kernel-timed"
	[ "$okf" = met ] || GOAL_BAD="$GOAL_BAD $load:${vf}x-floor"
	[ "$okc" = met ] || GOAL_BAD="$GOAL_BAD $load:${vc}x-cgrulesengd"
done
info "goal fsyncs: 0 per exec in every run: $([ -z "$FSYNC_BAD" ] && echo met || echo "NOT met:$FSYNC_BAD")"
"$OC" restore --policy-dir /tmp/ocfdm --state-dir /tmp/ocfdm-state > /tmp/fdm.out 2>&1 ||
	fail "overcommitd restore of the cgroup2 mount: $(head -c 300 /tmp/fdm.out)"
info "restored: $(sed -n 's|^.* /sys/fs/cgroup .* - cgroup2 [^ ]* ||p' /proc/self/mountinfo)"
[ -z "$FSYNC_BAD" ] || fail "fsyncs on the exec path:$FSYNC_BAD"
[ -z "$GOAL_BAD" ] || fail "exec->enforced goal missed (issue 12):$GOAL_BAD"
pass
