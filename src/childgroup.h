/* childgroup.h - a fork child's own leaf group (DESIGN "Cgroups: the child
 * pays, never the parent").  Where overcommitd places a service in a group
 * itself (no systemd unit owns it), the disposable fork child of the main
 * (BGSAVE, AOF rewrite) is moved at its fork into the sibling group
 * "<group>.fork", whose memory.high is the episode's budget: what the child
 * itself allocates is charged and throttled there, never in the main's
 * group, so it cannot push the main over the main's memory.high.  Pure. */
#ifndef OVERCOMMITD_CHILDGROUP_H
#define OVERCOMMITD_CHILDGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plan.h"
#include "policy.h"
#include "proc.h"

#define CHILDGROUP_SUFFIX ".fork"
/* memory.high of the leaf never below this: a save child's own buffers */
#define CHILDGROUP_HIGH_MIN_KB (16u * 1024u)

/* "/overcommitd/redis" -> "/overcommitd/redis.fork"; -ENAMETOOLONG, -EINVAL
 * for the root group. */
int childgroup_path(const char *svc_cgroup, char *out, size_t size);
/* Is cg the fork leaf of svc_cgroup? */
bool childgroup_is(const char *cg, const char *svc_cgroup);
/* The actions that put child (a fork child of ps's main, now in the group
 * `in`) into the leaf with memory.high = max(budget_kb, the floor), rounded
 * up to a MiB.  Nothing (0, no action) unless `in` is the policy's group
 * for ps (a systemd unit's group is systemd's: not split here).
 * Returns 0, -ENOMEM or -ENAMETOOLONG. */
int childgroup_plan(const struct pol_service *ps, const struct proc_info *child, const char *in,
		    uint64_t budget_kb, struct plan *out);

/* The action that moves child back from the leaf into ps's group when its
 * episode is cancelled (it was no disposable save child: the first worker of
 * a pool, or the real server of a daemonizing start, now a main).  Nothing
 * unless child is in the leaf of the policy's group.  0 or -ENOMEM. */
int childgroup_return_plan(const struct pol_service *ps, const struct proc_info *child,
			   struct plan *out);

#endif
