/* proc.h - one process as seen in /proc/PID: identity, matching inputs and
 * the cheap commit estimate (status only: never smaps on a hot path, DESIGN §2). */
#ifndef OVERCOMMITD_PROC_H
#define OVERCOMMITD_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "roots.h"

#define PROC_COMM_MAX 64       /* comm is 16 in the kernel; room for hostile fixtures */
#define PROC_CMDLINE_MAX 1024
#define PROC_PATH_MAX 512

struct proc_stat {             /* from /proc/PID/stat */
	char comm[PROC_COMM_MAX];
	char state;
	int ppid;
	uint64_t start_time;       /* field 22, clock ticks since boot */
};
/* include/linux/sched.h: set by copy_process(), cleared by execve()
 * (fs/exec.c begin_new_exec): a child still running its parent's copy */
#define PROC_PF_FORKNOEXEC 0x00000040u

struct proc_status {           /* from /proc/PID/status */
	uid_t uid;                 /* real uid */
	uid_t euid;                /* effective uid */
	uint64_t vm_size_kb;       /* total_vm, for the user_reserve term */
	uint64_t vm_data_kb;
	uint64_t vm_stk_kb;
	uint64_t rss_anon_kb;
	uint64_t cap_eff;          /* CapEff bitmask */
	int tgid;
};

struct proc_info {
	int pid;
	struct proc_stat st;
	struct proc_status status;
	int oom_score_adj;
	char exe[PROC_PATH_MAX];        /* readlink of exe, " (deleted)" stripped; "" if unreadable */
	char cmdline[PROC_CMDLINE_MAX]; /* NULs joined by spaces, truncated */
	char cgroup[PROC_PATH_MAX];     /* cgroup v2 path ("0::" line), "" if none */
};

/* Parsers take buffers (fuzz targets); all return 0 or -EINVAL. */
/* stat: comm is between the first '(' and the LAST ')' (comm may hold ") Z "). */
int proc_stat_parse(const char *buf, struct proc_stat *st);
/* status: needs Uid and Tgid; VmData/VmStk/RssAnon/VmSize absent = 0 (kernel threads). */
int proc_status_parse(const char *buf, struct proc_status *st);
/* cgroup: the group of the memory controller: a v1 line "N:...memory...:/path"
 * when there is one (v1 and hybrid hosts), else the v2 line "0::/path";
 * out="" when neither exists. */
int proc_cgroup_parse(const char *buf, char *out, size_t size);
/* cmdline: len bytes of NUL-separated args -> space-joined, NUL-terminated. */
void proc_cmdline_join(const char *buf, size_t len, char *out, size_t size);

/* Commit charge a fork of this process would add (DESIGN §2): VmData + VmStk. */
uint64_t proc_commit_kb(const struct proc_info *p);
bool proc_has_cap_sys_admin(const struct proc_info *p);
/* The systemd unit from the cgroup path (last component ending in .service
 * or .scope), or NULL. Points into p->cgroup. */
const char *proc_unit(const struct proc_info *p, size_t *len);

/* Read everything for one pid.  -ENOENT/-ESRCH: the process is gone (callers
 * skip it, never an error).  exe/cmdline unreadable (permissions, kernel
 * thread) leave those fields empty, not an error. */
int proc_read(const struct roots *r, int pid, struct proc_info *p);
/* What proc_read_opts reads; proc_read reads all (after zeroing p).  The
 * snapshot reads stat of every pid, the rest only for candidates, and exe/
 * cmdline only when a policy matches on them: 10,000 pids stay cheap.
 * Fields not asked for are left untouched; p->pid is set. */
enum proc_read_what {
	PROC_READ_STAT = 1u << 0,
	PROC_READ_STATUS = 1u << 1,
	PROC_READ_OOM = 1u << 2,
	PROC_READ_CGROUP = 1u << 3,
	PROC_READ_EXE = 1u << 4,
	PROC_READ_CMDLINE = 1u << 5,
	PROC_READ_ALL = (1u << 6) - 1,
};
int proc_read_opts(const struct roots *r, int pid, unsigned what, struct proc_info *p);
/* The same through dfd, the process's /proc/PID directory (procfd_pin):
 * every file of one process, never of a later owner of the pid; exe is
 * still asked by pid (the privsep reader). */
int proc_read_pinned(const struct roots *r, int pid, int dfd, unsigned what, struct proc_info *p);
/* Field 9 of stat, the task's PF_* flags; 0 or -EINVAL. */
int proc_stat_flags_parse(const char *buf, unsigned *flags);
/* Read them (the fork share: has the child exec'd yet?). */
int proc_read_flags(const struct roots *r, int pid, unsigned *flags);
/* Re-read only the start time, to confirm identity (pid + start, DESIGN §7.8). */
int proc_read_start_time(const struct roots *r, int pid, uint64_t *start);

/* List numeric entries of procfs. Returns count or -errno; *pids malloc'd. */
int proc_list_pids(const struct roots *r, int **pids);

#endif
