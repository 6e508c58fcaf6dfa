/* apply_target.c - one value the applier writes and restores: a sysctl, an
 * oom_score_adj, a cgroup's memory.high/max.  A target is built once, the
 * same way for apply and for restore; then read, compare, write, read back. */
#include "apply_target.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "procfd.h"
#include "sdunit.h"
#include "textbuf.h"
#include "timedwrite.h"
#include "util.h"
#include "vmsysctl.h"


int ap_val_canon(enum vtype t, const char *s, char *out, size_t size)
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
	if (cg_limit_parse(s, &b) < 0)
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
	if (cg_limit_parse(a, &x) < 0 || cg_limit_parse(b, &y) < 0)
		return -EINVAL;
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t page = ps > 0 ? (uint64_t)ps : 4096;
	if (x == CG_UNLIMITED || y == CG_UNLIMITED)
		*eq = x == y;
	else
		*eq = x / page == y / page;
	return 0;
}

/* systemd owns a unit's cgroup and rewrites memory.high from the unit's
 * MemoryHigh= on every reload: tell systemd (a runtime property over D-Bus)
 * instead of writing the file under it.  Only for the real cgroup2 mount
 * that systemd manages; any other group is written through libcgroup,
 * which refuses a tree that is not the mounted hierarchy. */
static void memory_target_owner(const struct roots *r, const char *cgroup, enum action_kind k,
				struct target *t)
{
	t->unit_prop = k == ACT_MEMORY_MAX ? "MemoryMax" : "MemoryHigh";
	bool systemd_tree = strcmp(r->cgroupfs, "/sys/fs/cgroup") == 0 && sdunit_systemd_running();
	if (!systemd_tree || sdunit_unit_from_cgroup(cgroup, t->unit, sizeof(t->unit)) < 0)
		t->unit[0] = '\0';
	t->cgb_rc = t->unit[0] ? 0 : cgb_open(r, &t->cgb);
}

int ap_memory_unwritable(const struct target *t, struct apply_result *res)
{
	int rc = t->cgb_rc;
	if (rc == 0)
		return 0;
	if (rc == -EXDEV)
		ap_set(res, AP_FAILED, rc,
		       "%s: cgroups are written through libcgroup, which acts on the mounted "
		       "hierarchy (%.200s), not on this --cgroupfs tree", t->name, t->cgb.mount);
	else if (rc == -ENODEV)
		ap_set(res, AP_FAILED, rc, "%s: no memory controller mounted (cgroup v2 or v1)", t->name);
	else
		ap_set(res, AP_FAILED, rc, "%s: libcgroup: %s", t->name, strerror(-rc));
	return 1;
}

static int write_memory(const struct target *t, const char *want, char *why, size_t whysize)
{
	uint64_t bytes = CG_UNLIMITED;
	if (strcmp(want, "max") != 0 && parse_u64(want, UINT64_MAX - 1, &bytes) < 0)
		return -EINVAL;
	if (t->unit[0])
		return sdunit_set_memory(t->unit, t->unit_prop, bytes, why, whysize);
	if (t->cgb_rc < 0)
		return t->cgb_rc;
	int rc = cgb_set_limit(&t->cgb, t->group, t->hard, bytes);
	if (rc == -ETIMEDOUT)
		snprintf(why, whysize, "still reclaiming after %d ms", CGB_HIGH_TIMEOUT_MS);
	return rc;
}

int ap_target_read(const struct target *t, char *buf, size_t size)
{
	if (!t->pinned)
		return ap_read_value(t->path, buf, size);
	int rc = procfd_read(t->pfd, t->file, buf, size);
	size_t n = rc == 0 ? strlen(buf) : 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	return rc;
}

static int target_write(const struct target *t, const char *want)
{
	if (!t->pinned)
		return ap_write_value(t->path, want);
	char line[AP_VAL_MAX + 2];
	int n = snprintf(line, sizeof(line), "%s\n", want);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	return procfd_write(t->pfd, t->file, line);
}

int ap_pin_fd(const struct roots *r, int pid, uint64_t start, const struct procpin *pin, int *fd,
	      bool *own, const char *gone_note, struct apply_result *res)
{
	*fd = procpin_fd(pin, pid, start);
	*own = *fd < 0;
	if (!*own)
		return 0;
	int id = procfd_open(r, pid, start, fd);
	if (id < 0) {
		ap_set(res, AP_FAILED, id, "process %d: %s", pid, strerror(-id));
		return 1;
	}
	if (id != PROCFD_SAME) {
		ap_set(res, AP_SKIPPED, 0, "process %d exited%s%s", pid,
		       id == PROCFD_REUSED ? " (pid reused)" : "", gone_note);
		return 1;
	}
	return 0;
}

