/* policy.c - INI policies: line scanner, iniparser bridge, drop-in loading
 * and cross-key checks (DESIGN §6, §7.6, §7.7).
 *
 * Why a scanner in front of iniparser: iniparser 4.1 lowercases names, lets
 * a duplicate key win silently and knows line numbers only for syntax errors
 * (DESIGN §8).  So our own scanner walks the text first: it keeps the case of
 * service names, maps every key to its line, finds duplicates, unknown
 * sections and keys and malformed lines, and reports them all.  It then hands
 * iniparser a copy of the text in which every line it refused is blanked
 * (line numbers unchanged), so iniparser only sees lines known to be good,
 * never fails part way, and stays the single authority on INI value syntax
 * (quotes, inline ';'/'#' comments).  Values are read back as strings and
 * parsed with range checks (policy_value.c).  iniparser_load wants a path,
 * so the copy goes to a memfd opened via /proc/self/fd: files and the fuzzer
 * take the same path through this code. */
#include "policy.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <iniparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_trust.h"
#include "policy_value.h"
#include "textbuf.h"
#include "util.h"

#define MAX_LINE 1000          /* iniparser 4.1 refuses lines of 1024+ bytes */
#define MAX_FILE (1024 * 1024) /* a policy is a few hundred bytes */
#define MAX_NAME 64            /* service name */
#define MAX_SERVICES 1024
#define MAX_SECTIONS 256       /* section headers per file */
#define MAX_FILES 4096

/* ---- defaults ---- */

const char *oc_pref_name(enum oc_pref m)
{
	switch (m) {
	case OC_AUTO: return "auto";
	case OC_STRICT: return "strict";
	case OC_HEURISTIC: return "heuristic";
	case OC_ALWAYS: return "always";
	}
	return "?";
}

const char *policy_service_cgroup(const struct pol_service *s, char *out, size_t size)
{
	const char *c = s->cgroup.v;
	struct tbuf b; /* on the exec path: no printf (textbuf.h) */
	tb_init(&b, out, size);
	if (c) {
		tb_chr(&b, '/');
		tb_str(&b, c + strspn(c, "/"));
	} else {
		tb_str(&b, "/overcommitd/");
		tb_str(&b, s->name ? s->name : "");
	}
	size_t len = strlen(out);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	return out;
}

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->host.overcommit = OC_AUTO;
	p->host.fork_headroom.kind = SZ_PCT;
	p->host.fork_headroom.bp = POLICY_FORK_HEADROOM_BP;
	p->host.concurrent_forks.set = true;
	p->host.concurrent_forks.v = 1;
	p->host.enforce = false;
	/* set = a value is in force; origin {NULL, 0} = built-in default */
	p->host.interval.set = true;
	p->host.interval.v = 10;
}

static void pol_str_free(struct pol_str *s)
{
	free(s->v);
	s->v = NULL;
}

static void service_free(struct pol_service *s)
{
	free(s->name);
	pol_str_free(&s->match_comm);
	pol_str_free(&s->match_exe);
	free(s->match_exe_target);
	s->match_exe_target = NULL;
	pol_str_free(&s->match_unit);
	pol_str_free(&s->match_user);
	pol_str_free(&s->match_cmdline);
	pol_str_free(&s->cgroup);
	pol_str_free(&s->requires_overcommit);
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nsvc; i++)
		service_free(&p->svc[i]);
	free(p->svc);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	diags_free(&p->notes);
	memset(p, 0, sizeof(*p));
}

/* Origins point at the policy's own copy of the file name. */
static const char *intern_file(struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (strcmp(p->files[i], name) == 0)
			return p->files[i];
	char **f = realloc(p->files, (p->nfiles + 1) * sizeof(*f));
	if (!f)
		return NULL;
	p->files = f;
	char *copy = strdup(name);
	if (!copy)
		return NULL;
	p->files[p->nfiles++] = copy;
	return copy;
}

