/* smapsreader.c - see smapsreader.h. */
#include "smapsreader.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SMAPS_READER_NICE 10

struct req_msg {
	int fd;
	struct charge_req q;
};

/* both messages are written whole: the kernel keeps writes of at most
 * PIPE_BUF bytes to a pipe atomic */
_Static_assert(sizeof(struct req_msg) <= 512, "request fits PIPE_BUF");
_Static_assert(sizeof(struct smaps_result) <= 512, "answer fits PIPE_BUF");

struct smaps_reader {
	pthread_t thread;
	int req[2];            /* loop -> thread */
	int rep[2];            /* thread -> loop */
	unsigned inflight;     /* the loop's count */
	atomic_bool reading;   /* the thread's flag */
	atomic_bool stopping;  /* the loop's: queued requests are dropped */
};

/* read/write all of a message, retrying EINTR; 0 at EOF, 1 done, -errno */
static int xfer(int fd, void *buf, size_t len, bool wr)
{
	for (;;) {
		ssize_t n = wr ? write(fd, buf, len) : read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		return (size_t)n == len ? 1 : -EPROTO; /* pipes keep small messages whole */
	}
}

static void *run(void *arg)
{
	struct smaps_reader *sr = arg;
	struct req_msg m;
	/* no signal for this thread: the loop reads them from its signalfd,
	 * and a write to a closed answer pipe is EPIPE here, not SIGPIPE */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* the page walk competes for CPU with the loop and the services: this
	 * thread yields to them (nice 10; best-effort, it reads either way) */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), SMAPS_READER_NICE);
	while (xfer(sr->req[0], &m, sizeof(m), false) == 1) {
		if (atomic_load(&sr->stopping)) {
			close(m.fd); /* read-only */
			continue;
		}
		struct smaps_result res = { .q = m.q };
		uint64_t t0 = mono_ns();
		atomic_store(&sr->reading, true);
		res.rc = smaps_charge_read_fd(m.fd, &res.sc);
		atomic_store(&sr->reading, false);
		res.ns = mono_ns() - t0;
		if (xfer(sr->rep[1], &res, sizeof(res), true) != 1)
			atomic_store(&sr->stopping, true); /* the loop is gone: drain */
	}
	return NULL;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]); /* pipes: nothing to flush */
	p[0] = p[1] = -1;
}

int smaps_reader_start(struct smaps_reader **out)
{
	struct smaps_reader *sr = calloc(1, sizeof(*sr));
	if (!sr)
		return -ENOMEM;
	sr->req[0] = sr->req[1] = sr->rep[0] = sr->rep[1] = -1;
	int rc = 0;
	if (pipe2(sr->req, O_CLOEXEC) < 0 || pipe2(sr->rep, O_CLOEXEC) < 0)
		rc = -errno;
	/* the loop never blocks on either end */
	if (rc == 0 && (fcntl(sr->req[1], F_SETFL, O_NONBLOCK) < 0 ||
			fcntl(sr->rep[0], F_SETFL, O_NONBLOCK) < 0))
		rc = -errno;
	atomic_init(&sr->reading, false);
	atomic_init(&sr->stopping, false);
	if (rc == 0)
		rc = -pthread_create(&sr->thread, NULL, run, sr);
	if (rc < 0) {
		close_pair(sr->req);
		close_pair(sr->rep);
		free(sr);
		return rc;
	}
	*out = sr;
	return 0;
}

int smaps_reader_fd(const struct smaps_reader *sr)
{
	return sr->rep[0];
}

int smaps_reader_submit(struct smaps_reader *sr, int fd, const struct charge_req *q)
{
	struct req_msg m = { .fd = fd, .q = *q };
	int rc = xfer(sr->req[1], &m, sizeof(m), true);
	if (rc != 1) {
		close(fd); /* read-only */
		return rc == -EWOULDBLOCK ? -EAGAIN : rc < 0 ? rc : -EPIPE;
	}
	sr->inflight++;
	return 0;
}

int smaps_reader_collect(struct smaps_reader *sr, struct smaps_result *res)
{
	int rc = xfer(sr->rep[0], res, sizeof(*res), false);
	if (rc == -EAGAIN || rc == -EWOULDBLOCK)
		return 0;
	if (rc == 0)
		return -EPIPE; /* the thread ended */
	if (rc == 1 && sr->inflight)
		sr->inflight--;
	return rc;
}

unsigned smaps_reader_inflight(const struct smaps_reader *sr)
{
	return sr->inflight;
}

bool smaps_reader_reading(const struct smaps_reader *sr)
{
	return atomic_load(&sr->reading);
}

void smaps_reader_stop(struct smaps_reader *sr)
{
	if (!sr)
		return;
	atomic_store(&sr->stopping, true); /* what is queued is not read */
	close(sr->req[1]); /* the thread sees EOF after its current read */
	sr->req[1] = -1;
	close(sr->rep[0]); /* and a write into a closed pipe fails (EPIPE) */
	sr->rep[0] = -1;
	pthread_join(sr->thread, NULL);
	close_pair(sr->req);
	close_pair(sr->rep);
	free(sr);
}
