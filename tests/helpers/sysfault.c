/* sysfault - kill a program, or fail one of its system calls, at the K-th
 * call of one system call (issue 13: "fault injection on a real kernel";
 * tests/vm/scenarios/41-fault-injection.sh).
 *
 *   sysfault [-w] [-A] [-l] NAMES K ACTION PROGRAM [ARG...]
 *   sysfault -c [-w] [-A] [-l] NAMES PROGRAM [ARG...]
 *     Runs PROGRAM under ptrace with a seccomp filter that stops only at
 *     the system calls NAMES (comma-separated libseccomp names: openat,
 *     write, renameat, ...).  The K-th of those calls made by PROGRAM's
 *     process (any of its threads, in the order the kernel stops them;
 *     -A: by any process it starts as well) gets ACTION before it runs:
 *       KILL       SIGKILL to that whole process: the call never runs
 *       E...       an errno name (ENOSPC, EROFS, EIO, EDQUOT, ENOMEM):
 *                  the call is skipped and returns -errno; a close runs
 *                  and then returns -errno (the kernel releases the
 *                  descriptor whatever close() reports: NFS's ENOSPC)
 *     -w counts write-class calls only: open/openat/creat only with a
 *     write, create, truncate or append flag, close only of a descriptor
 *     open for writing (every other NAME counts every call).
 *     -c only counts them: "sysfault: count NAME N" per name on stderr.
 *     -l lists each counted call as it stops: "sysfault: call #N NAME"
 *     (to compare the call sequences of two runs).
 *     SIGTERM, SIGINT and SIGHUP to sysfault are passed on to PROGRAM.
 *     stderr gets "sysfault: fired call #K (NAME #N) in pid P: ACTION
 *     TARGET" (the file or path the call acts on) when it
 *     happened, "sysfault: not reached: N calls" if not (N < K).
 *     Exit: PROGRAM's status (128 + signal when killed); 125 on usage or
 *     set-up errors.
 *
 * Why not strace's inject=NAME:signal=KILL:when=K: strace 6.1 does not
 * deliver an injected signal in --seccomp-bpf mode (measured: the program
 * runs on), and without that mode every system call stops, which made one
 * killed `apply` cost 7.3 s instead of 2.7 s in the TCG guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#define MAX_TASKS 4096

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "ENOSPC", ENOSPC }, { "EROFS", EROFS }, { "EIO", EIO },
	{ "EDQUOT", EDQUOT }, { "ENOMEM", ENOMEM }, { "EINTR", EINTR },
};

static pid_t child;
static int nr_open, nr_openat, nr_creat, nr_close;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int usage(void)
{
	fprintf(stderr, "usage: sysfault [-w] [-A] [-l] NAMES K KILL|ENOSPC|EROFS|EIO|EDQUOT|ENOMEM|EINTR "
			"PROGRAM [ARG...]\n       sysfault -c [-w] [-A] [-l] NAMES PROGRAM [ARG...]\n");
	return 125;
}

/* The Tgid of a task (its process); -1 if gone. */
static pid_t tgid_of(pid_t tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "re");
	pid_t tg = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tg) == 1)
			break;
	fclose(f);
	return tg;
}

