/* cmd_refusal.h - the one-shot commands' view of the daemon's commit
 * refusals (issue 14): read from the state directory, cited as evidence. */
#ifndef OVERCOMMITD_CMD_REFUSAL_H
#define OVERCOMMITD_CMD_REFUSAL_H

#include "cli.h"
#include "plan.h"
#include "policy.h"
#include "refusal.h"

/* The daemon's book (malloc'd; capture "unknown" when there is none, a
 * refusal to trust it logged), its recent refusals cited in p's risks.
 * NULL only when out of memory. */
struct refusal_book *cli_refusals(const struct cli *c, const struct policy *pol, struct plan *p);

#endif
