/* apply_prune.c - the one-shot `apply` keeps the journal bounded: entries of
 * processes that exited can never be restored. */
#include "apply.h"
#include "apply_util.h"

size_t apply_prune_exited(const struct roots *r, struct journal *j)
{
	size_t dropped = 0;
	for (size_t i = 0; i < j->n; i++) {
		struct jentry *e = &j->e[i];
		if (e->dropped || (e->kind != J_OOM_SCORE_ADJ && e->kind != J_CGROUP_ATTACH))
			continue;
		/* an error reading /proc (not "gone") keeps the entry */
		if (ap_identity(r, e->pid, e->start_time) > AP_ID_SAME &&
		    journal_drop(j, e->kind, e->key) == 0)
			dropped++;
	}
	return dropped;
}
