/* apply_util.c - the small helpers every part of the applier shares
 * (apply.c, apply_target.c, apply_cgroup.c): results, value files, process
 * identity, cgroup paths, per-process journal entries. */
#include "apply_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"
#include "textbuf.h"
#include "util.h"

void ap_set(struct apply_result *res, enum apply_status st, int err, const char *fmt, ...)
{
	res->status = st;
	res->err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
}

void ap_set_text(struct apply_result *res, enum apply_status st, int err, ...)
{
	struct tbuf t;
	res->status = st;
	res->err = err;
	tb_init(&t, res->detail, sizeof(res->detail));
	va_list ap;
	va_start(ap, err);
	for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
		tb_str(&t, s);
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
	char line[AP_VAL_MAX + 2];
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
	char dir[PATH_BUF];
	int rc = path_join(dir, sizeof(dir), r->cgroupfs, cg);
	return rc < 0 ? rc : path_join(out, size, dir, file);
}

int ap_journal_pid(struct journal *j, enum jkind kind, int pid, uint64_t start,
		   const char *original)
{
	char key[24];
	tb_set_i64(key, sizeof(key), pid); /* the exec path: no printf (textbuf.h) */
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
