/* proc.c - /proc/PID parsers (buffers in, fuzz targets) and thin readers.
 * Only cheap files are read (stat, status, oom_score_adj, cgroup, cmdline,
 * exe): never smaps, which stalls large processes (DESIGN §2). */
#include "proc.h"
#include "procfd.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep.h"
#include "util.h"

#define CAP_SYS_ADMIN_BIT 21

/* ---- parsers ---------------------------------------------------------- */

/* Copy s[0..len) to a bounded NUL-terminated token; -EINVAL if it does not fit. */
static int token_copy(char *dst, size_t size, const char *s, size_t len)
{
	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* The length of the field at p: up to a space, a newline or the end (a
 * plain loop: glibc's strcspn builds a 256-byte table per call, 20 calls
 * per stat on the exec path) */
static size_t field_len(const char *p)
{
	size_t n = 0;
	while (p[n] != '\0' && p[n] != ' ' && p[n] != '\n')
		n++;
	return n;
}

int proc_stat_parse(const char *buf, struct proc_stat *st)
{
	const char *open = strchr(buf, '(');
	const char *close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return -EINVAL;
	/* "PID (": digits then one space */
	const char *q = buf;
	while (isdigit((unsigned char)*q))
		q++;
	if (q == buf || q + 1 != open || *q != ' ')
		return -EINVAL;

	memset(st, 0, sizeof(*st));
	size_t clen = (size_t)(close - open - 1);
	if (clen >= sizeof(st->comm))
		clen = sizeof(st->comm) - 1; /* hostile only: the kernel caps comm at 15 */
	memcpy(st->comm, open + 1, clen);
	st->comm[clen] = '\0';

	/* fields after ')' are numbered from 3 (state) */
	const char *p = close + 1;
	bool have_start = false;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ' || *p == '\n')
			p++;
		size_t len = field_len(p);
		if (len == 0)
			return -EINVAL; /* truncated */
		char tok[32];
		if (field == 3) {
			if (len != 1 || !isalpha((unsigned char)*p))
				return -EINVAL;
			st->state = *p;
		} else if (field == 4) {
			int64_t v;
			if (token_copy(tok, sizeof(tok), p, len) < 0 ||
			    parse_i64(tok, 0, INT_MAX, &v) < 0)
				return -EINVAL;
			st->ppid = (int)v;
		} else if (field == 22) {
			if (token_copy(tok, sizeof(tok), p, len) < 0 ||
			    parse_u64(tok, UINT64_MAX, &st->start_time) < 0)
				return -EINVAL;
			have_start = true;
		}
		p += len;
	}
	return have_start ? 0 : -EINVAL;
}

