/* selfadj - a prefork server whose workers set their own oom_score_adj
 * right after fork, as PostgreSQL's backends write PG_OOM_ADJUST_VALUE.
 *
 *   selfadj -n COMM -c N -v VALUE [-r FILE]
 *
 * Names itself COMM (prctl PR_SET_NAME), forks N workers; each worker
 * writes VALUE to /proc/self/oom_score_adj at once (a failed write: it
 * exits 3) and waits in pause().  FILE gets "PID\n" of the main once the N
 * workers exist.  SIGUSR1 to the main forks one more worker (churn);
 * SIGTERM, SIGINT end it and its workers (exit 0). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 256

static volatile sig_atomic_t more, stop;

static void on_usr1(int sig)
{
	(void)sig;
	more++;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void worker(const char *value, const sigset_t *mask)
{
	signal(SIGUSR1, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	if (fd < 0 || write(fd, value, len) != (ssize_t)len || close(fd) != 0)
		_exit(3);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;)
		pause();
}

/* FILE.tmp, then rename: a reader never sees it empty */
static int write_ready(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

int main(int argc, char **argv)
{
	const char *comm = NULL, *value = NULL, *ready = NULL;
	long n = 0;
	int opt;
	while ((opt = getopt(argc, argv, "n:c:v:r:")) != -1) {
		switch (opt) {
		case 'n': comm = optarg; break;
		case 'c': n = strtol(optarg, NULL, 10); break;
		case 'v': value = optarg; break;
		case 'r': ready = optarg; break;
		default: n = -1; break;
		}
	}
	if (!comm || !value || n < 1 || n > MAX_WORKERS) {
		fputs("usage: selfadj -n COMM -c N(1..256) -v VALUE [-r FILE]\n", stderr);
		return 1;
	}
	prctl(PR_SET_NAME, comm);
	struct sigaction sa = { .sa_handler = on_usr1 }, st = { .sa_handler = on_term };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &st, NULL);
	sigaction(SIGINT, &st, NULL);
	/* signals wait for sigsuspend: none lost between a check and the wait */
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &none);
	pid_t kids[MAX_WORKERS];
	long made = 0;
	for (; made < n; made++) {
		kids[made] = fork();
		if (kids[made] == 0)
			worker(value, &none);
		if (kids[made] < 0)
			return 1;
	}
	if (ready && write_ready(ready) < 0)
		return 1;
	while (!stop) {
		sigsuspend(&none);
		while (more > 0 && made < MAX_WORKERS && !stop) {
			more--;
			kids[made] = fork();
			if (kids[made] == 0)
				worker(value, &none);
			made += kids[made] > 0;
		}
	}
	for (long i = 0; i < made; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
