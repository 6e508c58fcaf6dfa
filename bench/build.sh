#!/bin/sh
# bench/build.sh - build the bench programs into $BUILD/bench with the
# project's flags (the Makefile's WARN plus -Wformat-truncation=2, hardening).
# Programs that use the library link $BUILD/liboc.a (make $BUILD/liboc.a first).
set -eu
BUILD=${BUILD:-build}
CC=${CC:-cc}
PKGS="libnl-3.0 libnl-genl-3.0 libcap json-c libsystemd libbpf libseccomp"
WARN="-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-truncation=2 -Wstrict-prototypes
 -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings -Wvla -Wundef
 -Wnull-dereference -Wimplicit-fallthrough"
CF="-std=c11 -D_GNU_SOURCE $WARN -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
 -Isrc -Ibench -I/usr/include/iniparser $(pkg-config --cflags $PKGS)"
LF="-pie -Wl,-z,relro,-z,now"
LIBS="$BUILD/liboc.a -liniparser $(pkg-config --libs $PKGS) -lm"
mkdir -p "$BUILD/bench"
for src in bench/*.c; do
	p=$(basename "$src" .c)
	out=$BUILD/bench/$p
	if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt bench/benchutil.h ] &&
		[ "$out" -nt "$BUILD/liboc.a" ]; then
		continue
	fi
	# shellcheck disable=SC2086
	$CC $CF $LF -o "$out" "$src" $LIBS
done
# the matched program: its comm must be "ocb-target"
cp "$BUILD/bench/target" "$BUILD/bench/ocb-target"
