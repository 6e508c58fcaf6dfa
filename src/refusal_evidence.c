/* refusal_evidence.c - see refusal_evidence.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "refusal_evidence.h"

const char *refusal_time_str(uint64_t time_ms, char *buf, size_t size)
{
	time_t t = (time_t)(time_ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "%" PRIu64 " ms", time_ms);
	return buf;
}

const char *refusal_ops_str(const struct refusal_tally *t, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int k = 0; k < RF_NOPS && off < size; k++) {
		if (!t->by_op[k])
			continue;
		int n = snprintf(buf + off, size - off, "%s%s %" PRIu64, off ? ", " : "",
				 refusal_op_name((enum refusal_op)k), t->by_op[k]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* "observed 3 times since 2026-11-29 05:40:01 UTC (fork 3), the last at ..." */
static void observed(const struct refusal_tally *t, char *buf, size_t size)
{
	char first[40], last[40], ops[96];
	uint64_t n = refusal_tally_total(t);
	snprintf(buf, size, "observed %" PRIu64 " time%s since %s (%s), the last at %s", n,
		 n == 1 ? "" : "s", refusal_time_str(t->first_ms, first, sizeof(first)),
		 refusal_ops_str(t, ops, sizeof(ops)), refusal_time_str(t->last_ms, last, sizeof(last)));
}

static const char *policy_name(const struct policy *pol, const char *service)
{
	for (size_t i = 0; i < pol->nsvc; i++)
		if (strcmp(pol->svc[i].name, service) == 0)
			return pol->svc[i].name;
	return NULL;
}

static int cite(struct plan *p, const struct policy *pol, const struct refusal_tally *t)
{
	char obs[256];
	observed(t, obs, sizeof(obs));
	const char *name = t->service[0] ? policy_name(pol, t->service) : NULL;
	bool cited = false;
	for (size_t i = 0; i < p->nrisk; i++) {
		struct risk *r = &p->risk[i];
		if (!r->service || !name || strcmp(r->service, name) != 0)
			continue;
		size_t len = strlen(r->message);
		snprintf(r->message + len, sizeof(r->message) - len,
			 " Commit refusals: %s — not only predicted.", obs);
		cited = true;
	}
	if (cited)
		return 0;
	if (plan_risk_room(p) < 0)
		return -ENOMEM;
	struct risk *r = &p->risk[p->nrisk++];
	memset(r, 0, sizeof(*r));
	snprintf(r->kind, sizeof(r->kind), "commit_refused");
	r->service = name;
	snprintf(r->message, sizeof(r->message),
		 "%s%s: the kernel refused commit charges (ENOMEM under vm.overcommit_memory): %s",
		 name ? "service " : "", name ? name : t->service[0] ? t->service : "processes of no "
											"service", obs);
	return 0;
}

int refusal_evidence(struct plan *p, const struct policy *pol, const struct refusal_book *b,
		     uint64_t now_ms)
{
	int cited = 0;
	for (size_t i = 0; i < b->ntally; i++) {
		const struct refusal_tally *t = &b->tally[i];
		if (!refusal_tally_total(t) || t->last_ms + RF_EVIDENCE_MS < now_ms)
			continue;
		if (cite(p, pol, t) < 0)
			return -ENOMEM;
		cited++;
	}
	return cited;
}
