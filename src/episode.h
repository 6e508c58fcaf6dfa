/* episode.h - the arithmetic of one fork episode (a fork of a service's main
 * process until that child exits): what it cost in anonymous memory and
 * whether it has outgrown its budget.  Pure: the daemon reads the figures
 * and the clock and passes them in. */
#ifndef OVERCOMMITD_EPISODE_H
#define OVERCOMMITD_EPISODE_H

#include <stdbool.h>
#include <stdint.h>
#include "learn.h"
#include "proc.h"

struct episode {
	bool active;
	int child;
	char cgroup[PROC_PATH_MAX]; /* the service's group, where anon is read */
	char fork_cgroup[PROC_PATH_MAX]; /* the child's own leaf ("" = none): its
					    anon counts in the growth too */
	uint64_t cg_at_fork_kb;     /* group anon at the fork */
	uint64_t cg_peak_kb;        /* highest group anon sampled since */
	uint64_t baseline_kb;       /* max(group anon, main's RssAnon) at the fork */
	uint64_t start_s, t0_ms;    /* wall clock (s) and monotonic (ms) at the fork */
	uint64_t over_ms;           /* monotonic ms the budget was first passed; 0 = not */
	uint64_t child_start;       /* the child's start time (identity); 0 = unknown */
	bool child_stopped;         /* overcommitd ended the child already */
	/* under a systemd unit: the child's transient scope (sdscope.h) */
	char unit[PROC_PATH_MAX];   /* the service's unit ("" = no scope wanted) */
	unsigned char scope;        /* EP_SCOPE_*: where its request stands */
};

enum { EP_SCOPE_NONE, EP_SCOPE_PENDING, EP_SCOPE_PLACED, EP_SCOPE_FAILED };

/* Why a fork child must go now, the main never (DESIGN invariant 10). */
enum episode_verdict {
	EP_KEEP = 0,
	EP_OVER_BUDGET,     /* COW growth passed the learned budget x margin */
	EP_HOST_PRESSURE,   /* RAM or (strict mode) commit nearly exhausted */
};

/* Host figures the verdict reads (from /proc/meminfo). */
struct episode_host {
	uint64_t mem_total_kb, mem_available_kb;
	uint64_t commit_limit_kb, committed_as_kb;
	bool strict;                /* vm.overcommit_memory = 2 */
};

/* RAM is "nearly exhausted" below 1/EP_RAM_FLOOR_DIV of MemTotal available;
 * commit (strict mode) above EP_COMMIT_CEIL_PCT % of CommitLimit. */
#define EP_RAM_FLOOR_DIV 20
#define EP_COMMIT_CEIL_PCT 98

/* Begin an episode for child.  group_anon_kb: the service group's anon now;
 * main_rss_anon_kb: the main's RssAnon (cgroup v2 keeps charges where they
 * were made, so a service moved into its group after start shows little
 * anon there: the larger of the two is the base). */
void episode_begin(struct episode *e, int child, uint64_t group_anon_kb,
		   uint64_t main_rss_anon_kb, uint64_t start_s, uint64_t t0_ms);
/* One sample of the group's anon while the episode runs. */
void episode_sample(struct episode *e, uint64_t group_anon_kb);
/* COW growth so far: the group's peak anon above its anon at the fork. */
uint64_t episode_growth_kb(const struct episode *e);
/* The growth an episode may reach: the learned budget x margin,
 * base x (growth x (1 + margin) + margin) (the headroom the planner's
 * memory.high = auto gives: anon x (1 + growth) x (1 + margin)); with a
 * limit on the group (limit_kb: the lower of memory.high and memory.max;
 * 0 = none) at most the room left under it at the fork, less a guard of
 * 1/32 (at least 4 MiB): the child goes before the group reaches the point
 * where the main is throttled.  growth: learned (NaN/negative:
 * LEARN_DEFAULT_GROWTH); never below min_kb. */
uint64_t episode_budget_kb(const struct episode *e, uint64_t limit_kb, double learned_growth,
			   double margin, uint64_t min_kb);
/* Has growth passed budget_kb?  Remembers the first time (now_ms) in
 * over_ms; returns true from then on while the episode lasts. */
bool episode_over_budget(struct episode *e, uint64_t budget_kb, uint64_t now_ms);
/* Should the child go now?  Never for an inactive episode, a child of
 * unknown identity or one already stopped. */
enum episode_verdict episode_judge(struct episode *e, uint64_t budget_kb,
				   const struct episode_host *h, uint64_t now_ms);
const char *episode_verdict_name(enum episode_verdict v);
/* End the episode: false when none was active; otherwise *out is the
 * record learning keeps (the baseline plus the group's growth). */
bool episode_finish(struct episode *e, uint64_t now_ms, struct cow_episode *out);

#endif
