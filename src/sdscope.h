/* sdscope.h - a fork child's transient scope under systemd (DESIGN "Cgroups:
 * the child pays, never the parent").  When a systemd unit owns the main's
 * group (redis-server.service), overcommitd does not split that group
 * itself: it asks PID 1 to move the disposable fork child (BGSAVE) into a
 * transient scope of its own, StartTransientUnit with PIDs = the child,
 * MemoryHigh = the episode's budget (no MemoryMax: a kernel OOM kill is
 * SIGKILL, a failed save), Slice = the unit's slice, CollectMode =
 * inactive-or-failed.  A scope lives exactly as long as a process in it:
 * when the child exits, systemd stops and unloads it, so nothing needs
 * undoing (no journal entry).
 *
 * The calls are asynchronous (the daemon's poll loop owns the bus: fd,
 * events, timeout), each with SDSCOPE_TIMEOUT_USEC. */
#ifndef OVERCOMMITD_SDSCOPE_H
#define OVERCOMMITD_SDSCOPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One call's bound: PID 1 answers in milliseconds unless it is stuck. */
#define SDSCOPE_TIMEOUT_USEC (5ULL * 1000 * 1000)
#define SDSCOPE_PREFIX "overcommitd-fork-"

/* ---- pure: names and paths ---- */

/* "redis-server.service", 1234 -> "overcommitd-fork-redis-server-1234.scope".
 * 0, -EINVAL (not a .service/.scope name), -ENAMETOOLONG. */
int sdscope_name(const char *unit, pid_t pid, char *out, size_t size);
/* The slice a unit's group sits in: "/system.slice/redis-server.service" ->
 * "system.slice"; a group directly under the root -> "-.slice".  0,
 * -ENOENT (the parent is no slice), -ENAMETOOLONG. */
int sdscope_slice(const char *unit_cgroup, char *out, size_t size);
/* Where systemd puts the scope: the unit group's parent + "/" + scope
 * ("/system.slice/overcommitd-fork-redis-server-1234.scope").  0,
 * -EINVAL, -ENAMETOOLONG. */
int sdscope_cgroup(const char *unit_cgroup, const char *scope, char *out, size_t size);

/* ---- the asynchronous bus ---- */

struct sdscope_bus;

/* A call's end: rc 0 (PID 1 accepted it) or -errno, err its D-Bus error or
 * what failed ("" on success). */
typedef void (*sdscope_done_fn)(void *arg, int rc, const char *err);

/* Connect to PID 1 (its private socket as root, else the system bus; an
 * explicit DBUS_SYSTEM_BUS_ADDRESS wins), without waiting: authentication
 * runs in sdscope_process.  0 or -errno. */
int sdscope_open(struct sdscope_bus **out);
void sdscope_close(struct sdscope_bus *b);
/* For poll(): the fd, its events and the next deadline in ms from now
 * (-1 none, 0 now). */
int sdscope_fd(const struct sdscope_bus *b);
short sdscope_events(const struct sdscope_bus *b);
int sdscope_timeout_ms(const struct sdscope_bus *b);
/* Work the bus: replies, timeouts (done gets -ETIMEDOUT).  0, or -errno
 * when the connection is lost (close it and open afresh later). */
int sdscope_process(struct sdscope_bus *b);

struct sdscope_req {
	const char *scope;       /* sdscope_name */
	const char *slice;       /* sdscope_slice */
	const char *description;
	pid_t pid;
	uint64_t memory_high;    /* bytes */
};
/* StartTransientUnit(scope, "fail", [PIDs, MemoryHigh, Slice, CollectMode,
 * Description], []).  done (with arg) runs exactly once, from
 * sdscope_process or sdscope_close; not when this returns < 0. */
int sdscope_start(struct sdscope_bus *b, const struct sdscope_req *req, sdscope_done_fn done,
		  void *arg);

#endif
