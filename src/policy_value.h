/* policy_value.h - private to policy*.c: the table of known keys and the
 * checked parsing of their values (DESIGN §6). */
#ifndef OVERCOMMITD_POLICY_VALUE_H
#define OVERCOMMITD_POLICY_VALUE_H

#include "diag.h"
#include "origin.h"
#include "policy.h"

enum pol_section { SEC_HOST, SEC_SERVICE };

/* number of known keys (both sections); key indexes are 0..POL_NKEYS-1 */
#define POL_NKEYS 27

/* Index of the key `name` (case-insensitive, as iniparser lowercases) in
 * section kind s, or -1 when the key is unknown there. */
int pol_key_find(enum pol_section s, const char *name);
/* Canonical (lowercase) name of a key index. */
const char *pol_key_name(int key);
/* Parse `val` for key and store it, with `at`, into h (host keys) or svc
 * (service keys), replacing an earlier value.  A bad value adds
 * "FILE:LINE: key: message (got 'X')" to d and leaves the target unchanged.
 * Returns 0 or -EINVAL / -ENOMEM. */
int pol_key_apply(int key, const char *val, struct origin at, struct pol_host *h,
		  struct pol_service *svc, struct diags *d);
/* v escaped (esc_str) and cut to fit buf, for messages. */
const char *pol_shown(const char *v, char *buf, size_t size);

#endif
