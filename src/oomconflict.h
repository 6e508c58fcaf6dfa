/* oomconflict.h - services that set their own oom_score_adj: PostgreSQL
 * backends write PG_OOM_ADJUST_VALUE after fork (Debian starts the
 * postmaster at -900), Redis `oom-score-adj yes` sets its save child's.
 * A value the service set itself is a conflict with the policy, reported
 * once and left alone; overcommitd never writes it back (no write war).
 * Pure. */
#ifndef OVERCOMMITD_OOMCONFLICT_H
#define OVERCOMMITD_OOMCONFLICT_H

#include <stdbool.h>
#include <stdint.h>
#include "policy.h"

/* main_orig: the main's value before overcommitd first wrote it (its
 * journal entry), OOM_ORIG_UNKNOWN when none is known. */
#define OOM_ORIG_UNKNOWN INT32_MIN

/* A child of a main inherits the main's oom_score_adj at fork; overcommitd
 * writes child_oom_score_adj.  A child holding anything else (not the
 * main's value now, not the main's value before overcommitd wrote it, not
 * either policy value) set it itself after fork.  false when the policy
 * names no child value (nothing to conflict with). */
bool oom_child_self_set(const struct pol_service *ps, int child_adj, int main_adj, int main_orig);

#endif
