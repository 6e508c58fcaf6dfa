/* privs.h - least privilege for the uid-0 agent (DESIGN §2).
 * After setup the daemon keeps only {DAC_OVERRIDE, SYS_RESOURCE, SYS_PTRACE,
 * NET_ADMIN}, stays uid 0 (writing /proc/sys/vm needs euid 0, no capability
 * replaces it) and sets no-new-privs.  Capabilities are per thread: call
 * privs_drop() before any thread exists (it refuses with -EBUSY otherwise). */
#ifndef OVERCOMMITD_PRIVS_H
#define OVERCOMMITD_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bit masks as in /proc/PID/status (bit n = capability n). */
#define PRIVS_BIT(c) ((uint64_t)1 << (c))
/* DAC_OVERRIDE(1) NET_ADMIN(12) SYS_PTRACE(19) SYS_RESOURCE(24) */
#define PRIVS_KEEP_MASK (PRIVS_BIT(1) | PRIVS_BIT(12) | PRIVS_BIT(19) | PRIVS_BIT(24))

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

/* Keep PRIVS_KEEP_MASK ∩ permitted in permitted+effective, clear inheritable
 * and ambient, drop every other capability from the bounding set, set
 * no-new-privs.  Idempotent.  0 or -errno (-EBUSY: more than one thread;
 * -EPERM: the bounding set must shrink but CAP_SETPCAP is not permitted).
 * Wanted capabilities the process never had are simply not kept:
 * privs_missing() names them. */
int privs_drop(void);

/* Wanted capabilities absent from the permitted set: their names
 * ("cap_sys_resource", comma separated, "" if none) into buf; returns how
 * many, or -errno (-ENAMETOOLONG when buf is too small). */
int privs_missing(char *buf, size_t size);

/* "eff=cap_dac_override,... prm=... inh= amb= bnd=... nnp=1" for the startup
 * log.  0 or -errno (-ENAMETOOLONG: truncated, buf still NUL-terminated). */
int privs_describe(char *buf, size_t size);

bool privs_is_root(void);

#endif
