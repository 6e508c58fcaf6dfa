# own-oom-adj (issue 11 item 3): a prefork service whose workers write their
# own oom_score_adj right after fork (tests/helpers/selfadj, as PostgreSQL's
# backends write PG_OOM_ADJUST_VALUE), under the daemon enforcing a policy
# that disagrees (child_oom_score_adj = 700, the workers write 0):
# - the main gets the policy's -500 (the daemon still manages it);
# - the daemon logs the conflict exactly once (within 5 s), and writes no
#   worker value after that line but the hand-back: the workers it wrote
#   700 to before it knew (they had written their own 0 before its write:
#   by value alone that looks inherited) get their 0 back;
# - from 1 s after that line, every worker holds its own 0 whenever it is
#   sampled (every 0.2 s for 4 s, 4 workers at the start and 4 forked during
#   the run): no write war;
# - `recommend` reports one oom_score_adj_conflict risk and plans no
#   oom_score_adj write for a worker.
# vm-timeout: 90

policy 00-host.ini <<'POL'
[host]
enforce = yes
interval = 1
POL
policy 50-selfadj.ini <<'POL'
[service selfadj]
match_comm = oc-selfadj
oom_score_adj = -500
child_oom_score_adj = 700
POL
ocd_start
rm -f /tmp/sa.ready
# the exec event must already show the name (a prctl rename sends none)
cp /oc/bin/selfadj /tmp/oc-selfadj
bg /tmp/oc-selfadj -n oc-selfadj -c 4 -v 0 -r /tmp/sa.ready
wait_file /tmp/sa.ready 10 || fail "selfadj did not start"
read -r M < /tmp/sa.ready
n=0
until [ "$(cat /proc/"$M"/oom_score_adj)" = -500 ]; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || fail "main $M has oom_score_adj $(cat /proc/"$M"/oom_score_adj) after 2 s, want -500"
	nap 0.02
done
ocd_wait 'conflict: selfadj sets its own oom_score_adj' 5 ||
	fail "no conflict logged within 5 s of the workers' start"
nap 1
workers() { # the main's children, one pid a line
	for s in /proc/[0-9]*/stat; do
		read -r p _ _ pp _ < "$s" 2>/dev/null || continue
		[ "$pp" = "$M" ] && echo "$p"
	done
}
samples=0 bad=0 forked=0
for round in $(seq 20); do
	if [ $((round % 5)) = 0 ]; then
		kill -USR1 "$M" # churn: one more worker
		forked=$((forked + 1))
		nap 0.05
	fi
	for p in $(workers); do
		v=$(cat /proc/"$p"/oom_score_adj 2>/dev/null) || continue
		samples=$((samples + 1))
		if [ "$v" != 0 ]; then
			bad=$((bad + 1))
			log "worker $p holds $v (round $round)"
		fi
	done
	nap 0.2
done
nw=$(workers | wc -l)
[ "$nw" = 8 ] || fail "$nw workers, want 8 (4 + $forked forked)"
[ "$bad" = 0 ] || fail "$bad of $samples samples of the workers were not their own value 0"
nconf=$(grep -c 'conflict: selfadj sets its own oom_score_adj' "$OCD_LOG")
[ "$nconf" = 1 ] || fail "the daemon logged the conflict $nconf times, want once"
# after the conflict line, no oom_score_adj write to a worker (-> 700)
after=$(sed -n '/conflict: selfadj sets its own/,$p' "$OCD_LOG" | grep -c 'oom_score_adj pid .* -> 700')
[ "$after" = 0 ] || fail "$after worker writes after the conflict was logged"
before=$(grep -c 'oom_score_adj pid .* -> 700' "$OCD_LOG")
back=$(grep -c 'oom_score_adj pid .*: 700 -> 0 (handed back' "$OCD_LOG")
info "8 workers (4 forked during the run) held their own 0 in $samples samples over 4 s; 1 conflict line; $before worker write(s) before it, $back handed back, 0 after; main -500"
oc recommend --format json
json_ok recommend
[ "$(jc 'risks/kind=oom_score_adj_conflict,service=selfadj')" = 1 ] ||
	fail "recommend: no single oom_score_adj_conflict risk"
[ "$(j 'services/name=selfadj/oom_score_adj_own')" = 8 ] ||
	fail "recommend: oom_score_adj_own $(j 'services/name=selfadj/oom_score_adj_own'), want 8"
grep -q '"desired":"700"' "$OUT" && fail "recommend plans a worker write"
grep -q '"desired": "700"' "$OUT" && fail "recommend plans a worker write"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "SIGTERM: the daemon exited $OCD_RC"
grep -q "oom_score_adj values the services set themselves left alone" "$OCD_LOG" ||
	fail "no exit summary of the conflicts"
pass
