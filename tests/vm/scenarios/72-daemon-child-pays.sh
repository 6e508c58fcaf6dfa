# daemon-child-pays: a copy-on-write blow-up in a real Redis, three runs;
# the disposable BGSAVE child pays, the main never (DESIGN "Cgroups: the
# child pays, never the parent").  overcommitd run (enforce = yes, the
# shipped Redis policy: child_stop_signal 10) places Redis in
# /overcommitd/redis; Redis holds KEYS values of 4000 B (one a page).  One
# quiet BGSAVE teaches the daemon "no growth"; then, per run, redisload
# sends RATE requests a second, each rewriting BATCH values (each write
# copies a page while a save runs) and a slow BGSAVE (rdb-key-save-delay) starts.  Per run:
#   - the child is in its own leaf /overcommitd/redis.fork;
#   - the daemon ends it (signal 10) within 5 s of its growth passing the
#     budget it logs (growth sampled here every 200 ms: main group + leaf anon);
#   - the main is never killed, no request got an error (-MISCONF), and the
#     p99 of its requests during the episode (the child exists) is <= 2x the
#     p99 outside one (the requests that waited for Redis's own fork(), sent
#     before the child exists, are in neither window: reported apart);
#   - once the writes stop, the next BGSAVE succeeds (status ok).
# vm-timeout: 420

KEYS=${OC_CP_KEYS:-10000}     # x 4000 B: ~40 MiB
RATE=${OC_CP_RATE:-25}        # requests a second (paced: a loaded TCG guest keeps up)
BATCH=${OC_CP_BATCH:-16}      # writes (pages) a request: ~1.5 MiB/s of copies
RUNS=${OC_CP_RUNS:-3}
DELAY=${OC_CP_DELAY:-4000}    # us per key in the save child: a >= 40 s save

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
ocd_start

bg redis_run exec
RPID=$BG_PID
redis_ready "$RPID"
n=0
until [ "$(cg_of "$RPID")" = "$want_cg" ]; do
	n=$((n + 1))
	[ "$n" -lt 50 ] || fail "redis-server ($RPID) not in $want_cg 5 s after start: $(cg_of "$RPID")"
	nap 0.1
