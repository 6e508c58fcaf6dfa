#!/bin/sh
# Install what building and testing overcommitd needs on Debian 12.
# Used by `make deps`, .ci/run and the README's two commands.
set -eu
PKGS="build-essential pkg-config libnl-3-dev libnl-genl-3-dev libcap-dev
libiniparser-dev libjson-c-dev libsystemd-dev libcmocka-dev clang cppcheck
qemu-system-x86 busybox-static redis-server redis-tools cpio dpkg-dev
debhelper lintian rpm mandoc man-db systemd"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
