/* journal_pids.c - per-process originals, appended (see journal_pids.h). */
#include "journal_pids.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "textbuf.h"
#include "util.h"

bool jpids_kind(enum jkind k)
{
	return k == J_OOM_SCORE_ADJ || k == J_CGROUP_ATTACH;
}

int jpids_format(const struct jpids_op *op, char *buf, size_t size)
{
	const struct jpids_op *e = op;
	/* an oom_score_adj or a cgroup path is never empty */
	if (!jpids_kind(e->kind) || e->pid <= 0 || strchr(e->original, '\n') ||
	    (op->add && e->original[0] == '\0'))
		return -EINVAL;
	/* "+ KIND PID START SEQ ORIGINAL" or "- KIND PID": on the exec path,
	 * so without printf (textbuf.h) */
	struct tbuf b;
	tb_init(&b, buf, size);
	tb_str(&b, op->add ? "+ " : "- ");
	tb_str(&b, journal_kind_name(e->kind));
	tb_chr(&b, ' ');
	tb_i64(&b, e->pid);
	if (op->add) {
		tb_chr(&b, ' ');
		tb_u64(&b, e->start_time);
		tb_chr(&b, ' ');
		tb_u64(&b, e->seq);
		tb_chr(&b, ' ');
		tb_str(&b, e->original);
	}
	tb_chr(&b, '\n');
	int n = tb_len(&b, buf);
	return n < 0 ? -EINVAL : n;
}

/* Next space-separated word of a line into w; -EINVAL if none. */
static int word(const char **p, const char *end, char *w, size_t size)
{
	const char *s = *p, *sp = memchr(s, ' ', (size_t)(end - s));
	size_t len = sp ? (size_t)(sp - s) : (size_t)(end - s);
	if (len == 0 || len >= size || (sp && sp + 1 == end))
		return -EINVAL; /* empty, too long, or a space with nothing after it */
	memcpy(w, s, len);
	w[len] = '\0';
	*p = sp ? sp + 1 : end;
	return 0;
}

/* Only canonical decimal numbers: what jpids_format writes, nothing else. */
static bool canonical(const char *w)
{
	if (w[0] == '0' && w[1] != '\0')
		return false;
	return w[0] != '\0' && strspn(w, "0123456789") == strlen(w);
}

static int num_word(const char **p, const char *end, char *w, size_t size)
{
	int rc = word(p, end, w, size);
	return rc < 0 || !canonical(w) ? -EINVAL : 0;
}

static int kind_of(const char *name, enum jkind *k)
{
	for (int i = 0; i <= J_CGROUP_MOUNT; i++) {
		if (jpids_kind((enum jkind)i) && strcmp(journal_kind_name((enum jkind)i), name) == 0) {
			*k = (enum jkind)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_line(const char *s, const char *end, struct jpids_op *op)
{
	char sign[2], kind[32], num[24];
	int64_t pid;
	memset(op, 0, sizeof(*op));
	if (word(&s, end, sign, sizeof(sign)) < 0 || (sign[0] != '+' && sign[0] != '-'))
		return -EINVAL;
	op->add = sign[0] == '+';
	if (word(&s, end, kind, sizeof(kind)) < 0 || kind_of(kind, &op->kind) < 0 ||
	    num_word(&s, end, num, sizeof(num)) < 0 || parse_i64(num, 1, INT_MAX, &pid) < 0)
		return -EINVAL;
	op->pid = (int)pid;
	snprintf(op->key, sizeof(op->key), "%d", op->pid);
	if (!op->add)
		return s == end ? 0 : -EINVAL;
	if (num_word(&s, end, num, sizeof(num)) < 0 ||
	    parse_u64(num, UINT64_MAX, &op->start_time) < 0 ||
	    num_word(&s, end, num, sizeof(num)) < 0 || parse_u64(num, UINT64_MAX - 1, &op->seq) < 0 ||
	    op->seq == 0)
		return -EINVAL;
	size_t len = (size_t)(end - s);
	if (len == 0 || len >= sizeof(op->original))
		return -EINVAL;
	memcpy(op->original, s, len);
	op->original[len] = '\0';
	return 0;
}

int jpids_boot_line(const char *boot_id, char *buf, size_t size)
{
	size_t bl = strlen(boot_id);
	if (bl == 0 || bl >= JPIDS_BOOT_MAX || strpbrk(boot_id, " \n"))
		return -EINVAL;
	int n = snprintf(buf, size, "boot %s\n", boot_id);
	return n < 0 || (size_t)n >= size ? -EINVAL : n;
}

/* "boot ID" (no newline) into boot. */
static int boot_of(const char *s, const char *end, char *boot, size_t size)
{
	size_t len = (size_t)(end - s);
	if (len < 6 || memcmp(s, "boot ", 5) != 0 || len - 5 >= size || len - 5 >= JPIDS_BOOT_MAX ||
	    memchr(s + 5, ' ', len - 5) || memchr(s, '\0', len))
		return -EINVAL;
	memcpy(boot, s + 5, len - 5);
	boot[len - 5] = '\0';
	return 0;
}

int jpids_parse(const char *buf, size_t len, char *boot, size_t bootsize, size_t *whole,
		int (*fn)(const struct jpids_op *op, void *arg), void *arg)
{
	*whole = 0;
	boot[0] = '\0';
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* the last write did not finish */
		*whole = (size_t)(nl + 1 - buf);
		if (p == buf) {
			if (boot_of(p, nl, boot, bootsize) < 0)
				return -EINVAL;
		} else if (!memchr(p, '\0', (size_t)(nl - p))) {
			struct jpids_op op;
			if (parse_line(p, nl, &op) < 0)
				return -EINVAL;
			int rc = fn ? fn(&op, arg) : 0;
			if (rc < 0)
				return rc;
		}
		p = nl + 1;
	}
	return 0;
}

int jpids_open(int dfd, int *fd, dev_t *dev, ino_t *ino)
{
	struct stat st;
	*fd = openat(dfd, JPIDS_FILE, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return -errno;
	if (fstat(*fd, &st) < 0) {
		int e = errno;
		close(*fd); /* read-only use so far: nothing of ours to lose */
		*fd = -1;
		return -e;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

int jpids_write(int fd, const char *line, size_t len, bool cut, size_t keep, size_t *written)
{
	*written = 0;
	if (cut && ftruncate(fd, (off_t)keep) < 0)
		return -errno;
	ssize_t n;
	do {
		n = write(fd, line, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*written = (size_t)n;
	return (size_t)n == len ? 0 : -EIO;
}

int jpids_truncate(int dfd)
{
	int fd = openat(dfd, JPIDS_FILE, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	return close(fd) < 0 ? -errno : 0;
}
