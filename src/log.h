/* log.h - one small logging module (OpenBSD log.c style): printf-checked,
 * to stderr; with syslog priority prefixes ("<3>") when stderr is the
 * journal (JOURNAL_STREAM), so journald keeps the levels. */
#ifndef OVERCOMMITD_LOG_H
#define OVERCOMMITD_LOG_H

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void log_init(const char *progname, int verbosity /* -1 quiet, 0, 1 verbose */);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* message + ": " + strerror(-err) */
void log_errno(enum log_level lvl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Hold this thread's lines until log_flush(), then write them with one
 * write(2): an exec's lines ("joined", each change, "enforced") wake the
 * reader of stderr (journald, a pipe) once, not once each; measured in
 * the guest, each extra line cost the exec->enforced path ~0.2 ms
 * (BENCHMARKS.md, issue 12 round 6).  8 KiB are held at most (then
 * written early). */
void log_hold(void);
void log_flush(void);
/* Write what is held now and go on holding: an exec's lines go out as
 * soon as it is enforced, before the event's clean-up. */
void log_send(void);

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
