/* state.c - see state.h. */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootid.h"
#include "learn.h"
#include "log.h"
#include "mainorig.h"

static void say_refused(const char *what, int rc, const struct statedir *sd)
{
	if (rc == -EPERM && sd->why[0])
		log_err("%s refused: %s; nothing read or written (it must belong to the user "
			"running overcommitd and be writable by nobody else)", what, sd->why);
	else if (rc == -EINVAL)
		log_err("%s is corrupt: refused and left as it is; nothing written", what);
	else
		log_errno(LOG_LVL_ERR, rc, "%s", what);
}

static void say_earlier_boot(const struct journal *j)
{
	if (j->earlier_boot_pid)
		log_warn("%s is from an earlier boot: its %zu per-process entr%s (pids and start "
			 "times of that boot) will never be restored",
			 j->path, j->earlier_boot_pid, j->earlier_boot_pid == 1 ? "y" : "ies");
	if (j->earlier_boot_host)
		log_warn("%s holds %zu host value%s recorded before the last reboot: `restore` "
			 "puts them back only with a warning; a target written again now takes "
			 "the value in force in this boot as its original",
			 j->path, j->earlier_boot_host, j->earlier_boot_host == 1 ? "" : "s");
}

int state_journal_open(const struct cli *c, unsigned flags, struct journal *j)
{
	char boot[JOURNAL_BOOT_ID_MAX];
	memset(j, 0, sizeof(*j)); /* journal_close works whatever fails below */
	j->sd.dfd = j->sd.lockfd = -1;
	int rc = boot_id_read(&c->roots, boot, sizeof(boot));
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "reading the boot id %s/" BOOT_ID_REL
				      " (the journal must know its boot)", c->roots.procfs);
		return rc;
	}
	rc = journal_open(c->state_dir, boot, flags, j);
	if (rc < 0) {
		char what[4200];
		snprintf(what, sizeof(what), "state journal %s", j->path);
		say_refused(what, rc, &j->sd);
		return rc;
	}
	say_earlier_boot(j);
	return 0;
}

int state_learned_load(const struct cli *c, struct svc_learning **out, size_t *n)
{
	struct statedir sd;
	*out = NULL;
	*n = 0;
	int rc = statedir_open(c->state_dir, false, &sd);
	if (rc == 0)
		rc = learn_load_at(&sd, out, n);
	if (rc < 0 && rc != -ENOENT) {
		char what[4200];
		snprintf(what, sizeof(what), "%s/learned.json", c->state_dir);
		if (rc == -EPERM)
			say_refused(what, rc, &sd);
		else
			log_errno(LOG_LVL_WARN, rc, "%s unusable, COW growth not learned", what);
	}
	statedir_close(&sd);
	return rc == -ENOENT ? 0 : rc;
}

void state_note_originals(const struct cli *c, struct snapshot *s)
{
	char boot[JOURNAL_BOOT_ID_MAX];
	struct journal j;
	if (boot_id_read(&c->roots, boot, sizeof(boot)) < 0)
		return; /* per-process entries mean nothing without this boot's id */
	int rc = journal_open(c->state_dir, boot, JOURNAL_READ_ONLY, &j);
	if (rc == 0) {
		mainorig_note(&j, s, false); /* reported, not judged by */
	} else if (rc == -EACCES) {
		log_debug("state journal %s not readable: mains' earlier oom_score_adj not shown",
			  j.path);
	} else {
		char what[4200];
		snprintf(what, sizeof(what), "state journal %s", j.path);
		say_refused(what, rc, &j.sd);
	}
	journal_close(&j);
}
