/* tracker.c - see tracker.h.  A sorted array: services have tens to a few
 * thousand processes, lookups are O(log n) and the array is cache-friendly. */
#include "tracker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tracker_init(struct tracker *t, size_t nsvc)
{
	memset(t, 0, sizeof(*t));
	t->svc = calloc(nsvc ? nsvc : 1, sizeof(*t->svc));
	if (!t->svc)
		return -ENOMEM;
	t->nsvc = nsvc;
	return 0;
}

void tracker_free(struct tracker *t)
{
	free(t->p);
	free(t->svc);
	memset(t, 0, sizeof(*t));
}

/* index of pid, or of where it would go (*found false) */
static size_t locate(const struct tracker *t, int pid, bool *found)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < t->n && t->p[lo].pid == pid;
	return lo;
}

const struct tproc *tracker_find(const struct tracker *t, int pid)
{
	bool found;
	size_t i = locate(t, pid, &found);
	return found ? &t->p[i] : NULL;
}

void tracker_set_start(struct tracker *t, int pid, uint64_t start)
{
	bool found;
	size_t i = locate(t, pid, &found);
	if (found)
		t->p[i].start = start;
}

/* insert or replace (a pid seen again is a new process: the old one is gone) */
static int put(struct tracker *t, const struct tproc *np)
{
	bool found;
	size_t i = locate(t, np->pid, &found);
	if (found) {
		t->p[i] = *np;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tproc *p = realloc(t->p, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->p = p;
		t->cap = cap;
	}
	memmove(&t->p[i + 1], &t->p[i], (t->n - i) * sizeof(*t->p));
	t->p[i] = *np;
	t->n++;
	return 0;
}

static void drop(struct tracker *t, size_t i, struct tr_out *out)
{
	const struct tproc *tp = &t->p[i];
	struct tsvc *s = &t->svc[tp->svc];
	out->removed = true;
	out->svc = tp->svc;
	out->role = tp->role;
	out->pid = tp->pid;
	if (s->ep_active && s->ep_child == tp->pid) {
		s->ep_active = false;
		out->episode_end = true;
	}
	if (tp->role == ROLE_MAIN && s->main_pid == tp->pid) {
		s->main_pid = 0;
		s->main_start = 0;
		out->main_gone = true;
	}
	memmove(&t->p[i], &t->p[i + 1], (t->n - i - 1) * sizeof(*t->p));
	t->n--;
}

int tracker_load(struct tracker *t, const struct snapshot *s)
{
	/* episodes survive a resync when their child is still there */
	for (size_t k = 0; k < t->nsvc; k++) {
		struct tsvc *sv = &t->svc[k];
		bool keep = false;
		if (sv->ep_active && k < s->nsvc)
			for (size_t j = 0; j < s->svc[k].nprocs && !keep; j++)
				keep = s->svc[k].procs[j].pid == sv->ep_child;
		sv->ep_active = keep;
		sv->main_pid = 0;
		sv->main_start = 0;
	}
	t->n = 0;
	for (size_t k = 0; k < s->nsvc && k < t->nsvc; k++) {
		const struct svc_obs *o = &s->svc[k];
		if (o->main_idx < 0)
			continue;
		const struct proc_info *m = &o->procs[o->main_idx];
		t->svc[k].main_pid = m->pid;
		t->svc[k].main_start = m->st.start_time;
		for (size_t j = 0; j < o->nprocs; j++) {
			const struct proc_info *pi = &o->procs[j];
			if (tracker_find(t, pi->pid))
				continue; /* matched by an earlier service: first wins */
			struct tproc tp = { .pid = pi->pid, .start = pi->st.start_time, .svc = k };
			tp.role = (ssize_t)j == o->main_idx ? ROLE_MAIN
				  : pi->st.ppid == m->pid ? ROLE_CHILD
							  : ROLE_MEMBER;
			int rc = put(t, &tp);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int tracker_exec(struct tracker *t, const struct policy *pol, const struct proc_info *pi,
		 uint64_t ts_ns, struct tr_out *out)
{
	memset(out, 0, sizeof(*out));
	bool found;
	size_t i = locate(t, pi->pid, &found);
	ssize_t svc = -1;
	for (size_t k = 0; k < pol->nsvc && k < t->nsvc && svc < 0; k++)
		if (svc_matches(&pol->svc[k], pi))
			svc = (ssize_t)k;
	if (svc < 0) {
		/* a child of the main keeps its role whatever it runs */
		if (found && t->p[i].role != ROLE_CHILD)
			drop(t, i, out);
		return 0;
	}
	const struct tproc *parent = tracker_find(t, pi->st.ppid);
	struct tsvc *s = &t->svc[svc];
	struct tproc tp = { .pid = pi->pid, .start = pi->st.start_time, .svc = (size_t)svc,
			    .since_ns = ts_ns };
	if (parent && parent->svc == (size_t)svc)
		tp.role = parent->role == ROLE_MAIN ? ROLE_CHILD : ROLE_MEMBER;
	else if (s->main_pid == 0 || s->main_pid == pi->pid)
		tp.role = ROLE_MAIN;
	else
		tp.role = ROLE_MEMBER; /* a second instance: the first stays main */
	if (found && t->p[i].svc == (size_t)svc && t->p[i].role == tp.role &&
	    t->p[i].start == tp.start)
		return 0; /* nothing new (an exec we already saw in a scan) */
	int rc = put(t, &tp);
	if (rc)
		return rc;
	if (tp.role == ROLE_MAIN) {
		s->main_pid = pi->pid;
		s->main_start = pi->st.start_time;
	}
	out->added = true;
	out->svc = (size_t)svc;
	out->role = tp.role;
	out->pid = pi->pid;
	return 0;
}

int tracker_fork(struct tracker *t, int parent_tgid, int child_pid, int child_tgid,
		 uint64_t ts_ns, struct tr_out *out)
{
	memset(out, 0, sizeof(*out));
	if (child_pid != child_tgid)
		return 0; /* a thread */
	const struct tproc *parent = tracker_find(t, parent_tgid);
	if (!parent) {
		/* the pid may still name a process that exited unseen */
		bool found;
		size_t i = locate(t, child_pid, &found);
		if (found)
			drop(t, i, out);
		memset(out, 0, sizeof(*out));
		return 0;
	}
	size_t svc = parent->svc;
	struct tproc tp = { .pid = child_pid, .svc = svc, .since_ns = ts_ns,
			    .role = parent->role == ROLE_MAIN ? ROLE_CHILD : ROLE_MEMBER };
	struct tsvc *s = &t->svc[svc];
	int rc = put(t, &tp);
	if (rc)
		return rc;
	out->added = true;
	out->svc = svc;
	out->role = tp.role;
	out->pid = child_pid;
	if (tp.role == ROLE_CHILD && !s->ep_active) {
		s->ep_active = true;
		s->ep_child = child_pid;
		s->ep_start_ns = ts_ns;
		out->episode_start = true;
	}
	return 0;
}

void tracker_exit(struct tracker *t, int pid, int tgid, uint64_t ts_ns, struct tr_out *out)
{
	memset(out, 0, sizeof(*out));
	if (pid != tgid)
		return; /* a thread */
	bool found;
	size_t i = locate(t, pid, &found);
	if (!found)
		return;
	/* an exit that happened before the entry was made is the previous
	 * owner of the pid (events from different CPUs arrive out of order) */
	if (t->p[i].since_ns && ts_ns && ts_ns < t->p[i].since_ns)
		return;
	drop(t, i, out);
}

size_t tracker_pids(const struct tracker *t, int *buf, size_t cap)
{
	size_t n = t->n < cap ? t->n : cap;
	for (size_t i = 0; i < n; i++)
		buf[i] = t->p[i].pid;
	return n;
}
