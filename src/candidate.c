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

void cand_clear(struct cand_list *l)
{
	l->n = 0;
}

void cand_free(struct cand_list *l)
{
	free(l->c);
	memset(l, 0, sizeof(*l));
}
