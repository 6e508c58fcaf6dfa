/* refusalcost - what the commit-refusal capture costs the rest of the
 * system (issue 14, BENCHMARKS.md 8): successful mmap/munmap pairs of
 * private writable memory (each passes the commit check the BPF program
 * hooks) and forks (kernel_clone and every VMA's check), timed with the
 * capture attached and detached.
 *
 * The capture lives in a holder child, as it lives in the daemon: loaded in
 * this process it would add libbpf's and the ring buffer's mappings to the
 * very address space the forks copy and the mmaps search, and that alone
 * moved the figures by tens of per cent.  The work is cut in BLOCKS blocks
 * per mode; the holder attaches or detaches between blocks, in the order
 * off on, on off, off on ... (ABBA: a drift of the host hits both modes
 * alike).  The BPF programs run in the context of the process making the
 * calls, so its CPU time (user + sys, its forks included) is the figure.
 * Root in a kernel with BTF (the VM tier).
 *
 *   refusalcost [-A] [-m MMAPS] [-f FORKS] [-b BLOCKS]
 *
 * MMAPS and FORKS are per mode (default 100,000 and 20,000, 10 blocks).
 * -A: A/A run, the holder never attaches: the method's own noise.
 * Prints one "pair=K off_us=.. on_us=.. ..." line per pair of blocks as it
 * ends, then
 * "refusalcost: ... ratio=R pair_min=.. pair_median=.. pair_max=..";
 * exit 1 when the capture cannot load (it says why). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "refusal_bpf.h"
#include "roots.h"

#define MAX_BLOCKS 100

struct holder {
	pid_t pid;
	int cmd, reply; /* pipes: commands to the holder, its answers */
};

static uint64_t cpu_us(void)
{
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	uint64_t us = 0;
	const struct rusage *r[] = { &self, &kids };
	for (int i = 0; i < 2; i++)
		us += (uint64_t)(r[i]->ru_utime.tv_sec + r[i]->ru_stime.tv_sec) * 1000000u +
		      (uint64_t)(r[i]->ru_utime.tv_usec + r[i]->ru_stime.tv_usec);
	return us;
}

/* The holder: 'a' attach (load the capture), 'd' detach (close it). */
static void holder_main(int cmd, int reply, int aa)
{
	struct refusal_capture *cap = NULL;
	char c;
	while (read(cmd, &c, 1) == 1) {
		char why[512] = "";
		char ok = 'k';
		if (c == 'a' && !aa && !cap) {
			struct roots r;
			roots_default(&r);
			if (refusal_capture_open(&r, &cap, why, sizeof(why)) < 0) {
				fprintf(stderr, "refusalcost: capture unavailable: %s\n", why);
				ok = 'e';
			}
		} else if (c == 'd') {
			refusal_capture_close(cap);
			cap = NULL;
		}
		if (write(reply, &ok, 1) != 1)
			break;
	}
	refusal_capture_close(cap);
	_exit(0);
}

static int holder_start(struct holder *h, int aa)
{
	int c[2], r[2];
	if (pipe(c) < 0 || pipe(r) < 0)
		return -1;
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		close(c[1]);
		close(r[0]);
		holder_main(c[0], r[1], aa);
	}
	close(c[0]);
	close(r[1]);
	h->cmd = c[1];
	h->reply = r[0];
	return 0;
}

static int holder_say(const struct holder *h, char c)
{
	char ok = 0;
	if (write(h->cmd, &c, 1) != 1 || read(h->reply, &ok, 1) != 1)
		return -1;
	return ok == 'k' ? 0 : -1;
}

static int mmaps_run(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		void *p = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p == MAP_FAILED || munmap(p, 64 << 10) < 0) {
			perror("refusalcost: mmap");
			return -1;
		}
	}
	return 0;
}

