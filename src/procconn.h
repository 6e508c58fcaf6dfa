/* procconn.h - process events (fork/exec/exit) from the netlink proc
 * connector, read with libnl-3 (DESIGN §3, §8).
 *
 * The kernel reports with respect to the initial pid namespace; pids here are
 * those of the host.  Threads produce events too: a FORK whose child
 * pid != tgid is a new thread (clone(CLONE_THREAD)), an EXIT whose
 * pid != tgid is a thread ending.  They are delivered as they come; the
 * tracker decides what to keep.  Measured (6.18): a new thread's FORK names
 * the process's own parent as ppid/ptgid (the kernel reports real_parent,
 * which CLONE_THREAD shares), so a thread is recognised by tgid, not ptgid.
 * The kernel sends EXIT after it has notified the parent: the parent may
 * already have reaped the child (EXIT then has ppid = ptgid = 0) and the pid
 * may even be reused before the EXIT arrives.  Key on pid + start time.
 *
 * Loss is never silent: a receive-queue overflow (ENOBUFS) and a gap in a
 * CPU's connector sequence both make procconn_drain() return -ENOBUFS, and
 * the caller rescans /proc. */
#ifndef OVERCOMMITD_PROCCONN_H
#define OVERCOMMITD_PROCCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drainbudget.h"

enum pc_type {
	PC_NONE = 0, /* the kernel's answer to any listener's LISTEN/IGNORE:
		      * not an event, but it takes a sequence number */
	PC_FORK,
	PC_EXEC,
	PC_EXIT,
	PC_OTHER, /* uid/gid/sid/ptrace/comm/coredump or a newer kind: pid, tgid set */
};

struct pc_event {
	enum pc_type type;
	int pid, tgid;      /* FORK: the child; EXEC/EXIT/OTHER: the process */
	int ppid, ptgid;    /* FORK: the parent; EXIT: the parent, or 0 (see below) */
	uint32_t exit_code; /* EXIT: wait status as the kernel has it */
	uint64_t ts_ns;     /* kernel timestamp, ns since boot */
	unsigned cpu;       /* proc_event.cpu: the CPU whose counter numbered it */
	uint32_t seq;       /* cn_msg.seq */
};

/* Pure: one connector message (struct cn_msg header + struct proc_event as
 * the kernel sends it, i.e. the netlink payload) -> event.  Returns 0, or
 * -EINVAL for short, inconsistent (cn_msg.len beyond the buffer) or foreign
 * (cb_id other than CN_IDX_PROC/CN_VAL_PROC) messages.  An unknown "what" is
 * PC_OTHER: it still took a sequence number.  Fuzz target. */
int procconn_parse(const void *payload, size_t len, struct pc_event *ev);

/* Loss detection: the kernel numbers proc connector messages from a per-CPU
 * counter (cn_msg.seq); a gap in one CPU's sequence means lost events.
 * Zero-initialise; cpu >= PC_MAX_CPUS gives no information (never a gap). */
#define PC_MAX_CPUS 1024
/* Messages up to this far behind the expected number count as late (kernels
 * before 5.11 could send one CPU's messages out of order), not as loss. */
#define PC_SEQ_REORDER 64
struct pc_seq {
	uint32_t next[PC_MAX_CPUS];
	bool seen[PC_MAX_CPUS];
};
/* True if events were lost before this one (the first seen per CPU: false). */
bool pc_seq_gap(struct pc_seq *s, unsigned cpu, uint32_t seq);

struct procconn;

/* Open NETLINK_CONNECTOR with libnl, size the receive buffer, join the
 * CN_IDX_PROC group and send PROC_CN_MCAST_LISTEN; non-blocking, libnl's
 * sequence check off (the kernel puts its own counter in nlmsg_seq).
 * rcvbuf_bytes is the SO_RCVBUF request (the kernel doubles it for its
 * bookkeeping and caps it at rmem_max; above the cap SO_RCVBUFFORCE is tried,
 * which needs CAP_NET_ADMIN); 0 keeps libnl's default (32 KiB).  Each queued
 * event costs ~800 bytes of it (measured: 40,000 events filled 32 MiB).
 * The kernel's answer to LISTEN is checked before returning.  Returns 0 or
 * -errno: -EPERM when the kernel refused (before 6.6 without CAP_NET_ADMIN)
 * or ignored the request (outside the initial user and pid namespaces, or
 * without CONFIG_PROC_EVENTS: no events would ever come), -EPROTONOSUPPORT
 * without CONFIG_CONNECTOR.  Unprivileged listening works from 6.6 on.
 * Events from before the LISTEN took effect are not delivered: scan /proc
 * after opening. */
int procconn_open(struct procconn **out, size_t rcvbuf_bytes);
int procconn_fd(const struct procconn *pc);
/* Effective SO_RCVBUF (getsockopt: the doubled value the kernel accounts). */
size_t procconn_rcvbuf(const struct procconn *pc);

/* Read the queued messages without blocking and call cb for each event
 * (FORK, EXEC, EXIT, OTHER; never PC_NONE).  Returns the number of events
 * delivered, or -ENOBUFS when the kernel reported an overflow or a sequence
 * gap was seen (the caller must resync from a /proc scan; the events that
 * did arrive were still delivered), or another -errno.  Each call stops
 * when the drain budget (drainbudget.h; the daemon's DRAIN_BUDGET_NS and
 * DRAIN_BUDGET_MSGS unless procconn_set_budget() said otherwise) is used
 * up, so a storm of events that are slow to handle cannot starve the rest
 * of the poll loop: the fd then stays readable and poll() returns again.
 * A CPU first heard of after a loss cannot show a gap; the overflow itself
 * is still reported.  Not reentrant: cb must not call procconn_drain() or
 * procconn_close(). */
#define PC_DRAIN_BUDGET DRAIN_BUDGET_MSGS
int procconn_drain(struct procconn *pc, void (*cb)(const struct pc_event *ev, void *arg),
		   void *arg);
/* Replace the drain budget (NULL: the defaults). */
void procconn_set_budget(struct procconn *pc, const struct drain_budget *b);

/* Counters for logs and benchmarks.  lost_estimate sums the sequence gaps;
 * what an overflow dropped shows up there too once the next message from
 * that CPU arrives. */
struct pc_stats {
	uint64_t events, overflows, seq_gaps, lost_estimate;
	uint64_t ignored; /* not from the kernel, foreign or malformed */
	/* the drains: how many, how many the budget ended (the rest found the
	 * queue empty or failed), their time in all and the longest */
	uint64_t drains, cut_by_time, cut_by_count, drain_ns, max_drain_ns;
};
void procconn_stats(const struct procconn *pc, struct pc_stats *st);

/* Send PROC_CN_MCAST_IGNORE (best effort) and free.  NULL is fine. */
void procconn_close(struct procconn *pc);

#endif
