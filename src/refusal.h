/* refusal.h - refusals of the kernel's commit check: one record
 * per refusal, the words an on-call engineer reads, a per-service log rate
 * limit, and a small bounded book of recent refusals and counts that the
 * daemon persists for `status`, `recommend` and the metrics.  Pure: no I/O,
 * no clock (times are passed in).  The capture is refusal_bpf.c, the file
 * refusal_store.c. */
#ifndef OVERCOMMITD_REFUSAL_H
#define OVERCOMMITD_REFUSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rf_event; /* bpf/refusal_abi.h */

enum refusal_op { RF_OP_FORK = 0, RF_OP_MMAP, RF_OP_BRK, RF_OP_MREMAP, RF_OP_OTHER, RF_NOPS };

#define RF_NAME_MAX 64   /* service names, as policy names */
#define RF_RECENT 32     /* recent refusals kept (ring) */
#define RF_TALLIES 64    /* services counted; more share the unnamed tally */

struct refusal {
	uint64_t time_ms;        /* wall clock, ms since the epoch */
	int pid, tgid;           /* thread and process */
	uint32_t uid;
	char comm[16];
	char service[RF_NAME_MAX]; /* matched service, "" none */
	int instance;            /* main pid of the service's instance, 0 none */
	enum refusal_op op;
	uint64_t size_kb;        /* what the refused check was asked for */
	uint64_t need_kb;        /* the operation's charge up to the refusal (fork: summed) */
	bool need_partial;       /* a fork refused midway: it needed at least need_kb */
	int64_t committed_kb;    /* Committed_AS before the operation */
	uint64_t commit_limit_kb;
	uint64_t reserve_kb;     /* admin + user reserve the check took off the limit */
	uint64_t mem_available_kb;
	int mode;                /* vm.overcommit_memory */
	bool exact;              /* Committed_AS and CommitLimit read by the kernel hook at the
	                            refusal; false: from /proc a moment later */
	uint32_t tries;          /* refusals this record stands for: 1, or up to
	                            RF_TRIES_MAX for one allocation and the C library's
	                            fallbacks for it (refusal_book_fold) */
};

/* What the capture cannot read in the kernel, read from /proc when the
 * record is handled; and the clocks to turn kernel time into wall time. */
struct refusal_host {
	uint64_t page_kb;
	uint64_t hugetlb_kb;
	uint64_t mem_available_kb;
	uint64_t commit_limit_kb, committed_kb; /* meminfo, fallback */
	int mode;                                /* sysctl, fallback */
	int64_t user_reserve_kb, admin_reserve_kb;
	uint64_t mono_now_ns, real_now_ms;
};

/* The op from the capture's hints: inside a fork, or the x86_64 syscall
 * number (-1: a page fault, e.g. stack growth). */
enum refusal_op refusal_op_of(bool in_fork, int64_t syscall_nr);
const char *refusal_op_name(enum refusal_op op); /* "fork", "mmap", ... */
int refusal_op_parse(const char *s, enum refusal_op *op);

/* A kernel record into a refusal (service and instance left empty). */
void refusal_from_event(const struct rf_event *e, const struct refusal_host *h, struct refusal *out);

/* The one log line, e.g. "fork of redis-server (pid 4242, service cache)
 * refused: needs 600 MiB of commit, 96 MiB left under CommitLimit 1.0 GiB
 * (vm.overcommit_memory=2) while 1.4 GiB of RAM is available". */
void refusal_format(const struct refusal *r, char *buf, size_t size);

/* ---- log rate limit, per service ------------------------------------------ */

#define RF_LOG_BURST 5          /* lines per key and window */
#define RF_LOG_WINDOW_MS 60000
#define RF_LIMIT_KEYS 64

struct rf_limit_slot {
	char key[RF_NAME_MAX];
	uint64_t window_ms;      /* start of the current window */
	uint64_t last_ms;        /* last use (eviction) */
	uint32_t logged;
	uint64_t folded;         /* not logged in this window */
};

struct rf_limiter {
	struct rf_limit_slot slot[RF_LIMIT_KEYS];
};

/* Log this one?  When the key's previous window ended with folded
 * refusals, *folded_before gets their number (log that first). */
bool rf_limiter_admit(struct rf_limiter *l, const char *key, uint64_t now_ms,
		      uint64_t *folded_before);
/* Every window that has ended with folded refusals: cb(key, folded), then
 * the slot starts afresh. */
void rf_limiter_flush(struct rf_limiter *l, uint64_t now_ms,
		      void (*cb)(const char *key, uint64_t folded, void *arg), void *arg);

/* ---- the book: recent refusals and counts ---------------------------------- */

enum rf_capture_state { RF_CAPTURE_UNKNOWN = 0, RF_CAPTURE_ACTIVE, RF_CAPTURE_UNAVAILABLE };

struct refusal_tally {
	char service[RF_NAME_MAX]; /* "" refusals of processes no policy matched */
	uint64_t by_op[RF_NOPS];
	uint64_t first_ms, last_ms;
};

struct refusal_book {
	enum rf_capture_state capture;
	char why[256];             /* unavailable: why, in words */
	uint64_t since_ms;         /* the capture started */
	uint64_t lost;             /* refused, counted in the kernel, but not queued */
	struct refusal recent[RF_RECENT]; /* ring, oldest at head when full */
	size_t nrecent, head;
	struct refusal_tally tally[RF_TALLIES];
	size_t ntally;
};

void refusal_book_add(struct refusal_book *b, const struct refusal *r);

/* One allocation, one record.  glibc's malloc, refused an mmap, tries brk
 * and then mmap again (in 1 MiB steps); below its mmap threshold brk, then
 * mmap.  Each is a refusal of the commit check, but the program made one
 * request and got one ENOMEM.  A refusal that is the next step of that
 * sequence for a recent record of the same thread (within RF_RETRY_MS, a
 * size of the same order) is folded into it: tries + 1, no new record, no
 * count; true.  False: a refusal of its own (refusal_book_add it).  A
 * program that calls mmap again itself makes a new record (mmap after a
 * lone mmap is no fallback). */
#define RF_RETRY_MS 100
#define RF_TRIES_MAX 3
bool refusal_book_fold(struct refusal_book *b, const struct refusal *r);
/* The i-th most recent (0 = newest), NULL past the end. */
const struct refusal *refusal_book_recent(const struct refusal_book *b, size_t i);
uint64_t refusal_tally_total(const struct refusal_tally *t);
uint64_t refusal_book_total(const struct refusal_book *b);
const struct refusal_tally *refusal_book_tally(const struct refusal_book *b, const char *service);

/* JSON text of the book (malloc'd) and back; the parser takes a buffer
 * (fuzz target), refuses anything out of its bounds with -EINVAL. */
int refusal_book_format(const struct refusal_book *b, char **json);
int refusal_book_parse(const char *buf, struct refusal_book *b);

#endif
