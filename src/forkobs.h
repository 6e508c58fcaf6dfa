/* forkobs.h - the on-demand exact fork charge: which main processes get
 * their /proc/PID/smaps read now, and the charge every main then carries
 * into the planner (DESIGN "Fork charge and the fork verdict").
 *
 * smaps walks page tables under the process's mmap lock (~9 ms per GiB), so
 * it is read only when charge_cache_why() says so: first sighting of a main,
 * a cheap verdict inside the uncertainty band, VmData moved by more than
 * 10%, overcommit_memory changed since the read; at most once per 10
 * minutes per process.  Every instance's main, not only the largest: each
 * gets its own verdict.  Callers never call this on the exec->enforced
 * path; the daemon hands the reads to a thread (agent/smapsreader.c) so
 * they never hold its event loop either. */
#ifndef OVERCOMMITD_FORKOBS_H
#define OVERCOMMITD_FORKOBS_H

#include <stdint.h>
#include "chargecache.h"
#include "model.h"
#include "snapshot.h"

struct fork_obs_stats {
	unsigned smaps_reads;     /* smaps files read here */
	unsigned smaps_failed;    /* unreadable (permission, gone): left as estimates */
	unsigned maps_reads;      /* maps files read (mode 0, nothing exact) */
	uint64_t smaps_ns;        /* time spent reading smaps here */
	uint64_t smaps_vm_kb;     /* VmSize of the processes read: cost per GiB */
	unsigned queued;          /* due a read, handed to the caller's reader (async) */
	unsigned deferred;        /* due a read, over the caller's max: a later call */
};

/* One smaps read fork_observe() found due and left to the caller (the
 * daemon's reader thread); fork_observe_done() records its outcome. */
struct charge_req {
	int pid;
	uint64_t start_time;
	uint64_t cheap_kb;        /* VmData + VmStk when asked */
	uint64_t vm_data_kb;
	uint64_t vm_size_kb;
	int64_t mode;             /* vm.overcommit_memory when asked */
	enum charge_read_why why;
};
struct charge_reqs {
	struct charge_req *r;
	size_t n, cap;
	bool capped;              /* set by the caller: at most max requests, the rest
	                             stay due and are asked on a later call */
	size_t max;
};
void charge_reqs_free(struct charge_reqs *q);

/* The verdict input of instance k of service i in snapshot s, for the
 * sysctls vm (now: s->vm with CommitLimit from meminfo; after a plan:
 * commit_limit_now false, the formula). */
struct fork_input fork_input_of(const struct snapshot *s, size_t i, size_t k,
				const struct vm_sysctls *vm, bool commit_limit_now);

/* For every instance's main of every service: decide by the rule above
 * whether its smaps is due, read it (async NULL: here, now) or append the
 * request to *async (marked pending in cache: not asked again until
 * fork_observe_done()), and set each instance's charge (s->svc[i].inst[k]
 * .charge; s->svc[i].charge is main_idx's); then drop the cache entries of
 * processes that are gone (pid + start time).  now_s: the caller's
 * monotonic seconds.  Returns 0 or -ENOMEM (a file that cannot be read
 * leaves that main's charge an estimate, counted in stats). */
int fork_observe(const struct roots *r, struct snapshot *s, struct charge_cache *cache,
		 uint64_t now_s, struct charge_reqs *async, struct fork_obs_stats *stats);
/* The outcome of an async request: rc 0 and *sc, or -errno. */
int fork_observe_done(struct charge_cache *cache, const struct charge_req *q, int rc,
		      const struct smaps_charge *sc, uint64_t now_s);

#endif
