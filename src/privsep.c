/* privsep.c - see privsep.h.  Single-threaded daemon: one static channel. */
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privs.h"
#include "privsep_sandbox.h"
#include "util.h"

#define REPLY_TIMEOUT_MS 5000

enum ps_op { PS_OPEN = 1, PS_READLINK = 2 };

/* the only files the reader hands out, and how */
static const struct {
	const char *name;
	enum ps_op op;
} allowed[] = {
	{ "maps", PS_OPEN },      { "smaps", PS_OPEN },      { "smaps_rollup", PS_OPEN },
	{ "exe", PS_READLINK },   { "ns/user", PS_READLINK },
};

struct ps_req {
	uint32_t seq;
	int32_t pid;
	uint32_t op;
	char name[16];
};

struct ps_rep {
	uint32_t seq;
	int32_t err;  /* 0 or -errno */
	uint32_t len; /* bytes of data (PS_READLINK) */
	char data[PATH_MAX];
};

static struct {
	int fd;    /* the writer's end, -1 when not running */
	pid_t pid;
	bool lost; /* started, then the reader died: no silent direct reads */
	uint32_t seq;
	char procfs[PATH_MAX];
} ch = { -1, 0, false, 0, "" };

static int op_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (strcmp(allowed[i].name, name) == 0)
			return (int)allowed[i].op;
	return -EINVAL;
}

static int pid_path(const char *procfs, int pid, const char *name, char *path, size_t size)
{
	char rel[64];
	if (pid <= 0)
		return -EINVAL;
	snprintf(rel, sizeof(rel), "%d/%s", pid, name);
	return path_join(path, size, procfs, rel);
}

