/* apply.c - the applier and restore (DESIGN §3, §7.5, §7.8).
 *
 * Every target goes through read, compare, journal, write, read back.  The
 * plan's actions run in a fixed safe order whatever their order in the plan:
 *   0. the cgroup2 mount's favordynmods (the moves after it skip the RCU
 *      grace period),
 *   1. cgroup creation and attach (limits need the group),
 *   2. memory.high / memory.max, per group ordered so that high <= max holds
 *      at every step where possible: high first when the new high fits under
 *      the current max, max first otherwise (a raise of both),
 *   3. oom_score_adj,
 *   4. sysctls: entering (or staying in) strict mode, the sizes go first and
 *      vm.overcommit_memory=2 last, so strict accounting never starts with the
 *      old, too small CommitLimit; leaving it, the mode goes first.
 * Results are reported at each action's plan index. */
#include "apply.h"
#include "apply_cgroup.h"
#include "apply_target.h"
#include "apply_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "cgroupopt.h"
#include "textbuf.h"
#include "util.h"
#include "vmsysctl.h"

/* The journal could not take the original: the target is not written.
 * Its per-process cap (-EDQUOT) fails only this action, the run goes on
 * (host values always have room); any other failure stops the run. */
static int journal_failed(struct apply_result *res, const struct target *t, int rc)
{
	if (rc == -EDQUOT) {
		ap_set(res, AP_FAILED, rc, "journal full (%d per-process entries): %s not written",
		       JOURNAL_MAX_PROCESS_ENTRIES, t->name);
		return 0;
	}
	ap_set(res, AP_FAILED, rc, "journal the original of %s: %s (not written)", t->name,
	       strerror(-rc));
	return rc;
}

/* ---- sysctls ---- */

static int apply_sysctl(const struct roots *r, const struct action *a, struct journal *j,
			struct apply_result *res)
{
	struct target t;
	char want[AP_VAL_MAX], cur[AP_VAL_MAX];
	if (sysctl_target(r, a->knob, &t) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "sysctl %s: unknown knob %d", a->target, a->knob);
		return 0;
	}
	if (ap_val_canon(VT_INT, a->desired, want, sizeof(want)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad desired value \"%.64s\"", t.name, a->desired);
		return 0;
	}
	if (ap_read_compare(&t, want, cur, sizeof(cur), res) != 0)
		return 0;
	int rc;
	enum vm_knob other = vm_knob_pair((enum vm_knob)a->knob);
	if (other != VM_NKNOBS) {
		/* Writing either zeroes the other in the kernel: journal both
		 * originals so restore can rebuild the pair exactly; refuse to
		 * write what could not be undone. */
		struct target to;
		char ocur[AP_VAL_MAX];
		rc = sysctl_target(r, other, &to);
		if (rc == 0)
			rc = ap_read_value(to.path, ocur, sizeof(ocur));
		if (rc < 0) {
			ap_set(res, AP_FAILED, rc, "%s: read %s for the journal: %s", t.name, to.name,
			       strerror(-rc));
			return 0;
		}
		rc = journal_record(j, J_SYSCTL, t.name, cur, 0, 0);
		if (rc == 0)
			rc = journal_record(j, J_SYSCTL, to.name, ocur, 0, 0);
	} else {
		rc = journal_record(j, J_SYSCTL, t.name, cur, 0, 0);
	}
	if (rc < 0)
		return journal_failed(res, &t, rc);
	ap_write_checked(&t, cur, want, res);
	return 0;
}

/* ---- the cgroup2 mount's favordynmods ---- */

/* Set favordynmods on or off, the mount's other options kept (cgopt_set),
 * then read the mount again: a reconfigure from another cgroup namespace
 * is accepted by the kernel and changes nothing. */
