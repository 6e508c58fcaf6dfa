# tests/vm/systemd/guest-ansible.sh - sourced by guest-test.sh after the
# purge: the Ansible role (packaging/ansible/roles/overcommitd, copied to
# /oc/ansible) run for real by ansible-playbook inside the guest over a
# local connection.  Three runs on the same play:
#   ansible-first     installs the .deb from /oc/deb (a local path), writes
#                     the policy (validated), applies it, the unit is started
#                     and the handler reloads it; with the metrics variables
#                     (its drop-in, checked right after: ansible-metrics*)
#   ansible-second    the same variables again but the metrics ones (their
#                     tasks then skip: one play pays for them): nothing changed
#   ansible-check     --check with another admin_reserve: "changed", and
#                     neither the policy file nor the sysctl was written
# (The fleet example, packaging/ansible/fleet-whatif.yml, runs host-side in
# tests/packaging/test_ansible.sh: every ansible-playbook run costs minutes
# under TCG.)
A=/oc/ansible
# ansible refuses a non-UTF-8 locale (guest-test.sh runs under LC_ALL=C)
export LC_ALL=C.UTF-8
export ANSIBLE_ROLES_PATH=$A/roles ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
	ANSIBLE_PIPELINING=1 ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_LOCALHOST_WARNING=0 \
	ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0 \
	ANSIBLE_HOME=/run/oc/ansible-home ANSIBLE_LOCAL_TEMP=/run/oc/ansible-tmp \
	ANSIBLE_REMOTE_TEMP=/run/oc/ansible-tmp
APOL=$POL/50-ansible.ini
# the metrics drop-in (role variables overcommitd_metrics_file/_link): the
# file in a root directory of its own, a link where node_exporter's textfile
# collector looks (Debian's prometheus-node-exporter directory; the package
# itself is not installed: the link and a non-root reader stand for it)
MFILE=/var/lib/overcommitd-metrics/overcommitd.prom
MLINK=/var/lib/prometheus/node-exporter/overcommitd.prom
mkdir -p "$(dirname "$MLINK")"
avars() { # admin_reserve [metrics variables: one JSON line ending in a comma]
	cat <<EOF
{"ansible_python_interpreter": "/usr/bin/python3",
 "overcommitd_package_file": "$deb",
 "overcommitd_host": {"enforce": true, "admin_reserve": "$1"},
$2
 "overcommitd_services": [{"name": "redis", "match_comm": "redis-server",
   "oom_score_adj": -400, "child_oom_score_adj": 800, "memory_high": "auto",
   "memory_high_min": "256M", "cow_margin": "25%"}]}
EOF
}
# aplay NAME VARS-ADMIN-RESERVE [ansible-playbook options]: the PLAY RECAP
# "changed=N" in $OUT/NAME.changed, output in $OUT/NAME.out; the metrics
# variables too while $AMETRICS holds them
aplay() {
	n=$1 r=$2
	shift 2
	avars "$r" "${AMETRICS:-}" > "$OUT/$n.vars.json"
	t0=$(now_s)
	ansible-playbook -i localhost, -c local -e "@$OUT/$n.vars.json" "$@" "$A/play.yml" \
		> "$OUT/$n.out" 2>&1
	arc=$?
	sed -n 's/^localhost[[:space:]]*:.*changed=\([0-9]*\).*failed=\([0-9]*\).*/\1 \2/p' \
		"$OUT/$n.out" > "$OUT/$n.recap"
	read -r achanged afailed < "$OUT/$n.recap" || { achanged=?; afailed=?; }
	info "$n" "ansible-playbook $* exit $arc in $(($(now_s) - t0)) s: changed=$achanged failed=$afailed"
	[ "$arc" -eq 0 ] || info "$n" "$(grep -E 'fatal|FAILED|ERROR' "$OUT/$n.out" | head -n 3 | oneline | cut -c 1-400)"
	return "$arc"
}
sum_of() { sha256sum "$1" 2>/dev/null | cut -c 1-16; }

if ! command -v ansible-playbook > /dev/null; then
	fail ansible-first "ansible-playbook not in the guest (rootfs include list)"
	return 0 2>/dev/null || exit 0
fi
mkdir -p /run/oc/ansible-home /run/oc/ansible-tmp
# the purge above keeps files the package does not own: the reload test's
# policies would override the role's [service redis]
rm -f "$POL/60-redis.ini" "$POL/50-enforce.ini" "$POL/70-bad.ini"
mark
AMETRICS=" \"overcommitd_metrics_file\": \"$MFILE\", \"overcommitd_metrics_link\": \"$MLINK\","
if aplay ansible-first 12288K && [ "$achanged" -ge 3 ]; then
	pass ansible-first
else
	fail ansible-first "exit $arc, changed=$achanged (want the package, the policy and apply)"
fi
check ansible-installed "the package from the local .deb is not installed" \
	test "$(dpkg-query -W -f='${Status}' overcommitd 2>/dev/null)" = "install ok installed"
check ansible-service "overcommitd.service not active and enabled after the role" \
	sh -c 'systemctl is-active -q overcommitd.service && systemctl is-enabled -q overcommitd.service'
