/* procconn.c - the netlink proc connector through libnl-3.
 *
 * libnl facts this relies on (DESIGN §8, libnl 3.7 lib/nl.c recvmsgs()):
 * the kernel sends every event as one NLMSG_DONE message, so NL_CB_FINISH is
 * the hook (NL_CB_VALID never fires); nlmsg_seq carries the kernel's per-CPU
 * counter, so libnl's own sequence check must be off; nl_recvmsgs_report()
 * reads one datagram per call and says -NLE_AGAIN when the queue is empty
 * and -NLE_NOMEM when recvmsg() failed with ENOBUFS (the queue overflowed). */
#include "procconn.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

/* offsets inside struct proc_event; read with memcpy, the buffer may be
 * unaligned (fuzzing) and foreign */
#define EV_HDR offsetof(struct proc_event, event_data)
#define EXIT_MIN offsetof(struct exit_proc_event, parent_pid)

struct procconn {
	struct nl_sock *sk;
	struct nl_cb *cb; /* the socket's own callback set (a reference) */
	struct pc_seq seq;
	struct pc_stats st;
	struct drain_budget budget;
	/* the drain in progress */
	void (*user_cb)(const struct pc_event *ev, void *arg);
	void *user_arg;
	int delivered;
	bool lost;
	/* the kernel's answer to our LISTEN: cn_msg.ack = our cookie + 1 */
	uint32_t cookie;
	bool ack_seen;
	uint32_t ack_err;
};

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static int get_pid(const unsigned char *p)
{
	__kernel_pid_t v;
	memcpy(&v, p, sizeof(v));
	return (int)v;
}

int procconn_parse(const void *payload, size_t len, struct pc_event *ev)
{
	const unsigned char *p = payload;
	struct cn_msg cn;

	if (!payload || !ev || len < sizeof(cn))
		return -EINVAL;
	memcpy(&cn, p, sizeof(cn));
	if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC)
		return -EINVAL;
	if (cn.len > len - sizeof(cn) || cn.len < EV_HDR)
		return -EINVAL;

	const unsigned char *d = p + sizeof(cn);
	const unsigned char *u = d + EV_HDR; /* event_data */
	size_t ulen = cn.len - EV_HDR;
	uint32_t what = get_u32(d + offsetof(struct proc_event, what));

	memset(ev, 0, sizeof(*ev));
	ev->cpu = get_u32(d + offsetof(struct proc_event, cpu));
	memcpy(&ev->ts_ns, d + offsetof(struct proc_event, timestamp_ns), sizeof(ev->ts_ns));
	ev->seq = cn.seq;

	switch (what) {
	case PROC_EVENT_NONE:
		ev->type = PC_NONE;
		return 0;
	case PROC_EVENT_FORK:
		if (ulen < sizeof(struct fork_proc_event))
			return -EINVAL;
		ev->type = PC_FORK;
		ev->ppid = get_pid(u + offsetof(struct fork_proc_event, parent_pid));
		ev->ptgid = get_pid(u + offsetof(struct fork_proc_event, parent_tgid));
		ev->pid = get_pid(u + offsetof(struct fork_proc_event, child_pid));
		ev->tgid = get_pid(u + offsetof(struct fork_proc_event, child_tgid));
		return 0;
	case PROC_EVENT_EXEC:
		if (ulen < sizeof(struct exec_proc_event))
			return -EINVAL;
		ev->type = PC_EXEC;
		break;
	case PROC_EVENT_EXIT:
		/* kernels before 4.14 end the struct before parent_pid */
		if (ulen < EXIT_MIN)
			return -EINVAL;
		ev->type = PC_EXIT;
		ev->exit_code = get_u32(u + offsetof(struct exit_proc_event, exit_code));
		if (ulen >= sizeof(struct exit_proc_event)) {
			ev->ppid = get_pid(u + offsetof(struct exit_proc_event, parent_pid));
			ev->ptgid = get_pid(u + offsetof(struct exit_proc_event, parent_tgid));
		}
		break;
	default:
		/* every other kind (and any a newer kernel adds) starts with
		 * process_pid, process_tgid */
		if (ulen < 2 * sizeof(__kernel_pid_t))
			return -EINVAL;
		ev->type = PC_OTHER;
		break;
	}
	/* exec, exit and the rest share the leading process_pid, process_tgid */
	ev->pid = get_pid(u);
	ev->tgid = get_pid(u + sizeof(__kernel_pid_t));
	return 0;
}

