/* drainbudget.c - the drain's keep-reading-or-yield decision (drainbudget.h) */
#include "drainbudget.h"

#include <stddef.h>

enum drain_step drain_next(const struct drain_budget *b, uint64_t start_ns, uint64_t now_ns,
			   unsigned msgs)
{
	if (!b || msgs == 0) /* progress first: one message per drain at least */
		return DRAIN_GO_ON;
	if (b->max_msgs > 0 && msgs >= b->max_msgs)
		return DRAIN_YIELD_COUNT;
	uint64_t spent = now_ns > start_ns ? now_ns - start_ns : 0;
	if (b->max_ns > 0 && spent >= b->max_ns)
		return DRAIN_YIELD_TIME;
	return DRAIN_GO_ON;
}
