# favordynmods: `cgroup_favordynmods = yes` in [host]. recommend plans one
# cgroup_mount action; apply reconfigures the cgroup2 superblock with the
# option while every other option the mount had (nsdelegate,
# memory_recursiveprot) is kept, journaled before; a running daemon never
# remounts (it says the change is left to apply); restore gives the mount
# back exactly as it was.  A real kernel (6.1) and its real cgroup2 mount.
# vm-timeout: 60
need_oc
cg_opts() { sed -n 's|^[^ ]* [^ ]* [^ ]* [^ ]* /sys/fs/cgroup .* - cgroup2 [^ ]* \(.*\)$|\1|p' /proc/self/mountinfo | tail -n 1; }
grep -qw favordynmods /sys/kernel/cgroup/features || fail "guest kernel lists no favordynmods: $(cat /sys/kernel/cgroup/features)"
# options a host's systemd mounts with; a remount that named only the new
# one would reset them (the kernel resets what a reconfigure does not name)
mount -o remount,nsdelegate,memory_recursiveprot /sys/fs/cgroup || fail "cannot set the starting options"
before=$(cg_opts)
case ",$before," in *,nsdelegate,*memory_recursiveprot,*) ;; *) fail "starting options not set: $before" ;; esac
case ",$before," in *,favordynmods,*) fail "favordynmods on before the test: $before" ;; esac
info "cgroup2 options before: $before"

policy 00-host.ini <<'POL'
[host]
overcommit = heuristic
enforce = yes
cgroup_favordynmods = yes
POL

oc --format json recommend
json_ok recommend
[ "$(j actions/kind=cgroup_mount/current)" = off ] || fail "recommend: no cgroup_mount action from off: $(head -c 400 "$OUT")"
[ "$(j actions/kind=cgroup_mount/desired)" = on ] || fail "recommend: cgroup_mount action not to on"
[ "$(jc actions/kind=cgroup_mount)" = 1 ] || fail "recommend: not one cgroup_mount action"
[ "$(cg_opts)" = "$before" ] || fail "recommend changed the mount: $(cg_opts)"

# the daemon plans it too, says so once, and leaves the mount alone
ocd_start
ocd_wait 'cgroup_favordynmods: .*left to `overcommitd apply`' 10 || { ocd_dump; fail "the daemon did not say the remount is left to apply"; }
ocd_stop
[ "$(cg_opts)" = "$before" ] || fail "the daemon changed the mount: $(cg_opts)"
[ ! -f "$OCSTATE/journal.json" ] || ! grep -q cgroup_mount "$OCSTATE/journal.json" || fail "the daemon journaled a cgroup_mount"

oc apply
[ "$OC_RC" = 0 ] || fail "apply exit $OC_RC: $(cat "$ERR" | head -n 3)"
after=$(cg_opts)
info "cgroup2 options after apply: $after"
case ",$after," in *,favordynmods,*) ;; *) fail "apply did not set favordynmods: $after" ;; esac
for o in $(echo "$before" | tr ',' ' '); do
	case ",$after," in *,"$o",*) ;; *) fail "apply dropped the option $o: $before -> $after" ;; esac
done
grep -q '"cgroup_mount"' "$OCSTATE/journal.json" || fail "no cgroup_mount entry in the journal"
grep -q '"favordynmods"' "$OCSTATE/journal.json" || fail "the journal entry does not name favordynmods"

# compliant now: a second recommend plans nothing for the mount; status says it
oc --format json recommend
[ "$(jc actions/kind=cgroup_mount)" = 0 ] || fail "recommend after apply still plans a cgroup_mount"
[ "$(j host/cgroup2_favordynmods)" = on ] || fail "recommend JSON: host.cgroup2_favordynmods is '$(j host/cgroup2_favordynmods)'"
oc status
grep -q "memory controller on cgroup v2 (unified), favordynmods on" "$OUT" || fail "status does not say favordynmods on: $(grep cgroups: "$OUT")"

# a daemon with restore_on_exit cannot remount (it keeps no
# CAP_SYS_ADMIN): it must report that entry failed and keep it, not drop it
policy 60-exit.ini <<'POL'
[host]
restore_on_exit = yes
POL
: > "$OCD_LOG"
ocd_start
ocd_stop
grep -q 'cgroup_mount favordynmods.*Operation not permitted' "$OCD_LOG" ||
	{ ocd_dump; fail "the daemon's restore_on_exit did not report the mount it cannot restore"; }
case ",$(cg_opts)," in *,favordynmods,*) ;; *) fail "the daemon's exit changed the mount: $(cg_opts)" ;; esac
grep -q '"cgroup_mount"' "$OCSTATE/journal.json" || fail "the daemon's restore_on_exit dropped the cgroup_mount entry"
rm -f "$POL/60-exit.ini"

oc restore
[ "$OC_RC" = 0 ] || fail "restore exit $OC_RC: $(cat "$ERR" | head -n 3)"
[ "$(cg_opts)" = "$before" ] || fail "restore left the mount as '$(cg_opts)', want '$before'"
! grep -q cgroup_mount "$OCSTATE/journal.json" 2>/dev/null || fail "restore left the cgroup_mount entry in the journal"
mount -o remount /sys/fs/cgroup # back to the boot's options for the next scenario
pass "favordynmods: off -> on by apply with '$before' kept ('$after'), journaled, daemon left it alone, restore back to '$(cg_opts)'"
