/* snapshot.h - one consistent read of the host and of the services the policy
 * names (DESIGN §3).  The planner consumes it; it holds no pointers into
 * /proc state that could change under it. */
#ifndef OVERCOMMITD_SNAPSHOT_H
#define OVERCOMMITD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "adminreserve.h"
#include "cgroup.h"
#include "cgroupopt.h"
#include "commitslack.h"
#include "forkcharge.h"
#include "meminfo.h"
#include "policy.h"
#include "proc.h"
#include "roots.h"
#include "trust.h"
#include "vmsysctl.h"

/* A process's place in its service (DESIGN §7, "Instances"). */
enum proc_role {
	ROLE_MEMBER = 0,  /* matched, its parent another non-main process of the service */
	ROLE_MAIN,        /* matched, parent not a live process of the service: an instance */
	ROLE_CHILD,       /* a child of an instance's main (forked worker, BGSAVE child) */
};

/* One instance: a main and the processes below it. */
struct svc_inst {
	size_t main;              /* index into svc_obs.procs */
	size_t nchildren;         /* processes with role ROLE_CHILD of this main */
	size_t nmembers;          /* matched processes below the main, not its children */
	uint64_t commit_kb;       /* the main's fork charge estimate (proc_commit_kb) */
	uint64_t child_commit_kb; /* sum over its children and members */
	struct fork_charge charge; /* its main's fork charge: the estimate from the
	                             snapshot, exact once fork_observe() read smaps */
	uint64_t userns;          /* inode of its main's /proc/PID/ns/user, 0 = unknown */
	int main_orig_adj;        /* the main's oom_score_adj before overcommitd wrote it
	                             (journal; OOM_ORIG_UNKNOWN = INT32_MIN: not known),
	                             as the planner judges children by (the daemon) */
	int main_was_adj;         /* the same, for the reports only (also one-shot) */
};

struct svc_place {
	enum proc_role role;
	size_t inst;              /* index into svc_obs.inst */
};

struct svc_obs {
	size_t policy_idx;        /* index into policy->svc */
	struct proc_info *procs;  /* matched processes, then children of mains (see below);
	                             exe/cmdline are read only when some service matches
	                             on match_exe/match_cmdline ("" otherwise) */
	size_t nprocs;
	size_t nmatched;          /* procs[0..nmatched) matched the policy's match_* keys
	                             and are trusted (trust.h); procs[nmatched..nprocs)
	                             are children of mains that did not match */
	struct svc_place *place;  /* per procs[]: role and instance (svc_obs_index) */
	struct svc_inst *inst;    /* the instances, oldest main first */
	size_t ninst;
	ssize_t main_idx;         /* the main of the largest instance (largest fork
	                             charge, then oldest); -1 when not running */
	size_t nuntrusted;        /* processes that matched by name/exe/cmdline but run
	                             as a user the policy may not act on: left alone */
	int untrusted_pid;        /* the first of them (for the report), 0 if none */
	uid_t untrusted_uid;
	char cgroup[PROC_PATH_MAX];   /* cgroup v2 path of the main process ("" if none) */
	bool own_cgroup;          /* systemd unit (.service/.scope) or the policy's cgroup */
	struct cg_memory cg;      /* figures of that cgroup (present=false if none) */
	struct cg_memory policy_cg; /* figures of the policy's cgroup when it exists
	                             (differs from cg when the service is not in it yet) */
	struct fork_charge charge; /* main_idx's instance's charge (inst[].charge) */
	uint64_t main_userns;     /* main_idx's instance's userns (inst[].userns) */
	uint64_t worker_growth_kb; /* private growth one worker reaches over its life,
	                             learned by the daemon (workcache.h); 0 = unknown */
	size_t worker_growth_n;   /* workers it was learned from */
	char unit[256];           /* the systemd unit whose cgroup the main is in ("" none) */
	char oom_policy[16];      /* that unit's OOMPolicy as systemd says ("" unknown) */
};

