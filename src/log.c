/* log.c - see log.h.  prog/verbose/journal are set once before any
 * thread starts; the held lines are per thread. */
#include "log.h"

#include "escape.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "overcommitd";
static int verbose;
static bool journal;

/* log_hold .. log_flush: lines kept here, written by one write(2) */
static _Thread_local char held[8192];
static _Thread_local size_t nheld;
static _Thread_local bool holding;

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

/* stderr is unbuffered: one write(2) per call.  A failed write has
 * nowhere to be reported; the line is dropped, the daemon goes on. */
static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void log_hold(void)
{
	holding = true;
}

void log_send(void)
{
	write_all(held, nheld);
	nheld = 0;
}

void log_flush(void)
{
	log_send();
	holding = false;
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
	char line[sizeof(shown) + 64];
	int len = journal ? snprintf(line, sizeof(line), "<%d>%s\n", (int)lvl, shown)
			  : snprintf(line, sizeof(line), "%s: %s\n", prog, shown);
	if (len <= 0)
		return;
	size_t size = (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1;
	if (holding && nheld + size > sizeof(held))
		log_send(); /* in order: what is held goes first */
	if (holding && size <= sizeof(held)) {
		memcpy(held + nheld, line, size);
		nheld += size;
		return;
	}
	write_all(line, size);
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