static void cgroup_mount_write(const struct roots *r, const char *opts, bool on,
			       struct apply_result *res)
{
	const char *why;
	char after[CGOPT_OPTS_MAX];
	int rc = cgopt_set(r, opts, on, &why);
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "cgroup2 %s at %.200s: %s: %s (left %s)", CGOPT_FLAG,
		       r->cgroupfs, why, strerror(-rc), cgopt_onoff(!on));
		return;
	}
	enum cgopt_state now = cgopt_read(r, after, sizeof(after));
	if ((now == CGOPT_ON) != on) {
		ap_set(res, AP_FAILED, -EIO, "cgroup2 %s at %.200s: reconfigured, but the mount "
		       "shows \"%s\" (another cgroup namespace than the host's?)", CGOPT_FLAG,
		       r->cgroupfs, after);
		return;
	}
	ap_set(res, AP_DONE, 0, "cgroup2 %s %s -> %s (mount options now %s)", CGOPT_FLAG,
	       cgopt_onoff(!on), cgopt_onoff(on), after);
}

static int apply_cgroup_mount(const struct roots *r, const struct action *a, struct journal *j,
			      struct apply_result *res)
{
	char opts[CGOPT_OPTS_MAX];
	bool on;
	if (cgopt_onoff_parse(a->desired, &on) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup2 %s: bad desired value \"%.64s\"", CGOPT_FLAG,
		       a->desired);
		return 0;
	}
	enum cgopt_state now = cgopt_read(r, opts, sizeof(opts));
	if (now != CGOPT_ON && now != CGOPT_OFF) {
		ap_set(res, AP_FAILED, -EOPNOTSUPP, "cgroup2 %s at %.200s: %s", CGOPT_FLAG,
		       r->cgroupfs, now == CGOPT_UNSUPPORTED ? "not known to this kernel"
							       : "no cgroup2 mount there");
		return 0;
	}
	if ((now == CGOPT_ON) == on) {
		ap_set(res, AP_UNCHANGED, 0, "cgroup2 %s already %s", CGOPT_FLAG, cgopt_onoff(on));
		return 0;
	}
	int rc = journal_record(j, J_CGROUP_MOUNT, CGOPT_FLAG, cgopt_onoff(!on), 0, 0);
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "journal the original of cgroup2 %s: %s (not written)",
		       CGOPT_FLAG, strerror(-rc));
		return rc;
	}
	cgroup_mount_write(r, opts, on, res);
	return 0;
}

/* ---- oom_score_adj ---- */

/* The process is pinned (ap_pin) from the identity check to the write, so
 * a pid reused in between (the journal save takes milliseconds) is never
 * written. */
/* The value now is neither what the plan saw nor what it wants. */
static bool oom_changed_meanwhile(const struct action *a, const char *cur, const char *want)
{
	int64_t now, seen;
	if (parse_i64(cur, -1000, 1000, &now) < 0 || parse_i64(a->current, -1000, 1000, &seen) < 0)
		return false; /* unreadable: the compare below reports it */
	return now != seen && strcmp(cur, want) != 0;
}

static int apply_oom(const struct roots *r, const struct action *a, struct journal *j,
		     const struct procpin *pin, struct apply_result *res)
{
	struct target t;
	char want[AP_VAL_MAX], cur[AP_VAL_MAX];
	int64_t v;
	if (oom_target(r, a->pid, &t) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "oom_score_adj: bad pid %d", a->pid);
		return 0;
	}
	if (parse_i64(a->desired, -1000, 1000, &v) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad desired value \"%.64s\"", t.name, a->desired);
		return 0;
	}
	tb_set_i64(want, sizeof(want), v); /* the exec path: no printf (textbuf.h) */
	if (ap_pin(r, a->pid, a->start_time, pin, &t, "", res))
		return 0;
	int stop = 0;
	int rc = ap_target_read(&t, cur, sizeof(cur));
	if (rc == -ESRCH) {
		ap_set(res, AP_SKIPPED, 0, "process %d exited", a->pid);
	} else if (rc == 0 && oom_changed_meanwhile(a, cur, want)) {
		/* the process set its own value since the plan read it (a
		 * PostgreSQL backend right after fork): never written over */
		ap_set(res, AP_SKIPPED, 0, "%s changed from %s to %s since it was read: left alone",
		       t.name, a->current, cur);
		res->self_set = true;
	} else if (ap_compare_read(&t, rc, want, cur, res) == 0) {
		rc = ap_journal_pid(j, J_OOM_SCORE_ADJ, a->pid, a->start_time, cur);
		if (rc == 0)
			ap_write_checked(&t, cur, want, res);
		else
			stop = journal_failed(res, &t, rc);
	}
	ap_unpin(&t);
	return stop;
}

