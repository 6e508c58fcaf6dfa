/* daemon_scope.h - the daemon's side of a fork child's transient scope
 * under a systemd unit (src/sdscope.h): when to ask, the asynchronous bus
 * in the poll loop, the answers, a cancelled episode's child moved back.
 * On any failure the child stop alone applies (judge_child), logged once. */
#ifndef OVERCOMMITD_DAEMON_SCOPE_H
#define OVERCOMMITD_DAEMON_SCOPE_H

#include <poll.h>
#include <stdint.h>
#include "daemon.h"

/* A scope is asked for this long after the fork: a prefork pool's second
 * worker or a daemonizing start's exit (both cancel the episode) come
 * first, so their processes never go through a scope. */
#define SCOPE_DELAY_MS 200

/* The episode of svc just began and no leaf of overcommitd's own applies:
 * remember the unit when systemd owns the group (v2, the real cgroupfs). */
void scope_consider(struct daemon *d, size_t svc);
/* From the sampler: ask for the scope once the child is SCOPE_DELAY_MS
 * old, MemoryHigh = budget_kb. */
void scope_sample(struct daemon *d, size_t svc, uint64_t budget_kb);
/* The episode was cancelled: a child placed (or being placed) in a scope
 * goes back into its unit's group. */
void scope_cancel(struct daemon *d, size_t svc);
/* From the pass: children to move back, checked again. */
void scope_tick(struct daemon *d);
/* The bus in the loop: the pollfd to wait on (fd -1: none) and the
 * deadline (-1 none); then scope_dispatch after every poll. */
void scope_pollfd(const struct daemon *d, struct pollfd *p, int *timeout_ms);
void scope_dispatch(struct daemon *d);
void scope_stop(struct daemon *d);

#endif
