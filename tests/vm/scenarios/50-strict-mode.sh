# strict-mode: with overcommit = strict and enough RAM, apply keeps strict
# accounting (mode 2) and raises overcommit_kbytes just enough for the fork
# plus the policy's fork_headroom (110%), instead of giving strict
# accounting up; the fork succeeds; CommitLimit stays at or below
# MemTotal + SwapTotal.
# vm-timeout: 150

need_oc
vm_set overcommit_ratio 50
vm_set overcommit_memory 2
start_forker 600 ocstrict || fail "600 MiB forker: $FK_ERR"
fork_now ocstrict
[ "$FORK_RES" = "fork ENOMEM" ] || fail "before apply: expected fork ENOMEM, got '$FORK_RES'"
need=$(ac_kb "$FK_PID")
policy 50-strict.ini <<'POL'
[host]
overcommit = strict
fork_headroom = 110%
enforce = yes

[service strict]
match_comm = ocstrict
POL
oc validate "$POL"
[ "$OC_RC" = 0 ] || fail "validate rejected the test policy (exit $OC_RC): $(head -c 300 "$ERR")"
oc --format json recommend
[ "$OC_RC" = 2 ] || fail "recommend exit $OC_RC, expected 2"
oc --format json apply
json_ok apply
[ "$OC_RC" = 0 ] || fail "apply exit $OC_RC: $(head -c 300 "$ERR")"

mode=$(vm overcommit_memory)
kb=$(vm overcommit_kbytes)
lim=$(mi CommitLimit)
com=$(mi Committed_AS)
memtotal=$(mi MemTotal)
swap=$(mi SwapTotal)
ures=$(vm user_reserve_kbytes)
ares=$(vm admin_reserve_kbytes)
log "after apply: $(vm_line); $(mi_line); fork need $need kB"
[ "$mode" = 2 ] || fail "apply left strict accounting: vm.overcommit_memory=$mode"
[ "$kb" != 0 ] || fail "apply did not size vm.overcommit_kbytes (it is 0; overcommit_ratio=$(vm overcommit_ratio))"
[ "$lim" -le $((memtotal + swap)) ] || fail "CommitLimit $lim kB above MemTotal+SwapTotal $((memtotal + swap)) kB"
head=$((lim - com))
[ "$head" -gt "$need" ] || fail "CommitLimit $lim leaves $head kB over Committed_AS $com, the fork needs $need kB"
# "just enough": at most the policy's 110% of the fork plus the kernel's
# reserves, the room apply leaves for the service's growth (10% of the fork
# and its headroom: issue 10, compliance without flapping) and 64 MiB of
# slack (the per-CPU band, rounding)
max=$((need * 110 / 100 + need * 21 / 100 + ures + ares + 65536))
[ "$head" -le "$max" ] ||
	fail "CommitLimit $lim kB leaves $head kB over Committed_AS $com kB: more than 110% of the fork ($need kB) + 21% growth room + reserves + 64 MiB = $max kB"
fork_now ocstrict
[ "$FORK_RES" = "fork ok" ] || fail "after apply: expected fork ok, got '$FORK_RES' ($(mi_line))"
info "strict kept: overcommit_kbytes=$kb, CommitLimit $((lim / 1024)) MiB = Committed_AS $((com / 1024)) MiB + $((head / 1024)) MiB (fork needs $((need / 1024)) MiB, bound $((max / 1024)) MiB); MemTotal $((memtotal / 1024)) MiB"
pass
