# fork-enomem: a program holding 600 MiB under vm.overcommit_memory=2 with
# overcommit_ratio=50 cannot fork while most RAM is free.  overcommitd
# recommend (policy naming the program) predicts it before the fork is tried
# (exit 2, a fork_fails risk naming the service, a sysctl action on vm.*) and
# writes nothing; apply changes the sysctls and the same fork succeeds;
# restore puts back every original value (read back from /proc/sys/vm) and
# the fork fails again.
# vm-timeout: 150

need_oc
vm_set overcommit_ratio 50
vm_set overcommit_memory 2
orig=$(vm_line)
start_forker 600 ocfork || fail "600 MiB allocation failed: $FK_ERR"
log "forker $FK_PID holds 600 MiB; $orig; $(mi_line)"

policy 50-forker.ini <<'POL'
[host]
overcommit = auto
fork_headroom = 110%
enforce = yes

[service forker]
match_comm = ocfork
oom_score_adj = -100
POL
oc validate "$POL"
[ "$OC_RC" = 0 ] || fail "validate rejected the test policy (exit $OC_RC): $(head -c 300 "$ERR")"

# --- recommend predicts the failure, writes nothing
oc --format json recommend
json_ok recommend
[ "$OC_RC" = 2 ] || fail "recommend exit $OC_RC, expected 2 (changes recommended)"
[ "$(vm_line)" = "$orig" ] || fail "recommend changed sysctls: $(vm_line) (was $orig)"
[ "$(jc risks/kind=fork_fails,service=forker)" -ge 1 ] ||
	fail "recommend: no fork_fails risk naming service forker: $(jget -f "$OUT" risks)"
[ "$(j services/name=forker/fork_fits)" = false ] ||
	fail "recommend: services[forker].fork_fits is $(j services/name=forker/fork_fits), the fork will fail"
mp=$(j services/name=forker/main_pid)
[ "$mp" = "$FK_PID" ] || fail "recommend: services[forker].main_pid=$mp, forker is $FK_PID"
n=$(jc actions/kind=sysctl)
[ "$n" -ge 1 ] || fail "recommend: no sysctl action"
i=0
while [ "$i" -lt "$(jc actions)" ]; do
	if [ "$(j actions/$i/kind)" = sysctl ]; then
		t=$(j actions/$i/target)
		case $t in vm.*) ;; *) fail "recommend: sysctl action target '$t' is not a vm.* sysctl name" ;; esac
		log "action: $t $(j actions/$i/current) -> $(j actions/$i/desired)"
	fi
	i=$((i + 1))
done

# --- the kernel agrees: the fork fails
fork_now ocfork
[ "$FORK_RES" = "fork ENOMEM" ] || fail "before apply: expected fork ENOMEM, got '$FORK_RES' ($(mi_line))"

# --- apply
oc --format json apply
json_ok apply
[ "$OC_RC" = 0 ] || fail "apply exit $OC_RC: $(head -c 300 "$ERR")"
after=$(vm_line)
[ "$after" != "$orig" ] || fail "apply left every vm sysctl unchanged: $after"
[ "$(jc actions/kind=sysctl,result=failed)" = 0 ] || fail "apply: a sysctl action failed"
info "apply: $orig -> $after; $(mi_line)"
fork_now ocfork
[ "$FORK_RES" = "fork ok" ] || fail "after apply: expected fork ok, got '$FORK_RES' ($after; $(mi_line))"

# --- idempotent: a second apply changes nothing
oc --format json apply
[ "$OC_RC" = 0 ] || fail "second apply exit $OC_RC"
[ "$(vm_line)" = "$after" ] || fail "second apply changed sysctls again: $(vm_line) (was $after)"

# --- restore
oc restore
[ "$OC_RC" = 0 ] || fail "restore exit $OC_RC: $(head -c 300 "$ERR")"
[ "$(vm_line)" = "$orig" ] || fail "restore: sysctls are $(vm_line), originals were $orig"
fork_now ocfork
[ "$FORK_RES" = "fork ENOMEM" ] || fail "after restore: expected fork ENOMEM again, got '$FORK_RES'"
pass
