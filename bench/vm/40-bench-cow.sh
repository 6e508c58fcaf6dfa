# bench-cow (issue 6, item 6): a deliberate copy-on-write blow-up.  A main
# process (ocb-main) holds MAIN MiB; on the signal it forks a child that
# dirties all of it while the main grows by GROW MiB: together more than the
# guest's RAM (no swap).  Who does the kernel kill?
#   blanket  vm.overcommit_memory=1 and nothing else: the global OOM killer
#   plan     the same sysctl, plus overcommitd run (enforce = yes) with
#            oom_score_adj -500 / child_oom_score_adj 800 and
#            memory_high = auto / memory_max = auto for the service's group
# Target: the disposable child, never the main process or another one.
# The main starts (and allocates) in its group before the daemon starts, so
# the daemon sizes the limits from its full anon at its first pass (blanket:
# a group without limits, only so memory.events can be read).
# vm-timeout: 400
MAIN=600
GROW=752
CG=/sys/fs/cgroup/ocbench/cow
CGB=/sys/fs/cgroup/ocbench/blanket
vm_set overcommit_memory 1
policy 50-cow.ini <<'POL'
[host]
enforce = yes
interval = 1
[service cow]
match_comm = ocb-main
oom_score_adj = -500
child_oom_score_adj = 800
memory_high = auto
memory_max = auto
cgroup = ocbench/cow
POL
# start_main CASE GROUP: cowblow in GROUP, MAIN MiB touched; sets MPID
start_main() {
	rm -f /tmp/cow.ready /tmp/cow.status
	bg sh -c 'echo $$ > "$0" && exec cowblow -m "$1" -g "$2" -r /tmp/cow.ready -o /tmp/cow.status' \
		"$2/cgroup.procs" "$MAIN" "$GROW"
	GROUP=$2
	MPID=$BG_PID
	wait_file /tmp/cow.ready 120 || fail "$1: cowblow did not get ready: $(cat /tmp/cow.status 2>/dev/null)"
}
# alive PID: running, not a zombie (a killed child stays one: nobody reaps it)
alive() {
	_s=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$_s" ] && [ "$_s" != Z ] && [ "$_s" != X ]
}
# blow CASE: signal, then wait until both finished or someone died (60 s)
blow() {
	dmesg -c > /dev/null
	read -r t0 _ < /proc/uptime
	kill -USR1 "$MPID"
	n=0
	while [ "$n" -lt 120 ]; do
		grep -q 'parent done' /tmp/cow.status 2>/dev/null &&
			grep -q 'dirtied' /tmp/cow.status 2>/dev/null && break
		alive "$MPID" || break
		CPID=$(sed -n 's/^child \([0-9]*\) start/\1/p' /tmp/cow.status 2>/dev/null)
		[ -n "$CPID" ] && ! alive "$CPID" && grep -q 'parent done' /tmp/cow.status && break
		n=$((n + 1))
		nap 0.5
	done
	nap 1
	read -r t1 _ < /proc/uptime
	CPID=$(sed -n 's/^child \([0-9]*\) start/\1/p' /tmp/cow.status)
	main_alive=no; child_alive=no
	alive "$MPID" && main_alive=yes
	[ -n "$CPID" ] && alive "$CPID" && child_alive=yes
	killed=$(dmesg | sed -n 's/.*Killed process \([0-9]*\) (\([^)]*\)).*/\2(\1)/p' | tr '\n' ' ')
	kind=$(dmesg | grep -o -m1 -E 'Memory cgroup out of memory|Out of memory' || true)
	grew=$(sed -n 's/^parent grew //p' /tmp/cow.status | tail -n 1)
	copied=$(sed -n 's/^child copied //p; s/^child [0-9]* dirtied //p' /tmp/cow.status | tail -n 1)
	high=$(sed -n 's/^high //p' "$GROUP/memory.events" 2>/dev/null)
	ev=$(tr '\n' ' ' < "$GROUP/memory.events" 2>/dev/null)
	info "$1: main ocb-main($MPID) alive=$main_alive, child ocb-child(${CPID:-?}) alive=$child_alive; killed: ${killed:-none} (${kind:-no OOM}); main grew ${grew:-0} of $GROW MiB, child copied ${copied:-0} of $MAIN MiB; $(awk "BEGIN{print $t1 - $t0}") s; memory.events: $ev"
	info "$1 verdict: $(verdict)"
	kill -9 "$MPID" ${CPID:+"$CPID"} 2>/dev/null
	wait "$MPID" 2>/dev/null
	nap 0.5
}
verdict() {
	if [ "$main_alive" = yes ] && [ "$child_alive" = no ]; then echo "the child died, the main lived (target met)"
	elif [ "$main_alive" = no ] && [ "$child_alive" = yes ]; then echo "the MAIN process was killed, the child lived"
	elif [ "$main_alive" = no ]; then echo "both died"
	elif [ "${high:-0}" -gt 0 ]; then echo "nobody killed within the window: memory.high throttled the whole group, main included ($high high events; main grew ${grew:-0} of $GROW MiB, child copied ${copied:-0} of $MAIN MiB)"
	else echo "nobody was killed"; fi
}
mkdir -p "$CG" "$CGB"
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
echo +memory > /sys/fs/cgroup/ocbench/cgroup.subtree_control
info "guest: $(mi_line); MAIN $MAIN MiB, GROW $GROW MiB"

# --- blanket: overcommit_memory=1 only, no limits
start_main blanket "$CGB"
blow blanket
BLANKET="main_alive=$main_alive child_alive=$child_alive"

# --- plan: the daemon sets oom_score_adj and the group's limits first
start_main plan "$CG"
bg "$OC" run -v --policy-dir "$POL" --state-dir "$OCSTATE"
DPID=$BG_PID
n=0
until [ "$(cat "$CG/memory.max")" != max ] && [ "$(cat "/proc/$MPID/oom_score_adj")" = -500 ]; do
	n=$((n + 1))
	[ "$n" -lt 300 ] || fail "plan: the daemon did not set memory.max / oom_score_adj in 30 s"
	nap 0.1
done
info "plan: memory.high $(($(cat "$CG/memory.high") / 1048576)) MiB, memory.max $(($(cat "$CG/memory.max") / 1048576)) MiB, main oom_score_adj $(cat "/proc/$MPID/oom_score_adj")"
blow plan
[ -n "$CPID" ] && info "plan: child oom_score_adj was set (dmesg oom_score_adj of the victim: $(dmesg | sed -n 's/.*Killed process.*oom_score_adj:\([-0-9]*\).*/\1/p' | tr '\n' ' '))"
kill "$DPID" 2>/dev/null
info "result: blanket: $BLANKET; plan: main_alive=$main_alive child_alive=$child_alive"
pass
