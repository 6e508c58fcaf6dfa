/* test_policy.c - INI policies: every error kind with its line, several at
 * once, drop-in precedence, ownership refusal, the shipped policies.
 * Paths are relative to the source tree root (make check runs there). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "util.h"

#define FIX "tests/fixtures/policies/"

/* ---- helpers ---- */

static void dump(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  diag[%zu] %s\n", i, d->msg[i]);
}

/* parse one text as "t.ini" and run the cross-key checks */
static void parse(const char *text, struct policy *p, struct diags *d)
{
	policy_init(p);
	diags_init(d);
	policy_parse_buffer("t.ini", text, p, d);
	policy_finish(p, d);
}

static void assert_clean(const char *text, struct policy *p)
{
	struct diags d;
	parse(text, p, &d);
	if (d.n)
		dump(&d);
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

static void assert_msgs(const struct diags *d, const char *const *want, size_t n)
{
	bool ok = d->n == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = strcmp(d->msg[i], want[i]) == 0;
	if (!ok) {
		print_message("want %zu:\n", n);
		for (size_t i = 0; i < n; i++)
			print_message("  want[%zu] %s\n", i, want[i]);
		print_message("got %zu:\n", d->n);
		dump(d);
	}
	assert_true(ok);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_policy.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int remove_tmpdir(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* write tmpdir/rel with mode; returns the path in a static buffer */
static const char *put(const char *rel, const char *text, mode_t mode)
{
	static char path[4][4096];
	static int slot;
	char *out = path[slot++ % 4];
	snprintf(out, 4096, "%s/%s", tmpdir, rel);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", out);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	mkdir(dir, 0755);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(out, mode), 0);
	return out;
}

/* ---- one problem per text, exact message with its line ---- */

struct bad_case {
	const char *text;
	const char *want;
};

#define SVC "[service s]\nmatch_comm = x\n" /* lines 1-2; the key under test is line 3 */

static const struct bad_case bad_cases[] = {
	/* structure */
	{ "[hosts]\n", "t.ini:1: unknown section [hosts] (expected [host] or [service NAME])" },
	{ "\n[service]\n", "t.ini:2: section [service] needs a name: [service NAME]" },
	{ "[service a/b]\n", "t.ini:1: service name 'a/b' must be 1 to 64 characters of "
			     "A-Z a-z 0-9 _ . - not starting with '.'" },
	{ "[service ..]\n", "t.ini:1: service name '..' must be 1 to 64 characters of "
			    "A-Z a-z 0-9 _ . - not starting with '.'" },
	{ "[host\n", "t.ini:1: malformed section header (expected [host] or [service NAME] "
		      "alone on its line)" },
	{ "[host]]\n", "t.ini:1: malformed section header (expected [host] or [service NAME] "
			"alone on its line)" },
	{ "[host] ; c\n", "t.ini:1: malformed section header (expected [host] or [service NAME] "
			   "alone on its line)" },
	{ "[host]\nfoo\x1b[2J = 1\n", "t.ini:2: unknown key 'foo\\x1b[2J' in [host]" },
	{ "; c\novercommit = auto\n", "t.ini:2: key 'overcommit' outside of any section" },
	{ "[host]\nfoo = 1\n", "t.ini:2: unknown key 'foo' in [host]" },
	{ "[host]\nmatch_comm = x\n", "t.ini:2: unknown key 'match_comm' in [host]" },
	{ SVC "overcommit = auto\n", "t.ini:3: unknown key 'overcommit' in [service s]" },
	{ "[host]\njust words\n", "t.ini:2: expected 'key = value', a [section] or a comment" },
	{ "[host]\n = 5\n", "t.ini:2: expected 'key = value', a [section] or a comment" },
	{ "[host]\novercommit = auto \\\n; next\n",
	  "t.ini:2: line continuation ('\\' at end of line) is not supported" },
	{ "[host]\novercommit = auto\n\n  OVERCOMMIT = strict\n",
	  "t.ini:4: duplicate key 'overcommit' (first set at line 2)" },
	{ "[service a]\nmatch_comm = x\n[service A]\nmatch_comm = y\n",
	  "t.ini:4: duplicate key 'match_comm' (first set at line 2)" },
	{ "[host]\n\n[service s]\noom_score_adj = 1\n",
	  "t.ini:3: [service s] has no match_comm, match_exe, match_unit, match_user or "
	  "match_cmdline: it would match nothing" },
	/* host values */
	{ "[host]\novercommit = maybe\n",
	  "t.ini:2: overcommit: expected auto, strict, heuristic or always (got 'maybe')" },
	{ "[host]\novercommit = \"\"\n", "t.ini:2: overcommit: empty value (got '')" },
	{ "[host]\ncommit_limit = 101%\n",
	  "t.ini:2: commit_limit: expected a size above 0 like 12G or a percentage of MemTotal "
	  "up to 100% (got '101%')" },
	{ "[host]\ncommit_limit = 0\n",
	  "t.ini:2: commit_limit: expected a size above 0 like 12G or a percentage of MemTotal "
	  "up to 100% (got '0')" },
	{ "[host]\ncommit_limit = 0%\n",
	  "t.ini:2: commit_limit: expected a size above 0 like 12G or a percentage of MemTotal "
	  "up to 100% (got '0%')" },
	{ "[host]\ncommit_ratio = 101\n",
	  "t.ini:2: commit_ratio: expected an integer from 0 to 100 (got '101')" },
	{ "[host]\ncommit_ratio = -1\n",
	  "t.ini:2: commit_ratio: expected an integer from 0 to 100 (got '-1')" },
	{ "[host]\ncommit_ratio = 0x10\n",
	  "t.ini:2: commit_ratio: expected an integer from 0 to 100 (got '0x10')" },
	{ "[host]\ncommit_ratio = 99999999999999999999999\n",
	  "t.ini:2: commit_ratio: expected an integer from 0 to 100 (got '99999999999999999999999')" },
	{ "[host]\nuser_reserve = 128Q\n",
	  "t.ini:2: user_reserve: expected a size like 128M or a percentage of MemTotal up to "
	  "100% (got '128Q')" },
	/* issue 13 item 8: these wrapped to 0 KiB / slipped past the 1 EiB ceiling */
	{ "[host]\nuser_reserve = 18446744073709551615B\n",
	  "t.ini:2: user_reserve: expected a size like 128M or a percentage of MemTotal up to "
	  "100% (got '18446744073709551615B')" },
	{ "[host]\nadmin_reserve = 18446744073709549568B\n",
	  "t.ini:2: admin_reserve: expected a size like 8M or a percentage of MemTotal up to "
	  "100% (got '18446744073709549568B')" },
	{ "[host]\nadmin_reserve = 200%\n",
	  "t.ini:2: admin_reserve: expected a size like 8M or a percentage of MemTotal up to "
	  "100% (got '200%')" },
	{ "[host]\nfork_headroom = 99%\n",
	  "t.ini:2: fork_headroom: expected a percentage from 100% to 1000% or a size like 2G "
	  "(got '99%')" },
	{ "[host]\nfork_headroom = 1000.01%\n",
	  "t.ini:2: fork_headroom: expected a percentage from 100% to 1000% or a size like 2G "
	  "(got '1000.01%')" },
	{ "[host]\nenforce = maybe\n", "t.ini:2: enforce: expected yes or no (got 'maybe')" },
	{ "[host]\nenforce =\n", "t.ini:2: enforce: empty value (got '')" },
	{ "[host]\ninterval = 0\n",
	  "t.ini:2: interval: expected seconds, an integer from 1 to 3600 (got '0')" },
	{ "[host]\ninterval = 3601\n",
	  "t.ini:2: interval: expected seconds, an integer from 1 to 3600 (got '3601')" },
	{ "[host]\ninterval = 10s\n",
	  "t.ini:2: interval: expected seconds, an integer from 1 to 3600 (got '10s')" },
	{ "[host]\ncommit_ratio = 50\ncommit_limit = 90%\n",
	  "t.ini:3: commit_limit and commit_ratio exclude each other (commit_ratio at t.ini:2)" },
	/* service values */
	{ "[service s]\nmatch_comm = redis-server-123\nmatch_user = redis\n",
	  "t.ini:2: match_comm: longer than 15 characters, the kernel truncates comm; use "
	  "match_exe or match_cmdline (got 'redis-server-123')" },
	{ SVC "match_exe = bin/redis\n",
	  "t.ini:3: match_exe: must be an absolute path (got 'bin/redis')" },
	{ SVC "match_unit = redis\n",
	  "t.ini:3: match_unit: must end in .service or .scope (got 'redis')" },
	{ SVC "match_unit = .service\n",
	  "t.ini:3: match_unit: must end in .service or .scope (got '.service')" },
	{ SVC "match_unit = a b.service\n",
	  "t.ini:3: match_unit: not a systemd unit name (got 'a b.service')" },
	{ SVC "match_user = bad user\n",
	  "t.ini:3: match_user: not a valid user name (got 'bad user')" },
	{ SVC "match_user = -x\n",
	  "t.ini:3: match_user: not a valid user name (got '-x')" },
	{ SVC "match_user = 4294967295\n",
	  "t.ini:3: match_user: not a valid uid (got '4294967295')" },
	{ SVC "match_cmdline = ''\n",
	  "t.ini:3: match_cmdline: empty value (got '')" },
	{ SVC "match_cmdline = gunicorn\n",
	  "t.ini:3: match_cmdline: a glob over the whole command line (arguments joined by "
	  "spaces): a bare word matches only a process started as that word with no arguments; "
	  "write '*word*' or use match_exe (got 'gunicorn')" },
	{ SVC "requires_overcommit = strict\n",
	  "t.ini:3: requires_overcommit: not a mode it can require (got 'strict')" },
	{ "[host]\nconcurrent_forks = 0\n",
	  "t.ini:2: concurrent_forks: expected an integer from 1 to 64 (got '0')" },
	{ SVC "oom_score_adj = 1001\n",
	  "t.ini:3: oom_score_adj: expected an integer from -1000 to 1000 (got '1001')" },
	{ SVC "child_oom_score_adj = -1001\n",
	  "t.ini:3: child_oom_score_adj: expected an integer from -1000 to 1000 (got '-1001')" },
	{ SVC "memory_high = 0\n",
	  "t.ini:3: memory_high: expected auto, off, a size above 0 like 4G or a percentage of "
	  "MemTotal up to 100% (got '0')" },
	{ SVC "memory_high = none\n",
	  "t.ini:3: memory_high: expected auto, off, a size above 0 like 4G or a percentage of "
	  "MemTotal up to 100% (got 'none')" },
	{ SVC "memory_high_min = 200%\n",
	  "t.ini:3: memory_high_min: expected a size like 256M or a percentage of MemTotal up "
	  "to 100% (got '200%')" },
	{ SVC "memory_high_max = auto\n",
	  "t.ini:3: memory_high_max: expected a size above 0 like 8G or a percentage of "
	  "MemTotal up to 100% (got 'auto')" },
	{ SVC "memory_max = 2E\n",
	  "t.ini:3: memory_max: expected off, auto, a size above 0 like 8G or a percentage of "
	  "MemTotal up to 100% (got '2E')" },
	{ SVC "cow_margin = 10M\n",
	  "t.ini:3: cow_margin: expected a percentage from 0% to 1000% (got '10M')" },
	{ SVC "cow_margin = 1001%\n",
	  "t.ini:3: cow_margin: expected a percentage from 0% to 1000% (got '1001%')" },
	{ SVC "cgroup = /abs\n",
	  "t.ini:3: cgroup: must be relative (no leading '/') (got '/abs')" },
	{ SVC "cgroup = a/../b\n",
	  "t.ini:3: cgroup: empty, '.' or '..' path component (got 'a/../b')" },
	{ SVC "cgroup = a//b\n",
	  "t.ini:3: cgroup: empty, '.' or '..' path component (got 'a//b')" },
	{ SVC "cgroup = a/\n",
	  "t.ini:3: cgroup: empty, '.' or '..' path component (got 'a/')" },
	{ SVC "cgroup = \"a b\"\n",
	  "t.ini:3: cgroup: only A-Z a-z 0-9 _ . - / are allowed (got 'a b')" },
	{ SVC "memory_high_min = 2G\nmemory_high_max = 1G\n",
	  "t.ini:3: memory_high_min 2.0 GiB (t.ini:3) is above memory_high_max 1.0 GiB (t.ini:4)" },
	{ SVC "memory_high_max = 128M\n",
	  "t.ini:3: memory_high_min 256 MiB (built-in default) is above memory_high_max "
	  "128 MiB (t.ini:3)" },
	{ SVC "memory_high_min = 60%\nmemory_high_max = 50%\n",
	  "t.ini:3: memory_high_min 60% (t.ini:3) is above memory_high_max 50% (t.ini:4)" },
	{ SVC "memory_max = 2G\nmemory_high = 4G\n",
	  "t.ini:4: memory_high 4.0 GiB (t.ini:4) is above memory_max 2.0 GiB (t.ini:3)" },
};

static void test_bad_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		struct policy p;
		struct diags d;
		parse(bad_cases[i].text, &p, &d);
		if (d.n != 1 || strcmp(d.msg[0], bad_cases[i].want) != 0) {
			print_message("case %zu: %s\n want: %s\n", i, bad_cases[i].text,
				      bad_cases[i].want);
			dump(&d);
			fail();
		}
		diags_free(&d);
		policy_free(&p);
	}
}

/* ---- good texts ---- */

static void test_defaults(void **state)
{
	(void)state;
	struct policy p;
	assert_clean("", &p);
	assert_int_equal(p.host.overcommit, OC_AUTO);
	assert_null(p.host.overcommit_at.file);
	assert_int_equal(p.host.fork_headroom.kind, SZ_PCT);
	assert_int_equal(p.host.fork_headroom.bp, 11000);
	assert_false(p.host.enforce);
	assert_true(p.host.interval.set);
	assert_int_equal(p.host.interval.v, 10);
	assert_int_equal(p.host.commit_limit.kind, SZ_UNSET);
	assert_false(p.host.commit_ratio.set);
	assert_int_equal(p.host.user_reserve.kind, SZ_UNSET);
	assert_int_equal(p.nsvc, 0);
	policy_free(&p);

	/* service defaults; name keeps its case, the default cgroup uses it */
	assert_clean("[service Redis-6.2_x]\nmatch_comm = redis-server", &p);
	assert_int_equal(p.nsvc, 1);
	const struct pol_service *s = &p.svc[0];
	assert_string_equal(s->name, "Redis-6.2_x");
	assert_string_equal(s->at.file, "t.ini");
	assert_int_equal(s->at.line, 1);
	assert_int_equal(s->memory_high.kind, SZ_OFF);
	assert_int_equal(s->memory_high_min.kind, SZ_KB);
	assert_int_equal(s->memory_high_min.kb, 256 * 1024);
	assert_int_equal(s->memory_high_max.kind, SZ_PCT);
	assert_int_equal(s->memory_high_max.bp, 7500);
	assert_int_equal(s->memory_max.kind, SZ_OFF);
	assert_int_equal(s->cow_margin.bp, 2500);
	assert_string_equal(s->cgroup.v, "overcommitd/Redis-6.2_x");
	assert_null(s->cgroup.at.file);
	assert_false(s->oom_score_adj.set);
	assert_string_equal(s->match_comm.v, "redis-server");
	assert_int_equal(s->match_comm.at.line, 2);
	policy_free(&p);
}

static void test_syntax_variants(void **state)
{
	(void)state;
	struct policy p;
	/* CRLF, case-insensitive names, comments inline and whole-line, no final newline */
	assert_clean("# c\r\n[ HOST ]\r\n  OverCommit\t=  Strict ; why\r\n; x = y\r\n"
		     "enforce = on#comment\r\nfork_headroom = 250.5%",
		     &p);
	assert_int_equal(p.host.overcommit, OC_STRICT);
	assert_int_equal(p.host.overcommit_at.line, 3);
	assert_true(p.host.enforce);
	assert_int_equal(p.host.enforce_at.line, 5);
	assert_int_equal(p.host.fork_headroom.kind, SZ_PCT);
	assert_int_equal(p.host.fork_headroom.bp, 25050);
	assert_int_equal(p.host.fork_headroom.at.line, 6);
	policy_free(&p);

	/* quotes keep ';' and '#'; a '[' inside a value is fine */
	assert_clean("[service s]\nmatch_cmdline = \"*redis;#[x]*\"\nmatch_user = 0\n", &p);
	assert_string_equal(p.svc[0].match_cmdline.v, "*redis;#[x]*");
	assert_string_equal(p.svc[0].match_user.v, "0");
	policy_free(&p);

	/* the same section spelled differently: one service, duplicates still caught */
	assert_clean("[service a]\nmatch_comm = x\n[Service  A]\noom_score_adj = 3\n", &p);
	assert_int_equal(p.nsvc, 1);
	assert_string_equal(p.svc[0].name, "a");
	assert_int_equal(p.svc[0].oom_score_adj.v, 3);
	policy_free(&p);

	/* a repeated section header in one file merges */
	assert_clean("[service a]\nmatch_comm = x\n[host]\n[service a]\noom_score_adj = -5\n", &p);
	assert_int_equal(p.nsvc, 1);
	assert_int_equal(p.svc[0].oom_score_adj.v, -5);
	assert_int_equal(p.svc[0].oom_score_adj.at.line, 5);
	policy_free(&p);
}

static void test_full_fixture(void **state)
{
	(void)state;
	const char *paths[] = { FIX "good/full.ini" };
	struct policy p;
	struct diags d;
	diags_init(&d);
	int rc = policy_load(paths, 1, false, &p, &d);
	dump(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	const struct pol_host *h = &p.host;
	assert_int_equal(h->overcommit, OC_STRICT);
	assert_string_equal(h->overcommit_at.file, FIX "good/full.ini");
	assert_int_equal(h->overcommit_at.line, 3);
	assert_int_equal(h->commit_limit.kind, SZ_PCT);
	assert_int_equal(h->commit_limit.bp, 9000);
	assert_int_equal(h->commit_limit.at.line, 4);
	assert_int_equal(h->user_reserve.kind, SZ_KB);
	assert_int_equal(h->user_reserve.kb, 128 * 1024);
	assert_int_equal(h->admin_reserve.kb, 8 * 1024);
	assert_int_equal(h->fork_headroom.kind, SZ_KB);
	assert_int_equal(h->fork_headroom.kb, 2 * 1024 * 1024);
	assert_true(h->enforce);
	assert_int_equal(h->interval.v, 3600);
	assert_int_equal(h->interval.at.line, 9);
	assert_int_equal(p.nsvc, 2);
	const struct pol_service *s = &p.svc[0];
	assert_string_equal(s->name, "my-svc.1");
	assert_string_equal(s->match_comm.v, "redis-server");
	assert_string_equal(s->match_exe.v, "/usr/bin/redis-server");
	assert_string_equal(s->match_unit.v, "redis-server.service");
	assert_string_equal(s->match_user.v, "redis");
	assert_string_equal(s->match_cmdline.v, "*redis-server *:6379*");
	assert_int_equal(s->match_cmdline.at.line, 16);
	assert_int_equal(s->oom_score_adj.v, -1000);
	assert_int_equal(s->child_oom_score_adj.v, 1000);
	assert_int_equal(s->memory_high.kind, SZ_PCT);
	assert_int_equal(s->memory_high.bp, 1250);
	assert_int_equal(s->memory_high_min.kb, 1024 * 1024);
	assert_int_equal(s->memory_high_max.kb, 4 * 1024 * 1024);
	assert_int_equal(s->memory_max.kind, SZ_KB);
	assert_int_equal(s->memory_max.kb, 8 * 1024 * 1024);
	assert_int_equal(s->cow_margin.kind, SZ_PCT);
	assert_int_equal(s->cow_margin.bp, 0);
	assert_string_equal(s->cgroup.v, "overcommitd/my-svc.1");
	assert_int_equal(s->cgroup.at.line, 24);
	assert_string_equal(p.svc[1].match_user.v, "999");
	assert_int_equal(p.svc[1].memory_max.kind, SZ_AUTO);
	policy_free(&p);
	diags_free(&d);
}

/* ---- several problems at once ---- */

static void test_many_errors(void **state)
{
	(void)state;
	const char *paths[] = { FIX "bad/many-errors.ini" };
#define F FIX "bad/many-errors.ini:"
	static const char *const want[] = {
		F "3: overcommit: expected auto, strict, heuristic or always (got 'sometimes')",
		F "4: commit_limit: expected a size above 0 like 12G or a percentage of MemTotal "
		  "up to 100% (got '150%')",
		F "6: duplicate key 'fork_headroom' (first set at line 5)",
		F "7: enforce: expected yes or no (got 'maybe')",
		F "8: unknown key 'colour' in [host]",
		F "11: match_comm: longer than 15 characters, the kernel truncates comm; use "
		  "match_exe or match_cmdline (got 'redis-server-with-a-long-name')",
		F "12: oom_score_adj: expected an integer from -1000 to 1000 (got '-1001')",
		F "13: memory_high: expected auto, off, a size above 0 like 4G or a percentage of "
		  "MemTotal up to 100% (got '12Q')",
		F "14: cgroup: empty, '.' or '..' path component (got '../escape')",
		F "19: unknown section [services] (expected [host] or [service NAME])",
		F "21: expected 'key = value', a [section] or a comment",
		/* cross-key checks come after all files; Redis lost its only match_* */
		F "10: [service Redis] has no match_comm, match_exe, match_unit, match_user or "
		  "match_cmdline: it would match nothing",
		F "16: [service lonely] has no match_comm, match_exe, match_unit, match_user or "
		  "match_cmdline: it would match nothing",
	};
#undef F
	struct policy p;
	struct diags d;
	diags_init(&d);
	assert_int_equal(policy_load(paths, 1, false, &p, &d), -EINVAL);
	assert_msgs(&d, want, ARRAY_SIZE(want));
	/* refused whole: nothing left to use or leak */
	assert_int_equal(p.nsvc, 0);
	assert_null(p.svc);
	assert_null(p.files);
	diags_free(&d);
}

static void test_too_long_line(void **state)
{
	(void)state;
	char text[1200];
	memset(text, 'x', sizeof(text));
	memcpy(text, "[host]\n;", 8);
	snprintf(text + 1008, sizeof(text) - 1008, "\nenforce = perhaps\n"); /* 1001-char line 2 */
	static const char *const want[] = {
		"t.ini:2: line too long (1001 characters, at most 1000)",
		"t.ini:3: enforce: expected yes or no (got 'perhaps')",
	};
	struct policy p;
	struct diags d;
	parse(text, &p, &d);
	assert_msgs(&d, want, ARRAY_SIZE(want));
	diags_free(&d);
	policy_free(&p);

	/* exactly 1000 is fine */
	memset(text, 'x', sizeof(text));
	memcpy(text, "[host]\n;", 8);
	snprintf(text + 1007, sizeof(text) - 1007, "\nenforce = yes\n");
	assert_clean(text, &p);
	assert_true(p.host.enforce);
	policy_free(&p);
}

static void test_too_many_sections(void **state)
{
	(void)state;
	size_t size = 300 * 40, used = 0;
	char *text = malloc(size);
	assert_non_null(text);
	for (int i = 0; i < 257; i++)
		used += (size_t)snprintf(text + used, size - used,
					 "[service s%d]\nmatch_comm = x\n", i);
	static const char *const want[] = {
		"t.ini:513: too many sections (at most 256 in one file)",
	};
	struct policy p;
	struct diags d;
	parse(text, &p, &d);
	assert_msgs(&d, want, ARRAY_SIZE(want));
	assert_int_equal(p.nsvc, 256);
	diags_free(&d);
	policy_free(&p);
	free(text);
}

/* A refused section takes its keys with it; a comment ending in '\' does
 * not swallow the next line (iniparser alone would glue them). */
static void test_refused_lines_do_not_leak(void **state)
{
	(void)state;
	static const char *const want[] = {
		"t.ini:3: unknown section [hots] (expected [host] or [service NAME])",
	};
	struct policy p;
	struct diags d;
	parse("[host]\novercommit = strict\n[hots]\novercommit = always\n; c \\\n[host]\n"
	      "enforce = yes\n",
	      &p, &d);
	assert_msgs(&d, want, ARRAY_SIZE(want));
	assert_int_equal(p.host.overcommit, OC_STRICT);
	assert_true(p.host.enforce);
	assert_int_equal(p.host.enforce_at.line, 7);
	diags_free(&d);
	policy_free(&p);
}

/* ---- loading: drop-in precedence ---- */

static void check_override(const struct policy *p)
{
	const struct pol_host *h = &p->host;
	assert_int_equal(h->overcommit, OC_ALWAYS); /* 30-late wins */
	assert_string_equal(h->overcommit_at.file, FIX "override/a/30-late.ini");
	assert_int_equal(h->overcommit_at.line, 2);
	assert_true(h->enforce); /* 20-mid */
	assert_string_equal(h->enforce_at.file, FIX "override/b/20-mid.ini");
	assert_int_equal(h->enforce_at.line, 3);
	assert_int_equal(h->fork_headroom.bp, 15000); /* 10-base, never overridden */
	assert_string_equal(h->fork_headroom.at.file, FIX "override/a/10-base.ini");
	assert_int_equal(h->interval.v, 30);
	/* one service across three files, "Redis" and "redis" are the same */
	assert_int_equal(p->nsvc, 1);
	const struct pol_service *s = &p->svc[0];
	assert_string_equal(s->name, "redis");
	assert_string_equal(s->at.file, FIX "override/a/10-base.ini");
	assert_int_equal(s->at.line, 6);
	assert_string_equal(s->match_comm.v, "redis-server");
	assert_int_equal(s->oom_score_adj.v, -600);
	assert_string_equal(s->oom_score_adj.at.file, FIX "override/b/20-mid.ini");
	assert_int_equal(s->oom_score_adj.at.line, 6);
	assert_int_equal(s->memory_high.kind, SZ_AUTO);
	assert_int_equal(s->memory_high.at.line, 5);
	/* README.txt and .hidden.ini were not read: they would not parse */
	assert_int_equal(p->nfiles, 3);
}

static void test_override_by_file_name(void **state)
{
	(void)state;
	const char *ab[] = { FIX "override/a", FIX "override/b" };
	const char *ba[] = { FIX "override/b/", FIX "override/a" };
	for (int order = 0; order < 2; order++) {
		struct policy p;
		struct diags d;
		diags_init(&d);
		int rc = policy_load(order ? ba : ab, 2, false, &p, &d);
		dump(&d);
		assert_int_equal(rc, 0);
		if (order) {
			/* path given with a trailing '/': names still join cleanly */
			assert_string_equal(p.host.enforce_at.file, FIX "override/b/20-mid.ini");
		}
		check_override(&p);
		policy_free(&p);
		diags_free(&d);
	}
}

static void test_same_name_later_path_wins(void **state)
{
	(void)state;
	put("one/50-x.ini", "[host]\novercommit = strict\n", 0644);
	put("two/50-x.ini", "[host]\novercommit = heuristic\n", 0644);
	const char *single = put("zz-explicit.conf", "[host]\ninterval = 5\n", 0600);
	char one[128], two[128];
	snprintf(one, sizeof(one), "%s/one", tmpdir);
	snprintf(two, sizeof(two), "%s/two", tmpdir);
	const char *paths[][3] = { { one, two, single }, { two, one, single } };
	const enum oc_pref want[] = { OC_HEURISTIC, OC_STRICT };
	for (int i = 0; i < 2; i++) {
		struct policy p;
		struct diags d;
		diags_init(&d);
		assert_int_equal(policy_load(paths[i], 3, true, &p, &d), 0);
		assert_int_equal(p.host.overcommit, want[i]);
		/* an explicit file is read whatever its name */
		assert_int_equal(p.host.interval.v, 5);
		policy_free(&p);
		diags_free(&d);
	}
}

static void test_missing_and_empty(void **state)
{
	(void)state;
	char empty[128], missing[128];
	snprintf(empty, sizeof(empty), "%s/empty", tmpdir);
	snprintf(missing, sizeof(missing), "%s/missing", tmpdir);
	assert_int_equal(mkdir(empty, 0755), 0);
	put("empty/notes.txt", "x", 0644);
	struct policy p;
	struct diags d;
	diags_init(&d);
	const char *e[] = { empty };
	assert_int_equal(policy_load(e, 1, true, &p, &d), -EINVAL);
	char want0[300];
	snprintf(want0, sizeof(want0), "no policy files found in %s", empty);
	const char *w0[] = { want0 };
	assert_msgs(&d, w0, 1);
	diags_free(&d);

	const char *m[] = { missing, FIX "override/a" };
	assert_int_equal(policy_load(m, 2, false, &p, &d), -EINVAL);
	char want1[300];
	snprintf(want1, sizeof(want1), "%s: No such file or directory", missing);
	const char *w1[] = { want1 };
	assert_msgs(&d, w1, 1);
	diags_free(&d);

	assert_int_equal(policy_load(NULL, 0, false, &p, &d), -EINVAL);
	const char *w2[] = { "no policy files found in (no path given)" };
	assert_msgs(&d, w2, 1);
	diags_free(&d);
}

/* Each bad file is reported with its own name, all of them. */
static void test_errors_in_two_files(void **state)
{
	(void)state;
	const char *f1 = put("multi/10-a.ini", "[host]\ninterval = never\n", 0644);
	const char *f2 = put("multi/20-b.ini", "\n\n[service x]\nmatch_exe = x\n", 0644);
	char w1[300], w2[300], dir[128];
	snprintf(w1, sizeof(w1), "%s:2: interval: expected seconds, an integer from 1 to 3600 "
		 "(got 'never')", f1);
	snprintf(w2, sizeof(w2), "%s:4: match_exe: must be an absolute path (got 'x')", f2);
	snprintf(dir, sizeof(dir), "%s/multi", tmpdir);
	/* the second one also has no valid match_* left: reported at its header */
	char w3[300];
	snprintf(w3, sizeof(w3), "%s:3: [service x] has no match_comm, match_exe, match_unit, "
		 "match_user or match_cmdline: it would match nothing", f2);
	const char *want[] = { w1, w2, w3 };
	const char *paths[] = { dir };
	struct policy p;
	struct diags d;
	diags_init(&d);
	assert_int_equal(policy_load(paths, 1, true, &p, &d), -EINVAL);
	assert_msgs(&d, want, 3);
	diags_free(&d);
}

/* ---- ownership and mode (DESIGN §7.7) ---- */

static void test_refuse_writable(void **state)
{
	(void)state;
	const char *good = "[host]\nenforce = yes\n";
	const mode_t bad_modes[] = { 0666, 0664, 0646, 0620 };
	for (size_t i = 0; i < ARRAY_SIZE(bad_modes); i++) {
		const char *f = put("mode/p.ini", good, bad_modes[i]);
		char want[300];
		snprintf(want, sizeof(want), "%s: refused: writable by group/others (mode %04o)", f,
			 (unsigned)bad_modes[i]);
		const char *w[] = { want };
		const char *paths[] = { f };
		struct policy p;
		struct diags d;
		diags_init(&d);
		assert_int_equal(policy_load(paths, 1, true, &p, &d), -EINVAL);
		assert_msgs(&d, w, 1);
		diags_free(&d);
		/* without the check (validate of a file being prepared) it loads */
		assert_int_equal(policy_load(paths, 1, false, &p, &d), 0);
		assert_true(p.host.enforce);
		policy_free(&p);
		diags_free(&d);
	}
	const char *f = put("mode/p.ini", good, 0640);
	const char *paths[] = { f };
	struct policy p;
	struct diags d;
	diags_init(&d);
	assert_int_equal(policy_load(paths, 1, true, &p, &d), 0);
	policy_free(&p);
	diags_free(&d);
}

static void test_refuse_foreign_owner(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	const char *f = put("owner/p.ini", "[host]\n", 0644);
	assert_int_equal(chown(f, 12345, 0), 0);
	char want[300];
	snprintf(want, sizeof(want), "%s: refused: owned by uid 12345, not by root", f);
	const char *w[] = { want };
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/owner", tmpdir);
	const char *paths[] = { dir };
	struct policy p;
	struct diags d;
	diags_init(&d);
	assert_int_equal(policy_load(paths, 1, true, &p, &d), -EINVAL);
	assert_msgs(&d, w, 1);
	diags_free(&d);
}

/* ---- the directories around a policy (issue 13 item 9) ---- */

/* policy_load(path) with check_owner must fail with exactly `want`. */
static void refused_with(const char *path, const char *want)
{
	const char *w[] = { want };
	const char *paths[] = { path };
	struct policy p;
	struct diags d;
	diags_init(&d);
	assert_int_equal(policy_load(paths, 1, true, &p, &d), -EINVAL);
	assert_msgs(&d, w, 1);
	diags_free(&d);
}

static void loads(const char *path)
{
	const char *paths[] = { path };
	struct policy p;
	struct diags d;
	diags_init(&d);
	assert_int_equal(policy_load(paths, 1, true, &p, &d), 0);
	policy_free(&p);
	diags_free(&d);
}

static void test_refuse_open_directory(void **state)
{
	(void)state;
	put("opendir/p.ini", "[host]\nenforce = yes\n", 0644);
	char dir[128], want[300];
	snprintf(dir, sizeof(dir), "%s/opendir", tmpdir);
	loads(dir);
	/* 0777 without and with the sticky bit: the directory itself is read
	 * whole, so anyone could drop a file in */
	const mode_t bad[] = { 0777, 0775, 01777 };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(chmod(dir, bad[i]), 0);
		snprintf(want, sizeof(want), "%s: refused: writable by group/others (mode %04o)", dir,
			 (unsigned)bad[i]);
		refused_with(dir, want);
	}
	assert_int_equal(chmod(dir, 0755), 0);
	loads(dir);
}

static void test_refuse_foreign_directory(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* only root can give a directory away */
	put("theirs/p.ini", "[host]\n", 0644);
	char dir[128], want[300];
	snprintf(dir, sizeof(dir), "%s/theirs", tmpdir);
	assert_int_equal(chown(dir, 1000, 1000), 0);
	snprintf(want, sizeof(want), "%s: refused: owned by uid 1000, not by root", dir);
	refused_with(dir, want);
	/* a root-owned policy directory inside a user's directory: the user
	 * can rename it away and put another in its place */
	put("theirs/inner/p.ini", "[host]\n", 0644);
	char inner[160];
	snprintf(inner, sizeof(inner), "%s/inner", dir);
	refused_with(inner, want);
	/* the same for a file named on its own */
	char file[200];
	snprintf(file, sizeof(file), "%s/p.ini", inner);
	refused_with(file, want);
	assert_int_equal(chown(dir, 0, 0), 0);
	loads(inner);
	loads(file);
}

static void test_refuse_symlinked_file(void **state)
{
	(void)state;
	const char *target = put("elsewhere/real.ini", "[host]\nenforce = yes\n", 0644);
	put("linked/00-ok.ini", "[host]\n", 0644);
	char dir[128], link[160], want[300];
	snprintf(dir, sizeof(dir), "%s/linked", tmpdir);
	snprintf(link, sizeof(link), "%s/50-link.ini", dir);
	assert_int_equal(symlink(target, link), 0);
	snprintf(want, sizeof(want), "%s: refused: a symbolic link (policy files are not followed)",
		 link);
	refused_with(dir, want);
	refused_with(link, want);
	/* a file in a world-writable sticky directory, named on its own, is
	 * fine: nobody else can rename it (the /tmp case) */
	char sticky[128];
	snprintf(sticky, sizeof(sticky), "%s/sticky", tmpdir);
	const char *f = put("sticky/p.ini", "[host]\n", 0644);
	assert_int_equal(chmod(sticky, 01777), 0);
	loads(f);
	assert_int_equal(chmod(sticky, 0777), 0);
	snprintf(want, sizeof(want), "%s: refused: writable by group/others (mode 0777)", sticky);
	refused_with(f, want);
}

static void test_not_regular_or_binary(void **state)
{
	(void)state;
	char dir[128], fifo[160];
	snprintf(dir, sizeof(dir), "%s/odd", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(fifo, sizeof(fifo), "%s/10-fifo.ini", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0); /* must not block the loader */
	const char *nul = put("odd/20-nul.ini", "[host]\n", 0644);
	int fd = open(nul, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\0enforce = yes\n", 15), 15);
	close(fd);
	char w0[300], w1[300];
	snprintf(w0, sizeof(w0), "%s: not a regular file", fifo);
	snprintf(w1, sizeof(w1), "%s: contains a NUL byte: not a text file", nul);
	const char *want[] = { w0, w1 };
	const char *paths[] = { dir };
	struct policy p;
	struct diags d;
	diags_init(&d);
	assert_int_equal(policy_load(paths, 1, true, &p, &d), -EINVAL);
	assert_msgs(&d, want, 2);
	diags_free(&d);
}

/* ---- the shipped policies validate ---- */

static void test_shipped_policies(void **state)
{
	(void)state;
	const char *one[][1] = {
		{ "policies/00-default.ini" },
		{ "policies/examples/redis.ini" },
		{ "policies/examples/postgresql.ini" },
		{ "policies/examples/apache2.ini" },
		{ "policies/examples/gunicorn.ini" },
		{ "policies/examples/mongodb.ini" },
		{ "policies" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(one); i++) {
		struct policy p;
		struct diags d;
		diags_init(&d);
		int rc = policy_load(one[i], 1, false, &p, &d);
		if (rc)
			print_message("%s:\n", one[i][0]);
		dump(&d);
		assert_int_equal(rc, 0);
		assert_int_equal(d.n, 0);
		policy_free(&p);
	}
	/* the default and every example together, as an operator would install them */
	const char *all[] = { "policies", "policies/examples" };
	struct policy p;
	struct diags d;
	diags_init(&d);
	assert_int_equal(policy_load(all, 2, false, &p, &d), 0);
	assert_int_equal(p.host.overcommit, OC_AUTO);
	assert_false(p.host.enforce);
	assert_int_equal(p.host.fork_headroom.bp, 11000);
	assert_int_equal(p.nsvc, 5);
	/* sorted by file name: apache2, gunicorn, mongodb, postgresql, redis;
	 * each matched on its program and user, never on a name alone */
	for (size_t i = 0; i < p.nsvc; i++) {
		assert_non_null(p.svc[i].match_exe.v);
		assert_non_null(p.svc[i].match_user.v);
		assert_null(p.svc[i].match_comm.v);
	}
	assert_int_equal(p.notes.n > 0, 1); /* symlinks resolved or paths absent: said */
	for (size_t i = 0; i < p.notes.n; i++)
		assert_null(strstr(p.notes.msg[i], "alone"));
	assert_string_equal(p.svc[0].name, "apache2");
	assert_string_equal(p.svc[1].name, "gunicorn");
	assert_string_equal(p.svc[1].match_cmdline.v, "*/gunicorn *");
	assert_string_equal(p.svc[2].name, "mongodb");
	assert_string_equal(p.svc[2].requires_overcommit.v, "heuristic");
	assert_string_equal(p.svc[3].name, "postgresql");
	assert_int_equal(p.svc[3].oom_score_adj.v, -1000);
	assert_int_equal(p.svc[3].child_oom_score_adj.v, 0);
	assert_string_equal(p.svc[3].match_user.v, "postgres");
	assert_int_equal(p.svc[3].memory_high.kind, SZ_OFF);
	const struct pol_service *r = &p.svc[4];
	assert_string_equal(r->name, "redis");
	assert_string_equal(r->match_exe.v, "/usr/bin/redis-server");
	assert_int_equal(r->oom_score_adj.v, -500);
	assert_int_equal(r->child_oom_score_adj.v, 800);
	assert_int_equal(r->memory_high.kind, SZ_AUTO);
	assert_int_equal(r->memory_high_min.kb, 256 * 1024);
	assert_int_equal(r->memory_high_max.bp, 7500);
	assert_int_equal(r->cow_margin.bp, 2500);
	assert_string_equal(r->cgroup.v, "overcommitd/redis");
	assert_string_equal(r->cgroup.at.file, "policies/examples/redis.ini");
	policy_free(&p);
}

/* notes: a service matched by name alone; match_exe symlinks resolved */
static void test_notes(void **state)
{
	(void)state;
	struct policy p;
	assert_clean("[service s]\nmatch_comm = x\n", &p);
	assert_int_equal(p.notes.n, 1);
	assert_non_null(strstr(p.notes.msg[0], "t.ini:1: warning: [service s] is matched by "
					       "match_comm alone"));
	policy_free(&p);
	assert_clean("[service s]\nmatch_cmdline = *x*\n", &p);
	assert_non_null(strstr(p.notes.msg[0], "match_cmdline alone"));
	policy_free(&p);
	assert_clean("[service s]\nmatch_comm = x\nmatch_user = 0\n", &p);
	assert_int_equal(p.notes.n, 0);
	policy_free(&p);

	char dir[] = "/tmp/oc-exe-XXXXXX", link[64], real[64], text[256];
	assert_non_null(mkdtemp(dir));
	snprintf(real, sizeof(real), "%s/redis-check-rdb", dir);
	snprintf(link, sizeof(link), "%s/redis-server", dir);
	FILE *f = fopen(real, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(symlink("redis-check-rdb", link), 0);
	snprintf(text, sizeof(text), "[service s]\nmatch_exe = %s\nmatch_user = 0\n", link);
	assert_clean(text, &p);
	policy_resolve_exe(&p);
	assert_string_equal(p.svc[0].match_exe_target, real);
	assert_int_equal(p.notes.n, 1);
	assert_non_null(strstr(p.notes.msg[0], "resolves to"));
	policy_free(&p);
	/* a plain file: nothing to say; a missing one: said */
	snprintf(text, sizeof(text), "[service s]\nmatch_exe = %s\nmatch_user = 0\n", real);
	assert_clean(text, &p);
	policy_resolve_exe(&p);
	assert_null(p.svc[0].match_exe_target);
	assert_int_equal(p.notes.n, 0);
	policy_free(&p);
	unlink(link);
	unlink(real);
	rmdir(dir);
	assert_clean("[service s]\nmatch_exe = /nonexistent-oc/bin\nmatch_user = 0\n", &p);
	policy_resolve_exe(&p);
	assert_null(p.svc[0].match_exe_target);
	assert_non_null(strstr(p.notes.msg[0], "No such file"));
	policy_free(&p);
}

static void test_pref_names(void **state)
{
	(void)state;
	assert_string_equal(oc_pref_name(OC_AUTO), "auto");
	assert_string_equal(oc_pref_name(OC_STRICT), "strict");
	assert_string_equal(oc_pref_name(OC_HEURISTIC), "heuristic");
	assert_string_equal(oc_pref_name(OC_ALWAYS), "always");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_cases),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_syntax_variants),
		cmocka_unit_test(test_full_fixture),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_too_long_line),
		cmocka_unit_test(test_refused_lines_do_not_leak),
		cmocka_unit_test(test_refuse_open_directory),
		cmocka_unit_test(test_refuse_foreign_directory),
		cmocka_unit_test(test_refuse_symlinked_file),
		cmocka_unit_test(test_too_many_sections),
		cmocka_unit_test(test_override_by_file_name),
		cmocka_unit_test(test_same_name_later_path_wins),
		cmocka_unit_test(test_missing_and_empty),
		cmocka_unit_test(test_errors_in_two_files),
		cmocka_unit_test(test_refuse_writable),
		cmocka_unit_test(test_refuse_foreign_owner),
		cmocka_unit_test(test_not_regular_or_binary),
		cmocka_unit_test(test_shipped_policies),
		cmocka_unit_test(test_pref_names),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
