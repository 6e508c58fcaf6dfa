# refusal-unavailable (issue 14, proof 5): where the capture cannot run
# (here: a kernel without BTF, as --sysfs at an empty tree shows it) the
# daemon says so once, runs on (a matched process still gets its
# oom_score_adj), and `status` says the capture is unavailable and why.
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
pass
