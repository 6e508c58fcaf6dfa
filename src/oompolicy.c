/* oompolicy.c - see oompolicy.h. */
#include "oompolicy.h"

#include <string.h>

enum oomp_verdict oompolicy_judge(const char *oom_policy, bool children)
{
	if (!oom_policy || !oom_policy[0])
		return OOMP_UNKNOWN;
	if (strcmp(oom_policy, "continue") == 0 || !children)
		return OOMP_FINE;
	if (strcmp(oom_policy, "stop") == 0)
		return OOMP_STOPS_UNIT;
	if (strcmp(oom_policy, "kill") == 0)
		return OOMP_KILLS_UNIT;
	return OOMP_UNKNOWN; /* a value this build does not know: no claim */
}
