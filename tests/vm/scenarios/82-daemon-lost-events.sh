# daemon-lost-events (issue 13, test 4: lost netlink events under
# enforce = yes): the kernel really drops proc connector events while the
# daemon enforces a forking service, and afterwards every live matched
# process has its policy values and the daemon's tables hold only live ones.
#   A  a matched main (ocsoak) forks 40 children; the daemon writes their
#      child_oom_score_adj (journal entries)
#   -  the daemon is stopped (SIGSTOP: a stalled daemon, no test path in it);
#      an unmatched process renaming itself (comm events, cheap even in TCG)
#      fills its receive queue until the kernel counts drops on its socket
#      (/proc/net/netlink, Drops)
#   B  with the queue full, a second main execs and forks 30 children living
#      40 s, and A's children and A are killed: all those events are dropped
#      (the Drops count proves it)
#   -  SIGCONT: the daemon must log the loss and rescan; B and its 30
#      children must reach -100 / 800 and B the service's group; A's entries
#      (their exits were lost) must leave the journal and the tracker
#      (overcommitd_* gauges of the metrics file), and all entries of
#      processes must be gone at exit.
# vm-timeout: 150
need_oc
cp /oc/bin/forkstorm /tmp/ocsoak
policy 50-lost.ini <<'POL'
[host]
enforce = yes
interval = 2
[service soak]
match_comm = ocsoak
oom_score_adj = -100
child_oom_score_adj = 800
memory_high = 256M
cgroup = overcommitd/lost
POL
mkdir -p /tmp/m
OCD_ARGS="--metrics-file /tmp/m/oc.prom"
ocd_start
# drops: the kernel's drop count on the daemon's proc connector socket
# (NETLINK_CONNECTOR = 11; the kernel's own end has port id 0)
drops() { awk '$2 == 11 && $3 != 0 { d += $9 } END { print d + 0 }' /proc/net/netlink; }
gauge() { sed -n "s/^overcommitd_$1 //p" /tmp/m/oc.prom; }
kids() { cat "/proc/$1/task/$1/children" 2>/dev/null; }
adj() { cat "/proc/$1/oom_score_adj" 2>/dev/null; }

bg /tmp/ocsoak -j 40 -l 60000 40
A=$BG_PID
n=200
until [ "$(grep -c '^+' "$OCSTATE/journal.pids" 2>/dev/null || echo 0)" -ge 20 ]; do
	[ "$n" -gt 0 ] || fail "the daemon wrote fewer than 20 of A's children in 20 s"
	n=$((n - 1))
	nap 0.1
done
written=$(grep -c '^+' "$OCSTATE/journal.pids")
read -r t0 _ < /proc/uptime
kill -STOP "$OCD_PID"
d0=$(drops)
r=0
while [ "$(drops)" = "$d0" ]; do
	[ "$r" -lt 10 ] || fail "100,000 comm events did not overflow the stopped daemon's receive queue"
	commstorm 10000 > /tmp/ts.out || fail "commstorm: $(cat /tmp/ts.out)"
	r=$((r + 1))
done
d1=$(drops)
AK=$(kids "$A")
nA=$(echo $AK | wc -w)
bg /tmp/ocsoak -j 30 -l 40000 30
B=$BG_PID
n=200
until [ "$(kids "$B" | wc -w)" -ge 30 ]; do
	[ "$n" -gt 0 ] || fail "B forked $(kids "$B" | wc -w) of 30 children in 20 s"
	n=$((n - 1))
	nap 0.1
done
for c in $AK; do kill -9 "$c"; done
kill -9 "$A"
wait "$A"
d2=$(drops)
kill -CONT "$OCD_PID"
read -r t1 _ < /proc/uptime
log "stopped $(awk "BEGIN{print $t1 - $t0}") s; $r x 10000 renames ($(cat /tmp/ts.out)) until the first drop; drops $d0 -> $d1 -> $d2"
# B's exec + 30 forks, the exits of A's live children and of A
[ $((d2 - d1)) -ge $((31 + nA + 1)) ] ||
	fail "only $((d2 - d1)) events dropped while B forked and A's $nA children and A died (want >= $((31 + nA + 1)))"
ocd_wait 'lost events; rescanning' 30 || fail "no 'lost events; rescanning' after $((d2 - d0)) drops"
read -r t2 _ < /proc/uptime
# every live matched process at its policy values (builtins: no fork per check)
off_policy() {
	bad=
	read -r _a < "/proc/$B/oom_score_adj" || bad="B gone"
	[ "$_a" = -100 ] || bad="B:$_a"
	read -r _g < "/proc/$B/cgroup"
	[ "$_g" = 0::/overcommitd/lost ] || bad="$bad B:$_g"
	for _c in $CH; do
		read -r _a < "/proc/$_c/oom_score_adj" || { bad="$bad $_c:gone"; continue; }
		[ "$_a" = 800 ] || bad="$bad $_c:$_a"
	done
	[ -n "$bad" ]
}
CH=$(kids "$B")
while off_policy; do
	read -r now _ < /proc/uptime
	[ "${now%.*}" -lt $((${t1%.*} + 30)) ] || fail "30 s after SIGCONT, not at the policy's values: $bad"
	nap 0.2
done
read -r t3 _ < /proc/uptime
cgs=$(for c in $CH; do sed -n 's/^0:://p' "/proc/$c/cgroup"; done | sort | uniq -c | tr '\n' ';')
log "B's children's groups: $cgs"
nc=$(kids "$B" | wc -w)
[ "$nc" = 30 ] || fail "B has $nc children, not 30, when checked"
# two passes after that: A's entries (exits lost) must be gone
nap 5
tracked=$(gauge tracked_processes) journal=$(gauge journal_entries) drift=$(gauge drift_entries)
info "$((d2 - d0)) events dropped (queue full after $r x 10000 renames; $((d2 - d1)) while B forked 30 children and A's $nA children and A were killed), daemon stopped $(awk "BEGIN{print $t1 - $t0}") s; resync logged $(awk "BEGIN{print $t2 - $t1}") s after SIGCONT, B and its 30 children at -100/800 in /overcommitd/lost $(awk "BEGIN{print $t3 - $t1}") s after; of A's 40 children $written written before; tables then: $tracked tracked, $journal journal entries, $drift drift entries"
# B and its 30 children: 2 entries each (oom_score_adj, the group it came
# from) and a few of the groups; A's (>= 20 written) would add >= 40
[ -n "$tracked" ] && [ "$tracked" -le 40 ] || fail "tracker holds $tracked processes with 31 live matched ones (A's exits lost and kept?)"
[ -n "$journal" ] && [ "$journal" -le 72 ] || fail "$journal journal entries with 31 live matched processes (62 of theirs; A's kept?)"
[ -n "$drift" ] && [ "$drift" -le 72 ] || fail "$drift drift entries with 31 live matched processes (62 of theirs; A's kept?)"
for c in $(kids "$B"); do kill -9 "$c"; done
kill -9 "$B"
nap 5
ocd_stop
[ "$OCD_RC" = 0 ] || fail "SIGTERM: the daemon exited $OCD_RC"
st=$(grep -o 'state: .*' "$OCD_LOG" | tail -n 1)
log "$st"
log "$(grep -o 'proc connector: [0-9].*' "$OCD_LOG" | tail -n 1)"
case $st in *"(0 of processes)"*) ;; *) fail "entries of processes left at exit: $st" ;; esac
pass
