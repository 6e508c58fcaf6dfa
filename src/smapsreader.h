/* smapsreader.h - the daemon's smaps reads, off its event loop (DESIGN
 * "Fork charge and the fork verdict", the reads' place).
 *
 * read() of /proc/PID/smaps walks the process's page tables under its mmap
 * lock: 9 ms per GiB here, 104-515 ms for a 20 MiB Redis in a TCG guest.
 * The descriptor is opened on the loop (the privileged reader does the
 * permission check at open, which is cheap); the read and the parse run on
 * one thread of the daemon, which gets requests through one pipe and
 * answers through another that the loop polls.  The thread touches nothing
 * of the daemon's state: a request carries all it needs, and the answer
 * all the loop needs (fork_observe_done). */
#ifndef OVERCOMMITD_SMAPSREADER_H
#define OVERCOMMITD_SMAPSREADER_H

#include <stdbool.h>
#include <stdint.h>
#include "forkobs.h"

struct smaps_reader;

struct smaps_result {
	struct charge_req q;      /* the request, as submitted */
	int rc;                   /* 0 or -errno */
	struct smaps_charge sc;   /* when rc == 0 */
	uint64_t ns;              /* the read and parse took this long */
};

/* Start the thread.  0 or -errno. */
int smaps_reader_start(struct smaps_reader **out);
/* Readable when answers wait (poll it). */
int smaps_reader_fd(const struct smaps_reader *sr);
/* Hand over fd (an open /proc/PID/smaps; always consumed) for q.
 * 0, or -EAGAIN when the request pipe is full (the read is not done). */
int smaps_reader_submit(struct smaps_reader *sr, int fd, const struct charge_req *q);
/* One answer: 1 and *res, 0 when none waits, -errno. */
int smaps_reader_collect(struct smaps_reader *sr, struct smaps_result *res);
/* Requests submitted and not yet collected. */
unsigned smaps_reader_inflight(const struct smaps_reader *sr);
/* The thread is inside a read right now (the latency proof: events the
 * loop handles meanwhile are counted apart). */
bool smaps_reader_reading(const struct smaps_reader *sr);
/* Stop the thread (after its current read; queued ones are dropped) and
 * free; sr may be NULL. */
void smaps_reader_stop(struct smaps_reader *sr);

#endif
