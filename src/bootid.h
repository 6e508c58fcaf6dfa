/* bootid.h - this boot's identity (/proc/sys/kernel/random/boot_id through
 * the root context): the state journal records it, so values journaled
 * before a reboot are never mistaken for this boot's (DESIGN §7.11). */
#ifndef OVERCOMMITD_BOOTID_H
#define OVERCOMMITD_BOOTID_H

#include <stddef.h>
#include "roots.h"

#define BOOT_ID_REL "sys/kernel/random/boot_id"

/* Parse the file's content: a UUID (hex digits and dashes, 32-36
 * characters), optional trailing newline.  -EINVAL otherwise. */
int boot_id_parse(const char *buf, char *out, size_t size);
/* Read and parse it under r->procfs. */
int boot_id_read(const struct roots *r, char *out, size_t size);

#endif
