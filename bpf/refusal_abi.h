/* refusal_abi.h - the record the BPF program (bpf/refusal.bpf.c) puts in
 * its ring buffer for each refusal of the kernel's commit check, and the
 * counters it keeps; shared with user space (src/refusal_bpf.c).  Only
 * fixed-width types: both sides must agree byte for byte. */
#ifndef OVERCOMMITD_REFUSAL_ABI_H
#define OVERCOMMITD_REFUSAL_ABI_H

#include <linux/types.h>

#define RF_RINGBUF_BYTES (256 * 1024) /* ~1,400 records in flight */
#define RF_FORKS_MAX 4096             /* concurrent forks whose charge is summed */

/* flags */
#define RF_F_FORK 0x1          /* inside kernel_clone (fork, vfork, clone, clone3) */
#define RF_F_CAP_ADMIN 0x2     /* caller had CAP_SYS_ADMIN: no admin reserve */
#define RF_F_COMMITTED 0x4     /* committed_pages read from vm_committed_as */
#define RF_F_SYSCTLS 0x8       /* mode, ratio, kbytes, reserves read from the kernel */
#define RF_F_RAM 0x10          /* totalram_pages and total_swap_pages read */

struct rf_event {
	__u64 ts_ns;            /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 pages;            /* what the refused check was asked for */
	__u64 op_pages;         /* a fork: charged by it so far plus `pages`; else `pages` */
	__s64 committed_pages;  /* vm_committed_as.count right after the check */
	__u64 total_vm;         /* the mm's total_vm (user reserve: total_vm / 32) */
	__u64 totalram_pages;
	__s64 total_swap_pages;
	__u64 overcommit_kbytes;
	__u64 admin_reserve_kbytes;
	__u64 user_reserve_kbytes;
	__s64 syscall_nr;       /* the task's pt_regs orig_ax; -1 outside a syscall */
	__u32 pid, tgid, uid;
	__s32 mode;             /* vm.overcommit_memory at the check */
	__s32 ratio;            /* vm.overcommit_ratio */
	__u32 flags;            /* RF_F_* */
	char comm[16];
};

/* per-CPU counters (array indices) */
enum rf_stat {
	RF_ST_REFUSED = 0,      /* every refusal seen, also those not queued */
	RF_ST_DROPPED,          /* refusals the ring buffer had no room for */
	RF_ST_NSTATS
};

#endif
