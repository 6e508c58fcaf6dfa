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
# Then the host goes back to heuristic mode for the rest of the run.
# Uses: POL, CG, RES, OUT and the helpers of guest-test.sh.

S_KEYS=10000          # x 4000 B: ~40 MiB
S_DELAY=4000          # us per key in the save child: a ~40 s save
s0=$(now_s)
rcli() { redis-cli --no-raw "$@" 2>&1 | tr -d '"'; }
persist() { redis-cli INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }
saved() { [ "$(persist rdb_bgsave_in_progress)" = 0 ]; }
anon_of() { sed -n 's/^anon //p' "$1/memory.stat" 2>/dev/null | awk '{print int($1 / 1024)}'; }
high_events() { sed -n 's/^high //p' "$CG/memory.events"; }
scope_ok() { v=$(sed -n 's/^0:://p' "/proc/$child/cgroup" 2>/dev/null); [ "$v" = "$scg" ]; }
child_gone() { ! [ -d "/proc/$child" ] || [ "$(cut -d' ' -f3 "/proc/$child/stat" 2>/dev/null)" = Z ]; }
strict() { vm_is overcommit_memory 2; }
ms_now() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

cp /usr/share/doc/overcommitd/examples/redis.ini "$POL/60-redis.ini"
printf '[host]\nenforce = yes\novercommit = strict\ncommit_limit = 90%%\ninterval = 1\n' > "$POL/80-scope.ini"
mark
systemctl reload overcommitd.service
wait_for 30 logged 'reload: policy loaded' || fail scope-placed "policy with overcommit = strict not loaded"
wait_for 30 strict || fail scope-placed "vm.overcommit_memory $(cat /proc/sys/vm/overcommit_memory), want 2"
RPID=$(redis_pid)
lua='for i=1,tonumber(ARGV[1]) do redis.call("SET","key:"..i,string.rep(ARGV[2],4000)) end return 1'
[ "$(rcli EVAL "$lua" 0 "$S_KEYS" x)" = "(integer) 1" ] || fail scope-placed "filling Redis failed"
# the quiet save the daemon learns "no growth" from
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
n=0
while [ "$n" -lt 300 ]; do # at most 60 s at 0.2 s
	now=$(ms_now)
	if child_gone; then t_gone=$now; break; fi
	echo "$now $(($(anon_of "$CG") - a0 + $(anon_of "/sys/fs/cgroup$scg" || echo 0)))" >> "$OUT/scope.trace"
	n=$((n + 1))
	sleep 0.2
done
wait "$blow"
stop=$(since | grep -m 1 "redis: fork child $child stopped")
budget=$(echo "$stop" | sed -n 's/.*budget \([0-9]*\) KiB.*/\1/p')
t_pass=$(awk -v b="${budget:-0}" '$2 > b {print $1; exit}' "$OUT/scope.trace")
[ -n "$t_pass" ] || t_pass=$t_gone
info scope-stop "$stop; budget passed at +$((${t_pass:-0} - t0)) ms, child gone at +$((${t_gone:-0} - t0)) ms; trace (ms KiB): $(tail -n 4 "$OUT/scope.trace" | oneline)"
if [ -z "$t_gone" ]; then
	fail scope-stop "child $child still there 60 s after the blow-up started"
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
# back to heuristic mode for what follows (removal restores the boot values)
printf '[host]\nenforce = yes\novercommit = heuristic\n' > "$POL/80-scope.ini"
mark
systemctl reload overcommitd.service
wait_for 30 logged 'reload: policy loaded' >/dev/null
wait_for 30 vm_is overcommit_memory 0 >/dev/null
info scope "section took $(($(now_s) - s0)) s"
