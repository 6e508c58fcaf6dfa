/* cgroup_mover.c - cgb_attach_start/wait (cgroup_backend.h): one thread
 * that makes the moves, made at the first and kept.  A thread per move
 * cost ~10 system calls per exec (clone3, its signal mask, robust list,
 * rseq, stack madvise, exit, the join); a kept one is woken by a semaphore
 * and answers by another (a futex wake and at most one wait each way; a
 * mutex and condition variable measured 8 futex calls per move).  Only
 * the thread that starts a move waits for it: one move at a time. */
#include "cgroup_backend.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* a small stack: under vm.overcommit_memory=2 the default 8 MiB would be
 * charged to the commit limit */
#define MOVER_STACK (256u << 10)

static sem_t go, finished;
static struct cgb_async *pending; /* written before go is posted */
static bool running;              /* the thread exists (in this process) */
static bool busy;                 /* a move started, not waited for yet */

static void *mover(void *arg)
{
	(void)arg;
	for (;;) {
		while (sem_wait(&go) < 0)
			; /* EINTR only: every signal is blocked here anyway */
		pending->rc = cgb_attach(&pending->b, pending->group, pending->pid);
		sem_post(&finished);
	}
	return NULL;
}

/* A child of fork() has no mover (only the forking thread is copied). */
static void forked_child(void)
{
	running = busy = false;
}

/* Make the thread; false when it cannot be made now (tried again later). */
static bool start_mover(void)
{
	static bool atfork;
	pthread_attr_t attr;
	pthread_t th;
	if (!atfork)
		atfork = pthread_atfork(NULL, NULL, forked_child) == 0;
	if (!atfork || sem_init(&go, 0, 0) < 0 || sem_init(&finished, 0, 0) < 0 ||
	    pthread_attr_init(&attr) != 0)
		return false;
	/* no signal for it: the daemon takes them through a signalfd */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	running = pthread_attr_setstacksize(&attr, MOVER_STACK) == 0 &&
		  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
		  pthread_create(&th, &attr, mover, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return running;
}

void cgb_attach_start(struct cgb_async *job, const struct cgb *b, const char *group, pid_t pid)
{
	job->b = *b;
	job->pid = pid;
	job->queued = false;
	job->rc = snprintf(job->group, sizeof(job->group), "%s", group) >= (int)sizeof(job->group)
			  ? -ENAMETOOLONG
			  : 0;
	if (job->rc < 0)
		return;
	if (!busy && (running || start_mover())) {
		pending = job;
		busy = job->queued = true;
		if (sem_post(&go) == 0)
			return;
		busy = job->queued = false; /* cannot happen (the count is 0 or 1) */
	}
	job->rc = cgb_attach(b, group, pid);
}

int cgb_attach_wait(struct cgb_async *job)
{
	if (!job->queued)
		return job->rc;
	while (sem_wait(&finished) < 0)
		; /* EINTR: a signal to the daemon, the move still runs */
	job->queued = busy = false;
	return job->rc;
}
