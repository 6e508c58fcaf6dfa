/* apply_prune.c - the one-shot `apply` keeps the journal bounded: entries of
 * processes that exited can never be restored. */
#include "apply.h"

#include <errno.h>

#include "apply_util.h"

static bool of_a_process(const struct jentry *e)
{
	return !e->dropped && (e->kind == J_OOM_SCORE_ADJ || e->kind == J_CGROUP_ATTACH);
}

size_t apply_prune_exited(const struct roots *r, struct journal *j)
{
	size_t dropped = 0;
	for (size_t i = 0; i < j->n; i++) {
		struct jentry *e = &j->e[i];
		if (!of_a_process(e))
			continue;
		/* an error reading /proc (not "gone") keeps the entry */
		if (ap_identity(r, e->pid, e->start_time) > AP_ID_SAME &&
		    journal_drop(j, e->kind, e->key) == 0)
			dropped++;
	}
	return dropped;
}

int apply_forget_exited(const struct roots *r, struct journal *j)
{
	int forgotten = 0;
	/* journal_forget marks entries dropped in place: the indices hold */
	for (size_t i = 0; i < j->n; i++) {
		const struct jentry *e = &j->e[i];
		if (!of_a_process(e) || ap_identity(r, e->pid, e->start_time) <= AP_ID_SAME)
			continue;
		int rc = journal_forget(j, e->kind, e->key);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		forgotten += rc == 0;
	}
	return forgotten;
}
