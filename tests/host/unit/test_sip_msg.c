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
	mem_set_budget(1u << 20);
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

/* RFC 4475 wsinv: LWS, folding and spaces around the slashes of a Via. */
static void test_via_folded_lws(void **state)
{
	struct sip_msg *m;

	(void)state;
	m = parse("OPTIONS sip:a@example.test SIP/2.0\r\n"
		  "Via  : SIP  /   2.0\r\n"
		  " /UDP\r\n"
		  "    192.0.2.2:5070;branch=390skdjuw\r\n"
		  "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n"
		  "  branch  =   z9hG4bK9ikj8  \r\n"
		  "f: <sip:b@example.test>;tag=1\r\nt: <sip:a@example.test>\r\n"
		  "i: cid\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n", 0, NULL);
	assert_non_null(m);
	assert_int_equal(sd_pl_casecmp(m->sent_by, "192.0.2.2:5070"), 0);
	assert_int_equal(m->via_port, 5070);
	assert_int_equal(sd_pl_casecmp(m->branch, "390skdjuw"), 0);
	sip_msg_free(m);
}

/* Every compact form of RFC 3261 7.3.3 and the later RFCs is found under
 * its full name. */
static void test_compact_forms(void **state)
{
	static const struct {
		const char *name;
		const char *value;
	} full[] = {
		{"Content-Encoding", "gzip"}, {"Subject", "hi"},
		{"Supported", "timer"}, {"Event", "presence"},
		{"Allow-Events", "presence"},
		{"Refer-To", "<sip:c@example.test>"},
		{"Referred-By", "<sip:d@example.test>"},
		{"Reject-Contact", "*;automata"},
		{"Request-Disposition", "proxy"}, {"Session-Expires", "1800"},
		{"Identity", "\"abc\""}, {"Accept-Contact", "*;audio"},
		{"Call-ID", "cid"}, {"Contact", "<sip:b@192.0.2.9>"},
		{"Content-Length", "0"}, {"Content-Type", "text/plain"},
		{"From", "<sip:b@example.test>;tag=1"},
		{"To", "<sip:a@example.test>"},
	};
	struct sip_msg *m;
	size_t i;

	(void)state;
	m = parse("SUBSCRIBE sip:a@example.test SIP/2.0\r\n"
		  "v: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKcf\r\n"
		  "f: <sip:b@example.test>;tag=1\r\nt: <sip:a@example.test>\r\n"
		  "i: cid\r\nCSeq: 1 SUBSCRIBE\r\nm: <sip:b@192.0.2.9>\r\n"
		  "e: gzip\r\ns: hi\r\nk: timer\r\no: presence\r\n"
		  "u: presence\r\nr: <sip:c@example.test>\r\n"
		  "b: <sip:d@example.test>\r\nj: *;automata\r\n"
		  "d: proxy\r\nx: 1800\r\ny: \"abc\"\r\na: *;audio\r\n"
		  "c: text/plain\r\nl: 0\r\n\r\n", 0, NULL);
	assert_non_null(m);
	for (i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
		const struct sip_hdr *h = sip_msg_hdr_name(m, full[i].name);

		if (!h || sd_pl_casecmp(h->value, full[i].value)) {
			fail_msg("%s not found from its compact form",
				 full[i].name);
		}
	}
	assert_non_null(sip_msg_hdr(m, SIP_HDR_CONTACT));
	assert_non_null(sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE));
	sip_msg_free(m);
}

/* Faults that must still be answered: the message is kept (its Via and
 * CSeq were read) and the fault named. */
