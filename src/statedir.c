/* statedir.c - see statedir.h.  Trust is checked on file descriptors
 * (fstat after open), walking the path one component at a time from "/"
 * so what was checked is what is used. */
#include "statedir.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX ".tmp."

static int refuse(struct statedir *sd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct statedir *sd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sd->why, sizeof(sd->why), fmt, ap);
	va_end(ap);
	return -EPERM;
}

/* A directory above the state directory: root's or ours, and nobody else
 * can replace what is in it (group/world writable only with the sticky bit,
 * like /tmp). */
static int check_ancestor(struct statedir *sd, int fd, const char *shown)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return refuse(sd, "%s is owned by uid %u, not root", shown, (unsigned)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return refuse(sd, "%s is writable by group or others (mode %04o)", shown,
			      (unsigned)(st.st_mode & 07777));
	return 0;
}

/* The directory itself: ours, writable by nobody else. */
static int check_own_dir(struct statedir *sd, int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return refuse(sd, "%s is not a directory", sd->path);
	if (st.st_uid != geteuid())
		return refuse(sd, "%s is owned by uid %u, not by uid %u running overcommitd", sd->path,
			      (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(sd, "%s is writable by group or others (mode %04o)", sd->path,
			      (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Open component name under parent (creating it when asked): the last one
 * without following a symlink. */
static int open_component(int parent, const char *name, bool last, bool create)
{
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (last ? O_NOFOLLOW : 0);
	int fd = openat(parent, name, flags);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, name, last ? 0700 : 0755) < 0 && errno != EEXIST)
			return -errno;
		fd = openat(parent, name, flags);
	}
	if (fd < 0)
		return errno == ELOOP ? -ELOOP : -errno;
	return fd;
}

static int walk(struct statedir *sd, bool create)
{
	char buf[PATH_BUF], shown[PATH_BUF];
	snprintf(buf, sizeof(buf), "%s", sd->path);
	bool abs = buf[0] == '/';
	int fd = open(abs ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(shown, sizeof(shown), "%s", abs ? "/" : ".");
	char *save = NULL;
	char *comp = strtok_r(buf, "/", &save);
	int rc = 0;
	while (comp && rc == 0) {
		char *next = strtok_r(NULL, "/", &save);
		rc = check_ancestor(sd, fd, shown);
		if (rc < 0)
			break;
		int nfd = open_component(fd, comp, next == NULL, create);
		close(fd);
		fd = nfd;
		if (fd < 0) {
			rc = fd == -ELOOP ? refuse(sd, "%s is a symbolic link", sd->path) : fd;
			break;
		}
		size_t len = strlen(shown);
		snprintf(shown + len, sizeof(shown) - len, "%s%s", len > 1 ? "/" : "", comp);
		comp = next;
	}
	if (rc == 0)
		rc = check_own_dir(sd, fd);
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	sd->dfd = fd;
	return 0;
}

int statedir_open(const char *path, bool create, struct statedir *sd)
{
	memset(sd, 0, sizeof(*sd));
	sd->dfd = sd->lockfd = -1;
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(sd->path))
		return -ENAMETOOLONG;
	memcpy(sd->path, path, len + 1);
	return walk(sd, create);
}

void statedir_close(struct statedir *sd)
{
	statedir_unlock(sd);
	if (sd->lockfd >= 0) /* kept: read-only use of the fd left, nothing to report */
		close(sd->lockfd);
	sd->lockfd = -1;
	if (sd->dfd >= 0)
		close(sd->dfd);
	sd->dfd = -1;
}

/* flock(op) on fd (opened, or -1 with errno set) and keep it as the lock. */
static int hold_lock(struct statedir *sd, int fd, int op)
{
	if (fd < 0)
		return -errno;
	while (flock(fd, op) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			if (fd == sd->lockfd) /* the kept one */
				sd->lockfd = -1;
			return -e;
		}
	}
	sd->lockfd = fd;
	sd->locked = true;
	return 0;
}

/* An exclusive lock of a process that does not keep it: the generation
 * grows by one, before anything is written under it. */
static int grow_generation(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	return ftruncate(fd, st.st_size + 1) < 0 ? -errno : 0;
}

int statedir_lock_shared(struct statedir *sd)
{
	if (sd->locked)
		return 0;
	if (sd->lockfd >= 0) /* kept */
		return hold_lock(sd, sd->lockfd, LOCK_SH);
	/* O_NONBLOCK: a FIFO in its place must not hang the reader */
	int fd = openat(sd->dfd, STATEDIR_LOCK_FILE,
			O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		fd = openat(sd->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return hold_lock(sd, fd, LOCK_SH);
}

int statedir_lock(struct statedir *sd)
{
	if (sd->locked)
		return 0;
	if (sd->lockfd >= 0) /* kept: the open file, locked again */
		return hold_lock(sd, sd->lockfd, LOCK_EX);
	int fd = openat(sd->dfd, STATEDIR_LOCK_FILE,
			O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	/* the other two write nothing here to announce */
	bool writable = fd >= 0;
	if (fd < 0 && errno == EROFS) /* a read-only state directory: restore still runs */
		fd = openat(sd->dfd, STATEDIR_LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		fd = openat(sd->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* lock the directory */
	int rc = hold_lock(sd, fd, LOCK_EX);
	if (rc == 0 && writable && !sd->keep && (rc = grow_generation(fd)) < 0)
		statedir_unlock(sd); /* unannounced, a write could go unseen by the daemon */
	return rc;
}

void statedir_unlock(struct statedir *sd)
{
	if (!sd->locked)
		return;
	sd->locked = false;
	if (sd->keep && flock(sd->lockfd, LOCK_UN) == 0)
		return;
	close(sd->lockfd); /* closing the only fd releases the flock */
	sd->lockfd = -1;
}

void statedir_keep_lock(struct statedir *sd)
{
	sd->keep = true;
	sd->gen = -1;
}

int statedir_others_wrote(struct statedir *sd)
{
	struct stat st;
	if (!sd->keep || !sd->locked || fstat(sd->lockfd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sd->gen = -1;
		return 1;
	}
	if (st.st_nlink == 0) { /* removed: the others lock the file the name leads to now */
		statedir_unlock(sd);
		if (sd->lockfd >= 0)
			close(sd->lockfd); /* unlocked, read-only use: nothing to report */
		sd->lockfd = -1;
		sd->gen = -1;
		int rc = statedir_lock(sd);
		if (rc < 0)
			return rc;
		if (fstat(sd->lockfd, &st) == 0)
			sd->gen = st.st_size;
		return 1;
	}
	bool moved = st.st_size != sd->gen;
	sd->gen = st.st_size;
	return moved;
}

static int check_file(struct statedir *sd, int fd, const char *name)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return refuse(sd, "%s/%s is not a regular file", sd->path, name);
	if (st.st_uid != geteuid())
		return refuse(sd, "%s/%s is owned by uid %u, not by uid %u running overcommitd",
			      sd->path, name, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(sd, "%s/%s is writable by group or others (mode %04o)", sd->path, name,
			      (unsigned)(st.st_mode & 07777));
	return 0;
}

static ssize_t read_fd(int fd, size_t max, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

ssize_t statedir_read(struct statedir *sd, const char *name, size_t max, char **out)
{
	*out = NULL;
	int fd = openat(sd->dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			return refuse(sd, "%s/%s is a symbolic link", sd->path, name);
		return -errno;
	}
	ssize_t rc = check_file(sd, fd, name);
	if (rc == 0)
		rc = read_fd(fd, max, out);
	close(fd);
	return rc;
}

static int write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}

/* The temp file, created exclusively: a name taken by a leftover of an
 * earlier process with our pid is removed (unlink never follows) once. */
static int create_temp(struct statedir *sd, const char *tmp, unsigned mode)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int fd = openat(sd->dfd, tmp, flags, (mode_t)mode);
	if (fd < 0 && errno == EEXIST) {
		if (unlinkat(sd->dfd, tmp, 0) < 0 && errno != ENOENT)
			return -errno;
		fd = openat(sd->dfd, tmp, flags, (mode_t)mode);
	}
	if (fd < 0)
		return -errno;
	/* the umask narrowed the creation mode; set it on the fd, never a path */
	if (fchmod(fd, (mode_t)mode) < 0) {
		int e = errno;
		close(fd);
		unlinkat(sd->dfd, tmp, 0);
		return -e;
	}
	return fd;
}

int statedir_write(struct statedir *sd, const char *name, const char *data, size_t len,
		   unsigned mode)
{
	char tmp[512];
	int n = snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX "%ld", name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp) || strchr(name, '/'))
		return -EINVAL;
	int fd = create_temp(sd, tmp, mode);
	if (fd < 0)
		return fd;
	int rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(sd->dfd, tmp, sd->dfd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(sd->dfd, tmp, 0);
		return rc;
	}
	/* make the rename itself durable */
	return fsync(sd->dfd) < 0 ? -errno : 0;
}

/* The pid in a name.tmp.<digits> entry (name NULL: any name); 0 if the
 * entry is not one, -1 if its digits are no pid. */
static long leftover_pid(const char *ent, const char *name)
{
	const char *suf = strstr(ent, TMP_SUFFIX);
	if (!suf || suf == ent || (name && (strlen(name) != (size_t)(suf - ent) ||
					   strncmp(ent, name, strlen(name)) != 0)))
		return 0;
	const char *d = suf + strlen(TMP_SUFFIX);
	if (!*d)
		return 0;
	long pid = 0;
	for (; *d; d++) {
		if (!isdigit((unsigned char)*d))
			return 0;
		pid = pid > INT_MAX / 10 ? INT_MAX : pid * 10 + (*d - '0');
	}
	return pid > 0 && pid < INT_MAX ? pid : -1;
}

/* Is the writer that named a temp file after its pid gone? */
static bool writer_gone(long pid)
{
	return pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* name.tmp.<digits> leftovers (name NULL: of any file, then only those
 * whose writer is gone) removed; the count or -errno. */
static int clean(struct statedir *sd, const char *name)
{
	int fd = openat(sd->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int e = errno;
		close(fd);
		return -e;
	}
	int removed = 0, rc = 0;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		long pid = leftover_pid(de->d_name, name);
		if (pid == 0 || (!name && (pid < 0 || !writer_gone(pid))))
			continue;
		if (unlinkat(sd->dfd, de->d_name, 0) < 0) {
			if (errno != ENOENT && rc == 0)
				rc = -errno;
			continue;
		}
		removed++;
	}
	closedir(dir);
	return rc < 0 ? rc : removed;
}

int statedir_clean(struct statedir *sd, const char *name)
{
	return clean(sd, name);
}

int statedir_clean_gone(struct statedir *sd)
{
	return clean(sd, NULL);
}
