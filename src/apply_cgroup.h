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
/* The same in two halves, so other writes can run while the move waits
 * in the kernel (cgb_async): begin pins the process, journals its group
 * and starts the move; 1 = started (call ap_attach_end), 0 = outcome in
 * res, -errno = the journal failed.  end waits and checks it arrived. */
struct ap_attach {
	bool ready; /* set by the caller: ap_attach_ready said so (no ensure) */
	const struct procpin *pin; /* set by the caller: its pin, or NULL */
	int pfd;
	bool own_pfd; /* pfd opened here (else the pin's): closed at the end */
	struct cgb b;
	char cur[PROC_PATH_MAX];
	struct cgb_async job;
};
int ap_attach_begin(const struct roots *r, const struct action *a, struct journal *j,
		    struct ap_attach *st, struct apply_result *res);
void ap_attach_end(const struct roots *r, const struct action *a, struct ap_attach *st,
		   struct apply_result *res);
/* The action's group exists ready (nothing to create or journal first). */
bool ap_attach_ready(const struct roots *r, const struct action *a);

/* Restore one J_CGROUP_ATTACH / J_CGROUP_CREATE / J_CGROUP_SUBTREE entry;
 * outcome in res. */
void ap_restore_attach(const struct roots *r, const struct jentry *e, struct apply_result *res);
void ap_restore_create(const struct roots *r, const struct jentry *e, struct apply_result *res);
void ap_restore_subtree(const struct roots *r, const struct jentry *e, struct apply_result *res);

#endif
