# fork-slack: the per-CPU band (issue 10 item 2, rule (f)).  The kernel
# tests percpu_counter_read_positive(&vm_committed_as), which lags the exact
# Committed_AS by up to online CPUs x batch (mm_compute_batch: RAM/CPUs/256
# pages under mode 2): 16 MiB in this 4 GiB, 2-CPU guest (qemu gives a TCG
# guest RAM it never touches).  Forks placed outside the band must agree
# with overcommitd's verdict; inside it the verdict must be "uncertain",
# never a wrong "fits" or "fails".  Also: JSON fork_slack_kb = the band.
# vm-mem: 4096
# vm-timeout: 240

need_oc
memtotal=$(mi MemTotal)
ncpu=$(grep -c '^processor' /proc/cpuinfo)
batch=$((memtotal / 4 / ncpu / 256))
[ "$batch" -ge $((2 * ncpu)) ] || batch=$((2 * ncpu))
[ "$batch" -ge 32 ] || batch=32
slack=$((ncpu * batch * 4))
[ "$slack" -gt 12288 ] || fail "the band is $slack kB: the guest is too small for this scenario (MemTotal $memtotal kB)"
ures=$(vm user_reserve_kbytes)
: > "$J_TABLE"
policy 26-slack.ini <<'POL'
[host]
overcommit = auto
enforce = no

[service ocslack]
match_comm = ocslack
POL
start_forker 300 ocslack || fail "forker: $FK_ERR"
need=$(fork_kb "$FK_PID")
vs=$(status_kb "$FK_PID" VmSize)
res=$((vs / 32))
[ "$res" -le "$ures" ] || res=$ures
vm_set overcommit_kbytes "$memtotal"
vm_set overcommit_memory 2
inside=0 outside=0 soft=0
for off in -49152 -28672 -8192 -2048 2048 8192 28672 49152; do
	mi_var Committed_AS
	vm_set overcommit_kbytes $((MI + need + res + off))
	if [ "$off" -gt 0 ]; then want=fits; else want=fails; fi
	judge "offset $off kB (band +-$slack kB)" ocslack "$want"
	a=$off
	[ "$a" -ge 0 ] || a=$((-a))
	sk=$(j services/name=ocslack/fork_slack_kb)
	[ "$sk" = "$slack" ] || fail "fork_slack_kb $sk, the kernel's band is $slack kB"
	if [ "$a" -lt "$slack" ]; then
		inside=$((inside + 1))
		# inside the band: "uncertain" (a verdict that agrees is fine too)
	else
		outside=$((outside + 1))
		[ "$J_VERDICT" != uncertain ] || soft=$((soft + 1))
	fi
done
hard=$J_HARD
unc_in=$((J_UNC - soft))
vm_set overcommit_memory 0
stop_forker
log "verdicts (band +-$slack kB):"
sed 's/^/    /' "$J_TABLE"
info "band $slack kB ($ncpu CPUs, batch $batch pages); $inside forks inside, $outside outside; uncertain inside $unc_in; hard disagreements $hard; uncertain outside the band $soft"
[ "$hard" = 0 ] || fail "$hard wrong fits/fails: $(grep 'DISAGREE' "$J_TABLE" | head -n 2 | tr '\n' ';')"
[ "$soft" = 0 ] || fail "$soft verdicts outside the band were 'uncertain'"
pass
