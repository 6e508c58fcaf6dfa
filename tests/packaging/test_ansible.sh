#!/bin/sh
# test_ansible.sh - the Ansible role (packaging/ansible/roles/overcommitd)
# run for real: ansible-playbook over a local connection, the binary from
# $BUILD, the policy directory and the kernel roots in a temp dir (a copy of
# the seed-strict fixture).  --check recommends and writes nothing; a real
# run applies; the next run changes nothing; a bad policy variable is refused
# by the template's `validate` and the old policy stays.  Nothing outside
# the temp dir is written: not /etc/overcommitd, not /proc/sys, no cgroup.
. tests/packaging/lib.sh
BIN=$PWD/$BUILD/overcommitd
T=$(mktemp -d)
trap '[ -n "$KEEP" ] || rm -rf "$T"' EXIT

need ansible-playbook ansible-core || { finish; exit 1; }
need python3 python3 || { finish; exit 1; }
[ -x "$BIN" ] || { not_ok "$BIN exists" "run make first"; finish; exit 1; }

# Ansible's own files (and the role's scratch directory) stay in $T too
mkdir -p "$T/ansible/tmp" "$T/tmp" "$T/cb"
printf '[defaults]\nretry_files_enabled = False\n' >"$T/ansible.cfg"
# every task's result as JSON (ansible-core has no json stdout callback;
# that one lives in the ansible.posix collection)
cat >"$T/cb/results_json.py" <<'PY'
import json, os
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "results_json"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks = []

    def _add(self, result, status):
        r = dict(result._result)
        r["_status"] = status
        self.tasks.append({"name": result._task.name, "result": r})

    def v2_runner_on_ok(self, result):
        self._add(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._add(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["OC_RESULTS"], "w") as f:
            json.dump({"stats": stats.summarize("localhost"), "tasks": self.tasks}, f, default=str)
PY
export ANSIBLE_CONFIG="$T/ansible.cfg" ANSIBLE_HOME="$T/ansible" \
	ANSIBLE_LOCAL_TEMP="$T/ansible/tmp" ANSIBLE_REMOTE_TEMP="$T/ansible/tmp" \
	ANSIBLE_ROLES_PATH="$PWD/packaging/ansible/roles" ANSIBLE_CALLBACK_PLUGINS="$T/cb" \
	ANSIBLE_CALLBACKS_ENABLED=results_json ANSIBLE_NOCOLOR=1 \
	ANSIBLE_DEPRECATION_WARNINGS=0 TMPDIR="$T/tmp"

# the host: seed-strict with the service's group made (as tests/cli/test_cli.sh)
H="$T/host"
sh tests/fixtures/seed-host.sh "$H"
G="$H/cgroup/overcommitd/redis"
cp -a "$H" "$T/pristine"

# the policy directory as the package leaves it
PD="$T/etc/overcommitd/policies.d"
mkdir -p "$PD"
cp policies/00-default.ini "$PD/"
chmod 0644 "$PD/00-default.ini"
POL="$PD/50-ansible.ini"

cat >"$T/play.yml" <<'EOF'
- name: Test the overcommitd role
  hosts: all
  gather_facts: false
  roles:
    - overcommitd
EOF
vars() { # extra services keys (JSON object members) for redis
	cat <<EOF
{
  "ansible_python_interpreter": "/usr/bin/python3",
  "overcommitd_install_package": false,
  "overcommitd_manage_service": false,
  "overcommitd_binary": "$BIN",
  "overcommitd_policy_dir": "$PD",
  "overcommitd_policy_owner": "$(id -un)",
  "overcommitd_policy_group": "$(id -gn)",
  "overcommitd_roots": {"procfs": "$H/proc", "sysfs": "$H/sys",
                        "cgroupfs": "$H/cgroup", "state_dir": "$T/state"},
  "overcommitd_host": {"overcommit": "auto", "fork_headroom": "110%", "enforce": true},
  "overcommitd_services": [{"name": "redis", "match_comm": "redis-server",
    "oom_score_adj": -500, "child_oom_score_adj": 800, "memory_high": "off",
    "cow_margin": "25%", "cgroup": "overcommitd/redis"$1}]
}
EOF
}
play() { # name (output $T/NAME.json), extra ansible-playbook options...
	name=$1
	shift
	start=$(date +%s)
	OC_RESULTS="$T/$name.json" ansible-playbook -i localhost, -c local -e "@$T/vars.json" \
		"$@" "$T/play.yml" >"$T/$name.out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || { tail -n 15 "$T/$name.out" | comment; }
	echo "# $name: ansible-playbook exit $rc in $(($(date +%s) - start))s"
	return $rc
}
# a field of a run's results: stats, or the (last) result of a task by name
q() { # run name, python expression over `stats` and task(NAME)
	python3 - "$T/$1.json" "$2" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
stats = d["stats"]
def task(name):
    r = [t["result"] for t in d["tasks"] if t["name"] == name]
    return r[-1] if r else {}
print(eval(sys.argv[2]))
PY
}

if ansible-playbook --syntax-check -i localhost, packaging/ansible/site.yml >"$T/syntax.out" 2>&1; then
	ok "site.yml: ansible-playbook --syntax-check"
else
	not_ok "site.yml: ansible-playbook --syntax-check"
	comment <"$T/syntax.out"
fi

# ---- 1. --check: recommend, changed, nothing written ------------------------
vars "" >"$T/vars.json"
play check --check
rc=$?
check "--check: exit 0" [ "$rc" -eq 0 ]
check "--check: recommend ran, exit 2 (changes recommended)" [ "$(q check 'task("Overcommitd recommend (check mode)").get("rc")')" = 2 ]
check "--check: recommend reported as changed" [ "$(q check 'task("Overcommitd recommend (check mode)").get("changed")')" = True ]
check "--check: recommend saw the policy to be written (fork_fails risk for redis)" \
	[ "$(q check '[r["service"] for r in json.loads(task("Overcommitd recommend (check mode)")["stdout"])["risks"]]')" = "['redis']" ]
check "--check: apply skipped" [ "$(q check 'task("Overcommitd apply").get("_status")')" = skipped ]
check "--check: host tree untouched" diff -r "$T/pristine" "$H"
check "--check: no policy written" [ ! -e "$POL" ]
check "--check: no state journal" [ ! -e "$T/state" ]
check "--check: scratch policy directory removed" [ -z "$(ls -A "$T/tmp")" ]
want_kb=$(q check '[a["desired"] for a in json.loads(task("Overcommitd recommend (check mode)")["stdout"])["actions"] if a["target"] == "vm.overcommit_kbytes"][0]')

# ---- 2. real run: policy in place, applied ----------------------------------
play apply1
rc=$?
check "run 1: exit 0" [ "$rc" -eq 0 ]
check "run 1: policy file written, mode 0644" [ "$(stat -c %a "$POL" 2>/dev/null)" = 644 ]
check "run 1: policy holds [host] with enforce = yes" grep -qx 'enforce = yes' "$POL"
check "run 1: policy holds [service redis]" grep -qx 'oom_score_adj = -500' "$POL"
check "run 1: the written policy validates" "$BIN" -q validate "$PD"
check "run 1: apply changed" [ "$(q apply1 'task("Overcommitd apply").get("changed")')" = True ]
check "run 1: every action done" [ "$(q apply1 'sorted(set(a["result"] for a in json.loads(task("Overcommitd apply")["stdout"])["actions"]))')" = "['done']" ]
check "run 1: vm.overcommit_kbytes as --check recommended ($want_kb)" [ "$(cat "$H/proc/sys/vm/overcommit_kbytes")" = "$want_kb" ]
check "run 1: oom_score_adj of redis-server" [ "$(cat "$H/proc/100/oom_score_adj")" = -500 ]
# (memory_high = off: cgroups are written through libcgroup, which refuses
# a fixture tree; the VM tiers test the cgroup writer)
check "run 1: the cgroup tree untouched" [ "$(cat "$G/memory.high")" = max ]
check "run 1: journal in the state dir" [ -s "$T/state/journal.json" ]
check "run 1: reload handler notified (service unmanaged here: skipped)" \
	[ "$(q apply1 'task("Reload overcommitd").get("_status")')" = skipped ]

cp -a "$H" "$T/after1"
cp -p "$POL" "$T/pol.after1"

# ---- 3. again: nothing to do ----------------------------------------------
play apply2
rc=$?
check "run 2: exit 0" [ "$rc" -eq 0 ]
check "run 2: nothing changed (stats changed = 0)" [ "$(q apply2 'stats["changed"]')" = 0 ]
check "run 2: apply ran and wrote nothing" [ "$(q apply2 '(task("Overcommitd apply").get("rc"), task("Overcommitd apply").get("changed"))')" = "(0, False)" ]
check "run 2: host tree unchanged" diff -r "$T/after1" "$H"
play check2 --check
rc=$?
check "--check after apply: exit 0, recommend exit 0, nothing changed" \
	[ "$rc.$(q check2 'task("Overcommitd recommend (check mode)").get("rc")').$(q check2 'stats["changed"]')" = "0.0.0" ]

# ---- 4. a bad policy variable: validate refuses it, the old file stays -------
vars ', "bogus_key": 1' >"$T/vars.json"
play bad
rc=$?
check "bad key: the run fails" [ "$rc" -ne 0 ]
check "bad key: the policy task failed validation" \
	[ "$(q bad 'task("Policy file").get("msg")')" = "failed to validate" ]
if q bad 'task("Policy file").get("stderr", "")' | grep -q "unknown key 'bogus_key' in \[service redis\]"; then
	ok "bad key: overcommitd validate named the problem"
else
	not_ok "bad key: overcommitd validate named the problem"
	q bad 'task("Policy file")' | comment
fi
check "bad key: the old policy file stays" cmp -s "$T/pol.after1" "$POL"
check "bad key: no apply ran" [ "$(q bad 'task("Overcommitd apply")')" = "{}" ]
check "bad key: host tree unchanged" diff -r "$T/after1" "$H"

# a value with a newline would smuggle a key past validate: refused before
vars ', "cow_margin": "25%\nenforce = no"' | sed 's/"cow_margin": "25%", //' >"$T/vars.json"
play inject
rc=$?
check "newline in a value: refused by the role's checks" \
	[ "$rc.$(q inject 'task("Check the role'"'"'s variables").get("_status")')" = "2.failed" ]
check "newline in a value: the old policy file stays" cmp -s "$T/pol.after1" "$POL"

# ---- 5. --check on a host without the package ---------------------------------
vars "" | sed "s|\"overcommitd_binary\": \"[^\"]*\"|\"overcommitd_binary\": \"$T/none/overcommitd\"|" >"$T/vars.json"
play nobin --check
rc=$?
check "--check, not installed yet: exit 0, reported as a change" \
	[ "$rc.$(q nobin 'task("Note a check run before the install").get("changed")')" = "0.True" ]
check "--check, not installed yet: nothing recommended" \
	[ "$(q nobin 'task("Overcommitd recommend (check mode)").get("_status")')" = skipped ]
play nobin_real
rc=$?
check "real run without the binary: fails with a clear message" \
	[ "$rc.$(q nobin_real '"not found" in task("Refuse a real run without the binary").get("msg", "")')" = "2.True" ]

# ---- 6. the install branch, simulated (apt under --check: dpkg --simulate) ----
deb=""
for f in "$BUILD"/pkg/overcommitd_*.deb; do [ -f "$f" ] && deb=$(realpath "$f") && break; done
if [ -n "$deb" ] && command -v apt-get >/dev/null && ! dpkg -s overcommitd >/dev/null 2>&1; then
	vars "" | sed 's|"overcommitd_install_package": false|"overcommitd_install_package": true|' |
		sed "s|^{|{ \"overcommitd_package_file\": \"$deb\",|" >"$T/vars.json"
	play install --check
	rc=$?
	check "--check with overcommitd_package_file: apt would install $(basename "$deb")" \
		[ "$rc.$(q install 'task("Install overcommitd (apt)").get("changed")')" = "0.True" ]
	check "--check with overcommitd_package_file: nothing installed" sh -c '! dpkg -s overcommitd >/dev/null 2>&1'
else
	ok "# SKIP install branch: no $BUILD/pkg/overcommitd_*.deb (make deb), no apt, or overcommitd installed"
fi

# ---- 6b. metrics: a directory the daemon accepts ------------------------------
# node_exporter's textfile directory belongs to its own user (prometheus on
# Debian; uid 1000 here): the daemon refuses to write there.  The role makes
# a root directory of its own, a unit drop-in that writes into it, and a
# link in the textfile directory; the daemon accepts that directory.
TF="$T/textfile"
mkdir -p "$TF" && chown 1000:1000 "$TF" && chmod 0755 "$TF"
MF="$T/metrics/overcommitd.prom"
vars "" | python3 -c 'import json, sys; v = json.load(sys.stdin); v.update(overcommitd_metrics_file=sys.argv[1], overcommitd_metrics_link=sys.argv[2], overcommitd_unit_dropin_dir=sys.argv[3]); print(json.dumps(v))' \
	"$MF" "$TF/overcommitd.prom" "$T/dropin" >"$T/vars.json"
play metrics
check "metrics: exit 0" [ $? -eq 0 ]
check "metrics: its directory is root's, mode 0755" [ "$(stat -c '%u %a' "$T/metrics")" = "0 755" ]
check "metrics: the unit drop-in runs the daemon with --metrics-file" \
	grep -qx "ExecStart=$BIN run --metrics-file $MF" "$T/dropin/50-metrics.conf"
check "metrics: the drop-in lets the unit write that directory" grep -qx "ReadWritePaths=$T/metrics" "$T/dropin/50-metrics.conf"
check "metrics: a link in node_exporter's directory leads to the file" [ "$(readlink "$TF/overcommitd.prom")" = "$MF" ]
if [ "$(id -u)" -eq 0 ]; then
	for where in "$MF" "$TF/direct.prom"; do
		"$BIN" run --policy-dir "$PD" --procfs "$H/proc" --sysfs "$H/sys" --cgroupfs "$H/cgroup" \
			--state-dir "$T/mstate" --metrics-file "$where" >"$T/mdaemon.log" 2>&1 &
		mp=$!
		i=0
		while [ "$i" -lt 50 ] && [ ! -s "$where" ] && ! grep -q 'refused' "$T/mdaemon.log"; do
			sleep 0.1
			i=$((i + 1))
		done
		kill "$mp" 2>/dev/null
		wait "$mp"
		cp "$T/mdaemon.log" "$T/mdaemon.$(basename "$where").log"
	done
	check "metrics: the daemon writes the file in the role's directory" grep -q '^overcommitd_' "$MF"
	check "metrics: node_exporter reads it through the link" grep -q '^overcommitd_' "$TF/overcommitd.prom"
	check "metrics: the textfile directory of uid 1000 itself is refused, with the reason" \
		grep -q "metrics file $TF/direct.prom refused: .*owned by uid 1000" "$T/mdaemon.direct.prom.log"
	check "metrics: nothing written there" [ ! -e "$TF/direct.prom" ]
else
	ok "# SKIP the daemon's proc connector needs root"
fi

# ---- 7. the fleet example: snapshot, fetch, what-if on the control node --------
# (the role itself runs for real in the systemd guest: tests/vm/systemd)
mkdir -p "$T/fleetpol" && chmod 0755 "$T/fleetpol"
printf '[host]\novercommit = strict\ncommit_ratio = 50\n' >"$T/fleetpol/00-host.ini"
cp policies/examples/redis.ini "$T/fleetpol/60-redis.ini"
chmod 0644 "$T/fleetpol"/*.ini
cat >"$T/fleet.json" <<EOF
{"ansible_python_interpreter": "/usr/bin/python3", "ansible_become": false,
 "overcommitd_binary": "$BIN", "overcommitd_whatif_binary": "$BIN",
 "overcommitd_remote_snapshot": "$T/remote-snapshot.json",
 "overcommitd_snapshot_dir": "$T/snapshots", "overcommitd_whatif_policy_dir": "$T/fleetpol",
 "overcommitd_snapshot_options": ["--procfs", "$H/proc", "--sysfs", "$H/sys",
                                  "--cgroupfs", "$H/cgroup", "--state-dir", "$T/state"]}
EOF
OC_RESULTS="$T/fleet-res.json" ansible-playbook -i localhost, -c local -e "@$T/fleet.json" \
	packaging/ansible/fleet-whatif.yml >"$T/fleet.out" 2>&1
rc=$?
check "fleet-whatif.yml: exit 0" [ "$rc" -eq 0 ]
check "fleet-whatif.yml: the snapshot fetched, redacted, the remote copy removed" \
	[ "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["host"]["redacted"], len(d["processes"]))' "$T/snapshots/localhost.json").$(test -e "$T/remote-snapshot.json" && echo left || echo gone)" = "True 5.gone" ]
check "fleet-whatif.yml: what-if names the failing BGSAVE fork on the control node" \
	grep -q 'fork of redis-server (pid 100) needs 600 MiB' "$T/fleet.out"
check "fleet-whatif.yml: the fleet summary" grep -q 'fleet: 1 host planned' "$T/fleet.out"
check "fleet-whatif.yml: reported as unchanged (nothing was changed)" \
	[ "$(q fleet-res 'stats["changed"]')" = 0 ]

finish
