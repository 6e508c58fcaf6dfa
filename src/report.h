/* report.h - render observations and a plan for people (text) and machines
 * (JSON, DESIGN §5 schema).  Writes to the FILE* it is given. */
#ifndef OVERCOMMITD_REPORT_H
#define OVERCOMMITD_REPORT_H

#include <stdio.h>
#include "apply.h"
#include "plan.h"
#include "policy.h"
#include "snapshot.h"

enum report_mode {
	RPT_RECOMMEND = 0, /* the plan, nothing written */
	RPT_APPLY,         /* the plan with each action's result */
	RPT_STATUS,        /* what is observed; the plan only counted */
};

struct report_in {
	enum report_mode mode;
	const struct policy *pol;
	const struct snapshot *snap;
	const struct plan *plan;
	const struct apply_result *res; /* RPT_APPLY only (plan->nact entries), else NULL */
	bool enforce_off;               /* apply refused to write: enforce = no */
	bool verbose;
};

int report_text(FILE *out, const struct report_in *in);
int report_json(FILE *out, const struct report_in *in);

const char *apply_status_name(enum apply_status st); /* "done", "unchanged", ... */

#endif
