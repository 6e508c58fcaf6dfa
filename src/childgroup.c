/* childgroup.c - the fork child's leaf group (see childgroup.h). */
#include "childgroup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int childgroup_path(const char *svc_cgroup, char *out, size_t size)
{
	if (!svc_cgroup[0] || strcmp(svc_cgroup, "/") == 0)
		return -EINVAL;
	int n = snprintf(out, size, "%s%s", svc_cgroup, CHILDGROUP_SUFFIX);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

bool childgroup_is(const char *cg, const char *svc_cgroup)
{
	size_t n = strlen(svc_cgroup);
	return n > 1 && strncmp(cg, svc_cgroup, n) == 0 && strcmp(cg + n, CHILDGROUP_SUFFIX) == 0;
}

/* Move child (identity: pid + start time) from `from` into `to`; the
 * caller writes the reason.  NULL: out of memory. */
static struct action *attach_action(struct plan *out, const struct pol_service *ps,
				    const struct proc_info *child, const char *from, const char *to)
{
	const struct origin *at = ps->cgroup.at.line ? &ps->cgroup.at : &ps->at;
	struct action *a = plan_action_new(out, ACT_CGROUP_ATTACH, at, ps->name);
	if (!a)
		return NULL;
	a->pid = child->pid;
	a->start_time = child->st.start_time;
	snprintf(a->target, sizeof(a->target), "pid %d (%.32s)", child->pid, child->st.comm);
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", to);
	snprintf(a->current, sizeof(a->current), "%s", from);
	snprintf(a->desired, sizeof(a->desired), "%s", to);
	return a;
}

int childgroup_plan(const struct pol_service *ps, const struct proc_info *child, const char *in,
		    uint64_t budget_kb, struct plan *out)
{
	char own[PROC_PATH_MAX], leaf[PROC_PATH_MAX];
	policy_service_cgroup(ps, own, sizeof(own));
	if (strcmp(in, own) != 0)
		return 0;
	int rc = childgroup_path(own, leaf, sizeof(leaf));
	if (rc < 0)
		return rc;
	const struct origin *at = ps->cgroup.at.line ? &ps->cgroup.at : &ps->at;
	struct action *a = attach_action(out, ps, child, in, leaf);
	if (!a)
		return -ENOMEM;
	snprintf(a->reason, sizeof(a->reason),
		 "fork child of %s: in a leaf of its own, what it allocates is charged and "
		 "throttled there, never in the main's group", ps->name);
	uint64_t kb = budget_kb > CHILDGROUP_HIGH_MIN_KB ? budget_kb : CHILDGROUP_HIGH_MIN_KB;
	kb = (kb + 1023) / 1024 * 1024;
	a = plan_action_new(out, ACT_MEMORY_HIGH, at, ps->name);
	if (!a)
		return -ENOMEM;
	snprintf(a->target, sizeof(a->target), "%s", leaf);
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", leaf);
	snprintf(a->current, sizeof(a->current), "?");
	snprintf(a->desired, sizeof(a->desired), "%" PRIu64, kb * 1024);
	snprintf(a->reason, sizeof(a->reason),
		 "memory.high %" PRIu64 " MiB for %s's fork child: its episode budget (throttling "
		 "slows the save, never the main; no memory.max: a kernel OOM kill is SIGKILL, "
		 "which Redis counts as a failed save)",
		 kb / 1024, ps->name);
	return 0;
}

int childgroup_return_plan(const struct pol_service *ps, const struct proc_info *child,
			   struct plan *out)
{
	char own[PROC_PATH_MAX];
	policy_service_cgroup(ps, own, sizeof(own));
	if (!childgroup_is(child->cgroup, own))
		return 0;
	struct action *a = attach_action(out, ps, child, child->cgroup, own);
	if (!a)
		return -ENOMEM;
	snprintf(a->reason, sizeof(a->reason),
		 "not a disposable fork child of %s after all (a worker pool or a daemonizing "
		 "start): back into the service's group, out of the leaf's memory.high",
		 ps->name);
	return 0;
}
