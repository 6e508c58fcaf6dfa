/* commstorm - N renames of the calling thread (prctl PR_SET_NAME) at full
 * speed.  Each one is a comm event of the proc connector, multicast to
 * every listener like fork/exec/exit events, but a single cheap syscall: it
 * fills a stopped listener's receive queue (~10,000 events for overcommitd)
 * within a second even under qemu TCG, where forks or threads make 50-150
 * events a second.  So a test can make the kernel really drop events
 * (ENOBUFS) without a test path in the daemon.  Names alternate between
 * "commstorm-a" and "commstorm-b" (never a policy's service).
 *
 *   commstorm N        N renames (1..100,000,000)
 *
 * Prints one line: renames=N seconds=S rate=R/s.  Exit 0, 1 on a usage
 * error or a failed prctl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const names[2] = { "commstorm-a", "commstorm-b" };
	char *end = NULL;

	errno = 0;
	unsigned long n = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
	if (argc != 2 || argv[1][0] < '0' || argv[1][0] > '9' || errno != 0 || *end != '\0' ||
	    n < 1 || n > 100000000) {
		fputs("usage: commstorm N\n", stderr);
		return 1;
	}
	double t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		if (prctl(PR_SET_NAME, names[i & 1], 0, 0, 0) < 0) {
			fprintf(stderr, "commstorm: prctl #%lu: %s\n", i + 1, strerror(errno));
			return 1;
		}
	}
	double dt = now_s() - t0;
	printf("renames=%lu seconds=%.3f rate=%.0f/s\n", n, dt, dt > 0 ? (double)n / dt : 0.0);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
