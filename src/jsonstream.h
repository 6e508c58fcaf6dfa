/* jsonstream.h - walk one top-level JSON object member by member, handing
 * out the elements of one (large) array member one at a time, so a reader
 * never holds the whole document as a json-c tree: the state journal's
 * 65,536 entries took 167 MiB that way.  Every value is
 * parsed by json-c in strict mode; this module only walks the top-level
 * punctuation. */
#ifndef OVERCOMMITD_JSONSTREAM_H
#define OVERCOMMITD_JSONSTREAM_H

#include <stddef.h>
#include <json-c/json.h>

/* buf[0..len) must be exactly one object ({ "k": v, ... }) with only
 * whitespace around it; a member named twice is an error.  member(name, v)
 * gets every other member; element(v) every element of the member called
 * array_name, which must be an array.  Callbacks return 0 or -errno (which
 * stops the walk and is returned); the values are freed after each call.
 * Returns 1 when the array member was there, 0 when not; -EINVAL: not
 * such a document. */
int jsonstream_object(const char *buf, size_t len, const char *array_name,
		      int (*member)(const char *name, struct json_object *v, void *arg),
		      int (*element)(struct json_object *v, void *arg), void *arg);

#endif
