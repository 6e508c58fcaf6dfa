/* learn.h - copy-on-write learning: what a service's fork episodes
 * really cost in anonymous memory, robust to outliers, decaying with age,
 * persisted across restarts.  Pure except learn_load/learn_save. */
#ifndef OVERCOMMITD_LEARN_H
#define OVERCOMMITD_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "statedir.h"
#include "workgrowth.h"

/* Episodes lose half their weight per week: a service that changed its
 * write pattern is relearned within days, not months. */
#define LEARN_HALF_LIFE_S (7 * 24 * 3600)
#define LEARN_WINDOW 16          /* episodes kept per service */

/* One fork episode: a fork of the main process until that child's exit. */
struct cow_episode {
	uint64_t start_s;         /* wall clock (s) the episode began; for decay */
	uint64_t anon_at_fork_kb; /* service anon (cgroup memory.stat anon) at fork */
	uint64_t anon_peak_kb;    /* highest anon seen during the episode */
	uint64_t duration_ms;     /* child lifetime */
};

struct svc_learning {
	char name[64];            /* service name (policy) */
	struct cow_episode ep[LEARN_WINDOW]; /* ring, newest at (head-1) */
	size_t n, head;
	uint64_t episodes_total;
	struct worker_growth workers; /* long-lived workers' lifetime growth (workgrowth.h) */
};

struct learn_estimate {
	bool learning;            /* no usable episode yet: default used */
	double growth;            /* COW growth per episode, fraction of anon at fork */
	size_t episodes;          /* used for the estimate */
	uint64_t peak_kb;         /* highest anon peak among recent episodes */
};

/* The conservative default before any episode is seen (growth 1.0 = the
 * child may copy everything once): a fork may double anon. */
#define LEARN_DEFAULT_GROWTH 1.0

/* Episodes with anon_at_fork < 1 MiB are ignored (noise: empty services,
 * where any growth is a huge fraction of nothing). */
#define LEARN_MIN_ANON_KB 1024

/* Bounds the persisted file and the parser enforce (a kernel never reports
 * 1 PiB of anon; a bigger figure is corruption). */
#define LEARN_MAX_SERVICES 1024
#define LEARN_MAX_VALUE ((uint64_t)1 << 40) /* per episode field: KiB, s, ms */

/* Append to the ring (the oldest falls out), episodes_total++.  Episodes with
 * anon_at_fork_kb < LEARN_MIN_ANON_KB or a field > LEARN_MAX_VALUE are
 * ignored (not counted). */
void learn_add(struct svc_learning *l, const struct cow_episode *ep);
/* Robust estimate at time now_s: weighted median of per-episode growth
 * (peak - at_fork) / at_fork over the window, weights halving every
 * half_life_s of age; episodes older than 8 half-lives are dropped.
 * A start in the future counts as age 0; half_life_s == 0: no decay. */
struct learn_estimate learn_estimate(const struct svc_learning *l, uint64_t now_s,
				     uint64_t half_life_s);

/* The estimate for the service called name among n records (the default,
 * learning, when it has none), with the standard half-life. */
struct learn_estimate learn_estimate_named(const struct svc_learning *all, size_t n,
					   const char *name, uint64_t now_s);

/* The record called name among n, or NULL. */
const struct svc_learning *learn_find(const struct svc_learning *all, size_t n, const char *name);

/* Persist/restore all services' learning as JSON in STATE_DIR/learned.json
 * (atomic replace).  learn_load: missing file -> *n = 0; corrupt -> -EINVAL
 * (the caller logs and starts fresh, never overwriting before a save). */
int learn_load(const char *state_dir, struct svc_learning **out, size_t *n);
int learn_save(const char *state_dir, const struct svc_learning *l, size_t n);
/* The same in an opened, trusted directory: learned.json is read only when
 * it is a regular file of the agent's user, writable by nobody else
 * (-EPERM, sd->why says why); written through statedir_write. */
int learn_load_at(struct statedir *sd, struct svc_learning **out, size_t *n);
int learn_save_at(struct statedir *sd, const struct svc_learning *l, size_t n);
/* The buffer halves of load/save (fuzz target, tests).  learn_parse: strict
 * (types, ranges, names, duplicates -> -EINVAL; more than LEARN_WINDOW
 * episodes keep the newest); *out malloc'd (NULL when *n == 0), nothing
 * allocated on error.  learn_format: *json malloc'd, NUL-terminated;
 * -EINVAL for a record learn_parse would refuse. */
int learn_parse(const char *json, struct svc_learning **out, size_t *n);
int learn_format(const struct svc_learning *l, size_t n, char **json);
/* Find or add a service's record in a malloc'd array. NULL with errno set:
 * ENOMEM, EINVAL (name empty or > 63 bytes), ENOSPC (LEARN_MAX_SERVICES). */
struct svc_learning *learn_get(struct svc_learning **arr, size_t *n, const char *name);

#endif