static int direct_open(const char *procfs, int pid, const char *name)
{
	char path[PATH_MAX + 64];
	int rc = pid_path(procfs, pid, name, path, sizeof(path));
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

static ssize_t direct_readlink(const char *procfs, int pid, const char *name, char *buf,
			       size_t size)
{
	char path[PATH_MAX + 64];
	int rc = pid_path(procfs, pid, name, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (size == 0)
		return -ENAMETOOLONG;
	ssize_t n = readlink(path, buf, size);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return n;
}

/* ---- the reader --------------------------------------------------------- */

static int send_rep(int sock, const struct ps_rep *rep, int fd)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)rep,
			     .iov_len = offsetof(struct ps_rep, data) + rep->len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* One request: checked field by field, the writer is not trusted either. */
static void serve_one(int sock, const struct ps_req *q)
{
	struct ps_rep rep = { .seq = q->seq };
	int fd = -1;
	char name[sizeof(q->name)];
	memcpy(name, q->name, sizeof(name));
	int op = memchr(name, '\0', sizeof(name)) ? op_of(name) : -EINVAL;
	if (op < 0 || (uint32_t)op != q->op || q->pid <= 0) {
		rep.err = -EINVAL;
	} else if (op == PS_OPEN) {
		fd = direct_open(ch.procfs, q->pid, name);
		rep.err = fd < 0 ? fd : 0;
	} else {
		ssize_t n = direct_readlink(ch.procfs, q->pid, name, rep.data, sizeof(rep.data));
		rep.err = n < 0 ? (int32_t)n : 0;
		rep.len = n < 0 ? 0 : (uint32_t)n;
	}
	(void)send_rep(sock, &rep, fd >= 0 ? fd : -1);
	if (fd >= 0)
		close(fd);
}

static _Noreturn void serve(int sock)
{
	for (;;) {
		struct ps_req q;
		ssize_t n = recv(sock, &q, sizeof(q), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* the daemon is gone */
		if ((size_t)n != sizeof(q)) {
			struct ps_rep rep = { .err = -EINVAL };
			(void)send_rep(sock, &rep, -1);
			continue;
		}
		serve_one(sock, &q);
	}
}

/* In the child: nothing of the daemon's kept but the socket, then the
 * sandbox; the outcome is the first message. */
static _Noreturn void reader_main(int sock)
{
	for (int fd = 0; fd < 1024; fd++)
		if (fd != sock)
			close(fd);
	struct ps_rep ready = { .seq = 0 };
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		ready.err = -errno;
	if (ready.err == 0)
		ready.err = privs_become(PRIVSEP_READER_ID, PRIVS_READER_MASK);
	if (ready.err == 0)
		ready.err = privsep_sandbox();
	if (send_rep(sock, &ready, -1) < 0 || ready.err != 0)
		_exit(1);
	serve(sock);
}

/* ---- the daemon's side -------------------------------------------------- */

static void reap(void)
{
	if (ch.fd >= 0)
		close(ch.fd);
	ch.fd = -1;
	if (ch.pid > 0) {
		while (waitpid(ch.pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	ch.pid = 0;
}

/* The reply to seq, with its descriptor if any.  Stale replies (after a
 * timeout) are dropped. */
static int recv_rep(uint32_t seq, struct ps_rep *rep, int *fd)
{
	for (;;) {
		struct pollfd p = { .fd = ch.fd, .events = POLLIN };
		int pr = poll(&p, 1, REPLY_TIMEOUT_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return pr < 0 ? -errno : -ETIMEDOUT;
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		ssize_t n = recvmsg(ch.fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		int got = -1;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&got, CMSG_DATA(c), sizeof(int));
		size_t hdr = offsetof(struct ps_rep, data);
		if ((size_t)n < hdr || rep->len > sizeof(rep->data) || (size_t)n != hdr + rep->len ||
		    rep->seq != seq) {
			if (got >= 0)
				close(got);
			continue; /* stale or malformed: not ours */
		}
		*fd = got;
		return 0;
	}
}

static int ask(int pid, const char *name, enum ps_op op, struct ps_rep *rep, int *fd)
{
	struct ps_req q = { .seq = ++ch.seq, .pid = pid, .op = op };
	snprintf(q.name, sizeof(q.name), "%s", name);
	*fd = -1;
	if (send(ch.fd, &q, sizeof(q), MSG_NOSIGNAL) < 0) {
		reap();
		ch.lost = true;
		return -ECONNRESET;
	}
	int rc = recv_rep(q.seq, rep, fd);
	if (rc == -ECONNRESET || rc == -ETIMEDOUT) {
		/* dead or hung: every later call says so */
		if (rc == -ETIMEDOUT && ch.pid > 0)
			kill(ch.pid, SIGKILL);
		reap();
		ch.lost = true;
	}
	return rc < 0 ? rc : rep->err;
}

int privsep_start(const struct roots *r)
{
	if (ch.fd >= 0)
		return -EALREADY;
	snprintf(ch.procfs, sizeof(ch.procfs), "%s", r->procfs);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0)
		reader_main(sv[1]);
	close(sv[1]);
	ch.fd = sv[0];
	ch.pid = pid;
	struct ps_rep ready;
	int fd = -1;
	int rc = recv_rep(0, &ready, &fd);
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		rc = ready.err;
	if (rc < 0) {
		if (ch.pid > 0)
			kill(ch.pid, SIGKILL);
		reap();
	}
	return rc;
}

void privsep_stop(void)
{
	reap();
	ch.lost = false;
	ch.procfs[0] = '\0';
}

pid_t privsep_reader_pid(void)
{
	return ch.pid;
}

bool privsep_lost(void)
{
	return ch.lost;
}

int privsep_fd(void)
{
	return ch.fd;
}

void privsep_hangup(void)
{
	if (ch.fd < 0)
		return;
	reap();
	ch.lost = true;
}

int privsep_open_pid(const struct roots *r, int pid, const char *name)
{
	if (op_of(name) != PS_OPEN)
		return -EINVAL;
	if (ch.lost)
		return -ECONNRESET;
	if (ch.fd < 0)
		return direct_open(r->procfs, pid, name);
	struct ps_rep rep;
	int fd;
	int rc = ask(pid, name, PS_OPEN, &rep, &fd);
	if (rc < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return rc < 0 ? rc : -EPROTO;
	}
	return fd;
}

ssize_t privsep_readlink_pid(const struct roots *r, int pid, const char *name, char *buf,
			     size_t size)
{
	if (op_of(name) != PS_READLINK)
		return -EINVAL;
	if (ch.lost)
		return -ECONNRESET;
	if (ch.fd < 0)
		return direct_readlink(r->procfs, pid, name, buf, size);
	struct ps_rep rep;
	int fd;
	int rc = ask(pid, name, PS_READLINK, &rep, &fd);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return rc;
	if (size == 0 || rep.len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, rep.data, rep.len);
	buf[rep.len] = '\0';
	return rep.len;
}

ssize_t privsep_read_file(const struct roots *r, int pid, const char *name, char *buf, size_t cap)
{
	if (cap == 0)
		return -EINVAL;
	int fd = privsep_open_pid(r, pid, name);
	if (fd < 0)
		return fd;
	size_t len = 0;
	ssize_t rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc < 0)
		return rc;
	buf[len] = '\0';
	return (ssize_t)len;
}
