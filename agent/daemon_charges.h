/* daemon_charges.h - the daemon's exact fork charges: smaps reads handed
 * to the reader thread (smapsreader.h) from the periodic pass, answers
 * taken in from the event loop, and the DONTFORK share of each fork of a
 * main read from its fork event.  None of it on the exec path. */
#ifndef OVERCOMMITD_DAEMON_CHARGES_H
#define OVERCOMMITD_DAEMON_CHARGES_H

#include <stdbool.h>
#include "daemon.h"
#include "snapshot.h"

/* Start the reader thread (without it the charges stay estimates). */
void charges_start(struct daemon *d);
void charges_stop(struct daemon *d);
/* The fd the loop polls for answers, or -1. */
int charges_fd(const struct daemon *d);
/* From the pass: set every instance main's charge in s, hand due reads
 * to the thread. */
void charges_observe(struct daemon *d, struct snapshot *s);
/* Answers into the cache.  true when the last outstanding read landed
 * (a pass now puts them into the verdicts). */
bool charges_collect(struct daemon *d);
/* A main (ppid) forked child: its DONTFORK share, parent's VmData minus
 * the child's (kernel/fork.c dup_mmap skips VM_DONTCOPY VMAs). */
void charges_note_fork(struct daemon *d, int ppid, const struct proc_info *child);
/* An exec joined a service and was enforced lat_ns after it happened:
 * counted apart while a smaps read runs (the proof that reads do not hold
 * the loop). */
void charges_note_latency(struct daemon *d, uint64_t lat_ns);

#endif
