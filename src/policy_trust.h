/* policy_trust.h - private to policy.c: who may have written a policy
 * (DESIGN §7.7).  A policy steers privileged writes, so a
 * file, the directory holding it and that directory's parents must be
 * owned by root (or the effective uid) and writable by nobody else; a
 * world-writable parent is accepted only with the sticky bit (/tmp), where
 * others cannot rename what root owns. */
#ifndef OVERCOMMITD_POLICY_TRUST_H
#define OVERCOMMITD_POLICY_TRUST_H

#include <stdbool.h>
#include <sys/stat.h>

#include "diag.h"

/* st (of path) is owned by root or euid and not group/other writable;
 * otherwise "PATH: refused: ..." into d and false.  sticky_ok: a
 * group/world-writable directory with the sticky bit passes (parents). */
bool policy_trust_stat(const char *path, const struct stat *st, bool sticky_ok, struct diags *d);

/* The directory dir itself and every parent up to "/" (resolved with
 * realpath: the checks are on what is really opened).  0, or -EPERM with
 * the reasons in d, or -errno when dir cannot be resolved. */
int policy_trust_dir(const char *dir, struct diags *d);

/* The directory of a file named on its own, and its parents; that
 * directory may be sticky and world-writable (only the one file is read). */
int policy_trust_parent(const char *path, struct diags *d);

#endif
