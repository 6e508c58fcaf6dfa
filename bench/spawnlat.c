/* spawnlat - exec -> "done" latency of an agent, one matched spawn at a time.
 *
 *   spawnlat [-n N] [-t TARGET] [-w MS] [-i US] [-o RAW] [-L LABEL]
 *            [-r READY] [-p PATTERN] [-g CGSTR] [-a ADJ] [-s STOPPAT]
 *            [-- AGENT [ARG...]]
 *
 * For each of N spawns: fork; the child stores CLOCK_MONOTONIC in a shared
 * page right before execv(TARGET) (t_exec); the spawner waits until the
 * agent has acted on that pid, then takes t_done, kills and reaps the child.
 * Latency = t_done - t_exec.  "Acted" is either
 *   line mode (-p PATTERN): AGENT (started here, stdout+stderr on a pipe) prints
 *     a line holding PATTERN and the child's pid as a whole number; t_done is
 *     CLOCK_MONOTONIC when read(2) returned the chunk holding that line;
 *   poll mode (-g and/or -a): /proc/PID/cgroup contains CGSTR and/or
 *     /proc/PID/oom_score_adj is ADJ (after /proc/PID/comm shows the exec),
 *     read every -P US (default 200; a tight loop starves a small guest and
 *     contends for cgroup_mutex), any agent, started here or not.
 * -r READY waits for an AGENT line holding READY before the first spawn.
 * -w per-spawn timeout (default 2000 ms; a timeout counts as missed),
 * -i pause between spawns (default 1000 us), -o raw latencies (us, one a line).
 * At the end AGENT gets SIGTERM; its lines holding STOPPAT are echoed
 * ("agent| ...").  -k: the matched line ends in the kernel's event time
 * (pcfloor -p prints it): also report t_event - t_exec (the exec syscall up to
 * the event) and t_done - t_event (delivery) separately.  -B "CMD ARG...":
 * a background load (words split at spaces; its stdout goes to stderr)
 * started after READY, 1 s before the first spawn, and stopped (SIGTERM,
 * reaped) before the agent is: an agent that starts or stops while the load
 * runs is not what is measured (and under qemu TCG the daemon's BPF attach,
 * which patches __vm_enough_memory's text, has locked a vCPU up under a fork
 * storm: BENCHMARKS.md, round 5).  Prints one line:
 *   spawnlat LABEL n=N ok=K missed=M p50_us=.. p90_us=.. p99_us=.. max_us=.. mean_us=..
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

struct agent {
	pid_t pid;
	int fd;
	char buf[65536];
	size_t len;
	bool eof;
};

struct opts {
	unsigned long n, wait_ms, gap_us, poll_us;
	char *target; /* argv[0] of the child: from our own argv, so not const */
	const char *raw, *label, *ready, *pattern, *cgstr, *adj, *stoppat;
	bool kts;
	const char *comm; /* basename of target */
	char *load;       /* -B: background load, started once the agent is ready */
};

/* -k: the two parts of each latency, split at the kernel's event time */
struct parts {
	uint64_t *exec_ns, *deliv_ns;
	size_t n;
};

/* Does line hold pid as a whole decimal number? */
static bool has_pid(const char *line, int pid)
{
	char want[16];
	int wl = snprintf(want, sizeof(want), "%d", pid);
	for (const char *p = strstr(line, want); p; p = strstr(p + 1, want)) {
		bool left = p == line || p[-1] < '0' || p[-1] > '9';
		bool right = p[wl] < '0' || p[wl] > '9';
		if (left && right)
			return true;
	}
	return false;
}

/* Read what the agent has (waiting up to timeout_ms); call match() on each
 * complete line.  Returns 1 when match() said so, 0 on timeout, -1 on EOF. */
static int agent_lines(struct agent *a, int timeout_ms, bool (*match)(const char *, void *),
		       void *arg, uint64_t *t_read)
{
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
	if (a->eof)
		return -1;
	int pr = poll(&pfd, 1, timeout_ms);
	if (pr <= 0)
		return 0;
	ssize_t n = read(a->fd, a->buf + a->len, sizeof(a->buf) - 1 - a->len);
	uint64_t t = bu_mono_ns();
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		a->eof = true;
		return -1;
	}
	a->len += (size_t)n;
	a->buf[a->len] = '\0';
	int hit = 0;
	char *start = a->buf, *nl;
	while ((nl = strchr(start, '\n'))) {
		*nl = '\0';
		if (match(start, arg)) {
			hit = 1;
			*t_read = t;
		}
		start = nl + 1;
	}
	a->len -= (size_t)(start - a->buf);
	memmove(a->buf, start, a->len);
	if (a->len == sizeof(a->buf) - 1)
		a->len = 0; /* a line longer than the buffer: drop it */
	return hit;
}

struct want {
	const char *pattern;
	int pid;
	const char *echo; /* echo lines holding this (the stop line) */
	uint64_t kts;     /* -k: the matched line's last number (kernel event time) */
};

