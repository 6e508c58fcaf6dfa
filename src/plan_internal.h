/* plan_internal.h - helpers the planner shares with other modules. */
#ifndef OVERCOMMITD_PLAN_INTERNAL_H
#define OVERCOMMITD_PLAN_INTERNAL_H

#include <stddef.h>
#include "policy.h"

/* The cgroup path ("/overcommitd/redis") overcommitd uses for a service
 * without one of its own: "/" + the policy's `cgroup`, else
 * "/overcommitd/NAME".  Returns buf. */
const char *plan_policy_cgroup(const struct pol_service *ps, char *buf, size_t size);

#endif
