/* procfd.c - see procfd.h. */
#include "procfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

static int gone_or(int e)
{
	return e == ENOENT || e == ESRCH ? -ESRCH : -e;
}

int procfd_read(int fd, const char *name, char *buf, size_t size)
{
	int f = openat(fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0)
		return gone_or(errno);
	ssize_t n;
	do {
		n = read(f, buf, size - 1);
	} while (n < 0 && errno == EINTR);
	int e = n < 0 ? errno : 0;
	close(f);
	if (n < 0)
		return gone_or(e);
	if ((size_t)n == size - 1)
		return -EFBIG;
	buf[n] = '\0';
	return 0;
}

int procfd_write(int fd, const char *name, const char *s)
{
	int f = openat(fd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0)
		return gone_or(errno);
	size_t len = strlen(s);
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
	int n = snprintf(path, sizeof(path), "%s/%d", r->procfs, pid);
	if (n < 0 || (size_t)n >= sizeof(path))
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
