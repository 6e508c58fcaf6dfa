/* vmas - a process whose /proc/PID/smaps is slow to read: NVMAS small
 * VMAs (every other page of one mapping made read-only) and MIB MiB
 * touched, then it waits for a signal.  The smaps reads of the daemon
 * (off its event loop) are timed against it.
 *
 *   vmas NVMAS MIB
 *
 * Prints "vmas: pid=P ready" once built.  Exit 0 on SIGTERM, 1 on errors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned long num(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s) {
		fprintf(stderr, "vmas: bad number %s\n", s);
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fputs("usage: vmas NVMAS MIB\n", stderr);
		return 1;
	}
	unsigned long n = num(argv[1]), mib = num(argv[2]);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		perror("vmas: mmap");
		return 1;
	}
	for (unsigned long i = 1; i < n; i += 2)
		if (mprotect(a + i * page, page, PROT_READ) < 0) {
			perror("vmas: mprotect");
			return 1;
		}
	if (mib) {
		char *b = malloc(mib << 20);
		if (!b) {
			perror("vmas: malloc");
			return 1;
		}
		memset(b, 1, mib << 20);
	}
	printf("vmas: pid=%d ready\n", (int)getpid());
	fflush(stdout);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sig;
	sigwait(&set, &sig);
	return 0;
}
