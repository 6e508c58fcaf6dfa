/* policy_value.c - known policy keys and the checked parsing of their values.
 * Every value arrives as a string (iniparser_getstring) and is parsed here
 * with the range-checked helpers of util.h, never with iniparser's getint /
 * getboolean (DESIGN §8). */
#include "policy_value.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escape.h"
#include "util.h"

enum val_kind { V_PREF, V_BOOL, V_INT, V_SIZE, V_STR };

/* accepted forms of a size-like value */
enum {
	ACC_KB = 1u << 0,
	ACC_PCT = 1u << 1,
	ACC_AUTO = 1u << 2,
	ACC_OFF = 1u << 3,
	ACC_NONZERO = 1u << 4, /* a size (or percentage) of 0 is refused */
};

typedef int (*str_check)(const char *v, const char **why);

struct key_def {
	const char *name;
	enum pol_section sect;
	enum val_kind kind;
	unsigned accept;     /* V_SIZE */
	int64_t min, max;    /* V_INT range; V_SIZE percent range in basis points */
	size_t off;          /* offset of the value in pol_host / pol_service */
	size_t off_at;       /* V_PREF, V_BOOL: offset of their struct origin */
	str_check check;     /* V_STR */
	const char *expect;  /* what a good value looks like, for messages */
};

static int check_comm(const char *v, const char **why);
static int check_exe(const char *v, const char **why);
static int check_unit(const char *v, const char **why);
static int check_user(const char *v, const char **why);
static int check_cmdline(const char *v, const char **why);
static int check_cgroup(const char *v, const char **why);
static int check_requires(const char *v, const char **why);

#define H(f) offsetof(struct pol_host, f)
#define S(f) offsetof(struct pol_service, f)

