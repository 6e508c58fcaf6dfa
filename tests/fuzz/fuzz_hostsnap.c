/* fuzz_hostsnap.c - libFuzzer target for the snapshot reader (what-if's
 * input): arbitrary bytes as a snapshot file.  Whatever is accepted must be
 * sorted and bounded, serve every process back through the observation
 * source, observe and plan under a small policy without a crash, and survive
 * format -> parse -> format byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "hostsnap.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A policy that uses every kind of planning: strict sizing, oom_score_adj,
 * an own cgroup with auto memory.high and memory.max. */
static const char POLICY[] = "[host]\novercommit = auto\nfork_headroom = 110%\n"
			     "[service r]\nmatch_comm = redis-server\noom_score_adj = -500\n"
			     "child_oom_score_adj = 800\nmemory_high = auto\nmemory_max = auto\n"
			     "[service u]\nmatch_user = 0\nmatch_cmdline = *x*\n"
			     "oom_score_adj = 10\n";

static void observe_and_plan(const struct hostsnap *hs)
{
	struct policy pol;
	struct diags d;
	diags_init(&d);
	policy_init(&pol);
	policy_parse_buffer("fuzz.ini", POLICY, &pol, &d);
	policy_finish(&pol, &d);
	if (d.n != 0)
		abort();
	diags_free(&d);
	struct obs_source src;
	hostsnap_source(hs, &src);
	struct snapshot s;
	if (snapshot_observe(&src, &pol, NULL, 0, &s) != 0)
		abort();
	struct plan p;
	if (plan_build(&pol, &s, NULL, &p) == 0)
		plan_free(&p);
	snapshot_free(&s);
	policy_free(&pol);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostsnap hs;
	char err[256];
	if (hostsnap_parse((const char *)data, size, &hs, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort(); /* a refusal always says why */
		return 0;
	}
	for (size_t i = 1; i < hs.nprocs; i++)
		if (hs.procs[i - 1].pid >= hs.procs[i].pid)
			abort();
	for (size_t i = 1; i < hs.ncgroups; i++)
		if (strcmp(hs.cgroups[i - 1].path, hs.cgroups[i].path) >= 0)
			abort();
	observe_and_plan(&hs);
	char *a, *b;
	size_t la, lb;
	if (hostsnap_format(&hs, &a, &la) != 0)
		abort();
	struct hostsnap back;
	if (hostsnap_parse(a, la, &back, err, sizeof(err)) != 0)
		abort();
	if (hostsnap_format(&back, &b, &lb) != 0 || la != lb || memcmp(a, b, la) != 0)
		abort();
	free(a);
	free(b);
	hostsnap_free(&back);
	hostsnap_free(&hs);
	return 0;
}