static void test_faults_still_answered(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		/* RFC 4475 lwsstart: two SP between the parts. */
		{"OPTIONS  sip:a@x  SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 OPTIONS\r\n\r\n", "Malformed request line"},
		/* Leading SP before the request line. */
		{"  OPTIONS sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 OPTIONS\r\n\r\n", "Malformed request line"},
		/* RFC 4475 badvers: its Via says SIP/7.0 too. */
		{"OPTIONS sip:a@x SIP/7.0\r\nVia: SIP/7.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 OPTIONS\r\n\r\n", "Unsupported SIP version"},
		/* RFC 4475 scalar02: a CSeq above 2^32-1. */
		{"OPTIONS sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 36893488147419103232 OPTIONS\r\n\r\n",
		 "Malformed CSeq header"},
		/* RFC 4475 baddn: the message ends without the empty line. */
		{"OPTIONS sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 OPTIONS\r\nl: 0\r\n",
		 "Message ends inside the header section"},
		/* RFC 4475 multi01: single-value headers given twice. */
		{"OPTIONS sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 OPTIONS\r\nCall-ID: d\r\n\r\n",
		 "More than one Call-ID header"},
		{"OPTIONS sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 OPTIONS\r\nt: <sip:o@x>\r\n\r\n",
		 "More than one To header"},
		/* RFC 4475 mcl01. */
		{"OPTIONS sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 OPTIONS\r\nContent-Length: 3\r\nl: 5\r\n\r\n12345",
		 "More than one Content-Length header"},
		/* RFC 4475 escruri: headers in the Request-URI. */
		{"OPTIONS sip:a@x?Route=%3Csip:y%3E SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP h\r\nFrom: <sip:b@x>;tag=1\r\n"
		 "To: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		 "Request-URI with headers"},
		/* RFC 4475 regbadct: a URI with headers outside <>. */
		{"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		 "From: <sip:b@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\n"
		 "CSeq: 1 REGISTER\r\n"
		 "Contact: sip:b@x?Route=%3Csip:y%3E\r\n\r\n",
		 "Malformed Contact header (URI with headers needs <>)"},
		/* RFC 4475 novelsc: a scheme we do not serve. */
		{"OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP h\r\nFrom: <sip:b@x>;tag=1\r\n"
		 "To: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
		 "Unsupported URI scheme"},
	};
	struct sip_flow f = {.tp = SIP_TP_UDP, .conn = -1};
	size_t i, bad = 0;

	(void)state;
	assert_int_equal(sd_addr_parse(&f.peer, "192.0.2.9", 40000), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		struct sip_msg *m = NULL;
		int err = sip_msg_parse(&m, cases[i].text,
					strlen(cases[i].text), &f, &why);

		if (err != EBADMSG || !m || !why || strcmp(why, cases[i].why)) {
			print_error("case %zu: %s (%s)\n", i,
				    why ? why : "no fault",
				    m ? "kept" : "not kept for an answer");
			bad++;
		}
		sip_msg_free(m);
	}
	assert_int_equal(bad, 0);
	assert_int_equal(mem_blocks(), 0);
}

/* RFC 4475 intmeth: token characters in the method, a raw NUL (and BEL,
 * DEL) as quoted-pairs in a display name. */
static void test_token_method_and_nul(void **state)
{
	static const char text[] =
		"!interesting-Method0123456789_*+`.%indeed'~ "
		"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
		"@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TCP host1.example.com"
		";branch=z9hG4bK-.!%66*_+`'~\r\n"
		"To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" "
		"<sip:a@example.com>\r\n"
		"From: token1~` token2'+_ "
		"<sip:mundane@example.com>;tag=_t~1\r\n"
		"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
		"CSeq: 139122385 "
		"!interesting-Method0123456789_*+`.%indeed'~\r\n"
		"Max-Forwards: 255\r\nContent-Length: 0\r\n\r\n";
	struct sip_flow f = {.tp = SIP_TP_UDP, .conn = -1};
	struct sip_msg *m = NULL;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sd_addr_parse(&f.peer, "192.0.2.9", 40000), 0);
	if (sip_msg_parse(&m, text, sizeof(text) - 1, &f, &why)) {
		fail_msg("%s", why ? why : "?");
	}
	assert_non_null(m);
	assert_int_equal(m->method.l, 43);
	assert_non_null(m->osip);
	sip_msg_free(m);
	/* A NUL outside a quoted string is no token character. */
	m = parse("OPT\x01IONS sip:a@x SIP/2.0\r\n", EBADMSG, &why);
	sip_msg_free(m);
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
		cmocka_unit_test(test_via_folded_lws),
		cmocka_unit_test(test_compact_forms),
		cmocka_unit_test(test_faults_still_answered),
		cmocka_unit_test(test_token_method_and_nul),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
