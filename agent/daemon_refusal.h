/* daemon_refusal.h - the daemon's side of commit-refusal capture:
 * the capture's fd in the poll, one log line per refusal (rate-limited per
 * service), the book persisted for `status`/`recommend`, the metrics. */
#ifndef OVERCOMMITD_DAEMON_REFUSAL_H
#define OVERCOMMITD_DAEMON_REFUSAL_H

struct daemon;
struct refusal_book;

/* Before capabilities are dropped.  Never fails the daemon: where the
 * capture is unavailable it says why once and the daemon runs on. */
void refusals_setup(struct daemon *d);
/* The fd to poll, -1 when there is no capture. */
int refusals_fd(const struct daemon *d);
/* A bounded batch of waiting refusals: the loop comes back for the rest. */
void refusals_drain(struct daemon *d);
/* Each periodic pass: folded-line summaries, the book to disk if changed. */
void refusals_tick(struct daemon *d);
const struct refusal_book *refusals_book(const struct daemon *d);
void refusals_teardown(struct daemon *d);

#endif
