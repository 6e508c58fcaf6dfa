/* drift.h - the daemon's memory of what it wrote, to notice when someone
 * else (config management, an admin) changes a value it manages, and to
 * rate-limit its own changes: never flap (DESIGN §7.4). */
#ifndef OVERCOMMITD_DRIFT_H
#define OVERCOMMITD_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "apply.h"
#include "plan.h"

/* Minimum time between two writes of one target by the daemon; a raise of
 * a cgroup limit is never held back (usage grew), only a lowering. */
#define DRIFT_SYSCTL_MS (60 * 1000)
#define DRIFT_MEMORY_MS (5 * 60 * 1000)
/* reapply_on_drift = yes: more than this many drifts of one target within
 * DRIFT_WINDOW_MS and the daemon backs off anyway (someone insists). */
#define DRIFT_MAX_REAPPLY 3
#define DRIFT_WINDOW_MS (60 * 60 * 1000)

/* At most this many targets are remembered (~1.7 KB each).  Per-process
 * ones leave with their process (drift_forget_pid, drift_prune); when the
 * table is full the oldest per-process one makes room, host and cgroup
 * targets are never evicted. */
#define DRIFT_MAX_MANAGED 2048

struct managed {
	char key[1200];       /* kind, target, pid + start */
	int pid;              /* per-process targets, else 0 */
	uint64_t start_time;
	char written[PROC_PATH_MAX]; /* the value the daemon last wrote or found in place */
	uint64_t at_ms;       /* when it last wrote it (if wrote) */
	bool wrote;           /* false: found in place, or changed by someone else */
	uint64_t window_ms;   /* start of the current drift window */
	unsigned drifts;      /* drifts in that window */
	bool backed_off;      /* left alone until the next reload */
};

struct drift_log {        /* one line a drift or back-off produced */
	char text[700];
};

/* A service that sets its own oom_score_adj for one role (oomconflict.h):
 * reported once, then overcommitd writes that role of that service no more. */
#define DRIFT_MAX_YIELDS 64
struct oom_yield {
	const char *service;  /* points into the policy (reset with it on reload) */
	enum proc_role role;
	uint64_t seen;        /* processes found with their own value */
};

struct drift {
	struct managed *m;
	size_t n, cap;
	char **seen;          /* recommendations already logged (enforce = no) */
	size_t nseen;
	uint64_t drifts_total, backoffs_total;
	struct oom_yield yield[DRIFT_MAX_YIELDS];
	size_t nyield;
	uint64_t oom_conflicts_total; /* processes whose own value was left alone */
};

void drift_reset(struct drift *d);
void drift_free(struct drift *d);

/* Drop from p the actions that must not run now: targets the daemon backed
 * off from, drifted targets (reapply: counted, backed off past the limit),
 * and targets written too recently.  An oom_score_adj changed after
 * overcommitd wrote it is the service's own value: never written back
 * (reapply or not), reported once per service and role, and that role of
 * the service is not written any more (drift_oom_yielded).  Each drift/back-off is reported once
 * through report(text, arg) (may be NULL).  Pure but for the clock given. */
void drift_filter(struct drift *d, struct plan *p, bool reapply, uint64_t now_ms,
		  void (*report)(const char *text, void *arg), void *arg);
/* After an apply: what the target holds now by the daemon's doing. */
void drift_record(struct drift *d, const struct action *a, const struct apply_result *r,
		  uint64_t now_ms);
/* A process exited: forget its targets. */
void drift_forget_pid(struct drift *d, int pid);
/* Forget per-process targets whose process is gone (pid + start time no
 * longer live: exits the proc connector lost).  alive(pid, start, arg)
 * answers.  Returns how many were dropped. */
size_t drift_prune(struct drift *d, bool (*alive)(int pid, uint64_t start, const void *arg),
		   const void *arg);

/* A process of `service` in `role` holds a value it set itself: count it;
 * true the first time for that service and role (log it then).  Every
 * later oom_score_adj action of that role is dropped by drift_filter. */
bool drift_oom_conflict(struct drift *d, const char *service, enum proc_role role);
/* Has the service shown it sets its own value for processes in this role? */
bool drift_oom_yielded(const struct drift *d, const char *service, enum proc_role role);
/* Drop the oom_score_adj actions of yielded (service, role) pairs from p. */
void drift_drop_yielded(const struct drift *d, struct plan *p);

/* enforce = no: true the first time this recommendation (kind, target,
 * desired) is seen, so the log says it once, not every pass. */
bool drift_note_recommended(struct drift *d, const struct action *a);

#endif
