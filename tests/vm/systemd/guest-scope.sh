# tests/vm/systemd/guest-scope.sh - sourced by guest-test.sh (issue 12 item
# 1 under systemd units): Debian's redis-server.service under strict
# accounting (vm.overcommit_memory = 2), the daemon enforcing the shipped
# redis.ini.  A quiet BGSAVE teaches "no growth"; then a slow BGSAVE
# (rdb-key-save-delay) and a copy-on-write blow-up (one EVAL rewrites every
# value: each write copies a page while the child still maps the old one):
#   scope-placed    the child is moved into the transient scope
#                   overcommitd-fork-redis-server-PID.scope in system.slice,
#                   whose memory.high is the budget the daemon logs
#                   (MemoryHigh, no MemoryMax, CollectMode inactive-or-failed)
#   scope-stop      the daemon ends the child (signal 10) within 5 s of the
#                   growth (main group + scope anon, sampled here every 0.2 s)
#                   passing the budget
#   scope-main      the main is the same process, its group's memory.events
#                   "high" unchanged (never throttled), rdb_last_bgsave_status ok
#   scope-gone      the scope is unloaded once its child is gone (nothing to undo)
#   scope-retry     the next BGSAVE (pressure gone) succeeds
#   scope-return    a worker pool under a unit (oc-pool.service, python3):
#                   its lone first worker goes into a scope, the second fork
#                   cancels the episode and the first is moved back into the
#                   unit's group (a cgroup.procs write: systemd refuses
#                   AttachProcessesToUnit without Delegate=); the scope is unloaded
# Then the host goes back to heuristic mode for the rest of the run.
# Uses: POL, CG, RES, OUT and the helpers of guest-test.sh.

