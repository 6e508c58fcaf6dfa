/* jsonval.h - strict reads of json-c values for the state files
 * (journal.json, learned.json): wrong type, negative or out of range is
 * -EINVAL, never a silent cast. */
#ifndef OVERCOMMITD_JSONVAL_H
#define OVERCOMMITD_JSONVAL_H

#include <json-c/json.h>
#include <stdint.h>

/* Member name of o: a non-negative JSON integer <= max. */
int jsonval_u64(struct json_object *o, const char *name, uint64_t max, uint64_t *out);

#endif