/* Is descriptor fd of task tid open for writing? (its fdinfo flags) */
static int fd_writable(pid_t tid, unsigned long long fd)
{
	char path[96], line[128];
	unsigned flags = 0;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%llu", (int)tid, fd);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1)
			break;
	fclose(f);
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* Does this stopped call count under -w? */
static int write_class(pid_t tid, const struct user_regs_struct *r)
{
	long nr = (long)r->orig_rax;
	unsigned long long flags = nr == nr_openat ? r->rdx : r->rsi;
	if (nr == nr_creat)
		return 1;
	if (nr == nr_open || nr == nr_openat)
		return (flags & (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)) != 0;
	if (nr == nr_close)
		return fd_writable(tid, r->rdi);
	return 1;
}

/* What call nr of task tid acts on, for -l: the file of its descriptor,
 * or the path it names (a string in the task's memory); "" if neither. */
static void call_target(pid_t tid, const struct user_regs_struct *r, char *out, size_t len)
{
	long nr = (long)r->orig_rax;
	unsigned long long arg = r->rdi;
	char link[64];
	ssize_t n = -1;
	out[0] = '\0';
	if (nr == nr_open || nr == seccomp_syscall_resolve_name("mkdir") ||
	    nr == seccomp_syscall_resolve_name("rmdir") || nr == seccomp_syscall_resolve_name("unlink") ||
	    nr == nr_creat || nr == seccomp_syscall_resolve_name("rename")) {
		n = 0;
	} else if (nr == nr_openat || nr == seccomp_syscall_resolve_name("mkdirat") ||
		   nr == seccomp_syscall_resolve_name("unlinkat") ||
		   nr == seccomp_syscall_resolve_name("renameat") ||
		   nr == seccomp_syscall_resolve_name("renameat2")) {
		arg = r->rsi;
		n = 0;
	}
	if (n == 0) {
		struct iovec local = { out, len - 1 }, remote = { (void *)(uintptr_t)arg, len - 1 };
		n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
		out[n > 0 ? (size_t)n : 0] = '\0';
		return;
	}
	snprintf(link, sizeof(link), "/proc/%d/fd/%llu", (int)tid, arg);
	n = readlink(link, out, len - 1);
	out[n > 0 ? (size_t)n : 0] = '\0';
}

#define MAX_NR 512

struct run {
	const char *action;
	unsigned long k, seen, count[MAX_NR];
	int err, only_write, all_procs, count_only, list, fired, exec_seen, status;
	int nrs[64], nnr;
	pid_t tasks[MAX_TASKS], tgids[MAX_TASKS]; /* tgid 0: not read yet */
	int ntasks;
	unsigned long stops; /* seccomp stops, counted or not: the cost */
	long opts;           /* the ptrace options */
	pid_t close_tid;     /* a close that runs, its result replaced at exit */
};

/* NAMES into r->nrs; -1 on an unknown name. */
static int parse_names(struct run *r, char *names)
{
	char *save = NULL;
	for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		int nr = seccomp_syscall_resolve_name(n);
		if (nr < 0 || nr >= MAX_NR || r->nnr == 64) {
			fprintf(stderr, "sysfault: unknown system call %s\n", n);
			return -1;
		}
		r->nrs[r->nnr++] = nr;
	}
	return r->nnr ? 0 : -1;
}

/* The rules for one call.  Under -w an open stops only with a write,
 * create, truncate or append flag (one rule per flag, ORed by libseccomp):
 * a program reading /proc opens thousands of files read-only, and every
 * stop is two context switches, slow under TCG. */
static int add_rules(scmp_filter_ctx ctx, const struct run *r, int nr)
{
	static const unsigned long long bits[][2] = {
		{ O_ACCMODE, O_WRONLY }, { O_ACCMODE, O_RDWR }, { O_ACCMODE, O_ACCMODE },
		{ O_CREAT, O_CREAT }, { O_TRUNC, O_TRUNC }, { O_APPEND, O_APPEND },
	};
	unsigned arg = nr == nr_openat ? 2 : 1;
	if (!r->only_write || (nr != nr_open && nr != nr_openat))
		return seccomp_rule_add(ctx, SCMP_ACT_TRACE(1), nr, 0);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(1), nr, 1,
					  SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, bits[i][0], bits[i][1]));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* In the child: traced, stopped until the parent is ready, then the
 * filter (RET_TRACE for the chosen calls only) and the program. */
