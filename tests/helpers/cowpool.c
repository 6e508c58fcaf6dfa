/* cowpool - a prefork pool whose workers un-share inherited memory, as a
 * preloading app server's workers do (refcounts, GC): the copy-on-write
 * growth RssAnon never shows.
 *
 *   cowpool -n COMM -m MAIN_MIB -d DIRTY_MIB -c N -t SECONDS [-r FILE]
 *
 * Names itself COMM, maps and writes MAIN_MIB of private anonymous memory
 * (MADV_NOHUGEPAGE: one 4 KiB copy per page written, whatever the host's
 * THP setting), then keeps N workers: each writes one byte in every page of
 * the first DIRTY_MIB it inherited (each write copies a page the main
 * still maps: the worker's RssAnon stays, its Private_Dirty grows by
 * DIRTY_MIB), lives SECONDS and exits; the main forks a replacement.  FILE
 * gets "PID\n" of the main once the first N workers exist.  SIGTERM, SIGINT
 * end it and its workers (exit 0; they die with it: PR_SET_PDEATHSIG). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define MIB (1024UL * 1024UL)

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void worker(volatile char *mem, unsigned long dirty, long seconds, const sigset_t *mask)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	long page = sysconf(_SC_PAGESIZE);
	for (unsigned long off = 0; off < dirty; off += (unsigned long)page)
		mem[off] = (char)(mem[off] + 1);
	sleep((unsigned)seconds);
	_exit(0);
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

struct opts {
	const char *comm, *ready;
	long main_mib, dirty_mib, n, seconds;
};

static int parse(int argc, char **argv, struct opts *o)
{
	int opt;
	memset(o, 0, sizeof(*o));
	while ((opt = getopt(argc, argv, "n:m:d:c:t:r:")) != -1) {
		switch (opt) {
		case 'n': o->comm = optarg; break;
		case 'm': o->main_mib = strtol(optarg, NULL, 10); break;
		case 'd': o->dirty_mib = strtol(optarg, NULL, 10); break;
		case 'c': o->n = strtol(optarg, NULL, 10); break;
		case 't': o->seconds = strtol(optarg, NULL, 10); break;
		case 'r': o->ready = optarg; break;
		default: return -1;
		}
	}
	if (!o->comm || o->main_mib < 1 || o->dirty_mib < 0 || o->dirty_mib > o->main_mib ||
	    o->n < 1 || o->n > MAX_WORKERS || o->seconds < 1) {
		fputs("usage: cowpool -n COMM -m MAIN_MIB -d DIRTY_MIB(<=MAIN) -c N(1..64) "
		      "-t SECONDS [-r FILE]\n", stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) < 0)
		return 1;
	prctl(PR_SET_NAME, o.comm);
	size_t len = (size_t)o.main_mib * MIB;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	madvise(mem, len, MADV_NOHUGEPAGE);
	memset(mem, 1, len);
	struct sigaction st = { .sa_handler = on_term };
	sigaction(SIGTERM, &st, NULL);
	sigaction(SIGINT, &st, NULL);
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &none);
	for (long i = 0; i < o.n; i++) {
		pid_t p = fork();
		if (p == 0)
			worker(mem, (unsigned long)o.dirty_mib * MIB, o.seconds, &none);
		if (p < 0)
			return 1;
	}
	if (o.ready && write_ready(o.ready) < 0)
		return 1;
	/* SIGTERM is blocked outside sigsuspend: none lost between check and wait */
	sigset_t chld = none;
	while (!stop) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p > 0) { /* a worker ended its life: a replacement, as prefork does */
			pid_t r = fork();
			if (r == 0)
				worker(mem, (unsigned long)o.dirty_mib * MIB, o.seconds, &none);
			continue;
		}
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		sigprocmask(SIG_SETMASK, &chld, NULL);
		nanosleep(&ts, NULL);
		sigprocmask(SIG_BLOCK, &block, NULL);
	}
	return 0; /* the workers die with it (PR_SET_PDEATHSIG) */
}
