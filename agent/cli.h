/* cli.h - the parsed command line shared by the subcommands. */
#ifndef OVERCOMMITD_CLI_H
#define OVERCOMMITD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include "learn.h"
#include "policy.h"
#include "roots.h"
#include "snapshot.h"

#define CLI_MAX_PATHS 64

enum out_format { FMT_TEXT = 0, FMT_JSON, FMT_PROM };

struct cli {
	const char *command;
	const char *policy_dirs[CLI_MAX_PATHS];
	size_t npolicy_dirs;
	const char *const *args;          /* after the command: validate's PATHs,
	                                     snapshot's FILE, what-if's SNAPSHOTs */
	size_t nargs;
	struct roots roots;
	const char *state_dir;
	const char *metrics_file;         /* run: node_exporter textfile, or NULL */
	enum out_format format;
	int verbosity;                    /* -1 quiet, 0, 1 verbose */
	bool redact;                      /* snapshot: leave command lines out */
};

/* exit codes (DESIGN §5) */
#define EXIT_OK 0
#define EXIT_ERR 1
#define EXIT_CHANGES 2

int cmd_recommend(const struct cli *c);
int cmd_apply(const struct cli *c);
int cmd_status(const struct cli *c);
int cmd_validate(const struct cli *c);
int cmd_restore(const struct cli *c);
int cmd_run(const struct cli *c);
int cmd_snapshot(const struct cli *c);
int cmd_whatif(const struct cli *c);

/* Load policies, every problem printed as FILE:LINE; 0 or -errno. */
int cli_load_policy(const char *const *paths, size_t n, struct policy *pol);
/* COW estimates per snapshot service from learned records at time now
 * (malloc'd), NULL when nothing was learned (the planner's default). */
struct learn_estimate *cli_learned_for(const struct svc_learning *all, size_t n,
				       const struct policy *pol, const struct snapshot *snap,
				       uint64_t now);
/* Each snapshot service's workers' lifetime growth from learned records
 * (exited workers the daemon saw; it alone sees the live ones). */
void cli_learned_workers(const struct svc_learning *all, size_t n, const struct policy *pol,
			 struct snapshot *snap);

#endif
