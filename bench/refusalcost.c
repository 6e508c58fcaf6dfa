/* refusalcost - what the commit-refusal capture costs the rest of the
 * system (issue 14, BENCHMARKS.md): 100,000 successful mmap/munmap pairs of
 * private writable memory (each passes the commit check the BPF program
 * hooks) and 20,000 forks (kernel_clone and every VMA's check), timed with
 * the capture attached (-c: loaded here through the library, as the daemon
 * loads it) or not.  The BPF programs run in the context of the process
 * making the calls, so its CPU time (user + sys, children included) is the
 * figure.  Root in a kernel with BTF (the VM tier).
 *
 *   refusalcost [-c] [-m MMAPS] [-f FORKS]
 *
 * Prints: "capture=on|off mmaps=N forks=N cpu_ms=C wall_ms=W"; exit 1 when
 * -c cannot load the capture (it says why). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "refusal_bpf.h"
#include "roots.h"

static uint64_t cpu_ms(void)
{
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	uint64_t us = 0;
	const struct rusage *r[] = { &self, &kids };
	for (int i = 0; i < 2; i++)
		us += (uint64_t)(r[i]->ru_utime.tv_sec + r[i]->ru_stime.tv_sec) * 1000000u +
		      (uint64_t)(r[i]->ru_utime.tv_usec + r[i]->ru_stime.tv_usec);
	return us / 1000;
}

static int storm(unsigned long mmaps, unsigned long forks)
{
	for (unsigned long i = 0; i < mmaps; i++) {
		void *p = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p == MAP_FAILED || munmap(p, 64 << 10) < 0) {
			perror("refusalcost: mmap");
			return -1;
		}
	}
	for (unsigned long i = 0; i < forks; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("refusalcost: fork");
			return -1;
		}
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) < 0) {
			perror("refusalcost: waitpid");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long mmaps = 100000, forks = 20000;
	int capture = 0, opt;
	while ((opt = getopt(argc, argv, "cm:f:")) != -1) {
		switch (opt) {
		case 'c': capture = 1; break;
		case 'm': mmaps = strtoul(optarg, NULL, 10); break;
		case 'f': forks = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: refusalcost [-c] [-m MMAPS] [-f FORKS]\n");
			return 1;
		}
	}
	struct refusal_capture *cap = NULL;
	if (capture) {
		struct roots r;
		char why[512];
		roots_default(&r);
		if (refusal_capture_open(&r, &cap, why, sizeof(why)) < 0) {
			fprintf(stderr, "refusalcost: capture unavailable: %s\n", why);
			return 1;
		}
	}
	uint64_t c0 = cpu_ms(), w0 = bu_mono_ns();
	int rc = storm(mmaps, forks);
	uint64_t c1 = cpu_ms(), w1 = bu_mono_ns();
	refusal_capture_close(cap);
	if (rc < 0)
		return 1;
	printf("capture=%s mmaps=%lu forks=%lu cpu_ms=%llu wall_ms=%llu\n", capture ? "on" : "off",
	       mmaps, forks, (unsigned long long)(c1 - c0), (unsigned long long)((w1 - w0) / 1000000));
	return 0;
}
