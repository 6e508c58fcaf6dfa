/* apply_child.c - the one write that ends a process: a fork child that
 * outgrew its budget, so its parent (the service) never pays for it. */
#include "apply.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfd.h"

int apply_stop_child(const struct roots *r, int pid, uint64_t start, int sig)
{
	int fd;
	if (pid <= 1 || start == 0)
		return -EINVAL;
	int id = procfd_open(r, pid, start, &fd);
	if (id < 0)
		return id;
	if (id != PROCFD_SAME)
		return -ESRCH;
	/* a /proc/PID directory fd is a pidfd for this call (Linux 5.1+): the
	 * signal reaches the process checked above or nobody */
	int rc = syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0 ? -errno : 0;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}
