/* daemon_privs.c - the daemon's start-up privilege separation (privsep.h,
 * DESIGN "Privilege separation") and the self-test that proves it: after
 * it, this process cannot open /proc/1/mem for writing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "privs.h"
#include "privsep.h"
#include "util.h"

/* uid 0 + CAP_SYS_PTRACE could open it read-write; without SYS_PTRACE
 * the kernel refuses (init's capabilities are not a subset of ours). */
static int mem_selftest(const struct roots *r)
{
	char path[PATH_MAX];
	int rc = path_join(path, sizeof(path), r->procfs, "1/mem");
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		close(fd);
		log_err("self-test: %s opens for writing: privilege separation failed", path);
		return -EPERM;
	}
	log_info("self-test: %s cannot be opened for writing (%s)", path, strerror(errno));
	return 0;
}

int daemon_drop_privileges(const struct roots *r)
{
	if (!privs_is_root())
		return 0; /* nothing to separate: it reads what its uid may */
	char missing[256];
	if (privs_missing(missing, sizeof(missing)) > 0)
		log_warn("capabilities not available here: %s", missing);
	int rc = privsep_start(r);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc,
			  "privilege separation: starting the /proc reader (needs CAP_SETUID, "
			  "CAP_SETGID, CAP_SETPCAP)");
		return rc;
	}
	rc = privs_drop();
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "dropping capabilities");
		return rc;
	}
	char caps[512];
	if (privs_describe(caps, sizeof(caps)) == 0)
		log_info("capabilities: %s", caps);
	log_info("privilege separation: /proc reader pid %d, uid %u, cap_sys_ptrace only, seccomp",
		 (int)privsep_reader_pid(), PRIVSEP_READER_ID);
	return mem_selftest(r);
}
