/* meminfo.h - /proc/meminfo: RAM, swap and commit accounting. */
#ifndef OVERCOMMITD_MEMINFO_H
#define OVERCOMMITD_MEMINFO_H

#include <stdint.h>
#include "roots.h"

struct meminfo {
	uint64_t mem_total_kb;
	uint64_t mem_free_kb;
	uint64_t mem_available_kb;
	uint64_t swap_total_kb;
	uint64_t swap_free_kb;
	uint64_t commit_limit_kb;
	uint64_t committed_as_kb;
	uint64_t hugetlb_kb;      /* "Hugetlb:"; 0 when absent (old kernels) */
};

/* -EINVAL when MemTotal, SwapTotal, CommitLimit or Committed_AS is missing
 * or a value is malformed/overflows. Unknown lines are ignored. */
int meminfo_parse(const char *buf, struct meminfo *mi);
int meminfo_read(const struct roots *r, struct meminfo *mi);

#endif
