/* apply_cgroup.c - create a group and move a process into it, and the
 * restore of both and of the "+memory" enabled on the way, through the
 * libcgroup backend (cgroup_backend.h) on cgroup v2 and v1.  libcgroup acts
 * on the mounted hierarchy only: with a --cgroupfs fixture tree every
 * action here fails cleanly, nothing written (the VM tiers test them). */
#include "apply.h"
#include "apply_cgroup.h"
#include "apply_target.h"
#include "apply_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_backend.h"
#include "proc.h"
#include "procfd.h"
#include "util.h"

int apply_pid_cgroup(const struct roots *r, int pid, char *out, size_t size)
{
	char rel[64], buf[8192];
	if (pid <= 0 || size == 0)
		return -EINVAL;
	snprintf(rel, sizeof(rel), "%d/cgroup", pid);
	ssize_t n = read_file_at(r->procfs, rel, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	int rc = proc_cgroup_parse(buf, out, size);
	if (rc < 0)
		return rc;
	return out[0] ? 0 : -ENODATA; /* no memory controller membership */
}

/* One move's state from the pin to the check that it arrived. */
struct ap_attach {
	int pfd;
	bool own_pfd; /* pfd opened here (else the pin's): closed at the end */
	struct cgb b;
	char cur[PROC_PATH_MAX];
};

/* ap_set, then 1: "handled, outcome in res" for the early returns below. */
#define SET_1(...) (ap_set(__VA_ARGS__), 1)

/* The backend for r; 1 = res filled (nothing can be written). */
static int backend(const struct roots *r, struct cgb *b, struct apply_result *res)
{
	int rc = cgb_open(r, b);
	if (rc == -EXDEV)
		return SET_1(res, AP_FAILED, rc,
			     "cgroups are written through libcgroup, which acts on the mounted "
			     "hierarchy (%.200s), not on --cgroupfs %.200s", b->mount, r->cgroupfs);
	if (rc == -ENODEV)
		return SET_1(res, AP_FAILED, rc, "no memory controller mounted (cgroup v2 or v1)");
	if (rc < 0)
		return SET_1(res, AP_FAILED, rc, "libcgroup: %s", strerror(-rc));
	return 0;
}

/* Is pid still the process journaled or planned?  1 = res filled (gone:
 * skipped, before anything else: a vanished process is not an error). */
static int same_process(const struct roots *r, int pid, uint64_t start, struct apply_result *res)
{
	int id = ap_identity(r, pid, start);
	if (id < 0)
		return SET_1(res, AP_FAILED, id, "process %d: %s", pid, strerror(-id));
	if (id != AP_ID_SAME)
		return SET_1(res, AP_SKIPPED, 0, "process %d exited%s", pid,
			      id == AP_ID_REUSED ? " (pid reused)" : "");
	return 0;
}

/* What reading a process's group returned (rc), as a result: 0 = read,
 * 1 = res filled (gone: skipped; no membership or an error: failed). */
static int group_read_result(int rc, int pid, struct apply_result *res)
{
	if (rc == -ENOENT || rc == -ESRCH)
		return SET_1(res, AP_SKIPPED, 0, "process %d exited", pid);
	if (rc == -ENODATA)
		return SET_1(res, AP_FAILED, -ENOTSUP, "process %d has no memory cgroup membership",
			      pid);
	if (rc < 0)
		return SET_1(res, AP_FAILED, rc, "cgroup of process %d: %s", pid, strerror(-rc));
	return 0;
}

/* The current group of a process; 1 = res filled (skip/fail). */
static int where_is(const struct roots *r, const struct cgb *b, int pid, char *cur, size_t size,
		    struct apply_result *res)
{
	return group_read_result(cgb_pid_group(b, r, pid, cur, size), pid, res);
}

/* Move pid and check it arrived; fills res. */
static void move_pid(const struct roots *r, const struct cgb *b, int pid, const char *from,
		     const char *to, struct apply_result *res)
{
	char now[PROC_PATH_MAX];
	int rc = cgb_attach(b, to, pid);
	if (rc == -ESRCH) {
		ap_set(res, AP_SKIPPED, 0, "process %d exited", pid);
		return;
	}
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "move process %d to %.200s: %s", pid, to, strerror(-rc));
		return;
	}
	rc = cgb_pid_group(b, r, pid, now, sizeof(now));
	if (rc < 0 || strcmp(now, to) != 0) {
		ap_set(res, AP_FAILED, rc < 0 ? rc : -EIO, "process %d is not in %.200s after the move",
		       pid, to);
		return;
	}
	ap_set(res, AP_DONE, 0, "process %d: %.100s -> %.100s", pid, from, to);
}

