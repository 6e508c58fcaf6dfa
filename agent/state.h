/* state.h - the agent's edge of the state directory: the journal opened
 * with this boot's identity under the directory's lock, and every refusal
 * or warning said once, clearly (DESIGN §7.11). */
#ifndef OVERCOMMITD_AGENT_STATE_H
#define OVERCOMMITD_AGENT_STATE_H

#include "cli.h"
#include "journal.h"
#include "learn.h"
#include "snapshot.h"

/* journal_open for c->state_dir with the boot id read through c->roots;
 * logs why on failure (refusal, corrupt file) and warns about a journal
 * of an earlier boot.  flags: JOURNAL_CREATE for writers. */
int state_journal_open(const struct cli *c, unsigned flags, struct journal *j);
/* learned.json from the state directory, read-only (one-shot commands):
 * NULL/0 when missing or refused (refusal logged). */
int state_learned_load(const struct cli *c, struct svc_learning **out, size_t *n);
/* Each instance main's oom_score_adj before overcommitd wrote it (for the
 * reports; mainorig.h says why not for judging children), from the
 * journal read-only (a shared lock, nothing created or written), into s.
 * A journal refused or corrupt is said; one this user may not read
 * (EACCES: not root) is passed over quietly. */
void state_note_originals(const struct cli *c, struct snapshot *s);

#endif