S_KEYS=10000          # x 4000 B: ~40 MiB
S_DELAY=20000         # us per key in the save child: a ~200 s save (the blow-up passes the budget long before, even in a loaded guest)
s0=$(now_s)
rcli() { redis-cli --no-raw "$@" 2>&1 | tr -d '"'; }
persist() { redis-cli INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }
saved() { [ "$(persist rdb_bgsave_in_progress)" = 0 ]; }
anon_of() { sed -n 's/^anon //p' "$1/memory.stat" 2>/dev/null | awk '{print int($1 / 1024)}'; }
high_events() { sed -n 's/^high //p' "$CG/memory.events"; }
scope_ok() { v=$(sed -n 's/^0:://p' "/proc/$child/cgroup" 2>/dev/null); [ "$v" = "$scg" ]; }
# the sampling loop forks nothing (a fork costs ~0.5 s in a loaded TCG guest)
child_gone() {
	[ -r "/proc/$child/stat" ] || return 0
	read -r _l < "/proc/$child/stat" 2>/dev/null || return 0
	_l=${_l##*) }
	[ "${_l%% *}" = Z ]
}
anon_var() { # DIR: ANON = its anon in KiB (0 without the group)
	ANON=0
	[ -r "$1/memory.stat" ] || return 0
	while read -r _k _v; do
		if [ "$_k" = anon ]; then ANON=$((_v / 1024)); return 0; fi
	done < "$1/memory.stat"
}
uptime_ms() { # UP = /proc/uptime in ms
	read -r _u _ < /proc/uptime
	_f=${_u#*.}
	_f=${_f#0}
	UP=$((${_u%.*} * 1000 + ${_f:-0} * 10))
}
strict() { vm_is overcommit_memory 2; }
ms_now() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

cp /usr/share/doc/overcommitd/examples/redis.ini "$POL/60-redis.ini"
printf '[host]\nenforce = yes\novercommit = strict\ncommit_limit = 90%%\ninterval = 1\n' > "$POL/80-scope.ini"
mark
systemctl reload overcommitd.service
wait_for 30 logged 'reload: policy loaded' || fail scope-placed "policy with overcommit = strict not loaded"
wait_for 30 strict || fail scope-placed "vm.overcommit_memory $(cat /proc/sys/vm/overcommit_memory), want 2"
RPID=$(redis_pid)
# Debian's redis.conf saves by itself after 10000 changes: only our saves here
rcli CONFIG SET save "" > /dev/null
lua='for i=1,tonumber(ARGV[1]) do redis.call("SET","key:"..i,string.rep(ARGV[2],4000)) end return 1'
[ "$(rcli EVAL "$lua" 0 "$S_KEYS" x)" = "(integer) 1" ] || fail scope-placed "filling Redis failed"
# the quiet save the daemon learns "no growth" from
wait_for 60 saved
mark
rcli CONFIG SET rdb-key-save-delay 0 > /dev/null
rcli BGSAVE > /dev/null
wait_for 60 saved && wait_for 20 logged 'redis: fork episode of' ||
	fail scope-placed "the quiet BGSAVE was not learned: $(since | grep redis | tail -n 2 | oneline)"
info scope "Redis $RPID: $S_KEYS x 4000 B, mode $(cat /proc/sys/vm/overcommit_memory), CommitLimit $(sed -n 's/^CommitLimit: *//p' /proc/meminfo), group anon $(anon_of "$CG") KiB, memory.high $(cat "$CG/memory.high"); $(since | grep -m 1 'redis: fork episode of' | sed 's/.*fork episode/fork episode/')"

# the slow save and its child
rcli CONFIG SET rdb-key-save-delay "$S_DELAY" > /dev/null
h0=$(high_events)
a0=$(anon_of "$CG")
mark
t0=$(ms_now)
rcli BGSAVE > /dev/null
has_child() { read -r child _ < "/proc/$RPID/task/$RPID/children"; [ -n "$child" ]; }
child=
wait_for 30 has_child
scope=overcommitd-fork-redis-server-$child.scope
scg=/system.slice/$scope
if [ -n "$child" ] && wait_for 15 scope_ok; then
	t_in=$(ms_now)
	sline=$(since | grep -m 1 "fork child $child in transient scope")
	mib=$(echo "$sline" | sed -n 's/.*MemoryHigh \([0-9]*\) MiB.*/\1/p')
	mh=$(cat "/sys/fs/cgroup$scg/memory.high")
	mx=$(cat "/sys/fs/cgroup$scg/memory.max")
	props=$(systemctl show -p Slice,MemoryHigh,MemoryMax,CollectMode "$scope" | sort | oneline)
	info scope-placed "child $child in $scg $((t_in - t0)) ms after BGSAVE; memory.high $mh, memory.max $mx; $props; $sline"
	if [ -n "$mib" ] && [ "$mh" = $((mib * 1048576)) ] && [ "$mx" = max ] &&
		[ "$props" = "CollectMode=inactive-or-failed MemoryHigh=$mh MemoryMax=infinity Slice=system.slice" ]; then
		pass scope-placed
	else
		fail scope-placed "want memory.high = the logged budget ($mib MiB), memory.max max, Slice/CollectMode as asked"
	fi
else
	fail scope-placed "child '$child' not in $scg 15 s after BGSAVE: $(cat "/proc/$child/cgroup" 2>/dev/null); $(since | grep -i 'scope\|redis' | tail -n 3 | oneline)"
fi

# the blow-up: every value rewritten while the child maps the old pages
redis-cli EVAL "$lua" 0 "$S_KEYS" y > /dev/null 2>&1 &
blow=$!
: > "$OUT/scope.trace"
t_gone=
uptime_ms
end=$((UP + 180000))
while [ "$UP" -lt "$end" ]; do # 0.2 s apart, 180 s by the clock at most
	if child_gone; then t_gone=$UP; break; fi
	anon_var "$CG"
	am=$ANON
	anon_var "/sys/fs/cgroup$scg"
	echo "$UP $((am - a0 + ANON))" >> "$OUT/scope.trace"
	sleep 0.2
	uptime_ms
done
wait "$blow"
stop=$(since | grep -m 1 "redis: fork child $child stopped")
budget=$(echo "$stop" | sed -n 's/.*budget \([0-9]*\) KiB.*/\1/p')
t_pass=$(awk -v b="${budget:-0}" '$2 > b {print $1; exit}' "$OUT/scope.trace")
[ -n "$t_pass" ] || t_pass=$t_gone
info scope-stop "$stop; budget passed at +$((${t_pass:-0} - t0)) ms, child gone at +$((${t_gone:-0} - t0)) ms; trace (ms KiB): $(tail -n 4 "$OUT/scope.trace" | oneline)"
if [ -z "$t_gone" ]; then
	fail scope-stop "child $child still there 180 s after the blow-up started"
elif [ -z "$budget" ] || ! echo "$stop" | grep -q 'stopped (signal 10)'; then
	fail scope-stop "no stop by signal 10 logged: $(since | grep redis | tail -n 3 | oneline)"
elif [ $((t_gone - t_pass)) -gt 5000 ]; then
	fail scope-stop "the child went $((t_gone - t_pass)) ms after passing its budget (> 5 s)"
else
	pass scope-stop
fi
h1=$(high_events)
st=$(persist rdb_last_bgsave_status)
info scope-main "main $RPID -> $(redis_pid); memory.events high $h0 -> $h1; rdb_last_bgsave_status $st"
check scope-main "the main changed, was throttled or the save counted as failed" \
	test "$(redis_pid)" = "$RPID" -a "$h1" = "$h0" -a "$st" = ok
scope_unloaded() { [ "$(systemctl show -p LoadState --value "$scope")" = not-found ]; }
check scope-gone "$scope still loaded: $(systemctl show -p LoadState,ActiveState "$scope" | oneline)" \
	wait_for 10 scope_unloaded

# the pressure is gone: the next save succeeds
rcli CONFIG SET rdb-key-save-delay 0 > /dev/null
rcli BGSAVE > /dev/null
if wait_for 60 saved && [ "$(persist rdb_last_bgsave_status)" = ok ]; then pass scope-retry; else
	fail scope-retry "BGSAVE after the blow-up: $(persist rdb_last_bgsave_status)"; fi
# a worker pool after all: a lone first child goes into a scope, the second
# fork cancels the episode and the daemon moves the first back into the unit's group
printf '[service pool]\nmatch_unit = oc-pool.service\nmatch_user = root\nchild_stop_signal = 0\n' > "$POL/81-pool.ini"
mark
systemctl reload overcommitd.service
wait_for 30 logged 'reload: policy loaded' >/dev/null
systemd-run --unit=oc-pool.service --quiet python3 -c '
import os, time
def kid():
    time.sleep(120)
    os._exit(0)
if os.fork() == 0:
    kid()
time.sleep(6)
if os.fork() == 0:
    kid()
time.sleep(120)'
wait_for 10 sh -c '[ "$(systemctl show -p MainPID --value oc-pool.service)" != 0 ]'
ppid=$(prop oc-pool.service MainPID)
first() { read -r w1 _ < "/proc/$ppid/task/$ppid/children"; [ -n "$w1" ]; }
w1=
wait_for 10 first
pscope=/system.slice/overcommitd-fork-oc-pool-$w1.scope
in_cg() { [ "$(sed -n 's/^0:://p' "/proc/$w1/cgroup")" = "$1" ]; }
wait_for 8 in_cg "$pscope" && t_scoped=yes || t_scoped=no
if wait_for 15 in_cg /system.slice/oc-pool.service && wait_for 10 sh -c \
	"[ \"\$(systemctl show -p LoadState --value overcommitd-fork-oc-pool-$w1.scope)\" = not-found ]"; then
	info scope-return "pool $ppid, first worker $w1: in its scope first: $t_scoped; $(since | grep -m 1 "pid $w1 back in" || true)"
	if [ "$t_scoped" = yes ] && logged "pid $w1 back in /system.slice/oc-pool.service"; then pass scope-return; else
		fail scope-return "worker $w1 was never seen in $pscope, or its return was not logged"; fi
else
	fail scope-return "worker $w1 in $(sed -n 's/^0:://p' "/proc/$w1/cgroup"), not back in oc-pool.service: $(since | grep -i 'scope\|pool\|back' | tail -n 3 | oneline)"
fi
systemctl stop oc-pool.service
rm -f "$POL/81-pool.ini"
# back to heuristic mode for what follows (removal restores the boot values)
printf '[host]\nenforce = yes\novercommit = heuristic\n' > "$POL/80-scope.ini"
mark
systemctl reload overcommitd.service
wait_for 30 logged 'reload: policy loaded' >/dev/null
wait_for 30 vm_is overcommit_memory 0 >/dev/null
# and the policy as the section found it: a later section's [host] file
# (50-*.ini) must not be overridden by this one's (80 sorts after it)
rm -f "$POL/80-scope.ini"
mark
systemctl reload overcommitd.service
wait_for 30 logged 'reload: policy loaded' >/dev/null
info scope "section took $(($(now_s) - s0)) s"
