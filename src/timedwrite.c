/* timedwrite.c - write_file() in a worker thread, waited for with a bound.
 * The job is shared by the caller and the worker and freed by whichever
 * lets go of it last, so a timed-out worker finishes safely on its own. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timedwrite.h"
#include "util.h"

struct job {
	atomic_uint refs; /* caller + worker */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int result;
	char *path, *data; /* point into the same allocation */
};

static atomic_uint inflight;

unsigned timedwrite_inflight(void)
{
	return atomic_load(&inflight);
}

static void job_put(struct job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
	atomic_fetch_sub(&inflight, 1);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	int r = write_file(j->path, j->data);
	pthread_mutex_lock(&j->lock);
	j->result = r;
	j->done = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	job_put(j);
	return NULL;
}

static struct job *job_new(const char *path, const char *s)
{
	size_t plen = strlen(path) + 1, slen = strlen(s) + 1;
	struct job *j = malloc(sizeof(*j) + plen + slen);
	if (!j)
		return NULL;
	j->path = (char *)(j + 1);
	j->data = j->path + plen;
	memcpy(j->path, path, plen);
	memcpy(j->data, s, slen);
	j->done = false;
	j->result = 0;
	atomic_init(&j->refs, 2);
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) != 0) {
		free(j);
		return NULL;
	}
	/* a wall-clock jump must not stretch or cut the wait */
	int r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(&j->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (r != 0) {
		free(j);
		return NULL;
	}
	if (pthread_mutex_init(&j->lock, NULL) != 0) {
		pthread_cond_destroy(&j->cond);
		free(j);
		return NULL;
	}
	return j;
}

/* Detached, with every signal blocked: signals stay with the main loop. */
static int start_worker(struct job *j)
{
	pthread_attr_t attr;
	int r = pthread_attr_init(&attr);
	if (r != 0)
		return -r;
	r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigset_t all, old;
	sigfillset(&all);
	if (r == 0)
		r = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (r == 0) {
		pthread_t t;
		r = pthread_create(&t, &attr, worker, j);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
	return -r;
}

int write_file_timed(const char *path, const char *s, unsigned timeout_ms, bool *timed_out)
{
	if (timed_out)
		*timed_out = false;
	if (!path || !s)
		return -EINVAL;
	struct timespec deadline;
	if (clock_gettime(CLOCK_MONOTONIC, &deadline) < 0)
		return -errno;
	deadline.tv_sec += (time_t)(timeout_ms / 1000);
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	struct job *j = job_new(path, s);
	if (!j)
		return -ENOMEM;
	atomic_fetch_add(&inflight, 1);
	int r = start_worker(j);
	if (r < 0) {
		atomic_store(&j->refs, 1); /* no worker: the caller is the last user */
		job_put(j);
		return r;
	}

	pthread_mutex_lock(&j->lock);
	int w = 0;
	while (!j->done && w != ETIMEDOUT)
		w = pthread_cond_timedwait(&j->cond, &j->lock, &deadline);
	bool done = j->done;
	r = j->result;
	pthread_mutex_unlock(&j->lock);
	job_put(j);
	if (!done) {
		if (timed_out)
			*timed_out = true;
		return -ETIMEDOUT;
	}
	return r;
}
