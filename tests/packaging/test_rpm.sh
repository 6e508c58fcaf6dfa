#!/bin/sh
# test_rpm.sh - build the RPM (packaging/build-rpm.sh: rpmbuild -bb under
# $BUILD/pkg/rpm) and check its payload (rpm -qlp), %config(noreplace)
# policies (--configfiles, file flags), and scriptlets (--scripts): the
# systemctl calls of %systemd_post/%systemd_preun/%systemd_postun_with_restart
# and `overcommitd restore` on erase.  The scriptlets also run, against
# stubs, so this machine's services and kernel settings are never touched.
. tests/packaging/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need rpmbuild rpm || { finish; exit 1; }

if rpm=$(sh packaging/build-rpm.sh 2>"$tmp/build.err") && [ -f "$rpm" ]; then
	ok "rpmbuild -bb builds $(basename "$rpm")"
else
	not_ok "rpmbuild -bb builds the package"
	comment <"$tmp/build.err"
	finish
	exit 1
fi

rpm -qlp "$rpm" >"$tmp/files" 2>/dev/null
for f in /usr/sbin/overcommitd /usr/lib/systemd/system/overcommitd.service \
	/etc/overcommitd/policies.d/00-default.ini /usr/share/doc/overcommitd/examples/redis.ini \
	/var/lib/overcommitd; do
	if grep -qx "$f" "$tmp/files"; then ok "ships $f"; else not_ok "ships $f"; fi
done
for m in /usr/share/man/man8/overcommitd.8 /usr/share/man/man5/overcommitd.policy.5; do
	if grep -Eq "^$m(\.gz|\.xz|\.bz2)?\$" "$tmp/files"; then ok "ships $m"; else not_ok "ships $m"; fi
done

if rpm -qp --configfiles "$rpm" 2>/dev/null | grep -qx /etc/overcommitd/policies.d/00-default.ini; then
	ok "--configfiles lists the default policy"
else
	not_ok "--configfiles lists the default policy"
fi
# file flags: c = %config, n = noreplace
flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" 2>/dev/null |
	awk '$2 == "/etc/overcommitd/policies.d/00-default.ini" {print $1}')
case $flags in
*c*n* | *n*c*) ok "the default policy is %config(noreplace) ($flags)" ;;
*) not_ok "the default policy is %config(noreplace)" "flags: '$flags'" ;;
esac

v=$(rpm -qp --qf '%{VERSION}' "$rpm" 2>/dev/null)
if [ "$v" = "$(make_version)" ]; then
	ok "package version $v = Makefile VERSION"
else
	not_ok "package version = Makefile VERSION" "rpm $v, Makefile $(make_version)"
fi
if rpm -qpR "$rpm" 2>/dev/null | grep -q '^libiniparser\.so\.1'; then
	ok "automatic library requirements (libiniparser.so.1)"
else
	not_ok "automatic library requirements (libiniparser.so.1)"
fi
dir=$tmp/x
mkdir -p "$dir"
(cd "$dir" && rpm2cpio "$rpm" | cpio -idm --quiet) 2>/dev/null
check "the shipped unit is packaging/systemd/overcommitd.service" \
	cmp -s packaging/systemd/overcommitd.service "$dir/usr/lib/systemd/system/overcommitd.service"

# --- scriptlets: split `rpm -qp --scripts` into one file per scriptlet
rpm -qp --scripts "$rpm" >"$tmp/scripts" 2>/dev/null
awk -v d="$tmp" '
	/^(postinstall|preuninstall|postuninstall) scriptlet/ { f = d "/" $1; next }
	/^[a-z]+ scriptlet \(using/ { f = ""; next }
	f != "" { print > f }' "$tmp/scripts"
for s in postinstall preuninstall postuninstall; do
	if [ -s "$tmp/$s" ] && sh -n "$tmp/$s"; then
		ok "%$s scriptlet present, valid sh"
	else
		not_ok "%$s scriptlet present, valid sh"
	fi
done
scr() { grep -q -- "$2" "$tmp/$1" 2>/dev/null; }
check "%post: systemctl preset (%systemd_post)" scr postinstall 'systemctl .*preset overcommitd.service'
check "%preun: systemctl disable --now (%systemd_preun)" scr preuninstall 'systemctl .*disable --now overcommitd.service'
check "%preun: overcommitd restore" scr preuninstall '/usr/sbin/overcommitd restore'
check "%postun: systemctl try-restart (%systemd_postun_with_restart)" scr postuninstall 'systemctl try-restart overcommitd.service'

# run them as rpm does (sh SCRIPT ARG) with systemctl and overcommitd stubbed
mkdir -p "$tmp/stub"
printf '#!/bin/sh\necho "systemctl $*" >>"%s"\n' "$tmp/calls" >"$tmp/stub/systemctl"
cat >"$tmp/stub/overcommitd" <<EOF
#!/bin/sh
echo "overcommitd \$*" >>"$tmp/calls"
[ -n "\${STUB_FAIL:-}" ] && { echo "overcommitd: restore vm.overcommit_memory: Permission denied" >&2; exit 1; }
echo "nothing to restore: the journal in /var/lib/overcommitd is empty"
EOF
chmod 0755 "$tmp/stub/systemctl" "$tmp/stub/overcommitd"
export PATH="$tmp/stub:$PATH"
sed "s|/usr/sbin/overcommitd|$tmp/stub/overcommitd|g" "$tmp/preuninstall" >"$tmp/preun.sh"

: >"$tmp/calls"
sh "$tmp/preun.sh" 0 >/dev/null 2>&1
rc=$?
first=$(head -n 1 "$tmp/calls")
if [ "$rc" -eq 0 ] && [ "$first" = "systemctl --no-reload disable --now overcommitd.service" ] &&
	grep -qx "overcommitd restore" "$tmp/calls"; then
	ok "%preun on erase: stops the service, then restores"
else
	not_ok "%preun on erase: stops the service, then restores" "exit $rc, calls: $(cat "$tmp/calls")"
fi

: >"$tmp/calls"
out=$(STUB_FAIL=1 sh "$tmp/preun.sh" 0 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q 'Permission denied' &&
	printf '%s' "$out" | grep -q 'restore failed (exit 1)'; then
	ok "%preun on erase: a failed restore is printed on stderr, erase goes on"
else
	not_ok "%preun on erase: a failed restore is printed on stderr, erase goes on" "exit $rc" "$out"
fi

: >"$tmp/calls"
sh "$tmp/preun.sh" 1 >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/calls" ]; then
	ok "%preun on upgrade: neither stops nor restores"
else
	not_ok "%preun on upgrade: neither stops nor restores" "exit $rc, calls: $(cat "$tmp/calls")"
fi

: >"$tmp/calls"
sh "$tmp/postuninstall" 1 >/dev/null 2>&1
if grep -qx "systemctl try-restart overcommitd.service" "$tmp/calls"; then
	ok "%postun on upgrade: restarts the service"
else
	not_ok "%postun on upgrade: restarts the service" "calls: $(cat "$tmp/calls")"
fi

: >"$tmp/calls"
sh "$tmp/postinstall" 1 >/dev/null 2>&1
if grep -qx "systemctl --no-reload preset overcommitd.service" "$tmp/calls"; then
	ok "%post on install: presets the service"
else
	not_ok "%post on install: presets the service" "calls: $(cat "$tmp/calls")"
fi

finish
