/* commitslack.c - the per-CPU counter slack of vm_committed_as (see the
 * header for the kernel rules it follows). */
#include "commitslack.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "util.h"

#define PAGE_SHIFT_KB 2
#define NR_CPUS_MAX 65536 /* CONFIG_NR_CPUS is at most 8192 today */

static int parse_cpu(const char **p, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v >= NR_CPUS_MAX)
			return -EINVAL;
	}
	*p = s;
	*out = v;
	return 0;
}

int cpulist_count_parse(const char *buf, unsigned *n)
{
	const char *p = buf;
	unsigned count = 0;
	for (;;) {
		unsigned a, b;
		if (parse_cpu(&p, &a) < 0)
			return -EINVAL;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &b) < 0 || b < a)
				return -EINVAL;
		}
		count += b - a + 1;
		if (count > NR_CPUS_MAX)
			return -EINVAL;
		if (*p != ',')
			break;
		p++;
	}
	if (*p == '\n')
		p++;
	if (*p != '\0')
		return -EINVAL;
	*n = count;
	return 0;
}

static int read_list(const struct roots *r, const char *name, unsigned *n)
{
	char rel[64], buf[4096];
	snprintf(rel, sizeof(rel), "devices/system/cpu/%s", name);
	ssize_t len = read_file_at(r->sysfs, rel, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	return cpulist_count_parse(buf, n);
}

int cpu_counts_read(const struct roots *r, struct cpu_counts *c)
{
	struct cpu_counts t;
	int rc = read_list(r, "present", &t.present);
	if (rc == 0)
		rc = read_list(r, "online", &t.online);
	if (rc == 0)
		*c = t;
	return rc;
}

/* mm/mm_init.c mm_compute_batch():
 *	s32 nr = num_present_cpus();
 *	s32 batch = max_t(s32, nr*2, 32);
 *	if (overcommit_policy == OVERCOMMIT_NEVER)
 *		memsized_batch = min_t(u64, ram_pages/nr/256, INT_MAX);
 *	else
 *		memsized_batch = min_t(u64, ram_pages/nr/4, INT_MAX);
 *	vm_committed_as_batch = max_t(s32, memsized_batch, batch);
 * The batch changes with the mode (mm/util.c overcommit_policy_handler()
 * recomputes it, and syncs every CPU's part when entering mode 2). */
uint64_t commit_batch_pages(uint64_t mem_total_kb, unsigned present, int mode)
{
	if (present == 0)
		present = 1;
	uint64_t ram_pages = mem_total_kb >> PAGE_SHIFT_KB;
	uint64_t mem = ram_pages / present / (mode == 2 ? 256 : 4);
	if (mem > INT_MAX)
		mem = INT_MAX;
	uint64_t floor = 2 * (uint64_t)present > 32 ? 2 * (uint64_t)present : 32;
	return mem > floor ? mem : floor;
}

uint64_t commit_slack_kb(uint64_t mem_total_kb, const struct cpu_counts *c, int mode)
{
	if (!c || c->online == 0)
		return 0;
	return (uint64_t)c->online * commit_batch_pages(mem_total_kb, c->present, mode)
	       << PAGE_SHIFT_KB;
}
