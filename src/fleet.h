/* fleet.h - what-if across many hosts: per host the counts that matter to a
 * rollout, and the risks of every host ranked largest first.  Pure apart
 * from the renderers (which write to the FILE* given). */
#ifndef OVERCOMMITD_FLEET_H
#define OVERCOMMITD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plan.h"
#include "policy.h"
#include "snapshot.h"

#define FLEET_NAME_MAX 256

struct fleet_host {
	char name[FLEET_NAME_MAX];   /* hostname in the snapshot */
	char file[FLEET_NAME_MAX];   /* the snapshot file */
	size_t changes;              /* actions the plan would take */
	size_t risks;
	size_t forks_fail_now;       /* services whose fork fails under today's sysctls */
	size_t forks_fail_after;     /* ... still fails after the plan */
	size_t forks_fixed;          /* fails now, fits after the plan */
	int mode_now, mode_after;    /* vm.overcommit_memory */
};

struct fleet_risk {
	size_t host;                 /* index into fleet.host */
	char kind[32];
	char service[64];            /* "" for host-wide risks */
	int64_t short_kb;            /* fork risks: what the fork lacks; else 0 */
	char message[PLAN_TEXT_MAX];
	size_t seq;                  /* order added: ties rank by it */
};

struct fleet {
	struct fleet_host *host;
	size_t nhost, caphost;
	struct fleet_risk *risk;
	size_t nrisk, caprisk;
	size_t bad_files;            /* snapshots that could not be read */
};

/* Record one planned host.  Returns 0 or -ENOMEM. */
int fleet_add(struct fleet *f, const char *name, const char *file, const struct policy *pol,
	      const struct snapshot *s, const struct plan *p);
/* Rank the risks: largest shortfall first, then the order added. */
void fleet_rank(struct fleet *f);
void fleet_free(struct fleet *f);

/* "fits" / "fails" for a fork verdict (reports, summary). */
const char *fleet_fork_word(const struct fork_check *c);

/* The fleet summary as text (risks listed up to max_risks) or as a JSON
 * object (json-c, every risk).  Text returns 0 or -EIO. */
int fleet_text(FILE *out, const struct fleet *f, size_t max_risks);
struct json_object *fleet_json(const struct fleet *f);

#endif