static int forks_run(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
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

struct block {
	uint64_t mmap_us, fork_us;
};

/* One block in one mode: CPU of its mmaps and of its forks. */
static int block_run(const struct holder *h, int on, unsigned long m, unsigned long f,
		     struct block *b)
{
	if (holder_say(h, on ? 'a' : 'd') < 0)
		return -1;
	uint64_t c0 = cpu_us();
	if (mmaps_run(m) < 0)
		return -1;
	uint64_t c1 = cpu_us();
	if (forks_run(f) < 0)
		return -1;
	b->mmap_us = c1 - c0;
	b->fork_us = cpu_us() - c1;
	return 0;
}

static double ratio(uint64_t on, uint64_t off)
{
	return off ? (double)on / (double)off : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static uint64_t block_us(const struct block *b)
{
	return b->mmap_us + b->fork_us;
}

static void pair_print(const struct block *b, unsigned long k)
{
	printf("pair=%lu off_us=%llu on_us=%llu ratio=%.3f mmap_ratio=%.3f fork_ratio=%.3f\n", k,
	       (unsigned long long)block_us(&b[0]), (unsigned long long)block_us(&b[1]),
	       ratio(block_us(&b[1]), block_us(&b[0])), ratio(b[1].mmap_us, b[0].mmap_us),
	       ratio(b[1].fork_us, b[0].fork_us));
}

/* The summary over the pairs. */
static void report(const struct block (*b)[2], unsigned long blocks, unsigned long m,
		   unsigned long f, int aa)
{
	uint64_t sum[2][2] = { { 0 } }; /* [mode][mmap, fork] */
	double pr[MAX_BLOCKS];
	for (unsigned long k = 0; k < blocks; k++) {
		for (int s = 0; s < 2; s++) {
			sum[s][0] += b[k][s].mmap_us;
			sum[s][1] += b[k][s].fork_us;
		}
		pr[k] = ratio(block_us(&b[k][1]), block_us(&b[k][0]));
	}
	qsort(pr, blocks, sizeof(pr[0]), cmp_double);
	uint64_t off = sum[0][0] + sum[0][1], on = sum[1][0] + sum[1][1];
	printf("refusalcost: %s mmaps=%lu forks=%lu blocks=%lu off_cpu_ms=%llu on_cpu_ms=%llu "
	       "ratio=%.3f pair_min=%.3f pair_median=%.3f pair_max=%.3f mmap_ratio=%.3f "
	       "fork_ratio=%.3f\n",
	       aa ? "A/A" : "off/on", m, f, blocks, (unsigned long long)(off / 1000),
	       (unsigned long long)(on / 1000), ratio(on, off), pr[0], pr[blocks / 2],
	       pr[blocks - 1], ratio(sum[1][0], sum[0][0]), ratio(sum[1][1], sum[0][1]));
}

static int usage(void)
{
	fprintf(stderr, "usage: refusalcost [-A] [-m MMAPS] [-f FORKS] [-b BLOCKS (1..%d)]\n",
		MAX_BLOCKS);
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long m = 100000, f = 20000, blocks = 10;
	int aa = 0, opt;
	while ((opt = getopt(argc, argv, "Am:f:b:")) != -1) {
		if (opt == 'A')
			aa = 1;
		else if (opt == 'm' && bu_ulong(optarg, 0, 100000000, &m) == 0)
			continue;
		else if (opt == 'f' && bu_ulong(optarg, 0, 10000000, &f) == 0)
			continue;
		else if (opt != 'b' || bu_ulong(optarg, 1, MAX_BLOCKS, &blocks) < 0)
			return usage();
	}
	struct holder h;
	if (holder_start(&h, aa) < 0) {
		perror("refusalcost: holder");
		return 1;
	}
	static struct block b[MAX_BLOCKS][2]; /* [pair][off, on] */
	int rc = 0;
	setvbuf(stdout, NULL, _IOLBF, 0); /* each pair as it ends: a guest timeout keeps them */
	for (unsigned long k = 0; k < blocks && rc == 0; k++) {
		for (int i = 0; i < 2 && rc == 0; i++) {
			int on = (int)(k & 1) ^ i; /* off on, on off, ... */
			rc = block_run(&h, on, m / blocks, f / blocks, &b[k][on]);
		}
		if (rc == 0)
			pair_print(b[k], k);
	}
	close(h.cmd);
	waitpid(h.pid, NULL, 0);
	if (rc < 0)
		return 1;
	report(b, blocks, m, f, aa);
	return 0;
}
