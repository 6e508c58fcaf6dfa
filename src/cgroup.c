/* cgroup.c - the memory controller's hierarchy and a group's memory figures
 * (v2 and v1), read relative to the cgroupfs root. */
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

int cg_limit_parse(const char *buf, uint64_t *v)
{
	int rc = cg_value_parse(buf, v);
	if (rc == 0 && *v >= CG_V1_UNLIMITED_MIN)
		*v = CG_UNLIMITED;
	return rc;
}

/* memory.stat is "key value\n" lines in bytes: the two keys asked for. */
static int stat_pick(const char *buf, const char *kanon, const char *kfile, uint64_t *anon,
		     uint64_t *file)
{
	bool have_anon = false, have_file = false;
	size_t la = strlen(kanon), lf = strlen(kfile);
	*anon = 0;
	*file = 0;
	for (const char *line = buf; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		uint64_t *dst = NULL;
		bool *seen = NULL;
		size_t kl = 0;
		if (len > la && memcmp(line, kanon, la) == 0 && line[la] == ' ') {
			dst = anon, seen = &have_anon, kl = la + 1;
		} else if (len > lf && memcmp(line, kfile, lf) == 0 && line[lf] == ' ') {
			dst = file, seen = &have_file, kl = lf + 1;
		}
		if (dst) {
			char v[32];
			if (*seen || len - kl >= sizeof(v))
				return -EINVAL;
			memcpy(v, line + kl, len - kl);
			v[len - kl] = '\0';
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

int cg_memory_stat_parse(const char *buf, uint64_t *anon, uint64_t *file)
{
	return stat_pick(buf, "anon", "file", anon, file);
}

int cg_v1_memory_stat_parse(const char *buf, uint64_t *anon, uint64_t *file)
{
	return stat_pick(buf, "total_rss", "total_cache", anon, file);
}

bool cg_v2_memory_available(const struct roots *r)
{
	char buf[1024];
	if (read_file_at(r->cgroupfs, "cgroup.controllers", buf, sizeof(buf)) < 0)
		return false;
	return list_has_word(buf, "memory");
}

enum cg_hier cg_hierarchy(const struct roots *r)
{
	char buf[64];
	if (cg_v2_memory_available(r))
		return CG_HIER_V2;
	if (read_file_at(r->cgroupfs, "memory/memory.limit_in_bytes", buf, sizeof(buf)) < 0)
		return CG_HIER_NONE;
	if (read_file_at(r->cgroupfs, "unified/cgroup.controllers", buf, sizeof(buf)) >= 0)
		return CG_HIER_HYBRID;
	return CG_HIER_V1;
}

const char *cg_hier_name(enum cg_hier h)
{
	switch (h) {
	case CG_HIER_V2: return "v2";
	case CG_HIER_V1: return "v1";
	case CG_HIER_HYBRID: return "hybrid";
	case CG_HIER_NONE: break;
	}
	return "none";
}

bool cg_hier_v1(enum cg_hier h)
{
	return h == CG_HIER_V1 || h == CG_HIER_HYBRID;
}

const char *cg_limit_file(enum cg_hier h, bool hard)
{
	if (cg_hier_v1(h))
		return hard ? "memory.limit_in_bytes" : "memory.soft_limit_in_bytes";
	return hard ? "memory.max" : "memory.high";
}

int cg_group_rel(enum cg_hier h, const char *path, char *out, size_t size)
{
	return path_join(out, size, cg_hier_v1(h) ? "/memory" : "/", path);
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

/* The files of one hierarchy: current usage, stat parser, peak. */
struct cg_files {
	const char *current, *peak;
	int (*stat)(const char *buf, uint64_t *anon, uint64_t *file);
};

static const struct cg_files files_v2 = { "memory.current", "memory.peak", cg_memory_stat_parse };
static const struct cg_files files_v1 = { "memory.usage_in_bytes", "memory.max_usage_in_bytes",
					  cg_v1_memory_stat_parse };

/* Read and parse one file of the group (dir relative to cgroupfs);
 * -ENOENT is passed through. */
static int read_value(const struct roots *r, const char *dir, const char *file, uint64_t *v)
{
	char rel[PATH_MAX + 64], buf[64];
	int rc = path_join(rel, sizeof(rel), dir, file);
	if (rc < 0)
		return rc;
	ssize_t n = read_file_at(r->cgroupfs, rel, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return cg_limit_parse(buf, v);
}

static int read_group(const struct roots *r, enum cg_hier h, const char *dir, struct cg_memory *m)
{
	const struct cg_files *f = cg_hier_v1(h) ? &files_v1 : &files_v2;
	int rc = read_value(r, dir, f->current, &m->current);
	if (rc < 0)
		return rc;
	char rel[PATH_MAX + 64], buf[8192];
	if ((rc = path_join(rel, sizeof(rel), dir, "memory.stat")) < 0)
		return rc;
	ssize_t n = read_file_at(r->cgroupfs, rel, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if ((rc = f->stat(buf, &m->anon, &m->file)) < 0)
		return rc;
	if ((rc = read_value(r, dir, cg_limit_file(h, false), &m->high)) < 0)
		return rc;
	if ((rc = read_value(r, dir, cg_limit_file(h, true), &m->max)) < 0)
		return rc;
	/* memory.peak exists since Linux 5.19 */
	rc = read_value(r, dir, f->peak, &m->peak);
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
	enum cg_hier h = cg_hierarchy(r);
	char dir[PATH_MAX + 16];
	if (h == CG_HIER_NONE)
		return 0;
	int rc = cg_group_rel(h, path, dir, sizeof(dir));
	if (rc == 0)
		rc = read_group(r, h, dir, m);
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
