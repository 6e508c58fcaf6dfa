/* memprobe - can a process with another process's credentials open a
 * third one's memory for writing?  (issue 13: the privilege drop must
 * contain a compromised daemon)
 *
 *   memprobe [-p] CRED_PID TARGET_PID
 *      Takes CRED_PID's effective capabilities (run it as CRED_PID's uid),
 *      keeps exactly those itself (bounding, permitted, effective), then
 *      opens /proc/TARGET_PID/mem O_RDWR and prints "opened" or
 *      "refused: <errno text>".  -p adds CAP_SYS_PTRACE to what is kept:
 *      the control that shows the probe can succeed.
 * Exit 0 refused, 3 opened, 1 on usage or I/O errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* CapEff of /proc/PID/status; -1 when unreadable */
static int cap_eff(const char *pid, unsigned long long *out)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int rc = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", out) == 1)
			rc = 0;
	fclose(f);
	return rc;
}

static int keep_only(unsigned long long keep)
{
	for (int c = 0; c < 64; c++)
		if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ .effective = (unsigned)keep, .permitted = (unsigned)keep },
		{ .effective = (unsigned)(keep >> 32), .permitted = (unsigned)(keep >> 32) },
	};
	return (int)syscall(SYS_capset, &h, d);
}

int main(int argc, char **argv)
{
	int opt, add_ptrace = 0;
	while ((opt = getopt(argc, argv, "p")) != -1) {
		if (opt != 'p')
			return 1;
		add_ptrace = 1;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: memprobe [-p] CRED_PID TARGET_PID\n");
		return 1;
	}
	unsigned long long keep;
	if (cap_eff(argv[optind], &keep) < 0) {
		fprintf(stderr, "memprobe: cannot read the capabilities of pid %s\n", argv[optind]);
		return 1;
	}
	keep |= add_ptrace ? 1ULL << CAP_SYS_PTRACE : 0;
	if (keep_only(keep) < 0) {
		fprintf(stderr, "memprobe: keeping %#llx: %s\n", keep, strerror(errno));
		return 1;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[optind + 1]);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		printf("opened %s with caps %#llx\n", path, keep);
		return 3;
	}
	printf("refused: %s (caps %#llx)\n", strerror(errno), keep);
	return 0;
}
