/* chargecache.h - exact fork charges read from smaps, kept per process
 * (pid + start time, DESIGN §7.8) as a correction on top of the cheap
 * VmData + VmStk readings that follow, and the rule for when to read smaps
 * again.  No I/O and no clock: the caller passes "now" in seconds. */
#ifndef OVERCOMMITD_CHARGECACHE_H
#define OVERCOMMITD_CHARGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "forkcharge.h"

/* smaps costs ~9 ms per GiB under the process's mmap lock: at most once per
 * this many seconds per process, whatever asks. */
#define CHARGE_REREAD_MIN_S 600
/* VmData moving by more than this (basis points) since the read asks again. */
#define CHARGE_VMDATA_MOVE_BP 1000

struct charge_entry {
	int pid;
	uint64_t start_time;
	bool exact_known;       /* exact .. mode hold a smaps read */
	bool tried;             /* a read was asked (read_at_s is its time), done or not */
	bool pending;           /* that read is still running (the daemon's worker) */
	struct smaps_charge exact;
	uint64_t cheap_kb;      /* VmData + VmStk when smaps was read */
	uint64_t vm_data_kb;    /* VmData then */
	int64_t mode;           /* vm.overcommit_memory then */
	uint64_t read_at_s;     /* the caller's clock when the read was asked */
	/* The DONTFORK share from the last fork event (the parent's VmData
	 * minus the child's, read right after the fork): kernel/fork.c
	 * dup_mmap() skips VM_DONTCOPY VMAs, so the child lacks exactly them. */
	bool fork_known;
	bool fork_newer;        /* seen after the last smaps read */
	uint64_t fork_dontfork_kb;
};

struct charge_cache {
	struct charge_entry *e;
	size_t n, cap;
};

enum charge_read_why {
	CHARGE_KEEP = 0,        /* no read: nothing asks, or read too recently */
	CHARGE_FIRST,           /* first sighting of this main process */
	CHARGE_IN_BAND,         /* the cheap verdict lies inside the uncertainty band */
	CHARGE_VMDATA_MOVED,    /* VmData moved by more than 10% since the read */
	CHARGE_MODE_CHANGED,    /* vm.overcommit_memory changed since the read */
};
const char *charge_read_why_name(enum charge_read_why w);

const struct charge_entry *charge_cache_find(const struct charge_cache *c, int pid,
					     uint64_t start_time);
/* Should smaps of this main process be read now? */
enum charge_read_why charge_cache_why(const struct charge_cache *c, int pid, uint64_t start_time,
				      uint64_t vm_data_kb, int64_t mode, bool in_band,
				      uint64_t now_s);
/* Record a read (replaces the entry of the same pid; a fork share of the
 * same process stays).  0 or -ENOMEM. */
int charge_cache_put(struct charge_cache *c, int pid, uint64_t start_time,
		     const struct smaps_charge *exact, uint64_t cheap_kb, uint64_t vm_data_kb,
		     int64_t mode, uint64_t now_s);
/* A read was asked at now_s and runs elsewhere (pending, no new ask until
 * it lands), or it failed (no new ask for CHARGE_REREAD_MIN_S: a main whose
 * smaps cannot be read is not asked every pass).  0 or -ENOMEM. */
int charge_cache_asked(struct charge_cache *c, int pid, uint64_t start_time, uint64_t now_s);
int charge_cache_failed(struct charge_cache *c, int pid, uint64_t start_time, uint64_t now_s);
/* A fork event of this process showed dontfork_kb less VmData in the child
 * than in the parent.  0 or -ENOMEM. */
int charge_cache_fork(struct charge_cache *c, int pid, uint64_t start_time,
		      uint64_t dontfork_kb);
/* The DONTFORK share one fork event shows: the parent's VmData minus the
 * child's, both read after the event; 0 when the child no longer carries
 * the parent's copy (it exec'd: child_forknoexec false) or holds more. */
uint64_t fork_dontfork_share(uint64_t parent_vm_data_kb, uint64_t child_vm_data_kb,
			     bool child_forknoexec);
/* Drop the entry of this pid (the process exited). */
void charge_cache_forget(struct charge_cache *c, int pid);
void charge_cache_free(struct charge_cache *c);

/* The charge a verdict uses for a process whose VmData + VmStk is cheap_kb
 * now: the entry's smaps correction when there is one (e may be NULL; a
 * fork share seen since adjusts its DONTFORK part), else the estimate less
 * the fork share when a fork showed one, with maps' largest private
 * writable VMA when maps was read (me may be NULL). */
struct fork_charge fork_charge_from(const struct charge_entry *e, uint64_t cheap_kb,
				    const struct maps_estimate *me);

#endif
