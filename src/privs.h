/* privs.h - least privilege for the uid-0 agent (DESIGN §2 and "Privilege
 * separation").  The daemon starts with PRIVS_WANT_MASK, binds
 * the proc connector (NET_ADMIN), forks the reader of other users' /proc
 * files (privsep.h), which keeps only SYS_PTRACE as uid 65534, and then
 * keeps only PRIVS_KEEP_MASK itself: {DAC_OVERRIDE, SYS_RESOURCE}, uid 0
 * (writing /proc/sys/vm needs euid 0, no capability replaces it) and
 * no-new-privs.  Without SYS_PTRACE it cannot open another process's
 * /proc/PID/mem unless that process runs as root with a subset of its two
 * capabilities.  Capabilities are per thread: call privs_drop() before any
 * thread exists (it refuses with -EBUSY otherwise). */
#ifndef OVERCOMMITD_PRIVS_H
#define OVERCOMMITD_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bit masks as in /proc/PID/status (bit n = capability n). */
#define PRIVS_BIT(c) ((uint64_t)1 << (c))
/* What the daemon (the writer) keeps: DAC_OVERRIDE(1) SYS_RESOURCE(24) */
#define PRIVS_KEEP_MASK (PRIVS_BIT(1) | PRIVS_BIT(24))
/* What the reader keeps: SYS_PTRACE(19) */
#define PRIVS_READER_MASK PRIVS_BIT(19)
/* What start-up wants: both of the above, NET_ADMIN(12) to bind the proc
 * connector, SETGID(6) SETUID(7) SETPCAP(8) to make the reader uid 65534
 * and shrink each process's bounding set.  All dropped before READY. */
#define PRIVS_WANT_MASK                                                                   \
	(PRIVS_KEEP_MASK | PRIVS_READER_MASK | PRIVS_BIT(6) | PRIVS_BIT(7) | PRIVS_BIT(8) | \
	 PRIVS_BIT(12))

struct privs_sets {
	uint64_t inh, prm, eff, bnd, amb;
	int nnp;     /* NoNewPrivs: 0/1 */
	int threads; /* Threads: */
};

/* Parse the Cap* / NoNewPrivs / Threads lines of a /proc/PID/status buffer.
 * -EINVAL when a Cap line is missing or malformed (pure; a fuzz target). */
int privs_parse_status(const char *buf, struct privs_sets *out);
/* The calling process's sets, from /proc/self/status. */
int privs_read_self(struct privs_sets *out);

/* Keep keep ∩ permitted in permitted+effective, clear inheritable and
 * ambient, drop every other capability from the bounding set, set
 * no-new-privs.  Idempotent.  0 or -errno (-EBUSY: more than one thread;
 * -EPERM: the bounding set must shrink but CAP_SETPCAP is not permitted).
 * Wanted capabilities the process never had are simply not kept:
 * privs_missing() names them. */
int privs_drop_to(uint64_t keep);
/* privs_drop_to(PRIVS_KEEP_MASK): the daemon after start-up. */
int privs_drop(void);

/* Become uid/gid `id` with no supplementary groups, keeping the permitted
 * capabilities in keep (PR_SET_KEEPCAPS) and then exactly keep, bounding
 * set included.  Needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP.  0 or -errno. */
int privs_become(unsigned id, uint64_t keep);

/* Capabilities of PRIVS_WANT_MASK absent from the permitted set: their names
 * ("cap_sys_resource", comma separated, "" if none) into buf; returns how
 * many, or -errno (-ENAMETOOLONG when buf is too small). */
int privs_missing(char *buf, size_t size);

/* "eff=cap_dac_override,... prm=... inh= amb= bnd=... nnp=1" for the startup
 * log.  0 or -errno (-ENAMETOOLONG: truncated, buf still NUL-terminated). */
int privs_describe(char *buf, size_t size);

bool privs_is_root(void);

#endif
