/* allocer - ask for memory that may be refused, and say what happened
 * (the commit-refusal scenarios of the VM tier, issue 14).
 *
 *   allocer [-n COMM] [-a MIB] [-c COUNT] [-d MS] [-m] SIZE_KB
 *
 * Makes COUNT (default 1) attempts to malloc(SIZE_KB KiB) and frees what it
 * got; -m: mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE) instead of
 * malloc.  -a: RLIMIT_AS of MIB MiB first (an ENOMEM that is not the commit
 * check's).  -n: process name (prctl PR_SET_NAME).  -d: spread the attempts
 * over MS milliseconds.  Nothing is touched: only the commit charge counts.
 * Output, one line: "pid=P comm=C size_kb=S attempts=N ok=N enomem=N other=N ms=T"
 * (T: the attempts' wall time, milliseconds)
 * Exit 0 when every attempt ended (ok or ENOMEM), 1 on usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static unsigned long num(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s) {
		fprintf(stderr, "allocer: bad number %s\n", s);
		exit(1);
	}
	return v;
}

static void *attempt(size_t size, int use_mmap)
{
	if (!use_mmap)
		return malloc(size);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
	unsigned long count = 1, as_mib = 0, spread_ms = 0, ok = 0, enomem = 0, other = 0;
	int use_mmap = 0, opt;
	char comm[16] = "";
	while ((opt = getopt(argc, argv, "n:a:c:d:m")) != -1) {
		switch (opt) {
		case 'n': snprintf(comm, sizeof(comm), "%s", optarg); break;
		case 'a': as_mib = num(optarg); break;
		case 'c': count = num(optarg); break;
		case 'd': spread_ms = num(optarg); break;
		case 'm': use_mmap = 1; break;
		default:
			fprintf(stderr, "usage: allocer [-n COMM] [-a MIB] [-c COUNT] [-d MS] [-m] SIZE_KB\n");
			return 1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: allocer [-n COMM] [-a MIB] [-c COUNT] [-d MS] [-m] SIZE_KB\n");
		return 1;
	}
	size_t size = (size_t)num(argv[optind]) * 1024;
	if (comm[0] && prctl(PR_SET_NAME, comm, 0, 0, 0) < 0)
		perror("allocer: prctl");
	if (as_mib) {
		struct rlimit rl = { as_mib << 20, as_mib << 20 };
		if (setrlimit(RLIMIT_AS, &rl) < 0) {
			perror("allocer: setrlimit");
			return 1;
		}
	}
	struct timespec gap = { 0, 0 };
	if (spread_ms && count > 1)
		gap.tv_nsec = (long)(spread_ms * 1000000ul / count % 1000000000ul);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < count; i++) {
		errno = 0;
		void *p = attempt(size, use_mmap);
		if (p) {
			ok++;
			if (use_mmap)
				munmap(p, size);
			else
				free(p);
		} else if (errno == ENOMEM) {
			enomem++;
		} else {
			other++;
		}
		if (gap.tv_nsec)
			nanosleep(&gap, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	printf("pid=%d comm=%s size_kb=%zu attempts=%lu ok=%lu enomem=%lu other=%lu ms=%ld\n",
	       (int)getpid(), comm, size / 1024, count, ok, enomem, other, ms);
	return 0;
}
