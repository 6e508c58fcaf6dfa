#!/bin/sh
# Install what building and testing overcommitd needs on Debian 12.
# Used by `make deps`, .ci/run and the README's two commands.
#   install-build-deps.sh         everything the whole test suite needs
#   install-build-deps.sh build   only what `make` needs
set -eu
# clang, libbpf-dev, bpftool: the commit-refusal capture's BPF object and its skeleton
BUILD_PKGS="build-essential pkg-config libnl-3-dev libnl-genl-3-dev libcap-dev
libiniparser-dev libjson-c-dev libsystemd-dev libseccomp-dev clang libbpf-dev bpftool
libcgroup-dev"
# cgroup-tools: cgrulesengd, the peer `make bench` compares against
TEST_PKGS="libcmocka-dev cppcheck python3
qemu-system-x86 busybox-static redis-server redis-tools cpio dpkg-dev
debhelper lintian rpm mandoc man-db systemd ansible-core debootstrap
cgroup-tools"
PKGS="$BUILD_PKGS $TEST_PKGS"
[ "${1:-}" = build ] && PKGS=$BUILD_PKGS
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	$SUDO apt-get update
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
fi

[ "${1:-}" = build ] && exit 0

# promtool (tests/packaging/test_metrics.sh) out of Debian's prometheus
# package, without installing the package: its dependencies (the web UI's
# JavaScript) take 330 MB, and it would enable a prometheus.service here.
if ! command -v promtool >/dev/null 2>&1; then
	d=$(mktemp -d)
	chmod 0755 "$d" # apt's download sandbox user must write there
	(cd "$d" && apt-get download prometheus) ||
		{ $SUDO apt-get update && (cd "$d" && apt-get download prometheus); }
	dpkg-deb -x "$d"/prometheus_*.deb "$d/root"
	$SUDO install -m 0755 "$d/root/usr/bin/promtool" /usr/local/bin/promtool
	rm -rf "$d"
fi
