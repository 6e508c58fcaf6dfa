/* fuzz_proc.c - libFuzzer target: the same bytes through every /proc, sysctl
 * and cgroup parser.  They take NUL-terminated text (the readers guarantee
 * it), except proc_cmdline_join which takes a length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "meminfo.h"
#include "proc.h"
#include "vmsysctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';

	struct meminfo mi;
	struct proc_stat st;
	struct proc_status ps;
	char path[PROC_PATH_MAX], small[8], cmd[PROC_CMDLINE_MAX];
	uint64_t a, f, v;
	int64_t iv;

	(void)meminfo_parse(buf, &mi);
	(void)proc_stat_parse(buf, &st);
	(void)proc_status_parse(buf, &ps);
	(void)proc_cgroup_parse(buf, path, sizeof(path));
	(void)proc_cgroup_parse(buf, small, sizeof(small));
	proc_cmdline_join(buf, size, cmd, sizeof(cmd));
	proc_cmdline_join(buf, size, small, sizeof(small));
	(void)cg_value_parse(buf, &v);
	(void)cg_memory_stat_parse(buf, &a, &f);
	(void)vm_value_parse(buf, &iv);

	/* derived values on whatever parsed */
	struct proc_info p = { 0 };
	memcpy(p.cgroup, path, sizeof(path));
	p.cgroup[sizeof(p.cgroup) - 1] = '\0';
	size_t len;
	(void)proc_unit(&p, &len);
	free(buf);
	return 0;
}
