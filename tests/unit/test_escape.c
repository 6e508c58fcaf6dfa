/* test_escape.c - hostile process names and paths made safe for a terminal
 * and the journal (issue 13 item 7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "escape.h"
#include "util.h"

static void table(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "redis-server", "redis-server" },
		{ "", "" },
		{ "rdb\n<0>PWNED x", "rdb\\n<0>PWNED x" },
		{ "a\tb\rc", "a\\tb\\rc" },
		{ "\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07" },
		{ "del\x7f", "del\\x7f" },
		{ "\xc2\x9b" "31m", "\\xc2\\x9b31m" }, /* C1 CSI, UTF-8 encoded */
		{ "caf\xc3\xa9", "caf\\xc3\\xa9" },
		{ "back\\slash \\n", "back\\slash \\n" }, /* already escaped: unchanged */
		{ "/usr/bin/redis-server (deleted)", "/usr/bin/redis-server (deleted)" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char buf[ESC_SIZE(32)];
		esc_str(t[i].in, buf, sizeof(buf));
		if (strcmp(buf, t[i].want) != 0)
			fail_msg("case %zu: got '%s' want '%s'", i, buf, t[i].want);
	}
}

static void no_control_byte_survives(void **state)
{
	(void)state;
	char in[256], buf[ESC_SIZE(255)];
	for (int c = 1; c < 256; c++)
		in[c - 1] = (char)c;
	in[255] = '\0';
	esc_str(in, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 4 * 255 - 95 * 3 - 3 * 2); /* 95 printable, \n \t \r */
	for (const unsigned char *p = (const unsigned char *)buf; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void cut_at_a_whole_escape(void **state)
{
	(void)state;
	char buf[8];
	assert_string_equal(esc_str("abcdefg", buf, sizeof(buf)), "abcdefg");
	assert_string_equal(esc_str("abcdefgh", buf, sizeof(buf)), "abcd...");
	assert_string_equal(esc_str("ab\ncdefgh", buf, sizeof(buf)), "ab\\n...");
	assert_string_equal(esc_str("a\x01zzzzzz", buf, sizeof(buf)), "a...");
	char small[3] = "xx";
	assert_string_equal(esc_str("abc", small, sizeof(small)), "");
	char one[1];
	esc_str("abc", one, 0); /* size 0: untouched, no write */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(no_control_byte_survives),
		cmocka_unit_test(cut_at_a_whole_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
