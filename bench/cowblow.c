/* cowblow - a deliberate copy-on-write blow-up (issue 6, item 6; VM guest).
 *
 *   cowblow -m MAIN_MIB -g GROW_MIB [-n COMM] [-c CHILD_COMM] -r READY -o STATUS
 *
 * Maps and touches MAIN_MIB of private anonymous memory (4 KiB pages), writes
 * its pid to READY, then waits for SIGUSR1.  Then it forks: the child (named
 * CHILD_COMM, default ocb-child) writes every page, so copy-on-write copies
 * all of it, while the parent grows by GROW_MIB in 8 MiB steps.  Both then
 * wait until killed.  Progress lines are appended to STATUS:
 *   "child PID start" "child copied MIB" (every 64 MiB) "child PID dirtied MIB"
 *   "parent grew MIB" (every 8 MiB) "parent done"
 * Which of them the kernel kills (or throttles) is read by the scenario from
 * dmesg, memory.events and the status lines. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "benchutil.h"

#define MIB (1024ul * 1024ul)
#define STEP_MIB 8ul

static int status_fd = -1;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line) && write(status_fd, line, (size_t)n) < 0)
		_exit(1);
}

static char *touch_new(unsigned long mib)
{
	char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, mib * MIB, MADV_NOHUGEPAGE);
	for (unsigned long off = 0; off < mib * MIB; off += 4096)
		p[off] = 1;
	return p;
}

int main(int argc, char **argv)
{
	unsigned long main_mib = 0, grow_mib = 0;
	const char *comm = "ocb-main", *child_comm = "ocb-child", *ready = NULL, *status = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "m:g:n:c:r:o:")) != -1) {
		switch (opt) {
		case 'm':
			if (bu_ulong(optarg, 1, 1ul << 20, &main_mib) < 0)
				goto usage;
			break;
		case 'g':
			if (bu_ulong(optarg, 0, 1ul << 20, &grow_mib) < 0)
				goto usage;
			break;
		case 'n': comm = optarg; break;
		case 'c': child_comm = optarg; break;
		case 'r': ready = optarg; break;
		case 'o': status = optarg; break;
		default:
			goto usage;
		}
	}
	if (!main_mib || !ready || !status)
		goto usage;
	prctl(PR_SET_NAME, comm);
	status_fd = open(status, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (status_fd < 0) {
		perror("cowblow: status file");
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	char *mem = touch_new(main_mib);
	if (!mem) {
		note("parent alloc failed\n");
		return 3;
	}
	int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (rfd < 0 || dprintf(rfd, "%d\n", (int)getpid()) < 0 || close(rfd) < 0)
		return 1;
	int sig;
	sigwait(&set, &sig);
	pid_t pid = fork();
	if (pid < 0) {
		note("fork failed\n");
		return 4;
	}
	if (pid == 0) {
		prctl(PR_SET_NAME, child_comm);
		note("child %d start\n", (int)getpid());
		for (unsigned long off = 0; off < main_mib * MIB; off += 4096) {
			mem[off] = 2;
			if ((off + 4096) % (64 * MIB) == 0)
				note("child copied %lu\n", (off + 4096) / MIB);
		}
		note("child %d dirtied %lu\n", (int)getpid(), main_mib);
		for (;;)
			pause();
	}
	for (unsigned long g = STEP_MIB; g <= grow_mib; g += STEP_MIB) {
		if (!touch_new(STEP_MIB)) {
			note("parent mmap failed at %lu\n", g);
			break;
		}
		note("parent grew %lu\n", g);
	}
	note("parent done\n");
	for (;;)
		pause();
usage:
	fputs("usage: cowblow -m MAIN_MIB -g GROW_MIB [-n COMM] [-c CHILD_COMM] -r READY -o STATUS\n",
	      stderr);
	return 1;
}
