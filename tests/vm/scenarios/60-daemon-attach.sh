# daemon-attach: `overcommitd run` (enforce = yes, interval 1 s) is running
# with the shipped Redis policy when redis-server starts (under
# vm.overcommit_memory=2, ratio 50): at its exec event Redis gets the
# policy's oom_score_adj and is moved into /overcommitd/redis, both within
# one second, measured by a watcher (the probe helper) that forks Redis and
# polls its /proc/PID/{comm,oom_score_adj,cgroup} every 5 ms from the exec;
# the next periodic pass sets memory.high of the group.  A BGSAVE child
# (stopped with SIGSTOP while it is looked at) gets child_oom_score_adj at
# its fork event, and the daemon logs the fork episode.  Then Redis is
# restarted and attached again (the group exists now): within one second too.
# Last, the group is removed by hand while the daemon runs (its kept
# cgroup.procs and cgroup.controllers fds then name a removed group): the
# next Redis start makes it anew and lands in it, within one second too.
# vm-timeout: 120

LIMIT_MS=${OC_ATTACH_MS:-1000}
ship=/oc/policies/examples/redis.ini
[ -f "$ship" ] || fail "shipped Redis policy $ship missing"
want_adj=$(sed -n 's/^oom_score_adj[[:space:]]*=[[:space:]]*\([-0-9]*\).*/\1/p' "$ship" | head -n 1)
want_child=$(sed -n 's/^child_oom_score_adj[[:space:]]*=[[:space:]]*\([-0-9]*\).*/\1/p' "$ship" | head -n 1)
want_cg=/$(sed -n 's/^cgroup[[:space:]]*=[[:space:]]*\([^[:space:];]*\).*/\1/p' "$ship" | head -n 1)
[ -n "$want_adj" ] && [ -n "$want_child" ] && [ "$want_cg" != / ] ||
	fail "shipped policy lacks oom_score_adj, child_oom_score_adj or cgroup"
cgdir=/sys/fs/cgroup$want_cg
policy 00-host.ini <<'POL'
[host]
enforce = yes
interval = 1
POL
cp "$ship" "$POL/50-redis.ini"
chmod 0644 "$POL/50-redis.ini"
# the guest has no redis user: Redis runs as root here (the shipped policy
# names match_user = redis, as on a Debian host)
printf '[service redis]\nmatch_user = root\n' > "$POL/55-redis-guest-user.ini"
chmod 0644 "$POL/55-redis-guest-user.ini"

# strict accounting, as in redis-bgsave: Redis starts under it
vm_set overcommit_ratio 50
vm_set overcommit_memory 2
ocd_start

# privilege separation (issue 13) in a real kernel: the daemon keeps
# DAC_OVERRIDE + SYS_RESOURCE only and cannot open init's memory for
# writing (it says so at start); a probe with its exact capabilities cannot
# either, the same probe with SYS_PTRACE added (the old daemon) can
grep -q 'self-test: /proc/1/mem cannot be opened for writing' "$OCD_LOG" ||
	fail "no /proc/1/mem self-test line in the daemon log"
ceff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$OCD_PID/status")
[ "$ceff" = 0000000001000002 ] || fail "daemon CapEff $ceff, want 0000000001000002"
rpid=$(tr -d ' ' < "/proc/$OCD_PID/task/$OCD_PID/children")
rinfo=$(grep -E '^(Uid|CapEff|Seccomp):' "/proc/$rpid/status" | tr -s '\t\n' '  ')
case $rinfo in
"Uid: 65534 65534 65534 65534 CapEff: 0000000000080000 Seccomp: 2 ") ;;
*) fail "reader pid $rpid: $rinfo" ;;
esac
memprobe "$OCD_PID" 1 > /tmp/memprobe.txt || fail "daemon credentials: $(cat /tmp/memprobe.txt)"
memprobe -p "$OCD_PID" 1 > /tmp/memprobe-ctl.txt
[ $? -eq 3 ] || fail "control with SYS_PTRACE did not open /proc/1/mem: $(cat /tmp/memprobe-ctl.txt)"
log "privsep: daemon CapEff $ceff; reader $rpid $rinfo; $(cat /tmp/memprobe.txt); control: $(cat /tmp/memprobe-ctl.txt)"

# start_watched: Redis under the watcher; sets RPID, EXEC_UP (uptime of the
# exec), ADJ_MS and CG_MS (exec -> observed)
start_watched() {
	read -r _u0 _ < /proc/uptime
	redis_run probe -x -t 5000 -i 5000 -a "$want_adj" -g "$want_cg" -o /tmp/attach.txt
	read -r _at < /tmp/attach.txt || fail "the watcher wrote no result"
	log "watcher: $_at"
	eval "$(echo "$_at" | tr ' ' '\n' | sed -n 's/^\([a-z_]*\)=\(-*[0-9]*\)$/w_\1=\2/p')"
	RPID=$w_pid
	OC_BG_PIDS="$OC_BG_PIDS $RPID"
	[ "$w_exec_us" -ge 0 ] || fail "redis-server ($RPID) never showed comm redis-server"
	[ "$w_adj_us" -ge 0 ] || fail "redis-server ($RPID) never got oom_score_adj $want_adj within 5 s (now $(cat /proc/"$RPID"/oom_score_adj))"
	[ "$w_cgroup_us" -ge 0 ] || fail "redis-server ($RPID) never reached $want_cg within 5 s (in $(cg_of "$RPID"))"
	EXEC_UP=$(awk "BEGIN{print $_u0 + $w_exec_us / 1000000}")
	ADJ_MS=$(((w_adj_us - w_exec_us) / 1000))
	CG_MS=$(((w_cgroup_us - w_exec_us) / 1000))
}

