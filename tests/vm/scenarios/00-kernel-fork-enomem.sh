# kernel-fork-enomem: the kernel facts the tier rests on, without overcommitd
# (DESIGN §2): under vm.overcommit_memory=2 a process holding 600 MiB cannot
# fork while most RAM is free; modes 1 and 0 let the same fork through;
# CommitLimit follows overcommit_ratio / overcommit_kbytes, and writing one of
# them zeroes the other; the guest has cgroup2 with the memory controller.
# vm-timeout: 120

grep -qw memory /sys/fs/cgroup/cgroup.controllers ||
	fail "cgroup2 memory controller missing: $(cat /sys/fs/cgroup/cgroup.controllers)"
[ "$(mi SwapTotal)" = 0 ] || fail "guest has swap: SwapTotal=$(mi SwapTotal)"
log "boot: $(vm_line); $(mi_line)"

memtotal=$(mi MemTotal)
vm_set overcommit_ratio 50
vm_set overcommit_memory 2
want=$(( (memtotal / 4) * 50 / 100 * 4 ))
got=$(mi CommitLimit)
[ "$got" = "$want" ] || fail "CommitLimit $got kB under ratio 50, expected $want kB"

# overcommit_kbytes and overcommit_ratio zero each other
vm_set overcommit_kbytes 1200000
[ "$(vm overcommit_ratio)" = 0 ] || fail "writing overcommit_kbytes left overcommit_ratio=$(vm overcommit_ratio)"
[ "$(mi CommitLimit)" = 1200000 ] || fail "CommitLimit $(mi CommitLimit) kB with overcommit_kbytes=1200000"
vm_set overcommit_ratio 50
[ "$(vm overcommit_kbytes)" = 0 ] || fail "writing overcommit_ratio left overcommit_kbytes=$(vm overcommit_kbytes)"

start_forker 600 ocsmoke || fail "600 MiB allocation failed under ratio 50: $FK_ERR"
need=$(sed -n 's/^VmData:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$FK_PID/status)
log "forker $FK_PID holds 600 MiB (VmData $need kB); $(mi_line)"
fork_now ocsmoke
[ "$FORK_RES" = "fork ENOMEM" ] || fail "mode 2 ratio 50: expected fork ENOMEM, got '$FORK_RES' ($(mi_line))"
free=$(mi MemFree)
[ "$free" -gt $((memtotal / 2)) ] || fail "expected most RAM free at the ENOMEM, MemFree=$free kB"
info "mode 2 ratio 50: 600 MiB process: fork ENOMEM with MemFree=$((free / 1024)) MiB, CommitLimit=$(($(mi CommitLimit) / 1024)) MiB, Committed_AS=$(($(mi Committed_AS) / 1024)) MiB"

vm_set overcommit_memory 1
fork_now ocsmoke
[ "$FORK_RES" = "fork ok" ] || fail "mode 1: expected fork ok, got '$FORK_RES'"
vm_set overcommit_memory 0
fork_now ocsmoke
[ "$FORK_RES" = "fork ok" ] || fail "mode 0: expected fork ok, got '$FORK_RES'"
stop_forker

# one-shot mode: exit 2 on fork ENOMEM, 0 on success
vm_set overcommit_memory 2
out=$(forker -m 600 -n ocsmoke1 once); rc=$?
[ "$rc" = 2 ] && [ "$out" = "fork ENOMEM" ] || fail "forker once under mode 2: exit $rc, '$out'"
vm_set overcommit_memory 0
out=$(forker -m 600 -n ocsmoke1 once); rc=$?
[ "$rc" = 0 ] && [ "$out" = "fork ok" ] || fail "forker once under mode 0: exit $rc, '$out'"
pass
