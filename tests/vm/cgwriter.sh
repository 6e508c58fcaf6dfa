# cgwriter.sh - the body of the cgroup writer scenarios (libcgroup, DESIGN
# "Cgroups"): sourced by 96-cgroup-writer-v2.sh and 97-cgroup-writer-v1.sh
# after lib.sh.  A small Redis (not in a group of its own) is placed into
# /overcommitd/redis and limited by `apply` through libcgroup; a process
# started inside that group afterwards stands for one forked there; then
# `restore` must give back every file apply touched (compared with a
# snapshot taken before) and move that process back to where Redis came
# from before removing the group.

# cgw_memcg PID: the group of PID's memory controller (v1 line, else v2)
cgw_memcg() {
	_m=$(sed -n 's/^[0-9]*:[^:]*memory[^:]*:\(.*\)$/\1/p' "$1" | head -n 1)
	[ -n "$_m" ] || _m=$(sed -n 's/^0:://p' "$1")
	echo "$_m"
}

# cgw_state: everything apply may touch, one line each
cgw_state() {
	find "$CGROOT" -type d | sort
	find "$CGROOT" -type d | sort | while read -r d; do
		for f in cgroup.subtree_control memory.high memory.max memory.limit_in_bytes \
			memory.soft_limit_in_bytes; do
			[ -f "$d/$f" ] && echo "$d/$f: $(cat "$d/$f")"
		done
	done
	for t in /proc/"$RPID"/task/*; do echo "thread ${t##*/}: $(cgw_memcg "$t/cgroup")"; done
	echo "oom_score_adj: $(cat /proc/"$RPID"/oom_score_adj)"
	for k in $VM_KNOBS; do echo "vm.$k: $(vm "$k")"; done
}

cgw_run() {
	mode=$1
	need_oc
	if [ "$mode" = v1 ]; then
		CGROOT=/sys/fs/cgroup/memory HARD=memory.limit_in_bytes SOFT=memory.soft_limit_in_bytes
		[ -f "$CGROOT/memory.limit_in_bytes" ] || fail "no v1 memory hierarchy at $CGROOT"
		want_sub=0
	else
		CGROOT=/sys/fs/cgroup HARD=memory.max SOFT=memory.high
		grep -qw memory "$CGROOT/cgroup.controllers" || fail "no memory controller in cgroup2"
		want_sub=2 # "+memory" into / and /overcommitd, each journaled first
	fi
	policy 00-host.ini <<'POL'
[host]
enforce = yes
POL
	cp /oc/policies/examples/redis.ini "$POL/50-redis.ini"
	chmod 0644 "$POL/50-redis.ini"
	# Redis runs as root in the guest; a hard limit too (v1: limit_in_bytes)
	printf '[service redis]\nmatch_user = root\nmemory_max = 1G\n' > "$POL/55-guest.ini"
	chmod 0644 "$POL/55-guest.ini"

	REDIS_SOCK=/tmp/redis/redis.sock
	mkdir -p /tmp/redis
	# not through redis_run: bg of a function is a subshell, not Redis
	bg redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --save "" \
		--appendonly no --enable-debug-command yes --dir /tmp/redis \
		--logfile /tmp/redis/redis.log --daemonize no
	RPID=$BG_PID
	redis_ready "$RPID"
	[ "$(rc DEBUG POPULATE 20000 key 1000)" = OK ] || fail "DEBUG POPULATE failed"

	cgw_state > /tmp/cgw.before
	oc status
	grep -q "memory controller on cgroup $mode" "$OUT" || fail "status does not name cgroup $mode: $(grep cgroups: "$OUT")"
	read -r t0 _ < /proc/uptime
	oc apply
	read -r t1 _ < /proc/uptime
	[ "$OC_RC" = 0 ] || fail "apply exit $OC_RC: $(grep -i 'fail' "$OUT" | head -n 3)"
	grp=$CGROOT/overcommitd/redis
	for t in /proc/"$RPID"/task/*; do
		[ "$(cgw_memcg "$t/cgroup")" = /overcommitd/redis ] ||
			fail "thread ${t##*/} of redis in $(cgw_memcg "$t/cgroup"), not /overcommitd/redis"
	done
	hard=$(cat "$grp/$HARD") soft=$(cat "$grp/$SOFT")
	[ "$hard" = 1073741824 ] || fail "$HARD is $hard, want 1073741824"
	case $soft in max | 9223372036854771712) fail "$SOFT not set ($soft)" ;; esac
	nsub=$(grep -o '"cgroup_subtree"' "$OCSTATE/journal.json" | wc -l)
	[ "$nsub" = "$want_sub" ] || fail "$nsub cgroup_subtree journal entries, want $want_sub"
	ncreate=$(grep -o '"cgroup_create"' "$OCSTATE/journal.json" | wc -l)
	[ "$ncreate" = 2 ] || fail "$ncreate cgroup_create journal entries, want 2"

	# a process forked inside the group overcommitd made
	bg sh -c 'echo $$ > "$1/cgroup.procs" && exec sleep 600' cgw "$grp"
	LPID=$BG_PID
	n=0
	until [ "$(cgw_memcg /proc/"$LPID"/cgroup)" = /overcommitd/redis ]; do
		n=$((n + 1))
		[ "$n" -lt 50 ] || fail "the stand-in child never reached the group"
		nap 0.1
	done

	# a group someone else made inside ours keeps both of ours: restore
	# fails for them and keeps their entries (libcgroup 2.0.2 said 0 for the
	# parent and its entry was lost), and the next restore removes them
	mkdir "$grp/foreign" || fail "mkdir $grp/foreign"
	oc restore
	[ "$OC_RC" != 0 ] || fail "restore with a foreign child group exit 0"
	[ -d "$grp" ] && [ -d "$CGROOT/overcommitd" ] || fail "restore removed a non-empty group"
	nleft=$(grep -o '"cgroup_create"' "$OCSTATE/journal.json" | wc -l)
	[ "$nleft" = 2 ] || fail "$nleft cgroup_create entries kept after the busy restore, want 2"
	rmdir "$grp/foreign"
	oc apply
	[ "$OC_RC" = 0 ] || fail "apply after the busy restore exit $OC_RC"
	echo "$LPID" > "$grp/cgroup.procs" 2>/dev/null || echo "$LPID" > "$grp/tasks"

	read -r t2 _ < /proc/uptime
	oc restore
	read -r t3 _ < /proc/uptime
	[ "$OC_RC" = 0 ] || fail "restore exit $OC_RC: $(head -c 300 "$OUT")"
	cgw_state > /tmp/cgw.after
	diff /tmp/cgw.before /tmp/cgw.after > /tmp/cgw.diff ||
		fail "restore left differences: $(tr '\n' ';' < /tmp/cgw.diff | head -c 400)"
	kill -0 "$LPID" || fail "the stand-in child died"
	[ "$(cgw_memcg /proc/"$LPID"/cgroup)" = / ] ||
		fail "the stand-in child is in $(cgw_memcg /proc/"$LPID"/cgroup), not back in /"
	[ ! -d "$CGROOT/overcommitd" ] || fail "$CGROOT/overcommitd left behind"
	grep -q 'moved back to /' "$OUT" || fail "restore does not say it moved the child back"
	info "cgroup $mode: apply $(awk "BEGIN{print $t1 - $t0}") s ($HARD=$hard $SOFT=$soft, $(ls /proc/"$RPID"/task | wc -l) threads moved, $nsub subtree_control entries journaled), restore $(awk "BEGIN{print $t3 - $t2}") s: $(wc -l < /tmp/cgw.before) lines of state back, 1 leftover moved back to /"
	pass
}
