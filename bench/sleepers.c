/* sleepers - N idle processes for the observation-cost bench (item 3).
 *
 *   sleepers [-p] N
 *
 * -p: prefork shape: the parent names itself "ocb-sleeper" too, so a policy
 * matching the name sees one main and N workers (its children), the shape
 * of Apache prefork, gunicorn or PostgreSQL; without it every sleeper is a
 * main of its own (its parent does not match).
 *
 * Forks N children named "ocb-sleeper" that wait in pause() (each dies with
 * its parent: PR_SET_PDEATHSIG), prints "ready N" and waits until stdin
 * reaches EOF or SIGTERM/SIGINT arrives; then kills and reaps every child.
 * A fork that fails (pid limit) stops the count there: "ready" says how many. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	unsigned long n;
	int prefork = argc == 3 && strcmp(argv[1], "-p") == 0;
	if (argc != 2 + prefork || bu_ulong(argv[1 + prefork], 1, 30000, &n) < 0) {
		fputs("usage: sleepers [-p] N (1..30000)\n", stderr);
		return 1;
	}
	if (prefork)
		prctl(PR_SET_NAME, "ocb-sleeper");
	pid_t *kids = calloc(n, sizeof(*kids));
	if (!kids)
		return 1;
	pid_t parent = getpid();
	unsigned long made = 0;
	for (; made < n; made++) {
		pid_t p = fork();
		if (p < 0)
			break;
		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			prctl(PR_SET_NAME, "ocb-sleeper");
			for (;;)
				pause();
		}
		kids[made] = p;
	}
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready %lu\n", made);
	fflush(stdout);
	char buf[64];
	while (!stop && read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	for (unsigned long i = 0; i < made; i++)
		kill(kids[i], SIGKILL);
	for (unsigned long i = 0; i < made; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	return made == n ? 0 : 2;
}
