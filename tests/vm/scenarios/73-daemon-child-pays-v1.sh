# daemon-child-pays-v1: the fork child's own leaf on a cgroup v1 memory
# hierarchy (RHEL 8), one run with a real Redis.  overcommitd run (enforce
# = yes, the shipped Redis policy: child_stop_signal 10) places Redis in
# /overcommitd/redis through libcgroup; one quiet BGSAVE teaches "no
# growth"; then a slow BGSAVE (rdb-key-save-delay) and a copy-on-write
# blow-up (one EVAL rewrites every value while the child maps the old pages):
#   - the child is moved into /overcommitd/redis.fork, whose
#     memory.soft_limit_in_bytes is the budget the daemon logs and whose
#     memory.limit_in_bytes stays unlimited (v1 has no memory.high: a hard
#     limit there is an OOM kill = SIGKILL = a failed save; DESIGN "Cgroups")
#   - the daemon ends it (signal 10) within 5 s of the growth (main group +
#     leaf total_rss, sampled here every 200 ms) passing that budget
#   - the main lives, its group's memory.failcnt is unchanged (its limit
#     was never hit) and Redis counts the save as not failed
#   - the next BGSAVE succeeds.
# vm-cgroup: v1
# vm-timeout: 150

KEYS=10000    # x 4000 B: ~40 MiB
DELAY=4000    # us per key in the save child: a ~40 s save
MEMCG=/sys/fs/cgroup/memory

ship=/oc/policies/examples/redis.ini
[ -f "$ship" ] || fail "shipped Redis policy $ship missing"
policy 00-host.ini <<'POL'
[host]
enforce = yes
interval = 1
POL
cp "$ship" "$POL/50-redis.ini"
chmod 0644 "$POL/50-redis.ini"
printf '[service redis]\nmatch_user = root\n' > "$POL/55-redis-guest-user.ini"
chmod 0644 "$POL/55-redis-guest-user.ini"
want_cg=/$(sed -n 's/^cgroup[[:space:]]*=[[:space:]]*\([^[:space:];]*\).*/\1/p' "$ship" | head -n 1)
leaf_cg=$want_cg.fork
cgdir=$MEMCG$want_cg
leafdir=$MEMCG$leaf_cg
ocd_start

