#!/bin/sh
# test_deb.sh - build the Debian package (packaging/build-deb.sh, i.e.
# `dpkg-buildpackage -us -uc -b` in a copy under $BUILD/pkg) and check what
# it ships: payload, conffiles, the recommend-only default, dependencies,
# lintian, and what its maintainer scripts do on remove and purge (run
# against stubs, so this machine's kernel settings are never touched).
. tests/packaging/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need dpkg-buildpackage dpkg-dev || { finish; exit 1; }
need dh debhelper || { finish; exit 1; }
need lintian lintian || { finish; exit 1; }

touch "$tmp/stamp"
if deb=$(sh packaging/build-deb.sh 2>"$tmp/build.err") && [ -f "$deb" ]; then
	ok "dpkg-buildpackage -us -uc -b builds $(basename "$deb")"
else
	not_ok "dpkg-buildpackage -us -uc -b builds the package"
	comment <"$tmp/build.err"
	finish
	exit 1
fi

# nothing written into the repository outside $BUILD
stray=$(find . .. -maxdepth 1 -newer "$tmp/stamp" \( -name 'overcommitd_*' -o -name 'overcommitd-dbgsym_*' -o -name debian \) 2>/dev/null)
if [ -z "$stray" ]; then
	ok "the build leaves nothing outside $BUILD/"
else
	not_ok "the build leaves nothing outside $BUILD/" "$stray"
fi

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/files"
for f in /usr/sbin/overcommitd /lib/systemd/system/overcommitd.service \
	/usr/share/man/man8/overcommitd.8.gz /usr/share/man/man5/overcommitd.policy.5.gz \
	/etc/overcommitd/policies.d/00-default.ini /usr/share/doc/overcommitd/examples/redis.ini \
	/var/lib/overcommitd/; do
	if grep -qx "$f" "$tmp/files"; then ok "ships $f"; else not_ok "ships $f"; fi
done

dpkg-deb --ctrl-tarfile "$deb" | tar -xf - -C "$tmp" 2>/dev/null
mkdir -p "$tmp/ctl" && mv "$tmp"/conffiles "$tmp"/control "$tmp"/prerm "$tmp"/postrm "$tmp"/postinst "$tmp/ctl/" 2>/dev/null
if grep -qx /etc/overcommitd/policies.d/00-default.ini "$tmp/ctl/conffiles" 2>/dev/null; then
	ok "conffiles lists the default policy"
else
	not_ok "conffiles lists the default policy" "conffiles: $(cat "$tmp/ctl/conffiles" 2>/dev/null)"
fi
if dpkg-deb -I "$deb" | grep -q '^ *[0-9]* bytes, *[0-9]* lines *conffiles'; then
	ok "dpkg-deb -I shows a conffiles member"
else
	not_ok "dpkg-deb -I shows a conffiles member"
fi

deps=$(dpkg-deb -f "$deb" Depends)
if printf '%s' "$deps" | grep -q 'libc6 (>=' && printf '%s' "$deps" | grep -q libiniparser1; then
	ok "Depends from shlibs: $deps"
else
	not_ok "Depends from shlibs" "got: $deps"
fi
v=$(dpkg-deb -f "$deb" Version)
if [ "$v" = "$(make_version)" ]; then
	ok "package version $v = Makefile VERSION"
else
	not_ok "package version = Makefile VERSION" "deb $v, Makefile $(make_version)"
fi

# the payload: the unit is ours, the default policy is recommend-only and valid
dpkg-deb -x "$deb" "$tmp/root"
check "the shipped unit is packaging/systemd/overcommitd.service" \
	cmp -s packaging/systemd/overcommitd.service "$tmp/root/lib/systemd/system/overcommitd.service"
pol=$tmp/root/etc/overcommitd/policies.d/00-default.ini
if grep -Eq '^enforce[[:space:]]*=[[:space:]]*no[[:space:]]*$' "$pol"; then
	ok "the default policy is recommend-only (enforce = no)"
else
	not_ok "the default policy is recommend-only (enforce = no)"
fi
if out=$("$tmp/root/usr/sbin/overcommitd" validate "$tmp/root/etc/overcommitd/policies.d" 2>&1); then
	ok "the packaged binary validates the packaged policy"
else
	not_ok "the packaged binary validates the packaged policy" "$out"
fi

# lintian (on the .changes: the .deb, dbgsym and buildinfo): no errors;
# whatever it does report is listed as comments
lintian --tag-display-limit 0 -I "${deb%/*}/deb/overcommitd_${v}_$(dpkg-architecture -qDEB_HOST_ARCH).changes" \
	>"$tmp/lintian" 2>&1
