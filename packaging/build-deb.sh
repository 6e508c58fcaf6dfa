#!/bin/sh
# Build the Debian package with `dpkg-buildpackage -us -uc -b` in a copy of
# the source tree under $BUILD/pkg/deb, with packaging/debian as debian/:
# dpkg-buildpackage wants debian/ at the top and writes its results into
# the parent directory, so building in place would litter the repository.
# The .deb ends up in $BUILD/pkg/.  The test suite is not run here
# (DEB_BUILD_OPTIONS=nocheck; tests/check-all.sh runs it); set
# DEB_BUILD_OPTIONS yourself to have dh_auto_test run `make check`.
# usage: BUILD=build sh packaging/build-deb.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$PWD/$BUILD/pkg
name=overcommitd
version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
work=$OUT/deb
src=$work/$name-$version

rm -rf "$work"
mkdir -p "$src"
# the tree without build outputs or VCS data; untracked sources included,
# so what is being worked on is what gets packaged
tar -cf - --exclude-vcs --exclude=./build --exclude=./build-san \
	--exclude=./build-fuzz --exclude="./$BUILD" --exclude='*.o' . |
	tar -xf - -C "$src"
rm -rf "$src/debian"
cp -R packaging/debian "$src/debian"

export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS-nocheck}"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; log in $work/build.log" >&2
	exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=${name}_${version}_$arch.deb
cp "$work/$deb" "$OUT/$deb"
echo "$OUT/$deb"
