/* procfd.c - see procfd.h. */
#include "procfd.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "textbuf.h"

static int gone_or(int e)
{
	return e == ENOENT || e == ESRCH ? -ESRCH : -e;
}

/* The files of one pin kept open (procfd_keep): the exec path reads its
 * cgroup and oom_score_adj up to three times each and writes one; through
 * a kept fd each is one pread/pwrite, not openat + read + close (8 system
 * calls of ~65 per matched exec; each ~40 us in the TCG guest).  A kept
 * fd reaches the same process as the pin (opened through it) and fails
 * with ESRCH once it is gone.  Per thread: only the thread that keeps
 * uses them. */
static const struct {
	const char *name;
	int mode; /* oom_score_adj: read and written through one fd */
} kept_file[] = { { "cgroup", O_RDONLY }, { "oom_score_adj", O_RDWR } };
#define NKEPT (sizeof(kept_file) / sizeof(kept_file[0]))
static _Thread_local int kept_dfd = -1;
static _Thread_local int kept_fd[NKEPT] = { -1, -1 };

void procfd_keep(int dfd)
{
	procfd_release();
	kept_dfd = dfd;
}

void procfd_release(void)
{
	for (size_t i = 0; i < NKEPT; i++) {
		if (kept_fd[i] >= 0)
			close(kept_fd[i]); /* nothing buffered (pwrite checked): nothing to report */
		kept_fd[i] = -1;
	}
	kept_dfd = -1;
}

/* The kept fd of name under fd, opened at its first use; -1: not kept
 * (another fd or file, not open for writing when write, or it cannot be
 * opened so: the caller opens it). */
static int kept(int fd, const char *name, bool write)
{
	if (fd < 0 || fd != kept_dfd)
		return -1;
	for (size_t i = 0; i < NKEPT; i++) {
		if (strcmp(name, kept_file[i].name) != 0 || (write && kept_file[i].mode == O_RDONLY))
			continue;
		if (kept_fd[i] < 0)
			kept_fd[i] = openat(fd, name, kept_file[i].mode | O_CLOEXEC | O_NOFOLLOW);
		return kept_fd[i];
	}
	return -1;
}

/* One read of up to size - 1 bytes from f at offset off (-1: read(2)),
 * NUL-terminated; -EFBIG when it may not be the whole text. */
static int read_text(int f, off_t off, char *buf, size_t size)
{
	ssize_t n;
	do {
		n = off < 0 ? read(f, buf, size - 1) : pread(f, buf, size - 1, off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return gone_or(errno);
	if ((size_t)n == size - 1)
		return -EFBIG;
	buf[n] = '\0';
	return 0;
}

int procfd_read(int fd, const char *name, char *buf, size_t size)
{
	int k = kept(fd, name, false);
	if (k >= 0) /* offset 0: the kernel makes the text afresh */
		return read_text(k, 0, buf, size);
	int f = openat(fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0)
		return gone_or(errno);
	int rc = read_text(f, -1, buf, size);
	close(f); /* opened read-only: nothing to report */
	return rc;
}

int procfd_write(int fd, const char *name, const char *s)
{
	size_t len = strlen(s);
	int k = kept(fd, name, true);
	if (k >= 0) {
		ssize_t w = pwrite(k, s, len, 0);
		return w < 0 ? gone_or(errno) : (size_t)w != len ? -EIO : 0;
	}
	int f = openat(fd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0)
		return gone_or(errno);
	ssize_t w = write(f, s, len);
	int e = w < 0 ? errno : (size_t)w != len ? EIO : 0;
	if (close(f) < 0 && e == 0)
		e = errno;
	return e ? gone_or(e) : 0;
}

int procfd_pin(const struct roots *r, int pid, int *fd)
{
	char path[4200];
	*fd = -1;
	if (pid <= 0)
		return -EINVAL;
	struct tbuf b; /* the exec path: no printf (textbuf.h) */
	tb_init(&b, path, sizeof(path));
	tb_str(&b, r->procfs);
	tb_chr(&b, '/');
	tb_i64(&b, pid);
	if (b.cut)
		return -ENAMETOOLONG;
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT || errno == ESRCH ? PROCFD_GONE : -errno;
	return PROCFD_SAME;
}

int procpin_fd(const struct procpin *pin, int pid, uint64_t start)
{
	return pin && pin->fd >= 0 && pin->pid == pid && pin->start == start ? pin->fd : -1;
}

int procfd_open(const struct roots *r, int pid, uint64_t start, int *fd)
{
	int d, id = procfd_pin(r, pid, &d);
	*fd = -1;
	if (id != PROCFD_SAME)
		return id;
	char buf[4096];
	struct proc_stat st;
	int rc = procfd_read(d, "stat", buf, sizeof(buf));
	if (rc == -ESRCH) {
		close(d);
		return PROCFD_GONE;
	}
	if (rc == 0 && proc_stat_parse(buf, &st) < 0)
		rc = -EINVAL;
	if (rc < 0 || st.start_time != start) {
		close(d);
		return rc < 0 ? rc : PROCFD_REUSED;
	}
	*fd = d;
	return PROCFD_SAME;
}