lrc=$?
grep -E '^[EWIP]: ' "$tmp/lintian" | comment
if [ "$lrc" -eq 0 ] && ! grep -q '^E: ' "$tmp/lintian"; then
	ok "lintian: no errors"
else
	not_ok "lintian: no errors" "exit $lrc"
	comment <"$tmp/lintian"
fi

# --- maintainer scripts, run against stubs (never this machine's kernel)
mkdir -p "$tmp/stub"
cat >"$tmp/stub/overcommitd" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/calls"
[ -n "\${STUB_FAIL:-}" ] && { echo "overcommitd: restore vm.overcommit_memory: Permission denied" >&2; exit 1; }
echo "nothing to restore: the journal in /var/lib/overcommitd is empty"
EOF
# systemd helpers too: on a host running systemd the scripts call them
for h in deb-systemd-helper deb-systemd-invoke systemctl; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$h" "$tmp/calls" >"$tmp/stub/$h"
	chmod 0755 "$tmp/stub/$h"
done
chmod 0755 "$tmp/stub/overcommitd"
export PATH="$tmp/stub:$PATH"
sed "s|/usr/sbin/overcommitd|$tmp/stub/overcommitd|g" "$tmp/ctl/prerm" >"$tmp/prerm"
check "prerm is valid sh" sh -n "$tmp/ctl/prerm"
check "postrm is valid sh" sh -n "$tmp/ctl/postrm"

stop=$(grep -n "deb-systemd-invoke stop 'overcommitd.service'" "$tmp/ctl/prerm" | head -n 1 | cut -d: -f1)
rest=$(grep -n "overcommitd restore" "$tmp/ctl/prerm" | grep -v '^[0-9]*:#' | head -n 1 | cut -d: -f1)
if [ -n "$stop" ] && [ -n "$rest" ] && [ "$stop" -lt "$rest" ]; then
	ok "prerm stops the service before it restores"
else
	not_ok "prerm stops the service before it restores" "stop at line '$stop', restore at '$rest'"
fi

: >"$tmp/calls"
out=$(sh "$tmp/prerm" remove 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && grep -qx restore "$tmp/calls" && printf '%s' "$out" | grep -q 'nothing to restore'; then
	ok "prerm remove: runs overcommitd restore"
else
	not_ok "prerm remove: runs overcommitd restore" "exit $rc, calls: $(cat "$tmp/calls")" "$out"
fi

: >"$tmp/calls"
out=$(STUB_FAIL=1 sh "$tmp/prerm" remove 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q 'Permission denied' &&
	printf '%s' "$out" | grep -q 'restore failed (exit 1)'; then
	ok "prerm remove: a failed restore is printed on stderr, removal goes on"
else
	not_ok "prerm remove: a failed restore is printed on stderr, removal goes on" "exit $rc" "$out"
fi

: >"$tmp/calls"
sh "$tmp/prerm" upgrade 0.1.1 >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 0 ] && ! grep -q restore "$tmp/calls"; then
	ok "prerm upgrade: keeps the tuning (no restore)"
else
	not_ok "prerm upgrade: keeps the tuning (no restore)" "exit $rc, calls: $(cat "$tmp/calls")"
fi

: >"$tmp/calls"
DPKG_ROOT=$tmp/elsewhere sh "$tmp/prerm" remove >/dev/null 2>&1
if ! grep -q restore "$tmp/calls"; then
	ok "prerm remove under DPKG_ROOT: does not touch the running kernel"
else
	not_ok "prerm remove under DPKG_ROOT: does not touch the running kernel" "calls: $(cat "$tmp/calls")"
fi

mkdir -p "$tmp/droot/var/lib/overcommitd"
echo '{}' >"$tmp/droot/var/lib/overcommitd/journal.json"
DPKG_ROOT=$tmp/droot sh "$tmp/ctl/postrm" remove >/dev/null 2>&1
if [ -e "$tmp/droot/var/lib/overcommitd/journal.json" ]; then
	ok "postrm remove: keeps the state"
else
	not_ok "postrm remove: keeps the state"
fi
DPKG_ROOT=$tmp/droot sh "$tmp/ctl/postrm" purge >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -e "$tmp/droot/var/lib/overcommitd" ]; then
	ok "postrm purge: removes /var/lib/overcommitd"
else
	not_ok "postrm purge: removes /var/lib/overcommitd" "exit $rc"
fi

# postinst enables and starts the unit (the default policy only observes)
if grep -q "deb-systemd-helper enable 'overcommitd.service'" "$tmp/ctl/postinst" &&
	grep -q "deb-systemd-invoke \$_dh_action 'overcommitd.service'" "$tmp/ctl/postinst"; then
	ok "postinst enables and starts overcommitd.service"
else
	not_ok "postinst enables and starts overcommitd.service"
fi

finish
