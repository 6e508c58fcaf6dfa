/* apply.h - the only code that writes to the kernel (DESIGN §3).
 * Read-compare-write; every write() and close() checked; the original goes
 * to the journal before the first write of a target. */
#ifndef OVERCOMMITD_APPLY_H
#define OVERCOMMITD_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include "journal.h"
#include "plan.h"
#include "procfd.h"
#include "roots.h"

enum apply_status {
	AP_DONE = 0,     /* written and read back */
	AP_UNCHANGED,    /* already at the desired value */
	AP_SKIPPED,      /* target vanished (process exited, pid reused): not an error */
	AP_FAILED,       /* error: see err */
};

struct apply_result {
	enum apply_status status;
	int err;              /* negative errno for AP_FAILED */
	char detail[256];     /* human text: what happened */
	bool self_set;        /* AP_SKIPPED: the process wrote its own oom_score_adj
			       * between the plan's read and this write */
};

/* Apply every action of plan in a safe order (sizes before entering strict
 * mode, ratio/kbytes pairs, cgroups before their limits).  res has
 * plan->nact entries, in plan order.  Returns the number of failed actions
 * (0 = success) or a negative errno when the journal cannot be written (then
 * nothing after that point was written). */
int apply_plan(const struct roots *r, const struct plan *plan, struct journal *j,
	       struct apply_result *res);
/* The same, with a process pinned by the caller (the daemon's exec read,
 * procfd.h): the actions on that pid and start time use its fd - no
 * second pin, no second identity read; the others pin as usual. */
int apply_plan_pinned(const struct roots *r, const struct plan *plan, struct journal *j,
		      const struct procpin *pin, struct apply_result *res);

struct restore_result {
	size_t restored, skipped, failed;
};

/* Write back every journaled original, newest first; each entry restored (or
 * whose target is gone for good) is removed from the journal; failures stay.
 * Every entry is tried even when the journal cannot be updated; the journal
 * is saved once at the end.  Returns 0, or a negative errno when that save
 * failed (the values are back; the file still lists them, so a later
 * restore writes the same values again). */
int restore_all(const struct roots *r, struct journal *j, struct restore_result *out,
		void (*report)(const struct jentry *e, enum apply_status st, const char *detail,
			       void *arg),
		void *arg);

/* Drop the journal's per-process entries whose process is gone or whose
 * pid now belongs to another process (pid + start time), in memory; the
 * next record or journal_save persists it.  Returns how many. */
size_t apply_prune_exited(const struct roots *r, struct journal *j);
/* The daemon's variant after lost proc connector events (their exits never
 * came): each entry of a process that is gone or whose pid was reused is
 * forgotten through a journal.pids line (journal_forget, no rewrite).  The
 * caller holds the journal's lock.  The count forgotten, or the -errno of
 * the first append that failed (the rest wait for the next resync). */
int apply_forget_exited(const struct roots *r, struct journal *j);

/* The cgroup a pid is in now (v2 path), for journaling attach. */
/* End a service's disposable fork child (DESIGN invariant 10): sig sent
 * through an fd pinning procfs/PID, only while it is still the process
 * that started at start.  -ESRCH when it exited (or its pid was reused);
 * nothing is journaled: an ended process has nothing to restore. */
int apply_stop_child(const struct roots *r, int pid, uint64_t start, int sig);
int apply_pid_cgroup(const struct roots *r, int pid, char *out, size_t size);

#endif
