# daemon-reload: `overcommitd run` (enforce = yes) with a policy giving
# ocd-probe (a copy of the probe helper) oom_score_adj -222.  SIGHUP after
# the policy was broken (a new value -111 in the same file as an unknown key,
# and a second file with an out-of-range value): the log names every error
# as FILE:LINE and says it keeps the previous policy; a probe started
# afterwards still gets -222, not -111.  A repaired policy on the next
# SIGHUP is loaded (a new probe gets -111); SIGTERM ends it with exit 0.
# vm-timeout: 90

need_oc
mkdir -p /tmp/bin /tmp/probe
cp /oc/bin/probe /tmp/bin/ocd-probe
policy 00-host.ini <<'POL'
[host]
enforce = yes
interval = 1
POL
policy 50-probe.ini <<'POL'
[service probe]
match_comm = ocd-probe
oom_score_adj = -222
POL
ocd_start

# probe_adj WANT: start a probe (waits for WANT up to 5 s); PROBE_ADJ = what it saw
probe_adj() {
	rm -f /tmp/probe/*
	/tmp/bin/ocd-probe -t 5000 -a "$1" /tmp/probe
	PROBE_ADJ=
	for f in /tmp/probe/*; do
		[ -f "$f" ] && read -r _ PROBE_ADJ PROBE_LAT _ < "$f"
	done
}
probe_adj -222
[ "$PROBE_ADJ" = -222 ] || fail "first probe: oom_score_adj '$PROBE_ADJ', policy says -222"
log "first probe: -222 after $((PROBE_LAT / 1000)) ms"

# --- broken: a new value and an unknown key in one file, a bad value in another
policy 50-probe.ini <<'POL'
[service probe]
match_comm = ocd-probe
oom_score_adj = -111
bogus_key = 1
POL
policy 60-bad.ini <<'POL'
[host]
interval = 1
[service other]
match_comm = ocd-other
oom_score_adj = 5000
POL
kill -HUP "$OCD_PID"
ocd_wait 'still running the previous one' 10 || fail "bad reload: no 'still running the previous one' in the log"
e1=$(grep -c '50-probe.ini:4: ' "$OCD_LOG")
e2=$(grep -c '60-bad.ini:5: ' "$OCD_LOG")
[ "$e1" -ge 1 ] || fail "bad reload: the unknown key is not logged as 50-probe.ini:4"
[ "$e2" -ge 1 ] || fail "bad reload: the out-of-range value is not logged as 60-bad.ini:5"
kill -0 "$OCD_PID" 2>/dev/null || fail "the daemon exited after a bad reload"
errs=$(grep -E '(50-probe|60-bad)\.ini:[0-9]+: ' "$OCD_LOG" | sed 's/^[0-9.]* overcommitd: //' | tr '\n' ';')
probe_adj -222
[ "$PROBE_ADJ" = -222 ] || fail "after the bad reload a new probe got oom_score_adj '$PROBE_ADJ', the previous policy says -222"
info "bad SIGHUP: logged $errs 'still running the previous one'; a probe started afterwards got -222 (old policy) after $((PROBE_LAT / 1000)) ms"

# --- repaired
rm -f "$POL/60-bad.ini"
policy 50-probe.ini <<'POL'
[service probe]
match_comm = ocd-probe
oom_score_adj = -111
POL
kill -HUP "$OCD_PID"
ocd_wait 'reload: policy loaded' 10 || fail "good reload: no 'reload: policy loaded'"
probe_adj -111
[ "$PROBE_ADJ" = -111 ] || fail "after the good reload a probe got oom_score_adj '$PROBE_ADJ', expected -111"

ocd_stop
[ "$OCD_RC" = 0 ] || fail "SIGTERM: exit $OCD_RC"
grep -q 'stopping: ' "$OCD_LOG" || fail "SIGTERM: no 'stopping:' line"
info "good SIGHUP: loaded, a new probe got -111; SIGTERM: exit 0, $(grep 'stopping: ' "$OCD_LOG" | sed 's/.*stopping: //')"
ocd_dump
pass
