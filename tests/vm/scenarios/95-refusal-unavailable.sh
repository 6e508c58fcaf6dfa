# refusal-unavailable (issue 14, proof 5): where the capture cannot run
# the daemon says so once, runs on (a matched process still gets its
# oom_score_adj), and `status` says the capture is unavailable and why.
# Two environments: a kernel without BTF (as --sysfs at an empty tree shows
# it), and a kernel whose verifier refuses the program (lockdown raised to
# confidentiality).
# vm-timeout: 90
need_oc
mkdir -p /tmp/nosys /tmp/bin
cp /oc/bin/probe /tmp/bin/ocd-probe
policy 00-host.ini <<'POL'
[host]
enforce = yes
interval = 1
POL
policy 50-probe.ini <<'POL'
[service probe]
match_comm = ocd-probe
oom_score_adj = -321
POL
OCD_ARGS="--sysfs /tmp/nosys"
ocd_start
n=$(grep -c 'commit refusal capture unavailable: the kernel has no BTF' "$OCD_LOG")
[ "$n" = 1 ] || fail "expected one 'unavailable' line, got $n: $(grep -i refusal "$OCD_LOG" | tr '\n' ';')"
mkdir -p /tmp/probe
/tmp/bin/ocd-probe -t 10000 -a -321 /tmp/probe
read -r pid adj _ < "$(ls /tmp/probe/* | head -n 1)"
[ "$adj" = -321 ] || fail "the daemon did not run on: probe saw oom_score_adj $adj"
nap 1.5
oc --sysfs /tmp/nosys status
grep -q '^commit refusals: capture unavailable: the kernel has no BTF' "$OUT" ||
	fail "status does not say the capture is unavailable: $(grep -i refusal "$OUT")"
st=$(grep '^commit refusals' "$OUT")
oc --sysfs /tmp/nosys status --format json
[ "$(j commit_refusals/capture)" = unavailable ] || fail "status json capture: $(j commit_refusals)"
kill -0 "$OCD_PID" || fail "the daemon died"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "the daemon exited $OCD_RC"
[ "$(grep -c 'commit refusal capture unavailable' "$OCD_LOG")" = 1 ] || fail "said more than once"
info "$(grep 'commit refusal capture unavailable' "$OCD_LOG" | sed 's/^[0-9.]* //'); status: $st"

# A kernel that refuses the program itself: lockdown in confidentiality
# mode forbids BPF's reads of kernel memory (bpf_probe_read_kernel), so the
# verifier rejects it.  Lockdown cannot be lowered until reboot: only when
# this scenario is the last of its boot (OC_VM_BOOT=each, vm-check's way).
last=$(sed -n 's/.*oc\.run=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' '\n' | tail -n 1)
case $last in
*refusal-unavailable.sh)
	mkdir -p /sys/kernel/security
	grep -q ' /sys/kernel/security ' /proc/mounts || mount -t securityfs securityfs /sys/kernel/security ||
		fail "cannot mount securityfs"
	echo confidentiality > /sys/kernel/security/lockdown || fail "cannot raise lockdown"
	grep -q '\[confidentiality\]' /sys/kernel/security/lockdown ||
		fail "lockdown: $(cat /sys/kernel/security/lockdown)"
	rm -f /tmp/probe/* "$RF_FILE"
	: > "$OCD_LOG"
	OCD_ARGS=
	ocd_start
	n=$(grep -c 'commit refusal capture unavailable: kernel lockdown (confidentiality) forbids BPF' "$OCD_LOG")
	[ "$n" = 1 ] || fail "under lockdown: expected one 'unavailable' line, got $n: $(grep -i refusal "$OCD_LOG" | tr '\n' ';')"
	/tmp/bin/ocd-probe -t 10000 -a -321 /tmp/probe
	read -r pid adj _ < "$(ls /tmp/probe/* | head -n 1)"
	[ "$adj" = -321 ] || fail "under lockdown the daemon did not run on: probe saw oom_score_adj $adj"
	nap 1.5
	oc status --format json
	[ "$(j commit_refusals/capture)" = unavailable ] || fail "status json under lockdown: $(j commit_refusals)"
	ocd_stop
	[ "$OCD_RC" = 0 ] || fail "the daemon exited $OCD_RC under lockdown"
	info "lockdown: $(grep 'commit refusal capture unavailable' "$OCD_LOG" | sed 's/^[0-9.]* //'); probe got $adj"
	;;
*) info "lockdown part skipped: not the last scenario of this boot" ;;
esac
pass