static const struct key_def keys[] = {
	{ "overcommit", SEC_HOST, V_PREF, 0, 0, 0, H(overcommit), H(overcommit_at), NULL,
	  "auto, strict, heuristic or always" },
	{ "commit_limit", SEC_HOST, V_SIZE, ACC_KB | ACC_PCT | ACC_NONZERO, 1, 10000,
	  H(commit_limit), 0, NULL,
	  "a size above 0 like 12G or a percentage of MemTotal up to 100%" },
	{ "commit_ratio", SEC_HOST, V_INT, 0, 0, 100, H(commit_ratio), 0, NULL,
	  "an integer from 0 to 100" },
	{ "user_reserve", SEC_HOST, V_SIZE, ACC_KB | ACC_PCT, 0, 10000, H(user_reserve), 0, NULL,
	  "a size like 128M or a percentage of MemTotal up to 100%" },
	{ "admin_reserve", SEC_HOST, V_SIZE, ACC_KB | ACC_PCT, 0, 10000, H(admin_reserve), 0, NULL,
	  "a size like 8M or a percentage of MemTotal up to 100%" },
	{ "fork_headroom", SEC_HOST, V_SIZE, ACC_KB | ACC_PCT, 10000, 100000, H(fork_headroom), 0,
	  NULL, "a percentage from 100% to 1000% or a size like 2G" },
	{ "enforce", SEC_HOST, V_BOOL, 0, 0, 0, H(enforce), H(enforce_at), NULL,
	  "yes or no" },
	{ "interval", SEC_HOST, V_INT, 0, 1, 3600, H(interval), 0, NULL,
	  "seconds, an integer from 1 to 3600" },
	{ "reapply_on_drift", SEC_HOST, V_BOOL, 0, 0, 0, H(reapply_on_drift),
	  H(reapply_on_drift_at), NULL, "yes or no" },
	{ "restore_on_exit", SEC_HOST, V_BOOL, 0, 0, 0, H(restore_on_exit), H(restore_on_exit_at),
	  NULL, "yes or no" },
	{ "concurrent_forks", SEC_HOST, V_INT, 0, 1, 64, H(concurrent_forks), 0, NULL,
	  "an integer from 1 to 64" },
	{ "cgroup_favordynmods", SEC_HOST, V_BOOL, 0, 0, 0, H(cgroup_favordynmods),
	  H(cgroup_favordynmods_at), NULL, "yes or no" },

	{ "match_comm", SEC_SERVICE, V_STR, 0, 0, 0, S(match_comm), 0, check_comm,
	  "a process name of 1 to 15 characters" },
	{ "match_exe", SEC_SERVICE, V_STR, 0, 0, 0, S(match_exe), 0, check_exe,
	  "an absolute path" },
	{ "match_unit", SEC_SERVICE, V_STR, 0, 0, 0, S(match_unit), 0, check_unit,
	  "a systemd unit name ending in .service or .scope" },
	{ "match_user", SEC_SERVICE, V_STR, 0, 0, 0, S(match_user), 0, check_user,
	  "a user name or a numeric uid" },
	{ "match_cmdline", SEC_SERVICE, V_STR, 0, 0, 0, S(match_cmdline), 0, check_cmdline,
	  "a non-empty glob" },
	{ "oom_score_adj", SEC_SERVICE, V_INT, 0, -1000, 1000, S(oom_score_adj), 0, NULL,
	  "an integer from -1000 to 1000" },
	{ "child_oom_score_adj", SEC_SERVICE, V_INT, 0, -1000, 1000, S(child_oom_score_adj), 0,
	  NULL, "an integer from -1000 to 1000" },
	{ "memory_high", SEC_SERVICE, V_SIZE, ACC_AUTO | ACC_OFF | ACC_KB | ACC_PCT | ACC_NONZERO,
	  1, 10000, S(memory_high), 0, NULL,
	  "auto, off, a size above 0 like 4G or a percentage of MemTotal up to 100%" },
	{ "memory_high_min", SEC_SERVICE, V_SIZE, ACC_KB | ACC_PCT, 0, 10000, S(memory_high_min),
	  0, NULL, "a size like 256M or a percentage of MemTotal up to 100%" },
	{ "memory_high_max", SEC_SERVICE, V_SIZE, ACC_KB | ACC_PCT | ACC_NONZERO, 1, 10000,
	  S(memory_high_max), 0, NULL,
	  "a size above 0 like 8G or a percentage of MemTotal up to 100%" },
	{ "memory_max", SEC_SERVICE, V_SIZE, ACC_OFF | ACC_AUTO | ACC_KB | ACC_PCT | ACC_NONZERO,
	  1, 10000, S(memory_max), 0, NULL,
	  "off, auto, a size above 0 like 8G or a percentage of MemTotal up to 100%" },
	{ "child_stop_signal", SEC_SERVICE, V_INT, 0, 0, 64, S(child_stop_signal), 0, NULL,
	  "a signal number from 1 to 64, or 0 to never stop a fork child" },
	{ "cow_margin", SEC_SERVICE, V_SIZE, ACC_PCT, 0, 100000, S(cow_margin), 0, NULL,
	  "a percentage from 0% to 1000%" },
	{ "cgroup", SEC_SERVICE, V_STR, 0, 0, 0, S(cgroup), 0, check_cgroup,
	  "a relative cgroup path like overcommitd/redis" },
	{ "requires_overcommit", SEC_SERVICE, V_STR, 0, 0, 0, S(requires_overcommit), 0,
	  check_requires, "heuristic or always" },
};

#undef H
#undef S

_Static_assert(ARRAY_SIZE(keys) == POL_NKEYS, "POL_NKEYS must match the key table");

int pol_key_find(enum pol_section s, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].sect == s && strcasecmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *pol_key_name(int key)
{
	if (key < 0 || (size_t)key >= ARRAY_SIZE(keys))
		return "?";
	return keys[key].name;
}

/* ---- string checks: 0 ok, else -EINVAL with *why set ---- */

static bool has_ctrl(const char *v)
{
	for (; *v; v++)
		if (iscntrl((unsigned char)*v))
			return true;
	return false;
}

static int check_common(const char *v, size_t max, const char **why)
{
	if (*v == '\0') {
		*why = "empty value";
		return -EINVAL;
	}
	if (strlen(v) > max) {
		*why = "too long";
		return -EINVAL;
	}
	if (has_ctrl(v)) {
		*why = "control characters are not allowed";
		return -EINVAL;
	}
	return 0;
}

