/* probe - what the daemon did to a process, seen from inside and outside
 * (VM tier, issue 4).
 *
 *   probe [-t MS] [-a ADJ] OUTDIR
 *      The matched program of the daemon scenarios (its comm is the name it
 *      is run under, e.g. a copy named ocd-probe).  Polls its own
 *      /proc/self/oom_score_adj every 2 ms for up to MS ms (default 1000)
 *      until it reads ADJ (without -a: just waits MS), then writes one line
 *      "PID ADJ LATENCY_US START_MS SEEN_MS CGROUP" to OUTDIR/PID and exits 0.
 *      LATENCY_US is the time from main() to the first read of ADJ, -1 if
 *      never seen; START_MS and SEEN_MS are those moments on CLOCK_MONOTONIC
 *      (the guest's /proc/uptime x 1000, give or take; SEEN_MS -1 if never).
 *
 *   probe -x [-t MS] [-i US] -a ADJ -g CGROUP -o FILE PROG [ARG...]
 *      Forks PROG (its exec is the event the daemon reacts to) and polls the
 *      child's /proc/PID/{comm,oom_score_adj,cgroup} every US microseconds
 *      (default 2000) for up to MS ms (default 5000): the time the comm
 *      became PROG's name (the exec), then ADJ, then CGROUP ("/overcommitd/x").
 *      Writes "pid=P exec_us=E adj_us=A cgroup_us=C" to FILE (each time from
 *      the fork; -1 if not seen) and exits 0, leaving PROG running.
 * Exit 1 on usage or I/O errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void nap_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* the whole small file in one read(), trailing newline cut; -1 if unreadable */
static int slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

static int self_report(long ms, const char *want, const char *outdir)
{
	long long t0 = now_us(), lat = -1;
	char adj[32] = "?", cg[PATH_MAX] = "?";
	for (;;) {
		if (slurp("/proc/self/oom_score_adj", adj, sizeof(adj)) < 0)
			return 1;
		long long t = now_us() - t0;
		if (want && strcmp(adj, want) == 0) {
			lat = t;
			break;
		}
		if (t >= ms * 1000LL)
			break;
		nap_us(2000);
	}
	if (slurp("/proc/self/cgroup", cg, sizeof(cg)) < 0)
		return 1;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%d", outdir, (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%d %s %lld %lld %lld %s\n", (int)getpid(), adj, lat, t0 / 1000,
		lat < 0 ? -1 : (t0 + lat) / 1000, strncmp(cg, "0::", 3) ? cg : cg + 3);
	return fclose(f) == 0 ? 0 : 1;
}

static int watch_exec(long ms, long every_us, const char *want_adj, const char *want_cg,
		      const char *out, char **prog)
{
	const char *base = strrchr(prog[0], '/');
	base = base ? base + 1 : prog[0];
	char comm_want[16];
	snprintf(comm_want, sizeof(comm_want), "%s", base); /* comm: 15 bytes */
	long long t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execvp(prog[0], prog);
		_exit(127);
	}
	long long t_exec = -1, t_adj = -1, t_cg = -1;
	char p_comm[64], p_adj[64], p_cg[64], buf[PATH_MAX];
	snprintf(p_comm, sizeof(p_comm), "/proc/%d/comm", (int)pid);
	snprintf(p_adj, sizeof(p_adj), "/proc/%d/oom_score_adj", (int)pid);
	snprintf(p_cg, sizeof(p_cg), "/proc/%d/cgroup", (int)pid);
	while (now_us() - t0 < ms * 1000LL && (t_exec < 0 || t_adj < 0 || t_cg < 0)) {
		long long t = now_us() - t0;
		if (t_exec < 0 && slurp(p_comm, buf, sizeof(buf)) == 0 && strcmp(buf, comm_want) == 0)
			t_exec = t;
		if (t_exec >= 0 && t_adj < 0 && slurp(p_adj, buf, sizeof(buf)) == 0 &&
		    strcmp(buf, want_adj) == 0)
			t_adj = t;
		if (t_exec >= 0 && t_cg < 0 && slurp(p_cg, buf, sizeof(buf)) == 0 &&
		    strncmp(buf, "0::", 3) == 0 && strcmp(buf + 3, want_cg) == 0)
			t_cg = t;
		nap_us(every_us);
	}
	FILE *f = fopen(out, "w");
	if (!f)
		return 1;
	fprintf(f, "pid=%d exec_us=%lld adj_us=%lld cgroup_us=%lld\n", (int)pid, t_exec, t_adj,
		t_cg);
	return fclose(f) == 0 ? 0 : 1;
}

static void usage(void)
{
	fputs("usage: probe [-t MS] [-a ADJ] OUTDIR\n"
	      "       probe -x [-t MS] [-i US] -a ADJ -g CGROUP -o FILE PROG [ARG...]\n",
	      stderr);
}

int main(int argc, char **argv)
{
	long ms = -1, every = 2000;
	const char *adj = NULL, *cg = NULL, *out = NULL;
	int x = 0, opt;
	while ((opt = getopt(argc, argv, "+xt:i:a:g:o:")) != -1) {
		switch (opt) {
		case 'x':
			x = 1;
			break;
		case 't':
			if (parse_long(optarg, 0, 600000, &ms) < 0)
				return usage(), 1;
			break;
		case 'i':
			if (parse_long(optarg, 100, 1000000, &every) < 0)
				return usage(), 1;
			break;
		case 'a':
			adj = optarg;
			break;
		case 'g':
			cg = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			usage();
			return 1;
		}
	}
	if (x) {
		if (!adj || !cg || !out || optind >= argc)
			return usage(), 1;
		return watch_exec(ms < 0 ? 5000 : ms, every, adj, cg, out, &argv[optind]);
	}
	if (optind + 1 != argc)
		return usage(), 1;
	return self_report(ms < 0 ? 1000 : ms, adj, argv[optind]);
}
