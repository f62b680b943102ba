/** @file test_sip_msg.c  The raw header index and the response writer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mem.h"
#include "sip_priv.h"

static struct sip_msg *parse(const char *text, int expect_err,
			     const char **why)
{
	struct sip_flow f = {.tp = SIP_TP_UDP, .conn = -1};
	struct sip_msg *m = NULL;
	const char *w = NULL;

	assert_int_equal(sd_addr_parse(&f.peer, "192.0.2.9", 40000), 0);
	assert_int_equal(sip_msg_parse(&m, text, strlen(text), &f, &w),
			 expect_err);
	if (why) {
		*why = w;
	}
	return m;
}

static int setup(void **state)
{
	(void)state;
	mem_init(1u << 20);
	mem_osip_install();
	parser_init();
	return 0;
}

static void test_compact_and_folded_headers(void **state)
{
	struct sip_msg *m;

	(void)state;
	m = parse("MESSAGE sip:a@example.test SIP/2.0\r\n"
		  "v: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKc1;rport,"
		  " SIP/2.0/UDP 10.1.1.1\r\n"
		  "f: <sip:b@example.test>\r\n"
		  "  ;tag=fold\r\n"
		  "t: \"A, B\" <sip:a@example.test;x=1>\r\n"
		  "i: cid\r\n"
		  "CSeq: 7 MESSAGE\r\n"
		  "l: 2\r\n\r\nhi", 0, NULL);
	assert_non_null(m);
	assert_int_equal(m->cseq, 7);
	assert_int_equal(sd_pl_casecmp(m->branch, "z9hG4bKc1"), 0);
	assert_int_equal(sd_pl_casecmp(m->sent_by, "192.0.2.9:5070"), 0);
	assert_int_equal(m->via_port, 5070);
	assert_true(m->via_rport);
	assert_int_equal(sd_pl_casecmp(m->from_tag, "fold"), 0);
	assert_null(m->to_tag.p); /* x=1 is a URI parameter, not a tag */
	assert_int_equal(sd_pl_casecmp(m->call_id, "cid"), 0);
	assert_int_equal(sd_pl_casecmp(m->body, "hi"), 0);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH));
	sip_msg_free(m);
}

static void test_faults_are_named(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{"MESSAGE sip:a@x SIP/2.0\r\nFrom: <sip:b@x>;tag=1\r\n"
		 "To: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\r\n",
		 "Missing Via header"},
		{"MESSAGE sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h:99999\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 MESSAGE\r\n\r\n", "Malformed Via header (port)"},
		{"MESSAGE sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: x MESSAGE\r\n\r\n", "Malformed CSeq header"},
		{"MESSAGE sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 MESSAGE\r\nbroken line\r\n\r\n",
		 "Malformed header line (no colon)"},
		{"MESSAGE sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 MESSAGE\r\n", "Message ends inside the header section"},
		{"MES(SAGE sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 MES(SAGE\r\n\r\n", "Malformed method"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		struct sip_msg *m = parse(cases[i].text, EBADMSG, &why);

		assert_non_null(why);
		assert_string_equal(why, cases[i].why);
		sip_msg_free(m);
	}
	assert_int_equal(mem_blocks(), 0);
}

static void test_response_via_and_tag(void **state)
{
	char out[2048];
	struct sd_buf b;
	struct sip_msg *m;

	(void)state;
	m = parse("OPTIONS sip:example.test SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bKr\r\n"
		  "Via: SIP/2.0/TCP proxy.test;branch=z9hG4bKp\r\n"
		  "From: <sip:b@example.test>;tag=1\r\n"
		  "To: <sip:example.test>\r\nCall-ID: c\r\n"
		  "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", 0, NULL);
	sd_buf_init(&b, out, sizeof(out));
	sip_build_response(&b, m, 200, NULL, "tt", "X-A: 1\r\n", "text/plain",
			   "body", 4);
	assert_false(b.overflow);
	assert_non_null(strstr(out, "SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.5:5060;rport=40000;branch=z9hG4bKr"
		";received=192.0.2.9\r\n"
		"Via: SIP/2.0/TCP proxy.test;branch=z9hG4bKp\r\n"
		"From: <sip:b@example.test>;tag=1\r\n"
		"To: <sip:example.test>;tag=tt\r\n"
		"Call-ID: c\r\nCSeq: 1 OPTIONS\r\n"));
	assert_non_null(strstr(out, "X-A: 1\r\nContent-Type: text/plain\r\n"
			       "Content-Length: 4\r\n\r\nbody"));
	/* Too small a buffer is reported, never truncated silently. */
	sd_buf_init(&b, out, 64);
	sip_build_response(&b, m, 200, NULL, "tt", NULL, NULL, NULL, 0);
	assert_true(b.overflow);
	sip_msg_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_and_folded_headers),
		cmocka_unit_test(test_faults_are_named),
		cmocka_unit_test(test_response_via_and_tag),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
