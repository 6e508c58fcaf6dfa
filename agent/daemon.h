/* daemon.h - the state of `overcommitd run` (daemon.c). */
#ifndef OVERCOMMITD_DAEMON_H
#define OVERCOMMITD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include "candidate.h"
#include "chargecache.h"
#include "cli.h"
#include "drift.h"
#include "episode.h"
#include "journal.h"
#include "learn.h"
#include "policy.h"
#include "proc.h"
#include "procconn.h"
#include "procfd.h"
#include "tracker.h"
#include "workcache.h"

struct daemon_stats {
	uint64_t events, resyncs, full_scans, applied, failed, episodes, enforced;
	uint64_t reloads, reload_failures, max_latency_ns;
	/* smaps reads: on the reader thread, never on the loop (daemon_charges.c) */
	uint64_t smaps_reads, smaps_failed, smaps_ns, smaps_vm_kb;
	uint64_t events_during_smaps;          /* events enforced while a read ran */
	uint64_t max_latency_during_smaps_ns;  /* their worst exec/fork->enforced */
	uint64_t fork_shares;                  /* DONTFORK shares from fork events */
	uint64_t children_placed;   /* fork children moved into their own leaf group */
	uint64_t children_stopped;  /* fork children ended so their main never pays */
	uint64_t children_scoped;   /* fork children in a transient scope (systemd) */
};

struct rf_daemon; /* daemon_refusal.c */
struct sdscope_bus; /* sdscope.c */
struct scope_back; /* daemon_scope.c */
struct smaps_reader; /* smapsreader.c */

struct daemon {
	const struct cli *c;
	struct policy pol;
	struct tracker tr;
	struct journal j;
	struct svc_learning *learned;
	size_t nlearned;
	bool learned_dirty;         /* episodes learned since learned.json was saved */
	uint64_t learned_saved_ms;  /* when it was (monotonic ms; 0: never) */
	struct episode *ep;         /* one per policy service */
	struct drift drift;
	struct procconn *pc;
	struct rf_daemon *rf;       /* commit refusal capture; NULL without */
	struct charge_cache charges; /* exact fork charges per (pid, start time) */
	struct workcache wc;        /* workers read every WORK_READ_EVERY passes */
	struct smaps_reader *smaps;  /* the thread that reads smaps; NULL: none */
	uint64_t last_pass_ms;       /* CLOCK_MONOTONIC of the last pass */
	struct cand_list cand;      /* new mains beside a running instance, held back */
	struct procpin exec_pin;    /* the process of the exec being handled (fd -1: none) */
	int sig_fd, tick_fd, sample_fd;
	bool stop, reload, need_full, sampling, watchdog, cgroup2, metrics_warned;
	bool cg_v2;                 /* the memory controller is on cgroup v2 */
	bool said_mount;            /* cgroup_favordynmods left to apply: said once */
	/* fork children's transient scopes under systemd units (daemon_scope.c) */
	struct sdscope_bus *bus;    /* NULL until the first scope is asked for */
	unsigned bus_opened;        /* connections made: the wait re-registers a new one's fd */
	struct scope_back *back;    /* cancelled children to move back */
	size_t nback;
	bool scope_warned;          /* a failure was logged (once) */
	uint64_t passes;
	uid_t uid_min;              /* login.defs UID_MIN: who may be acted on (trust.h) */
	struct daemon_stats stats;
};

/* daemon_privs.c: fork the /proc reader, drop to the writer's
 * capabilities, prove /proc/1/mem is not writable.  0 or -errno (logged). */
int daemon_drop_privileges(const struct roots *r);

#endif
