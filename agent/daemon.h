/* daemon.h - the state of `overcommitd run` (daemon.c). */
#ifndef OVERCOMMITD_DAEMON_H
#define OVERCOMMITD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include "cli.h"
#include "drift.h"
#include "journal.h"
#include "learn.h"
#include "policy.h"
#include "proc.h"
#include "procconn.h"
#include "tracker.h"

/* A fork episode in progress: a fork of the main until that child exits. */
struct episode {
	bool active;
	int child;
	char cgroup[PROC_PATH_MAX]; /* the service's group, where anon is read */
	uint64_t cg_at_fork_kb;     /* group anon at the fork */
	uint64_t cg_peak_kb;        /* highest group anon sampled since */
	uint64_t baseline_kb;       /* max(group anon, main's RssAnon) at the fork */
	uint64_t start_s, t0_ms;
};

struct daemon_stats {
	uint64_t events, resyncs, full_scans, applied, failed, episodes, enforced;
	uint64_t reloads, reload_failures, max_latency_ns;
};

struct daemon {
	const struct cli *c;
	struct policy pol;
	struct tracker tr;
	struct journal j;
	struct svc_learning *learned;
	size_t nlearned;
	struct episode *ep;         /* one per policy service */
	struct drift drift;
	struct procconn *pc;
	int sig_fd, tick_fd, sample_fd;
	bool stop, reload, need_full, sampling, watchdog, cgroup2, metrics_warned;
	uint64_t passes;
	struct daemon_stats stats;
};

#endif
