/* tracker.h - the daemon's memory of which processes belong to which
 * service, kept current from fork/exec/exit events.  Pure: the
 * caller reads /proc and passes what it read; the tracker only decides.
 * Identity is pid + start time (DESIGN §7.8): an event older than the entry
 * it names (pid reuse, late EXIT) is ignored. */
#ifndef OVERCOMMITD_TRACKER_H
#define OVERCOMMITD_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy.h"
#include "proc.h"
#include "snapshot.h"

/* enum proc_role (main, child of a main, member) is in snapshot.h: the
 * snapshot derives it per instance too (svc_obs_index). */

struct tproc {
	int pid;
	uint64_t start;       /* start time (clock ticks); 0 until read */
	size_t svc;           /* index into policy->svc */
	enum proc_role role;
	int inst;             /* pid of its instance's main (== pid for a main) */
	int ppid;             /* parent when it joined (fork event or /proc) */
	bool matched;         /* matched the policy itself (not only forked by one) */
	uint64_t since_ns;    /* kernel time of the event that added it; 0 = from a scan */
	uint64_t oom_set_ns;  /* CLOCK_MONOTONIC when overcommitd's oom_score_adj write
			       * to it completed; 0 = none seen (kept across a rescan) */
};

struct tsvc {
	bool ep_active;       /* a fork episode: a fork of a main until that child exits */
	int ep_child;
	int ep_inst;          /* the main whose fork it is */
	uint64_t ep_start_ns;
};

struct tracker {
	struct tproc *p;      /* sorted by pid */
	size_t n, cap;
	struct tsvc *svc;
	size_t nsvc;
};

/* What an event meant. */
struct tr_out {
	bool added;           /* a process joined service `svc` with `role` */
	bool removed;         /* a tracked process left */
	bool episode_start;   /* `pid` is a new child of a main: episode begins */
	bool episode_end;     /* `pid` was the episode's child: it ended */
	bool episode_cancel;  /* not a fork episode, nothing to learn: its child
	                         became a main (daemonized), or the main forked
	                         a second child while it ran (workers) */
	bool main_gone;       /* an instance's main exited */
	bool orphans;         /* tracked processes had `pid` as parent: re-evaluate
	                         them (tracker_orphans, tracker_promote) */
	size_t svc;
	enum proc_role role;
	int pid;
	int inst;             /* the instance's main */
};

int tracker_init(struct tracker *t, size_t nsvc);
void tracker_free(struct tracker *t);

/* Start-up and resync: forget everything but running episodes whose child
 * is still in the snapshot, then take every service's processes from it. */
int tracker_load(struct tracker *t, const struct snapshot *s);

/* A process exec'd; pi is what /proc shows now.  It joins the first service
 * it matches and may act on (svc_matches: trust included): as the main of
 * an instance when its parent is not a process of that service, else as
 * child (parent a main) or member.  Never main because it is older.  A
 * tracked process that no longer matches leaves, unless it is a child of a
 * main (children keep their role whatever they run). */
int tracker_exec(struct tracker *t, const struct policy *pol, uid_t uid_min,
		 const struct proc_info *pi, uint64_t ts_ns, struct tr_out *out);
/* parent_tgid forked child_pid/child_tgid.  Threads (pid != tgid) are
 * ignored.  A child of a main becomes ROLE_CHILD, of another member
 * ROLE_MEMBER.  A fork episode (a snapshot: Redis BGSAVE) starts when none
 * runs and the main has no other child; a second child of the episode's
 * main cancels it (a worker pool: prefork, PostgreSQL backends). */
int tracker_fork(struct tracker *t, int parent_tgid, int child_pid, int child_tgid,
		 uint64_t ts_ns, struct tr_out *out);
/* pid exited.  Thread exits and exits older than the entry are ignored.
 * out->orphans: call tracker_orphans and re-evaluate each. */
void tracker_exit(struct tracker *t, int pid, int tgid, uint64_t ts_ns, struct tr_out *out);
/* Is a main of service svc tracked besides pid?  (A new main beside a
 * running instance is a candidate first: candidate.h.) */
bool tracker_other_main(const struct tracker *t, size_t svc, int pid);
/* Tracked processes whose parent was ppid (ascending pids); the count. */
size_t tracker_orphans(const struct tracker *t, int ppid, int *buf, size_t cap);
/* An orphan that matches its service (the caller read /proc and checked
 * svc_matches) becomes the main of an instance: a daemonizing server's real
 * process once the first one exited.  Its tracked children become its
 * ROLE_CHILDren; their pids go to rerolled (count returned through *nre).
 * pi: what /proc shows of it now.  out: role, svc, inst, episode_cancel. */
int tracker_promote(struct tracker *t, const struct proc_info *pi, int *rerolled, size_t cap,
		    size_t *nre, struct tr_out *out);

const struct tproc *tracker_find(const struct tracker *t, int pid);
/* overcommitd's oom_score_adj write to pid completed at ns (CLOCK_MONOTONIC,
 * the proc connector's clock): a child forked later inherited that value. */
void tracker_set_oom_time(struct tracker *t, int pid, uint64_t ns);
void tracker_set_start(struct tracker *t, int pid, uint64_t start);
/* Ascending pids of every tracked process; returns the count (<= cap). */
size_t tracker_pids(const struct tracker *t, int *buf, size_t cap);

#endif
