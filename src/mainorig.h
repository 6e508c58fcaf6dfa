/* mainorig.h - a main's oom_score_adj before overcommitd first wrote it,
 * from the state journal (kept there for restore).  The daemon and the
 * one-shot commands both note it in the snapshot: a child forked before
 * that write inherited it (oomconflict.h), and the reports show it. */
#ifndef OVERCOMMITD_MAINORIG_H
#define OVERCOMMITD_MAINORIG_H

#include <stdbool.h>
#include <stdint.h>
#include "journal.h"
#include "snapshot.h"

/* The journal's original for pid (an entry of another process with the same
 * pid, by start time, does not count); OOM_ORIG_UNKNOWN when none. */
int mainorig_of(const struct journal *j, int pid, uint64_t start_time);
/* Each instance's main_was_adj (reports) from the journal, and with judge
 * its main_orig_adj too (children holding it count as inherited).  Only the
 * daemon judges: it saw the children fork and yields a role whose children
 * changed a value it wrote; a one-shot command cannot tell a child forked
 * before the main's write from one that set its own value equal to the
 * original (VM own-oom-adj: workers forked after, writing their own 0). */
void mainorig_note(const struct journal *j, struct snapshot *s, bool judge);

#endif
