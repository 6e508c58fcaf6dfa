/* apply_cgroup.h - the applier's group creation and process moves (libcgroup)
 * (not a public API; apply.c calls them). */
#ifndef OVERCOMMITD_APPLY_CGROUP_H
#define OVERCOMMITD_APPLY_CGROUP_H

#include "apply.h"
#include "cgroup_backend.h"

/* Create the group if needed, then move the process.
 * Returns 0 (outcome in res) or a negative errno when the journal failed. */
int ap_cgroup_attach(const struct roots *r, const struct action *a, struct journal *j,
		     const struct procpin *pin, struct apply_result *res);
/* Restore one J_CGROUP_ATTACH / J_CGROUP_CREATE / J_CGROUP_SUBTREE entry;
 * outcome in res. */
void ap_restore_attach(const struct roots *r, const struct jentry *e, struct apply_result *res);
void ap_restore_create(const struct roots *r, const struct jentry *e, struct apply_result *res);
void ap_restore_subtree(const struct roots *r, const struct jentry *e, struct apply_result *res);

#endif
