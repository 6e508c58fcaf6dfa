/* oomconflict.c - see oomconflict.h. */
#include "oomconflict.h"

bool oom_child_self_set(const struct pol_service *ps, int child_adj, int main_adj)
{
	if (!ps->child_oom_score_adj.set || child_adj == ps->child_oom_score_adj.v)
		return false;
	/* inherited: the main's value now, or the main value overcommitd
	 * wrote before this child was forked */
	if (child_adj == main_adj || (ps->oom_score_adj.set && child_adj == ps->oom_score_adj.v))
		return false;
	return true;
}
