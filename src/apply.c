/* apply.c - the applier and restore (DESIGN §3, §7.5, §7.8).
 *
 * Every target goes through read, compare, journal, write, read back.  The
 * plan's actions run in a fixed safe order whatever their order in the plan:
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
#include "apply_int.h"
#include "sdunit.h"
#include "timedwrite.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "proc.h"
#include "util.h"
#include "vmsysctl.h"

#define VAL_MAX 64

/* ---- shared helpers (apply_int.h) ---- */

void ap_set(struct apply_result *res, enum apply_status st, int err, const char *fmt, ...)
{
	res->status = st;
	res->err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
}

int ap_read_value(const char *path, char *buf, size_t size)
{
	ssize_t n = read_file(path, buf, size);
	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	return 0;
}

int ap_write_value(const char *path, const char *value)
{
	char line[VAL_MAX + 2];
	int n = snprintf(line, sizeof(line), "%s\n", value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	return write_file(path, line);
}

int ap_identity(const struct roots *r, int pid, uint64_t start)
{
	uint64_t now;
	int rc = proc_read_start_time(r, pid, &now);
	if (rc == -ENOENT || rc == -ESRCH)
		return AP_ID_GONE;
	if (rc < 0)
		return rc;
	return now == start ? AP_ID_SAME : AP_ID_REUSED;
}

static bool cgroup_path_ok(const char *cg)
{
	if (cg[0] != '/')
		return false;
	for (const char *p = cg; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
	}
	return true;
}

int ap_cgroup_path(const struct roots *r, const char *cg, const char *file, char *out,
		   size_t size)
{
	if (!cgroup_path_ok(cg))
		return -EINVAL;
	if (!file)
		return path_join(out, size, r->cgroupfs, cg);
	char dir[4096];
	int rc = path_join(dir, sizeof(dir), r->cgroupfs, cg);
	return rc < 0 ? rc : path_join(out, size, dir, file);
}

int ap_journal_pid(struct journal *j, enum jkind kind, int pid, uint64_t start,
		   const char *original)
{
	char key[24];
	snprintf(key, sizeof(key), "%d", pid);
	const struct jentry *old = journal_find(j, kind, key);
	if (old && old->start_time != start) {
		/* pid now belongs to another process: the old one is gone, and
		 * its original can never be restored. */
		int rc = journal_forget(j, kind, key);
		if (rc < 0)
			return rc;
	}
	return journal_record(j, kind, key, original, pid, start);
}

/* ---- values: integers (sysctls, oom_score_adj) and cgroup memory sizes ---- */

enum vtype { VT_INT, VT_MEM };

/* Canonical text of a value ("max" / decimal); -EINVAL if it is not one. */
static int val_canon(enum vtype t, const char *s, char *out, size_t size)
{
	if (t == VT_INT) {
		int64_t v;
		int rc = vm_value_parse(s, &v);
		if (rc < 0)
			return -EINVAL;
		snprintf(out, size, "%" PRId64, v);
		return 0;
	}
	uint64_t b;
	if (cg_value_parse(s, &b) < 0)
		return -EINVAL;
	if (b == CG_UNLIMITED)
		snprintf(out, size, "max");
	else
		snprintf(out, size, "%" PRIu64, b);
	return 0;
}

/* Equal as the kernel stores them: memory limits are kept in pages, so a
 * write of 1000000 reads back as 999424 on 4 KiB pages. */
static int val_equal(enum vtype t, const char *a, const char *b, bool *eq)
{
	if (t == VT_INT) {
		int64_t x, y;
		if (vm_value_parse(a, &x) < 0 || vm_value_parse(b, &y) < 0)
			return -EINVAL;
		*eq = x == y;
		return 0;
	}
	uint64_t x, y;
	if (cg_value_parse(a, &x) < 0 || cg_value_parse(b, &y) < 0)
		return -EINVAL;
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t page = ps > 0 ? (uint64_t)ps : 4096;
	if (x == CG_UNLIMITED || y == CG_UNLIMITED)
		*eq = x == y;
	else
		*eq = x / page == y / page;
	return 0;
}

/* A target: its file and how to talk about it. */
struct target {
	char path[4096];
	char name[160];  /* "vm.overcommit_kbytes", "oom_score_adj of process 123" */
	enum vtype type;
	/* memory.high/max only: through systemd when it owns the group */
	const char *unit_prop;   /* "MemoryHigh" / "MemoryMax", else NULL */
	char unit[256];          /* "redis-server.service" or "" */
};

/* A write to memory.high can block while the kernel reclaims (DESIGN §2):
 * bounded, so one slow group cannot stall the agent. */
#define MEM_WRITE_TIMEOUT_MS 2000

/* systemd owns a unit's cgroup and rewrites memory.high from the unit's
 * MemoryHigh= on every reload: tell systemd (a runtime property over D-Bus)
 * instead of writing the file under it.  Only for the real cgroup2 mount
 * that systemd manages; any other --cgroupfs tree is written directly. */
static void memory_target_owner(const struct roots *r, const char *cgroup, enum action_kind k,
				struct target *t)
{
	t->unit_prop = k == ACT_MEMORY_MAX ? "MemoryMax" : "MemoryHigh";
	bool systemd_tree = strcmp(r->cgroupfs, "/sys/fs/cgroup") == 0 && sdunit_systemd_running();
	if (!systemd_tree || sdunit_unit_from_cgroup(cgroup, t->unit, sizeof(t->unit)) < 0)
		t->unit[0] = '\0';
}

static int write_memory(const struct target *t, const char *want, char *why, size_t whysize)
{
	if (t->unit[0]) {
		uint64_t bytes = UINT64_MAX;
		if (strcmp(want, "max") != 0 && parse_u64(want, UINT64_MAX - 1, &bytes) < 0)
			return -EINVAL;
		return sdunit_set_memory(t->unit, t->unit_prop, bytes, why, whysize);
	}
	char line[VAL_MAX + 2];
	int n = snprintf(line, sizeof(line), "%s\n", want);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	bool timed_out = false;
	int rc = write_file_timed(t->path, line, MEM_WRITE_TIMEOUT_MS, &timed_out);
	if (timed_out)
		snprintf(why, whysize, "still reclaiming after %d ms", MEM_WRITE_TIMEOUT_MS);
	return rc;
}

/* Write want (canonical) and read it back; fills res. ESRCH = process gone. */
static void write_checked(const struct target *t, const char *cur, const char *want,
			  struct apply_result *res)
{
	char why[200] = "";
	int rc = t->unit_prop ? write_memory(t, want, why, sizeof(why)) : ap_write_value(t->path, want);
	if (rc == -ESRCH) {
		ap_set(res, AP_SKIPPED, 0, "%s: process exited", t->name);
		return;
	}
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "write %s=%s%s%s: %s%s%s", t->name, want,
		       t->unit[0] ? " via systemd " : "", t->unit, strerror(-rc), why[0] ? ": " : "",
		       why);
		return;
	}
	char back[VAL_MAX];
	bool eq = false;
	rc = ap_read_value(t->path, back, sizeof(back));
	if (rc == 0)
		rc = val_equal(t->type, back, want, &eq);
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "read back %s: %s", t->name, strerror(-rc));
		return;
	}
	if (!eq) {
		ap_set(res, AP_FAILED, -EIO, "%s: wrote %s but the kernel reads %s", t->name, want, back);
		return;
	}
	ap_set(res, AP_DONE, 0, "%s: %s -> %s", t->name, cur, want);
}

