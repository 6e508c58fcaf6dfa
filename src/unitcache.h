/* unitcache.h - the OOMPolicy of each systemd unit a service runs in, read
 * once per full /proc scan instead of on every pass.
 *
 * The property comes over D-Bus (sdunit_oom_policy: a connection to PID 1,
 * a call, a close).  The daemon's pass asked it for every running service
 * in a unit, every pass: under load each asks PID 1 for tens to hundreds of
 * milliseconds, while fork events wait behind the pass.  A unit's OOMPolicy
 * changes only by an edit and a daemon-reload, so it is read again at the
 * next full scan (every 30th pass, after lost events) or reload; until then
 * the report keeps the value read before.  Pure: the caller says which scan
 * generation it is in. */
#ifndef OVERCOMMITD_UNITCACHE_H
#define OVERCOMMITD_UNITCACHE_H

#include <stddef.h>
#include <stdint.h>

#define UNITCACHE_MAX 32 /* units kept; one per service instance is plenty */

struct unit_entry {
	char unit[256];
	char policy[16]; /* "" with rc < 0: unknown */
	int rc;          /* what the read returned */
	uint64_t gen;
};

struct unit_cache {
	struct unit_entry e[UNITCACHE_MAX];
	size_t n;
	uint64_t gen; /* entries of an older generation are read again */
};

/* A new generation: every unit is read again when next asked for. */
void unitcache_expire(struct unit_cache *c);
/* The entry for unit read in this generation, or NULL. */
const struct unit_entry *unitcache_find(const struct unit_cache *c, const char *unit);
/* Keep what a read returned (the oldest entry goes when full). */
void unitcache_put(struct unit_cache *c, const char *unit, const char *policy, int rc);

#endif
