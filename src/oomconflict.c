/* oomconflict.c - see oomconflict.h. */
#include "oomconflict.h"

bool oom_child_self_set(const struct pol_service *ps, int child_adj, int main_adj, int main_orig)
{
	if (!ps->child_oom_score_adj.set || child_adj == ps->child_oom_score_adj.v)
		return false;
	/* inherited: the main's value now, the main value overcommitd wrote
	 * before this child was forked, or the main's value before that (a
	 * child forked before overcommitd lowered its main: Apache's first
	 * workers, Debian's postmaster at -900) */
	if (child_adj == main_adj || (ps->oom_score_adj.set && child_adj == ps->oom_score_adj.v) ||
	    (main_orig != OOM_ORIG_UNKNOWN && child_adj == main_orig))
		return false;
	return true;
}
