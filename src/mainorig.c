/* mainorig.c - see mainorig.h. */
#include "mainorig.h"

#include <stdio.h>

#include "oomconflict.h"
#include "util.h"

int mainorig_of(const struct journal *j, int pid, uint64_t start_time)
{
	char key[24];
	int64_t v;
	snprintf(key, sizeof(key), "%d", pid);
	const struct jentry *e = journal_find(j, J_OOM_SCORE_ADJ, key);
	if (!e || (e->start_time && start_time && e->start_time != start_time) ||
	    parse_i64(e->original, -1000, 1000, &v) < 0)
		return OOM_ORIG_UNKNOWN;
	return (int)v;
}

void mainorig_note(const struct journal *j, struct snapshot *s, bool judge)
{
	for (size_t i = 0; i < s->nsvc; i++) {
		struct svc_obs *o = &s->svc[i];
		for (size_t k = 0; o->inst && k < o->ninst; k++) {
			const struct proc_info *m = &o->procs[o->inst[k].main];
			o->inst[k].main_was_adj = mainorig_of(j, m->pid, m->st.start_time);
			if (judge)
				o->inst[k].main_orig_adj = o->inst[k].main_was_adj;
		}
	}
}