/* How far seq is ahead of the expected number (negative: behind). */
static int32_t seq_ahead(uint32_t seq, uint32_t next)
{
	uint32_t d = seq - next; /* modulo 2^32: wrap-around is just arithmetic */
	return d <= (uint32_t)INT32_MAX ? (int32_t)d : -(int32_t)(~d) - 1;
}

bool pc_seq_gap(struct pc_seq *s, unsigned cpu, uint32_t seq)
{
	if (!s || cpu >= PC_MAX_CPUS)
		return false;
	if (!s->seen[cpu]) {
		s->seen[cpu] = true;
		s->next[cpu] = seq + 1;
		return false;
	}
	int32_t ahead = seq_ahead(seq, s->next[cpu]);
	if (ahead < 0 && ahead >= -PC_SEQ_REORDER)
		return false; /* late or duplicate: keep waiting for next */
	s->next[cpu] = seq + 1;
	/* ahead > 0: numbers skipped; far behind: we cannot tell what was
	 * missed, restart from here and call it loss */
	return ahead != 0;
}

/* libnl error (either sign) -> errno */
static int nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_PERM:
		return EPERM;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_INTR:
		return EINTR;
	case NLE_BAD_SOCK:
		return EBADF;
	case NLE_INVAL:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_BUSY:
		return EBUSY;
	case NLE_NODEV:
		return ENODEV;
	case NLE_EXIST:
		return EEXIST;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_PROTO_MISMATCH:
		return EPROTONOSUPPORT;
	case NLE_MSG_TRUNC:
		return EMSGSIZE;
	default:
		return EIO;
	}
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct procconn *pc = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	const struct sockaddr_nl *src = nlmsg_get_src(msg);
	struct pc_event ev;

	/* only the kernel (port 0) speaks for the proc connector */
	if (!src || src->nl_pid != 0 ||
	    procconn_parse(nlmsg_data(h), (size_t)nlmsg_datalen(h), &ev) < 0) {
		pc->st.ignored++;
		return NL_OK;
	}
	/* Every message counts for the sequence, the LISTEN/IGNORE answers
	 * (PC_NONE) too: since the kernel sends them through send_msg() (5.x)
	 * they take a number from the per-CPU counter, and every listener
	 * receives every other listener's answer.  Older kernels send them
	 * with cpu = -1, which the tracker ignores. */
	if (ev.cpu < PC_MAX_CPUS) {
		bool seen = pc->seq.seen[ev.cpu];
		int32_t ahead = seq_ahead(ev.seq, pc->seq.next[ev.cpu]);
		if (pc_seq_gap(&pc->seq, ev.cpu, ev.seq)) {
			pc->st.seq_gaps++;
			if (seen && ahead > 0)
				pc->st.lost_estimate += (uint64_t)ahead;
			pc->lost = true;
		}
	}
	if (ev.type == PC_NONE) {
		const unsigned char *d = nlmsg_data(h);
		struct cn_msg cn;
		uint32_t err = 0;
		memcpy(&cn, d, sizeof(cn)); /* the parser checked this much */
		if (cn.len >= EV_HDR + sizeof(err))
			memcpy(&err, d + sizeof(cn) + EV_HDR, sizeof(err));
		if (cn.ack == pc->cookie + 1) {
			pc->ack_seen = true;
			pc->ack_err = err;
		}
		return NL_OK;
	}
	if (!pc->user_cb) /* still opening: before our LISTEN, the scan's job */
		return NL_OK;
	pc->st.events++;
	pc->delivered++;
	pc->user_cb(&ev, pc->user_arg);
	return NL_OK;
}

/* NLMSG_ERROR is not part of the protocol; never let it end a drain */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct procconn *pc = arg;
	(void)nla;
	(void)e;
	pc->st.ignored++;
	return NL_SKIP;
}

