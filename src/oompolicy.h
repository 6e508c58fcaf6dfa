/* oompolicy.h - what systemd does to a unit when the OOM killer takes one
 * of its processes (the unit's OOMPolicy=, systemd.service(5)): `stop`
 * (the default) stops the whole unit, `kill` kills the rest of it,
 * `continue` leaves it running.  A service whose children are meant to die
 * first (child_oom_score_adj, prefork workers, PostgreSQL backends) loses
 * everything to one killed child unless the unit says continue.  Pure. */
#ifndef OVERCOMMITD_OOMPOLICY_H
#define OVERCOMMITD_OOMPOLICY_H

#include <stdbool.h>

enum oomp_verdict {
	OOMP_UNKNOWN = 0,   /* not read (no systemd, no D-Bus, not a unit): no claim */
	OOMP_FINE,          /* continue, or nothing a child's death would take down */
	OOMP_STOPS_UNIT,    /* stop: one OOM-killed child stops the whole unit */
	OOMP_KILLS_UNIT,    /* kill: one OOM-killed child kills the whole unit */
};

/* oom_policy: the unit's OOMPolicy as read ("" or NULL: unknown).
 * children: the service has children that may be OOM-killed on their own
 * (workers running, or child_oom_score_adj in the policy). */
enum oomp_verdict oompolicy_judge(const char *oom_policy, bool children);

#endif
