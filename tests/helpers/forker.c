/* forker - allocate and touch N MiB of private anonymous memory, then fork.
 *
 * A test program for the real-kernel tier (tests/vm): under
 * vm.overcommit_memory=2 a fork charges the child for all of the parent's
 * private writable memory again (DESIGN §2), so a process holding N MiB needs
 * about N MiB more commit headroom to fork.  The child exits at once.
 *
 *   forker [OPTIONS] once    allocate, fork once, print the result, exit
 *   forker [OPTIONS] hold    allocate, then wait: every SIGUSR1 forks once and
 *                            writes the result to the -o file; SIGUSR2
 *                            madvise(MADV_DOFORK)s the memory (a -D region
 *                            is charged by forks again, VmData unchanged)
 *                            and writes "dofork ok" there; SIGTERM, SIGINT
 *                            or SIGHUP end it (exit 0)
 * Options:
 *   -m MIB    private anonymous memory to map and touch (default 0)
 *   -n COMM   process name (prctl PR_SET_NAME, 15 chars) for match_comm
 *   -r FILE   hold: write "PID\n" to FILE once the memory is touched
 *   -o FILE   hold: result file, replaced atomically (FILE.tmp + rename) after
 *             each fork; remove it before sending SIGUSR1, wait until it exists
 *   -u UID    after allocating, drop to UID/GID (no capabilities, so the
 *             kernel subtracts admin_reserve_kbytes from the limit)
 *   -N        map with MAP_NORESERVE (as jemalloc does when the kernel
 *             overcommits): under overcommit_memory 0/1 such a mapping is
 *             never charged, not even by a fork after a switch to mode 2
 *   -D        madvise(MADV_DONTFORK) the memory: accounted, never charged by
 *             a fork (dup_mmap skips VM_DONTCOPY)
 *   -R        after touching, mprotect(PROT_READ) the memory: it leaves
 *             VmData but keeps VM_ACCOUNT, so a fork is still charged for it
 *   -U        after allocating, unshare(CLONE_NEWUSER): root in a user
 *             namespace (full CapEff there, no CAP_SYS_ADMIN in the initial
 *             one: the kernel subtracts admin_reserve_kbytes)
 *   -K N      N separate mappings of -m MiB each, PROT_NONE gaps between
 *             (no merging into one VMA); with -t none is touched
 *   -t        do not touch the memory
 *   -L MS     the forked child lives MS milliseconds (a BGSAVE child, a
 *             worker: long enough for an observer to read it) before exiting
 *
 * Result line: "fork ok", "fork ENOMEM" or "fork error: <strerror>".
 * Exit codes: 0 fork ok (once) / clean stop (hold); 1 usage or I/O error;
 *             2 fork ENOMEM (once); 3 the allocation itself failed (ENOMEM);
 *             4 fork failed otherwise (once).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EX_OK = 0, EX_ERR = 1, EX_FORK_ENOMEM = 2, EX_ALLOC = 3, EX_FORK_OTHER = 4 };

static void usage(void)
{
	fputs("usage: forker [-m MIB] [-n COMM] [-r READYFILE] [-o RESULTFILE] [-u UID] [-N] [-D] [-R] [-U] "
	      "[-K N] [-t] [-L MS] once|hold\n",
	      stderr);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Write all of buf to fd; -1 with errno on failure. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replace path with text atomically: path.tmp, then rename. */
static int write_file_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	int fd, n;

	n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, text, strlen(text)) < 0) {
		int e = errno;
		(void)close(fd);
		(void)unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) < 0) {
		int e = errno;
		(void)unlink(tmp);
		errno = e;
		return -1;
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		(void)unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* Fork once; the child exits at once.  Returns 0 ok, else the fork errno.
 * Fills line with the result line (without newline). */
static unsigned long child_ms; /* -L: the child lives this long */

static int fork_once(char *line, size_t linesz)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (child_ms) {
			struct timespec ts = { (time_t)(child_ms / 1000), (long)(child_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		_exit(0);
	}
	if (pid < 0) {
		int e = errno;
		if (e == ENOMEM)
			snprintf(line, linesz, "fork ENOMEM");
		else
			snprintf(line, linesz, "fork error: %s", strerror(e));
		return e != 0 ? e : EIO;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			snprintf(line, linesz, "fork error: waitpid: %s", strerror(errno));
			return EIO;
		}
	}
	snprintf(line, linesz, "fork ok");
	return 0;
}

/* One private anonymous mapping of len bytes; with gap, inside a PROT_NONE
 * reservation one page larger, so that two of them never merge into one
 * VMA.  Returns 0 or the errno of the failing call. */
static unsigned char *pieces_at[4096]; /* for SIGUSR2's MADV_DOFORK */
static size_t npieces, piece_len;

static int map_piece(size_t len, int gap, int noreserve, int dontfork, int readonly, int notouch)
{
	long pg = sysconf(_SC_PAGESIZE);
	if (pg <= 0)
		pg = 4096;
	unsigned char *p;
	if (gap) {
		/* the reservation is not accountable (PROT_NONE); the piece mapped
		 * over it with MAP_FIXED is */
		unsigned char *r = mmap(NULL, len + 2 * (size_t)pg, PROT_NONE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r == MAP_FAILED)
			return errno;
		p = mmap(r + pg, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | (noreserve ? MAP_NORESERVE : 0), -1, 0);
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);
	}
	if (p == MAP_FAILED)
		return errno;
	pieces_at[npieces++] = p;
	piece_len = len;
	for (size_t off = 0; !notouch && off < len; off += (size_t)pg)
		p[off] = (unsigned char)(off >> 12 | 1);
	if (dontfork && madvise(p, len, MADV_DONTFORK) < 0)
		return errno;
	if (readonly && mprotect(p, len, PROT_READ) < 0)
		return errno;
	return 0;
}

