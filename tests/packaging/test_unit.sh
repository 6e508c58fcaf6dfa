#!/bin/sh
# test_unit.sh - the systemd unit: `systemd-analyze verify` clean, the
# hardening it promises, nothing that would stop the agent doing its job,
# and an exposure score that does not regress.
#
# verify needs the ExecStart binary and the Documentation= man pages to
# exist.  Neither is installed on a build host, so verify runs on a copy
# whose ExecStart points at a stub executable, with MANPATH at a temporary
# tree holding our two pages (so it also proves those names resolve).  The
# unit as shipped is verified too; there the only message allowed is the
# missing /usr/sbin/overcommitd, and only while it is missing.
. tests/packaging/lib.sh
UNIT=${UNIT:-packaging/systemd/overcommitd.service}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need systemd-analyze systemd || { finish; exit 1; }

# The value of KEY= as systemd sees it: the last assignment wins.
val() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }
has() { grep -q "^$1=" "$UNIT"; }
key_is() { # key, exact value
	v=$(val "$1")
	if has "$1" && [ "$v" = "$2" ]; then ok "$1=$2"; else not_ok "$1=$2" "got: '$v'"; fi
}

# --- verify, on a copy with a stub binary and our man pages
mkdir -p "$tmp/unit" "$tmp/bin" "$tmp/man/man8" "$tmp/man/man5"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/overcommitd"
chmod 0755 "$tmp/bin/overcommitd"
cp packaging/man/overcommitd.8 "$tmp/man/man8/"
cp packaging/man/overcommitd.policy.5 "$tmp/man/man5/"
sed "s|^ExecStart=/usr/sbin/overcommitd |ExecStart=$tmp/bin/overcommitd |" "$UNIT" \
	>"$tmp/unit/overcommitd.service"
out=$(cd "$tmp/unit" && MANPATH="$tmp/man" systemd-analyze verify overcommitd.service 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
	ok "systemd-analyze verify: clean"
else
	not_ok "systemd-analyze verify: clean" "exit $rc"
	printf '%s\n' "$out" | comment
fi

out=$(MANPATH="$tmp/man" systemd-analyze verify "$UNIT" 2>&1)
rc=$?
other=$(printf '%s\n' "$out" | grep -v '^$' |
	grep -v "Command /usr/sbin/overcommitd is not executable: No such file or directory")
if [ -z "$other" ] && { [ "$rc" -eq 0 ] || [ ! -e /usr/sbin/overcommitd ]; }; then
	ok "verify of the shipped unit: nothing but the uninstalled binary"
else
	not_ok "verify of the shipped unit: nothing but the uninstalled binary" "exit $rc"
	printf '%s\n' "$out" | comment
fi

# --- what it runs and how systemd supervises it
key_is Type notify
key_is ExecStart "/usr/sbin/overcommitd run"
key_is ExecReload '/bin/kill -HUP $MAINPID'
key_is Restart on-failure
key_is WatchdogSec 30s

# --- privileges: exactly the start-up set (privs.h PRIVS_WANT_MASK), none ambient
caps=$(val CapabilityBoundingSet | tr ' ' '\n' | grep -v '^$' | sort | tr '\n' ' ')
want="CAP_BPF CAP_DAC_OVERRIDE CAP_NET_ADMIN CAP_PERFMON CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_PTRACE CAP_SYS_RESOURCE "
if [ "$caps" = "$want" ] && [ "$(grep -c '^CapabilityBoundingSet=' "$UNIT")" -eq 1 ]; then
	ok "CapabilityBoundingSet= exactly the start-up capabilities"
else
	not_ok "CapabilityBoundingSet= exactly the start-up capabilities" "got: $caps"
fi
if [ -z "$(val AmbientCapabilities)" ]; then
	ok "no ambient capabilities"
else
	not_ok "no ambient capabilities" "got: $(val AmbientCapabilities)"
fi
if has User || has DynamicUser; then
	not_ok "runs as root (writing /proc/sys/vm needs euid 0)" "$(grep -E '^(User|DynamicUser)=' "$UNIT")"
else
	ok "runs as root (writing /proc/sys/vm needs euid 0)"
fi
key_is NoNewPrivileges yes

# --- filesystem
key_is ProtectSystem strict
key_is ProtectKernelTunables yes
rw=$(val ReadWritePaths | tr ' ' '\n' | grep -v '^$' | sort | tr '\n' ' ')
if [ "$rw" = "/proc/sys/vm /sys/fs/cgroup /var/lib/overcommitd " ]; then
	ok "ReadWritePaths= only what it writes"
else
	not_ok "ReadWritePaths= only what it writes" "got: $rw"
fi
key_is StateDirectory overcommitd
key_is ProtectHome yes
key_is PrivateTmp yes

# --- the rest of the sandbox
for k in LockPersonality RestrictRealtime ProtectClock ProtectHostname \
	ProtectKernelModules RestrictNamespaces MemoryDenyWriteExecute; do
	key_is "$k" yes
done
key_is RestrictAddressFamilies "AF_UNIX AF_NETLINK"
# in this order: systemd applies them left to right, so setpriority (the
# smaps reader thread's nice 10) comes back after ~@resources took it away
sysfilter=$(sed -n 's/^SystemCallFilter=\([^~]\)/\1/p' "$UNIT" | tr '\n' ' ')
filters=$(grep '^SystemCallFilter=' "$UNIT" | tr '\n' ' ')
if [ "$filters" = "SystemCallFilter=@system-service seccomp bpf SystemCallFilter=~@resources SystemCallFilter=setpriority " ]; then
	ok "SystemCallFilter= @system-service seccomp bpf, ~@resources, then setpriority"
else
	not_ok "SystemCallFilter= @system-service seccomp bpf, ~@resources, then setpriority" "got: $filters"
fi
key_is SystemCallArchitectures native
key_is MemoryMax 64M

# --- settings that would break the agent: absent, and the reason written
for k in ProtectControlGroups ProtectProc ProcSubset PrivateNetwork PrivateUsers; do
	if has "$k"; then
		not_ok "$k= not set (it would break the agent)" "$(grep "^$k=" "$UNIT")"
	elif grep -q "^#.*$k=" "$UNIT"; then
		ok "$k= not set, and a comment says why"
	else
		not_ok "$k= not set, and a comment says why" "no comment naming $k="
	fi
done

# --- the syscall filter allows what a netlink + cgroup + sysctl agent calls
expand() { # a systemd syscall set, recursively, one name per line
	systemd-analyze syscall-filter "$1" 2>/dev/null | sed 1d | grep -v '^[[:space:]]*#' |
		tr -s ' \t' '\n\n' | grep -v '^$' | while read -r s; do
		case $s in
		@*) expand "$s" ;;
		*) echo "$s" ;;
		esac
	done
}
allowed=$tmp/allowed
for set in $sysfilter; do
	case $set in @*) expand "$set" ;; *) echo "$set" ;; esac