static int send_op(struct nl_sock *sk, uint32_t op, uint32_t cookie)
{
	unsigned char buf[sizeof(struct cn_msg) + sizeof(op)];
	struct cn_msg cn;
	struct nl_msg *m;
	int err;

	memset(&cn, 0, sizeof(cn));
	cn.id.idx = CN_IDX_PROC;
	cn.id.val = CN_VAL_PROC;
	cn.ack = cookie;
	cn.len = sizeof(op); /* the plain op: no event filter, every kind */
	memcpy(buf, &cn, sizeof(cn));
	memcpy(buf + sizeof(cn), &op, sizeof(op));

	m = nlmsg_alloc_simple(NLMSG_DONE, 0);
	if (!m)
		return -ENOMEM;
	err = nlmsg_append(m, buf, sizeof(buf), NLMSG_ALIGNTO);
	if (err >= 0)
		err = nl_send_auto(sk, m);
	nlmsg_free(m);
	return err < 0 ? -nle_errno(err) : 0;
}

static size_t get_rcvbuf(int fd)
{
	int v = 0;
	socklen_t sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl) < 0 || v < 0)
		return 0;
	return (size_t)v;
}

/* After nl_connect(), which set libnl's 32 KiB.  The kernel stores twice
 * min(request, rmem_max); when capped, SO_RCVBUFFORCE (CAP_NET_ADMIN) skips
 * the cap.  Without the capability the capped size stands. */
static int set_rcvbuf(struct nl_sock *sk, size_t bytes)
{
	int want = bytes > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)bytes;
	int fd = nl_socket_get_fd(sk);
	int err = nl_socket_set_buffer_size(sk, want, 0);

	if (err < 0)
		return -nle_errno(err);
	if (get_rcvbuf(fd) < 2 * (size_t)want)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want));
	return 0;
}

/* Send LISTEN and read the kernel's answer.  It is queued on this socket
 * before send() returns (the connector handles the request in the sender's
 * context), so a non-blocking read finds it.  The answer carries the error
 * (EPERM before 6.6 without CAP_NET_ADMIN); no answer means the kernel
 * ignored us (outside the initial user/pid namespace): no events would
 * ever come.  Events read meanwhile only start the sequence tracking. */
static int listen_acked(struct procconn *pc)
{
	pc->cookie = nl_socket_get_local_port(pc->sk);
	for (int attempt = 0; attempt < 2 && !pc->ack_seen; attempt++) {
		int err = send_op(pc->sk, PROC_CN_MCAST_LISTEN, pc->cookie);
		if (err < 0)
			return err;
		for (int budget = (int)PC_DRAIN_BUDGET; budget > 0 && !pc->ack_seen; budget--) {
			int n = nl_recvmsgs_report(pc->sk, pc->cb);
			if (n == -NLE_AGAIN)
				break;
			if (n == -NLE_NOMEM)
				pc->st.overflows++;
			else if (n < 0 && n != -NLE_MSG_TRUNC)
				return -nle_errno(n);
		}
	}
	if (!pc->ack_seen)
		return -EPERM;
	return pc->ack_err == 0 ? 0 : -(int)(pc->ack_err > 4095 ? EIO : pc->ack_err);
}

int procconn_open(struct procconn **out, size_t rcvbuf_bytes)
{
	struct procconn *pc;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	pc->sk = nl_socket_alloc();
	if (!pc->sk) {
		free(pc);
		return -ENOMEM;
	}
	procconn_set_budget(pc, NULL);
	nl_socket_disable_seq_check(pc->sk);
	nl_socket_disable_auto_ack(pc->sk);
	/* events are ~80-byte datagrams: one recvmsg() each into libnl's
	 * 16 KiB default buffer, no MSG_PEEK round trip */
	nl_socket_disable_msg_peek(pc->sk);

	err = nl_connect(pc->sk, NETLINK_CONNECTOR);
	if (err < 0) {
		err = -nle_errno(err);
		goto fail;
	}
	if (rcvbuf_bytes > 0 && (err = set_rcvbuf(pc->sk, rcvbuf_bytes)) < 0)
		goto fail;
	err = nl_socket_modify_cb(pc->sk, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, pc);
	if (err < 0) {
		err = -nle_errno(err);
		goto fail;
	}
	pc->cb = nl_socket_get_cb(pc->sk);
	if (!pc->cb) {
		err = -ENOMEM;
		goto fail;
	}
	err = nl_cb_err(pc->cb, NL_CB_CUSTOM, on_error, pc);
	if (err < 0) {
		err = -nle_errno(err);
		goto fail;
	}
	/* joining the group needs CAP_NET_ADMIN: the EPERM comes from here */
	err = nl_socket_add_membership(pc->sk, CN_IDX_PROC);
	if (err < 0) {
		err = -nle_errno(err);
		goto fail;
	}
	err = nl_socket_set_nonblocking(pc->sk);
	if (err < 0) {
		err = -nle_errno(err);
		goto fail;
	}
	err = listen_acked(pc);
	if (err < 0)
		goto fail;
	*out = pc;
	return 0;
fail:
	if (pc->cb)
		nl_cb_put(pc->cb);
	nl_socket_free(pc->sk);
	free(pc);
	return err;
}

