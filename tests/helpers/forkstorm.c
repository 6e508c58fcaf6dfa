/* forkstorm - N forks at full speed; each child exits at once, or every Kth
 * child execs PROG.  Load for the proc connector (netlink event loss, the
 * daemon's resync) in the unit and VM tiers.
 *
 *   forkstorm [-k K] [-j MAXKIDS] [-l MS] N [PROG [ARG...]]
 *
 *   N          forks in total (1..10,000,000)
 *   -k K       every Kth child execs PROG (needs PROG); default: none
 *   -j MAXKIDS children alive at once before the parent reaps (default 64;
 *              1 = fork, wait, fork...)
 *   -l MS      children that do not exec live MS milliseconds (default 0):
 *              long enough for a daemon to act on each one
 *
 * SIGTERM stops the forking: the children alive are reaped and the line
 * below printed for the forks made (a soak with a time cap).
 * Children are reaped with waitpid() and their status checked.  On a
 * transient fork failure (EAGAIN: pid limit) the parent reaps one child and
 * retries.  Prints one line:
 *   forks=N execs=E failed=F seconds=S rate=R/s
 * failed counts children that did not exit 0 (an exec that failed exits 127).
 * Exit codes: 0 all children exited 0; 1 usage or a syscall failed;
 *             2 some child failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct storm {
	unsigned long n, k, maxkids, life_ms;
	char **prog; /* argv for the exec'd children, or NULL */
	unsigned long alive, forks, execs, failed;
};

static volatile sig_atomic_t stop_forking;

static void on_term(int sig)
{
	(void)sig;
	stop_forking = 1;
}

static void usage(void)
{
	fputs("usage: forkstorm [-k K] [-j MAXKIDS] [-l MS] N [PROG [ARG...]]\n", stderr);
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Reap one child (blocking).  -1 on a waitpid error other than EINTR. */
static int reap_one(struct storm *s)
{
	int st;

	for (;;) {
		pid_t p = waitpid(-1, &st, 0);
		if (p > 0)
			break;
		if (p < 0 && errno == EINTR)
			continue;
		fprintf(stderr, "forkstorm: waitpid: %s\n", strerror(errno));
		return -1;
	}
	s->alive--;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		s->failed++;
	return 0;
}

static int fork_one(struct storm *s, int do_exec)
{
	pid_t pid;

	for (;;) {
		pid = fork();
		if (pid >= 0)
			break;
		if (errno != EAGAIN || s->alive == 0) {
			fprintf(stderr, "forkstorm: fork #%lu: %s\n", s->forks + 1, strerror(errno));
			return -1;
		}
		if (reap_one(s) < 0) /* pid limit: make room, retry */
			return -1;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		if (do_exec) {
			execvp(s->prog[0], s->prog);
			_exit(127);
		}
		if (s->life_ms) {
			struct timespec ts = { (time_t)(s->life_ms / 1000),
					       (long)(s->life_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		_exit(0);
	}
	s->alive++;
	s->forks++;
	if (do_exec)
		s->execs++;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct storm s = { .maxkids = 64 };
	int opt;

	while ((opt = getopt(argc, argv, "+k:j:l:h")) != -1) {
		switch (opt) {
		case 'k':
			if (parse_ulong(optarg, 1, 10000000, &s.k) < 0) {
				fprintf(stderr, "forkstorm: bad -k '%s'\n", optarg);
				return 1;
			}
			break;
		case 'j':
			if (parse_ulong(optarg, 1, 4096, &s.maxkids) < 0) {
				fprintf(stderr, "forkstorm: bad -j '%s'\n", optarg);
				return 1;
			}
			break;
		case 'l':
			if (parse_ulong(optarg, 0, 60000, &s.life_ms) < 0) {
				fprintf(stderr, "forkstorm: bad -l '%s'\n", optarg);
				return 1;
			}
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (optind >= argc || parse_ulong(argv[optind], 1, 10000000, &s.n) < 0) {
		usage();
		return 1;
	}
	if (optind + 1 < argc)
		s.prog = &argv[optind + 1];
	if ((s.k > 0) != (s.prog != NULL)) {
		fputs("forkstorm: -k and PROG go together\n", stderr);
		return 1;
	}

	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0) {
		perror("forkstorm: sigaction");
		return 1;
	}
	double t0 = now_s();
	for (unsigned long i = 1; i <= s.n && !stop_forking; i++) {
		if (s.alive >= s.maxkids && reap_one(&s) < 0)
			return 1;
		if (fork_one(&s, s.k > 0 && i % s.k == 0) < 0)
			return 1;
	}
	while (s.alive > 0)
		if (reap_one(&s) < 0)
			return 1;
	double dt = now_s() - t0;

	printf("forks=%lu execs=%lu failed=%lu seconds=%.3f rate=%.0f/s\n", s.forks, s.execs,
	       s.failed, dt, dt > 0 ? (double)s.forks / dt : 0.0);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return s.failed > 0 ? 2 : 0;
}
