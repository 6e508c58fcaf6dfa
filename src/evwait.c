/* evwait.c - see evwait.h. */
#include "evwait.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

int evwait_open(struct evwait *w)
{
	for (size_t i = 0; i < EVW_SLOTS; i++) {
		w->fd[i] = -1;
		w->ev[i] = 0;
	}
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	return w->ep < 0 ? -errno : 0;
}

void evwait_close(struct evwait *w)
{
	if (w->ep >= 0)
		close(w->ep); /* an epoll set: nothing buffered to report */
	w->ep = -1;
}

static uint32_t to_epoll(short ev)
{
	return (ev & POLLIN ? EPOLLIN : 0u) | (ev & POLLOUT ? EPOLLOUT : 0u) |
	       (ev & POLLPRI ? EPOLLPRI : 0u);
}

static short from_epoll(uint32_t ev)
{
	return (short)((ev & EPOLLIN ? POLLIN : 0) | (ev & EPOLLOUT ? POLLOUT : 0) |
		       (ev & EPOLLPRI ? POLLPRI : 0) | (ev & EPOLLHUP ? POLLHUP : 0) |
		       (ev & EPOLLERR ? POLLERR : 0));
}

void evwait_forget(struct evwait *w, size_t i)
{
	if (i >= EVW_SLOTS || w->fd[i] < 0)
		return;
	(void)epoll_ctl(w->ep, EPOLL_CTL_DEL, w->fd[i], NULL); /* gone already, maybe */
	w->fd[i] = -1;
	w->ev[i] = 0;
}

/* Slot i registered as fds says.  A descriptor closed since it was added
 * left the set by itself (its number may be new): its removal may fail. */
static int sync_slot(struct evwait *w, size_t i, const struct pollfd *p)
{
	if (p->fd == w->fd[i] && p->events == w->ev[i])
		return 0;
	struct epoll_event e = { .events = to_epoll(p->events), .data.u32 = (uint32_t)i };
	if (p->fd == w->fd[i] && p->fd >= 0 && epoll_ctl(w->ep, EPOLL_CTL_MOD, p->fd, &e) == 0) {
		w->ev[i] = p->events;
		return 0;
	}
	evwait_forget(w, i);
	if (p->fd >= 0 && epoll_ctl(w->ep, EPOLL_CTL_ADD, p->fd, &e) < 0)
		return -errno;
	w->fd[i] = p->fd;
	w->ev[i] = p->events;
	return 0;
}

int evwait_poll(struct evwait *w, struct pollfd *fds, size_t n, int timeout_ms)
{
	if (n > EVW_SLOTS || w->ep < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		fds[i].revents = 0;
		int rc = sync_slot(w, i, &fds[i]);
		if (rc < 0)
			return rc;
	}
	struct epoll_event got[EVW_SLOTS];
	int k = epoll_wait(w->ep, got, (int)n, timeout_ms);
	if (k < 0)
		return -errno;
	for (int j = 0; j < k; j++)
		if (got[j].data.u32 < n)
			fds[got[j].data.u32].revents = from_epoll(got[j].events);
	return k;
}