struct snapshot {
	struct meminfo mem;
	struct vm_sysctls vm;
	bool cgroup2;             /* a memory controller to place and limit with (v2 or v1) */
	enum cg_hier cg_hier;     /* which hierarchy holds it (cgroup.h) */
	struct svc_obs *svc;      /* one per policy service, same order */
	size_t nsvc;
	size_t nprocs_scanned;
	uid_t uid_min;            /* login.defs UID_MIN the trust rule used */
	struct cpu_counts cpus;   /* present/online: the per-CPU commit slack (zeros: unknown) */
	struct admin_facts admin; /* PID 1's user namespace, SELinux: the admin reserve */
	enum cgopt_state favordynmods; /* the cgroup2 mount's option (cgroupopt.h) */
};

/* Does process p match service s?  All present match_* keys must match,
 * and p must run as a user the service may act on (trust.h). */
bool svc_matches(const struct pol_service *s, uid_t uid_min, const struct proc_info *p);

/* What must be read of a process whose comm is known (/proc/PID/stat)
 * before svc_matches can decide for every service of pol: a PROC_READ_*
 * mask, 0 when no service can match that comm.  The daemon reads the
 * rest of an exec only when needed: most execs of a host match no
 * service, and `exe` costs a round trip to the reader (privsep.h). */
unsigned svc_match_fields(const struct policy *pol, const char *comm);

/* Derive roles and instances from procs[] (matched first, nmatched of them,
 * then non-matched children): every matched process whose parent is not a
 * matched one is the main of an instance; a process whose parent is a main
 * is its child; the rest are members of the instance above them.  Sets
 * place, inst, ninst, main_idx.  Pure; 0 or -ENOMEM. */
int svc_obs_index(struct svc_obs *o);
void svc_obs_index_free(struct svc_obs *o);

/* A cgroup the service has to itself: a systemd unit's (.service/.scope)
 * or the policy's group for it. */
bool svc_cgroup_is_own(const char *cg, const char *policy_cg);

/* Where observation reads from: the live kernel through the roots
 * (obs_source_live), or a host snapshot document (hostsnap.c), so that
 * `what-if` runs the very matching and planning `recommend` runs.
 * Each returns 0 or -errno like the reader it stands for. */
struct obs_source {
	int (*host)(const struct obs_source *src, struct meminfo *mem, struct vm_sysctls *vm,
		    enum cg_hier *hier);
	int (*list_pids)(const struct obs_source *src, int **pids); /* ascending, malloc'd */
	int (*read_proc)(const struct obs_source *src, int pid, unsigned what, struct proc_info *p);
	int (*read_cgroup)(const struct obs_source *src, const char *path, struct cg_memory *m);
	/* a match_user name -> uid; -ENOENT: no such user (matches nothing) */
	int (*lookup_user)(const struct obs_source *src, const char *name, uid_t *uid);
	/* UID_MIN: who is a login user (trust.h); <0 when malformed (the
	 * default is then used, never a wider trust) */
	int (*uid_min)(const struct obs_source *src, uid_t *out);
	/* optional (NULL: unknown): CPU counts and admin-reserve facts, and a
	 * process's user namespace inode (for the fork verdict) */
	void (*kernel_facts)(const struct obs_source *src, struct cpu_counts *c,
			     struct admin_facts *a);
	int (*read_userns)(const struct obs_source *src, int pid, uint64_t *ino);
	/* optional: a unit's OOMPolicy (sdunit_oom_policy); NULL or <0: unknown */
	int (*unit_oom_policy)(const struct obs_source *src, const char *unit, char *out,
			       size_t size);
	/* optional (NULL: CGOPT_UNKNOWN): the cgroup2 mount's favordynmods */
	enum cgopt_state (*favordynmods)(const struct obs_source *src);
	const void *ctx;
};
void obs_source_live(const struct roots *r, struct obs_source *src);

/* Read meminfo, sysctls, scan procfs, match.  Processes that vanish while
 * read are skipped.  Returns 0 or -errno (meminfo/sysctls unreadable). */
int snapshot_take(const struct roots *r, const struct policy *pol, struct snapshot *s);
/* The same, looking only at the given pids (ascending; the daemon's tracked
 * processes and their children) instead of every /proc entry. */
int snapshot_take_pids(const struct roots *r, const struct policy *pol, const int *pids,
		       size_t npids, struct snapshot *s);
/* Either of the above from any source (pids NULL: every process). */
int snapshot_observe(const struct obs_source *src, const struct policy *pol, const int *pids,
		     size_t npids, struct snapshot *s);
void snapshot_free(struct snapshot *s);

#endif
