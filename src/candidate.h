/* candidate.h - a new main beside a running instance of its service, held
 * back until it shows it serves (DESIGN §7, "Instances": helpers).
 *
 * `apachectl graceful` runs `apache2 -t`, then `apache2 -k graceful`, beside
 * the running server; pg_ctlcluster and init scripts do the same.  Each
 * matches the service and has a parent outside it, so it would be the main
 * of an instance of its own - for the moment it lives.  Such a process is a
 * candidate: nothing is written for it until it forks (a server daemonizing
 * or starting workers) or has lived CAND_SETTLE_MS; a helper exits before
 * either and is never acted on.  The first instance of a service is never a
 * candidate: it is protected at its exec.  Pure: the caller passes times. */
#ifndef OVERCOMMITD_CANDIDATE_H
#define OVERCOMMITD_CANDIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plan.h"

#define CAND_SETTLE_MS 3000 /* `apache2 -t` with mod_php: ~0.1 s; 1-2 s under TCG */

struct cand {
	int pid;
	uint64_t start;  /* start time (clock ticks): identity */
	uint64_t t_ms;   /* when it exec'd (monotonic) */
};

struct cand_list {
	struct cand *c;
	size_t n, cap;
};

/* Hold pid back from t_ms on; 0 or -ENOMEM (the caller then acts at once). */
int cand_add(struct cand_list *l, int pid, uint64_t start, uint64_t t_ms);
/* It forked or exited: no longer held.  True when it was a candidate. */
bool cand_take(struct cand_list *l, int pid);
/* Before a pass's plan is enforced: its actions on candidates younger than
 * CAND_SETTLE_MS are dropped; older ones leave the list (they serve: the
 * plan's actions on them stand).  Returns the number of actions dropped. */
size_t cand_filter_plan(struct cand_list *l, struct plan *p, uint64_t now_ms);
/* After a full /proc scan rebuilt the tracker: a main beside an older main
 * of its service that is younger than CAND_SETTLE_MS (by its start time) is
 * held as if its exec had been seen.  Its exec event may still be queued
 * behind the scan, and once the tracker knows it from the scan that event
 * adds nothing: without this the pass would give a helper the main value.
 * boot_ms: CLOCK_BOOTTIME now (start times count from boot), hz: clock
 * ticks per second.  Returns the number held (-ENOMEM: the rest not). */
int cand_hold_scanned(struct cand_list *l, const struct snapshot *s, uint64_t now_ms,
		      uint64_t boot_ms, long hz);
void cand_clear(struct cand_list *l);
void cand_free(struct cand_list *l);

#endif
