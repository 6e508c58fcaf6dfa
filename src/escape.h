/* escape.h - the one escaping function for text that came from outside
 * (process names, exe paths, command lines, unit and cgroup names, file
 * names) on its way to a terminal or the journal.
 * A process may name itself "rdb\n<0>PWNED": printed raw, that is a second
 * journald line at emergency priority, and terminal escape sequences reach
 * whoever reads the report. */
#ifndef OVERCOMMITD_ESCAPE_H
#define OVERCOMMITD_ESCAPE_H

#include <stddef.h>

/* Room for n input bytes escaped (each at most 4 bytes) plus the NUL. */
#define ESC_SIZE(n) (4 * (size_t)(n) + 1)

/* Copy `in` into buf with every byte outside printable ASCII (0x20-0x7e)
 * written as \n, \t, \r or \xHH.  A backslash stays as it is, so text
 * escaped once survives a second pass unchanged.  Output that does not fit
 * is cut at a whole escape and ends in "..." (size >= 4).  Returns buf. */
const char *esc_str(const char *in, char *buf, size_t size);

#endif
