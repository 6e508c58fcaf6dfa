/* tracker.c - see tracker.h.  A sorted array: services have tens to a few
 * thousand processes, lookups are O(log n) and the array is cache-friendly. */
#include "tracker.h"

#include <errno.h>
#include <sys/types.h>
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
	out->inst = tp->inst;
	if (s->ep_active && s->ep_child == tp->pid) {
		s->ep_active = false;
		out->episode_end = true;
	}
	out->main_gone = tp->role == ROLE_MAIN;
	int pid = tp->pid;
	memmove(&t->p[i], &t->p[i + 1], (t->n - i - 1) * sizeof(*t->p));
	t->n--;
	for (size_t k = 0; k < t->n && !out->orphans; k++)
		out->orphans = t->p[k].ppid == pid;
}

static bool episode_child_present(const struct tsvc *sv, const struct svc_obs *o)
{
	for (size_t j = 0; j < o->nprocs; j++)
		if (o->procs[j].pid == sv->ep_child)
			return true;
	return false;
}

static int load_services(struct tracker *t, const struct snapshot *s);

int tracker_load(struct tracker *t, const struct snapshot *s)
{
	/* episodes survive a resync when their child is still there */
	for (size_t k = 0; k < t->nsvc; k++) {
		struct tsvc *sv = &t->svc[k];
		sv->ep_active = sv->ep_active && k < s->nsvc && episode_child_present(sv, &s->svc[k]);
	}
	struct tproc *old = t->n ? malloc(t->n * sizeof(*old)) : NULL;
	size_t nold = old ? t->n : 0;
	if (old)
		memcpy(old, t->p, nold * sizeof(*old));
	t->n = 0;
	int rc = load_services(t, s);
	for (size_t i = 0; rc == 0 && i < nold; i++) { /* the write times survive */
		bool found;
		size_t k = locate(t, old[i].pid, &found);
		if (found && t->p[k].start == old[i].start)
			t->p[k].oom_set_ns = old[i].oom_set_ns;
	}
	free(old);
	return rc;
}