# redis_down: Redis (RPID) shut down and gone
redis_down() {
	rc SHUTDOWN NOSAVE > /dev/null 2>&1
	_n=0
	while kill -0 "$RPID" 2>/dev/null; do
		_n=$((_n + 1))
		[ "$_n" -lt 100 ] || fail "redis-server $RPID did not shut down"
		nap 0.1
	done
}

# --- Redis starts: attach latency
start_watched
first_adj=$ADJ_MS first_cg=$CG_MS
n=0
while [ "$(cat "$cgdir/memory.high")" = max ]; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || fail "memory.high of $want_cg still max 5 s after the attach"
	nap 0.05
done
read -r uh _ < /proc/uptime
high=$(cat "$cgdir/memory.high")
high_ms=$(awk "BEGIN{printf \"%d\", ($uh - $EXEC_UP) * 1000}")
redis_ready "$RPID"
[ "$(cat /proc/"$RPID"/oom_score_adj)" = "$want_adj" ] || fail "oom_score_adj of redis-server is $(cat /proc/"$RPID"/oom_score_adj) now"
info "first start (the daemon creates the group): exec -> oom_score_adj $want_adj $first_adj ms, -> in $want_cg $first_cg ms, -> memory.high $((high / 1048576)) MiB <= $high_ms ms (5 ms / 50 ms polling)"

# --- a BGSAVE child gets child_oom_score_adj
[ "$(rc DEBUG POPULATE 20000 key 1000)" = OK ] || fail "DEBUG POPULATE failed"
reply=$(rc BGSAVE 2>&1)
case $reply in *"Background saving started"*) ;; *) fail "BGSAVE: '$reply'; $(tail -n 3 /tmp/redis/redis.log)" ;; esac
read -r b0 _ < /proc/uptime
child=
n=0
until [ -n "$child" ]; do
	child=$(bgsave_child "$RPID")
	n=$((n + 1))
	[ "$n" -lt 300 ] || fail "no BGSAVE child of $RPID seen within 3 s"
	[ -n "$child" ] || nap 0.01
done
kill -STOP "$child" || fail "the BGSAVE child $child ended before it could be looked at"
n=0
until [ "$(cat "/proc/$child/oom_score_adj")" = "$want_child" ]; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || break
	nap 0.01
done
read -r b1 _ < /proc/uptime
cadj=$(cat "/proc/$child/oom_score_adj")
ccmd=$(tr '\0' ' ' < "/proc/$child/cmdline" | tr -s ' ')
kill -CONT "$child"
[ "$cadj" = "$want_child" ] || fail "BGSAVE child $child ($ccmd) has oom_score_adj $cadj, policy says $want_child"
bgsave_wait 60 || fail "BGSAVE still running after 60 s"
[ "$(persist rdb_last_bgsave_status)" = ok ] || fail "BGSAVE status $(persist rdb_last_bgsave_status)"
ocd_wait "redis: fork episode of" 5 || fail "the daemon logged no fork episode for the BGSAVE"
info "BGSAVE child $child ($ccmd): oom_score_adj $cadj <= $(awk "BEGIN{printf \"%d\", ($b1 - $b0) * 1000}") ms after BGSAVE returned; main keeps $(cat /proc/"$RPID"/oom_score_adj); daemon: $(grep 'redis: fork episode of' "$OCD_LOG" | tail -n 1 | sed 's/^.*overcommitd: //')"

# --- restart: the group exists now
redis_down
start_watched
redis_ready "$RPID"
info "restart (group exists): exec -> oom_score_adj $want_adj $ADJ_MS ms, -> in $want_cg $CG_MS ms"

restart_adj=$ADJ_MS restart_cg=$CG_MS

# --- the group removed by hand meanwhile: made anew, moved into
redis_down
rmdir "$cgdir" || fail "cannot remove the empty group $cgdir by hand"
start_watched
redis_ready "$RPID"
[ -d "$cgdir" ] || fail "$want_cg was not made anew"
info "group removed by hand, Redis started again: exec -> oom_score_adj $want_adj $ADJ_MS ms, -> in $want_cg (made anew) $CG_MS ms"

for v in "first start:$first_adj:$first_cg" "restart:$restart_adj:$restart_cg" "group made anew:$ADJ_MS:$CG_MS"; do
	w=${v%%:*} r=${v#*:}
	a=${r%%:*} c=${r#*:}
	[ "$a" -le "$LIMIT_MS" ] || fail "$w: oom_score_adj came $a ms after the exec (> $LIMIT_MS ms)"
	[ "$c" -le "$LIMIT_MS" ] || fail "$w: the cgroup attach came $c ms after the exec (> $LIMIT_MS ms)"
done
[ "$high_ms" -le $((LIMIT_MS + 1000)) ] || fail "memory.high came $high_ms ms after the exec (> one interval + $LIMIT_MS ms)"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "SIGTERM: the daemon exited $OCD_RC"
ocd_dump
pass
