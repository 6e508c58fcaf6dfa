/* cgroup.h - the memory controller's hierarchy (v2, v1, hybrid) and the
 * memory figures of one group (root-relative reads: fixture trees work). */
#ifndef OVERCOMMITD_CGROUP_H
#define OVERCOMMITD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "roots.h"

#define CG_UNLIMITED UINT64_MAX   /* "max" */
/* cgroup v1 shows "no limit" as the page counter's maximum in bytes
 * (9223372036854771712 with 4 KiB pages): anything from 2^62 on is no limit */
#define CG_V1_UNLIMITED_MIN (UINT64_C(1) << 62)

/* Where the memory controller lives under cgroupfs. */
enum cg_hier {
	CG_HIER_NONE = 0, /* no memory controller overcommitd can use */
	CG_HIER_V2,       /* cgroup2 at cgroupfs, "memory" in its cgroup.controllers */
	CG_HIER_V1,       /* a v1 memory hierarchy at cgroupfs/memory */
	CG_HIER_HYBRID,   /* v1 memory, plus systemd's cgroup2 at cgroupfs/unified */
};

struct cg_memory {
	bool present;        /* the group's directory exists with memory.current */
	uint64_t current;    /* bytes */
	uint64_t anon;       /* bytes, memory.stat anon */
	uint64_t file;       /* bytes, memory.stat file */
	uint64_t high;       /* bytes or CG_UNLIMITED */
	uint64_t max;        /* bytes or CG_UNLIMITED */
	uint64_t peak;       /* bytes; 0 when the kernel has no memory.peak */
};

/* "max\n" -> CG_UNLIMITED, "123\n" -> 123; -EINVAL otherwise. */
int cg_value_parse(const char *buf, uint64_t *v);
/* memory.stat: extract anon and file (bytes). -EINVAL if anon missing. */
int cg_memory_stat_parse(const char *buf, uint64_t *anon, uint64_t *file);
/* A limit as the applier compares it: cg_value_parse, and on v1 the
 * page counter's maximum (>= CG_V1_UNLIMITED_MIN) is CG_UNLIMITED. */
int cg_limit_parse(const char *buf, uint64_t *v);
/* v1 memory.stat: total_rss and total_cache (hierarchical, as v2's anon and
 * file are).  -EINVAL if total_rss is missing. */
int cg_v1_memory_stat_parse(const char *buf, uint64_t *anon, uint64_t *file);
/* Is cgroupfs a cgroup2 mount with the memory controller available?
 * (cgroup.controllers lists "memory"). */
bool cg_v2_memory_available(const struct roots *r);
/* Which hierarchy holds the memory controller under r->cgroupfs: v2 when
 * cgroupfs/cgroup.controllers lists memory, else v1 when cgroupfs/memory
 * has memory.limit_in_bytes (hybrid when cgroupfs/unified is a cgroup2). */
enum cg_hier cg_hierarchy(const struct roots *r);
/* "v2", "v1", "hybrid", "none" */
const char *cg_hier_name(enum cg_hier h);
/* The memory controller is on a v1 hierarchy (v1 or hybrid). */
bool cg_hier_v1(enum cg_hier h);
/* The file of a limit on h: hard = memory.max (v2) / memory.limit_in_bytes
 * (v1); else memory.high (v2) / memory.soft_limit_in_bytes (v1). */
const char *cg_limit_file(enum cg_hier h, bool hard);
/* The group's directory relative to cgroupfs ("/memory/x" on v1). */
int cg_group_rel(enum cg_hier h, const char *path, char *out, size_t size);
/* path is the cgroup path as in /proc/PID/cgroup ("/system.slice/x.service"),
 * on the memory controller's hierarchy (cg_hierarchy; CG_HIER_NONE reads
 * nothing).  v1: high = soft limit, max = limit, peak = max_usage. */
int cg_memory_read(const struct roots *r, const char *path, struct cg_memory *m);

#endif
