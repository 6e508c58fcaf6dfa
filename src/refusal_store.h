/* refusal_store.h - the daemon's book of commit refusals on disk
 * (state directory, refusals.json) for the one-shot commands. */
#ifndef OVERCOMMITD_REFUSAL_STORE_H
#define OVERCOMMITD_REFUSAL_STORE_H

#include "refusal.h"

#define REFUSAL_FILE "refusals.json"

/* Atomic replace, mode 0600; creates the state directory (0700), not its parents. */
int refusal_book_save(const char *state_dir, const struct refusal_book *b);
/* -ENOENT: no daemon has written one; -EPERM: not owned by root (or us) or
 * writable by others; -EINVAL: not a book this version wrote. */
int refusal_book_load(const char *state_dir, struct refusal_book *b);

#endif