static _Noreturn void run_child(const struct run *r, char **argv)
{
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 || raise(SIGSTOP) != 0)
		_exit(125);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = ctx ? seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) : -ENOMEM;
	for (int i = 0; rc == 0 && i < r->nnr; i++)
		rc = add_rules(ctx, r, r->nrs[i]);
	if (rc < 0 || seccomp_load(ctx) < 0) {
		fprintf(stderr, "sysfault: cannot load the seccomp filter\n");
		_exit(125);
	}
	seccomp_release(ctx);
	execvp(argv[0], argv);
	fprintf(stderr, "sysfault: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Known task?  Remembers it if not; 1 when it was new. */
static int new_task(struct run *r, pid_t tid)
{
	for (int i = 0; i < r->ntasks; i++)
		if (r->tasks[i] == tid)
			return 0;
	if (r->ntasks < MAX_TASKS) {
		r->tgids[r->ntasks] = 0;
		r->tasks[r->ntasks++] = tid;
	}
	return 1;
}

/* The task's process, read from /proc once per task (a stop must be
 * cheap: the program's other process, the daemon's reader, stops too). */
static pid_t task_tgid(struct run *r, pid_t tid)
{
	for (int i = 0; i < r->ntasks; i++) {
		if (r->tasks[i] != tid)
			continue;
		if (r->tgids[i] <= 0)
			r->tgids[i] = tgid_of(tid);
		return r->tgids[i];
	}
	return tgid_of(tid);
}

/* A task is gone: forget it (its tid may come back as another task). */
static void gone_task(struct run *r, pid_t tid)
{
	for (int i = 0; i < r->ntasks; i++) {
		if (r->tasks[i] == tid) {
			r->tasks[i] = r->tasks[--r->ntasks];
			r->tgids[i] = r->tgids[r->ntasks];
			return;
		}
	}
}

/* A seccomp stop of task tid: count it, act on the K-th. */
static void on_call(struct run *r, pid_t tid)
{
	struct user_regs_struct regs;
	r->stops++;
	if (!r->exec_seen || r->fired)
		return;
	pid_t tg = task_tgid(r, tid);
	if ((!r->all_procs && tg != child) || ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0)
		return;
	long nr = (long)regs.orig_rax;
	if (nr < 0 || nr >= MAX_NR)
		return;
	if (r->only_write && !write_class(tid, &regs))
		return;
	r->count[nr]++;
	++r->seen;
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	char what[160] = "";
	if (r->list || (!r->count_only && r->seen == r->k))
		call_target(tid, &regs, what, sizeof(what));
	if (r->list)
		fprintf(stderr, "sysfault: call #%lu %s %s\n", r->seen, name ? name : "?", what);
	if (r->count_only || r->seen != r->k) {
		free(name);
		return;
	}
	r->fired = 1;
	fprintf(stderr, "sysfault: fired call #%lu (%s #%lu) in pid %d: %s %s\n", r->k,
		name ? name : "?", r->count[nr], (int)tg, r->action, what);
	free(name);
	if (r->err == 0) {
		kill(tg, SIGKILL);
		return;
	}
	if (nr == nr_close) {
		r->close_tid = tid; /* trace_loop: PTRACE_SYSCALL to its exit */
		return;
	}
	regs.orig_rax = (unsigned long long)-1; /* skip the call ... */
	regs.rax = (unsigned long long)-(long long)r->err; /* ... returning -err */
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0)
		perror("sysfault: PTRACE_SETREGS");
}

/* A process PROGRAM forked (the daemon's /proc reader): not counted, so
 * its filter is suspended (CONFIG_CHECKPOINT_RESTORE): it makes no more
 * stops, which cost most of a daemon run under TCG.  This suspends its
 * own seccomp sandbox as well; sysfault tests the writes, not the
 * sandbox.  Where the kernel refuses, it just stops as before. */
static void other_process(const struct run *r, pid_t t)
{
	ptrace(PTRACE_SETOPTIONS, t, NULL, (void *)(r->opts | PTRACE_O_SUSPEND_SECCOMP));
}

/* The fired close's exit stop: it ran; it returns -err now. */
static void close_result(struct run *r, pid_t t)
{
	struct user_regs_struct regs;
	r->close_tid = 0;
	if (ptrace(PTRACE_GETREGS, t, NULL, &regs) < 0)
		return;
	regs.rax = (unsigned long long)-(long long)r->err;
	if (ptrace(PTRACE_SETREGS, t, NULL, &regs) < 0)
		perror("sysfault: PTRACE_SETREGS");
}