done | sort -u >"$allowed"
missing=""
for s in socket bind setsockopt getsockopt recvmsg sendmsg sendto recvfrom \
	poll ppoll epoll_wait signalfd4 timerfd_create timerfd_settime rt_sigprocmask \
	openat read write close fsync rename renameat mkdir rmdir getdents64 \
	statx newfstatat prctl capget capset pidfd_open kill clock_gettime getrandom \
	socketpair clone setgroups setresuid setresgid seccomp readlink bpf setpriority; do
	grep -qx "$s" "$allowed" || missing="$missing $s"
done
if [ -s "$allowed" ] && [ -z "$missing" ]; then
	ok "SystemCallFilter= allows every call the agent makes"
else
	not_ok "SystemCallFilter= allows every call the agent makes" "blocked:$missing"
fi

# --- the sandbox as a whole: systemd's exposure score stays at or below 3.0
# (--threshold counts tenths: 30 = 3.0)
out=$(cd "$tmp/unit" && systemd-analyze security --offline=yes --threshold=30 \
	overcommitd.service 2>&1)
rc=$?
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ "$rc" -eq 0 ] && [ -n "$score" ]; then
	ok "systemd-analyze security: exposure $score <= 3.0"
else
	not_ok "systemd-analyze security: exposure $score <= 3.0" "exit $rc"
	printf '%s\n' "$out" | grep '✗' | comment
fi

# --- the Makefile installs it where dh_installsystemd finds it
dest=$tmp/dest
if make -s install DESTDIR="$dest" PREFIX=/usr BUILD="$BUILD" >"$tmp/install.log" 2>&1 &&
	cmp -s "$UNIT" "$dest/lib/systemd/system/overcommitd.service"; then
	ok "make install puts the unit in /lib/systemd/system"
else
	not_ok "make install puts the unit in /lib/systemd/system"
	comment <"$tmp/install.log"
fi
if [ -d "$dest/lib/systemd/system" ] && [ ! -e "$dest/etc/systemd" ]; then
	ok "make install enables nothing (no /etc/systemd links)"
else
	not_ok "make install enables nothing (no /etc/systemd links)"
fi

finish
