/* model.h - the kernel's commit accounting, as pure arithmetic (DESIGN §2,
 * mm/util.c __vm_enough_memory). No I/O. All sizes KiB. */
#ifndef OVERCOMMITD_MODEL_H
#define OVERCOMMITD_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "meminfo.h"
#include "proc.h"
#include "vmsysctl.h"

/* The page the model (and the kernel's accounting) counts in: 4 KiB. */
#define MODEL_PAGE_KB 4

/* CommitLimit the kernel derives from the sysctls:
 * kbytes ? kbytes + swap : (MemTotal - Hugetlb) * ratio / 100 + swap. */
uint64_t model_commit_limit_kb(const struct meminfo *mi, const struct vm_sysctls *vm);

struct fork_check {
	uint64_t need_kb;      /* commit the fork charges (parent's VmData + VmStk) */
	int64_t allowed_kb;    /* what Committed_AS must stay below (mode 2) */
	int64_t headroom_kb;   /* allowed - Committed_AS - need; fits iff > 0 (mode 2:
	                          the kernel's test is a strict '<'); mode 0: RAM +
	                          swap - need, fits iff >= 0; mode 1: RAM + swap */
	bool fits;
	int mode;              /* the overcommit_memory the verdict is for */
};

/* Would a fork of p succeed now?  mode 2: Committed_AS + need < CommitLimit
 * - admin_reserve (unless p has CAP_SYS_ADMIN) - min(total_vm/32, user_reserve).
 * mode 0: refused only if need > MemTotal + SwapTotal.  mode 1: always fits. */
struct fork_check model_fork_check(const struct meminfo *mi, const struct vm_sysctls *vm,
				   const struct proc_info *p);

#endif
