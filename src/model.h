/* model.h - the kernel's commit accounting, as pure arithmetic (DESIGN §2,
 * mm/util.c __vm_enough_memory). No I/O. All sizes KiB. */
#ifndef OVERCOMMITD_MODEL_H
#define OVERCOMMITD_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "forkcharge.h"
#include "meminfo.h"
#include "proc.h"
#include "vmsysctl.h"

/* The page the model (and the kernel's accounting) counts in: 4 KiB. */
#define MODEL_PAGE_KB 4

/* CommitLimit the kernel derives from the sysctls:
 * kbytes ? kbytes + swap : (MemTotal - Hugetlb) * ratio / 100 + swap. */
uint64_t model_commit_limit_kb(const struct meminfo *mi, const struct vm_sysctls *vm);

/* Three-way, because the kernel does not test the Committed_AS meminfo
 * shows: a fork within the per-CPU slack of the limit may go either way. */
enum fork_verdict { FORK_FITS = 0, FORK_UNCERTAIN, FORK_FAILS };
const char *fork_verdict_name(enum fork_verdict v); /* "fits", "uncertain", "fails" */

struct fork_check {
	uint64_t need_kb;      /* commit the fork charges (exact from smaps, or VmData + VmStk) */
	uint64_t largest_kb;   /* its largest accounted VMA (mode 0 tests each VMA alone) */
	int64_t allowed_kb;    /* what Committed_AS must stay below (mode 2) */
	int64_t headroom_kb;   /* allowed - Committed_AS - need; fits iff > 0 (mode 2:
	                          the kernel's test is a strict '<'); mode 0: RAM +
	                          swap - largest VMA, fits iff >= 0; mode 1: RAM + swap */
	uint64_t slack_kb;     /* mode 2: the per-CPU band around headroom 0 */
	enum fork_verdict verdict;
	bool fits;             /* verdict == FORK_FITS */
	bool admin_exempt;     /* the admin reserve was not subtracted */
	enum charge_basis basis;
	int mode;              /* the overcommit_memory the verdict is for */
};

/* What a verdict needs to know about the forking process and the host. */
struct fork_input {
	struct fork_charge charge;
	uint64_t vm_size_kb;      /* total_vm: the user reserve term */
	bool admin_exempt;        /* CAP_SYS_ADMIN in the initial user namespace */
	uint64_t slack_kb;        /* commit_slack_kb() for the mode judged */
	uint64_t commit_limit_kb; /* the limit to test ("now": meminfo's); 0 = the formula */
};
/* The cheap input for p: VmData + VmStk, CapEff alone, no slack, formula. */
struct fork_input model_fork_input(const struct proc_info *p);

/* Would the fork succeed?  mode 2 (mm/util.c __vm_enough_memory):
 * Committed_AS + need < CommitLimit - admin_reserve (unless exempt) -
 * min(total_vm/32, user_reserve); fits when that holds with slack_kb to
 * spare, fails when it fails by slack_kb, uncertain between.  mode 0:
 * refused only if one accounted VMA is larger than MemTotal + SwapTotal
 * (uncertain when only the sum is known and exceeds it).  mode 1: fits. */
struct fork_check model_fork_verdict(const struct meminfo *mi, const struct vm_sysctls *vm,
				     const struct fork_input *in);
/* model_fork_verdict(mi, vm, model_fork_input(p)). */
struct fork_check model_fork_check(const struct meminfo *mi, const struct vm_sysctls *vm,
				   const struct proc_info *p);

#endif
