# bench-latency (issue 6, item 1, in the guest: enforce = yes really writes):
# exec -> done latency of one matched spawn at a time (bench/spawnlat.c),
# quiet and under a background fork storm, for
#   floor      bench/pcfloor -p: the proc connector event read and printed
#   ocd-line   overcommitd run -v, enforce = yes: its debug line "pid N enforced"
#              (logged after oom_score_adj and the cgroup attach were written)
#   ocd-poll   the same daemon, seen from outside: /proc/PID/cgroup and
#              oom_score_adj polled (every 200 us) until both are the policy's;
#              a cross-check of the method: quiet only, N/4 spawns (time)
#   cgrulesengd  Debian's cgroup-tools 2.0.2, rule "*:ocb-target memory ocbcgr/",
#              no logging (-Q), /proc/PID/cgroup polled
# Each result is an INFO line "spawnlat LABEL n= ok= missed= p50_us= ...".
# vm-timeout: 1500
N=@N@
T=/oc/bin/ocb-target
info "guest: $(nproc) CPUs, kernel $(uname -r), $(grep MemTotal /proc/meminfo | tr -s ' ')"
storm_on() { bg forkstorm -j 8 10000000; STORM=$BG_PID; nap 1; }
storm_off() { kill "$STORM" 2>/dev/null; wait "$STORM" 2>/dev/null; nap 0.5; }
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
	CGR=1
else
	info "cgrulesengd: not in the guest (cgroup-tools could not be downloaded): skipped"
	CGR=
fi
run() { # LABEL spawnlat-args...
	_l=$1
	shift
	spawnlat -n "$N" -w 5000 -L "$_l" "$@" > /tmp/sl.out 2> /tmp/sl.err  # a later -n wins
	while read -r _line; do info "$_line"; done < /tmp/sl.out
	[ -s /tmp/sl.err ] && info "$_l stderr: $(head -c 300 /tmp/sl.err | tr '\n' ' ')"
	return 0
}
for load in quiet storm; do
	[ "$load" = storm ] && storm_on
	run "floor-$load" -k -t "$T" -r "pcfloor ready" -p "exec " -- pcfloor -p
	rm -rf /tmp/ocstate
	run "ocd-line-$load" -o /tmp/raw -t "$T" -r "running:" -p "enforced" -s "stopping:" -- \
		"$OC" run -v --policy-dir "$POL" --state-dir /tmp/ocstate
	# the same run in deciles of spawn order: does it slow down as it goes?
	info "ocd-line-$load by spawn order: p50 of each 10% (us): $(awk -v n="$N" '{d=int((NR-1)*10/n); v[d]=v[d] " " $1} END{for(i=0;i<10;i++){m=split(v[i],a," "); for(x=1;x<=m;x++)for(y=x+1;y<=m;y++)if(a[y]+0<a[x]+0){t=a[x];a[x]=a[y];a[y]=t} printf "%s ", a[int((m+1)/2)]}}' /tmp/raw); journal entries at the end: $(grep -c '"kind"' /tmp/ocstate/journal.json 2>/dev/null)"
	if [ "$load" = quiet ]; then
		rm -rf /tmp/ocstate
		run "ocd-poll-$load" -n "$((N / 4))" -t "$T" -r "running:" -g "/ocbench/target" -a -100 -- \
			"$OC" run --policy-dir "$POL" --state-dir /tmp/ocstate
	fi
	if [ -n "$CGR" ]; then
		bg cgrulesengd -n -Q
		CP=$BG_PID
		nap 2
		run "cgrulesengd-$load" -t "$T" -g "/ocbcgr"
		kill "$CP" 2>/dev/null
		wait "$CP" 2>/dev/null
	fi
	[ "$load" = storm ] && storm_off
done
pass
