# tests/vm/systemd/guest-undersized.sh - sourced by guest-services.sh with
# PostgreSQL the only service left running under strict accounting (mode 2):
# an undersized commit limit is reported as the postmaster's fork risk
# before pgbench fails (issue 11, PostgreSQL proof).
#
# The daemon only recommends here (enforce = no: it would raise the limit
# again).  CommitLimit is lowered by hand to Committed_AS + the admin
# reserve + a third of the postmaster's fork need (from `recommend`):
# processes with CAP_SYS_ADMIN (this script, systemd, journald) keep the
# admin reserve to run in, everyone else a few MiB - less than the
# postmaster's next fork.  Nothing may hang: every command runs under
# timeout, the window is seconds long, and a job forked BEFORE the limit
# drops restores it after 60 s whatever happens here (shell builtins only:
# a write to /proc/sys needs no new memory).
#   pg-undersized  before: fork verdict "fits"; lowered: `recommend` reports
#                  fork_fails for postgresql, then pgbench fails with
#                  "could not fork"; restored: PostgreSQL serves again
US=$W/undersized
vm_set() { echo "$2" > "/proc/sys/vm/$1"; }
# recommend's pretty JSON on one line, no blanks between members (tr, sed:
# no interpreter to start while the limit is low)
flat() { tr -d '\n' < "$1" | sed 's/\([,{[]\)[[:space:]]*/\1/g; s/"[[:space:]]*:[[:space:]]*/":/g'; }
pg_fork_risk() { flat "$1" | grep -o '"kind":"fork_[a-z]*","service":"postgresql"' | head -n 1 | cut -d'"' -f4; }
pg_member() { # FILE KEY: a member of the first "postgresql" service object
	flat "$1" | awk -v k="\"$2\":" '{ i = index($0, "\"name\":\"postgresql\""); if (!i) exit
		s = substr($0, i); s = substr(s, 1, index(s, "}")); m = index(s, k); if (!m) exit
		s = substr(s, m + length(k)); sub(/^"/, "", s); match(s, /^[a-z0-9]*/); print substr(s, 1, RLENGTH) }'
}
pg_verdict() { pg_member "$1" fork_verdict; }

US_ERR=
host_policy no strict || US_ERR="reload with enforce = no failed"
timeout 60 overcommitd recommend --format json > "$US.before.json" 2> "$US.err"
US_V0=$(pg_verdict "$US.before.json")
US_NEED=$(pg_member "$US.before.json" fork_need_kb)
US_KB0=$(cat /proc/sys/vm/overcommit_kbytes) US_RATIO0=$(cat /proc/sys/vm/overcommit_ratio)
us_restore() {
	if [ "$US_KB0" != 0 ]; then vm_set overcommit_kbytes "$US_KB0"; else vm_set overcommit_ratio "$US_RATIO0"; fi
}
[ -n "$US_NEED" ] && [ "$US_NEED" -gt 0 ] || US_ERR="${US_ERR:-no fork need for postgresql in recommend: $(head -c 200 "$US.err")}"
US_RISK='' US_V1='' US_PB='' US_RC=''
if [ -z "$US_ERR" ] && vm_is overcommit_memory 2; then
	# the safety net, with its sleep running before the limit drops
	(sleep 60; us_restore) &
	US_NET=$!
	wait_for 10 sh -c "[ -n \"\$(cat /proc/$US_NET/task/$US_NET/children 2>/dev/null)\" ]"
	ar=$(cat /proc/sys/vm/admin_reserve_kbytes)
	swap=$(meminfo_kb SwapTotal)
	lim=$(( $(meminfo_kb Committed_AS) + ar + US_NEED / 3 ))
	US_T0=$(uptime_f)
	vm_set overcommit_kbytes $((lim - swap))
	US_LIM=$(meminfo_kb CommitLimit)
	timeout 60 overcommitd recommend --format json > "$US.low.json" 2>> "$US.err"
	US_T1=$(uptime_f)
	US_RISK=$(pg_fork_risk "$US.low.json") US_V1=$(pg_verdict "$US.low.json")
	timeout 60 "$PGB" -h /var/run/postgresql -U postgres -n -C -c 1 -t 3 -f "$W/select1.sql" postgres \
		> "$US.pgbench" 2>&1
	US_RC=$?
	US_T2=$(uptime_f)
	us_restore
	kill "$(cat "/proc/$US_NET/task/$US_NET/children" 2>/dev/null)" "$US_NET" 2>/dev/null
	wait "$US_NET" 2>/dev/null
	US_PB=$(grep -c 'could not fork' "$US.pgbench")
	info pg-undersized "fork need $US_NEED kB; CommitLimit $US_LIM kB (admin reserve $ar kB): recommend $(awk "BEGIN{printf \"%.1f\", $US_T1 - $US_T0}") s after: verdict $US_V1, risk ${US_RISK:-none} ($(flat "$US.low.json" | grep -o '"kind":"fork_[a-z]*","service":"postgresql","message":"[^"]*' | head -n 1 | cut -d'"' -f12 | cut -c 1-220)); pgbench $(awk "BEGIN{printf \"%.1f\", $US_T2 - $US_T1}") s later: exit $US_RC, $US_PB 'could not fork' ($(grep -m 1 'could not fork' "$US.pgbench" | cut -c 1-160)); restored: $(vm_values)"
elif [ -z "$US_ERR" ]; then
	US_ERR="not under mode 2: $(vm_values)"
fi
pg_ok_after() { wait_for 30 pg_ok; }
if [ -n "$US_ERR" ]; then
	fail pg-undersized "$US_ERR"
elif [ "$US_V0" != fits ]; then
	fail pg-undersized "the fork verdict before the limit was lowered: '$US_V0' (want fits)"
elif [ "$US_RISK" != fork_fails ] || [ "$US_V1" != fails ]; then
	fail pg-undersized "lowered limit: verdict '$US_V1', risk '${US_RISK:-none}' (want fails / fork_fails)"
elif [ "$US_RC" = 0 ] || [ "${US_PB:-0}" -lt 1 ]; then
	fail pg-undersized "pgbench under the lowered limit: exit $US_RC, $US_PB 'could not fork': $(tail -n 2 "$US.pgbench" | oneline)"
elif ! pg_ok_after; then
	fail pg-undersized "PostgreSQL does not serve after the limit was restored: $(systemctl is-active "$PG_UNIT")"
else
	pass pg-undersized
fi
