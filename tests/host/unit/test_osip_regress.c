/** @file test_osip_regress.c  libosip2 5.3.0 hazards (data/osip-crashes)
 * and allocation failure at every point of a parse.
 *
 * The leak inputs really leak inside libosip2: the first test proves it
 * with a bare parse, so the next one shows the message arena is what
 * saves the daemon.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem.h"
#include "sip_priv.h"

static char file_buf[65536];

static size_t read_data(const char *name)
{
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/osip-crashes/%s",
		 getenv("SIMPLED_DATA"), name);
	f = fopen(path, "rb");
	if (!f) {
		fail_msg("cannot open %s", path);
	}
	n = fread(file_buf, 1, sizeof(file_buf) - 1, f);
	fclose(f);
	file_buf[n] = '\0';
	return n;
}

static int setup(void **state)
{
	(void)state;
	mem_set_budget(4u << 20);
	mem_osip_install();
	parser_init();
	return 0;
}

static const char *const leak_files[] = {
	"leak-multipart-duplicate-content-type.sip",
	"leak-fuzzer-artifact-29d2273a.sip",
};

static void test_libosip2_leaks_without_arena(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		size_t n = read_data(leak_files[i]);
		unsigned long before = mem_blocks();
		struct mem_arena a = {0};
		struct mem_arena *prev = mem_arena_enter(&a);
		osip_message_t *m;

		assert_int_equal(osip_message_init(&m), 0);
		osip_message_parse(m, file_buf, n);
		osip_message_free(m);
		mem_arena_leave(prev);
		/* libosip2 left blocks behind (osip_body.c:145)... */
		assert_true(mem_blocks() > before);
		/* ...which the arena gives back. */
		assert_true(mem_arena_release(&a) > 0);
		assert_int_equal(mem_blocks(), before);
	}
}

static void parse_and_free(const char *buf, size_t n)
{
	struct sip_flow f = {.tp = SIP_TP_UDP, .conn = -1};
	struct sip_msg *m = NULL;
	const char *why;

	sip_msg_parse(&m, buf, n, &f, &why);
	sip_msg_free(m);
}

static void test_crash_files_leave_nothing(void **state)
{
	static const char *const files[] = {
		"leak-multipart-duplicate-content-type.sip",
		"leak-fuzzer-artifact-29d2273a.sip",
		"ubsan-null-pointer-arith-osip_body259.sip",
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		size_t n = read_data(files[i]);
		unsigned long before = mem_blocks();
		size_t used = mem_used();

		parse_and_free(file_buf, n);
		assert_int_equal(mem_blocks(), before);
		assert_int_equal(mem_used(), used);
	}
}

static const char register_req[] =
	"REGISTER sip:example.test SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKoom;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: \"Alice\" <sip:alice@example.test>;tag=1\r\n"
	"To: <sip:alice@example.test>\r\n"
	"Call-ID: oom@10.0.0.2\r\n"
	"CSeq: 1 REGISTER\r\n"
	"Contact: <sip:alice@10.0.0.2:5060;transport=udp>;expires=600\r\n"
	"Contact: <sip:alice@10.0.0.3>;q=0.5\r\n"
	"Content-Type: multipart/mixed;boundary=B\r\n"
	"Content-Length: 47\r\n\r\n"
	"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n";

/* Fail the n-th allocation for every n a parse makes: nothing leaks and
 * the parse says ENOMEM or succeeds. */
static void test_oom_sweep_parse(void **state)
{
	unsigned long n, total = 0;
	unsigned long before;

	(void)state;
	before = mem_blocks();
	for (n = 1; n < 2000; n++) {
		struct sip_flow f = {.tp = SIP_TP_UDP, .conn = -1};
		struct sip_msg *m = NULL;
		unsigned long fails = mem_fails();
		const char *why;
		int err;

		mem_fail_nth(n);
		err = sip_msg_parse(&m, register_req, sizeof(register_req) - 1,
				    &f, &why);
		mem_fail_nth(0);
		if (mem_fails() == fails) {
			/* The n-th allocation never came: sweep complete. */
			assert_int_equal(err, 0);
			total = n;
			sip_msg_free(m);
			break;
		}
		assert_true(err == ENOMEM || err == 0 || err == EBADMSG);
		sip_msg_free(m);
		assert_int_equal(mem_blocks(), before);
	}
	assert_true(total > 20);
}

static void test_budget_refuses(void **state)
{
	struct sip_flow f = {.tp = SIP_TP_UDP, .conn = -1};
	struct sip_msg *m = NULL;
	const char *why;

	(void)state;
	mem_set_budget(2048);
	assert_int_equal(sip_msg_parse(&m, register_req,
				       sizeof(register_req) - 1, &f, &why),
			 ENOMEM);
	sip_msg_free(m);
	mem_set_budget(4u << 20);
	assert_int_equal(sip_msg_parse(&m, register_req,
				       sizeof(register_req) - 1, &f, &why), 0);
	sip_msg_free(m);
	assert_int_equal(mem_used(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libosip2_leaks_without_arena),
		cmocka_unit_test(test_crash_files_leave_nothing),
		cmocka_unit_test(test_oom_sweep_parse),
		cmocka_unit_test(test_budget_refuses),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