static int drop_to(uid_t uid)
{
	if (setgroups(0, NULL) < 0 || setgid((gid_t)uid) < 0 || setuid(uid) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long mib = 0, uid = 0;
	const char *comm = NULL, *ready = NULL, *result = NULL, *mode;
	int have_uid = 0, noreserve = 0, dontfork = 0, readonly = 0, userns = 0, notouch = 0, opt;
	unsigned long pieces = 1;
	char line[128];

	while ((opt = getopt(argc, argv, "m:n:r:o:u:NDRUK:tL:h")) != -1) {
		switch (opt) {
		case 'm':
			if (parse_ulong(optarg, 1UL << 30, &mib) < 0) {
				fprintf(stderr, "forker: bad -m '%s'\n", optarg);
				return EX_ERR;
			}
			break;
		case 'n':
			comm = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		case 'o':
			result = optarg;
			break;
		case 'u':
			if (parse_ulong(optarg, 65534, &uid) < 0) {
				fprintf(stderr, "forker: bad -u '%s'\n", optarg);
				return EX_ERR;
			}
			have_uid = 1;
			break;
		case 'N':
			noreserve = 1;
			break;
		case 'D':
			dontfork = 1;
			break;
		case 'R':
			readonly = 1;
			break;
		case 'U':
			userns = 1;
			break;
		case 't':
			notouch = 1;
			break;
		case 'L':
			if (parse_ulong(optarg, 600000, &child_ms) < 0) {
				fprintf(stderr, "forker: bad -L '%s'\n", optarg);
				return EX_ERR;
			}
			break;
		case 'K':
			if (parse_ulong(optarg, 4096, &pieces) < 0 || pieces == 0) {
				fprintf(stderr, "forker: bad -K '%s'\n", optarg);
				return EX_ERR;
			}
			break;
		case 'h':
			usage();
			return EX_OK;
		default:
			usage();
			return EX_ERR;
		}
	}
	if (optind != argc - 1) {
		usage();
		return EX_ERR;
	}
	mode = argv[optind];
	if (strcmp(mode, "once") != 0 && strcmp(mode, "hold") != 0) {
		usage();
		return EX_ERR;
	}
	if (strcmp(mode, "hold") == 0 && result == NULL) {
		fputs("forker: hold needs -o RESULTFILE\n", stderr);
		return EX_ERR;
	}
	if (comm != NULL && prctl(PR_SET_NAME, comm, 0, 0, 0) < 0) {
		fprintf(stderr, "forker: prctl(PR_SET_NAME): %s\n", strerror(errno));
		return EX_ERR;
	}

	/* Block the control signals before anything else, so a SIGUSR1 that
	 * arrives while we still allocate waits instead of killing us. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (strcmp(mode, "hold") == 0 && sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		fprintf(stderr, "forker: sigprocmask: %s\n", strerror(errno));
		return EX_ERR;
	}

	for (unsigned long k = 0; mib > 0 && k < pieces; k++) {
		int e = map_piece((size_t)mib << 20, pieces > 1, noreserve, dontfork, readonly, notouch);
		if (e != 0) {
			printf("alloc %s\n", e == ENOMEM ? "ENOMEM" : strerror(e));
			if (fflush(stdout) != 0)
				return EX_ERR;
			return e == ENOMEM ? EX_ALLOC : EX_ERR;
		}
	}
	if (userns && unshare(CLONE_NEWUSER) < 0) {
		fprintf(stderr, "forker: unshare(CLONE_NEWUSER): %s\n", strerror(errno));
		return EX_ERR;
	}
	if (have_uid && drop_to((uid_t)uid) < 0) {
		fprintf(stderr, "forker: drop to uid %lu: %s\n", uid, strerror(errno));
		return EX_ERR;
	}

	if (strcmp(mode, "once") == 0) {
		int e = fork_once(line, sizeof line);
		printf("%s\n", line);
		if (fflush(stdout) != 0 || ferror(stdout))
			return EX_ERR;
		return e == 0 ? EX_OK : e == ENOMEM ? EX_FORK_ENOMEM : EX_FORK_OTHER;
	}

	if (ready != NULL) {
		char buf[32];
		snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
		if (write_file_atomic(ready, buf) < 0) {
			fprintf(stderr, "forker: %s: %s\n", ready, strerror(errno));
			return EX_ERR;
		}
	}
	for (;;) {
		int sig = 0;
		int rc = sigwait(&set, &sig);
		if (rc != 0) {
			fprintf(stderr, "forker: sigwait: %s\n", strerror(rc));
			return EX_ERR;
		}
		if (sig != SIGUSR1 && sig != SIGUSR2)
			return EX_OK;
		if (sig == SIGUSR2) {
			snprintf(line, sizeof line, "dofork ok");
			for (size_t k = 0; k < npieces; k++)
				if (madvise(pieces_at[k], piece_len, MADV_DOFORK) < 0)
					snprintf(line, sizeof line, "dofork error: %s", strerror(errno));
		} else {
			(void)fork_once(line, sizeof line);
		}
		char out[sizeof line + 1];
		snprintf(out, sizeof out, "%s\n", line);
		if (write_file_atomic(result, out) < 0) {
			fprintf(stderr, "forker: %s: %s\n", result, strerror(errno));
			return EX_ERR;
		}
	}
}
