/* main.c - overcommitd's command line (DESIGN §5): options may stand before
 * or after the command; GNU getopt's permutation gives us that. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static void usage(FILE *out)
{
	fputs("usage: overcommitd [OPTIONS] COMMAND [PATH...]\n"
	      "commands:\n"
	      "  recommend          observe, plan, print; writes nothing (exit 2: changes recommended)\n"
	      "  apply              apply the plan once (idempotent; originals journaled)\n"
	      "  run                the daemon (foreground)\n"
	      "  validate [PATH...] check policy files or directories; nothing else\n"
	      "  status             what is observed now (host, services, COW figures)\n"
	      "  restore            put back every value recorded in the state journal\n"
	      "  snapshot [FILE]    this host as one JSON document for what-if (default: stdout)\n"
	      "  what-if SNAPSHOT.. plan snapshots under the policy, then a fleet summary\n"
	      "options:\n"
	      "  --policy-dir DIR   policy directory or file (repeatable;\n"
	      "                     default /etc/overcommitd/policies.d)\n"
	      "  --procfs DIR --sysfs DIR --cgroupfs DIR\n"
	      "                     kernel filesystem roots (default /proc /sys /sys/fs/cgroup)\n"
	      "  --etc DIR          where login.defs is read (UID_MIN; default /etc)\n"
	      "  --state-dir DIR    state journal directory (default /var/lib/overcommitd)\n"
	      "  --format text|json|prometheus\n"
	      "                     output format (default text; prometheus: status, recommend, apply)\n"
	      "  --metrics-file FILE\n"
	      "                     run: keep FILE (a node_exporter textfile, *.prom) up to date\n"
	      "  --redact           snapshot: leave out command lines\n"
	      "  -v, --verbose  -q, --quiet  --version  -h, --help\n"
	      "exit codes: 0 ok/compliant, 1 error, 2 changes recommended\n",
	      out);
}

static int set_root(char *dst, size_t size, const char *val, const char *opt)
{
	if (snprintf(dst, size, "%s", val) >= (int)size) {
		log_err("%s: path too long", opt);
		return -1;
	}
	return 0;
}

static int set_format(struct cli *c, const char *s)
{
	if (strcmp(s, "text") == 0)
		c->format = FMT_TEXT;
	else if (strcmp(s, "json") == 0)
		c->format = FMT_JSON;
	else if (strcmp(s, "prometheus") == 0)
		c->format = FMT_PROM;
	else {
		log_err("--format: expected text, json or prometheus, got '%s'", s);
		return 1;
	}
	return 0;
}

/* Options into c.  Returns -1 to go on with the command, else the exit
 * code (--help, --version, a bad option). */
static int parse_options(int argc, char **argv, struct cli *c)
{
	enum { O_POLICY = 256, O_PROCFS, O_SYSFS, O_CGROUPFS, O_ETC, O_STATE, O_FORMAT, O_VERSION, O_METRICS,
	       O_REDACT };
	static const struct option opts[] = {
		{ "policy-dir", required_argument, NULL, O_POLICY },
		{ "procfs", required_argument, NULL, O_PROCFS },
		{ "sysfs", required_argument, NULL, O_SYSFS },
		{ "cgroupfs", required_argument, NULL, O_CGROUPFS },
		{ "etc", required_argument, NULL, O_ETC },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "metrics-file", required_argument, NULL, O_METRICS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ "redact", no_argument, NULL, O_REDACT },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		int bad = 0;
		switch (ch) {
		case O_POLICY:
			if (c->npolicy_dirs == CLI_MAX_PATHS) {
				log_err("--policy-dir: at most %d", CLI_MAX_PATHS);
				return EXIT_ERR;
			}
			c->policy_dirs[c->npolicy_dirs++] = optarg;
			break;
		case O_PROCFS: bad = set_root(c->roots.procfs, sizeof(c->roots.procfs), optarg, "--procfs"); break;
		case O_SYSFS: bad = set_root(c->roots.sysfs, sizeof(c->roots.sysfs), optarg, "--sysfs"); break;
		case O_CGROUPFS:
			bad = set_root(c->roots.cgroupfs, sizeof(c->roots.cgroupfs), optarg, "--cgroupfs");
			break;
		case O_ETC: bad = set_root(c->roots.etc, sizeof(c->roots.etc), optarg, "--etc"); break;
		case O_STATE: c->state_dir = optarg; break;
		case O_METRICS: c->metrics_file = optarg; break;
		case O_FORMAT: bad = set_format(c, optarg); break;
		case O_REDACT: c->redact = true; break;
		case 'v': c->verbosity = 1; break;
		case 'q': c->verbosity = -1; break;
		case O_VERSION: printf("overcommitd %s\n", OVERCOMMITD_VERSION); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_ERR;
		}
		if (bad)
			return EXIT_ERR;
	}
	return -1;
}

static int run_command(const struct cli *c)
{
	static const struct {
		const char *name;
		int (*fn)(const struct cli *);
		bool takes_args;
	} cmds[] = {
		{ "recommend", cmd_recommend, false }, { "apply", cmd_apply, false },
		{ "run", cmd_run, false },             { "validate", cmd_validate, true },
		{ "status", cmd_status, false },       { "restore", cmd_restore, false },
		{ "snapshot", cmd_snapshot, true },    { "what-if", cmd_whatif, true },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(c->command, cmds[i].name) != 0)
			continue;
		if (c->nargs && !cmds[i].takes_args) {
			log_err("%s: unexpected argument '%s'", c->command, c->args[0]);
			return EXIT_ERR;
		}
		int rc = cmds[i].fn(c);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			log_err("writing output failed");
			return EXIT_ERR;
		}
		return rc;
	}
	log_err("unknown command '%s' (try --help)", c->command);
	return EXIT_ERR;
}

int main(int argc, char **argv)
{
	struct cli c = { .state_dir = "/var/lib/overcommitd" };
	roots_default(&c.roots);
	log_init("overcommitd", 0);
	int code = parse_options(argc, argv, &c);
	if (code >= 0)
		return code;
	log_init("overcommitd", c.verbosity);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERR;
	}
	c.command = argv[optind++];
	c.args = (const char *const *)&argv[optind];
	c.nargs = (size_t)(argc - optind);
	if (c.npolicy_dirs == 0)
		c.policy_dirs[c.npolicy_dirs++] = "/etc/overcommitd/policies.d";
	return run_command(&c);
}
