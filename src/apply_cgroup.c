/* apply_cgroup.c - create a cgroup v2 group and move a process into it, and
 * the restore of both.
 *
 * Why not libcgroup (DESIGN §8 names it): libcgroup finds its mounts in
 * /proc/mounts by itself and cannot be pointed at --cgroupfs, so fixture
 * trees could not test it, and on a host with cgroup v1 hierarchies (this
 * project's build machine) it would act on the host's real groups.  The few
 * operations needed are plain file operations relative to r->cgroupfs:
 * "+memory" into cgroup.subtree_control of the root and of every ancestor
 * (the step libcgroup itself skips for the root), mkdir, a pid into
 * cgroup.procs. */
#include "apply.h"
#include "apply_cgroup.h"
#include "apply_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
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
	return out[0] ? 0 : -ENODATA; /* only v1 lines: no cgroup v2 membership */
}

/* ap_set, then 1: "handled, outcome in res" for the early returns below. */
#define SET_1(...) (ap_set(__VA_ARGS__), 1)

/* Is the word w in a whitespace-separated list? */
static bool has_word(const char *list, const char *w)
{
	size_t wl = strlen(w);
	for (const char *p = list; *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (len == wl && strncmp(p, w, wl) == 0)
			return true;
		p += len;
	}
	return false;
}

/* The memory controller enabled for the children of group cg. */
static int enable_memory(const struct roots *r, const char *cg, struct apply_result *res)
{
	char path[PATH_BUF], cur[1024];
	int rc = ap_cgroup_path(r, cg, "cgroup.subtree_control", path, sizeof(path));
	if (rc == 0)
		rc = ap_read_value(path, cur, sizeof(cur));
	if (rc == 0 && has_word(cur, "memory"))
		return 0;
	if (rc == 0)
		rc = ap_write_value(path, "+memory");
	if (rc < 0)
		ap_set(res, AP_FAILED, rc, "enable the memory controller in %.200s: %s", cg,
		       strerror(-rc));
	return rc;
}

/* Make target exist with the memory controller on every level above it.
 * 0 = ready; 1 = failed (res filled); < 0 = journal failure. */
static int ensure_group(const struct roots *r, const char *target, struct journal *j,
			struct apply_result *res)
{
	char prefix[PROC_PATH_MAX], parent[PROC_PATH_MAX] = "/", dir[PATH_BUF];
	size_t len = strlen(target);
	if (len >= sizeof(prefix))
		return SET_1(res, AP_FAILED, -ENAMETOOLONG, "cgroup path too long");
	for (size_t i = 1; i <= len; i++) {
		if (i < len && target[i] != '/')
			continue;
		if (target[i - 1] == '/')
			continue; /* "//" or a trailing slash */
		memcpy(prefix, target, i);
		prefix[i] = '\0';
		if (enable_memory(r, parent, res) < 0)
			return 1;
		if (ap_cgroup_path(r, prefix, NULL, dir, sizeof(dir)) < 0)
			return SET_1(res, AP_FAILED, -EINVAL, "bad cgroup path %.200s", target);
		if (!dir_exists(dir)) {
			/* journal first: a crash after mkdir must still know it is ours */
			int rc = journal_record(j, J_CGROUP_CREATE, prefix, "", 0, 0);
			if (rc < 0) {
				ap_set(res, AP_FAILED, rc, "journal the creation of %.200s: %s", prefix,
				       strerror(-rc));
				return rc;
			}
			if (mkdir(dir, 0755) < 0) {
				int e = errno;
				/* not created by us: the journal must not claim it */
				rc = journal_forget(j, J_CGROUP_CREATE, prefix);
				if (rc < 0) {
					ap_set(res, AP_FAILED, rc, "journal: %s", strerror(-rc));
					return rc;
				}
				if (e != EEXIST) {
					ap_set(res, AP_FAILED, -e, "create cgroup %.200s: %s", prefix,
					       strerror(e));
					return 1;
				}
			}
		}
		memcpy(parent, prefix, i + 1);
	}
	return 0;
}

/* Is pid listed in group cg's cgroup.procs? */
static int pid_in_group(const struct roots *r, const char *cg, int pid, bool *in)
{
	char path[PATH_BUF], buf[65536], want[24];
	int rc = ap_cgroup_path(r, cg, "cgroup.procs", path, sizeof(path));
	if (rc == 0)
		rc = ap_read_value(path, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	snprintf(want, sizeof(want), "%d", pid);
	*in = has_word(buf, want);
	return 0;
}

/* Write pid into cg's cgroup.procs and check it arrived; fills res. */
static void move_pid(const struct roots *r, int pid, const char *from, const char *to,
		     struct apply_result *res)
{
	char path[PATH_BUF], val[24];
	bool in = false;
	snprintf(val, sizeof(val), "%d", pid);
	int rc = ap_cgroup_path(r, to, "cgroup.procs", path, sizeof(path));
	if (rc == 0)
		rc = ap_write_value(path, val);
	if (rc == -ESRCH) {
		ap_set(res, AP_SKIPPED, 0, "process %d exited", pid);
		return;
	}
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "move process %d to %.200s: %s", pid, to, strerror(-rc));
		return;
	}
	rc = pid_in_group(r, to, pid, &in);
	if (rc < 0 || !in) {
		ap_set(res, AP_FAILED, rc < 0 ? rc : -EIO, "process %d is not in %.200s after the move",
		       pid, to);
		return;
	}
	ap_set(res, AP_DONE, 0, "process %d: %.100s -> %.100s", pid, from, to);
}

