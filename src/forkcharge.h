/* forkcharge.h - what a fork() of a process is charged, read the kernel's
 * way (DESIGN "Fork charge and the fork verdict").
 *
 * kernel/fork.c dup_mmap() walks the parent's VMAs: one with VM_DONTCOPY is
 * skipped, one with VM_ACCOUNT is charged through security_vm_enough_memory_mm()
 * for its whole length.  /proc/PID/smaps shows both flags ("VmFlags: ... ac",
 * "dc"), so the sum of Size over VMAs with "ac" and without "dc" is the exact
 * fork charge.  smaps walks page tables under the mmap lock (~9 ms per GiB):
 * read it on demand only, never on the exec->enforced path.  /proc/PID/maps
 * does not walk page tables: it gives the VMAs (mode 0 judges the largest)
 * but not VM_ACCOUNT, so what it yields is an estimate. */
#ifndef OVERCOMMITD_FORKCHARGE_H
#define OVERCOMMITD_FORKCHARGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "roots.h"

/* What smaps says about a process's fork charge.  All KiB. */
struct smaps_charge {
	uint64_t charge_kb;    /* Size of VMAs with ac and without dc: dup_mmap's charge */
	uint64_t largest_kb;   /* the largest of those VMAs (mode 0 tests each one alone) */
	uint64_t dontfork_kb;  /* ac with dc (MADV_DONTFORK): accounted, never charged by fork */
	uint64_t noreserve_kb; /* private writable, not accounted, not hugetlb (MAP_NORESERVE
	                          made under mode 0/1): free now, charged once remapped in mode 2 */
	size_t nvma;           /* VMAs seen */
};

/* Incremental parser: one smaps line at a time (no newline needed), so the
 * reader streams a file of any size and the buffer parser shares the code. */
struct smaps_parser {
	struct smaps_charge sum;
	uint64_t vma_kb;       /* size of the current VMA from its header line */
	bool in_vma;           /* a header was seen and its VmFlags not yet */
	int err;               /* first error, sticky */
};
void smaps_parser_init(struct smaps_parser *sp);
void smaps_parser_line(struct smaps_parser *sp, const char *line, size_t len);
/* 0 and *out filled, or -EINVAL (malformed header or VmFlags line, a VMA
 * without VmFlags: a kernel older than 3.8, whose smaps cannot say). */
int smaps_parser_finish(struct smaps_parser *sp, struct smaps_charge *out);

/* The whole text of /proc/PID/smaps (len bytes, NUL not needed). */
int smaps_charge_parse(const char *buf, size_t len, struct smaps_charge *out);
/* Read and parse /proc/PID/smaps.  -ENOENT/-ESRCH: gone; -EACCES/-EPERM: not
 * ours to read (callers then say "estimate"). */
int smaps_charge_read(const struct roots *r, int pid, struct smaps_charge *out);
/* The same from a descriptor of /proc/PID/smaps opened elsewhere (the
 * page walk happens in read(), not open(): the daemon opens it through its
 * privileged reader and reads it on a thread).  Closes fd. */
int smaps_charge_read_fd(int fd, struct smaps_charge *out);

/* What maps says: the largest private writable VMA (an accountable mapping
 * as mm/mmap.c accountable_mapping() sees it: VM_WRITE without VM_SHARED;
 * hugetlb excluded), and their sum.  An estimate: maps cannot show
 * MAP_NORESERVE or accounted mappings later made read-only. */
struct maps_estimate {
	uint64_t largest_kb;
	uint64_t private_write_kb;
	size_t nvma;
};
int maps_estimate_parse(const char *buf, size_t len, struct maps_estimate *out);
int maps_estimate_read(const struct roots *r, int pid, struct maps_estimate *out);

/* What a verdict is built on. */
enum charge_basis {
	CHARGE_ESTIMATE = 0,  /* VmData + VmStk (smaps not read or unreadable) */
	CHARGE_EXACT,         /* smaps, and VmData + VmStk unchanged since */
	CHARGE_CORRECTED,     /* VmData + VmStk now + (smaps - VmData - VmStk) when read */
	CHARGE_FORK_EVENT,    /* VmData + VmStk less the DONTFORK share the last fork showed
	                         (smaps not read): still an estimate, lower by what is exact */
};
/* "estimate", "exact", "corrected", "fork-event" */
const char *charge_basis_name(enum charge_basis b);

/* The fork charge the verdict uses.  All KiB. */
struct fork_charge {
	uint64_t kb;           /* what dup_mmap() would charge */
	uint64_t largest_kb;   /* its largest accounted VMA (mode 0's test) */
	uint64_t noreserve_kb; /* uncharged private writable memory (mode-switch gap) */
	enum charge_basis basis;
	bool largest_known;    /* largest_kb from smaps or maps, not just kb */
	bool valid;            /* set (fork_charge_from); a zeroed one means "not observed" */
};

#endif