done
[ "$(rc DEBUG POPULATE "$KEYS" key 4000)" = OK ] || fail "DEBUG POPULATE $KEYS key 4000 failed"
cgdir=/sys/fs/cgroup$want_cg
leafdir=/sys/fs/cgroup$leaf_cg
# anon_var DIR: ANON = anon KiB of the group (builtins only: no fork per sample)
anon_var() {
	ANON=0
	[ -r "$1/memory.stat" ] || return 0
	while read -r _k _v; do
		if [ "$_k" = anon ]; then ANON=$((_v / 1024)); return 0; fi
	done < "$1/memory.stat"
}
# state_var PID: ST = the process's state letter ("" when gone)
state_var() {
	ST=
	[ -r "/proc/$1/stat" ] || return 0
	read -r _l < "/proc/$1/stat" 2>/dev/null || return 0
	_l=${_l##*) }
	ST=${_l%% *}
}
# uptime_ms: UP = /proc/uptime in ms (builtins only; "08" is not octal here)
uptime_ms() {
	read -r _u _ < /proc/uptime
	_f=${_u#*.}
	_f=${_f#0}
	UP=$((${_u%.*} * 1000 + ${_f:-0} * 10))
}
episodes() { grep -c 'redis: fork episode of' "$OCD_LOG"; }

# the quiet save the daemon learns "no growth" from
[ "$(rc BGSAVE)" = "Background saving started" ] || fail "quiet BGSAVE did not start"
bgsave_wait 60 || fail "quiet BGSAVE still running after 60 s"
ocd_wait 'redis: fork episode of' 10 || fail "the daemon did not log the quiet episode"
[ "$(rc CONFIG SET rdb-key-save-delay "$DELAY")" = OK ] || fail "CONFIG SET rdb-key-save-delay"
info "Redis $RPID: $KEYS x 4000 B, group anon $(sed -n 's/^anon //p' "$cgdir/memory.stat") B, memory.high $(cat "$cgdir/memory.high"); learned: $(grep 'redis: fork episode of' "$OCD_LOG" | tail -n 1 | sed 's/.*fork episode/fork episode/')"

pctl() { # P FILE: the P-th percentile of the numbers in FILE
	sort -n "$2" | awk -v p="$1" '{v[NR]=$1} END{if(NR==0){print 0; exit} i=int(NR*p/100+0.999); if(i<1)i=1; print v[i]}'
}
ok_runs=0
summary=
for run in $(seq "$RUNS"); do
	stopped0=$(grep -c 'redis: fork child .* stopped' "$OCD_LOG")
	ep0=$(episodes)
	bg redisload -s "$REDIS_SOCK" -k "$KEYS" -r "$RATE" -b "$BATCH" -o "/tmp/rl.$run"
	LP=$BG_PID
	nap 6
	uptime_ms; t_start=$UP
	anon_var "$cgdir"; a0=$ANON
	anon_var "$leafdir"; l0=$ANON
	[ "$(rc BGSAVE)" = "Background saving started" ] || fail "run $run: BGSAVE did not start"
	child=
	n=0
	until [ -n "$child" ]; do
		read -r child _ < "/proc/$RPID/task/$RPID/children" 2>/dev/null
		n=$((n + 1))
		[ "$n" -lt 3000 ] || fail "run $run: no BGSAVE child within 30 s"
		[ -n "$child" ] || nap 0.01
	done
	uptime_ms; t_child=$UP
	: > "/tmp/cp.trace.$run"
	placed=
	t_gone=
	n=0
	while [ "$n" -lt 300 ]; do # 60 s at 200 ms (light: the main shares 2 vCPUs with it)
		state_var "$child"
		uptime_ms
		if [ -z "$ST" ] || [ "$ST" = Z ] || [ "$ST" = X ]; then t_gone=$UP; break; fi
		if [ -z "$placed" ] && [ -r "/proc/$child/cgroup" ]; then
			read -r _cg < "/proc/$child/cgroup"
			[ "${_cg#0::}" = "$leaf_cg" ] && placed=$UP
		fi
		anon_var "$cgdir"; am=$ANON
		anon_var "$leafdir"; al=$ANON
		echo "$UP $((am - a0 + al - l0))" >> "/tmp/cp.trace.$run"
		n=$((n + 1))
		nap 0.2
	done
	[ -n "$t_gone" ] || fail "run $run: the BGSAVE child $child still ran 60 s after the start (nobody ended it)"
	nap 4
	kill -TERM "$LP"
	wait "$LP"
	lrc=$?
	state_var "$RPID"
	[ -n "$ST" ] && [ "$ST" != Z ] || fail "run $run: the MAIN redis-server $RPID is gone"
	[ "$lrc" = 0 ] || fail "run $run: redisload exited $lrc (connection lost)"
	ocd_wait "redis: fork child $child stopped" 5 ||
		fail "run $run: the daemon did not stop child $child; its log: $(grep 'redis:' "$OCD_LOG" | tail -n 3 | tr '\n' ';')"
	sline=$(grep "redis: fork child $child stopped" "$OCD_LOG" | tail -n 1)
	sig=$(echo "$sline" | sed -n 's/.*stopped (signal \([0-9]*\)).*/\1/p')
	budget=$(echo "$sline" | sed -n 's/.*budget \([0-9]*\) KiB.*/\1/p')
	grown=$(echo "$sline" | sed -n 's/.*COW growth \([0-9]*\) KiB.*/\1/p')
	[ -n "$budget" ] || fail "run $run: cannot read the budget from: $sline"
	t_pass=$(awk -v b="$budget" '$2 > b {print $1; exit}' "/tmp/cp.trace.$run")
	[ -n "$t_pass" ] || t_pass=$t_gone # passed between two of our samples
	kill_ms=$((t_gone - t_pass))
	# requests sent during the episode (the child exists) vs outside one
	# (0.3 s after it ignored); those sent between BGSAVE and the child's
	# first sight waited for Redis's own fork() (its page tables copied, the
	# main blocked): in neither window, reported with latest_fork_usec
	awk -v a="$t_child" -v b="$t_gone" '$1 >= a && $1 <= b {print $2}' "/tmp/rl.$run" > /tmp/rl.in
	awk -v a="$t_start" -v b="$t_gone" '$1 < a || $1 > b + 300 {print $2}' "/tmp/rl.$run" > /tmp/rl.out
	forkmax=$(awk -v a="$t_start" -v b="$t_child" '$1 >= a && $1 < b && $2 > m {m = $2} END {print m + 0}' "/tmp/rl.$run")
	forkus=$(rc INFO stats | tr -d '\r' | sed -n 's/^latest_fork_usec://p')
	errs=$(awk '$3 != 1' "/tmp/rl.$run" | wc -l)
	p_in=$(pctl 99 /tmp/rl.in) p_out=$(pctl 99 /tmp/rl.out)
	m_in=$(pctl 50 /tmp/rl.in) m_out=$(pctl 50 /tmp/rl.out)
	n_in=$(wc -l < /tmp/rl.in) n_out=$(wc -l < /tmp/rl.out)
	status=$(persist rdb_last_bgsave_status)
	# the pressure is gone: the next save must succeed
	rc CONFIG SET rdb-key-save-delay 100 > /dev/null
	[ "$(rc BGSAVE)" = "Background saving started" ] || fail "run $run: the retry BGSAVE did not start"
	bgsave_wait 60 || fail "run $run: the retry BGSAVE still running after 60 s"
	retry=$(persist rdb_last_bgsave_status)
	rc CONFIG SET rdb-key-save-delay "$DELAY" > /dev/null
	where="NOT seen there"
	[ -z "$placed" ] || where="$((placed - t_start)) ms after BGSAVE"
	line="run $run: child $child placed in $leaf_cg $where; growth passed the budget $budget KiB at +$((t_pass - t_start)) ms, child gone at +$((t_gone - t_start)) ms (signal $sig, daemon saw $grown KiB): $kill_ms ms after passing; requests p99 $p_in us during ($n_in; p50 $m_in) vs $p_out us outside ($n_out; p50 $m_out), $errs errors; Redis's fork() $forkus us (slowest request sent before the child was seen: $forkmax us); status after the stop '$status', retry BGSAVE '$retry'; episodes logged $(($(episodes) - ep0))"
	info "$line"
	summary="$summary run$run: kill +${kill_ms}ms p99 ${p_in}/${p_out}us retry $retry;"
	[ -n "$placed" ] || fail "run $run: the child never was in $leaf_cg"
	[ "$sig" = 10 ] || fail "run $run: signal '$sig', expected the policy's 10"
	[ "$kill_ms" -le 5000 ] || fail "run $run: the child went $kill_ms ms after passing its budget (> 5 s)"
	[ "$errs" = 0 ] || fail "run $run: $errs requests got an error reply"
	[ "$n_in" -ge 20 ] || fail "run $run: only $n_in requests during the episode"
	[ "$p_in" -le $((2 * p_out)) ] || fail "run $run: the main's p99 during the episode $p_in us > 2 x $p_out us outside"
	[ "$status" = ok ] || fail "run $run: rdb_last_bgsave_status '$status' after the stop (Redis counts it as failed)"
	[ "$retry" = ok ] || fail "run $run: the BGSAVE after the pressure ended: '$retry'"
	[ "$(($(grep -c 'redis: fork child .* stopped' "$OCD_LOG") - stopped0))" = 1 ] ||
		fail "run $run: the daemon stopped $(($(grep -c 'redis: fork child .* stopped' "$OCD_LOG") - stopped0)) children (the retry must not be one)"
	ok_runs=$((ok_runs + 1))
done
info "episodes the daemon learned (COW growth): $(grep 'redis: fork episode of' "$OCD_LOG" | sed -n 's/.*(COW growth \([0-9.]*\)).*/\1/p' | tr '\n' ' ')"
[ "$(cat "/proc/$RPID/oom_score_adj")" = -500 ] || fail "main oom_score_adj $(cat "/proc/$RPID/oom_score_adj")"
info "$ok_runs of $RUNS runs: main never killed, child ended within 5 s of its budget, p99 during <= 2x outside, next BGSAVE ok:$summary memory.events high of $want_cg: $(sed -n 's/^high //p' "$cgdir/memory.events")"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "SIGTERM: the daemon exited $OCD_RC"
pass