static uint64_t last_number(const char *line)
{
	const char *sp = strrchr(line, ' ');
	unsigned long long v;
	char *end = NULL;
	if (!sp)
		return 0;
	errno = 0;
	v = strtoull(sp + 1, &end, 10);
	return errno || end == sp + 1 ? 0 : (uint64_t)v;
}

static bool line_match(const char *line, void *arg)
{
	struct want *w = arg;
	if (w->echo && strstr(line, w->echo))
		printf("agent| %s\n", line);
	if (!w->pattern || !strstr(line, w->pattern) || (w->pid > 0 && !has_pid(line, w->pid)))
		return false;
	w->kts = last_number(line);
	return true;
}

static int agent_start(struct agent *a, char **argv)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	a->pid = fork();
	if (a->pid < 0)
		return -1;
	if (a->pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	a->fd = p[0];
	return 0;
}

/* -B: start the load; its pid, or -1. */
static pid_t load_start(char *cmd)
{
	char *argv[32];
	int n = 0;
	for (char *w = strtok(cmd, " "); w && n < 31; w = strtok(NULL, " "))
		argv[n++] = w;
	argv[n] = NULL;
	if (n == 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		perror("spawnlat: fork for the load");
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid <= 0)
		return -1;
	usleep(1000000); /* under way before the first spawn */
	int st;
	if (waitpid(pid, &st, WNOHANG) != 0) { /* gone already: no load to measure under */
		fprintf(stderr, "spawnlat: the load %s ended within 1 s\n", argv[0]);
		return -1;
	}
	return pid;
}

/* Read a small /proc file into buf (NUL-terminated, first line only when
 * line).  false when unreadable. */
static bool read_small(const char *path, char *buf, size_t size, bool line)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (line)
		buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/* The last contents seen, for the first miss's diagnostic. */
static char seen_cg[512], seen_adj[32], seen_comm[32];

static bool polled_done(const struct opts *o, int pid)
{
	char path[64];
	/* the exec must have happened: before it, the child is a copy of us */
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (!read_small(path, seen_comm, sizeof(seen_comm), true) ||
	    strncmp(seen_comm, o->comm, 15) != 0)
		return false;
	if (o->cgstr) {
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
		if (!read_small(path, seen_cg, sizeof(seen_cg), false) || !strstr(seen_cg, o->cgstr))
			return false;
	}
	if (o->adj) {
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
		if (!read_small(path, seen_adj, sizeof(seen_adj), true) || strcmp(seen_adj, o->adj) != 0)
			return false;
	}
	return true;
}

