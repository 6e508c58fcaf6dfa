/* cgroup_backend.c - libcgroup 2.0.2 as the cgroup writer (see the header;
 * what libcgroup cannot do and was measured: DESIGN "Cgroups"). */
#include "cgroup_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libcgroup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "textbuf.h"
#include "timedwrite.h"
#include "util.h"

#define MEMORY "memory"

/* libcgroup's ECG* codes as -errno; ECGOTHER carries the OS's errno. */
static int cgb_errno(int ecg)
{
	switch (ecg) {
	case 0: return 0;
	case ECGOTHER: {
		int e = cgroup_get_last_errno();
		return e > 0 ? -e : -EIO;
	}
	case ECGROUPNOTEXIST:
	case ECGROUPVALUENOTEXIST: return -ENOENT;
	case ECGROUPNOTOWNER: return -EPERM;
	case ECGROUPNOTALLOWED: return -EACCES;
	case ECGROUPNOTMOUNTED:
	case ECGROUPSUBSYSNOTMOUNTED:
	case ECGROUPNOTINITIALIZED: return -ENODEV;
	case ECGNONEMPTY: return -EBUSY;
	case ECGINVAL: return -EINVAL;
	}
	return -EIO;
}

/* cgroup_init parses /proc/mounts: once, not on every attach of the
 * exec path; a failure (nothing mounted yet) is retried next time. */
static int lib_init(void)
{
	static int done;
	if (done)
		return 0;
	int rc = cgb_errno(cgroup_init());
	if (rc == 0)
		done = 1;
	return rc;
}

/* Same directory?  (realpath: "/sys/fs/cgroup/" and "/sys/fs/cgroup".) */
static bool same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	if (!realpath(a, ra) || !realpath(b, rb))
		return false;
	return strcmp(ra, rb) == 0;
}

static int backend_open(const struct roots *r, struct cgb *b)
{
	memset(b, 0, sizeof(*b));
	b->hier = cg_hierarchy(r);
	if (b->hier == CG_HIER_NONE)
		return -ENODEV;
	int rc = lib_init();
	if (rc < 0)
		return rc;
	char *mp = NULL;
	rc = cgb_errno(cgroup_get_subsys_mount_point(MEMORY, &mp));
	if (rc < 0)
		return rc == -ENOENT ? -ENODEV : rc;
	snprintf(b->mount, sizeof(b->mount), "%s", mp);
	free(mp);
	char rel[32], want[PATH_BUF];
	rc = cg_group_rel(b->hier, "/", rel, sizeof(rel));
	if (rc == 0)
		rc = path_join(want, sizeof(want), r->cgroupfs, rel);
	if (rc < 0)
		return rc;
	return same_dir(want, b->mount) ? 0 : -EXDEV;
}

/* The answer for a cgroupfs is kept once found (libcgroup's own view of
 * the mounts is fixed at cgroup_init too): every attach of the exec path
 * asked again, ~10 file operations (hierarchy probe, two realpaths),
 * 2.2 ms of a 57 ms exec->enforced p50 in the guest (BENCHMARKS.md). */
int cgb_open(const struct roots *r, struct cgb *b)
{
	static struct {
		bool ok;
		char cgroupfs[PATH_BUF];
		struct cgb b;
	} known;
	if (known.ok && strcmp(known.cgroupfs, r->cgroupfs) == 0) {
		*b = known.b;
		return 0;
	}
	int rc = backend_open(r, b);
	if (rc == 0 && strlen(r->cgroupfs) < sizeof(known.cgroupfs)) {
		snprintf(known.cgroupfs, sizeof(known.cgroupfs), "%s", r->cgroupfs);
		known.b = *b;
		known.ok = true;
	}
	return rc;
}

/* A struct cgroup for group with the memory controller (and one value). */
static struct cgroup *lib_group(const char *group, const char *file, const char *value)
{
	struct cgroup *cg = cgroup_new_cgroup(group);
	if (!cg)
		return NULL;
	struct cgroup_controller *c = cgroup_add_controller(cg, MEMORY);
	if (!c || (file && cgroup_add_value_string(c, file, value) != 0)) {
		cgroup_free(&cg);
		return NULL;
	}
	return cg;
}

/* One value written to one file of group through libcgroup. */
static int lib_write(const char *group, const char *file, const char *value)
{
	struct cgroup *cg = lib_group(group, file, value);
	if (!cg)
		return -ENOMEM;
	int rc = cgb_errno(cgroup_modify_cgroup(cg));
	cgroup_free(&cg);
	return rc;
}

bool cgb_list_has_memory(const char *list)
{
	return list_has_word(list, MEMORY);
}

