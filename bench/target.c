/* target - the matched program of the benchmarks (installed as
 * "ocb-target", so its comm is that).  No argument: wait until killed.
 * With SECONDS: sleep that long, exit 0 (storm execs that outlive a rescan). */
#include <signal.h>
#include <unistd.h>

#include "benchutil.h"

int main(int argc, char **argv)
{
	unsigned long s;
	if (argc > 1 && bu_ulong(argv[1], 0, 86400, &s) == 0) {
		sleep((unsigned)s);
		return 0;
	}
	for (;;)
		pause();
}
