/* toucher - the observed service of item 4: MIB of private anonymous memory
 * (4 KiB pages: MADV_NOHUGEPAGE, as Redis asks for), touched in a loop; it
 * times every iteration itself.
 *
 *   toucher -m MIB [-n COMM] [-c]
 *
 * One iteration writes one byte in each of 256 consecutive pages (1 MiB),
 * moving through the whole region; with -c it also maps, touches and unmaps
 * 64 KiB (allocator churn: mmap/munmap take the mmap lock for writing, which
 * a page-table walker such as smaps_rollup holds for reading).
 * Prints "toucher ready PID" once all memory is touched, then obeys lines on
 * stdin: "start LABEL" starts recording iteration times, "stop" prints
 *   toucher LABEL iters=N p50_ns=.. p99_ns=.. p999_ns=.. max_ns=..
 * and "quit" (or EOF) ends it. */
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "benchutil.h"

#define PAGE 4096ul
#define PAGES_PER_ITER 256ul
#define MAX_SAMPLES (16ul << 20)

struct rec {
	bool on;
	char label[64];
	uint64_t *v;
	size_t n;
};

static void report(struct rec *r)
{
	qsort(r->v, r->n, sizeof(*r->v), bu_cmp_u64);
	printf("toucher %s iters=%zu p50_ns=%" PRIu64 " p99_ns=%" PRIu64 " p999_ns=%" PRIu64
	       " max_ns=%" PRIu64 "\n",
	       r->label, r->n, bu_pct(r->v, r->n, 50), bu_pct(r->v, r->n, 99),
	       bu_pct(r->v, r->n, 99.9), r->n ? r->v[r->n - 1] : 0);
	fflush(stdout);
}

/* Handle stdin commands; false on quit/EOF. */
static bool commands(struct rec *r, char *buf, size_t *len, size_t size)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	if (poll(&p, 1, 0) <= 0)
		return true;
	ssize_t n = read(STDIN_FILENO, buf + *len, size - 1 - *len);
	if (n <= 0)
		return false;
	*len += (size_t)n;
	buf[*len] = '\0';
	char *start = buf, *nl;
	bool go = true;
	while ((nl = strchr(start, '\n'))) {
		*nl = '\0';
		if (strncmp(start, "start ", 6) == 0) {
			snprintf(r->label, sizeof(r->label), "%s", start + 6);
			r->n = 0;
			r->on = true;
		} else if (strcmp(start, "stop") == 0 && r->on) {
			r->on = false;
			report(r);
		} else if (strcmp(start, "quit") == 0) {
			go = false;
		}
		start = nl + 1;
	}
	*len -= (size_t)(start - buf);
	memmove(buf, start, *len);
	return go;
}

int main(int argc, char **argv)
{
	unsigned long mib = 0;
	bool churn = false;
	int opt;
	while ((opt = getopt(argc, argv, "m:n:c")) != -1) {
		switch (opt) {
		case 'm':
			if (bu_ulong(optarg, 1, 1ul << 22, &mib) < 0)
				goto usage;
			break;
		case 'n':
			prctl(PR_SET_NAME, optarg);
			break;
		case 'c':
			churn = true;
			break;
		default:
			goto usage;
		}
	}
	if (!mib)
		goto usage;
	size_t size = mib << 20, npages = size / PAGE;
	char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *mem = base; /* the writes are the work: keep them */
	struct rec r = { .v = malloc(MAX_SAMPLES * sizeof(uint64_t)) };
	if (base == MAP_FAILED || !r.v) {
		perror("toucher");
		return 1;
	}
	madvise(base, size, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < size; off += PAGE)
		mem[off] = 1;
	printf("toucher ready %d\n", (int)getpid());
	fflush(stdout);
	char cmd[1024];
	size_t cmdlen = 0, page = 0;
	for (unsigned long it = 0;; it++) {
		if ((it & 1023) == 0 && !commands(&r, cmd, &cmdlen, sizeof(cmd)))
			break;
		uint64_t t0 = bu_mono_ns();
		for (size_t k = 0; k < PAGES_PER_ITER; k++) {
			mem[page * PAGE]++;
			if (++page == npages)
				page = 0;
		}
		if (churn) {
			char *c = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (c != MAP_FAILED) {
				for (size_t off = 0; off < (64 << 10); off += PAGE)
					c[off] = 1;
				munmap(c, 64 << 10);
			}
		}
		uint64_t dt = bu_mono_ns() - t0;
		if (r.on && r.n < MAX_SAMPLES)
			r.v[r.n++] = dt;
	}
	free(r.v);
	return 0;
usage:
	fputs("usage: toucher -m MIB [-n COMM] [-c]\n", stderr);
	return 1;
}
