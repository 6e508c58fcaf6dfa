/* timedwrite.h - a kernel-file write with a time bound (DESIGN §2): writing
 * memory.high can block while the kernel reclaims, and the daemon's loop
 * must not stall on it. */
#ifndef OVERCOMMITD_TIMEDWRITE_H
#define OVERCOMMITD_TIMEDWRITE_H

#include <stdbool.h>

/* The same checked write as write_file() (open O_WRONLY|O_TRUNC|O_CLOEXEC,
 * no O_CREAT, one write(), write and close checked), done by a detached
 * worker thread (all signals blocked) that the caller waits for up to
 * timeout_ms.  Returns 0 or -errno; on timeout -ETIMEDOUT and *timed_out =
 * true (timed_out may be NULL): the worker keeps going on its own and its
 * result is dropped, so whether the value was taken is unknown: read the
 * file back later.  Workers inherit the caller's capabilities: start the
 * first one after privs_drop(). */
int write_file_timed(const char *path, const char *s, unsigned timeout_ms, bool *timed_out);

/* Workers not yet finished (a process-wide atomic counter: the only global,
 * so tests and shutdown can wait for abandoned writes to end). */
unsigned timedwrite_inflight(void);

#endif