# the handler: the policy changed, so the unit was reloaded (SIGHUP)
if wait_for 30 logged 'reload: policy loaded'; then
	info ansible-reload "$(since | grep 'reload: policy loaded' | tail -n 1)"
	pass ansible-reload
else
	fail ansible-reload "no 'reload: policy loaded' after the role's handler: $(grep -A2 'RUNNING HANDLER' "$OUT/ansible-first.out" | oneline | cut -c 1-300)"
fi
check ansible-applied "vm.admin_reserve_kbytes $(cat /proc/sys/vm/admin_reserve_kbytes), redis oom_score_adj $(cat "/proc/$(redis_pid)/oom_score_adj"); want 12288, -400" \
	sh -c "[ \"\$(cat /proc/sys/vm/admin_reserve_kbytes)\" = 12288 ] && [ \"\$(cat /proc/$(redis_pid)/oom_score_adj)\" = -400 ]"

# --------------------------------------------------------- metrics drop-in
# The role's drop-in under real systemd: the restarted unit (ExecStart with
# --metrics-file, ReadWritePaths= its directory) is active, writes the file
# (root 0644 in a root 0755 directory), a non-root reader (uid 65534, as
# node_exporter runs) reads it through the link in node_exporter's
# directory, every line is in the text exposition format, and the hardened
# unit's exposure score is the one without the drop-in.
prom_ok() { # FILE: every line a comment (# HELP/# TYPE) or NAME[{LABELS}] VALUE
	awk '/^# (HELP|TYPE) overcommitd_/ { next }
	     /^overcommitd_[a-z_]+(\{[^}]*\})? [-+0-9.eEInfNa]+$/ { n++; next }
	     { bad++ } END { exit !(n > 0 && bad == 0) }' "$1"
}
fresh_metrics() { [ -s "$MFILE" ] && grep -q '^overcommitd_tracked_processes ' "$MFILE"; }
t0=$(now_s)
if wait_for 40 fresh_metrics; then
	es=$(prop overcommitd.service ExecStart | grep -o 'metrics-file [^ ;]*')
	info ansible-metrics "$(($(now_s) - t0)) s after the play; unit: $es, $(prop overcommitd.service DropInPaths); file: $(stat -c '%U:%G %a %s B' "$MFILE"), directory $(stat -c '%U:%G %a' "$(dirname "$MFILE")"); $(grep -c '^overcommitd_' "$MFILE") samples"
	check ansible-metrics "the drop-in's unit is not active or the file is not root 0644 in a root 0755 directory" \
		sh -c "systemctl is-active -q overcommitd.service && [ \"\$(stat -c '%U %a' $MFILE)\" = 'root 644' ] && [ \"\$(stat -c '%U %a' $(dirname "$MFILE"))\" = 'root 755' ]"
	setpriv --reuid=65534 --regid=65534 --clear-groups cat "$MLINK" > "$OUT/metrics.prom" 2> "$OUT/metrics.err"
	check ansible-metrics-read "uid 65534 cannot read it through $MLINK ($(cat "$OUT/metrics.err")), or a line is not in the text format: $(awk '!/^# / && !/^overcommitd_[a-z_]+(\{[^}]*\})? [-+0-9.eEInfNa]+$/' "$OUT/metrics.prom" | head -n 2 | oneline | cut -c 1-200)" \
		prom_ok "$OUT/metrics.prom"
	SEC1=$(exposure)
	info ansible-metrics-security "without the drop-in: $SEC0; with it: $SEC1"
	check ansible-metrics-security "exposure changed under the drop-in: $SEC0 -> $SEC1" \
		test "${SEC0%% *}" != "" -a "$(echo "$SEC0" | grep -o '[0-9.]* [A-Z]*')" = "$(echo "$SEC1" | grep -o '[0-9.]* [A-Z]*')"
else
	fail ansible-metrics "no $MFILE with overcommitd_tracked_processes 40 s after the play: unit $(prop overcommitd.service ActiveState), $(prop overcommitd.service ExecStart | grep -o 'metrics-file [^ ;]*'), $(since | grep -i metrics | tail -n 2 | oneline | cut -c 1-300)"
fi
AMETRICS=

if aplay ansible-second 12288K && [ "$achanged" = 0 ]; then
	pass ansible-second
else
	fail ansible-second "exit $arc, changed=$achanged (want 0): $(grep -B1 '^changed:' "$OUT/ansible-second.out" | grep TASK | oneline | cut -c 1-300)"
fi

pol0=$(sum_of "$APOL")
if aplay ansible-check 16384K --check && [ "$achanged" -ge 1 ]; then
	pass ansible-check
else
	fail ansible-check "exit $arc, changed=$achanged (want >= 1 under --check with a new admin_reserve)"
fi
check ansible-check-wrote-nothing "policy $pol0 -> $(sum_of "$APOL"), vm.admin_reserve_kbytes $(cat /proc/sys/vm/admin_reserve_kbytes)" \
	sh -c "[ \"$pol0\" = \"\$(sha256sum $APOL | cut -c 1-16)\" ] && [ \"\$(cat /proc/sys/vm/admin_reserve_kbytes)\" = 12288 ]"