static int load_services(struct tracker *t, const struct snapshot *s)
{
	for (size_t k = 0; k < s->nsvc && k < t->nsvc; k++) {
		const struct svc_obs *o = &s->svc[k];
		if (o->main_idx < 0)
			continue;
		for (size_t j = 0; j < o->nprocs; j++) {
			const struct proc_info *pi = &o->procs[j];
			if (tracker_find(t, pi->pid))
				continue; /* matched by an earlier service: first wins */
			const struct svc_place *pl = &o->place[j];
			struct tproc tp = { .pid = pi->pid, .start = pi->st.start_time, .svc = k,
					    .role = pl->role, .ppid = pi->st.ppid,
					    .inst = o->procs[o->inst[pl->inst].main].pid,
					    .matched = j < o->nmatched };
			int rc = put(t, &tp);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int tracker_exec(struct tracker *t, const struct policy *pol, uid_t uid_min,
		 const struct proc_info *pi, uint64_t ts_ns, struct tr_out *out)
{
	memset(out, 0, sizeof(*out));
	bool found;
	size_t i = locate(t, pi->pid, &found);
	ssize_t svc = -1;
	for (size_t k = 0; k < pol->nsvc && k < t->nsvc && svc < 0; k++)
		if (svc_matches(&pol->svc[k], uid_min, pi))
			svc = (ssize_t)k;
	if (svc < 0) {
		/* a child of a main keeps its role whatever it runs */
		if (found && t->p[i].role != ROLE_CHILD)
			drop(t, i, out);
		return 0;
	}
	const struct tproc *parent = tracker_find(t, pi->st.ppid);
	struct tproc tp = { .pid = pi->pid, .start = pi->st.start_time, .svc = (size_t)svc,
			    .since_ns = ts_ns, .ppid = pi->st.ppid, .matched = true };
	if (parent && parent->svc == (size_t)svc) {
		tp.role = parent->role == ROLE_MAIN ? ROLE_CHILD : ROLE_MEMBER;
		tp.inst = parent->inst;
	} else {
		tp.role = ROLE_MAIN; /* an instance of its own, beside any other */
		tp.inst = pi->pid;
	}
	if (found && t->p[i].svc == (size_t)svc && t->p[i].role == tp.role &&
	    t->p[i].start == tp.start) {
		t->p[i].matched = true;
		return 0; /* nothing new (an exec we already saw in a scan) */
	}
	int rc = put(t, &tp);
	if (rc)
		return rc;
	out->added = true;
	out->svc = (size_t)svc;
	out->role = tp.role;
	out->pid = pi->pid;
	out->inst = tp.inst;
	return 0;
}

/* Has the main ppid a live child besides pid?  A main with workers
 * (PostgreSQL's auxiliary processes, prefork children) forks more of
 * them, not snapshots. */
static bool has_other_child(const struct tracker *t, int ppid, int pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].ppid == ppid && t->p[i].pid != pid && t->p[i].role == ROLE_CHILD)
			return true;
	return false;
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
	struct tproc tp = { .pid = child_pid, .svc = svc, .since_ns = ts_ns, .ppid = parent_tgid,
			    .role = parent->role == ROLE_MAIN ? ROLE_CHILD : ROLE_MEMBER,
			    .inst = parent->inst };
	struct tsvc *s = &t->svc[svc];
	int rc = put(t, &tp);
	if (rc)
		return rc;
	out->added = true;
	out->svc = svc;
	out->role = tp.role;
	out->pid = child_pid;
	out->inst = tp.inst;
	if (tp.role != ROLE_CHILD)
		return 0;
	if (s->ep_active && s->ep_inst == tp.inst) {
		/* a second child of the main while the first runs: a pool of
		 * long-lived workers (prefork, backends), not a snapshot fork;
		 * nothing to learn from or to judge */
		s->ep_active = false;
		out->episode_cancel = true;
	} else if (!s->ep_active && !has_other_child(t, parent_tgid, child_pid)) {
		s->ep_active = true;
		s->ep_child = child_pid;
		s->ep_inst = tp.inst;
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

bool tracker_other_main(const struct tracker *t, size_t svc, int pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].svc == svc && t->p[i].role == ROLE_MAIN && t->p[i].pid != pid)
			return true;
	return false;
}

size_t tracker_orphans(const struct tracker *t, int ppid, int *buf, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n && n < cap; i++)
		if (t->p[i].ppid == ppid)
			buf[n++] = t->p[i].pid;
	return n;
}

int tracker_promote(struct tracker *t, const struct proc_info *pi, int *rerolled, size_t cap,
		    size_t *nre, struct tr_out *out)
{
	memset(out, 0, sizeof(*out));
	*nre = 0;
	bool found;
	size_t i = locate(t, pi->pid, &found);
	if (!found || (t->p[i].start && t->p[i].start != pi->st.start_time))
		return -ESRCH; /* not the process we track */
	struct tproc *tp = &t->p[i];
	struct tsvc *s = &t->svc[tp->svc];
	tp->role = ROLE_MAIN;
	tp->inst = pi->pid;
	tp->ppid = pi->st.ppid;
	tp->start = pi->st.start_time;
	tp->matched = true;
	out->added = true;
	out->svc = tp->svc;
	out->role = ROLE_MAIN;
	out->pid = pi->pid;
	out->inst = pi->pid;
	if (s->ep_active && s->ep_child == pi->pid) {
		s->ep_active = false;
		out->episode_cancel = true;
	}
	for (size_t k = 0; k < t->n; k++) {
		struct tproc *c = &t->p[k];
		if (c->ppid != pi->pid || c->pid == pi->pid)
			continue;
		c->inst = pi->pid;
		if (c->role == ROLE_CHILD)
			continue;
		c->role = ROLE_CHILD;
		if (*nre < cap)
			rerolled[(*nre)++] = c->pid;
	}
	return 0;
}

void tracker_set_oom_time(struct tracker *t, int pid, uint64_t ns)
{
	bool found;
	size_t i = locate(t, pid, &found);
	if (found)
		t->p[i].oom_set_ns = ns;
}