static int check_comm(const char *v, const char **why)
{
	/* the kernel keeps TASK_COMM_LEN - 1 = 15 characters of the name */
	if (check_common(v, 15, why) < 0) {
		if (strlen(v) > 15)
			*why = "longer than 15 characters, the kernel truncates comm; use match_exe or match_cmdline";
		return -EINVAL;
	}
	return 0;
}

static int check_exe(const char *v, const char **why)
{
	if (check_common(v, 4095, why) < 0)
		return -EINVAL;
	if (v[0] != '/') {
		*why = "must be an absolute path";
		return -EINVAL;
	}
	return 0;
}

static int check_unit(const char *v, const char **why)
{
	if (check_common(v, 255, why) < 0)
		return -EINVAL;
	for (const char *c = v; *c; c++) {
		/* systemd's unit name alphabet */
		if (!isalnum((unsigned char)*c) && !strchr(":-_.\\@", *c)) {
			*why = "not a systemd unit name";
			return -EINVAL;
		}
	}
	size_t n = strlen(v);
	static const char *const suffix[] = { ".service", ".scope" };
	for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
		size_t s = strlen(suffix[i]);
		if (n > s && strcmp(v + n - s, suffix[i]) == 0)
			return 0;
	}
	*why = "must end in .service or .scope";
	return -EINVAL;
}

static int check_user(const char *v, const char **why)
{
	if (check_common(v, 32, why) < 0)
		return -EINVAL;
	if (isdigit((unsigned char)v[0])) {
		uint64_t uid;
		/* (uid_t)-1 is "no uid" for the kernel */
		if (parse_u64(v, 4294967294u, &uid) < 0) {
			*why = "not a valid uid";
			return -EINVAL;
		}
		return 0;
	}
	/* not resolved here: the user may only exist on the target host */
	for (const char *c = v; *c; c++) {
		bool ok = isalnum((unsigned char)*c) || *c == '_' || *c == '.' ||
			  (*c == '-' && c != v) || (*c == '$' && c[1] == '\0');
		if (!ok) {
			*why = "not a valid user name";
			return -EINVAL;
		}
	}
	return 0;
}

/* match_cmdline is a glob over the whole command line, arguments joined by
 * spaces: a bare word without a wildcard, a space or a '/' ("gunicorn")
 * would only match a process started as that word with no arguments at all
 * (before this check such a value silently matched nothing).  Refused
 * with the fix. */
static int check_cmdline(const char *v, const char **why)
{
	if (check_common(v, 4095, why) < 0)
		return -EINVAL;
	if (!strpbrk(v, "*?[ /")) {
		*why = "a glob over the whole command line (arguments joined by spaces): a bare word "
		       "matches only a process started as that word with no arguments; write "
		       "'*word*' or use match_exe";
		return -EINVAL;
	}
	return 0;
}

static int check_requires(const char *v, const char **why)
{
	if (strcmp(v, "heuristic") == 0 || strcmp(v, "always") == 0)
		return 0;
	*why = "not a mode it can require";
	return -EINVAL;
}

static int check_cgroup(const char *v, const char **why)
{
	if (check_common(v, 255, why) < 0)
		return -EINVAL;
	if (v[0] == '/') {
		*why = "must be relative (no leading '/')";
		return -EINVAL;
	}
	for (const char *c = v; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("_.-/", *c)) {
			*why = "only A-Z a-z 0-9 _ . - / are allowed";
			return -EINVAL;
		}
	}
	/* each component: non-empty, not "." or ".." */
	const char *c = v;
	for (;;) {
		size_t len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.')) {
			*why = "empty, '.' or '..' path component";
			return -EINVAL;
		}
		if (c[len] == '\0')
			return 0;
		c += len + 1;
	}
}

/* ---- value parsing ---- */

/* Copy of v without surrounding whitespace, for keyword comparison. */
static void trimmed(const char *v, char *buf, size_t size)
{
	while (isspace((unsigned char)*v))
		v++;
	size_t n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(buf, v, n);
	buf[n] = '\0';
}

