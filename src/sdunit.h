/* sdunit.h - limit a service through its systemd unit (DESIGN §6): systemd
 * owns memory.high/memory.max of the cgroups it manages and rewrites them on
 * daemon-reload, so on a systemd host the agent sets them as runtime unit
 * properties over D-Bus (SetUnitProperties, runtime=true: gone
 * at reboot, like `systemctl set-property --runtime`). */
#ifndef OVERCOMMITD_SDUNIT_H
#define OVERCOMMITD_SDUNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bound of one D-Bus call: PID 1 answers in milliseconds unless it is stuck. */
#define SDUNIT_TIMEOUT_USEC (5ULL * 1000 * 1000)

/* systemd is PID 1 (sd_booted()). */
bool sdunit_systemd_running(void);

/* SetUnitProperties(unit, runtime=true, [(property, uint64 bytes)]) on the
 * system bus.  property: "MemoryHigh" or "MemoryMax" (else -EINVAL);
 * bytes == UINT64_MAX means infinity.  0 or -errno; on failure err gets the
 * D-Bus error ("org.freedesktop.systemd1.NoSuchUnit: Unit x not loaded.")
 * or what failed ("connecting to the system bus: No such file or directory").
 * err may be NULL.  The bus address honours DBUS_SYSTEM_BUS_ADDRESS. */
int sdunit_set_memory(const char *unit, const char *property, uint64_t bytes, char *err, size_t errsize);

/* The unit's OOMPolicy property ("stop", "continue", "kill") over D-Bus
 * (org.freedesktop.systemd1.Service or .Scope, by the unit's suffix), into
 * out.  Best-effort: 0 or -errno (no systemd, no bus, no such unit); err as
 * for sdunit_set_memory.  Bounded by SDUNIT_TIMEOUT_USEC. */
int sdunit_oom_policy(const char *unit, char *out, size_t size, char *err, size_t errsize);

/* The system unit whose own cgroup this is: "/system.slice/redis-server.service"
 * -> "redis-server.service".  Only a last component ending in ".service" or
 * ".scope" under no other .service/.scope qualifies: below one, the subtree is
 * delegated (a user manager, a container runtime) and unknown to PID 1.
 * systemd's "_" escaping of cgroup names is undone.  Pure.  0, -ENOENT (not a
 * unit's cgroup), -ENAMETOOLONG (unit buffer too small). */
int sdunit_unit_from_cgroup(const char *cgroup_path, char *unit, size_t size);

#endif
