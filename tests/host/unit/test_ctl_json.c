/** @file test_ctl_json.c  The control socket's JSON: requests parsed or
 * refused as RFC 8259 and the request shape say, and answers that are
 * always valid UTF-8 JSON strings whatever bytes SIP data holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_priv.h"

static struct ctl_req req;

static int parse(const char *text, const char **why)
{
	*why = NULL;
	return ctl_json_request(text, strlen(text), &req, why);
}

static void test_requests(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(parse(" {\"command\" : \"registrations\", \"args\":"
			       " [\"a\\u00e9\\ud83d\\ude00\", \"\\/x\"]} ",
			       &why), 0);
	assert_string_equal(req.command, "registrations");
	assert_int_equal(req.argc, 2);
	assert_string_equal(req.argv[0], "a\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(req.argv[1], "/x");
	assert_int_equal(parse("{\"args\":[],\"command\":\"version\"}", &why),
			 0);
	assert_int_equal(req.argc, 0);
}

static void test_refused(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"", "a request is a JSON object"},
		{"[]", "a request is a JSON object"},
		{"{}", "no \"command\""},
		{"{\"command\":7}", "a string was expected"},
		{"{\"command\":\"a\",\"command\":\"b\"}", "only"},
		{"{\"command\":\"a\",\"args\":[],\"args\":[\"x\"]}", "only"},
		{"{\"command\":\"a\",\"args\":[\"x\",]}", "a ',' before ']'"},
		{"{\"command\":\"a\",}", "a ',' before '}'"},
		{"{\"command\":\"a\"} x", "something follows the object"},
		{"{\"command\":\"a\\u0000\"}", "a NUL in a string"},
		{"{\"command\":\"\\ud83d\"}", "a lone surrogate"},
		{"{\"command\":\"\\ude00\"}", "a lone surrogate"},
		{"{\"command\":\"\\q\"}", "a bad escape"},
		{"{\"command\":\"a\x01\"}", "a control character in a string"},
		{"{\"command\":\"a", "a string does not end"},
		{"{\"command\":\"a\"", "the object does not end"},
		{"{\"extra\":1}", "only"},
	};
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!parse(bad[i].in, &why) || !why ||
		    !strstr(why, bad[i].why)) {
			fail_msg("'%s': %s, want %s", bad[i].in,
				 why ? why : "(accepted)", bad[i].why);
		}
	}
}

static void test_strings_out(void **state)
{
	char out[256];
	struct sd_buf b;

	(void)state;
	sd_buf_init(&b, out, sizeof(out));
	/* Valid UTF-8 passes; a stray byte, an overlong form, a surrogate
	 * and a cut sequence are each written as \u00XX; controls and the
	 * quote escaped. */
	ctl_json_str(&b, "\xc3\xa9|\xfe|\xc0\xaf|\xed\xa0\x80|\xe2\x82|"
		     "\"\\\n\t\x01");
	out[b.len] = '\0';
	assert_string_equal(out, "\"\xc3\xa9|\\u00fe|\\u00c0\\u00af|"
			    "\\u00ed\\u00a0\\u0080|\\u00e2\\u0082|"
			    "\\\"\\\\\\n\\t\\u0001\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_strings_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
