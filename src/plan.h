/* plan.h - the planner's output: risks and actions, each with reason and
 * the policy FILE:LINE that asked for it (DESIGN §3, §5). */
#ifndef OVERCOMMITD_PLAN_H
#define OVERCOMMITD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "learn.h"
#include "model.h"
#include "origin.h"
#include "policy.h"
#include "snapshot.h"
#include "tracker.h"

enum action_kind {
	ACT_SYSCTL = 0,
	ACT_OOM_SCORE_ADJ,
	ACT_MEMORY_HIGH,
	ACT_MEMORY_MAX,
	ACT_CGROUP_ATTACH,
	ACT_CGROUP_MOUNT,  /* target: a cgroup2 mount option (favordynmods): off/on */
};

#define PLAN_TEXT_MAX 512

struct action {
	enum action_kind kind;
	char target[PROC_PATH_MAX];  /* sysctl name | "pid 123 (redis-server)" | cgroup path */
	char current[PROC_PATH_MAX];          /* as the kernel file shows it ("max", "50", "/") */
	char desired[PROC_PATH_MAX];          /* what will be written */
	char reason[PLAN_TEXT_MAX];  /* why, with the numbers */
	struct origin policy;        /* who asked */
	const char *service;         /* NULL for host actions; points into the policy */
	/* ACT_SYSCTL */
	int knob;                    /* enum vm_knob */
	/* ACT_OOM_SCORE_ADJ, ACT_CGROUP_ATTACH: identity (pid + start time) */
	int pid;
	uint64_t start_time;
	enum proc_role role;         /* ACT_OOM_SCORE_ADJ: main or child of a main */
	/* ACT_MEMORY_HIGH, ACT_MEMORY_MAX, ACT_CGROUP_ATTACH: the cgroup path */
	char cgroup[PROC_PATH_MAX];
};

struct risk {
	char kind[32];               /* fork_fails | commit_near_limit | unprotected | ... */
	const char *service;         /* NULL for host-wide */
	char message[PLAN_TEXT_MAX];
};

struct svc_eval {                /* derived per-service figures for reports */
	uint64_t commit_kb;          /* sum of proc_commit_kb over the service's processes */
	uint64_t anon_kb;            /* cgroup anon if own cgroup, else sum RssAnon */
	uint64_t size_anon_kb;       /* what limits are sized from: max(cgroup anon,
	                                sum RssAnon of the matched processes) */
	double cow_amplification;    /* commit_kb / anon_kb (0 if anon 0) */
	size_t forks;                /* children of the main process now */
	struct fork_check fork;      /* of the instance whose fork needs most, under
	                                current sysctls (each main's own charge) */
	size_t fork_inst;            /* that instance (svc_obs.inst index) */
	struct fork_check fork_after;/* same under the planned sysctls */
	struct learn_estimate cow;   /* COW growth used for auto limits */
	/* instances and long-lived children */
	size_t instances;            /* mains running (svc_obs.ninst) */
	size_t workers;              /* children of the mains (prefork workers, backends) */
	uint64_t workers_commit_kb;  /* their commit: each fork was charged its parent's */
	uint64_t commit_per_worker_kb; /* workers_commit_kb / workers */
	size_t forks_failing;        /* instances whose fork does not fit now */
	uint64_t worker_private_kb;  /* private anon per worker now: the group's anon the
	                                mains and members do not map, per worker (COW
	                                copies included; 0 without a group of its own) */
	uint64_t worker_growth_kb;   /* private growth one worker reaches over its life
	                                (learned by the daemon: svc_obs.worker_growth_kb) */
	uint64_t workers_room_kb;    /* what the workers will still grow into:
	                                workers x growth - their private anon now (>= 0);
	                                memory.high = auto adds it */
	size_t oom_self_set;         /* children that set their own oom_score_adj
	                                (oomconflict.h): left alone, one risk */
};

struct plan {
	struct action *act;
	size_t nact, capact;
	struct risk *risk;
	size_t nrisk, caprisk;
	struct svc_eval *eval;       /* one per snapshot service */
	size_t neval;
	/* host figures */
	uint64_t commit_limit_kb;    /* from sysctls now */
	int64_t commit_headroom_kb;  /* CommitLimit - Committed_AS now */
	uint64_t commit_limit_after_kb; /* under the planned sysctls */
	int mode_after;
	struct vm_sysctls vm_after;
	char host_summary[PLAN_TEXT_MAX]; /* one sentence: the decision for the host and why */
};

/* Pure: (policy, snapshot, history) -> plan.  No I/O, no clock, no globals.
 * learned: one COW estimate per snapshot service (same order), or NULL when
 * nothing was learned (every service then uses LEARN_DEFAULT_GROWTH).
 * Returns 0 or -ENOMEM. */
int plan_build(const struct policy *pol, const struct snapshot *s,
	       const struct learn_estimate *learned, struct plan *out);
void plan_free(struct plan *p);
/* Room for one more risk in p->risk (grows the array); 0 or -ENOMEM. */
int plan_risk_room(struct plan *p);
/* One more (zeroed) action of kind at the end of p; NULL when out of memory
 * (for planners of their own: src/childgroup.c). */
struct action *plan_action_new(struct plan *p, enum action_kind kind, const struct origin *at,
			       const char *service);

/* Pure: the actions for one process of service svc the moment it appears
 * (the daemon's exec/fork events): oom_score_adj for its role (main or
 * child of main) and a cgroup_attach when it is not in a group of its own
 * and the policy asks for memory limits.  Appends to out. */
int plan_process(const struct policy *pol, size_t svc, const struct proc_info *pi,
		 enum proc_role role, bool cgroup2, struct plan *out);

const char *action_kind_name(enum action_kind k); /* "sysctl", "oom_score_adj", ... */

#endif
