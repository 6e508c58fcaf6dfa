/* smapspoll - the naive observer of item 4: every INTERVAL seconds read
 * /proc/PID/smaps_rollup of every process (Rss and Anonymous summed), as an
 * agent that wants per-process anon or PSS would.  Runs until SIGTERM/SIGINT.
 *
 *   smapspoll [INTERVAL]     (seconds, default 1)
 *
 * On exit prints "smapspoll: passes=N cpu_us_per_pass=C". */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "naive.h"

static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	unsigned long interval = 1, passes = 0;
	if (argc > 1 && bu_ulong(argv[1], 1, 3600, &interval) < 0) {
		fputs("usage: smapspoll [INTERVAL]\n", stderr);
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	uint64_t cpu0 = bu_ns(CLOCK_PROCESS_CPUTIME_ID);
	while (!stop) {
		uint64_t rss = 0, anon = 0;
		naive_pass(&rss, &anon);
		passes++;
		sleep((unsigned)interval);
	}
	printf("smapspoll: passes=%lu cpu_us_per_pass=%" PRIu64 "\n", passes,
	       passes ? (bu_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / 1000 / passes : 0);
	return 0;
}