int ap_pin(const struct roots *r, int pid, uint64_t start, const struct procpin *pin,
	   struct target *t, const char *gone_note, struct apply_result *res)
{
	bool own;
	t->file = "oom_score_adj";
	t->pinned = t->borrowed = false;
	if (ap_pin_fd(r, pid, start, pin, &t->pfd, &own, gone_note, res))
		return 1;
	t->pinned = true;
	t->borrowed = !own;
	return 0;
}

void ap_unpin(struct target *t)
{
	if (t->pinned && !t->borrowed)
		close(t->pfd); /* a directory opened read-only: nothing to report */
	t->pinned = t->borrowed = false;
}

void ap_write_checked(const struct target *t, const char *cur, const char *want,
			  struct apply_result *res)
{
	char why[200] = "";
	int rc = t->unit_prop ? write_memory(t, want, why, sizeof(why)) : target_write(t, want);
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
	if (t->pinned) {
		/* oom_score_adj through the pinned fd: the kernel keeps what a
		 * successful write() gave it (-1000..1000, checked above), and
		 * the fd reached the process the identity check saw; a
		 * read-back would cost the exec path a file operation for
		 * nothing (and its text a printf) */
		ap_set_text(res, AP_DONE, 0, t->name, ": ", cur, " -> ", want, (char *)NULL);
		return;
	}
	char back[AP_VAL_MAX];
	bool eq = false;
	rc = ap_target_read(t, back, sizeof(back));
	if (rc == -ESRCH && t->pinned) {
		ap_set(res, AP_SKIPPED, 0, "%s: process exited", t->name);
		return;
	}
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

int ap_read_compare(const struct target *t, const char *want, char *cur, size_t size,
			struct apply_result *res)
{
	return ap_compare_read(t, ap_target_read(t, cur, size), want, cur, res);
}

int ap_compare_read(const struct target *t, int rc, const char *want, const char *cur,
		    struct apply_result *res)
{
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

int sysctl_target(const struct roots *r, int knob, struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->type = VT_INT;
	const char *name = vm_knob_name((enum vm_knob)knob);
	if (!name)
		return -EINVAL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	return path_join(t->path, sizeof(t->path), r->procfs, vm_knob_relpath((enum vm_knob)knob));
}

int oom_target(const struct roots *r, int pid, struct target *t)
{
	char rel[64];
	struct tbuf b; /* the exec path: no printf (textbuf.h) */
	memset(t, 0, sizeof(*t));
	t->type = VT_INT;
	tb_init(&b, t->name, sizeof(t->name));
	tb_str(&b, "oom_score_adj of process ");
	tb_i64(&b, pid);
	tb_init(&b, rel, sizeof(rel));
	tb_i64(&b, pid);
	tb_str(&b, "/oom_score_adj");
	if (pid <= 0 || path_join(t->path, sizeof(t->path), r->procfs, rel) < 0)
		return -EINVAL;
	return 0;
}

int memory_target(const struct roots *r, const char *cgroup, enum action_kind k, struct target *t,
		  char *dir, size_t dirsize)
{
	memset(t, 0, sizeof(*t));
	t->type = VT_MEM;
	t->group = cgroup;
	t->hard = k == ACT_MEMORY_MAX;
	enum cg_hier h = cg_hierarchy(r);
	const char *file = cg_limit_file(h, t->hard);
	char rel[PATH_BUF];
	snprintf(t->name, sizeof(t->name), "%s of %.120s", file, cgroup);
	if (ap_cgroup_path(r, cgroup, NULL, rel, sizeof(rel)) < 0 || /* the path check */
	    cg_group_rel(h, cgroup, rel, sizeof(rel)) < 0 ||
	    ap_cgroup_path(r, rel, file, t->path, sizeof(t->path)) < 0 ||
	    ap_cgroup_path(r, rel, NULL, dir, dirsize) < 0)
		return -EINVAL;
	memory_target_owner(r, cgroup, k, t);
	return 0;
}

void ap_restore_value(const struct target *t, const char *original, struct apply_result *res)
{
	char want[AP_VAL_MAX], cur[AP_VAL_MAX];
	if (ap_val_canon(t->type, original, want, sizeof(want)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "%s: journaled original \"%.64s\" is not a value",
		       t->name, original);
		return;
	}
	if (ap_read_compare(t, want, cur, sizeof(cur), res) != 0)
		return;
	ap_write_checked(t, cur, want, res);
}