/* ---- memory.high / memory.max ---- */

static int apply_memory(const struct roots *r, const struct action *a, struct journal *j,
			struct apply_result *res)
{
	struct target t;
	char want[AP_VAL_MAX], cur[AP_VAL_MAX], dir[PATH_BUF];
	if (memory_target(r, a->cgroup, a->kind, &t, dir, sizeof(dir)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad cgroup path", t.name);
		return 0;
	}
	if (ap_val_canon(VT_MEM, a->desired, want, sizeof(want)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad desired value \"%.64s\"", t.name, a->desired);
		return 0;
	}
	if (!dir_exists(dir)) {
		ap_set(res, AP_SKIPPED, 0, "cgroup %.200s does not exist", a->cgroup);
		return 0;
	}
	if (ap_read_compare(&t, want, cur, sizeof(cur), res) != 0 || ap_memory_unwritable(&t, res))
		return 0;
	int rc = journal_record(j, a->kind == ACT_MEMORY_MAX ? J_MEMORY_MAX : J_MEMORY_HIGH,
				a->cgroup, cur, 0, 0);
	if (rc < 0)
		return journal_failed(res, &t, rc);
	ap_write_checked(&t, cur, want, res);
	return 0;
}

/* high first when the new high fits under the group's current max. */
static bool high_first(const struct roots *r, const struct action *high)
{
	struct target t;
	char dir[PATH_BUF], cur[AP_VAL_MAX];
	uint64_t max, want;
	if (cg_value_parse(high->desired, &want) < 0)
		return true;
	if (memory_target(r, high->cgroup, ACT_MEMORY_MAX, &t, dir, sizeof(dir)) < 0 ||
	    ap_read_value(t.path, cur, sizeof(cur)) < 0 || cg_limit_parse(cur, &max) < 0)
		return true;
	return want <= max;
}

/* ---- the plan ---- */

struct run {
	const struct roots *r;
	const struct plan *plan;
	struct journal *j;
	const struct procpin *pin; /* the caller's, or NULL */
	struct apply_result *res;
	bool *done;
};

static int run_one(struct run *x, size_t i)
{
	const struct action *a = &x->plan->act[i];
	struct apply_result *res = &x->res[i];
	x->done[i] = true;
	switch (a->kind) {
	case ACT_SYSCTL:
		return apply_sysctl(x->r, a, x->j, res);
	case ACT_OOM_SCORE_ADJ:
		return apply_oom(x->r, a, x->j, x->pin, res);
	case ACT_MEMORY_HIGH:
	case ACT_MEMORY_MAX:
		return apply_memory(x->r, a, x->j, res);
	case ACT_CGROUP_ATTACH:
		return ap_cgroup_attach(x->r, a, x->j, x->pin, res);
	case ACT_CGROUP_MOUNT:
		return apply_cgroup_mount(x->r, a, x->j, res);
	}
	ap_set(res, AP_FAILED, -EINVAL, "unknown action kind %d", (int)a->kind);
	return 0;
}

static int run_kind(struct run *x, enum action_kind k)
{
	for (size_t i = 0; i < x->plan->nact; i++) {
		if (x->done[i] || x->plan->act[i].kind != k)
			continue;
		int rc = run_one(x, i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int run_memory(struct run *x)
{
	const struct plan *p = x->plan;
	for (size_t i = 0; i < p->nact; i++) {
		const struct action *a = &p->act[i];
		if (x->done[i] || (a->kind != ACT_MEMORY_HIGH && a->kind != ACT_MEMORY_MAX))
			continue;
		enum action_kind other = a->kind == ACT_MEMORY_HIGH ? ACT_MEMORY_MAX : ACT_MEMORY_HIGH;
		size_t k;
		for (k = i + 1; k < p->nact; k++)
			if (!x->done[k] && p->act[k].kind == other &&
			    strcmp(p->act[k].cgroup, a->cgroup) == 0)
				break;
		size_t first = i, second = k;
		if (k < p->nact) {
			size_t hi = a->kind == ACT_MEMORY_HIGH ? i : k;
			first = high_first(x->r, &p->act[hi]) ? hi : (hi == i ? k : i);
			second = first == i ? k : i;
		}
		int rc = run_one(x, first);
		if (rc == 0 && second < p->nact)
			rc = run_one(x, second);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool desired_is(const struct action *a, int64_t v)
{
	int64_t d;
	return vm_value_parse(a->desired, &d) == 0 && d == v;
}

/* The knob table's steps, with the two orders decided per batch: a pair
 * knob written to 0 goes before the one that sets a value, and the mode
 * goes first when the batch leaves strict accounting. */
enum { RANK_MODE_LEAVING, RANK_RESERVE, RANK_SIZE_ZERO, RANK_SIZE_SET, RANK_MODE, RANKS };

static int sysctl_rank(const struct action *a, bool leaving_strict)
{
	switch (vm_knob_step((enum vm_knob)a->knob)) {
	case VM_STEP_RESERVE: return RANK_RESERVE;
	case VM_STEP_SIZE: return desired_is(a, 0) ? RANK_SIZE_ZERO : RANK_SIZE_SET;
	case VM_STEP_MODE: break;
	}
	return leaving_strict ? RANK_MODE_LEAVING : RANK_MODE;
}

static int run_sysctls(struct run *x)
{
	const struct plan *p = x->plan;
	bool leaving_strict = false;
	for (size_t i = 0; i < p->nact; i++) {
		const struct action *a = &p->act[i];
		if (a->kind == ACT_SYSCTL && a->knob == VM_OVERCOMMIT_MEMORY)
			leaving_strict = !desired_is(a, VM_MODE_STRICT);
	}
	for (int rank = 0; rank < RANKS; rank++) {
		for (size_t i = 0; i < p->nact; i++) {
			const struct action *a = &p->act[i];
			if (x->done[i] || a->kind != ACT_SYSCTL || sysctl_rank(a, leaving_strict) != rank)
				continue;
			int rc = run_one(x, i);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int apply_plan(const struct roots *r, const struct plan *plan, struct journal *j,
	       struct apply_result *res)
{
	return apply_plan_pinned(r, plan, j, NULL, res);
}

int apply_plan_pinned(const struct roots *r, const struct plan *plan, struct journal *j,
		      const struct procpin *pin, struct apply_result *res)
{
	for (size_t i = 0; i < plan->nact; i++)
		ap_set_text(&res[i], AP_FAILED, -ECANCELED,
			    "not attempted: the journal could not be written", (char *)NULL);
	if (plan->nact == 0)
		return 0;
	bool *done = calloc(plan->nact, sizeof(*done));
	if (!done)
		return -ENOMEM;
	struct run x = { .r = r, .plan = plan, .j = j, .pin = pin, .res = res, .done = done };
	/* oom_score_adj first: one small write that protects at once; a move
	 * may wait an RCU grace period in the kernel (DESIGN "Cgroups") */
	int rc = run_kind(&x, ACT_CGROUP_MOUNT); /* the moves below are quicker with it */
	if (rc == 0)
		rc = run_kind(&x, ACT_OOM_SCORE_ADJ);
	if (rc == 0)
		rc = run_kind(&x, ACT_CGROUP_ATTACH);
	if (rc == 0)
		rc = run_memory(&x);
	if (rc == 0)
		rc = run_sysctls(&x);
	if (rc == 0) /* kinds this file does not know: reported failed, never skipped silently */
		for (size_t i = 0; i < plan->nact; i++)
			if (!done[i])
				run_one(&x, i);
	free(done);
	if (rc < 0)
		return rc;
	int failed = 0;
	for (size_t i = 0; i < plan->nact; i++)
		failed += res[i].status == AP_FAILED;
	return failed;
}

/* ---- restore ---- */

/* overcommit_ratio and overcommit_kbytes together: each write zeroes the
 * other in the kernel, so the one whose original is non-zero is written
 * first and the other (original 0) only where it did not follow. */
static void restore_pair(const struct roots *r, const struct jentry *ratio,
			 const struct jentry *kbytes, struct apply_result *res)
{
	struct target tr, tk;
	int64_t kb;
	if (sysctl_target(r, VM_OVERCOMMIT_RATIO, &tr) < 0 ||
	    sysctl_target(r, VM_OVERCOMMIT_KBYTES, &tk) < 0 ||
	    vm_value_parse(kbytes->original, &kb) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "vm.overcommit_kbytes: bad journal entry");
		return;
	}
	/* The knob that was in force goes first: in the kernel that write
	 * zeroes the other one, which is then already at its original (0) and
	 * is not written.  Writing the zero first would leave CommitLimit at
	 * swap alone until the second write: every allocation fails meanwhile
	 * under strict accounting. */
	const struct target *first = kb == 0 ? &tr : &tk, *second = kb == 0 ? &tk : &tr;
	const char *o1 = kb == 0 ? ratio->original : kbytes->original;
	const char *o2 = kb == 0 ? kbytes->original : ratio->original;
	struct apply_result r1, r2, chk;
	ap_restore_value(first, o1, &r1);
	if (r1.status == AP_FAILED) {
		*res = r1;
		return;
	}
	ap_restore_value(second, o2, &r2);
	if (r2.status == AP_FAILED) {
		*res = r2;
		return;
	}
	/* a second write would zero the first in the kernel unless that one's
	 * original is 0: check, never write again */
	char want[AP_VAL_MAX], cur[AP_VAL_MAX];
	if (ap_val_canon(VT_INT, o1, want, sizeof(want)) < 0 ||
	    ap_read_compare(first, want, cur, sizeof(cur), &chk) != 1) {
		ap_set(res, AP_FAILED, -EIO, "%s and %s cannot both hold their originals (%s, %s)",
		       tr.name, tk.name, ratio->original, kbytes->original);
		return;
	}
	bool same = r1.status == AP_UNCHANGED && r2.status == AP_UNCHANGED;
	ap_set(res, same ? AP_UNCHANGED : AP_DONE, 0, "%s=%s, %s=%s", tr.name, ratio->original,
	       tk.name, kbytes->original);
}

static void restore_sysctl(const struct roots *r, const struct jentry *e, struct apply_result *res)
{
	struct target t;
	if (sysctl_target(r, vm_knob_by_name(e->key), &t) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%.64s: not a sysctl overcommitd knows", e->key);
		return;
	}
	ap_restore_value(&t, e->original, res);
}

static void restore_pid_value(const struct roots *r, const struct jentry *e,
			      struct apply_result *res)
{
	struct target t;
	if (oom_target(r, e->pid, &t) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "oom_score_adj: bad pid %d", e->pid);
		return;
	}
	if (ap_pin(r, e->pid, e->start_time, NULL, &t, ": nothing to restore", res))
		return;
	ap_restore_value(&t, e->original, res);
	ap_unpin(&t);
}

static void restore_memory(const struct roots *r, const struct jentry *e, struct apply_result *res)
{
	struct target t;
	char dir[PATH_BUF];
	enum action_kind k = e->kind == J_MEMORY_MAX ? ACT_MEMORY_MAX : ACT_MEMORY_HIGH;
	if (memory_target(r, e->key, k, &t, dir, sizeof(dir)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad cgroup path", t.name);
		return;
	}
	if (!dir_exists(dir)) {
		ap_set(res, AP_SKIPPED, 0, "cgroup %.200s is gone: nothing to restore", e->key);
		return;
	}
	if (!ap_memory_unwritable(&t, res))
		ap_restore_value(&t, e->original, res);
}

static void restore_cgroup_mount(const struct roots *r, const struct jentry *e,
				 struct apply_result *res)
{
	char opts[CGOPT_OPTS_MAX];
	bool on;
	if (strcmp(e->key, CGOPT_FLAG) != 0 || cgopt_onoff_parse(e->original, &on) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup_mount %.64s=%.64s: not an option overcommitd "
		       "sets", e->key, e->original);
		return;
	}
	enum cgopt_state now = cgopt_read(r, opts, sizeof(opts));
	if (now == CGOPT_UNSUPPORTED) /* it cannot have been set on this kernel */
		ap_set(res, AP_SKIPPED, 0, "this kernel has no cgroup2 %s: nothing to restore",
		       CGOPT_FLAG);
	else if (now == CGOPT_UNKNOWN) /* another mount namespace, --cgroupfs: kept */
		ap_set(res, AP_FAILED, -ENOENT, "no cgroup2 mount at %.200s: %s=%s kept for a "
		       "later restore", r->cgroupfs, CGOPT_FLAG, e->original);
	else if ((now == CGOPT_ON) == on)
		ap_set(res, AP_UNCHANGED, 0, "cgroup2 %s already %s", CGOPT_FLAG, cgopt_onoff(on));
	else
		cgroup_mount_write(r, opts, on, res);
}

static int by_seq_desc(const void *a, const void *b)
{
	const struct jentry *x = a, *y = b;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/* Restore one entry (with its ratio/kbytes partner, returned in *partner). */
static void restore_one(const struct roots *r, const struct journal *j, const struct jentry *e,
			const char **partner, struct apply_result *res)
{
	*partner = NULL;
	switch (e->kind) {
	case J_SYSCTL: {
		const struct jentry *ra = journal_find(j, J_SYSCTL, "vm.overcommit_ratio");
		const struct jentry *kb = journal_find(j, J_SYSCTL, "vm.overcommit_kbytes");
		if (ra && kb && (strcmp(e->key, ra->key) == 0 || strcmp(e->key, kb->key) == 0)) {
			restore_pair(r, ra, kb, res);
			*partner = strcmp(e->key, ra->key) == 0 ? kb->key : ra->key;
		} else {
			restore_sysctl(r, e, res);
		}
		return;
	}
	case J_OOM_SCORE_ADJ:
		restore_pid_value(r, e, res);
		return;
	case J_MEMORY_HIGH:
	case J_MEMORY_MAX:
		restore_memory(r, e, res);
		return;
	case J_CGROUP_ATTACH:
		ap_restore_attach(r, e, res);
		return;
	case J_CGROUP_CREATE:
		ap_restore_create(r, e, res);
		return;
	case J_CGROUP_SUBTREE:
		ap_restore_subtree(r, e, res);
		return;
	case J_CGROUP_MOUNT:
		restore_cgroup_mount(r, e, res);
		return;
	}
	ap_set(res, AP_FAILED, -EINVAL, "unknown journal entry kind %d", (int)e->kind);
}

/* Count and report one restored entry; what came back (or whose target is
 * gone for good) leaves the journal in memory, saved once at the end. */
static void restore_done(struct journal *j, struct jentry *pe, const struct apply_result *res,
			 struct restore_result *out,
			 void (*report)(const struct jentry *, enum apply_status, const char *, void *),
			 void *arg)
{
	if (res->status != AP_FAILED)
		journal_drop(j, pe->kind, pe->key);
	if (res->status == AP_SKIPPED)
		out->skipped++;
	else if (res->status == AP_FAILED)
		out->failed++;
	else
		out->restored++;
	if (report)
		report(pe, res->status, res->detail, arg);
	pe->seq = 0;
}

int restore_all(const struct roots *r, struct journal *j, struct restore_result *out,
		void (*report)(const struct jentry *e, enum apply_status st, const char *detail,
			       void *arg),
		void *arg)
{
	memset(out, 0, sizeof(*out));
	if (j->n == 0)
		return journal_save(j);
	/* work on a copy in restore order; the strings stay j's (drops are
	 * only marked until journal_save) */
	size_t n = 0;
	struct jentry *todo = malloc(j->n * sizeof(*todo));
	if (!todo)
		return -ENOMEM;
	for (size_t i = 0; i < j->n; i++)
		if (!j->e[i].dropped)
			todo[n++] = j->e[i];
	qsort(todo, n, sizeof(*todo), by_seq_desc);
	/* every entry is tried whatever happens to the others: a journal that
	 * cannot be updated (disk full) must not keep the rest from coming back */
	for (size_t i = 0; i < n; i++) {
		if (todo[i].seq == 0)
			continue; /* done with its pair (journal seqs start at 1) */
		struct apply_result res;
		const char *partner;
		struct jentry *group[2] = { &todo[i], NULL };
		restore_one(r, j, &todo[i], &partner, &res);
		for (size_t m = i + 1; partner && m < n; m++)
			if (todo[m].kind == J_SYSCTL && strcmp(todo[m].key, partner) == 0)
				group[1] = &todo[m];
		for (size_t m = 0; m < 2 && group[m]; m++)
			restore_done(j, group[m], &res, out, report, arg);
	}
	free(todo);
	/* one write for all of them: restoring n entries is O(n), not n saves */
	return journal_save(j);
}
