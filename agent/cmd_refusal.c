/* cmd_refusal.c - see cmd_refusal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cmd_refusal.h"
#include "log.h"
#include "refusal_evidence.h"
#include "refusal_store.h"
#include "statedir.h"

struct refusal_book *cli_refusals(const struct cli *c, const struct policy *pol, struct plan *p)
{
	struct refusal_book *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	struct statedir sd;
	int rc = statedir_open(c->state_dir, false, &sd);
	if (rc == 0)
		rc = refusal_book_load_at(&sd, b);
	if (rc == -EPERM && sd.why[0])
		log_warn("%s/%s refused: %s; commit refusals not shown", c->state_dir, REFUSAL_FILE,
			 sd.why);
	else if (rc < 0 && rc != -ENOENT)
		log_errno(LOG_LVL_WARN, rc, "%s/%s unusable; commit refusals not shown", c->state_dir,
			  REFUSAL_FILE);
	statedir_close(&sd);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (refusal_evidence(p, pol, b, (uint64_t)now.tv_sec * 1000 +
					       (uint64_t)now.tv_nsec / 1000000) < 0)
		log_warn("out of memory citing commit refusals");
	return b;
}
