/* evwait.h - the daemon's wait on its descriptors, through epoll.
 *
 * The caller keeps its table of struct pollfd, one slot per source, as for
 * poll(); evwait keeps an epoll set in step with it (a slot whose fd or
 * events changed costs one epoll_ctl) and fills revents as poll() would.
 * Why not poll(): each call registers on and leaves the wait queue of all
 * eight descriptors, and a wake polls every one of them again; under the
 * VM tiers' TCG that was ~45 us of every exec's wake, against a peer that
 * waits on one (BENCHMARKS "Issue 12 (round 9)").  Level-triggered, as
 * poll().  Not for threads: one caller. */
#ifndef OC_EVWAIT_H
#define OC_EVWAIT_H

#include <poll.h>
#include <stddef.h>

#define EVW_SLOTS 16

struct evwait {
	int ep;               /* the epoll descriptor, -1 when closed */
	int fd[EVW_SLOTS];    /* what each slot is registered with (-1: none) */
	short ev[EVW_SLOTS];
};

/* 0 or -errno. */
int evwait_open(struct evwait *w);
void evwait_close(struct evwait *w);
/* Slot i registered afresh at the next wait: its descriptor was closed and
 * another may have been given the same number (epoll drops a closed file
 * by itself, and the same number with the same events looks unchanged). */
void evwait_forget(struct evwait *w, size_t i);
/* As poll(fds, n, timeout_ms) (n <= EVW_SLOTS; fd -1: left out): the number
 * of slots with revents set, 0 on timeout, or -errno (-EINTR included). */
int evwait_poll(struct evwait *w, struct pollfd *fds, size_t n, int timeout_ms);

#endif
