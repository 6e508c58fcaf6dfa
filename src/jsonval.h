/* jsonval.h - strict reads of json-c values for the state files
 * (journal.json, learned.json): wrong type, negative or out of range is
 * -EINVAL, never a silent cast; and the one way every writer adds a member. */
#ifndef OVERCOMMITD_JSONVAL_H
#define OVERCOMMITD_JSONVAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Member name of o: a non-negative JSON integer <= max. */
int jsonval_u64(struct json_object *o, const char *name, uint64_t max, uint64_t *out);

/* o is an object and every member of it is one of keys[] (a file we
 * wrote never has others). */
bool jsonval_only_keys(struct json_object *o, const char *const *keys, size_t nkeys);

/* Add v to o as name; a NULL v (an allocation that failed) never becomes a
 * JSON null: -ENOMEM.  v is released when it cannot be added. */
int jsonval_add(struct json_object *o, const char *name, struct json_object *v);
/* jsonval_add unless an earlier add failed (*rc != 0: v is just released);
 * keeps long field lists flat.  *rc becomes -ENOMEM on failure. */
void jsonval_put(struct json_object *o, const char *name, struct json_object *v, int *rc);

#endif
