/* cgroup.h - cgroup v2 memory figures for one group (root-relative reads). */
#ifndef OVERCOMMITD_CGROUP_H
#define OVERCOMMITD_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include "roots.h"

#define CG_UNLIMITED UINT64_MAX   /* "max" */

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
/* Is cgroupfs a cgroup2 mount with the memory controller available?
 * (cgroup.controllers lists "memory"). */
bool cg_v2_memory_available(const struct roots *r);
/* path is the cgroup path as in /proc/PID/cgroup ("/system.slice/x.service"). */
int cg_memory_read(const struct roots *r, const char *path, struct cg_memory *m);

#endif