static int parse_pref(const char *v, enum oc_pref *out)
{
	static const enum oc_pref all[] = { OC_AUTO, OC_STRICT, OC_HEURISTIC, OC_ALWAYS };
	char w[16];
	trimmed(v, w, sizeof(w));
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (strcasecmp(w, oc_pref_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_spec(const struct key_def *k, const char *v, struct size_spec *out)
{
	char w[16];
	trimmed(v, w, sizeof(w));
	if ((k->accept & ACC_AUTO) && strcasecmp(w, "auto") == 0) {
		out->kind = SZ_AUTO;
		return 0;
	}
	if ((k->accept & ACC_OFF) && strcasecmp(w, "off") == 0) {
		out->kind = SZ_OFF;
		return 0;
	}
	if (strchr(v, '%')) {
		uint32_t bp;
		if (!(k->accept & ACC_PCT))
			return -EINVAL;
		int rc = parse_percent_bp(v, (uint32_t)k->max, &bp);
		if (rc < 0)
			return rc;
		if (bp < (uint64_t)k->min)
			return -ERANGE;
		out->kind = SZ_PCT;
		out->bp = bp;
		return 0;
	}
	if (!(k->accept & ACC_KB))
		return -EINVAL;
	uint64_t kb;
	int rc = parse_size_kb(v, &kb);
	if (rc < 0)
		return rc;
	if ((k->accept & ACC_NONZERO) && kb == 0)
		return -ERANGE;
	out->kind = SZ_KB;
	out->kb = kb;
	return 0;
}

const char *pol_shown(const char *v, char *buf, size_t size)
{
	return esc_str(v, buf, size);
}

static void bad_value(struct diags *d, struct origin at, const struct key_def *k,
		      const char *msg, const char *v)
{
	char buf[80];
	diags_add(d, at.file, at.line, "%s: %s (got '%s')", k->name, msg,
		  pol_shown(v, buf, sizeof(buf)));
}

/* A string key: checked by its own rule, then copied. */
static int set_str(const struct key_def *k, const char *val, struct origin at, struct pol_str *ps,
		   const char *ex, struct diags *d)
{
	const char *why = NULL;
	if (k->check(val, &why) < 0) {
		bad_value(d, at, k, why ? why : ex, val);
		return -EINVAL;
	}
	char *copy = strdup(val);
	if (!copy) {
		diags_add(d, at.file, at.line, "%s: out of memory", k->name);
		return -ENOMEM;
	}
	free(ps->v);
	ps->v = copy;
	ps->at = at;
	return 0;
}

int pol_key_apply(int key, const char *val, struct origin at, struct pol_host *h,
		  struct pol_service *svc, struct diags *d)
{
	if (key < 0 || (size_t)key >= ARRAY_SIZE(keys))
		return -EINVAL;
	const struct key_def *k = &keys[key];
	char *base = k->sect == SEC_HOST ? (char *)h : (char *)svc;
	if (!base)
		return -EINVAL;
	char ex[160];
	snprintf(ex, sizeof(ex), "expected %s", k->expect);
	if (k->kind != V_STR && val[strspn(val, " \t")] == '\0') {
		bad_value(d, at, k, "empty value", val);
		return -EINVAL;
	}

	switch (k->kind) {
	case V_PREF: {
		enum oc_pref m;
		if (parse_pref(val, &m) < 0)
			break;
		*(enum oc_pref *)(void *)(base + k->off) = m;
		*(struct origin *)(void *)(base + k->off_at) = at;
		return 0;
	}
	case V_BOOL: {
		bool b;
		if (parse_bool(val, &b) < 0)
			break;
		*(bool *)(void *)(base + k->off) = b;
		*(struct origin *)(void *)(base + k->off_at) = at;
		return 0;
	}
	case V_INT: {
		int64_t i;
		if (parse_i64(val, k->min, k->max, &i) < 0)
			break;
		struct pol_int *pi = (struct pol_int *)(void *)(base + k->off);
		pi->set = true;
		pi->v = i;
		pi->at = at;
		return 0;
	}
	case V_SIZE: {
		struct size_spec s = { 0 };
		if (parse_spec(k, val, &s) < 0)
			break;
		s.at = at;
		*(struct size_spec *)(void *)(base + k->off) = s;
		return 0;
	}
	case V_STR:
		return set_str(k, val, at, (struct pol_str *)(void *)(base + k->off), ex, d);
	}
	bad_value(d, at, k, ex, val);
	return -EINVAL;
}
