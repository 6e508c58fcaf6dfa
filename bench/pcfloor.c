/* pcfloor - the floor of event delivery: a bare proc connector listener
 * (src/procconn.c, the code the daemon uses) that does nothing per event
 * but count it, optionally print it, optionally read /proc/PID/comm;
 * with -m, the least a name-matching enforcer must do (the kernel's share
 * of exec -> enforced, without any policy, journal or log).
 *
 *   pcfloor [-b RCVBUF] [-p] [-c COMM [-m CGROUP_PROCS -a ADJ]]
 *
 *   -b RCVBUF  SO_RCVBUF request in bytes; 0 = libnl's default (32 KiB);
 *              default 4194304 (the daemon's)
 *   -p         print "exec PID KTIME_NS" for each process exec (pid == tgid),
 *              one write(2) per line, as soon as it is read
 *   -c COMM    count execs whose /proc/PID/comm is COMM ("matched")
 *   -m FILE    for each matched exec: write ADJ to /proc/PID/oom_score_adj,
 *              then PID to FILE (a cgroup.procs, kept open), and only then
 *              print it (with -p); unmatched execs are not printed
 *   -a ADJ     the oom_score_adj -m writes (default -100)
 *
 * Prints "pcfloor ready rcvbuf=N" once listening; on SIGTERM/SIGINT one line
 *   pcfloor: events=E exec_events=X matched=M enforce_errors=N overflows=O seq_gaps=G lost_estimate=L
 *            enobufs=B rcvbuf=R cpu_us=C
 * and exits 0.  No rescan: what the socket dropped stays missed (that is the
 * point of running it with -b 0 in a storm). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "benchutil.h"
#include "procconn.h"

struct floor {
	bool print;
	const char *comm;
	int procs_fd; /* -m: the cgroup.procs, or -1 */
	long adj;
	uint64_t execs, matched, enforce_errors;
};

static bool comm_is(int pid, const char *want)
{
	char path[64], buf[32];
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, want) == 0;
}

/* the two writes every enforcer makes; false on a refusal */
static bool enforce(struct floor *f, int pid)
{
	char path[64], val[24];
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int n = snprintf(val, sizeof(val), "%ld", f->adj);
	bool ok = write(fd, val, (size_t)n) == n;
	ok = close(fd) == 0 && ok;
	n = snprintf(val, sizeof(val), "%d", pid);
	return write(f->procs_fd, val, (size_t)n) == n && ok;
}

static void print_exec(const struct pc_event *ev)
{
	char line[80];
	int n = snprintf(line, sizeof(line), "exec %d %" PRIu64 "\n", ev->pid, ev->ts_ns);
	if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
		return;
}

static void on_event(const struct pc_event *ev, void *arg)
{
	struct floor *f = arg;
	if (ev->type != PC_EXEC || ev->pid != ev->tgid)
		return;
	f->execs++;
	if (f->print && f->procs_fd < 0)
		print_exec(ev);
	if (!f->comm || !comm_is(ev->pid, f->comm))
		return;
	f->matched++;
	if (f->procs_fd < 0)
		return;
	if (!enforce(f, ev->pid))
		f->enforce_errors++;
	else if (f->print)
		print_exec(ev);
}

int main(int argc, char **argv)
{
	struct floor f = { .procs_fd = -1, .adj = -100 };
	const char *procs = NULL;
	unsigned long rcvbuf = 4u << 20;
	int opt;
	while ((opt = getopt(argc, argv, "b:pc:m:a:")) != -1) {
		switch (opt) {
		case 'b':
			if (bu_ulong(optarg, 0, 1ul << 30, &rcvbuf) < 0) {
				fprintf(stderr, "pcfloor: bad -b '%s'\n", optarg);
				return 1;
			}
			break;
		case 'p':
			f.print = true;
			break;
		case 'c':
			f.comm = optarg;
			break;
		case 'm':
			procs = optarg;
			break;
		case 'a': {
			char *end;
			f.adj = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || f.adj < -1000 || f.adj > 1000) {
				fprintf(stderr, "pcfloor: bad -a '%s'\n", optarg);
				return 1;
			}
			break;
		}
		default:
			fputs("usage: pcfloor [-b RCVBUF] [-p] [-c COMM [-m CGROUP_PROCS -a ADJ]]\n", stderr);
			return 1;
		}
	}
	if (procs && !f.comm) {
		fputs("pcfloor: -m needs -c COMM\n", stderr);
		return 1;
	}
	if (procs && (f.procs_fd = open(procs, O_WRONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "pcfloor: %s: %s\n", procs, strerror(errno));
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	struct procconn *pc = NULL;
	int rc = procconn_open(&pc, rcvbuf);
	if (rc < 0 || sfd < 0) {
		fprintf(stderr, "pcfloor: proc connector: %s\n", strerror(rc < 0 ? -rc : errno));
		return 1;
	}
	/* the raw floor: no per-drain bound (the daemon's 25 ms would leave
	 * the final drain's backlog uncounted) */
	procconn_set_budget(pc, &(struct drain_budget){ 0, 0 });
	printf("pcfloor ready rcvbuf=%zu\n", procconn_rcvbuf(pc));
	fflush(stdout);
	uint64_t cpu0 = bu_ns(CLOCK_PROCESS_CPUTIME_ID), enobufs = 0;
	struct pollfd fds[2] = { { .fd = sfd, .events = POLLIN },
				 { .fd = procconn_fd(pc), .events = POLLIN } };
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("pcfloor: poll");
			return 1;
		}
		if (fds[0].revents & POLLIN)
			break;
		if (fds[1].revents & POLLIN) {
			int n = procconn_drain(pc, on_event, &f);
			if (n == -ENOBUFS)
				enobufs++;
			else if (n < 0)
				fprintf(stderr, "pcfloor: drain: %s\n", strerror(-n));
		}
	}
	/* what is still queued counts too */
	if (procconn_drain(pc, on_event, &f) == -ENOBUFS)
		enobufs++;
	struct pc_stats st;
	procconn_stats(pc, &st);
	printf("pcfloor: events=%" PRIu64 " exec_events=%" PRIu64 " matched=%" PRIu64 " enforce_errors=%" PRIu64 " overflows=%" PRIu64
	       " seq_gaps=%" PRIu64 " lost_estimate=%" PRIu64 " enobufs=%" PRIu64
	       " rcvbuf=%zu cpu_us=%" PRIu64 "\n",
	       st.events, f.execs, f.matched, f.enforce_errors, st.overflows, st.seq_gaps, st.lost_estimate, enobufs,
	       procconn_rcvbuf(pc), (bu_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / 1000);
	procconn_close(pc);
	if (f.procs_fd >= 0 && close(f.procs_fd) < 0)
		perror("pcfloor: close");
	return 0;
}
