# safety: (1) a policy asking for a commit_limit below the current
# Committed_AS is not applied as asked: the CommitLimit overcommitd sets (if
# any) stays above Committed_AS, it says so (a message naming the commit
# limit), and the guest keeps forking; (2) a memory_high below the cgroup's
# current usage is never written (DESIGN §7 invariants 1 and 2).
# vm-timeout: 200

need_oc

# --- 1: commit_limit = 128M while ~420 MB are committed
start_forker 400 ocsafe || fail "400 MiB forker: $FK_ERR"
policy 50-safe.ini <<'POL'
[host]
overcommit = strict
commit_limit = 128M
enforce = yes

[service safe]
match_comm = ocsafe
POL
oc validate "$POL"
[ "$OC_RC" = 0 ] || fail "validate rejected the test policy (exit $OC_RC): $(head -c 300 "$ERR")"
log "before: $(vm_line); $(mi_line)"
com=$(mi Committed_AS)

oc --format json recommend
cat "$OUT" "$ERR" > /tmp/msgs
if [ "$OC_RC" != 1 ]; then
	json_ok recommend
	d=$(j actions/target=vm.overcommit_kbytes/desired)
	[ -z "$d" ] || [ "$d" -gt "$com" ] ||
		fail "recommend plans vm.overcommit_kbytes=$d below Committed_AS $com kB"
fi

oc --format json apply      # fork_guard: fails here if the guest can no longer fork
cat "$OUT" "$ERR" >> /tmp/msgs
rc=$OC_RC
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "apply exit $rc"
mode=$(vm overcommit_memory)
lim=$(mi CommitLimit)
com=$(mi Committed_AS)
log "after apply (exit $rc): $(vm_line); $(mi_line)"
if [ "$mode" = 2 ]; then
	[ "$lim" -gt $((com + 16384)) ] ||
		fail "CommitLimit $lim kB set at/below Committed_AS $com kB (+16 MiB) although the policy's 128M was impossible"
	[ "$lim" -gt 131072 ] || fail "CommitLimit $lim kB: the policy's 128M was applied as asked"
fi
msg=$(grep -i -E 'commit_limit|commitlimit|committed' /tmp/msgs | grep -i -E 'below|clamp|refus|cannot|instead|raised|too low|impossible|less' | head -n 1 | sed 's/^[[:space:]]*//' | cut -c1-240)
[ -n "$msg" ] || fail "no message explains that commit_limit 128M is below Committed_AS (exit $rc); output: $(head -c 400 /tmp/msgs)"
out=$(forker -m 16 -n ocsmall once); frc=$?
[ "$out" = "fork ok" ] || fail "the guest cannot fork after apply: forker once: exit $frc '$out' ($(mi_line))"
/bin/true || fail "cannot run /bin/true after apply"
info "commit_limit 128M: apply exit $rc, mode $mode, CommitLimit $((lim / 1024)) MiB > Committed_AS $((com / 1024)) MiB; message: $msg"

oc restore
[ "$OC_RC" = 0 ] || fail "restore exit $OC_RC"
stop_forker
vm_set overcommit_memory 0

# --- 2: memory_high = 256M for a group using ~500 MiB
CG=/sys/fs/cgroup/overcommitd/hog
echo +memory > /sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable memory in the root cgroup"
mkdir -p /sys/fs/cgroup/overcommitd
echo +memory > /sys/fs/cgroup/overcommitd/cgroup.subtree_control || fail "cannot enable memory in /overcommitd"
mkdir -p "$CG"
FK_CGROUP=$CG start_forker 500 ochog || fail "500 MiB forker in $CG: $FK_ERR"
[ "$(cg_of "$FK_PID")" = /overcommitd/hog ] || fail "forker is in $(cg_of "$FK_PID"), not /overcommitd/hog"
cur=$(cat "$CG/memory.current")
[ "$cur" -gt $((400 * 1048576)) ] || fail "the group's memory.current is only $cur B"
rm -f "$POL"/*.ini
policy 50-hog.ini <<'POL'
[host]
enforce = yes

[service hog]
match_comm = ochog
memory_high = 256M
cgroup = overcommitd/hog
POL
oc validate "$POL"
[ "$OC_RC" = 0 ] || fail "validate rejected the memory_high test policy (exit $OC_RC): $(head -c 300 "$ERR")"
oc --format json apply
rc=$OC_RC
high=$(cat "$CG/memory.high")
cur=$(cat "$CG/memory.current")
log "after apply (exit $rc): $CG memory.high=$high memory.current=$cur"
if [ "$high" != max ]; then
	[ "$high" -ge "$cur" ] || fail "memory.high $high written below the group's usage $cur (policy asked 256M)"
fi
# the service still runs and is not throttled: the forker answers at once
fork_now ochog
[ "$FORK_RES" = "fork ok" ] || fail "hog forker after apply: '$FORK_RES'"
why=$(cat "$OUT" "$ERR" | grep -o -i -E '"(message|reason|detail)":"[^"]*memory[._]high[^"]*(below|usage)[^"]*"' | head -n 1 | cut -c1-240)
info "memory_high 256M with $((cur / 1048576)) MiB in use: apply exit $rc, memory.high=$high; ${why:-no message}"
pass
