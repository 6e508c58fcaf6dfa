/* refusal.bpf.c - every refusal of the kernel's commit check
 * (__vm_enough_memory, mm/util.c), the moment it happens (issue 14).
 *
 * fexit on __vm_enough_memory sees the arguments (mm, pages,
 * cap_sys_admin) and the verdict.  A refusal is queued to user space with
 * the caller, the syscall it was in, and the kernel's own figures read right
 * after the check: vm_committed_as (the percpu counter's central count, the
 * value the check compared), vm.overcommit_* and the reserves, RAM and swap
 * pages.  fentry/fexit on kernel_clone sum the charges a fork has made so
 * far, so a refused fork reports what it needed up to the VMA that failed.
 *
 * CO-RE: the few kernel fields used are declared below with
 * preserve_access_index and relocated against the running kernel's BTF at
 * load; nothing here depends on the kernel of the build host.  Kernel
 * globals without BTF (vm_committed_as, the sysctls) are weak untyped
 * ksyms resolved from /proc/kallsyms; where one is missing or hidden its
 * flag stays clear and user space falls back to /proc (and says so). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "refusal_abi.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct mm_struct___oc {
	unsigned long total_vm;
} __attribute__((preserve_access_index));

struct percpu_counter___oc {
	__s64 count;
} __attribute__((preserve_access_index));

struct pt_regs___oc {          /* x86_64 */
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

extern const void vm_committed_as __ksym __weak;
extern const void sysctl_overcommit_memory __ksym __weak;
extern const void sysctl_overcommit_ratio __ksym __weak;
extern const void sysctl_overcommit_kbytes __ksym __weak;
extern const void sysctl_admin_reserve_kbytes __ksym __weak;
extern const void sysctl_user_reserve_kbytes __ksym __weak;
extern const void _totalram_pages __ksym __weak;
extern const void total_swap_pages __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RF_RINGBUF_BYTES);
} events SEC(".maps");

/* pid_tgid of a task inside kernel_clone -> pages its fork charged so far */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RF_FORKS_MAX);
	__type(key, __u64);
	__type(value, __u64);
} forking SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RF_ST_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &k);
	if (v)
		*v += 1;
}

SEC("fentry/kernel_clone")
int BPF_PROG(clone_enter)
{
	__u64 id = bpf_get_current_pid_tgid(), zero = 0;
	bpf_map_update_elem(&forking, &id, &zero, BPF_ANY);
	return 0;
}

SEC("fexit/kernel_clone")
int BPF_PROG(clone_exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&forking, &id);
	return 0;
}

/* Read a kernel global of 4 or 8 bytes; 0 when it is not there. */
#define READ_KSYM(dst, sym) \
	(&(sym) && bpf_probe_read_kernel(&(dst), sizeof(dst), &(sym)) == 0)

static __always_inline void kernel_figures(struct rf_event *e)
{
	struct percpu_counter___oc *vc = (struct percpu_counter___oc *)&vm_committed_as;
	int mode = 0, ratio = 0;
	long swap = 0;

	if (&vm_committed_as && BPF_CORE_READ_INTO(&e->committed_pages, vc, count) == 0)
		e->flags |= RF_F_COMMITTED;
	if (READ_KSYM(mode, sysctl_overcommit_memory) && READ_KSYM(ratio, sysctl_overcommit_ratio) &&
	    READ_KSYM(e->overcommit_kbytes, sysctl_overcommit_kbytes) &&
	    READ_KSYM(e->admin_reserve_kbytes, sysctl_admin_reserve_kbytes) &&
	    READ_KSYM(e->user_reserve_kbytes, sysctl_user_reserve_kbytes)) {
		e->mode = mode;
		e->ratio = ratio;
		e->flags |= RF_F_SYSCTLS;
	}
	if (READ_KSYM(e->totalram_pages, _totalram_pages) && READ_KSYM(swap, total_swap_pages)) {
		e->total_swap_pages = swap;
		e->flags |= RF_F_RAM;
	}
}

SEC("fexit/__vm_enough_memory")
int BPF_PROG(commit_check_exit, struct mm_struct___oc *mm, long pages, int cap_sys_admin, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *forked = bpf_map_lookup_elem(&forking, &id);

	if (ret == 0) {
		if (forked)
			*forked += pages;
		return 0;
	}
	stat_inc(RF_ST_REFUSED);
	struct rf_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(RF_ST_DROPPED);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = (__u32)id;
	e->tgid = (__u32)(id >> 32);
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->pages = (__u64)pages;
	e->op_pages = (__u64)pages;
	if (cap_sys_admin)
		e->flags |= RF_F_CAP_ADMIN;
	if (forked) {
		e->flags |= RF_F_FORK;
		e->op_pages += *forked;
	}
	if (mm)
		e->total_vm = BPF_CORE_READ(mm, total_vm);
	struct pt_regs___oc *regs =
		(struct pt_regs___oc *)bpf_task_pt_regs(bpf_get_current_task_btf());
	e->syscall_nr = (__s64)BPF_CORE_READ(regs, orig_ax);
	kernel_figures(e);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
