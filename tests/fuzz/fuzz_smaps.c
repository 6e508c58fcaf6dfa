/* fuzz_smaps.c - libFuzzer target: /proc/PID/smaps and maps parsers, the
 * cpulist, user namespace link and SELinux parsers (what the fork verdict
 * reads) and smaps_rollup's (the sampled workers' Private_Dirty).  The
 * smaps parsers take a length: no NUL needed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adminreserve.h"
#include "commitslack.h"
#include "forkcharge.h"
#include "smapsroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smaps_charge c;
	struct maps_estimate m;
	(void)smaps_charge_parse((const char *)data, size, &c);
	(void)maps_estimate_parse((const char *)data, size, &m);
	struct smaps_rollup sr;
	if (smaps_rollup_parse((const char *)data, size, &sr) == 0 &&
	    (sr.rss_kb > ((uint64_t)1 << 40) || sr.private_dirty_kb > ((uint64_t)1 << 40)))
		abort();

	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	unsigned n;
	uint64_t ino;
	bool enf;
	(void)cpulist_count_parse(buf, &n);
	(void)userns_link_parse(buf, &ino);
	(void)selinux_enforce_parse(buf, &enf);
	free(buf);
	return 0;
}