static void trace_loop(struct run *r)
{
	for (;;) {
		int st;
		pid_t t = waitpid(-1, &st, __WALL);
		if (t < 0 && errno == EINTR)
			continue;
		if (t < 0)
			return; /* ECHILD: every tracee is gone */
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			gone_task(r, t);
			if (t == child)
				r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), ev = st >> 16, deliver = 0;
		int fresh = new_task(r, t);
		if (t == r->close_tid && sig == (SIGTRAP | 0x80)) {
			close_result(r, t);
			ptrace(PTRACE_CONT, t, NULL, NULL);
			continue;
		}
		if (fresh && sig == SIGSTOP && !r->all_procs && task_tgid(r, t) != child)
			other_process(r, t);
		if (ev == PTRACE_EVENT_SECCOMP)
			on_call(r, t);
		else if (ev == PTRACE_EVENT_EXEC && t == child)
			r->exec_seen = 1;
		else if (ev == 0 && !(fresh && sig == SIGSTOP) && sig != (SIGTRAP | 0x80))
			deliver = sig; /* a real signal: pass it on */
		ptrace(t == r->close_tid ? PTRACE_SYSCALL : PTRACE_CONT, t, NULL,
		       (void *)(long)deliver);
	}
}

static int parse_action(struct run *r)
{
	if (strcmp(r->action, "KILL") == 0)
		return 0;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		if (strcmp(r->action, errnos[i].name) == 0) {
			r->err = errnos[i].err;
			return 0;
		}
	}
	return -1;
}

static void report(const struct run *r)
{
	if (r->count_only) {
		unsigned long total = 0;
		for (int i = 0; i < r->nnr; i++) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nrs[i]);
			fprintf(stderr, "sysfault: count %s %lu\n", name ? name : "?",
				r->count[r->nrs[i]]);
			total += r->count[r->nrs[i]];
			free(name);
		}
		fprintf(stderr, "sysfault: count total %lu\n", total);
		fprintf(stderr, "sysfault: stops %lu\n", r->stops);
	} else if (!r->fired) {
		fprintf(stderr, "sysfault: not reached: %lu calls\n", r->seen);
	}
}

/* Options and operands into r; the program's argv, or NULL. */
static char **parse_args(int argc, char **argv, struct run *r)
{
	int opt;
	while ((opt = getopt(argc, argv, "+wAcl")) != -1) {
		if (opt == 'w')
			r->only_write = 1;
		else if (opt == 'A')
			r->all_procs = 1;
		else if (opt == 'c')
			r->count_only = 1;
		else if (opt == 'l')
			r->list = 1;
		else
			return NULL;
	}
	int need = r->count_only ? 2 : 4;
	if (argc - optind < need || parse_names(r, argv[optind]) < 0)
		return NULL;
	if (!r->count_only) {
		r->k = strtoul(argv[optind + 1], NULL, 10);
		r->action = argv[optind + 2];
		if (r->k == 0 || parse_action(r) < 0)
			return NULL;
	}
	return argv + optind + need - 1;
}

int main(int argc, char **argv)
{
	static struct run r;
	char **prog = parse_args(argc, argv, &r);
	if (!prog)
		return usage();
	nr_open = seccomp_syscall_resolve_name("open");
	nr_openat = seccomp_syscall_resolve_name("openat");
	nr_creat = seccomp_syscall_resolve_name("creat");
	nr_close = seccomp_syscall_resolve_name("close");
	child = fork();
	if (child < 0)
		return 125;
	if (child == 0)
		run_child(&r, prog);
	int st;
	if (waitpid(child, &st, 0) != child || !WIFSTOPPED(st))
		return 125;
	new_task(&r, child);
	r.opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
		 PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
	if (ptrace(PTRACE_SETOPTIONS, child, NULL, (void *)r.opts) < 0)
		return 125;
	signal(SIGTERM, forward);
	signal(SIGINT, forward);
	signal(SIGHUP, forward);
	ptrace(PTRACE_CONT, child, NULL, NULL);
	trace_loop(&r);
	report(&r);
	return r.status;
}
