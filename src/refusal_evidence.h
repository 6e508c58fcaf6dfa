/* refusal_evidence.h - refusals the daemon saw, as evidence in a plan
 * (issue 14): a risk the planner predicted says it was also observed, and a
 * service refused without a predicted risk gets one of its own.  Pure. */
#ifndef OVERCOMMITD_REFUSAL_EVIDENCE_H
#define OVERCOMMITD_REFUSAL_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>
#include "plan.h"
#include "policy.h"
#include "refusal.h"

/* Refusals older than this are history, not evidence. */
#define RF_EVIDENCE_MS ((uint64_t)7 * 24 * 3600 * 1000)

/* "2026-11-29 05:41:02 UTC" */
const char *refusal_time_str(uint64_t time_ms, char *buf, size_t size);
/* "fork 3, mmap 1" */
const char *refusal_ops_str(const struct refusal_tally *t, char *buf, size_t size);

/* Annotate p's risks from b's tallies seen within RF_EVIDENCE_MS of now_ms.
 * Added risks (kind "commit_refused") point at the policy's service names.
 * Returns the number of tallies cited, or -ENOMEM. */
int refusal_evidence(struct plan *p, const struct policy *pol, const struct refusal_book *b,
		     uint64_t now_ms);

#endif