/* Services are identified by name, case-insensitively (iniparser folds case). */
static int service_get(struct policy *p, const char *name, struct origin at)
{
	for (size_t i = 0; i < p->nsvc; i++)
		if (strcasecmp(p->svc[i].name, name) == 0)
			return (int)i;
	if (p->nsvc >= MAX_SERVICES)
		return -E2BIG;
	struct pol_service *v = realloc(p->svc, (p->nsvc + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->svc = v;
	struct pol_service *s = &p->svc[p->nsvc];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	char *cg = NULL;
	if (asprintf(&cg, "overcommitd/%s", name) < 0)
		cg = NULL;
	if (!s->name || !cg) {
		free(s->name);
		free(cg);
		return -ENOMEM;
	}
	s->at = at;
	s->memory_high.kind = SZ_OFF;
	s->memory_high_min.kind = SZ_KB;
	s->memory_high_min.kb = 256 * KB_PER_MB;
	s->memory_high_max.kind = SZ_PCT;
	s->memory_high_max.bp = 7500;
	s->memory_max.kind = SZ_OFF;
	s->cow_margin.kind = SZ_PCT;
	s->cow_margin.bp = POLICY_COW_MARGIN_BP;
	s->cgroup.v = cg;
	return (int)p->nsvc++;
}

/* ---- the line scanner ---- */

struct scan_sec {
	enum pol_section kind;
	char *name;  /* service name as written */
	char *ini;   /* iniparser's name for the section: lowercased */
	int line;
	int svc;     /* index into policy->svc */
	size_t canon;              /* first header of the same section in this file */
	int keyline[POL_NKEYS];    /* line a key was set at (on the canon entry), 0: unset */
};

struct scan_key {
	size_t sec;  /* index into scan.sec */
	int key;     /* pol_key_find() */
	int line;
};

struct scan {
	const char *file;
	struct scan_sec *sec;
	size_t nsec;
	struct scan_key *kv;
	size_t nkv;
	char *clean;      /* the text iniparser gets */
	size_t clean_len;
};

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->nsec; i++) {
		free(sc->sec[i].name);
		free(sc->sec[i].ini);
	}
	free(sc->sec);
	free(sc->kv);
	free(sc->clean);
}

static void emit(struct scan *sc, const char *s, size_t n)
{
	memcpy(sc->clean + sc->clean_len, s, n);
	sc->clean_len += n;
	sc->clean[sc->clean_len++] = '\n';
	sc->clean[sc->clean_len] = '\0';
}

/* Trim in place; returns the new start. */
static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool valid_service_name(const char *n)
{
	size_t len = strlen(n);
	/* a leading '.' would let "[service ..]" escape the default cgroup */
	if (len == 0 || len > MAX_NAME || n[0] == '.')
		return false;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && !strchr("_.-", *n))
			return false;
	return true;
}

/* The header's words ("host", "service NAME") -> its kind and service
 * name (NULL for host); -1 (reported) when it is neither. */
static int section_kind(const struct scan *sc, const char *inner, int line, struct diags *d,
			enum pol_section *kind, const char **name)
{
	char shown[80];
	size_t wl = strcspn(inner, " \t");
	*name = NULL;
	if (strcasecmp(inner, "host") == 0) {
		*kind = SEC_HOST;
		return 0;
	}
	if (wl != 7 || strncasecmp(inner, "service", 7) != 0) {
		diags_add(d, sc->file, line, "unknown section [%s] (expected [host] or [service NAME])",
			  pol_shown(inner, shown, sizeof(shown)));
		return -1;
	}
	*kind = SEC_SERVICE;
	const char *n = inner + wl;
	while (isspace((unsigned char)*n))
		n++;
	if (*n == '\0') {
		diags_add(d, sc->file, line, "section [service] needs a name: [service NAME]");
		return -1;
	}
	if (!valid_service_name(n)) {
		diags_add(d, sc->file, line,
			  "service name '%s' must be 1 to %d characters of A-Z a-z 0-9 _ . - "
			  "not starting with '.'", pol_shown(n, shown, sizeof(shown)), MAX_NAME);
		return -1;
	}
	*name = n;
	return 0;
}