int procconn_fd(const struct procconn *pc)
{
	return pc ? nl_socket_get_fd(pc->sk) : -1;
}

size_t procconn_rcvbuf(const struct procconn *pc)
{
	return pc ? get_rcvbuf(nl_socket_get_fd(pc->sk)) : 0;
}

void procconn_set_budget(struct procconn *pc, const struct drain_budget *b)
{
	if (pc)
		pc->budget = b ? *b : (struct drain_budget){ DRAIN_BUDGET_NS, DRAIN_BUDGET_MSGS };
}

/* One drain's time and why it ended, into the counters. */
static void count_drain(struct procconn *pc, uint64_t t0, enum drain_step why)
{
	uint64_t ns = mono_ns() - t0;
	pc->st.drains++;
	pc->st.drain_ns += ns;
	if (ns > pc->st.max_drain_ns)
		pc->st.max_drain_ns = ns;
	if (why == DRAIN_YIELD_TIME)
		pc->st.cut_by_time++;
	else if (why == DRAIN_YIELD_COUNT)
		pc->st.cut_by_count++;
}

int procconn_drain(struct procconn *pc, void (*cb)(const struct pc_event *ev, void *arg),
		   void *arg)
{
	unsigned msgs = 0;
	int nomem = 0;
	enum drain_step step = DRAIN_GO_ON;

	if (!pc || !cb)
		return -EINVAL;
	pc->user_cb = cb;
	pc->user_arg = arg;
	pc->delivered = 0;
	pc->lost = false;

	/* the budget on the coarse clock: a tick's resolution against 25 ms,
	 * and no system call per message in a guest whose clocksource has no
	 * vDSO read (bench-latency's storm: one per event before); the drain's
	 * own figures on the fine one, twice per drain */
	uint64_t t0 = mono_ns(), c0 = mono_coarse_ns();
	while ((step = drain_next(&pc->budget, c0, msgs ? mono_coarse_ns() : c0, msgs)) ==
	       DRAIN_GO_ON) {
		int n = nl_recvmsgs_report(pc->sk, pc->cb);
		if (n > 0) {
			msgs += (unsigned)n;
			nomem = 0;
			continue;
		}
		if (n == -NLE_AGAIN)
			break;
		if (n == -NLE_NOMEM) {
			/* ENOBUFS (or malloc failing inside libnl, which it
			 * cannot tell apart): events are gone either way.
			 * Keep reading what is queued, but do not spin on a
			 * persistent allocation failure. */
			pc->st.overflows++;
			pc->lost = true;
			if (++nomem > 1)
				break;
			continue;
		}
		if (n == 0 || n == -NLE_MSG_TRUNC) { /* empty or oversized datagram: not ours */
			pc->st.ignored++;
			msgs++;
			continue;
		}
		count_drain(pc, t0, DRAIN_GO_ON);
		return -nle_errno(n);
	}
	count_drain(pc, t0, step);
	return pc->lost ? -ENOBUFS : pc->delivered;
}

void procconn_stats(const struct procconn *pc, struct pc_stats *st)
{
	if (!st)
		return;
	if (!pc) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = pc->st;
}

void procconn_close(struct procconn *pc)
{
	if (!pc)
		return;
	(void)send_op(pc->sk, PROC_CN_MCAST_IGNORE, 0);
	nl_cb_put(pc->cb);
	nl_socket_free(pc->sk);
	free(pc);
}