/* The group of the process pinned by pfd (procfd.h): v2 reads its
 * /proc/PID/cgroup through the fd; v1 asks libcgroup by pid, then the fd
 * says whether that pid still named the pinned process.  -ESRCH: gone. */
static int pinned_group(const struct roots *r, const struct cgb *b, int pfd, int pid, char *out,
			size_t size)
{
	char buf[8192];
	int rc;
	if (cg_hier_v1(b->hier)) {
		rc = cgb_pid_group(b, r, pid, out, size);
		if (rc == 0)
			rc = procfd_read(pfd, "stat", buf, sizeof(buf));
		return rc == -ENOENT ? -ESRCH : rc;
	}
	rc = procfd_read(pfd, "cgroup", buf, sizeof(buf));
	if (rc == 0)
		rc = proc_cgroup_parse(buf, out, size);
	return rc < 0 ? rc : out[0] ? 0 : -ENODATA;
}

/* The exec path's move, checked: the process was pinned from the identity
 * check to this read-back, which also proves the pid written still named
 * it (a pid is not reused while its process lives).  rc: the move's. */
static void moved_pinned(const struct roots *r, const struct cgb *b, int pfd, int pid, int rc,
			 const char *from, const char *to, struct apply_result *res)
{
	char now[PROC_PATH_MAX];
	if (rc == 0)
		rc = pinned_group(r, b, pfd, pid, now, sizeof(now));
	if (rc == -ESRCH)
		ap_set(res, AP_SKIPPED, 0, "process %d exited while it was moved", pid);
	else if (rc < 0)
		ap_set(res, AP_FAILED, rc, "move process %d to %.200s: %s", pid, to, strerror(-rc));
	else if (strcmp(now, to) != 0)
		ap_set(res, AP_FAILED, -EIO, "process %d is not in %.200s after the move", pid, to);
	else
		ap_set(res, AP_DONE, 0, "process %d: %.100s -> %.100s", pid, from, to);
}

/* The pinned process's group before the move; 1 = res filled. */
static int pinned_where(const struct roots *r, const struct cgb *b, int pfd, int pid, char *cur,
			size_t size, struct apply_result *res)
{
	return group_read_result(pinned_group(r, b, pfd, pid, cur, size), pid, res);
}

/* The group made ready (created, memory enabled on the way: journaled
 * first).  0, or 1 with res filled (*rc: -errno when the journal failed,
 * which stops the plan; else 0). */
static int group_ready(const struct action *a, struct journal *j, struct ap_attach *st,
		       struct apply_result *res, int *rc)
{
	bool jfail = false;
	int e = cgb_ensure_group(&st->b, a->cgroup, st->cur, j, &jfail);
	*rc = 0;
	if (e == 0)
		return 0;
	ap_set(res, AP_FAILED, e, "%s %.200s: %s", jfail ? "journal the creation of" : "create cgroup",
	       a->cgroup, strerror(-e));
	*rc = jfail ? e : 0;
	return 1;
}

/* Everything after the pin: where it is, the group made ready, its
 * original journaled, the move and its check.  Returns 0 (outcome in res)
 * or -errno when the journal failed. */
static int attach_pinned(const struct roots *r, const struct action *a, struct journal *j,
			 struct ap_attach *st, struct apply_result *res)
{
	if (backend(r, &st->b, res) ||
	    pinned_where(r, &st->b, st->pfd, a->pid, st->cur, sizeof(st->cur), res))
		return 0;
	if (strcmp(st->cur, a->cgroup) == 0) {
		ap_set(res, AP_UNCHANGED, 0, "process %d already in %.200s", a->pid, a->cgroup);
		return 0;
	}
	int rc;
	if (group_ready(a, j, st, res, &rc))
		return rc;
	rc = ap_journal_pid(j, J_CGROUP_ATTACH, a->pid, a->start_time, st->cur);
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "journal the cgroup of process %d: %s (not moved)", a->pid,
		       rc == -EDQUOT ? "journal full" : strerror(-rc));
		return rc == -EDQUOT ? 0 : rc; /* the cap fails this action only */
	}
	/* on the calling thread: a hand-off to another thread put the move
	 * behind a wake-up on a busy CPU (up to a 4 ms tick in the guest,
	 * BENCHMARKS.md), and the caller waited for it anyway */
	rc = cgb_attach(&st->b, a->cgroup, a->pid);
	if (rc == -ENOENT) { /* removed since it was last found ready: made again, once */
		if (group_ready(a, j, st, res, &rc))
			return rc;
		rc = cgb_attach(&st->b, a->cgroup, a->pid);
	}
	moved_pinned(r, &st->b, st->pfd, a->pid, rc, st->cur, a->cgroup, res);
	return 0;
}

