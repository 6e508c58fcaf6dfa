/* trust.h - who may be acted on (DESIGN §7.9).  A name is not an
 * identity: a process reaches a service (and so a privileged write: a lower
 * oom_score_adj, a move into a group, a limit raised for it) only when it
 * runs as a user the policy names (match_user) or, where none is named, as a
 * system user: uid below UID_MIN of login.defs.  Both the real and the
 * effective uid must qualify. */
#ifndef OVERCOMMITD_TRUST_H
#define OVERCOMMITD_TRUST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "proc.h"
#include "roots.h"

#define UID_MIN_DEFAULT 1000u   /* login.defs(5) default, Debian and Fedora alike */

/* A policy's match_user resolved once (NSS lookups are slow). */
struct user_key {
	bool set;                  /* the policy names a user */
	bool ok;                   /* ... and it resolved */
	uid_t uid;
};

/* UID_MIN from the text of login.defs ("UID_MIN  1000"; comments, other
 * keys ignored; the last UID_MIN wins, like shadow's getdef).  No UID_MIN
 * line: UID_MIN_DEFAULT.  A malformed or out-of-range value: -EINVAL. */
int uid_min_parse(const char *buf, uid_t *out);
/* From ROOT/etc/login.defs (r->etc); absent file: UID_MIN_DEFAULT.
 * Malformed: -EINVAL and *out = UID_MIN_DEFAULT (fail closed on names). */
int uid_min_read(const struct roots *r, uid_t *out);

/* match_user -> uid: a number, or a name through NSS.  Unknown: ok=false
 * (matches nothing).  A name's answer, found or not, is kept 10 s (per
 * thread, 8 names): it is asked on the exec path. */
struct user_key user_key_resolve(const char *name);
/* NSS lookups this thread made (the cache's misses). */
uint64_t user_key_lookups(void);

/* May a process of this service with these ids be acted on? */
bool trust_uid(const struct user_key *u, uid_t uid_min, uid_t ruid, uid_t euid);
bool trust_proc(const struct user_key *u, uid_t uid_min, const struct proc_info *p);
/* A child of a trusted main that did not match (a BGSAVE child, an Apache
 * worker that dropped to www-data): the named user or a system user. */
bool trust_child(const struct user_key *u, uid_t uid_min, const struct proc_info *p);

#endif