/* One spawn; returns the latency in ns, or 0 when missed. */
static uint64_t spawn_one(const struct opts *o, struct agent *a, volatile uint64_t *tx,
			  struct parts *pt)
{
	*tx = 0;
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		char *argv[] = { o->target, NULL };
		*tx = bu_mono_ns();
		execv(o->target, argv);
		_exit(127);
	}
	uint64_t deadline = bu_mono_ns() + o->wait_ms * 1000000ull, done = 0;
	struct want w = { .pattern = o->pattern, .pid = pid, .echo = o->stoppat };
	while (!done && bu_mono_ns() < deadline) {
		if (o->pattern) {
			int r = agent_lines(a, 50, line_match, &w, &done);
			if (r < 0)
				break;
		} else {
			if (polled_done(o, pid))
				done = bu_mono_ns();
			else if (o->poll_us)
				usleep((useconds_t)o->poll_us);
			if (!done && a->pid > 0) {
				w.pattern = NULL; /* keep the agent's pipe drained */
				agent_lines(a, 0, line_match, &w, &done);
				done = 0;
			}
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (!done || !*tx || done <= *tx) {
		static bool told;
		if (!told && !o->pattern)
			fprintf(stderr, "spawnlat: first miss (pid %d): comm '%s' cgroup '%s' adj '%s'\n",
				(int)pid, seen_comm, seen_cg, seen_adj);
		told = true;
		return 0;
	}
	if (o->kts && w.kts > *tx && w.kts < done) {
		pt->exec_ns[pt->n] = w.kts - *tx;
		pt->deliv_ns[pt->n++] = done - w.kts;
	}
	return done - *tx;
}

int main(int argc, char **argv)
{
	struct opts o = { .n = 1000, .wait_ms = 2000, .gap_us = 1000, .poll_us = 200, .label = "-" };
	int opt;
	while ((opt = getopt(argc, argv, "+n:t:w:i:o:L:r:p:g:a:s:kP:B:")) != -1) {
		switch (opt) {
		case 'n':
			if (bu_ulong(optarg, 1, 1000000, &o.n) < 0)
				goto usage;
			break;
		case 'w':
			if (bu_ulong(optarg, 1, 600000, &o.wait_ms) < 0)
				goto usage;
			break;
		case 'i':
			if (bu_ulong(optarg, 0, 10000000, &o.gap_us) < 0)
				goto usage;
			break;
		case 't': o.target = optarg; break;
		case 'o': o.raw = optarg; break;
		case 'L': o.label = optarg; break;
		case 'r': o.ready = optarg; break;
		case 'p': o.pattern = optarg; break;
		case 'g': o.cgstr = optarg; break;
		case 'a': o.adj = optarg; break;
		case 's': o.stoppat = optarg; break;
		case 'k': o.kts = true; break;
		case 'B': o.load = optarg; break;
		case 'P':
			if (bu_ulong(optarg, 0, 1000000, &o.poll_us) < 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (!o.target || (!o.pattern && !o.cgstr && !o.adj) || (o.pattern && optind >= argc))
		goto usage;
	const char *slash = strrchr(o.target, '/');
	o.comm = slash ? slash + 1 : o.target;
	struct agent a = { .pid = -1, .fd = -1 };
	if (optind < argc && agent_start(&a, &argv[optind]) < 0) {
		perror("spawnlat: starting the agent");
		return 1;
	}
	if (o.ready) {
		struct want w = { .pattern = o.ready, .pid = -1, .echo = o.stoppat };
		uint64_t t = 0, dl = bu_mono_ns() + 60000000000ull;
		int r = 0;
		while (r == 0 && bu_mono_ns() < dl)
			r = agent_lines(&a, 100, line_match, &w, &t);
		if (r != 1) {
			fprintf(stderr, "spawnlat: agent never said '%s'\n", o.ready);
			if (a.pid > 0)
				kill(a.pid, SIGKILL);
			return 1;
		}
	}
	pid_t load = -1;
	if (o.load && (load = load_start(o.load)) < 0) { /* said why */
		if (a.pid > 0)
			kill(a.pid, SIGKILL);
		return 1;
	}
	volatile uint64_t *tx = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				     -1, 0);
	uint64_t *lat = calloc(o.n, sizeof(*lat));
	struct parts pt = { calloc(o.n, sizeof(uint64_t)), calloc(o.n, sizeof(uint64_t)), 0 };
	if (tx == MAP_FAILED || !lat || !pt.exec_ns || !pt.deliv_ns) {
		perror("spawnlat");
		return 1;
	}
	FILE *raw = o.raw ? fopen(o.raw, "w") : NULL;
	size_t ok = 0;
	double sum = 0;
	for (unsigned long i = 0; i < o.n; i++) {
		uint64_t l = spawn_one(&o, &a, tx, &pt);
		if (l) {
			lat[ok++] = l;
			sum += (double)l;
		}
		if (raw)
			fprintf(raw, "%" PRIu64 "\n", l / 1000);
		if (o.gap_us)
			usleep((useconds_t)o.gap_us);
	}
	if (raw)
		fclose(raw);
	if (load > 0) {
		kill(load, SIGTERM);
		waitpid(load, NULL, 0);
	}
	if (a.pid > 0) {
		kill(a.pid, SIGTERM);
		struct want w = { .pattern = NULL, .pid = -1, .echo = o.stoppat };
		uint64_t t, dl = bu_mono_ns() + 10000000000ull;
		while (agent_lines(&a, 100, line_match, &w, &t) >= 0 && bu_mono_ns() < dl)
			;
		waitpid(a.pid, NULL, 0);
	}
	qsort(lat, ok, sizeof(*lat), bu_cmp_u64);
	printf("spawnlat %s n=%lu ok=%zu missed=%zu p50_us=%" PRIu64 " p90_us=%" PRIu64
	       " p99_us=%" PRIu64 " max_us=%" PRIu64 " mean_us=%.0f\n",
	       o.label, o.n, ok, (size_t)o.n - ok, bu_pct(lat, ok, 50) / 1000,
	       bu_pct(lat, ok, 90) / 1000, bu_pct(lat, ok, 99) / 1000,
	       ok ? lat[ok - 1] / 1000 : 0, ok ? sum / (double)ok / 1000.0 : 0.0);
	if (o.kts) {
		qsort(pt.exec_ns, pt.n, sizeof(uint64_t), bu_cmp_u64);
		qsort(pt.deliv_ns, pt.n, sizeof(uint64_t), bu_cmp_u64);
		printf("spawnlat %s parts=%zu exec_p50_us=%" PRIu64 " exec_p99_us=%" PRIu64
		       " deliver_p50_us=%" PRIu64 " deliver_p99_us=%" PRIu64 "\n",
		       o.label, pt.n, bu_pct(pt.exec_ns, pt.n, 50) / 1000,
		       bu_pct(pt.exec_ns, pt.n, 99) / 1000, bu_pct(pt.deliv_ns, pt.n, 50) / 1000,
		       bu_pct(pt.deliv_ns, pt.n, 99) / 1000);
	}
	free(pt.exec_ns);
	free(pt.deliv_ns);
	free(lat);
	return 0;
usage:
	fputs("usage: spawnlat [-n N] -t TARGET [-w MS] [-i US] [-o RAW] [-L LABEL] [-r READY] [-k] [-P US]\n"
	      "                [-B \"LOAD ARG...\"]\n"
	      "                [-p PATTERN | -g CGSTR | -a ADJ] [-s STOPPAT] [-- AGENT [ARG...]]\n",
	      stderr);
	return 1;
}
