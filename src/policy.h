/* policy.h - the operator's intent, parsed from INI files (DESIGN §6).
 * Every value remembers its FILE:LINE so actions can cite it. */
#ifndef OVERCOMMITD_POLICY_H
#define OVERCOMMITD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"
#include "origin.h"

/* Built-in defaults that policy_init() sets and the planner falls back on. */
#define POLICY_FORK_HEADROOM_BP 11000 /* fork_headroom = 110% of the largest fork need */
#define POLICY_COW_MARGIN_BP 2500     /* cow_margin = 25% */
#define POLICY_CHILD_STOP_SIGNAL 9    /* SIGKILL */

enum oc_pref { OC_AUTO = 0, OC_STRICT, OC_HEURISTIC, OC_ALWAYS };

/* A size-like value.  Which kinds a key accepts is per key (see policy.c). */
enum size_kind {
	SZ_UNSET = 0, /* key absent */
	SZ_KB,        /* absolute, in KiB */
	SZ_PCT,       /* percent, in basis points (90% = 9000) */
	SZ_AUTO,      /* "auto" */
	SZ_OFF,       /* "off" */
};

struct size_spec {
	enum size_kind kind;
	uint64_t kb;  /* SZ_KB */
	uint32_t bp;  /* SZ_PCT */
	struct origin at;
};

struct pol_int {
	bool set;
	int64_t v;
	struct origin at;
};

struct pol_str {
	char *v;      /* NULL when unset */
	struct origin at;
};

struct pol_host {
	enum oc_pref overcommit;      /* default OC_AUTO */
	struct origin overcommit_at;
	struct size_spec commit_limit;  /* SZ_KB or SZ_PCT of MemTotal; CommitLimit wanted */
	struct pol_int commit_ratio;    /* 0..100 -> vm.overcommit_ratio; exclusive with commit_limit */
	struct size_spec user_reserve;  /* SZ_KB or SZ_PCT of MemTotal */
	struct size_spec admin_reserve; /* SZ_KB or SZ_PCT of MemTotal */
	struct size_spec fork_headroom; /* SZ_PCT of the largest fork need (default 110%), or SZ_KB */
	bool enforce;                   /* default false: recommend only */
	struct origin enforce_at;
	struct pol_int interval;        /* daemon observation interval, seconds (default 10) */
	bool reapply_on_drift;          /* daemon: someone else changed a value it manages:
	                                   no (default) = log and leave that target alone,
	                                   yes = write it again (rate-limited, then back off) */
	struct origin reapply_on_drift_at;
	bool restore_on_exit;           /* daemon: restore every original on SIGTERM */
	struct origin restore_on_exit_at;
	struct pol_int concurrent_forks; /* how many instances may fork at once: the
	                                   fork headroom covers the N largest (default 1) */
	bool cgroup_favordynmods;       /* the cgroup2 mount's favordynmods (cgroupopt.h);
	                                   unset (no origin) = left as it is */
	struct origin cgroup_favordynmods_at;
};

struct pol_service {
	char *name;                  /* from "[service NAME]" */
	struct origin at;            /* the section header */
	struct pol_str match_comm;   /* exact /proc/PID/comm */
	struct pol_str match_exe;    /* exact /proc/PID/exe target */
	char *match_exe_target;      /* what match_exe resolves to when it is a symlink
	                                (/proc/PID/exe shows the target), else NULL */
	struct pol_str match_unit;   /* systemd unit from /proc/PID/cgroup, e.g. redis-server.service */
	struct pol_str match_user;   /* user name or numeric uid (real uid) */
	struct pol_str match_cmdline;/* fnmatch(3) glob on the space-joined cmdline */
	struct pol_int oom_score_adj;       /* -1000..1000, the main process */
	struct pol_int child_oom_score_adj; /* -1000..1000, children of the main process */
	struct pol_int child_stop_signal;   /* 0..64: ends a fork child past its budget (9) */
	struct size_spec memory_high;     /* SZ_AUTO | SZ_KB | SZ_PCT | SZ_OFF (default SZ_OFF) */
	struct size_spec memory_high_min; /* SZ_KB | SZ_PCT (default 256M) */
	struct size_spec memory_high_max; /* SZ_KB | SZ_PCT (default 75%) */
	struct size_spec memory_max;      /* SZ_OFF | SZ_AUTO | SZ_KB | SZ_PCT (default off) */
	struct size_spec cow_margin;      /* SZ_PCT (default 25%) */
	struct pol_str cgroup;            /* default "overcommitd/NAME" */
	struct pol_str requires_overcommit; /* "heuristic" | "always": overcommit = auto never
	                                      chooses strict accounting while it runs
	                                      (MongoDB aborts on ENOMEM under mode 2) */
};

struct policy {
	struct pol_host host;
	struct pol_service *svc;
	size_t nsvc;
	struct diags notes; /* warnings that do not refuse the policy (a service
	                       matched by name alone, a match_exe symlink resolved) */
	char **files;   /* interned file names that origins point into */
	size_t nfiles;
};

/* Load every "*.ini" in each directory (or a single file when a path is a
 * regular file), files ordered by file name across all dirs, later ones
 * overriding keys of earlier ones.  Problems go to d (all of them).
 * Returns 0 when d stayed empty, -EINVAL otherwise (the policy is then
 * freed and must not be used).  check_owner: refuse files not owned by root
 * (or the effective uid) or writable by group/others (DESIGN §7.7). */
int policy_load(const char *const *paths, size_t npaths, bool check_owner,
		struct policy *p, struct diags *d);
/* Parse one INI text as if read from file `name` into p (used by the loader
 * and by the fuzzer).  Adds problems to d. */
int policy_parse_buffer(const char *name, const char *text, struct policy *p,
			struct diags *d);
/* Initialise p with built-in defaults (no file). */
void policy_init(struct policy *p);
/* Checks across keys (both commit_limit and commit_ratio, a service with no
 * match_*, memory_high_min > memory_high_max, ...), after all files. */
void policy_finish(struct policy *p, struct diags *d);
/* match_exe paths that are symlinks on this host are resolved (the kernel
 * shows the target in /proc/PID/exe): match_exe_target set, a note added;
 * a path that does not exist here gets a note too.  Called by policy_load. */
void policy_resolve_exe(struct policy *p);
void policy_free(struct policy *p);

const char *oc_pref_name(enum oc_pref m);
/* The cgroup path ("/overcommitd/redis") overcommitd uses for a service
 * without one of its own: "/" + the policy's `cgroup`, else
 * "/overcommitd/NAME".  Returns buf. */
const char *policy_service_cgroup(const struct pol_service *s, char *buf, size_t size);

#endif