/* A file of group, by path under libcgroup's mount (the same tree:
 * cgb_open checked it). */
static int group_file(const struct cgb *b, const char *group, const char *file, char *out,
		      size_t size)
{
	char dir[PATH_BUF];
	int rc = path_join(dir, sizeof(dir), b->mount, group);
	if (rc == 0 && file)
		rc = path_join(out, size, dir, file);
	else if (rc == 0)
		rc = path_join(out, size, dir, "");
	return rc;
}

/* v2: "+memory" into parent's subtree_control unless listed, journaled
 * first.  libcgroup writes it itself while creating the child (for a
 * top-level group into the root's, too); doing it here first lets the
 * journal see it before any write. */
static int enable_memory(const struct cgb *b, const char *parent, struct journal *j, bool *jfail)
{
	char path[PATH_BUF], cur[1024];
	if (b->hier != CG_HIER_V2)
		return 0;
	int rc = group_file(b, parent, "cgroup.subtree_control", path, sizeof(path));
	ssize_t n = rc < 0 ? rc : read_file(path, cur, sizeof(cur));
	if (n < 0)
		return (int)n;
	if (cgb_list_has_memory(cur))
		return rc;
	cur[strcspn(cur, "\n")] = '\0';
	rc = journal_record(j, J_CGROUP_SUBTREE, parent, cur, 0, 0);
	if (rc < 0) {
		*jfail = true;
		return rc;
	}
	return lib_write(parent, "cgroup.subtree_control", "+" MEMORY);
}

/* One missing level: journaled, then created by libcgroup (on v2 it also
 * writes "+memory" into the parent, already done by enable_memory). */
static int create_level(const char *level, const char *from, struct journal *j, bool *jfail)
{
	int rc = journal_record(j, J_CGROUP_CREATE, level, from, 0, 0);
	if (rc < 0) {
		*jfail = true;
		return rc;
	}
	struct cgroup *cg = lib_group(level, NULL, NULL);
	rc = cg ? cgb_errno(cgroup_create_cgroup(cg, 1)) : -ENOMEM;
	cgroup_free(&cg);
	if (rc < 0) {
		/* not created by us: the journal must not claim it */
		int jr = journal_forget(j, J_CGROUP_CREATE, level);
		if (jr < 0) {
			*jfail = true;
			return jr;
		}
	}
	return rc;
}

/* v2 moves go by hand, through a cgroup.procs fd kept per group: libcgroup
 * 2.0.2's cgroup_attach_task_pid makes 13 system calls per move (the
 * group's cgroup.type read twice through fopen, a stat, cgroup.procs
 * fopen'd, written and closed), measured at 0.55 ms of a 2.4 ms
 * exec->enforced path in the TCG guest (BENCHMARKS.md); it writes the
 * same file.  One thread moves (the daemon's). */
#define PROCS_KEPT 8
static struct kept_procs {
	char group[PROC_PATH_MAX];
	int fd;  /* 0 = unused: fd 0 is never a cgroup.procs opened here */
	int ctl; /* its cgroup.controllers (cgb_group_ready), 0 = not open */
	uint64_t ready_ns; /* when ctl last listed memory (coarse clock), 0 = not */
} kept[PROCS_KEPT];
static unsigned kept_next;

static void kept_drop(struct kept_procs *k)
{
	if (k->fd > 0)
		close(k->fd); /* opened for writing, nothing buffered: nothing to report */
	if (k->ctl > 0)
		close(k->ctl); /* read-only */
	k->fd = k->ctl = 0;
	k->ready_ns = 0;
	k->group[0] = '\0';
}

/* path opened (O_CLOEXEC, no symlink) as an fd other than 0, which the
 * table above reads as "unused" (stdin may be closed); -errno. */
static int kept_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd != 0)
		return fd < 0 ? -errno : fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, 1);
	int e = errno;
	close(fd);
	return moved < 0 ? -e : moved;
}

static struct kept_procs *kept_find(const char *group)
{
	for (unsigned i = 0; i < PROCS_KEPT; i++)
		if (kept[i].fd > 0 && strcmp(kept[i].group, group) == 0)
			return &kept[i];
	return NULL;
}