int ap_cgroup_attach(const struct roots *r, const struct action *a, struct journal *j,
		     const struct procpin *pin, struct apply_result *res)
{
	char path[PATH_BUF];
	struct ap_attach st = { .pfd = -1 };
	if (a->pid <= 0 || ap_cgroup_path(r, a->cgroup, NULL, path, sizeof(path)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup_attach: bad pid %d or cgroup \"%.200s\"", a->pid,
		       a->cgroup);
		return 0;
	}
	if (ap_pin_fd(r, a->pid, a->start_time, pin, &st.pfd, &st.own_pfd, "", res))
		return 0;
	int rc = attach_pinned(r, a, j, &st, res);
	if (st.own_pfd)
		close(st.pfd); /* a directory opened read-only: nothing to report */
	return rc;
}

/* Does group exist on b's hierarchy?  1 = no (res: skipped with what). */
static int gone(const struct cgb *b, const char *group, const char *what, struct apply_result *res)
{
	char dir[PATH_BUF];
	if (path_join(dir, sizeof(dir), b->mount, group) == 0 && dir_exists(dir))
		return 0;
	return SET_1(res, AP_SKIPPED, 0, "cgroup %.200s is gone%s", group, what);
}

void ap_restore_attach(const struct roots *r, const struct jentry *e, struct apply_result *res)
{
	char cur[PROC_PATH_MAX], dir[PATH_BUF];
	struct cgb b;
	if (e->pid <= 0 || ap_cgroup_path(r, e->original, NULL, dir, sizeof(dir)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup_attach entry: bad pid %d or cgroup \"%.200s\"",
		       e->pid, e->original);
		return;
	}
	if (same_process(r, e->pid, e->start_time, res) || backend(r, &b, res) ||
	    where_is(r, &b, e->pid, cur, sizeof(cur), res)) {
		if (res->status == AP_SKIPPED)
			strncat(res->detail, ": nothing to restore",
				sizeof(res->detail) - strlen(res->detail) - 1);
		return;
	}
	if (strcmp(cur, e->original) == 0) {
		ap_set(res, AP_UNCHANGED, 0, "process %d already in %.200s", e->pid, e->original);
		return;
	}
	if (gone(&b, e->original, ": process not moved back", res))
		return;
	move_pid(r, &b, e->pid, cur, e->original, res);
}

/* Processes forked inside a group overcommitd made go back to where its
 * first process came from (the entry's original), then the group goes. */
void ap_restore_create(const struct roots *r, const struct jentry *e, struct apply_result *res)
{
	char dir[PATH_BUF];
	struct cgb b;
	size_t moved = 0;
	if (ap_cgroup_path(r, e->key, NULL, dir, sizeof(dir)) < 0 || strcmp(e->key, "/") == 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup_create entry: bad path \"%.200s\"", e->key);
		return;
	}
	if (backend(r, &b, res) || gone(&b, e->key, " already", res))
		return;
	int rc = 0;
	if (e->original[0] && ap_cgroup_path(r, e->original, NULL, dir, sizeof(dir)) == 0 &&
	    strcmp(e->original, e->key) != 0)
		rc = cgb_move_all(&b, e->key, e->original, &moved);
	if (rc == 0)
		rc = cgb_remove(&b, e->key);
	if (rc < 0)
		/* EBUSY: processes or child groups still in it; kept */
		ap_set(res, AP_FAILED, rc, "remove cgroup %.200s: %s", e->key, strerror(-rc));
	else if (moved)
		ap_set(res, AP_DONE, 0, "removed cgroup %.200s (%zu processes moved back to %.200s)",
		       e->key, moved, e->original);
	else
		ap_set(res, AP_DONE, 0, "removed cgroup %.200s", e->key);
}

void ap_restore_subtree(const struct roots *r, const struct jentry *e, struct apply_result *res)
{
	char dir[PATH_BUF];
	struct cgb b;
	if (ap_cgroup_path(r, e->key, NULL, dir, sizeof(dir)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup_subtree entry: bad path \"%.200s\"", e->key);
		return;
	}
	if (backend(r, &b, res) || gone(&b, e->key, ": nothing to restore", res))
		return;
	int rc = cgb_subtree_restore(&b, e->key, e->original);
	if (rc < 0)
		ap_set(res, AP_FAILED, rc, "cgroup.subtree_control of %.200s back to \"%.100s\": %s",
		       e->key, e->original, strerror(-rc));
	else
		ap_set(res, AP_DONE, 0, "cgroup.subtree_control of %.200s back to \"%.100s\"", e->key,
		       e->original);
}
