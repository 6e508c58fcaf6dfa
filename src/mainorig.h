/* mainorig.h - a main's oom_score_adj before overcommitd first wrote it,
 * from the state journal (kept there for restore).  The daemon and the
 * one-shot commands both note it in the snapshot: a child forked before
 * that write inherited it (oomconflict.h), and the reports show it. */
#ifndef OVERCOMMITD_MAINORIG_H
#define OVERCOMMITD_MAINORIG_H

#include <stdint.h>
#include "journal.h"
#include "snapshot.h"

/* The journal's original for pid (an entry of another process with the same
 * pid, by start time, does not count); OOM_ORIG_UNKNOWN when none. */
int mainorig_of(const struct journal *j, int pid, uint64_t start_time);
/* Each instance's main_orig_adj from the journal. */
void mainorig_note(const struct journal *j, struct snapshot *s);

#endif
