/* hostsnap.h - a host snapshot: everything the planner may need from one
 * host, independent of any policy, as one versioned JSON document
 * (`overcommitd snapshot`), and read back as an observation source so that
 * `what-if` matches and plans exactly as `recommend` does on the host
 * (DESIGN.md "Snapshots and what-if"). */
#ifndef OVERCOMMITD_HOSTSNAP_H
#define OVERCOMMITD_HOSTSNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "adminreserve.h"
#include "cgroup.h"
#include "cgroupopt.h"
#include "commitslack.h"
#include "forkcharge.h"
#include "learn.h"
#include "meminfo.h"
#include "proc.h"
#include "roots.h"
#include "snapshot.h"
#include "vmsysctl.h"

#define HOSTSNAP_FORMAT "overcommitd-snapshot"
#define HOSTSNAP_VERSION 1
/* Bounds the reader enforces (a hostile or damaged file costs at most this):
 * a file, processes, cgroups and user names per document. */
#define HOSTSNAP_MAX_BYTES ((size_t)64 << 20)
#define HOSTSNAP_MAX_PROCS 100000
#define HOSTSNAP_MAX_CGROUPS 65536
#define HOSTSNAP_MAX_USERS 65536
#define HOSTSNAP_NAME_MAX 64

struct hs_cgroup {
	char path[PROC_PATH_MAX];     /* as in /proc/PID/cgroup: "/system.slice/x.service" */
	struct cg_memory m;           /* present is always true here */
};

struct hs_user {                  /* uid -> name of the users processes run as */
	uid_t uid;
	char name[HOSTSNAP_NAME_MAX];
};

/* Smaps is read (the exact fork charge) for processes whose
 * VmData + VmStk is at least this, the largest HOSTSNAP_SMAPS_MAX of them:
 * the forks that matter; smaps walks page tables (~9 ms per GiB). */
#define HOSTSNAP_SMAPS_MIN_KB (32 * 1024)
#define HOSTSNAP_SMAPS_MAX 256

struct hs_procx {                 /* per process, beside procs[] (same index) */
	uint64_t userns;              /* /proc/PID/ns/user inode, 0 = unknown */
	bool have_smaps;
	struct smaps_charge smaps;    /* when have_smaps */
};

struct hostsnap {
	char hostname[256];
	char kernel[128];             /* uname release */
	uint64_t taken_at;            /* unix seconds: learned COW data decays from here */
	bool redacted;                /* command lines left out (--redact) */
	struct meminfo mem;
	struct vm_sysctls vm;
	bool cgroup2;                 /* cgroup2 with the memory controller */
	enum cg_hier hier;            /* where the groups were read: v2, v1 or hybrid */
	enum cgopt_state favordynmods; /* the cgroup2 mount's option (cgroupopt.h) */
	uid_t uid_min;                /* login.defs UID_MIN (trust rule) */
	struct cpu_counts cpus;       /* per-CPU commit slack; 0 = unknown */
	struct admin_facts admin;     /* admin reserve exemption facts */
	struct proc_info *procs;      /* ascending pid */
	struct hs_procx *procx;       /* same length */
	size_t nprocs;
	struct hs_cgroup *cgroups;    /* every group with memory figures, ascending path */
	size_t ncgroups;
	struct hs_user *users;        /* ascending uid */
	size_t nusers;
	struct svc_learning *learned; /* STATE_DIR/learned.json as it was (NULL: none) */
	size_t nlearned;
};

/* Read the host through the roots: meminfo, vm.* sysctls, every process's
 * cheap fields (never smaps; cmdline left out when redact), the memory
 * figures of every group (cgroup v2, or the v1 memory hierarchy), the names of the uids seen.  Identity
 * (hostname, kernel, taken_at) and learned data are the caller's.
 * Vanished processes are skipped.  Returns 0 or -errno. */
int hostsnap_take(const struct roots *r, bool redact, struct hostsnap *hs);
void hostsnap_free(struct hostsnap *hs);

/* The document (JSON, one line).  *json malloc'd, NUL-terminated. */
int hostsnap_format(const struct hostsnap *hs, char **json, size_t *len);
/* Strict reader: format, version, types, ranges, sizes, order and bounds
 * checked; -EINVAL with a one-line reason in err ("processes[3].pid: ...",
 * "version 2: this overcommitd reads version 1"); nothing allocated then. */
int hostsnap_parse(const char *json, size_t len, struct hostsnap *hs, char *err, size_t errsize);
/* hostsnap_parse of a file; -errno of the read, -EFBIG beyond HOSTSNAP_MAX_BYTES. */
int hostsnap_load(const char *path, struct hostsnap *hs, char *err, size_t errsize);

/* An observation source over a snapshot (valid while hs lives). */
void hostsnap_source(const struct hostsnap *hs, struct obs_source *src);
/* What fork_observe() does for recommend, from the document: each main's
 * charge exact from its recorded smaps, else the estimate.  0 or -ENOMEM. */
int hostsnap_fork_observe(const struct hostsnap *hs, struct snapshot *s);

#endif