/* Read the target now: 1 = already want (res: unchanged), 0 = differs
 * (cur filled), -1 = failed (res filled). */
static int read_compare(const struct target *t, const char *want, char *cur, size_t size,
			struct apply_result *res)
{
	int rc = ap_read_value(t->path, cur, size);
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "read %s: %s", t->name, strerror(-rc));
		return -1;
	}
	bool eq;
	if (val_equal(t->type, cur, want, &eq) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: unexpected content \"%.64s\"", t->name, cur);
		return -1;
	}
	if (eq) {
		ap_set(res, AP_UNCHANGED, 0, "%s already %s", t->name, cur);
		return 1;
	}
	return 0;
}

static int journal_failed(struct apply_result *res, const struct target *t, int rc)
{
	ap_set(res, AP_FAILED, rc, "journal the original of %s: %s (not written)", t->name,
	       strerror(-rc));
	return rc;
}

/* ---- sysctls ---- */

static bool knob_valid(int k)
{
	return k >= 0 && k < VM_NKNOBS;
}

static bool knob_paired(int k)
{
	return k == VM_OVERCOMMIT_RATIO || k == VM_OVERCOMMIT_KBYTES;
}

static int sysctl_target(const struct roots *r, int knob, struct target *t)
{
	t->type = VT_INT;
	snprintf(t->name, sizeof(t->name), "%s", vm_knob_name((enum vm_knob)knob));
	return path_join(t->path, sizeof(t->path), r->procfs, vm_knob_relpath((enum vm_knob)knob));
}

