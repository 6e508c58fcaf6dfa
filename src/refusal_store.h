/* refusal_store.h - the daemon's book of commit refusals on disk
 * (state directory, refusals.json) for the one-shot commands. */
#ifndef OVERCOMMITD_REFUSAL_STORE_H
#define OVERCOMMITD_REFUSAL_STORE_H

#include "refusal.h"

#define REFUSAL_FILE "refusals.json"

struct statedir;
struct json_object;

/* The book as the file holds it (recent: oldest first); NULL: no memory. */
struct json_object *refusal_book_json(const struct refusal_book *b);

/* Atomic replace (statedir_write), mode 0600. */
int refusal_book_save_at(struct statedir *sd, const struct refusal_book *b);
/* -ENOENT: no daemon has written one; -EPERM: refused by the directory's
 * trust rules (sd->why); -EINVAL: not a book this version wrote. */
int refusal_book_load_at(struct statedir *sd, struct refusal_book *b);

#endif
