/* commitslack.h - how far the kernel's own reading of Committed_AS may be
 * from the exact figure /proc/meminfo shows (the per-CPU counter slack).
 *
 * mm/util.c __vm_enough_memory() compares
 * percpu_counter_read_positive(&vm_committed_as) with the limit: the global
 * count only, without what each CPU still holds.  lib/percpu_counter.c
 * percpu_counter_add_batch() folds a CPU's part into the global count once
 * it reaches the batch, so each online CPU holds less than batch pages, of
 * either sign, and the kernel's reading lies within online x batch pages of
 * the exact sum (meminfo's Committed_AS is vm_memory_committed() =
 * percpu_counter_sum_positive()).  mm/mm_init.c mm_compute_batch() sets the
 * batch from the mode: max(ram_pages / nr / 256 (mode 2) or / 4 (else),
 * max(2 * nr, 32)) pages, nr = num_present_cpus().  About 8 MiB on a
 * 2 GiB host, 256 MiB at 64 GiB, 2 GiB at 512 GiB. */
#ifndef OVERCOMMITD_COMMITSLACK_H
#define OVERCOMMITD_COMMITSLACK_H

#include <stdint.h>
#include "roots.h"

struct cpu_counts {
	unsigned present;   /* /sys/devices/system/cpu/present: the batch divisor */
	unsigned online;    /* /sys/devices/system/cpu/online: CPUs holding a part */
};

/* A kernel cpulist ("0-3,8,10-11\n") -> number of CPUs; -EINVAL if malformed
 * or empty. */
int cpulist_count_parse(const char *buf, unsigned *n);
/* Both lists from sysfs; -errno when one is unreadable. */
int cpu_counts_read(const struct roots *r, struct cpu_counts *c);

/* mm_compute_batch(mode) in pages, for MemTotal (totalram_pages << 2 KiB). */
uint64_t commit_batch_pages(uint64_t mem_total_kb, unsigned present, int mode);
/* The band in KiB: online x batch pages (0 when the counts are unknown). */
uint64_t commit_slack_kb(uint64_t mem_total_kb, const struct cpu_counts *c, int mode);

#endif
