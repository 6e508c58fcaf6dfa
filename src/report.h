/* report.h - render observations and a plan for people (text) and machines
 * (JSON, DESIGN §5 schema).  Writes to the FILE* it is given. */
#ifndef OVERCOMMITD_REPORT_H
#define OVERCOMMITD_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "apply.h"
#include "plan.h"
#include "policy.h"
#include "refusal.h"
#include "snapshot.h"

enum report_mode {
	RPT_RECOMMEND = 0, /* the plan, nothing written */
	RPT_APPLY,         /* the plan with each action's result */
	RPT_STATUS,        /* what is observed; the plan only counted */
};

/* The daemon's running totals since it started (Prometheus counters). */
struct prom_counters {
	uint64_t events_total;   /* proc connector events handled */
	uint64_t applied_total;  /* actions written (AP_DONE) */
	uint64_t failed_total;   /* actions that failed (AP_FAILED) */
	uint64_t resyncs_total;  /* full rescans after lost events */
	uint64_t episodes_total; /* fork episodes (COW learning) completed */
	uint64_t smaps_reads_total;      /* exact fork charges read (off the event loop) */
	uint64_t smaps_read_ns_total;    /* the time those reads took */
	uint64_t events_during_smaps_total; /* exec/fork events enforced while one ran */
	uint64_t fork_shares_total;      /* DONTFORK shares taken from fork events */
	/* gauges: the daemon's tables, bounded however many processes go by */
	uint64_t tracked;                /* processes it tracks now */
	uint64_t drift_entries;          /* written values it watches for drift */
	uint64_t journal_entries;        /* live journal entries (originals to restore) */
};

struct report_in {
	enum report_mode mode;
	const struct policy *pol;
	const struct snapshot *snap;
	const struct plan *plan;
	const struct apply_result *res; /* RPT_APPLY only (plan->nact entries), else NULL */
	bool enforce_off;               /* apply refused to write: enforce = no */
	bool verbose;
	const struct prom_counters *counters; /* daemon only; NULL: not emitted */
	const struct refusal_book *refusals;  /* commit refusals seen (refusal.h); NULL: none known */
};

int report_text(FILE *out, const struct report_in *in);
int report_json(FILE *out, const struct report_in *in);
/* The document report_json prints, as a json-c object (NULL: no memory);
 * what-if nests one per host. */
struct json_object *report_json_object(const struct report_in *in);
/* Prometheus text exposition format 0.0.4 (report_prom.c); _file replaces
 * path atomically, mode 0644 (node_exporter textfile collector), in a
 * directory trusted like the state directory: -EPERM (why filled, may be
 * NULL) when another user owns it or may write it. */
int report_prometheus(FILE *out, const struct report_in *in);
int report_prometheus_file(const char *path, const struct report_in *in, char *why, size_t whysize);

const char *apply_status_name(enum apply_status st); /* "done", "unchanged", ... */

#endif