/* Identity and current group of a process; 1 = res filled (skip/fail). */
static int where_is(const struct roots *r, int pid, uint64_t start, char *cur, size_t size,
		    struct apply_result *res)
{
	int id = ap_identity(r, pid, start);
	if (id < 0)
		return SET_1(res, AP_FAILED, id, "process %d: %s", pid, strerror(-id));
	if (id != AP_ID_SAME)
		return SET_1(res, AP_SKIPPED, 0, "process %d exited%s", pid,
			      id == AP_ID_REUSED ? " (pid reused)" : "");
	int rc = apply_pid_cgroup(r, pid, cur, size);
	if (rc == -ENOENT || rc == -ESRCH)
		return SET_1(res, AP_SKIPPED, 0, "process %d exited", pid);
	if (rc == -ENODATA)
		return SET_1(res, AP_FAILED, -ENOTSUP, "process %d has no cgroup v2 membership", pid);
	if (rc < 0)
		return SET_1(res, AP_FAILED, rc, "cgroup of process %d: %s", pid, strerror(-rc));
	return 0;
}

int ap_cgroup_attach(const struct roots *r, const struct action *a, struct journal *j,
		     struct apply_result *res)
{
	char cur[PROC_PATH_MAX], path[PATH_BUF];
	if (a->pid <= 0 || ap_cgroup_path(r, a->cgroup, NULL, path, sizeof(path)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup_attach: bad pid %d or cgroup \"%.200s\"", a->pid,
		       a->cgroup);
		return 0;
	}
	if (where_is(r, a->pid, a->start_time, cur, sizeof(cur), res))
		return 0;
	if (strcmp(cur, a->cgroup) == 0) {
		ap_set(res, AP_UNCHANGED, 0, "process %d already in %.200s", a->pid, a->cgroup);
		return 0;
	}
	int rc = ensure_group(r, a->cgroup, j, res);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = ap_journal_pid(j, J_CGROUP_ATTACH, a->pid, a->start_time, cur);
	if (rc < 0) {
		ap_set(res, AP_FAILED, rc, "journal the cgroup of process %d: %s (not moved)", a->pid,
		       rc == -EDQUOT ? "journal full" : strerror(-rc));
		return rc == -EDQUOT ? 0 : rc; /* the cap fails this action only */
	}
	move_pid(r, a->pid, cur, a->cgroup, res);
	return 0;
}

void ap_restore_attach(const struct roots *r, const struct jentry *e, struct apply_result *res)
{
	char cur[PROC_PATH_MAX], dir[PATH_BUF];
	if (e->pid <= 0 || ap_cgroup_path(r, e->original, NULL, dir, sizeof(dir)) < 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup_attach entry: bad pid %d or cgroup \"%.200s\"",
		       e->pid, e->original);
		return;
	}
	if (where_is(r, e->pid, e->start_time, cur, sizeof(cur), res)) {
		if (res->status == AP_SKIPPED)
			strncat(res->detail, ": nothing to restore",
				sizeof(res->detail) - strlen(res->detail) - 1);
		return;
	}
	if (strcmp(cur, e->original) == 0) {
		ap_set(res, AP_UNCHANGED, 0, "process %d already in %.200s", e->pid, e->original);
		return;
	}
	if (!dir_exists(dir)) {
		ap_set(res, AP_SKIPPED, 0, "process %d: its original cgroup %.200s is gone", e->pid,
		       e->original);
		return;
	}
	move_pid(r, e->pid, cur, e->original, res);
}

void ap_restore_create(const struct roots *r, const struct jentry *e, struct apply_result *res)
{
	char dir[PATH_BUF];
	if (ap_cgroup_path(r, e->key, NULL, dir, sizeof(dir)) < 0 || strcmp(e->key, "/") == 0) {
		ap_set(res, AP_FAILED, -EINVAL, "cgroup_create entry: bad path \"%.200s\"", e->key);
		return;
	}
	if (rmdir(dir) == 0) {
		ap_set(res, AP_DONE, 0, "removed cgroup %.200s", e->key);
		return;
	}
	int err = errno;
	if (err == ENOENT)
		ap_set(res, AP_SKIPPED, 0, "cgroup %.200s is already gone", e->key);
	else
		/* EBUSY/ENOTEMPTY: processes or child groups still in it; kept */
		ap_set(res, AP_FAILED, -err, "remove cgroup %.200s: %s", e->key, strerror(err));
}