/* Strict unsigned hex (CapEff is 16 hex digits). */
static int parse_hex_u64(const char *s, uint64_t *out)
{
	while (*s == ' ' || *s == '\t')
		s++;
	uint64_t v = 0;
	int n = 0;
	for (; isxdigit((unsigned char)*s); s++, n++) {
		if (n == 16)
			return -EINVAL;
		unsigned d = isdigit((unsigned char)*s) ? (unsigned)(*s - '0')
							 : (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		v = v << 4 | d;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (n == 0 || *s != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

/* "   45440 kB" -> 45440 */
static int parse_kb(const char *s, uint64_t *out)
{
	char v[32];
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len < 3 || memcmp(s + len - 3, " kB", 3) != 0)
		return -EINVAL;
	if (token_copy(v, sizeof(v), s, len - 3) < 0)
		return -EINVAL;
	/* 1 EiB in KiB: keeps sums and products of these values in range */
	return parse_u64(v, (uint64_t)1 << 50, out) < 0 ? -EINVAL : 0;
}

enum st_key { SK_UID, SK_TGID, SK_VMSIZE, SK_VMDATA, SK_VMSTK, SK_RSSANON, SK_CAPEFF, SK_N };
/* with their lengths: a status file has ~55 lines and each is matched
 * against every key (in the TCG guest the strlen calls were 40 us of the
 * exec path) */
static const struct {
	char name[8];
	size_t len;
} st_keys[SK_N] = {
#define ST_KEY(s) { s, sizeof(s) - 1 }
	ST_KEY("Uid"),	 ST_KEY("Tgid"),    ST_KEY("VmSize"), ST_KEY("VmData"),
	ST_KEY("VmStk"), ST_KEY("RssAnon"), ST_KEY("CapEff"),
#undef ST_KEY
};

static int status_value(enum st_key k, const char *v, struct proc_status *st)
{
	int64_t i;
	switch (k) {
	case SK_UID: {
		/* "real effective saved fs": the first is the real uid, the
		 * second the effective one (a fixture may omit it: = real) */
		char tok[16];
		const char *t = v + strspn(v, " \t");
		size_t len = strcspn(t, " \t");
		if (token_copy(tok, sizeof(tok), t, len) < 0 ||
		    parse_i64(tok, 0, (int64_t)UINT32_MAX - 1, &i) < 0)
			return -EINVAL;
		st->uid = st->euid = (uid_t)i;
		t += len;
		t += strspn(t, " \t");
		if (*t == '\0')
			return 0;
		len = strcspn(t, " \t");
		if (token_copy(tok, sizeof(tok), t, len) < 0 ||
		    parse_i64(tok, 0, (int64_t)UINT32_MAX - 1, &i) < 0)
			return -EINVAL;
		st->euid = (uid_t)i;
		return 0;
	}
	case SK_TGID:
		if (parse_i64(v, 0, INT_MAX, &i) < 0)
			return -EINVAL;
		st->tgid = (int)i;
		return 0;
	case SK_VMSIZE: return parse_kb(v, &st->vm_size_kb);
	case SK_VMDATA: return parse_kb(v, &st->vm_data_kb);
	case SK_VMSTK: return parse_kb(v, &st->vm_stk_kb);
	case SK_RSSANON: return parse_kb(v, &st->rss_anon_kb);
	case SK_CAPEFF: return parse_hex_u64(v, &st->cap_eff);
	case SK_N: break;
	}
	return -EINVAL;
}

/* A key we use twice is an error (the kernel prints each once). "Name:" is
 * not used: it is escaped differently from comm; comm comes from stat. */
int proc_status_parse(const char *buf, struct proc_status *st)
{
	unsigned seen = 0;
	memset(st, 0, sizeof(*st));
	for (const char *line = buf; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		/* "Key:" at the start: a key holds no ':', so this is the text
		 * before the line's first colon */
		for (int k = 0; k < SK_N; k++) {
			size_t klen = st_keys[k].len;
			if (st_keys[k].name[0] != line[0] || len <= klen || line[klen] != ':' ||
			    memcmp(st_keys[k].name, line, klen) != 0)
				continue;
			char v[96];
			if (seen & (1u << k) ||
			    token_copy(v, sizeof(v), line + klen + 1, len - klen - 1) < 0 ||
			    status_value((enum st_key)k, v, st) < 0)
				return -EINVAL;
			seen |= 1u << k;
			break;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	unsigned need = 1u << SK_UID | 1u << SK_TGID;
	return (seen & need) == need ? 0 : -EINVAL;
}

/* Does a v1 line's controller list ("cpu,cpuacct", "memory") name memory? */
static bool lists_memory(const char *ctl, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t w = 0;
		while (i + w < len && ctl[i + w] != ',')
			w++;
		if (w == 6 && memcmp(ctl + i, "memory", 6) == 0)
			return true;
		i += w + 1;
	}
	return false;
}

/* One "N:controllers:/path" line: 1 = it is the v2 line, 2 = a v1 line of
 * the memory controller, 0 = another v1 line; -EINVAL if malformed. */
static int cgroup_line(const char *line, size_t len, const char **path)
{
	const char *c1 = memchr(line, ':', len);
	const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
	if (!c2 || c2 + 1 >= line + len || c2[1] != '/')
		return len >= 3 && memcmp(line, "0::", 3) == 0 ? -EINVAL : 0;
	*path = c2 + 1;
	if (c1 == line + 1 && line[0] == '0' && c2 == c1 + 1)
		return 1;
	return lists_memory(c1 + 1, (size_t)(c2 - c1 - 1)) ? 2 : 0;
}

int proc_cgroup_parse(const char *buf, char *out, size_t size)
{
	if (size == 0)
		return -EINVAL;
	out[0] = '\0';
	int best = 0;
	for (const char *line = buf; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *path = NULL;
		int kind = cgroup_line(line, len, &path);
		if (kind < 0 || (kind > 0 && kind == best))
			return -EINVAL; /* malformed, or two v2 / two memory lines */
		if (kind > best) {
			size_t pl = len - (size_t)(path - line);
			if (pl >= size)
				return -EINVAL;
			memcpy(out, path, pl);
			out[pl] = '\0';
			best = kind;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

void proc_cmdline_join(const char *buf, size_t len, char *out, size_t size)
{
	if (size == 0)
		return;
	while (len > 0 && buf[len - 1] == '\0') /* the terminator(s) of the last arg */
		len--;
	size_t n = len < size - 1 ? len : size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = buf[i] ? buf[i] : ' ';
	out[n] = '\0';
}

/* ---- derived values ----------------------------------------------------- */

uint64_t proc_commit_kb(const struct proc_info *p)
{
	return p->status.vm_data_kb + p->status.vm_stk_kb;
}

bool proc_has_cap_sys_admin(const struct proc_info *p)
{
	return (p->status.cap_eff >> CAP_SYS_ADMIN_BIT) & 1;
}

static bool has_suffix(const char *s, size_t len, const char *suf)
{
	size_t sl = strlen(suf);
	return len > sl && memcmp(s + len - sl, suf, sl) == 0;
}

/* Walk components from the end: inside a unit, processes may sit in a
 * sub-group (/system.slice/docker.service/payload). */
const char *proc_unit(const struct proc_info *p, size_t *len)
{
	const char *s = p->cgroup;
	size_t end = strnlen(s, sizeof(p->cgroup));
	while (end > 0) {
		size_t start = end;
		while (start > 0 && s[start - 1] != '/')
			start--;
		size_t clen = end - start;
		if (has_suffix(s + start, clen, ".service") || has_suffix(s + start, clen, ".scope")) {
			if (len)
				*len = clen;
			return s + start;
		}
		end = start > 0 ? start - 1 : 0;
	}
	return NULL;
}

/* ---- readers ------------------------------------------------------------ */

/* A pid whose files disappear mid-read has exited: one error for callers. */
static int gone(int rc)
{
	return rc == -ENOENT || rc == -ESRCH ? -ENOENT : rc;
}

static ssize_t read_pid_file(const struct roots *r, int pid, const char *name,
			     char *buf, size_t size)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "%d/%s", pid, name);
	return read_file_at(r->procfs, rel, buf, size);
}

/* The file of pid, or of the process pinned by dfd (>= 0): one openat and
 * one read (procfd_read) instead of a path walk and a read to EOF. */
static ssize_t read_src(const struct roots *r, int pid, int dfd, const char *name, char *buf,
			size_t size)
{
	if (dfd < 0)
		return read_pid_file(r, pid, name, buf, size);
	int rc = procfd_read(dfd, name, buf, size);
	return rc < 0 ? rc : (ssize_t)strlen(buf);
}

/* cmdline can be as long as ARG_MAX: read only the prefix we keep. */
static ssize_t read_prefix(const struct roots *r, int pid, int dfd, const char *name,
			   char *buf, size_t size)
{
	char rel[64], path[PATH_MAX + 64];
	snprintf(rel, sizeof(rel), "%d/%s", pid, name);
	int rc = dfd >= 0 ? 0 : path_join(path, sizeof(path), r->procfs, rel);
	if (rc < 0)
		return rc;
	int fd = dfd >= 0 ? openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
			  : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

static void read_exe(const struct roots *r, int pid, struct proc_info *p)
{
	/* kernel threads (ENOENT) and, without CAP_SYS_PTRACE, other users'
	 * processes (EACCES): empty.  The daemon asks its reader (privsep.h). */
	ssize_t n = privsep_readlink_pid(r, pid, "exe", p->exe, sizeof(p->exe));
	if (n <= 0) {
		p->exe[0] = '\0';
		return;
	}
	static const char deleted[] = " (deleted)";
	size_t dl = sizeof(deleted) - 1;
	if ((size_t)n > dl && strcmp(p->exe + n - dl, deleted) == 0)
		p->exe[n - dl] = '\0';
}

static int read_opts(const struct roots *r, int pid, int dfd, unsigned what, struct proc_info *p)
{
	char buf[16384];
	ssize_t n;
	p->pid = pid;
	if (what & PROC_READ_STAT) {
		if ((n = read_src(r, pid, dfd, "stat", buf, sizeof(buf))) < 0)
			return gone((int)n);
		if (proc_stat_parse(buf, &p->st) < 0)
			return -EINVAL;
	}
	if (what & PROC_READ_STATUS) {
		if ((n = read_src(r, pid, dfd, "status", buf, sizeof(buf))) < 0)
			return gone((int)n);
		if (proc_status_parse(buf, &p->status) < 0)
			return -EINVAL;
	}
	if (what & PROC_READ_OOM) {
		int64_t v;
		if ((n = read_src(r, pid, dfd, "oom_score_adj", buf, 64)) < 0)
			return gone((int)n);
		if (parse_i64(buf, -1000, 1000, &v) < 0)
			return -EINVAL;
		p->oom_score_adj = (int)v;
	}
	if (what & PROC_READ_CGROUP) {
		if ((n = read_src(r, pid, dfd, "cgroup", buf, sizeof(buf))) < 0)
			return gone((int)n);
		/* an overlong or odd path: treat as "no v2 cgroup", not a dead process */
		if (proc_cgroup_parse(buf, p->cgroup, sizeof(p->cgroup)) < 0)
			p->cgroup[0] = '\0';
	}
	if (what & PROC_READ_CMDLINE) {
		n = read_prefix(r, pid, dfd, "cmdline", buf, sizeof(p->cmdline));
		if (n == -ENOENT || n == -ESRCH)
			return -ENOENT;
		proc_cmdline_join(buf, n > 0 ? (size_t)n : 0, p->cmdline, sizeof(p->cmdline));
	}
	if (what & PROC_READ_EXE)
		read_exe(r, pid, p);
	return 0;
}

int proc_read_opts(const struct roots *r, int pid, unsigned what, struct proc_info *p)
{
	return read_opts(r, pid, -1, what, p);
}

int proc_read_pinned(const struct roots *r, int pid, int dfd, unsigned what, struct proc_info *p)
{
	return read_opts(r, pid, dfd, what, p);
}

int proc_read(const struct roots *r, int pid, struct proc_info *p)
{
	memset(p, 0, sizeof(*p));
	return proc_read_opts(r, pid, PROC_READ_ALL, p);
}

int proc_stat_flags_parse(const char *buf, unsigned *flags)
{
	const char *p = strrchr(buf, ')'); /* comm may hold ") " */
	if (!p)
		return -EINVAL;
	p++;
	for (int field = 3; field <= 9; field++) {
		while (*p == ' ')
			p++;
		size_t len = field_len(p);
		if (len == 0)
			return -EINVAL;
		if (field == 9) {
			char tok[32];
			uint64_t v;
			if (token_copy(tok, sizeof(tok), p, len) < 0 ||
			    parse_u64(tok, UINT32_MAX, &v) < 0)
				return -EINVAL;
			*flags = (unsigned)v;
		}
		p += len;
	}
	return 0;
}

int proc_read_flags(const struct roots *r, int pid, unsigned *flags)
{
	char buf[4096];
	ssize_t n = read_pid_file(r, pid, "stat", buf, sizeof(buf));
	if (n < 0)
		return gone((int)n);
	return proc_stat_flags_parse(buf, flags);
}

int proc_read_start_time(const struct roots *r, int pid, uint64_t *start)
{
	char buf[4096];
	struct proc_stat st;
	ssize_t n = read_pid_file(r, pid, "stat", buf, sizeof(buf));
	if (n < 0)
		return gone((int)n);
	if (proc_stat_parse(buf, &st) < 0)
		return -EINVAL;
	*start = st.start_time;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int proc_list_pids(const struct roots *r, int **pids)
{
	*pids = NULL;
	DIR *d = opendir(r->procfs);
	if (!d)
		return -errno;
	int *v = NULL;
	size_t n = 0, cap = 0;
	int e;
	for (;;) {
		errno = 0; /* readdir reports errors only through errno */
		struct dirent *de = readdir(d);
		if (!de) {
			e = errno;
			break;
		}
		uint64_t pid;
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    parse_u64(de->d_name, INT_MAX, &pid) < 0 || pid == 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			int *nv = ncap <= INT_MAX ? realloc(v, ncap * sizeof(*v)) : NULL;
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = (int)pid;
	}
	closedir(d);
	if (e != 0) {
		free(v);
		return -e;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_int);
	*pids = v;
	return (int)n;
}