/* "[...]" line (a scratch copy) -> a section index, or -1 (reported) when bad. */
static long scan_section(struct scan *sc, char *buf, int line, struct diags *d)
{
	size_t len = strlen(buf);
	buf[len - 1] = '\0';
	char *inner = buf + 1;
	if (strpbrk(inner, "[]")) {
		diags_add(d, sc->file, line, "malformed section header (expected "
			  "[host] or [service NAME] alone on its line)");
		return -1;
	}
	inner = trim(inner);
	enum pol_section kind;
	const char *name;
	if (section_kind(sc, inner, line, d, &kind, &name) < 0)
		return -1;
	if (sc->nsec == MAX_SECTIONS) {
		diags_add(d, sc->file, line, "too many sections (at most %d in one file)",
			  MAX_SECTIONS);
		return -1;
	}
	if (!sc->sec) {
		sc->sec = calloc(MAX_SECTIONS, sizeof(*sc->sec));
		if (!sc->sec)
			return -ENOMEM;
	}
	struct scan_sec *s = &sc->sec[sc->nsec];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = line;
	s->svc = -1;
	s->name = strdup(name ? name : "host");
	s->ini = strdup(inner);
	if (!s->name || !s->ini) {
		free(s->name);
		free(s->ini);
		return -ENOMEM;
	}
	for (char *c = s->ini; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	/* "[service a]" twice, or "[Service A]": the same section */
	s->canon = sc->nsec;
	for (size_t i = 0; i < sc->nsec; i++) {
		if (sc->sec[i].kind == kind && strcasecmp(sc->sec[i].name, s->name) == 0) {
			s->canon = i;
			break;
		}
	}
	return (long)sc->nsec++;
}

/* "key = value" line (a scratch copy) in section cur; 1 when kept for iniparser. */
static int scan_key(struct scan *sc, char *buf, long cur, int line, struct diags *d)
{
	char *eq = strchr(buf, '=');
	if (eq)
		*eq = '\0';
	char *key = trim(buf);
	if (!eq || *key == '\0') {
		diags_add(d, sc->file, line, "expected 'key = value', a [section] or a comment");
		return 0;
	}
	char shown[80];
	pol_shown(key, shown, sizeof(shown));
	if (cur == -2) {
		diags_add(d, sc->file, line, "key '%s' outside of any section", shown);
		return 0;
	}
	if (cur < 0)
		return 0; /* in a refused section: reported once, at its header */
	const struct scan_sec *s = &sc->sec[cur];
	int k = pol_key_find(s->kind, key);
	if (k < 0) {
		if (s->kind == SEC_HOST)
			diags_add(d, sc->file, line, "unknown key '%s' in [host]", shown);
		else
			diags_add(d, sc->file, line, "unknown key '%s' in [service %s]", shown,
				  s->name);
		return 0;
	}
	int *first = &sc->sec[s->canon].keyline[k];
	if (*first) {
		diags_add(d, sc->file, line, "duplicate key '%s' (first set at line %d)",
			  pol_key_name(k), *first);
		return 0;
	}
	if (!sc->kv) {
		/* each section holds each key at most once */
		sc->kv = calloc((size_t)MAX_SECTIONS * POL_NKEYS, sizeof(*sc->kv));
		if (!sc->kv)
			return -ENOMEM;
	}
	*first = line;
	sc->kv[sc->nkv++] = (struct scan_key){ .sec = (size_t)cur, .key = k, .line = line };
	return 1;
}

/* Walk every line; report every problem; build sc->clean. */
static int scan_text(struct scan *sc, const char *text, struct diags *d)
{
	size_t len = strlen(text);
	sc->clean = malloc(len + 2);
	if (!sc->clean)
		return -ENOMEM;
	sc->clean[0] = '\0';
	long cur = -2; /* -2: before any section, -1: in a refused one */
	int line = 0;
	char buf[MAX_LINE + 1], work[MAX_LINE + 1];
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *next = nl ? nl + 1 : p + n;
		line++;
		if (n > MAX_LINE) {
			diags_add(d, sc->file, line, "line too long (%zu characters, at most %d)", n,
				  MAX_LINE);
			emit(sc, "", 0);
			p = next;
			continue;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		p = next;
		char *l = trim(buf);
		size_t ll = strlen(l);
		int keep = 0;
		if (ll == 0 || l[0] == ';' || l[0] == '#') {
			keep = 0; /* blank or comment: iniparser need not see it */
		} else if (l[ll - 1] == '\\') {
			/* iniparser would glue the next line on: not supported */
			diags_add(d, sc->file, line, "line continuation ('\\' at end of line) is not supported");
			if (l[0] == '[')
				cur = -1;
		} else if (l[0] == '[') {
			if (l[ll - 1] != ']') {
				diags_add(d, sc->file, line, "malformed section header (expected "
					  "[host] or [service NAME] alone on its line)");
				cur = -1;
			} else {
				memcpy(work, l, ll + 1);
				cur = scan_section(sc, work, line, d);
				if (cur == -ENOMEM)
					return -ENOMEM;
				keep = cur >= 0;
			}
		} else {
			memcpy(work, l, ll + 1);
			keep = scan_key(sc, work, cur, line, d);
			if (keep < 0)
				return keep;
		}
		if (keep)
			emit(sc, l, ll);
		else
			emit(sc, "", 0);
	}
	return 0;
}

/* ---- iniparser bridge ---- */

/* iniparser prints to stderr by default; src/ never prints, and the scanner
 * has already reported every problem with its line. */
static int ini_silent(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

static dictionary *ini_load_text(const char *text, size_t len, int *err)
{
	int fd = memfd_create("overcommitd-policy", MFD_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*err = w < 0 ? -errno : -EIO;
			close(fd);
			return NULL;
		}
		off += (size_t)w;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	iniparser_set_error_callback(ini_silent);
	dictionary *dict = iniparser_load(path);
	close(fd);
	if (!dict)
		*err = -EIO;
	return dict;
}

/* The scanner and iniparser must agree on every kept section's key count;
 * a mismatch would mean a value was read from the wrong line. */
static int ini_cross_check(const struct scan *sc, const dictionary *dict)
{
	for (size_t i = 0; i < sc->nsec; i++) {
		bool first = true;
		for (size_t j = 0; j < i; j++)
			if (strcmp(sc->sec[j].ini, sc->sec[i].ini) == 0)
				first = false;
		if (!first)
			continue;
		int mine = 0;
		for (size_t k = 0; k < sc->nkv; k++)
			if (strcmp(sc->sec[sc->kv[k].sec].ini, sc->sec[i].ini) == 0)
				mine++;
		if (iniparser_getsecnkeys(dict, sc->sec[i].ini) != mine)
			return -EPROTO;
	}
	return 0;
}

static int apply_values(struct scan *sc, struct policy *p, const char *file, struct diags *d)
{
	for (size_t i = 0; i < sc->nsec; i++) {
		struct scan_sec *s = &sc->sec[i];
		if (s->kind != SEC_SERVICE)
			continue;
		int idx = service_get(p, s->name, (struct origin){ file, s->line });
		if (idx == -E2BIG) {
			diags_add(d, file, s->line, "too many services (at most %d)", MAX_SERVICES);
			continue;
		}
		if (idx < 0)
			return idx;
		s->svc = idx;
	}
	if (sc->nkv == 0)
		return 0;

	int err = 0;
	dictionary *dict = ini_load_text(sc->clean, sc->clean_len, &err);
	if (!dict) {
		diags_add(d, file, 0, "internal error: iniparser could not read the checked text (%s)",
			  strerror(-err));
		return 0;
	}
	if (ini_cross_check(sc, dict) < 0) {
		diags_add(d, file, 0, "internal error: iniparser and the line scanner disagree");
		iniparser_freedict(dict);
		return 0;
	}
	for (size_t i = 0; i < sc->nkv; i++) {
		const struct scan_key *kv = &sc->kv[i];
		const struct scan_sec *s = &sc->sec[kv->sec];
		char lookup[2 * MAX_LINE + 2];
		snprintf(lookup, sizeof(lookup), "%s:%s", s->ini, pol_key_name(kv->key));
		const char *val = iniparser_getstring(dict, lookup, NULL);
		struct origin at = { file, kv->line };
		if (!val) {
			diags_add(d, file, kv->line, "internal error: iniparser lost key '%s'",
				  pol_key_name(kv->key));
			continue;
		}
		if (s->kind == SEC_SERVICE && s->svc < 0)
			continue; /* refused above */
		struct pol_service *svc = s->kind == SEC_SERVICE ? &p->svc[s->svc] : NULL;
		if (pol_key_apply(kv->key, val, at, &p->host, svc, d) == -ENOMEM) {
			iniparser_freedict(dict);
			return -ENOMEM;
		}
	}
	iniparser_freedict(dict);
	return 0;
}

/* Line of a message this file produced: "FILE:LINE: ..." -> LINE, else 0. */
static unsigned long msg_line(const char *msg, const char *file, size_t flen)
{
	if (strncmp(msg, file, flen) != 0 || msg[flen] != ':')
		return 0;
	const char *s = msg + flen + 1;
	if (!isdigit((unsigned char)*s))
		return 0;
	return strtoul(s, NULL, 10);
}

struct line_msg {
	unsigned long line;
	size_t idx;
	const char *msg;
};

static int line_msg_cmp(const void *a, const void *b)
{
	const struct line_msg *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The scanner reports before the values are parsed: hand the file's
 * problems on in line order, as a reader of the file expects them. */
static void move_sorted(struct diags *from, const char *file, struct diags *to)
{
	struct line_msg *v = from->n ? calloc(from->n, sizeof(*v)) : NULL;
	size_t flen = strlen(file);
	for (size_t i = 0; v && i < from->n; i++) {
		v[i].line = msg_line(from->msg[i], file, flen);
		v[i].idx = i;
		v[i].msg = from->msg[i];
	}
	if (v)
		qsort(v, from->n, sizeof(*v), line_msg_cmp);
	for (size_t i = 0; i < from->n; i++)
		diags_add(to, NULL, 0, "%s", v ? v[i].msg : from->msg[i]);
	free(v);
	diags_free(from);
}

int policy_parse_buffer(const char *name, const char *text, struct policy *p, struct diags *d)
{
	const char *file = intern_file(p, name);
	if (!file) {
		diags_add(d, name, 0, "out of memory");
		return -ENOMEM;
	}
	if (strlen(text) > MAX_FILE) {
		diags_add(d, file, 0, "too large (more than %d bytes)", MAX_FILE);
		return -EINVAL;
	}
	struct diags local;
	diags_init(&local);
	struct scan sc = { .file = file };
	int rc = scan_text(&sc, text, &local);
	if (rc == 0)
		rc = apply_values(&sc, p, file, &local);
	scan_free(&sc);
	if (rc < 0)
		diags_add(&local, file, 0, "%s", strerror(-rc));
	size_t n = local.n;
	move_sorted(&local, file, d);
	if (rc < 0)
		return rc;
	return n ? -EINVAL : 0;
}

/* ---- checks across keys ---- */

static const char *spec_str(const struct size_spec *s, char *buf, size_t size)
{
	if (s->kind == SZ_PCT && s->bp % 100 == 0)
		snprintf(buf, size, "%u%%", s->bp / 100);
	else if (s->kind == SZ_PCT)
		snprintf(buf, size, "%u.%02u%%", s->bp / 100, s->bp % 100);
	else
		fmt_kb(s->kb, buf, size);
	return buf;
}

/* Both absolute or both percentages: comparable without MemTotal. */
static bool spec_above(const struct size_spec *a, const struct size_spec *b)
{
	if (a->kind == SZ_KB && b->kind == SZ_KB)
		return a->kb > b->kb;
	if (a->kind == SZ_PCT && b->kind == SZ_PCT)
		return a->bp > b->bp;
	return false;
}

/* Report at the origin that is in a file (the one the operator wrote). */
static void spec_order(const struct size_spec *lo, const char *lo_name, const struct size_spec *hi,
		       const char *hi_name, struct diags *d)
{
	if (!spec_above(lo, hi))
		return;
	char a[32], b[32], oa[300], ob[300];
	const struct origin *at = lo->at.file ? &lo->at : &hi->at;
	diags_add(d, at->file, at->line, "%s %s (%s) is above %s %s (%s)", lo_name,
		  spec_str(lo, a, sizeof(a)), origin_fmt(&lo->at, oa, sizeof(oa)), hi_name,
		  spec_str(hi, b, sizeof(b)), origin_fmt(&hi->at, ob, sizeof(ob)));
}

static void check_service(const struct pol_service *s, struct diags *d, struct diags *notes)
{
	if (!s->match_comm.v && !s->match_exe.v && !s->match_unit.v && !s->match_user.v &&
	    !s->match_cmdline.v)
		diags_add(d, s->at.file, s->at.line,
			  "[service %s] has no match_comm, match_exe, match_unit, match_user or "
			  "match_cmdline: it would match nothing", s->name);
	else if (!s->match_exe.v && !s->match_unit.v && !s->match_user.v)
		diags_add(notes, s->at.file, s->at.line,
			  "warning: [service %s] is matched by %s alone: any system user's process "
			  "of that name joins it (a login user's never does, whatever its name); "
			  "add match_user, match_unit or match_exe", s->name,
			  s->match_comm.v ? "match_comm" : "match_cmdline");
	spec_order(&s->memory_high_min, "memory_high_min", &s->memory_high_max, "memory_high_max",
		   d);
	spec_order(&s->memory_high, "memory_high", &s->memory_max, "memory_max", d);
}

void policy_finish(struct policy *p, struct diags *d)
{
	const struct pol_host *h = &p->host;
	if (h->commit_limit.kind != SZ_UNSET && h->commit_ratio.set) {
		char o[300];
		diags_add(d, h->commit_limit.at.file, h->commit_limit.at.line,
			  "commit_limit and commit_ratio exclude each other (commit_ratio at %s)",
			  origin_fmt(&h->commit_ratio.at, o, sizeof(o)));
	}
	for (size_t i = 0; i < p->nsvc; i++)
		check_service(&p->svc[i], d, &p->notes);
}

/* ---- loading files ---- */

struct pfile {
	char *path;
	const char *base;
	size_t order;  /* index of the path argument it came from */
};

static int pfile_cmp(const void *a, const void *b)
{
	const struct pfile *x = a, *y = b;
	int c = strcmp(x->base, y->base);
	if (c)
		return c;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->path, y->path);
}

struct pfiles {
	struct pfile *f;
	size_t n;
};

static int pfiles_add(struct pfiles *fl, const char *path, size_t order)
{
	if (fl->n >= MAX_FILES)
		return -E2BIG;
	struct pfile *v = realloc(fl->f, (fl->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	fl->f = v;
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	const char *slash = strrchr(copy, '/');
	struct pfile *f = &fl->f[fl->n++];
	f->path = copy;
	f->base = slash ? slash + 1 : copy;
	f->order = order;
	return 0;
}

static bool is_ini_name(const char *n)
{
	size_t len = strlen(n);
	/* hidden files are editor and package-manager leftovers */
	return n[0] != '.' && len > 4 && strcmp(n + len - 4, ".ini") == 0;
}

static int collect_dir(const char *dir, size_t order, struct pfiles *fl, struct diags *d)
{
	DIR *dp = opendir(dir);
	if (!dp) {
		diags_add(d, dir, 0, "%s", strerror(errno));
		return 0;
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(dp)) != NULL) {
		if (!is_ini_name(de->d_name))
			continue;
		char path[PATH_BUF];
		if (path_join(path, sizeof(path), dir, de->d_name) < 0) {
			diags_add(d, dir, 0, "%s: path too long", de->d_name);
			continue;
		}
		rc = pfiles_add(fl, path, order);
	}
	closedir(dp);
	return rc;
}

static int collect(const char *const *paths, size_t npaths, bool check_owner, struct pfiles *fl,
		   struct diags *d)
{
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0) {
			diags_add(d, paths[i], 0, "%s", strerror(errno));
			continue;
		}
		int rc = 0;
		/* a directory someone else can write is not read at all */
		if (S_ISDIR(st.st_mode)) {
			if (!check_owner || policy_trust_dir(paths[i], d) == 0)
				rc = collect_dir(paths[i], i, fl, d);
		} else if (S_ISREG(st.st_mode)) {
			if (!check_owner || policy_trust_parent(paths[i], d) == 0)
				rc = pfiles_add(fl, paths[i], i);
		} else {
			diags_add(d, paths[i], 0, "not a file or directory");
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Open once, check what was opened (fstat: no TOCTOU), read it. */
static char *read_policy_file(const char *path, bool check_owner, struct diags *d)
{
	/* never followed: a link would let its owner point root at any file */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP) {
		diags_add(d, path, 0, "refused: a symbolic link (policy files are not followed)");
		return NULL;
	}
	if (fd < 0) {
		diags_add(d, path, 0, "%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	bool ok = true;
	if (fstat(fd, &st) < 0) {
		diags_add(d, path, 0, "%s", strerror(errno));
		ok = false;
	} else if (!S_ISREG(st.st_mode)) {
		diags_add(d, path, 0, "not a regular file");
		ok = false;
	} else if (check_owner) {
		/* it steers privileged writes (DESIGN §7.7) */
		ok = policy_trust_stat(path, &st, false, d);
	}
	char *buf = NULL;
	size_t len = 0;
	if (ok) {
		buf = malloc(MAX_FILE + 2);
		if (!buf)
			ok = false;
	}
	while (ok) {
		ssize_t r = read(fd, buf + len, MAX_FILE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diags_add(d, path, 0, "%s", strerror(errno));
			ok = false;
		} else if (r == 0) {
			break;
		} else if ((len += (size_t)r) > MAX_FILE) {
			diags_add(d, path, 0, "too large (more than %d bytes)", MAX_FILE);
			ok = false;
		}
	}
	close(fd);
	if (ok) {
		buf[len] = '\0';
		if (memchr(buf, '\0', len)) {
			diags_add(d, path, 0, "contains a NUL byte: not a text file");
			ok = false;
		}
	}
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void no_files(const char *const *paths, size_t npaths, struct diags *d)
{
	char list[1024] = "";
	size_t used = 0;
	for (size_t i = 0; i < npaths && used < sizeof(list); i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", paths[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	diags_add(d, NULL, 0, "no policy files found in %s", npaths ? list : "(no path given)");
}

int policy_load(const char *const *paths, size_t npaths, bool check_owner, struct policy *p,
		struct diags *d)
{
	size_t n0 = d->n;
	struct pfiles fl = { NULL, 0 };
	policy_init(p);
	int rc = collect(paths, npaths, check_owner, &fl, d);
	if (rc < 0)
		diags_add(d, NULL, 0, "policy files: %s", strerror(-rc));
	else if (fl.n == 0 && d->n == n0)
		no_files(paths, npaths, d);
	if (fl.n > 1)
		qsort(fl.f, fl.n, sizeof(*fl.f), pfile_cmp);
	for (size_t i = 0; i < fl.n; i++) {
		char *text = read_policy_file(fl.f[i].path, check_owner, d);
		if (text)
			policy_parse_buffer(fl.f[i].path, text, p, d);
		free(text);
	}
	for (size_t i = 0; i < fl.n; i++)
		free(fl.f[i].path);
	free(fl.f);
	policy_finish(p, d);
	if (d->n > n0) {
		policy_free(p);
		return -EINVAL;
	}
	policy_resolve_exe(p);
	return 0;
}

void policy_resolve_exe(struct policy *p)
{
	for (size_t i = 0; i < p->nsvc; i++) {
		struct pol_service *s = &p->svc[i];
		if (!s->match_exe.v)
			continue;
		char *real = realpath(s->match_exe.v, NULL);
		if (!real) {
			diags_add(&p->notes, s->match_exe.at.file, s->match_exe.at.line,
				  "warning: match_exe %s: %s on this host; it is compared with "
				  "/proc/PID/exe as written", s->match_exe.v, strerror(errno));
			continue;
		}
		if (strcmp(real, s->match_exe.v) == 0) {
			free(real);
			continue;
		}
		diags_add(&p->notes, s->match_exe.at.file, s->match_exe.at.line,
			  "note: match_exe %s resolves to %s (the kernel shows that in "
			  "/proc/PID/exe): processes running either path match", s->match_exe.v,
			  real);
		free(s->match_exe_target);
		s->match_exe_target = real;
	}
}
