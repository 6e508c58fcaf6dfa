/* model.c - commit accounting as the kernel does it (mm/util.c).
 *
 * The kernel works in pages; so do we, with 4 KiB pages (x86-64, arm64
 * default), converting KiB inputs with the same right shifts the kernel uses
 * (overcommit_kbytes >> 2, reserve_kbytes >> 2) and the ratio product
 * truncated in pages: CommitLimit matches /proc/meminfo to the KiB.  Results
 * are pages * 4 KiB.  Committed_AS, VmData, VmStk, MemTotal and SwapTotal are
 * page multiples already, so no rounding hides in the verdict itself. */
#include "model.h"

#define PAGE_KB MODEL_PAGE_KB
#define PAGE_SHIFT_KB 2 /* PAGE_SHIFT - 10 */

static uint64_t pages(uint64_t kb)
{
	return kb >> PAGE_SHIFT_KB;
}

/* Sysctls are read as int64; a negative value (hostile or corrupt) counts as 0. */
static uint64_t knob(const struct vm_sysctls *vm, enum vm_knob k)
{
	return vm->v[k] > 0 ? (uint64_t)vm->v[k] : 0;
}

/* vm_commit_limit(), in pages. */
static uint64_t commit_limit_pages(const struct meminfo *mi, const struct vm_sysctls *vm)
{
	uint64_t allowed;
	uint64_t kbytes = knob(vm, VM_OVERCOMMIT_KBYTES);
	if (kbytes) {
		allowed = pages(kbytes);
	} else {
		uint64_t ram = pages(mi->mem_total_kb);
		uint64_t huge = pages(mi->hugetlb_kb);
		uint64_t ratio = knob(vm, VM_OVERCOMMIT_RATIO);
		/* meminfo values are capped at 2^50 KiB; ratio at 2^13 keeps the
		 * product far from overflow (the kernel takes an int here) */
		if (ratio > 8192)
			ratio = 8192;
		allowed = (ram > huge ? ram - huge : 0) * ratio / 100;
	}
	return allowed + pages(mi->swap_total_kb);
}

uint64_t model_commit_limit_kb(const struct meminfo *mi, const struct vm_sysctls *vm)
{
	return commit_limit_pages(mi, vm) * PAGE_KB;
}

static int64_t to_i64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* dup_mmap() charges each accountable VMA of the parent through
 * __vm_enough_memory(oldmm, len, cap_sys_admin); the last charge is the
 * binding one, so the whole VmData + VmStk is tested at once. */
struct fork_check model_fork_check(const struct meminfo *mi, const struct vm_sysctls *vm,
				   const struct proc_info *p)
{
	struct fork_check fc = { 0 };
	fc.need_kb = proc_commit_kb(p);
	/* the kernel tests ALWAYS, then GUESS, and treats anything else as strict */
	int64_t m = vm->v[VM_OVERCOMMIT_MEMORY];
	fc.mode = m == VM_MODE_HEURISTIC || m == VM_MODE_ALWAYS ? (int)m : VM_MODE_STRICT;
	uint64_t need = pages(fc.need_kb);
	uint64_t ram_swap = pages(mi->mem_total_kb) + pages(mi->swap_total_kb);

	if (fc.mode == VM_MODE_STRICT) {
		/* allowed is a signed long in the kernel: reserves may push it below 0 */
		int64_t allowed = to_i64(commit_limit_pages(mi, vm));
		if (!proc_has_cap_sys_admin(p))
			allowed -= to_i64(pages(knob(vm, VM_ADMIN_RESERVE_KBYTES)));
		uint64_t total_vm = pages(p->status.vm_size_kb);
		uint64_t user = pages(knob(vm, VM_USER_RESERVE_KBYTES));
		allowed -= to_i64(total_vm / 32 < user ? total_vm / 32 : user);
		/* vm_acct_memory(pages) happens first, then "committed < allowed":
		 * Committed_AS + need == allowed is refused. */
		int64_t headroom = allowed - to_i64(pages(mi->committed_as_kb)) - to_i64(need);
		fc.allowed_kb = allowed * PAGE_KB;
		fc.headroom_kb = headroom * PAGE_KB;
		fc.fits = headroom > 0;
	} else if (fc.mode == VM_MODE_ALWAYS) {
		/* OVERCOMMIT_ALWAYS never refuses; report RAM + swap as the headroom
		 * (a finite, printable stand-in for "unlimited") */
		fc.allowed_kb = to_i64(ram_swap * PAGE_KB);
		fc.headroom_kb = fc.allowed_kb;
		fc.fits = true;
	} else {
		/* OVERCOMMIT_GUESS: refused only when pages > totalram + total_swap,
		 * so here headroom == 0 still fits (unlike mode 2) */
		fc.allowed_kb = to_i64(ram_swap * PAGE_KB);
		fc.headroom_kb = to_i64(ram_swap * PAGE_KB) - to_i64(need * PAGE_KB);
		fc.fits = need <= ram_swap;
	}
	return fc;
}
