/* cgroup_backend.h - libcgroup as the writer of the groups overcommitd
 * manages itself (no systemd unit owns the process), on cgroup v2 and v1:
 * creation with the memory controller on every level, limits, attaching a
 * process, a process's group, moving a group's processes, removal.
 *
 * libcgroup acts on the hierarchies it finds in /proc/mounts and cannot be
 * pointed at a --cgroupfs fixture tree: cgb_open refuses (-EXDEV) when
 * r->cgroupfs is not where the memory controller is mounted, so nothing
 * here ever writes to a tree other than the one the readers read.  Groups
 * are named as in /proc/PID/cgroup ("/overcommitd/redis"), relative to the
 * memory controller's hierarchy (the cgroup2 mount; on v1 cgroupfs/memory).
 * Every function returns 0 or -errno (libcgroup's ECG* codes mapped). */
#ifndef OVERCOMMITD_CGROUP_BACKEND_H
#define OVERCOMMITD_CGROUP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "journal.h"
#include "proc.h"
#include "roots.h"
#include "util.h"

struct cgb {
	enum cg_hier hier;      /* CG_HIER_V2, CG_HIER_V1 or CG_HIER_HYBRID */
	char mount[PATH_BUF];   /* where libcgroup found the memory controller */
};

/* libcgroup initialised (once per process; retried after a failure) and
 * checked against r: -ENODEV when no memory controller is mounted, -EXDEV
 * when r->cgroupfs is not its mount (a fixture tree). */
int cgb_open(const struct roots *r, struct cgb *b);

/* Make group exist with the memory controller enabled on every level above
 * it.  Each change restore must undo is journaled before it is made:
 * J_CGROUP_SUBTREE (key: the parent, original: its cgroup.subtree_control)
 * before "+memory" goes into it (v2 only), J_CGROUP_CREATE (key: the new
 * level, original: from) before its mkdir.  from: where the processes put
 * into group come from; restore moves what is left in the group back there.
 * -errno; *journal_failed tells a journal error (nothing written after it)
 * from a kernel one. */
int cgb_ensure_group(const struct cgb *b, const char *group, const char *from,
		     struct journal *j, bool *journal_failed);

/* Is group there with the memory controller enabled above it (so that
 * cgb_ensure_group has nothing to create, enable or journal)? */
bool cgb_group_ready(const struct cgb *b, const char *group);

/* Move the whole process: v2 one write to the group's cgroup.procs, kept
 * open for the next (by hand: libcgroup's attach makes 13 system calls of
 * it); v1 every thread listed in /proc/PID/task (libcgroup writes v1
 * "tasks").  -ESRCH: gone.  One thread moves. */
int cgb_attach(const struct cgb *b, const char *group, pid_t pid);

/* The group pid is in on the memory controller's hierarchy.  v1/hybrid:
 * libcgroup; v2: /proc/PID/cgroup under r->procfs (libcgroup 2.0.2 cannot
 * parse the "0::/path" line: DESIGN "Cgroups").  -ENOENT/-ESRCH: gone. */
int cgb_pid_group(const struct cgb *b, const struct roots *r, pid_t pid, char *out,
		  size_t size);

/* memory.max (hard) / memory.high on v2; memory.limit_in_bytes (hard) /
 * memory.soft_limit_in_bytes on v1.  bytes CG_UNLIMITED = no limit ("max"
 * on v2, -1 on v1).  All through libcgroup but v2's memory.high: that
 * write can block while the kernel reclaims and libcgroup has no time
 * bound, so it is written by hand with write_file_timed (CGB_HIGH_TIMEOUT_MS;
 * -ETIMEDOUT: whether it was taken is unknown, read it back). */
#define CGB_HIGH_TIMEOUT_MS 2000
int cgb_set_limit(const struct cgb *b, const char *group, bool hard, uint64_t bytes);

/* Every process in group from moved to group to; *moved counts them.
 * Processes that exit meanwhile are not an error. */
int cgb_move_all(const struct cgb *b, const char *from, const char *to, size_t *moved);

/* Remove an empty group (-EBUSY: processes or child groups in it). */
int cgb_remove(const struct cgb *b, const char *group);

/* Restore of J_CGROUP_SUBTREE: "-memory" into group's
 * cgroup.subtree_control when original does not list memory (else
 * nothing).  -EBUSY while a child group still uses the controller. */
int cgb_subtree_restore(const struct cgb *b, const char *group, const char *original);

/* Does cgroup.subtree_control text list the memory controller? */
bool cgb_list_has_memory(const char *list);

#endif
