/* cgroup.c - cgroup v2 memory figures, read relative to the cgroupfs root. */
#include "cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int cg_value_parse(const char *buf, uint64_t *v)
{
	const char *s = buf + strspn(buf, " \t");
	if (strncmp(s, "max", 3) == 0 && s[3 + strspn(s + 3, " \t\n")] == '\0') {
		*v = CG_UNLIMITED;
		return 0;
	}
	/* a number equal to CG_UNLIMITED would read back as "max": refuse it */
	return parse_u64(buf, CG_UNLIMITED - 1, v) < 0 ? -EINVAL : 0;
}

/* memory.stat is "key value\n" lines in bytes. */
int cg_memory_stat_parse(const char *buf, uint64_t *anon, uint64_t *file)
{
	bool have_anon = false, have_file = false;
	*anon = 0;
	*file = 0;
	for (const char *line = buf; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		uint64_t *dst = NULL;
		bool *seen = NULL;
		if (len > 5 && memcmp(line, "anon ", 5) == 0) {
			dst = anon;
			seen = &have_anon;
		} else if (len > 5 && memcmp(line, "file ", 5) == 0) {
			dst = file;
			seen = &have_file;
		}
		if (dst) {
			char v[32];
			if (*seen || len - 5 >= sizeof(v))
				return -EINVAL;
			memcpy(v, line + 5, len - 5);
			v[len - 5] = '\0';
			if (parse_u64(v, UINT64_MAX, dst) < 0)
				return -EINVAL;
			*seen = true;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return have_anon ? 0 : -EINVAL;
}

bool cg_v2_memory_available(const struct roots *r)
{
	char buf[1024];
	if (read_file_at(r->cgroupfs, "cgroup.controllers", buf, sizeof(buf)) < 0)
		return false;
	char *save = NULL;
	for (char *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
		if (strcmp(w, "memory") == 0)
			return true;
	return false;
}

/* Paths come from /proc/PID/cgroup and the policy: no ".." escapes. */
static bool path_ok(const char *path)
{
	for (const char *c = path; *c;) {
		c += strspn(c, "/");
		size_t len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return false;
		c += len;
	}
	return true;
}

/* Read and parse one file of the group; -ENOENT is passed through. */
static int read_value(const struct roots *r, const char *path, const char *file,
		      uint64_t *v)
{
	char rel[PATH_MAX + 64], buf[64];
	int rc = path_join(rel, sizeof(rel), path, file);
	if (rc < 0)
		return rc;
	ssize_t n = read_file_at(r->cgroupfs, rel, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return cg_value_parse(buf, v);
}

static int read_group(const struct roots *r, const char *path, struct cg_memory *m)
{
	int rc = read_value(r, path, "memory.current", &m->current);
	if (rc < 0)
		return rc;
	char rel[PATH_MAX + 64], buf[8192];
	if ((rc = path_join(rel, sizeof(rel), path, "memory.stat")) < 0)
		return rc;
	ssize_t n = read_file_at(r->cgroupfs, rel, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if ((rc = cg_memory_stat_parse(buf, &m->anon, &m->file)) < 0)
		return rc;
	if ((rc = read_value(r, path, "memory.high", &m->high)) < 0)
		return rc;
	if ((rc = read_value(r, path, "memory.max", &m->max)) < 0)
		return rc;
	/* memory.peak exists since Linux 5.19 */
	rc = read_value(r, path, "memory.peak", &m->peak);
	if (rc == -ENOENT)
		m->peak = 0;
	else if (rc < 0)
		return rc;
	return 0;
}

int cg_memory_read(const struct roots *r, const char *path, struct cg_memory *m)
{
	memset(m, 0, sizeof(*m));
	if (!path_ok(path))
		return -EINVAL;
	/* the root group has no memory.current/high/max: nothing to limit there */
	if (path[strspn(path, "/")] == '\0')
		return 0;
	int rc = read_group(r, path, m);
	if (rc == -ENOENT || rc == -ENOTDIR) {
		/* no such group (or it was removed while read) */
		memset(m, 0, sizeof(*m));
		return 0;
	}
	if (rc < 0) {
		memset(m, 0, sizeof(*m));
		return rc;
	}
	m->present = true;
	return 0;
}
