/* fuzz_policy.c - libFuzzer target for the policy parser: the line scanner,
 * the iniparser bridge, value parsing and the cross-key checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "fuzzN.ini[:LINE]: internal error..." (the value echoed later in a
 * message may contain anything, so look only at the start) */
static int is_internal(const char *m)
{
	const char *c = strchr(m, ':');
	if (!c)
		return 0;
	c++;
	while (*c >= '0' && *c <= '9')
		c++;
	if (*c == ':')
		c++;
	return strncmp(c, " internal error", 15) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct policy p;
	struct diags d;
	policy_init(&p);
	diags_init(&d);
	policy_parse_buffer("fuzz.ini", text, &p, &d);
	/* a second file on top exercises overriding (frees replaced values) */
	policy_parse_buffer("fuzz2.ini", text, &p, &d);
	policy_finish(&p, &d);
	/* the scanner and iniparser must never disagree on what a line is */
	for (size_t i = 0; i < d.n; i++)
		if (is_internal(d.msg[i]))
			abort();
	/* without problems, every origin points into the policy's file list */
	if (d.n == 0)
		for (size_t i = 0; i < p.nsvc; i++)
			if (!p.svc[i].name || !p.svc[i].cgroup.v || !p.svc[i].at.file)
				abort();
	policy_free(&p);
	diags_free(&d);
	free(text);
	return 0;
}