/* The kept fd of group's cgroup.procs, opened when missing (or anew: fresh). */
static int kept_fd(const struct cgb *b, const char *group, bool fresh)
{
	struct kept_procs *k = kept_find(group);
	if (k && !fresh)
		return k->fd;
	if (!k)
		k = &kept[kept_next++ % PROCS_KEPT];
	kept_drop(k);
	char path[PATH_BUF];
	int rc = group_file(b, group, "cgroup.procs", path, sizeof(path));
	if (rc < 0 || strlen(group) >= sizeof(k->group))
		return rc < 0 ? rc : -ENAMETOOLONG;
	int fd = kept_open(path, O_WRONLY);
	if (fd < 0)
		return fd;
	snprintf(k->group, sizeof(k->group), "%s", group);
	k->fd = fd;
	return fd;
}

static void kept_forget(const char *group)
{
	struct kept_procs *k = kept_find(group); /* a group has one entry (kept_fd) */
	if (k)
		kept_drop(k);
}

/* How long a kept group's "memory listed" answer stands unread: a storm of
 * execs into one group reads cgroup.controllers once a second, not once
 * per exec (a pread before every move: 0.08 ms of the TCG guest's exec
 * path).  What it can miss meanwhile: the group removed (the move's write
 * then fails with ENODEV and cgb_attach says -ENOENT: the caller makes the
 * group again) or +memory taken from a level above by hand (the group's
 * limits stop applying for up to this long; the move itself is right). */
#define READY_KEEP_NS (1000ull * 1000 * 1000)

/* v2: the memory controller listed in the kept group's cgroup.controllers
 * (read again at offset 0: the kernel makes it afresh); -1 = not known
 * here (no kept fd: the caller reads the file by its path). */
static int kept_ready(const struct cgb *b, const char *group)
{
	struct kept_procs *k = kept_find(group);
	char path[PATH_BUF], list[1024];
	if (!k)
		return -1;
	uint64_t now = mono_coarse_ns();
	if (k->ready_ns && now - k->ready_ns < READY_KEEP_NS)
		return 1;
	if (k->ctl <= 0) {
		if (group_file(b, group, "cgroup.controllers", path, sizeof(path)) < 0)
			return -1;
		int fd = kept_open(path, O_RDONLY);
		if (fd < 0)
			return -1; /* the path read decides */
		k->ctl = fd;
	}
	ssize_t n = pread(k->ctl, list, sizeof(list) - 1, 0);
	if (n < 0) { /* ENODEV: the group is gone; it is made anew */
		kept_drop(k);
		return 0;
	}
	list[n] = '\0';
	bool ready = cgb_list_has_memory(list);
	k->ready_ns = ready ? (now ? now : 1) : 0;
	return ready;
}

/* The group is there with the memory controller: on v2 its
 * cgroup.controllers lists memory only when every level above enabled it. */
bool cgb_group_ready(const struct cgb *b, const char *group)
{
	char path[PATH_BUF], list[1024];
	if (b->hier != CG_HIER_V2) /* v1: nothing to enable on the way */
		return group_file(b, group, NULL, path, sizeof(path)) == 0 && dir_exists(path);
	/* v2: a group that is not there has no cgroup.controllers to read;
	 * for a group moved into before, one pread of it (kept_ready) */
	int known = kept_ready(b, group);
	if (known >= 0)
		return known;
	return group_file(b, group, "cgroup.controllers", path, sizeof(path)) == 0 &&
	       read_file(path, list, sizeof(list)) >= 0 && cgb_list_has_memory(list);
}

int cgb_ensure_group(const struct cgb *b, const char *group, const char *from,
		     struct journal *j, bool *journal_failed)
{
	char level[PROC_PATH_MAX], parent[PROC_PATH_MAX] = "/", dir[PATH_BUF];
	size_t len = strlen(group);
	*journal_failed = false;
	if (group[0] != '/' || len >= sizeof(level))
		return -EINVAL;
	if (cgb_group_ready(b, group))
		return 0; /* every exec after the first: two file operations, not 2 per level */
	for (size_t i = 1; i <= len; i++) {
		if ((i < len && group[i] != '/') || group[i - 1] == '/')
			continue; /* inside a name, "//" or a trailing slash */
		memcpy(level, group, i);
		level[i] = '\0';
		int rc = enable_memory(b, parent, j, journal_failed);
		if (rc == 0)
			rc = group_file(b, level, NULL, dir, sizeof(dir));
		if (rc == 0 && !dir_exists(dir))
			rc = create_level(level, from, j, journal_failed);
		if (rc < 0)
			return rc;
		memcpy(parent, level, i + 1);
	}
	return 0;
}

