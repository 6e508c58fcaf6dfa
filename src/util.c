/* util.c - strict parsing and checked file I/O (see util.h). */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "textbuf.h"

static const char *skip_ws(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

static bool only_ws(const char *s)
{
	return *skip_ws(s) == '\0';
}

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	s = skip_ws(s);
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (!only_ws(s))
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	s = skip_ws(s);
	bool neg = false;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	uint64_t mag;
	int rc = parse_u64(s, (uint64_t)INT64_MAX + 1, &mag);
	if (rc < 0)
		return rc;
	int64_t v;
	if (neg)
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	else if (mag > (uint64_t)INT64_MAX)
		return -ERANGE;
	else
		v = (int64_t)mag;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_size_kb(const char *s, uint64_t *kb)
{
	s = skip_ws(s);
	char num[32];
	size_t n = 0;
	while (n < sizeof(num) - 1 && isdigit((unsigned char)s[n])) {
		num[n] = s[n];
		n++;
	}
	if (n == 0 || isdigit((unsigned char)s[n]))
		return n == 0 ? -EINVAL : -ERANGE;
	num[n] = '\0';
	const char *suf = s + n;
	unsigned shift = 0; /* in units of 1024 relative to KiB */
	bool bytes = false;
	switch (toupper((unsigned char)*suf)) {
	case 'K': shift = 0; suf++; break;
	case 'M': shift = 1; suf++; break;
	case 'G': shift = 2; suf++; break;
	case 'T': shift = 3; suf++; break;
	case 'B': bytes = true; suf++; break;
	default: break;
	}
	/* allow "KB", "KiB", "MB", "MiB" forms too; all binary */
	if (!bytes && suf > s + n) {
		if ((suf[0] == 'i' || suf[0] == 'I') && (suf[1] == 'B' || suf[1] == 'b'))
			suf += 2;
		else if (suf[0] == 'B' || suf[0] == 'b')
			suf++;
	}
	if (!only_ws(suf))
		return -EINVAL;
	uint64_t v;
	int rc = parse_u64(num, UINT64_MAX, &v);
	if (rc < 0)
		return rc;
	if (bytes) {
		/* round up without v + 1023, which wraps near 2^64 */
		v = v / 1024 + (v % 1024 != 0);
	}
	for (unsigned i = 0; i < shift; i++) {
		if (__builtin_mul_overflow(v, 1024, &v))
			return -ERANGE;
	}
	/* a sane ceiling: 1 EiB in KiB; larger is a typo */
	if (v > (1ULL << 50))
		return -ERANGE;
	*kb = v;
	return 0;
}

int parse_percent_bp(const char *s, uint32_t max_bp, uint32_t *bp)
{
	s = skip_ws(s);
	uint64_t whole = 0, frac = 0;
	unsigned fdigits = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 1000000)
			return -ERANGE;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (fdigits >= 2)
				return -EINVAL; /* more precision than basis points */
			frac = frac * 10 + (uint64_t)(*p - '0');
			fdigits++;
		}
		if (fdigits == 1)
			frac *= 10;
	}
	if (*p != '%' || !only_ws(p + 1))
		return -EINVAL;
	uint64_t v = whole * 100 + frac;
	if (v > max_bp)
		return -ERANGE;
	*bp = (uint32_t)v;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char w[8];
	s = skip_ws(s);
	size_t n = 0;
	while (s[n] && !isspace((unsigned char)s[n]) && n < sizeof(w) - 1) {
		w[n] = s[n];
		n++;
	}
	w[n] = '\0';
	if (!only_ws(s + n))
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(w, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(w, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

ssize_t read_file(const char *path, char *buf, size_t size)
{
	if (size == 0)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	for (;;) {
		if (len == size - 1) {
			/* full: is there more? */
			char c;
			ssize_t r = read(fd, &c, 1);
			int e = errno;
			close(fd);
			if (r < 0)
				return -e;
			if (r > 0)
				return -EFBIG;
			break;
		}
		ssize_t r = read(fd, buf + len, size - 1 - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0) {
			close(fd);
			break;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t read_file_alloc(const char *path, size_t max, char **out)
{
	size_t size = 64 * 1024;
	char *buf = NULL;
	ssize_t len;
	*out = NULL;
	for (;;) {
		char *nb = realloc(buf, size);
		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		len = read_file(path, buf, size);
		if (len != -EFBIG || size > max)
			break;
		size *= 2;
	}
	if (len < 0 || (size_t)len > max) {
		free(buf);
		return len < 0 ? len : -EFBIG;
	}
	*out = buf;
	return len;
}

bool dir_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool list_has_word(const char *list, const char *word)
{
	static const char sep[] = " \t\n,";
	size_t n = strlen(word);
	for (const char *p = list; *p;) {
		p += strspn(p, sep);
		size_t len = strcspn(p, sep);
		if (len == n && len && strncmp(p, word, n) == 0)
			return true;
		p += len;
	}
	return false;
}

int path_join(char *dst, size_t size, const char *root, const char *rel)
{
	while (*rel == '/')
		rel++;
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	struct tbuf b; /* on the exec path: no printf (textbuf.h) */
	tb_init(&b, dst, size);
	tb_strn(&b, root, rl);
	tb_chr(&b, '/');
	tb_str(&b, rel);
	return b.cut ? -ENAMETOOLONG : 0;
}

ssize_t read_file_at(const char *root, const char *rel, char *buf, size_t size)
{
	char path[PATH_BUF];
	int rc = path_join(path, sizeof(path), root, rel);
	if (rc < 0)
		return rc;
	return read_file(path, buf, size);
}

int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(s);
	ssize_t w;
	do {
		w = write(fd, s, len);
	} while (w < 0 && errno == EINTR);
	int e = w < 0 ? errno : 0;
	/* a short write to a kernel file means the value was not taken */
	if (w >= 0 && (size_t)w != len)
		e = EIO;
	if (close(fd) < 0 && e == 0)
		e = errno;
	return -e;
}

int open_writable(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	return close(fd) < 0 ? -errno : 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode)
{
	char tmp[PATH_BUF];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	int e = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		off += (size_t)w;
	}
	if (e == 0 && fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, path) < 0)
		e = errno;
	if (e != 0) {
		unlink(tmp);
		return -e;
	}
	/* make the rename itself durable */
	char dir[PATH_BUF];
	snprintf(dir, sizeof(dir), "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			e = errno;
		if (close(dfd) < 0 && e == 0)
			e = errno;
	}
	return -e;
}

const char *fmt_kb(uint64_t kb, char *buf, size_t size)
{
	if (kb >= KB_PER_GB * 1024)
		snprintf(buf, size, "%.1f TiB", (double)kb / (double)(KB_PER_GB * 1024));
	else if (kb >= KB_PER_GB)
		snprintf(buf, size, "%.1f GiB", (double)kb / (double)KB_PER_GB);
	else if (kb >= KB_PER_MB)
		snprintf(buf, size, "%" PRIu64 " MiB", (kb + KB_PER_MB / 2) / KB_PER_MB);
	else
		snprintf(buf, size, "%" PRIu64 " KiB", kb);
	return buf;
}

const char *fmt_skb(int64_t kb, char *buf, size_t size)
{
	if (kb >= 0)
		return fmt_kb((uint64_t)kb, buf, size);
	buf[0] = '-';
	fmt_kb((uint64_t)(-(kb + 1)) + 1, buf + 1, size - 1);
	return buf;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t mono_coarse_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}
