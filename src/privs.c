/* privs.c - drop to the minimal capability set with libcap (see privs.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "privs.h"
#include "util.h"

#define CAP_BITS 64

/* Start of the value of the line "key:...", or NULL. */
static const char *status_field(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *line = buf;
	while (*line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			return line + klen + 1;
		const char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
	return NULL;
}

/* The hex mask of a Cap* line (at most 16 digits), or -EINVAL. */
static int status_hex(const char *buf, const char *key, uint64_t *out)
{
	const char *p = status_field(buf, key);
	if (!p)
		return -EINVAL;
	while (*p == ' ' || *p == '\t')
		p++;
	uint64_t v = 0;
	int digits = 0;
	for (; *p && *p != '\n'; p++, digits++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -EINVAL;
		if (digits >= 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (digits == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A small decimal field ("NoNewPrivs", "Threads"); absent: -ENOENT. */
static int status_dec(const char *buf, const char *key, int *out)
{
	const char *p = status_field(buf, key);
	if (!p)
		return -ENOENT;
	char val[32];
	size_t n = strcspn(p, "\n");
	if (n >= sizeof(val))
		return -EINVAL;
	memcpy(val, p, n);
	val[n] = '\0';
	int64_t v;
	int r = parse_i64(val, 0, 1 << 30, &v);
	if (r < 0)
		return r;
	*out = (int)v;
	return 0;
}

int privs_parse_status(const char *buf, struct privs_sets *out)
{
	struct privs_sets s = { .nnp = 0, .threads = 1 };
	int r;
	if ((r = status_hex(buf, "CapInh", &s.inh)) < 0 || (r = status_hex(buf, "CapPrm", &s.prm)) < 0 ||
	    (r = status_hex(buf, "CapEff", &s.eff)) < 0 || (r = status_hex(buf, "CapBnd", &s.bnd)) < 0)
		return r;
	/* CapAmb (4.3+), NoNewPrivs (4.10+) may be absent on old kernels */
	if (status_hex(buf, "CapAmb", &s.amb) < 0)
		s.amb = 0;
	r = status_dec(buf, "NoNewPrivs", &s.nnp);
	if (r < 0 && r != -ENOENT)
		return r;
	r = status_dec(buf, "Threads", &s.threads);
	if (r < 0 && r != -ENOENT)
		return r;
	*out = s;
	return 0;
}

int privs_read_self(struct privs_sets *out)
{
	char buf[8192];
	ssize_t n = read_file("/proc/self/status", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return privs_parse_status(buf, out);
}

/* Shrink the bounding set to keep; CAP_SETPCAP must be effective for it. */
static int drop_bounding(uint64_t keep, uint64_t bnd, cap_t cur)
{
	if ((bnd & ~keep) == 0)
		return 0;
	cap_flag_value_t pcap = CAP_CLEAR;
	if (cap_get_flag(cur, CAP_SETPCAP, CAP_PERMITTED, &pcap) < 0)
		return -errno;
	if (pcap != CAP_SET)
		return -EPERM;
	cap_value_t v = CAP_SETPCAP;
	if (cap_set_flag(cur, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0 || cap_set_proc(cur) < 0)
		return -errno;
	for (int c = 0; c < CAP_BITS; c++) {
		if (!(bnd & PRIVS_BIT(c)) || (keep & PRIVS_BIT(c)))
			continue;
		if (cap_drop_bound((cap_value_t)c) < 0)
			return -errno;
	}
	return 0;
}

/* permitted = effective = keep; inheritable empty. */
static int set_final(uint64_t keep)
{
	cap_t want = cap_init();
	if (!want)
		return -errno;
	int r = 0;
	for (int c = 0; c < CAP_BITS && r == 0; c++) {
		if (!(keep & PRIVS_BIT(c)))
			continue;
		cap_value_t v = c;
		if (cap_set_flag(want, CAP_PERMITTED, 1, &v, CAP_SET) < 0 ||
		    cap_set_flag(want, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0)
			r = -errno;
	}
	if (r == 0 && cap_set_proc(want) < 0)
		r = -errno;
	cap_free(want);
	return r;
}

int privs_drop_to(uint64_t want)
{
	struct privs_sets s;
	int r = privs_read_self(&s);
	if (r < 0)
		return r;
	/* cap_set_proc and the bounding set act on this thread only */
	if (s.threads > 1)
		return -EBUSY;
	uint64_t keep = want & s.prm;

	cap_t cur = cap_get_proc();
	if (!cur)
		return -errno;
	r = drop_bounding(keep, s.bnd, cur);
	cap_free(cur);
	if (r < 0)
		return r;
	/* EINVAL: a kernel without ambient capabilities has none to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if ((r = set_final(keep)) < 0)
		return r;

	/* trust, but verify: what the kernel now reports */
	if ((r = privs_read_self(&s)) < 0)
		return r;
	if (s.eff != keep || s.prm != keep || s.inh != 0 || s.amb != 0 || (s.bnd & ~keep) != 0 || s.nnp != 1)
		return -EPERM;
	return 0;
}

int privs_drop(void)
{
	return privs_drop_to(PRIVS_KEEP_MASK);
}

int privs_become(unsigned id, uint64_t keep)
{
	/* SETUID/SETGID to switch, SETPCAP to shrink the bounding set after */
	uint64_t during = keep | PRIVS_BIT(CAP_SETGID) | PRIVS_BIT(CAP_SETUID) | PRIVS_BIT(CAP_SETPCAP);
	int r = privs_drop_to(during);
	if (r < 0)
		return r;
	struct privs_sets s;
	if ((r = privs_read_self(&s)) < 0)
		return r;
	if ((s.prm & during) != during)
		return -EPERM; /* without all three the switch cannot be completed */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(id, id, id) < 0 || setresuid(id, id, id) < 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	if ((r = privs_drop_to(keep)) < 0)
		return r;
	if ((r = privs_read_self(&s)) < 0)
		return r;
	return s.prm == keep && getuid() == id && geteuid() == id && getgid() == id ? 0 : -EPERM;
}

/* Append the names of the capabilities in mask, comma separated. */
static int append_names(char *buf, size_t size, size_t *len, uint64_t mask)
{
	const char *sep = "";
	for (int c = 0; c < CAP_BITS; c++) {
		if (!(mask & PRIVS_BIT(c)))
			continue;
		char *name = cap_to_name((cap_value_t)c);
		if (!name)
			return -errno;
		int n = snprintf(buf + *len, size - *len, "%s%s", sep, name);
		cap_free(name);
		if (n < 0 || (size_t)n >= size - *len)
			return -ENAMETOOLONG;
		*len += (size_t)n;
		sep = ",";
	}
	return 0;
}

int privs_missing(char *buf, size_t size)
{
	if (size == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	struct privs_sets s;
	int r = privs_read_self(&s);
	if (r < 0)
		return r;
	uint64_t missing = PRIVS_WANT_MASK & ~s.prm;
	size_t len = 0;
	if ((r = append_names(buf, size, &len, missing)) < 0)
		return r;
	return __builtin_popcountll(missing);
}

int privs_describe(char *buf, size_t size)
{
	if (size == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	struct privs_sets s;
	int r = privs_read_self(&s);
	if (r < 0)
		return r;
	const struct {
		const char *label;
		uint64_t mask;
	} sets[] = {
		{ "eff=", s.eff }, { " prm=", s.prm }, { " inh=", s.inh }, { " amb=", s.amb }, { " bnd=", s.bnd },
	};
	size_t len = 0;
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		int n = snprintf(buf + len, size - len, "%s", sets[i].label);
		if (n < 0 || (size_t)n >= size - len)
			return -ENAMETOOLONG;
		len += (size_t)n;
		if ((r = append_names(buf, size, &len, sets[i].mask)) < 0)
			return r;
	}
	int n = snprintf(buf + len, size - len, " nnp=%d uid=%ld", s.nnp, (long)geteuid());
	if (n < 0 || (size_t)n >= size - len)
		return -ENAMETOOLONG;
	return 0;
}

bool privs_is_root(void)
{
	return geteuid() == 0;
}
