/* instance.c - roles and instances of one service's processes (svc_obs_index,
 * DESIGN §7 "Instances").  Pure.  A daemonizing server, a second Redis on
 * another port, a PostgreSQL cluster beside another: each matched process
 * whose parent is not a matched process of the same service is the main of
 * an instance, never "the oldest wins" (an older process of the service is
 * not a reason to become main). */
#include "snapshot.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pid_idx {
	int pid;
	size_t idx;
};

static int cmp_pid_idx(const void *a, const void *b)
{
	int x = ((const struct pid_idx *)a)->pid, y = ((const struct pid_idx *)b)->pid;
	return (x > y) - (x < y);
}

/* index in procs of the matched process with this pid, or SIZE_MAX */
static size_t matched_idx(const struct pid_idx *by_pid, size_t nm, int pid)
{
	struct pid_idx key = { .pid = pid };
	const struct pid_idx *f = bsearch(&key, by_pid, nm, sizeof(*by_pid), cmp_pid_idx);
	return f ? f->idx : SIZE_MAX;
}

struct age {
	uint64_t start;
	int pid;
	size_t idx;
};

static int cmp_age(const void *a, const void *b)
{
	const struct age *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void new_instance(struct svc_obs *o, size_t j)
{
	o->place[j].role = ROLE_MAIN;
	o->place[j].inst = o->ninst;
	o->inst[o->ninst].main = j;
	o->inst[o->ninst].commit_kb = proc_commit_kb(&o->procs[j]);
	o->inst[o->ninst].main_orig_adj = INT32_MIN; /* unknown until a journal says */
	o->inst[o->ninst].main_was_adj = INT32_MIN;
	o->ninst++;
}

/* Mains: matched processes whose parent is not matched; oldest first. */
static int find_mains(struct svc_obs *o, const struct pid_idx *by_pid, bool *is_main)
{
	size_t nm = o->nmatched, nmain = 0;
	struct age *order = malloc(nm * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t j = 0; j < nm; j++) {
		const struct proc_info *p = &o->procs[j];
		if (matched_idx(by_pid, nm, p->st.ppid) == SIZE_MAX || p->st.ppid == p->pid)
			order[nmain++] = (struct age){ p->st.start_time, p->pid, j };
	}
	qsort(order, nmain, sizeof(*order), cmp_age);
	for (size_t k = 0; k < nmain; k++) {
		is_main[order[k].idx] = true;
		new_instance(o, order[k].idx);
	}
	free(order);
	return 0;
}

static bool older(const struct proc_info *a, const struct proc_info *b)
{
	if (a->st.start_time != b->st.start_time)
		return a->st.start_time < b->st.start_time;
	return a->pid < b->pid;
}

/* The instance above matched process j: walk up through matched parents to
 * a main, then label the path.  A ppid cycle (only in hostile trees) never
 * reaches one: the oldest process on the walk then starts an instance. */
static void place_matched(struct svc_obs *o, const struct pid_idx *by_pid, bool *done, size_t j)
{
	size_t nm = o->nmatched, cur = j, steps = 0, oldest = j;
	while (!done[cur] && steps++ <= nm) {
		if (older(&o->procs[cur], &o->procs[oldest]))
			oldest = cur;
		cur = matched_idx(by_pid, nm, o->procs[cur].st.ppid);
	}
	if (!done[cur]) {
		new_instance(o, oldest);
		done[oldest] = true;
	}
	for (cur = j; !done[cur];)
		cur = matched_idx(by_pid, nm, o->procs[cur].st.ppid);
	size_t inst = o->place[cur].inst;
	for (cur = j; !done[cur];) {
		size_t parent = matched_idx(by_pid, nm, o->procs[cur].st.ppid);
		o->place[cur].inst = inst;
		o->place[cur].role = o->place[parent].role == ROLE_MAIN ? ROLE_CHILD : ROLE_MEMBER;
		done[cur] = true;
		cur = parent;
	}
}

static void count(struct svc_obs *o)
{
	for (size_t j = 0; j < o->nprocs; j++) {
		struct svc_inst *in = &o->inst[o->place[j].inst];
		if (o->place[j].role == ROLE_MAIN)
			continue;
		in->child_commit_kb += proc_commit_kb(&o->procs[j]);
		if (o->place[j].role == ROLE_CHILD)
			in->nchildren++;
		else
			in->nmembers++;
	}
	size_t big = 0;
	for (size_t k = 1; k < o->ninst; k++)
		if (o->inst[k].commit_kb > o->inst[big].commit_kb)
			big = k; /* ties: the older instance stays */
	o->main_idx = (ssize_t)o->inst[big].main;
}

/* Children that did not match: the instance of the main that is their
 * parent; anything else (not made by the snapshot) joins instance 0. */
static void place_children(struct svc_obs *o, const struct pid_idx *by_pid)
{
	for (size_t j = o->nmatched; j < o->nprocs; j++) {
		size_t parent = matched_idx(by_pid, o->nmatched, o->procs[j].st.ppid);
		bool of_main = parent != SIZE_MAX && o->place[parent].role == ROLE_MAIN;
		o->place[j].role = of_main ? ROLE_CHILD : ROLE_MEMBER;
		o->place[j].inst = parent != SIZE_MAX ? o->place[parent].inst : 0;
	}
}

int svc_obs_index(struct svc_obs *o)
{
	svc_obs_index_free(o);
	o->main_idx = -1;
	if (o->nmatched == 0)
		return 0;
	size_t nm = o->nmatched;
	o->place = calloc(o->nprocs, sizeof(*o->place));
	o->inst = calloc(nm, sizeof(*o->inst));
	struct pid_idx *by_pid = malloc(nm * sizeof(*by_pid));
	bool *done = calloc(nm, sizeof(*done));
	int rc = -ENOMEM;
	if (!o->place || !o->inst || !by_pid || !done)
		goto out;
	for (size_t j = 0; j < nm; j++)
		by_pid[j] = (struct pid_idx){ o->procs[j].pid, j };
	qsort(by_pid, nm, sizeof(*by_pid), cmp_pid_idx);
	if ((rc = find_mains(o, by_pid, done)) < 0)
		goto out;
	for (size_t j = 0; j < nm; j++)
		if (!done[j])
			place_matched(o, by_pid, done, j);
	place_children(o, by_pid);
	count(o);
out:
	free(by_pid);
	free(done);
	if (rc < 0)
		svc_obs_index_free(o);
	return rc;
}

void svc_obs_index_free(struct svc_obs *o)
{
	free(o->place);
	free(o->inst);
	o->place = NULL;
	o->inst = NULL;
	o->ninst = 0;
}