int cgb_attach(const struct cgb *b, const char *group, pid_t pid)
{
	if (pid <= 0)
		return -EINVAL;
	if (cg_hier_v1(b->hier)) {
		/* v1 "tasks" takes one thread: libcgroup walks /proc/PID/task */
		const char *const ctrl[] = { MEMORY, NULL };
		int rc = cgb_errno(cgroup_change_cgroup_path(group, pid, ctrl));
		return rc == -ENOENT ? -ESRCH : rc;
	}
	char line[24];
	int len = tb_set_i64(line, sizeof(line), pid); /* the exec path: no printf (textbuf.h) */
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = kept_fd(b, group, attempt > 0);
		if (fd < 0)
			return fd;
		if (write(fd, line, (size_t)len) == len)
			return 0;
		int e = errno;
		/* ENODEV: the group was removed since the fd was opened (maybe
		 * made again): once more through a fresh open */
		if (e != ENODEV || attempt > 0) {
			kept_forget(group);
			return e == 0 ? -EIO : -e;
		}
	}
	return -ENODEV;
}

int cgb_pid_group(const struct cgb *b, const struct roots *r, pid_t pid, char *out, size_t size)
{
	if (pid <= 0 || size == 0)
		return -EINVAL;
	if (!cg_hier_v1(b->hier)) {
		char rel[32], buf[8192];
		snprintf(rel, sizeof(rel), "%d/cgroup", (int)pid);
		ssize_t n = read_file_at(r->procfs, rel, buf, sizeof(buf));
		if (n < 0)
			return (int)n;
		int rc = proc_cgroup_parse(buf, out, size);
		return rc < 0 ? rc : out[0] ? 0 : -ENODATA;
	}
	char *path = NULL;
	int rc = cgb_errno(cgroup_get_current_controller_path(pid, MEMORY, &path));
	if (rc == 0 && snprintf(out, size, "%s", path) >= (int)size)
		rc = -ENAMETOOLONG;
	free(path);
	return rc == -ENOENT ? -ESRCH : rc;
}

int cgb_set_limit(const struct cgb *b, const char *group, bool hard, uint64_t bytes)
{
	char val[32];
	bool v1 = cg_hier_v1(b->hier);
	if (bytes == CG_UNLIMITED)
		snprintf(val, sizeof(val), "%s", v1 ? "-1" : "max");
	else
		snprintf(val, sizeof(val), "%" PRIu64, bytes);
	const char *file = cg_limit_file(b->hier, hard);
	if (v1 || hard)
		return lib_write(group, file, val);
	char path[PATH_BUF], line[40];
	int rc = group_file(b, group, file, path, sizeof(path));
	snprintf(line, sizeof(line), "%s\n", val);
	return rc < 0 ? rc : write_file_timed(path, line, CGB_HIGH_TIMEOUT_MS, NULL);
}

int cgb_move_all(const struct cgb *b, const char *from, const char *to, size_t *moved)
{
	pid_t *pids = NULL;
	int n = 0;
	*moved = 0;
	/* libcgroup's arguments are not const; it only reads them */
	char name[PROC_PATH_MAX], ctrl[] = MEMORY;
	snprintf(name, sizeof(name), "%s", from);
	int rc = cgb_errno(cgroup_get_procs(name, ctrl, &pids, &n));
	for (int i = 0; rc == 0 && i < n; i++) {
		int e = cgb_attach(b, to, pids[i]);
		if (e == 0)
			(*moved)++;
		else if (e != -ESRCH)
			rc = e; /* a process that exited meanwhile is not an error */
	}
	free(pids);
	return rc;
}

int cgb_remove(const struct cgb *b, const char *group)
{
	char dir[PATH_BUF];
	struct cgroup *cg = lib_group(group, NULL, NULL);
	if (!cg)
		return -ENOMEM;
	kept_forget(group); /* its kept cgroup.procs (cgb_attach) */
	int rc = cgb_errno(cgroup_delete_cgroup_ext(cg, CGFLAG_DELETE_EMPTY_ONLY));
	cgroup_free(&cg);
	/* Measured (v2 guest, a restore cut short by ENOSPC at its first rmdir):
	 * libcgroup 2.0.2 returned 0 for "/overcommitd" while its child group
	 * was still there and the directory stayed (its source counts an rmdir
	 * ENOENT of the path it builds as success; which path it built was not
	 * traced).  So the directory decides: one
	 * that is still there is removed by hand, or the group is reported
	 * busy and its journal entry kept. */
	if (rc == 0 && group_file(b, group, NULL, dir, sizeof(dir)) == 0 && dir_exists(dir) &&
	    rmdir(dir) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

int cgb_subtree_restore(const struct cgb *b, const char *group, const char *original)
{
	if (b->hier != CG_HIER_V2 || cgb_list_has_memory(original))
		return 0;
	return lib_write(group, "cgroup.subtree_control", "-" MEMORY);
}
