/* cgroup_mover.c - cgb_attach_start/wait (cgroup_backend.h): one thread
 * that makes the moves, made at the first and kept.  A thread per move
 * cost ~10 system calls per exec (clone3, its signal mask, robust list,
 * rseq, stack madvise, exit, the join); a kept one is woken and answers
 * through a condition variable (a futex wake and wait each way). */
#include "cgroup_backend.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* a small stack: under vm.overcommit_memory=2 the default 8 MiB would be
 * charged to the commit limit */
#define MOVER_STACK (256u << 10)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static struct cgb_async *pending; /* the move asked for, until it is done */
static bool running;              /* the thread exists (in this process) */

static void *mover(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (!pending || pending->done)
			pthread_cond_wait(&go, &mu);
		struct cgb_async *job = pending;
		pthread_mutex_unlock(&mu);
		int rc = cgb_attach(&job->b, job->group, job->pid);
		pthread_mutex_lock(&mu);
		job->rc = rc;
		job->done = true;
		pending = NULL;
		pthread_cond_signal(&finished);
	}
	return NULL;
}

/* A child of fork() has no mover (only the forking thread is copied). */
static void forked_child(void)
{
	pthread_mutex_init(&mu, NULL);
	pending = NULL;
	running = false;
}

/* Make the thread (mu held); false when it cannot be made now. */
static bool start_mover(void)
{
	static bool atfork;
	pthread_attr_t attr;
	pthread_t th;
	if (!atfork)
		atfork = pthread_atfork(NULL, NULL, forked_child) == 0;
	if (!atfork || pthread_attr_init(&attr) != 0)
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
	job->queued = job->done = false;
	job->rc = snprintf(job->group, sizeof(job->group), "%s", group) >= (int)sizeof(job->group)
			  ? -ENAMETOOLONG
			  : 0;
	if (job->rc < 0)
		return;
	pthread_mutex_lock(&mu);
	if (!pending && (running || start_mover())) {
		pending = job;
		job->queued = true;
		pthread_cond_signal(&go);
	}
	pthread_mutex_unlock(&mu);
	if (!job->queued)
		job->rc = cgb_attach(b, group, pid);
}

int cgb_attach_wait(struct cgb_async *job)
{
	if (!job->queued)
		return job->rc;
	pthread_mutex_lock(&mu);
	while (!job->done)
		pthread_cond_wait(&finished, &mu);
	pthread_mutex_unlock(&mu);
	job->queued = false;
	return job->rc;
}
