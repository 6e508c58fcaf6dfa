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
	uint64_t cg_at_fork_kb;     /* group anon at the fork */
	uint64_t cg_peak_kb;        /* highest group anon sampled since */
	uint64_t baseline_kb;       /* max(group anon, main's RssAnon) at the fork */
	uint64_t start_s, t0_ms;    /* wall clock (s) and monotonic (ms) at the fork */
	uint64_t over_ms;           /* monotonic ms the budget was first passed; 0 = not */
};

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
/* The growth an episode may reach: the learned growth fraction of the
 * base, times margin (>= 1.0); never below min_kb. */
uint64_t episode_budget_kb(const struct episode *e, double learned_growth, double margin,
			   uint64_t min_kb);
/* Has growth passed budget_kb?  Remembers the first time (now_ms) in
 * over_ms; returns true from then on while the episode lasts. */
bool episode_over_budget(struct episode *e, uint64_t budget_kb, uint64_t now_ms);
/* End the episode: false when none was active; otherwise *out is the
 * record learning keeps (the baseline plus the group's growth). */
bool episode_finish(struct episode *e, uint64_t now_ms, struct cow_episode *out);

#endif
