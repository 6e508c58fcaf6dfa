#!/bin/sh
# Build the RPM with `rpmbuild -bb` under $BUILD/pkg/rpm (its _topdir), from
# a tarball of the source tree.  On Debian, rpm has no database of the
# -devel packages, so the BuildRequires are not checked (--nodeps: the
# Debian -dev packages from install-build-deps.sh stand in for them), there
# is no find-debuginfo (no debuginfo package), and the test suite is not
# run (--nocheck; tests/check-all.sh runs it).  The .rpm ends up in
# $BUILD/pkg/.
# usage: BUILD=build sh packaging/build-rpm.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$PWD/$BUILD/pkg
spec=packaging/rpm/overcommitd.spec
name=overcommitd
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
top=$OUT/rpm

rm -rf "$top"
mkdir -p "$top/SOURCES" "$top/stage/$name-$version"
# the tree without build outputs or VCS data; untracked sources included
tar -cf - --exclude-vcs --exclude=./build --exclude=./build-san \
	--exclude=./build-fuzz --exclude="./$BUILD" --exclude='*.o' . |
	tar -xf - -C "$top/stage/$name-$version"
tar -czf "$top/SOURCES/$name-$version.tar.gz" -C "$top/stage" "$name-$version"
rm -rf "$top/stage"

rpmbuild -bb --nodeps --nocheck \
	--define "_topdir $top" \
	--define 'debug_package %{nil}' \
	"$spec" >"$top/build.log" 2>&1 || {
	tail -n 40 "$top/build.log" >&2
	echo "build-rpm: rpmbuild failed; log in $top/build.log" >&2
	exit 1
}
rpm=$(find "$top/RPMS" -name "$name-$version-*.rpm" | head -n 1)
[ -n "$rpm" ] || {
	echo "build-rpm: no $name-$version-*.rpm under $top/RPMS" >&2
	exit 1
}
cp "$rpm" "$OUT/"
echo "$OUT/$(basename "$rpm")"
