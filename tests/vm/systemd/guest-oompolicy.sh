# tests/vm/systemd/guest-oompolicy.sh - sourced by guest-test.sh while the
# daemon runs with the shipped redis.ini (child_oom_score_adj set): the unit's
# OOMPolicy= read over D-Bus (issue 11).  redis-server.service keeps systemd's
# default `stop`, so `recommend` reports oom_policy_stop naming the unit and
# the fix; with a runtime drop-in OOMPolicy=continue it says nothing.
#   oom-policy-stop      the risk, and unit_oom_policy "stop" as systemctl shows
#   oom-policy-continue  no risk, unit_oom_policy "continue"
oomp_recommend() {
	overcommitd recommend --format json > "$OUT/oomp.json" 2> "$OUT/oomp.err"
	OOMP_RISKS=$(grep -c '"kind":"oom_policy_stop"' "$OUT/oomp.json")
	OOMP_SEEN=$(sed -n 's/.*"unit_oom_policy":"\([a-z]*\)".*/\1/p' "$OUT/oomp.json" | head -n 1)
}
OOMP_SHOW=$(prop redis-server.service OOMPolicy)
oomp_recommend
info oom-policy-stop "systemctl: OOMPolicy=$OOMP_SHOW; recommend: unit_oom_policy $OOMP_SEEN, $OOMP_RISKS oom_policy_stop risk(s): $(grep -o 'redis runs as [^"]*' "$OUT/oomp.json" | head -n 1 | cut -c 1-300)"
check oom-policy-stop "want 1 risk and unit_oom_policy stop (systemctl: $OOMP_SHOW): $(oneline < "$OUT/oomp.err" | cut -c 1-200)" \
	test "$OOMP_SHOW" = stop -a "$OOMP_SEEN" = stop -a "$OOMP_RISKS" = 1
D=/run/systemd/system/redis-server.service.d
mkdir -p "$D"
printf '[Service]\nOOMPolicy=continue\n' > "$D/50-oc-oompolicy.conf"
systemctl daemon-reload
oomp_recommend
check oom-policy-continue "after OOMPolicy=continue: unit_oom_policy $OOMP_SEEN, $OOMP_RISKS risk(s) (systemctl: $(prop redis-server.service OOMPolicy))" \
	test "$OOMP_SEEN" = continue -a "$OOMP_RISKS" = 0
rm -f "$D/50-oc-oompolicy.conf"
rmdir "$D" 2>/dev/null
systemctl daemon-reload
