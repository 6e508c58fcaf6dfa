/* log.c - see log.h.  Single-threaded agent: plain statics are enough. */
#include "log.h"

#include "escape.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "overcommitd";
static int verbose;
static bool journal;

void log_init(const char *progname, int verbosity)
{
	prog = progname;
	verbose = verbosity;
	journal = getenv("JOURNAL_STREAM") != NULL;
}

static bool wanted(enum log_level lvl)
{
	if (lvl <= LOG_LVL_WARN)
		return true; /* errors and warnings even under -q */
	if (lvl == LOG_LVL_INFO)
		return verbose >= 0;
	return verbose > 0;
}

static void vlog(enum log_level lvl, int err, const char *fmt, va_list ap)
{
	if (!wanted(lvl))
		return;
	char msg[2048], shown[ESC_SIZE(sizeof(msg))];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n > 0 && err && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(err));
	/* one line per message whatever a process named itself: a "\n<0>" in a
	 * comm must not become a second journald line at emergency priority */
	esc_str(msg, shown, sizeof(shown));
	if (journal)
		fprintf(stderr, "<%d>%s\n", (int)lvl, shown);
	else
		fprintf(stderr, "%s: %s\n", prog, shown);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, 0, fmt, ap);
	va_end(ap);
}

void log_errno(enum log_level lvl, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, err < 0 ? -err : err, fmt, ap);
	va_end(ap);
}
