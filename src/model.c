/* model.c - commit accounting as the kernel does it (mm/util.c).
 *
 * The kernel works in pages; so do we, with 4 KiB pages (x86-64, arm64
 * default), converting KiB inputs with the same right shifts the kernel uses
 * (overcommit_kbytes >> 2, reserve_kbytes >> 2) and the ratio product
 * truncated in pages: CommitLimit matches /proc/meminfo to the KiB.  Results
 * are pages * 4 KiB.  Committed_AS, VmData, VmStk, MemTotal and SwapTotal are
 * page multiples already, so no rounding hides in the verdict itself. */
#include "model.h"

#include "chargecache.h"

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

const char *fork_verdict_name(enum fork_verdict v)
{
	switch (v) {
	case FORK_FITS: return "fits";
	case FORK_UNCERTAIN: return "uncertain";
	case FORK_FAILS: return "fails";
	}
	return "unknown";
}

struct fork_input model_fork_input(const struct proc_info *p)
{
	struct fork_input in = { .vm_size_kb = p->status.vm_size_kb,
				 .admin_exempt = proc_has_cap_sys_admin(p) };
	in.charge = fork_charge_from(NULL, proc_commit_kb(p), NULL);
	return in;
}

/* mode 2.  kernel/fork.c dup_mmap() charges each accountable VMA through
 * security_vm_enough_memory_mm(oldmm, len) -> __vm_enough_memory(); each
 * charge is added (vm_acct_memory) before its test, so the last one is the
 * binding one and the whole charge is tested at once:
 *	allowed = vm_commit_limit();
 *	if (!cap_sys_admin) allowed -= sysctl_admin_reserve_kbytes >> (PAGE_SHIFT - 10);
 *	if (mm) allowed -= min_t(long, mm->total_vm / 32, reserve);
 *	if (percpu_counter_read_positive(&vm_committed_as) < allowed) return 0;
 * The counter read lags the exact Committed_AS by up to the slack. */
static void strict_verdict(const struct meminfo *mi, const struct vm_sysctls *vm,
			   const struct fork_input *in, struct fork_check *fc)
{
	uint64_t limit = in->commit_limit_kb ? pages(in->commit_limit_kb) : commit_limit_pages(mi, vm);
	/* allowed is a signed long in the kernel: reserves may push it below 0 */
	int64_t allowed = to_i64(limit);
	if (!in->admin_exempt)
		allowed -= to_i64(pages(knob(vm, VM_ADMIN_RESERVE_KBYTES)));
	uint64_t total_vm = pages(in->vm_size_kb);
	uint64_t user = pages(knob(vm, VM_USER_RESERVE_KBYTES));
	allowed -= to_i64(total_vm / 32 < user ? total_vm / 32 : user);
	/* Committed_AS + need == allowed is refused: strict '<' */
	int64_t headroom = allowed - to_i64(pages(mi->committed_as_kb)) - to_i64(pages(fc->need_kb));
	fc->allowed_kb = allowed * PAGE_KB;
	fc->headroom_kb = headroom * PAGE_KB;
	fc->slack_kb = in->slack_kb;
	int64_t band = to_i64(in->slack_kb);
	fc->verdict = fc->headroom_kb > band ? FORK_FITS
		      : fc->headroom_kb <= -band ? FORK_FAILS : FORK_UNCERTAIN;
	if (band == 0) /* no band known: the exact test */
		fc->verdict = headroom > 0 ? FORK_FITS : FORK_FAILS;
}

struct fork_check model_fork_verdict(const struct meminfo *mi, const struct vm_sysctls *vm,
				     const struct fork_input *in)
{
	struct fork_check fc = { 0 };
	fc.need_kb = in->charge.kb;
	fc.largest_kb = in->charge.largest_kb;
	fc.basis = in->charge.basis;
	fc.admin_exempt = in->admin_exempt;
	/* the kernel tests ALWAYS, then GUESS, and treats anything else as strict */
	int64_t m = vm->v[VM_OVERCOMMIT_MEMORY];
	fc.mode = m == VM_MODE_HEURISTIC || m == VM_MODE_ALWAYS ? (int)m : VM_MODE_STRICT;
	uint64_t ram_swap = pages(mi->mem_total_kb) + pages(mi->swap_total_kb);

	if (fc.mode == VM_MODE_STRICT) {
		strict_verdict(mi, vm, in, &fc);
	} else if (fc.mode == VM_MODE_ALWAYS) {
		/* OVERCOMMIT_ALWAYS never refuses; report RAM + swap as the headroom
		 * (a finite, printable stand-in for "unlimited") */
		fc.allowed_kb = to_i64(ram_swap * PAGE_KB);
		fc.headroom_kb = fc.allowed_kb;
		fc.verdict = FORK_FITS;
	} else {
		/* OVERCOMMIT_GUESS: "if (pages > totalram_pages() + total_swap_pages)
		 * goto error;" per VMA, never a sum; MAP_NORESERVE mappings are
		 * never accounted.  headroom == 0 still fits (unlike mode 2). */
		uint64_t largest = pages(fc.largest_kb);
		fc.allowed_kb = to_i64(ram_swap * PAGE_KB);
		fc.headroom_kb = to_i64(ram_swap * PAGE_KB) - to_i64(largest * PAGE_KB);
		if (largest > ram_swap)
			fc.verdict = in->charge.largest_known ? FORK_FAILS : FORK_UNCERTAIN;
		else
			fc.verdict = FORK_FITS;
	}
	fc.fits = fc.verdict == FORK_FITS;
	return fc;
}

struct fork_check model_fork_check(const struct meminfo *mi, const struct vm_sysctls *vm,
				   const struct proc_info *p)
{
	struct fork_input in = model_fork_input(p);
	return model_fork_verdict(mi, vm, &in);
}
