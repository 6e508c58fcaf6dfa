/* cgroupopt.h - the cgroup2 mount's `favordynmods` option: read, and set by
 * reconfiguring the superblock (fspick + fsconfig) with every other option
 * it has kept (DESIGN "Exec -> enforced, round 6").
 *
 * Why: without it every cgroup move (cgroup.procs write) takes the
 * kernel's cgroup_threadgroup_rwsem for writing, which first waits an RCU
 * grace period - 2-20 ms in the guest, the tail of exec->enforced; with
 * it, forks and exits take that lock's slower read path instead
 * (Documentation/admin-guide/cgroup-v2.rst "favordynmods"). */
#ifndef OVERCOMMITD_CGROUPOPT_H
#define OVERCOMMITD_CGROUPOPT_H

#include <stdbool.h>
#include <stddef.h>
#include "roots.h"

enum cgopt_state {
	CGOPT_UNKNOWN = 0,   /* no cgroup2 mount at roots->cgroupfs seen */
	CGOPT_UNSUPPORTED,   /* the kernel lists no favordynmods (Linux < 6.0) */
	CGOPT_OFF,
	CGOPT_ON,
};

#define CGOPT_OPTS_MAX 256
#define CGOPT_FLAG "favordynmods"

/* "unknown", "unsupported", "off", "on"; and back (-EINVAL for another). */
const char *cgopt_state_name(enum cgopt_state s);
int cgopt_state_parse(const char *name, enum cgopt_state *out);
/* The words of a cgroup_mount action and of its journal entry: "on" or
 * "off" (the state names); parse: -EINVAL for anything else. */
const char *cgopt_onoff(bool on);
int cgopt_onoff_parse(const char *s, bool *on);

/* Pure: the super options of the last cgroup2 mount at mnt in a
 * /proc/self/mountinfo text (mount points unescaped: "\040" is a space).
 * 0, -ENOENT (no such mount) or -ENAMETOOLONG. */
int cgopt_parse_mountinfo(const char *text, const char *mnt, char *opts, size_t size);
/* The state through the roots: <procfs>/self/mountinfo for the mount at
 * cgroupfs, <sysfs>/kernel/cgroup/features for support.  opts (may be
 * NULL) gets the super options. */
enum cgopt_state cgopt_read(const struct roots *r, char *opts, size_t size);

/* Reconfigure the cgroup2 superblock at r->cgroupfs: every option of opts
 * (as cgopt_read gave them) repeated, favordynmods on or off.  The kernel
 * resets each option a reconfigure does not name (nsdelegate,
 * memory_recursiveprot, ...), so none is dropped; ro/rw are the
 * superblock's and left as they are.  Nothing changes when any option is
 * refused.  Needs CAP_SYS_ADMIN in the initial namespaces.  0 or -errno;
 * *why names the step that failed. */
int cgopt_set(const struct roots *r, const char *opts, bool on, const char **why);

#endif
