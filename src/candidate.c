/* candidate.c - see candidate.h.  A handful of entries at a time (helpers
 * live for moments): a plain array. */
#include "candidate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cand_add(struct cand_list *l, int pid, uint64_t start, uint64_t t_ms)
{
	cand_take(l, pid); /* a pid seen again is a new process */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct cand *c = realloc(l->c, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		l->c = c;
		l->cap = cap;
	}
	l->c[l->n++] = (struct cand){ .pid = pid, .start = start, .t_ms = t_ms };
	return 0;
}

bool cand_take(struct cand_list *l, int pid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->c[i].pid == pid) {
			l->c[i] = l->c[--l->n];
			return true;
		}
	return false;
}

static const struct cand *held(const struct cand_list *l, int pid, uint64_t start)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->c[i].pid == pid && (!start || !l->c[i].start || l->c[i].start == start))
			return &l->c[i];
	return NULL;
}

size_t cand_filter_plan(struct cand_list *l, struct plan *p, uint64_t now_ms)
{
	for (size_t i = 0; i < l->n;) /* settled: they serve */
		if (now_ms - l->c[i].t_ms >= CAND_SETTLE_MS)
			l->c[i] = l->c[--l->n];
		else
			i++;
	size_t k = 0, dropped = 0;
	for (size_t i = 0; i < p->nact; i++) {
		const struct action *a = &p->act[i];
		bool on_proc = a->kind == ACT_OOM_SCORE_ADJ || a->kind == ACT_CGROUP_ATTACH;
		if (on_proc && held(l, a->pid, a->start_time)) {
			dropped++;
			continue;
		}
		if (k != i)
			p->act[k] = p->act[i];
		k++;
	}
	p->nact = k;
	return dropped;
}

/* when it exec'd on the monotonic clock, from its start time since boot */
static uint64_t exec_ms(uint64_t start_ticks, uint64_t now_ms, uint64_t boot_ms, long hz)
{
	uint64_t start_ms = start_ticks * 1000 / (uint64_t)(hz > 0 ? hz : 100);
	uint64_t age = boot_ms > start_ms ? boot_ms - start_ms : 0;
	return now_ms > age ? now_ms - age : 0;
}

int cand_hold_scanned(struct cand_list *l, const struct snapshot *s, uint64_t now_ms,
		      uint64_t boot_ms, long hz)
{
	int held_n = 0;
	for (size_t k = 0; k < s->nsvc; k++) {
		const struct svc_obs *o = &s->svc[k];
		for (size_t i = 1; i < o->ninst; i++) { /* inst[0]: the oldest main */
			const struct proc_info *m = &o->procs[o->inst[i].main];
			uint64_t t = exec_ms(m->st.start_time, now_ms, boot_ms, hz);
			if (now_ms - t >= CAND_SETTLE_MS || held(l, m->pid, m->st.start_time))
				continue;
			if (cand_add(l, m->pid, m->st.start_time, t) < 0)
				return -ENOMEM;
			held_n++;
		}
	}
	return held_n;
}

void cand_clear(struct cand_list *l)
{
	l->n = 0;
}

void cand_free(struct cand_list *l)
{
	free(l->c);
	memset(l, 0, sizeof(*l));
}