# v1 helpers: the memory controller's line of /proc/PID/cgroup, total_rss
memcg_of() { sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' "/proc/$1/cgroup" 2>/dev/null; }
rss_kb() { # DIR: total_rss in KiB (0 without the group)
	RSS=0
	[ -r "$1/memory.stat" ] || return 0
	while read -r _k _v; do
		if [ "$_k" = total_rss ]; then RSS=$((_v / 1024)); return 0; fi
	done < "$1/memory.stat"
}
uptime_ms() {
	read -r _u _ < /proc/uptime
	_f=${_u#*.}
	_f=${_f#0}
	UP=$((${_u%.*} * 1000 + ${_f:-0} * 10))
}
gone() { [ ! -d "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }

bg redis_run exec
RPID=$BG_PID
redis_ready "$RPID"
n=0
until [ "$(memcg_of "$RPID")" = "$want_cg" ]; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || fail "redis-server ($RPID) not in $want_cg 10 s after start: $(memcg_of "$RPID")"
	nap 0.1
done
[ "$(rc DEBUG POPULATE "$KEYS" key 4000)" = OK ] || fail "DEBUG POPULATE $KEYS key 4000 failed"
[ "$(rc BGSAVE)" = "Background saving started" ] || fail "quiet BGSAVE did not start"
bgsave_wait 60 || fail "quiet BGSAVE still running after 60 s"
ocd_wait 'redis: fork episode of' 10 || fail "the daemon did not log the quiet episode"
[ "$(rc CONFIG SET rdb-key-save-delay "$DELAY")" = OK ] || fail "CONFIG SET rdb-key-save-delay"
fail0=$(cat "$cgdir/memory.failcnt")
info "Redis $RPID in $want_cg: total_rss $(sed -n 's/^total_rss //p' "$cgdir/memory.stat") B, soft limit $(cat "$cgdir/memory.soft_limit_in_bytes"), limit $(cat "$cgdir/memory.limit_in_bytes"), failcnt $fail0"

rss_kb "$cgdir"; a0=$RSS
rss_kb "$leafdir"; l0=$RSS
uptime_ms; t0=$UP
[ "$(rc BGSAVE)" = "Background saving started" ] || fail "BGSAVE did not start"
child=
n=0
until [ -n "$child" ]; do
	read -r child _ < "/proc/$RPID/task/$RPID/children" 2>/dev/null
	n=$((n + 1))
	[ "$n" -lt 3000 ] || fail "no BGSAVE child within 30 s"
	[ -n "$child" ] || nap 0.01
done
n=0
until [ "$(memcg_of "$child")" = "$leaf_cg" ]; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || fail "child $child not in $leaf_cg 10 s after its fork: $(memcg_of "$child"); $(grep 'redis' "$OCD_LOG" | tail -n 3 | tr '\n' ';')"
	nap 0.1
done
uptime_ms; t_in=$UP
soft=$(cat "$leafdir/memory.soft_limit_in_bytes")
hard=$(cat "$leafdir/memory.limit_in_bytes")
main_hard=$(cat "$cgdir/memory.limit_in_bytes")
info "child $child in $leaf_cg $((t_in - t0)) ms after BGSAVE: soft limit $soft, limit $hard; $(grep "memory_high $leaf_cg" "$OCD_LOG" | tail -n 1)"

# the blow-up: every value rewritten while the child maps the old pages
lua='for i=1,tonumber(ARGV[1]) do redis.call("SET","key:"..i,string.rep(ARGV[2],4000)) end return 1'
rc EVAL "$lua" 0 "$KEYS" y > /dev/null &
blow=$!
: > /tmp/v1.trace
t_gone=
n=0
while [ "$n" -lt 300 ]; do
	uptime_ms
	if gone "$child"; then t_gone=$UP; break; fi
	rss_kb "$cgdir"; am=$RSS
	rss_kb "$leafdir"; al=$RSS
	echo "$UP $((am - a0 + al - l0))" >> /tmp/v1.trace
	n=$((n + 1))
	nap 0.2
done
wait "$blow"
[ -n "$t_gone" ] || fail "the BGSAVE child $child still ran 60 s after the blow-up started"
ocd_wait "redis: fork child $child stopped" 5 || fail "the daemon did not stop child $child: $(grep 'redis:' "$OCD_LOG" | tail -n 3 | tr '\n' ';')"
sline=$(grep "redis: fork child $child stopped" "$OCD_LOG" | tail -n 1)
budget=$(echo "$sline" | sed -n 's/.*budget \([0-9]*\) KiB.*/\1/p')
t_pass=$(awk -v b="$budget" '$2 > b {print $1; exit}' /tmp/v1.trace)
[ -n "$t_pass" ] || t_pass=$t_gone
status=$(persist rdb_last_bgsave_status)
fail1=$(cat "$cgdir/memory.failcnt")
kill -0 "$RPID" 2>/dev/null || fail "the MAIN redis-server $RPID is gone"
info "$sline; budget passed at +$((t_pass - t0)) ms, child gone at +$((t_gone - t0)) ms ($((t_gone - t_pass)) ms after); main failcnt $fail0 -> $fail1; status '$status'"
mib=$(((budget + 1023) / 1024))
[ "$mib" -lt 16 ] && mib=16
[ "$soft" = $((mib * 1048576)) ] || fail "leaf soft limit $soft, want the budget $budget KiB rounded up to $mib MiB"
[ "$hard" = "$main_hard" ] || [ "$hard" -ge 4611686018427387904 ] ||
	fail "leaf memory.limit_in_bytes $hard: a hard limit on the child is an OOM kill"
echo "$sline" | grep -q 'stopped (signal 10)' || fail "not stopped by signal 10: $sline"
[ $((t_gone - t_pass)) -le 5000 ] || fail "the child went $((t_gone - t_pass)) ms after passing its budget (> 5 s)"
[ "$fail1" = "$fail0" ] || fail "the main's group hit its limit ($fail0 -> $fail1)"
[ "$status" = ok ] || fail "rdb_last_bgsave_status '$status' after the stop"
rc CONFIG SET rdb-key-save-delay 0 > /dev/null
[ "$(rc BGSAVE)" = "Background saving started" ] || fail "the retry BGSAVE did not start"
bgsave_wait 60 || fail "the retry BGSAVE still running after 60 s"
[ "$(persist rdb_last_bgsave_status)" = ok ] || fail "the retry BGSAVE: $(persist rdb_last_bgsave_status)"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "SIGTERM: the daemon exited $OCD_RC"
pass