static int apply_sysctl(const struct roots *r, const struct action *a, struct journal *j,
			struct apply_result *res)
{
	struct target t = { .type = VT_INT };
	char want[VAL_MAX], cur[VAL_MAX];
	if (!knob_valid(a->knob) || sysctl_target(r, a->knob, &t) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "sysctl %s: unknown knob %d", a->target, a->knob);
		return 0;
	}
	if (val_canon(VT_INT, a->desired, want, sizeof(want)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad desired value \"%.64s\"", t.name, a->desired);
		return 0;
	}
	if (read_compare(&t, want, cur, sizeof(cur), res) != 0)
		return 0;
	int rc;
	if (knob_paired(a->knob)) {
		/* Writing either zeroes the other in the kernel: journal both
		 * originals so restore can rebuild the pair exactly; refuse to
		 * write what could not be undone. */
		int other = a->knob == VM_OVERCOMMIT_RATIO ? VM_OVERCOMMIT_KBYTES : VM_OVERCOMMIT_RATIO;
		struct target to = { .type = VT_INT };
		char ocur[VAL_MAX];
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
	write_checked(&t, cur, want, res);
	return 0;
}

/* ---- oom_score_adj ---- */

static int apply_oom(const struct roots *r, const struct action *a, struct journal *j,
		     struct apply_result *res)
{
	struct target t = { .type = VT_INT };
	char want[VAL_MAX], cur[VAL_MAX], rel[64];
	int64_t v;
	t.type = VT_INT;
	snprintf(t.name, sizeof(t.name), "oom_score_adj of process %d", a->pid);
	snprintf(rel, sizeof(rel), "%d/oom_score_adj", a->pid);
	if (a->pid <= 0 || path_join(t.path, sizeof(t.path), r->procfs, rel) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "oom_score_adj: bad pid %d", a->pid);
		return 0;
	}
	if (parse_i64(a->desired, -1000, 1000, &v) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad desired value \"%.64s\"", t.name, a->desired);
		return 0;
	}
	snprintf(want, sizeof(want), "%" PRId64, v);
	int id = ap_identity(r, a->pid, a->start_time);
	if (id < 0) {
		ap_set(res, AP_FAILED, id, "process %d: %s", a->pid, strerror(-id));
		return 0;
	}
	if (id != AP_ID_SAME) {
		ap_set(res, AP_SKIPPED, 0, "process %d exited%s", a->pid,
		       id == AP_ID_REUSED ? " (pid reused)" : "");
		return 0;
	}
	int rc = ap_read_value(t.path, cur, sizeof(cur));
	if (rc == -ENOENT || rc == -ESRCH) {
		ap_set(res, AP_SKIPPED, 0, "process %d exited", a->pid);
		return 0;
	}
	if (read_compare(&t, want, cur, sizeof(cur), res) != 0)
		return 0;
	rc = ap_journal_pid(j, J_OOM_SCORE_ADJ, a->pid, a->start_time, cur);
	if (rc < 0)
		return journal_failed(res, &t, rc);
	write_checked(&t, cur, want, res);
	return 0;
}

/* ---- memory.high / memory.max ---- */

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *mem_file(enum action_kind k)
{
	return k == ACT_MEMORY_MAX ? "memory.max" : "memory.high";
}

