/* apply_target.h - one value the applier writes and restores, and the
 * read-compare-write-read-back on it (not a public API). */
#ifndef OVERCOMMITD_APPLY_TARGET_H
#define OVERCOMMITD_APPLY_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "apply_util.h"
#include "cgroup_backend.h"
#include "plan.h"
#include "procfd.h"
#include "roots.h"
#include "util.h"

/* integers (sysctls, oom_score_adj) and cgroup memory sizes ("max" or bytes) */
enum vtype { VT_INT, VT_MEM };

/* A target: its file and how to talk about it. */
struct target {
	char path[PATH_BUF];
	char name[160];  /* "vm.overcommit_kbytes", "oom_score_adj of process 123" */
	enum vtype type;
	/* memory.high/max only: through systemd when it owns the group */
	const char *unit_prop;   /* "MemoryHigh" / "MemoryMax", else NULL */
	char unit[256];          /* "redis-server.service" or "" */
	/* ... else through libcgroup (cgroup_backend.h); cgb_rc < 0: it cannot
	 * write this tree (a fixture, no memory controller) */
	const char *group;       /* the caller's string, as in /proc/PID/cgroup */
	bool hard;               /* memory.max / memory.limit_in_bytes */
	struct cgb cgb;
	int cgb_rc;
	/* per-process targets: the process pinned by an fd on /proc/PID, the
	 * file named relative to it (procfd.h); path is then for messages */
	bool pinned;
	bool borrowed; /* pfd is the caller's (ap_pin's pin): not closed here */
	int pfd;
	const char *file;
};

/* The targets, built the same way for apply and restore; -EINVAL for an
 * unknown knob, a pid <= 0 or a cgroup path that leaves cgroupfs.
 * memory_target also gives the group's directory (dir), on the memory
 * controller's hierarchy (v1: cgroupfs/memory, soft limit for high).
 * Its group is kept by pointer: cgroup must outlive t. */
int sysctl_target(const struct roots *r, int knob, struct target *t);
int oom_target(const struct roots *r, int pid, struct target *t);
int memory_target(const struct roots *r, const char *cgroup, enum action_kind k, struct target *t,
		  char *dir, size_t dirsize);

/* Pin the process of a per-process target (oom_target) for the check and
 * the write that follows: an fd on /proc/PID, its start time compared
 * through that fd - or the caller's pin of that pid and start time
 * (procpin_fd), borrowed.  0 = pinned (ap_unpin after); 1 = res filled
 * (gone: skipped, with gone_note; pid reused; error). */
int ap_pin(const struct roots *r, int pid, uint64_t start, const struct procpin *pin,
	   struct target *t, const char *gone_note, struct apply_result *res);
/* ap_pin's fd alone (the cgroup move pins the same way): *own = false when
 * it is the caller's pin (not to be closed); 1 = res filled as ap_pin. */
int ap_pin_fd(const struct roots *r, int pid, uint64_t start, const struct procpin *pin, int *fd,
	      bool *own, const char *gone_note, struct apply_result *res);
void ap_unpin(struct target *t);
/* Read the target's value (trailing whitespace removed); ESRCH: a pinned
 * process is gone. */
int ap_target_read(const struct target *t, char *buf, size_t size);

/* Canonical text of a value ("max" / decimal); -EINVAL if it is not one. */
int ap_val_canon(enum vtype t, const char *s, char *out, size_t size);
/* Read the target now: 1 = already want (res: unchanged), 0 = differs
 * (cur filled), -1 = failed (res filled). */
int ap_read_compare(const struct target *t, const char *want, char *cur, size_t size,
		    struct apply_result *res);
/* The same for a value already read: rc is that read's result. */
int ap_compare_read(const struct target *t, int rc, const char *want, const char *cur,
		    struct apply_result *res);
/* A memory target that cannot be written (no unit, no libcgroup for this
 * tree): 1 and res filled, before anything is journaled. */
int ap_memory_unwritable(const struct target *t, struct apply_result *res);
/* Write want (canonical) and read it back (not a pinned process's
 * oom_score_adj: see there); fills res. ESRCH = process gone. */
void ap_write_checked(const struct target *t, const char *cur, const char *want,
		      struct apply_result *res);
/* Put back one journaled original: read, compare, write, read back. */
void ap_restore_value(const struct target *t, const char *original, struct apply_result *res);

#endif
