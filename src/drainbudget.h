/* drainbudget.h - when one drain of the proc connector hands the poll loop
 * back (DESIGN.md, issue 13 "time budget in the event drain").
 *
 * The daemon enforces inside the event callback, so an event costs from
 * ~2 us (an unmatched exit) to milliseconds (a matched fork under TCG: a
 * journal line, /proc reads, a write).  A drain bounded by count alone then
 * runs for minutes and the periodic pass, the metrics file and WATCHDOG=1
 * starve.  Each drain therefore stops at whichever comes first, a message
 * count or a time; the kernel keeps the rest queued, poll() returns at once
 * and the due timers run in between.  A drain always reads at least one
 * message, so a stalled clock cannot stop the daemon from making progress. */
#ifndef OVERCOMMITD_DRAINBUDGET_H
#define OVERCOMMITD_DRAINBUDGET_H

#include <stdint.h>

struct drain_budget {
	uint64_t max_ns;   /* time one drain may take; 0: no time bound */
	unsigned max_msgs; /* messages one drain may read; 0: no count bound */
};

/* The daemon's numbers (measured, see DESIGN.md): 25 ms is half the fork
 * episode's 50 ms anon sampling period, so a sample is late by at most half
 * a period, the 1 s+ tick (pass, metrics file, WATCHDOG=1 at half of
 * WatchdogSec) by 2.5%; it costs one poll() per 25 ms of events.  16,384 messages
 * take ~36 ms at the 2.2 us of a bare message: on real hardware the time
 * bound ends a drain first, the count only matters if the clock stalls. */
#define DRAIN_BUDGET_NS (25ull * 1000 * 1000)
#define DRAIN_BUDGET_MSGS 16384u

enum drain_step {
	DRAIN_GO_ON,      /* read another message */
	DRAIN_YIELD_TIME, /* the time is used up */
	DRAIN_YIELD_COUNT /* the message count is */
};

/* Pure (the clock is the caller's): may a drain that started at start_ns and
 * has read msgs messages read another at now_ns?  A clock that went back
 * counts as no time spent. */
enum drain_step drain_next(const struct drain_budget *b, uint64_t start_ns, uint64_t now_ns,
			   unsigned msgs);

#endif