static int apply_memory(const struct roots *r, const struct action *a, struct journal *j,
			struct apply_result *res)
{
	struct target t = { .type = VT_INT };
	char want[VAL_MAX], cur[VAL_MAX], dir[4096];
	const char *file = mem_file(a->kind);
	t.type = VT_MEM;
	memory_target_owner(r, a->cgroup, a->kind, &t);
	snprintf(t.name, sizeof(t.name), "%s of %.140s", file, a->cgroup);
	if (ap_cgroup_path(r, a->cgroup, file, t.path, sizeof(t.path)) < 0 ||
	    ap_cgroup_path(r, a->cgroup, NULL, dir, sizeof(dir)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad cgroup path", t.name);
		return 0;
	}
	if (val_canon(VT_MEM, a->desired, want, sizeof(want)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad desired value \"%.64s\"", t.name, a->desired);
		return 0;
	}
	if (!is_dir(dir)) {
		ap_set(res, AP_SKIPPED, 0, "cgroup %.200s does not exist", a->cgroup);
		return 0;
	}
	if (read_compare(&t, want, cur, sizeof(cur), res) != 0)
		return 0;
	int rc = journal_record(j, a->kind == ACT_MEMORY_MAX ? J_MEMORY_MAX : J_MEMORY_HIGH,
				a->cgroup, cur, 0, 0);
	if (rc < 0)
		return journal_failed(res, &t, rc);
	write_checked(&t, cur, want, res);
	return 0;
}

/* high first when the new high fits under the group's current max. */
static bool high_first(const struct roots *r, const struct action *high)
{
	char path[4096], cur[VAL_MAX];
	uint64_t max, want;
	if (cg_value_parse(high->desired, &want) < 0)
		return true;
	if (ap_cgroup_path(r, high->cgroup, "memory.max", path, sizeof(path)) < 0 ||
	    ap_read_value(path, cur, sizeof(cur)) < 0 || cg_value_parse(cur, &max) < 0)
		return true;
	return want <= max;
}

/* ---- the plan ---- */

struct run {
	const struct roots *r;
	const struct plan *plan;
	struct journal *j;
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
		return apply_oom(x->r, a, x->j, res);
	case ACT_MEMORY_HIGH:
	case ACT_MEMORY_MAX:
		return apply_memory(x->r, a, x->j, res);
	case ACT_CGROUP_ATTACH:
		return ap_cgroup_attach(x->r, a, x->j, res);
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

static int run_sysctls(struct run *x)
{
	const struct plan *p = x->plan;
	bool strict_after = false, have_mode = false;
	for (size_t i = 0; i < p->nact; i++) {
		const struct action *a = &p->act[i];
		if (a->kind == ACT_SYSCTL && a->knob == VM_OVERCOMMIT_MEMORY) {
			have_mode = true;
			strict_after = desired_is(a, 2);
		}
	}
	/* sizes: reserves, then the ratio/kbytes action that writes 0, then the
	 * one that sets a value (written last, so the kernel keeps it) */
	size_t order[3 + 1] = { 0 };
	int n = 0, rc;
	if (have_mode && !strict_after)
		order[n++] = 0;   /* mode first: leave strict before the sizes move */
	order[n++] = 1;
	order[n++] = 2;
	order[n++] = 3;
	if (!(have_mode && !strict_after))
		order[n++] = 0;
	for (int s = 0; s < n; s++) {
		for (size_t i = 0; i < p->nact; i++) {
			const struct action *a = &p->act[i];
			if (x->done[i] || a->kind != ACT_SYSCTL)
				continue;
			size_t step;
			if (a->knob == VM_OVERCOMMIT_MEMORY)
				step = 0;
			else if (!knob_paired(a->knob))
				step = 1;
			else
				step = desired_is(a, 0) ? 2 : 3;
			if (step != order[s])
				continue;
			rc = run_one(x, i);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int apply_plan(const struct roots *r, const struct plan *plan, struct journal *j,
	       struct apply_result *res)
{
	for (size_t i = 0; i < plan->nact; i++)
		ap_set(&res[i], AP_FAILED, -ECANCELED, "not attempted: the journal could not be written");
	if (plan->nact == 0)
		return 0;
	bool *done = calloc(plan->nact, sizeof(*done));
	if (!done)
		return -ENOMEM;
	struct run x = { .r = r, .plan = plan, .j = j, .res = res, .done = done };
	/* oom_score_adj first: one small write that protects at once (a new
	 * process waits for it while its group is created) */
	int rc = run_kind(&x, ACT_OOM_SCORE_ADJ);
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

static int knob_by_name(const char *name)
{
	for (int k = 0; k < VM_NKNOBS; k++)
		if (strcmp(vm_knob_name((enum vm_knob)k), name) == 0)
			return k;
	return -1;
}

/* Put back one value: read, compare, write, read back. */
static void restore_value(const struct target *t, const char *original, struct apply_result *res)
{
	char want[VAL_MAX], cur[VAL_MAX];
	if (val_canon(t->type, original, want, sizeof(want)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: journaled original \"%.64s\" is not a value",
		       t->name, original);
		return;
	}
	if (read_compare(t, want, cur, sizeof(cur), res) != 0)
		return;
	write_checked(t, cur, want, res);
}

/* overcommit_ratio and overcommit_kbytes together: each write zeroes the
 * other in the kernel, so the one whose original is non-zero is written
 * first and the other (original 0) only where it did not follow. */
static void restore_pair(const struct roots *r, const struct jentry *ratio,
			 const struct jentry *kbytes, struct apply_result *res)
{
	struct target tr = { .type = VT_INT }, tk = { .type = VT_INT };
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
	restore_value(first, o1, &r1);
	if (r1.status == AP_FAILED) {
		*res = r1;
		return;
	}
	restore_value(second, o2, &r2);
	if (r2.status == AP_FAILED) {
		*res = r2;
		return;
	}
	/* a second write would zero the first in the kernel unless that one's
	 * original is 0: check, never write again */
	char want[VAL_MAX], cur[VAL_MAX];
	if (val_canon(VT_INT, o1, want, sizeof(want)) < 0 ||
	    read_compare(first, want, cur, sizeof(cur), &chk) != 1) {
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
	struct target t = { .type = VT_INT };
	int k = knob_by_name(e->key);
	if (k < 0 || sysctl_target(r, k, &t) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%.64s: not a sysctl overcommitd knows", e->key);
		return;
	}
	restore_value(&t, e->original, res);
}

static void restore_pid_value(const struct roots *r, const struct jentry *e,
			      struct apply_result *res)
{
	struct target t = { .type = VT_INT };
	char rel[64];
	t.type = VT_INT;
	snprintf(t.name, sizeof(t.name), "oom_score_adj of process %d", e->pid);
	snprintf(rel, sizeof(rel), "%d/oom_score_adj", e->pid);
	if (e->pid <= 0 || path_join(t.path, sizeof(t.path), r->procfs, rel) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "oom_score_adj: bad pid %d", e->pid);
		return;
	}
	int id = ap_identity(r, e->pid, e->start_time);
	if (id < 0) {
		ap_set(res, AP_FAILED, id, "process %d: %s", e->pid, strerror(-id));
		return;
	}
	if (id != AP_ID_SAME) {
		ap_set(res, AP_SKIPPED, 0, "process %d exited%s: nothing to restore", e->pid,
		       id == AP_ID_REUSED ? " (pid reused)" : "");
		return;
	}
	restore_value(&t, e->original, res);
}

static void restore_memory(const struct roots *r, const struct jentry *e, struct apply_result *res)
{
	struct target t = { .type = VT_INT };
	char dir[4096];
	const char *file = e->kind == J_MEMORY_MAX ? "memory.max" : "memory.high";
	t.type = VT_MEM;
	memory_target_owner(r, e->key, e->kind == J_MEMORY_MAX ? ACT_MEMORY_MAX : ACT_MEMORY_HIGH, &t);
	snprintf(t.name, sizeof(t.name), "%s of %.140s", file, e->key);
	if (ap_cgroup_path(r, e->key, file, t.path, sizeof(t.path)) < 0 ||
	    ap_cgroup_path(r, e->key, NULL, dir, sizeof(dir)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: bad cgroup path", t.name);
		return;
	}
	if (!is_dir(dir)) {
		ap_set(res, AP_SKIPPED, 0, "cgroup %.200s is gone: nothing to restore", e->key);
		return;
	}
	restore_value(&t, e->original, res);
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
	}
	ap_set(res, AP_FAILED, -EINVAL, "unknown journal entry kind %d", (int)e->kind);
}

int restore_all(const struct roots *r, struct journal *j, struct restore_result *out,
		void (*report)(const struct jentry *e, enum apply_status st, const char *detail,
			       void *arg),
		void *arg)
{
	memset(out, 0, sizeof(*out));
	if (j->n == 0)
		return 0;
	/* work on a copy: forgetting entries reshuffles j->e */
	size_t n = j->n;
	struct jentry *todo = malloc(n * sizeof(*todo));
	if (!todo)
		return -ENOMEM;
	memcpy(todo, j->e, n * sizeof(*todo));
	qsort(todo, n, sizeof(*todo), by_seq_desc);

	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (todo[i].seq == 0)
			continue; /* done with its pair (journal seqs start at 1) */
		struct apply_result res;
		const char *partner;
		struct jentry *group[2] = { &todo[i], NULL };
		restore_one(r, j, &todo[i], &partner, &res);
		for (size_t m = i + 1; partner && m < n; m++)
			if (todo[m].kind == J_SYSCTL && strcmp(todo[m].key, partner) == 0)
				group[1] = &todo[m];
		for (size_t m = 0; m < 2 && group[m] && rc == 0; m++) {
			struct jentry *pe = group[m];
			if (res.status != AP_FAILED) {
				rc = journal_forget(j, pe->kind, pe->key);
				if (rc < 0)
					ap_set(&res, AP_FAILED, rc,
					       "restored, but the journal cannot be updated: %s",
					       strerror(-rc));
			}
			if (res.status == AP_SKIPPED)
				out->skipped++;
			else if (res.status == AP_FAILED)
				out->failed++;
			else
				out->restored++;
			if (report)
				report(pe, res.status, res.detail, arg);
			pe->seq = 0;
		}
	}
	free(todo);
	return rc;
}
