/** @file test_sim_txn.c  Transactions and MESSAGE relay on virtual time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "mem.h"
#include "port_sim.h"
#include "sd.h"
#include "stat.h"

static void send_message(int sock, int n, const char *to, const char *tok)
{
	h_message(sock, n, to, tok, NULL, "hello");
}

static void test_retransmission_absorbed(void **state)
{
	/* Every token fixed: sent twice, the same bytes. */
	const struct h_req req = {.method = "REGISTER", .n = 2,
				  .from = "alice", .from_tag = "a1",
				  .call_id = "same", .branch = "same",
				  .contact = "<sip:alice@10.0.0.2>"};
	char first[4096];
	int c;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	snprintf(first, sizeof(first), "%s", h_request_wait(c, &req));
	assert_int_equal(h_status(first), 200);
	/* Processing it again would fail as "CSeq out of order": the
	 * retransmission gets the first answer, byte for byte. */
	h_run(1000);
	assert_string_equal(h_request_wait(c, &req), first);
	assert_int_equal(stat_value("rx_retransmissions"), 1);
	/* After Timer J (64*T1) the transaction is gone. */
	h_run(40000);
	h_stop();
}

static void test_message_relay(void **state)
{
	int alice, bob;
	const char *r;
	char via[256];

	(void)state;
	h_start(NULL);
	alice = h_client(2);
	bob = h_client(3);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	send_message(bob, 3, "alice@" H_DOMAIN, "m1");
	r = h_wait(alice);
	assert_non_null(r);
	assert_int_equal(strncmp(r, "MESSAGE sip:alice@10.0.0.2:5060 SIP/2.0",
				 39), 0);
	assert_string_equal(h_hdr(r, "Max-Forwards"), "69");
	assert_int_equal(h_hdr_count(r, "Via"), 2);
	assert_non_null(strstr(r, "\r\n\r\nhello"));
	snprintf(via, sizeof(via), "%s", h_hdr(r, "Via"));
	assert_non_null(strstr(via, "SIP/2.0/UDP " H_SERVER ":5060;branch="));
	h_answer(alice, r, 200);
	r = h_wait(bob);
	assert_int_equal(h_status(r), 200);
	/* rport asked for: filled in with the source port. */
	assert_non_null(strstr(h_hdr(r, "Via"), "rport=5060"));
	assert_non_null(strstr(h_hdr(r, "Via"), "received=10.0.0.3"));
	assert_int_equal(stat_value("message_delivered"), 1);
	h_run(40000);
	h_stop();
}

static void test_relay_timeout_retransmits(void **state)
{
	int alice, bob;
	unsigned copies;
	const char *r;

	(void)state;
	h_start(NULL);
	alice = h_client(2);
	bob = h_client(3);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	send_message(bob, 3, "alice@" H_DOMAIN, "m2");
	/* Alice never answers: Timer E resends, Timer F ends at 64*T1. */
	h_run(31000);
	assert_null(h_recv(bob));
	h_run(1100);
	copies = h_drain(alice);
	/* Sent at 0, .5, 1.5, 3.5, 7.5, then every 4 s to 31.5 s. */
	assert_int_equal(copies, 11);
	r = h_recv(bob);
	/* Every contact timed out: the message is kept for later (without
	 * offline/: 480). */
	assert_int_equal(h_status(r), H_KEPT);
	assert_int_equal(stat_value("client_timeouts"), 1);
	assert_int_equal(stat_value("offline_stored"), H_KEPT == 202);
	h_stop();
}

/* The system refuses the relayed MESSAGE (no route to alice's phone):
 * its transaction ends at once, as for an ICMP error, not after 32 s,
 * although the send was queued with the batch it came in. */
static void test_relay_send_refused(void **state)
{
	struct port_addr phone;
	int alice, bob;
	const char *r;

	(void)state;
	h_start(NULL);
	alice = h_client(2);
	bob = h_client(3);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	assert_int_equal(sd_addr_parse(&phone, "10.0.0.2", 5060), 0);
	sim_udp_refuse(&phone, ENETUNREACH);
	send_message(bob, 3, "alice@" H_DOMAIN, "m3");
	h_run(100);
	assert_null(h_recv(alice));
	r = h_recv(bob);
	assert_non_null(r);
	assert_int_equal(h_status(r), H_KEPT);
	assert_int_equal(stat_value("tx_errors"), 1);
	sim_udp_refuse(&phone, 0);
	h_run(40000);
	h_stop();
}

static void test_forking_best_response(void **state)
{
	int a1, a2, bob;
	const char *r;

	(void)state;
	h_start(NULL);
	a1 = h_client(2);
	a2 = h_client(4);
	bob = h_client(3);
	assert_int_equal(h_register(a1, 2, "alice", 600), 200);
	assert_int_equal(h_register(a2, 4, "alice", 600), 200);
	send_message(bob, 3, "alice@" H_DOMAIN, "f1");
	h_answer(a1, h_wait(a1), 486);
	assert_null(h_wait(bob)); /* still waiting for the other branch */
	r = h_recv(a2);
	assert_non_null(r);
	h_answer(a2, r, 200);
	assert_int_equal(h_status(h_wait(bob)), 200);

	/* Both fail: the lowest class wins; a 6xx beats everything. */
	send_message(bob, 3, "alice@" H_DOMAIN, "f2");
	h_answer(a1, h_wait(a1), 603);
	r = h_recv(a2);
	h_answer(a2, r, 404);
	assert_int_equal(h_status(h_wait(bob)), 603);
	h_run(40000);
	h_stop();
}

/* Max-Breadth (RFC 5393): the parallel branches share the incoming
 * breadth (60 when absent), never fork past it, and 0 is 440. */
static void test_max_breadth(void **state)
{
	int a1, a2, a3, bob;
	const char *r;

	(void)state;
	h_start(NULL);
	a1 = h_client(2);
	a2 = h_client(4);
	a3 = h_client(5);
	bob = h_client(3);
	assert_int_equal(h_register(a1, 2, "alice", 600), 200);
	assert_int_equal(h_register(a2, 4, "alice", 600), 200);
	assert_int_equal(h_register(a3, 5, "alice", 600), 200);
	send_message(bob, 3, "alice@" H_DOMAIN, "mb1");
	r = h_wait(a1);
	assert_non_null(r);
	assert_non_null(h_hdr(r, "Max-Breadth"));
	assert_string_equal(h_hdr(r, "Max-Breadth"), "20");
	h_answer(a1, r, 200);
	h_drain(a2);
	h_drain(a3);
	assert_int_equal(h_status(h_wait(bob)), 200);
	h_request(bob, &(struct h_req){.method = "MESSAGE", .n = 3,
		.from = "bob", .to = "alice", .hdrs = "Max-Breadth: 2\n",
		.body = "two branches only"});
	h_run(10);
	{
		int socks[3] = {a1, a2, a3}, i, n = 0;

		for (i = 0; i < 3; i++) {
			r = h_recv(socks[i]);
			if (r) {
				assert_string_equal(h_hdr(r, "Max-Breadth"),
						    "1");
				h_answer(socks[i], r, 200);
				n++;
			}
		}
		assert_int_equal(n, 2);
	}
	assert_int_equal(h_status(h_wait(bob)), 200);
	r = h_request_wait(bob, &(struct h_req){.method = "MESSAGE", .n = 3,
		.from = "bob", .to = "alice", .hdrs = "Max-Breadth: 0\n",
		.body = "none"});
	assert_int_equal(h_status(r), 440);
	assert_int_equal(h_drain(a1) + h_drain(a2) + h_drain(a3), 0);
	h_run(40000);
	h_stop();
}

static void test_message_targets(void **state)
{
	int bob, proxy;
	const char *r;

	(void)state;
	h_start("config simpled 'main'\n"
		"\toption outbound_proxy 'sip:10.0.0.9:5060'\n");
	bob = h_client(3);
	proxy = h_client(9);
	send_message(bob, 3, "carol@" H_DOMAIN, "t1");
	r = h_wait(bob);
	assert_int_equal(h_status(r), H_KEPT); /* kept for carol (offline) */
	send_message(bob, 3, "dave@elsewhere.test", "t2");
	r = h_wait(proxy);
	assert_non_null(r);
	assert_int_equal(strncmp(r, "MESSAGE sip:dave@elsewhere.test ", 32),
			 0);
	h_answer(proxy, r, 202);
	assert_int_equal(h_status(h_wait(bob)), 202);
	h_run(40000);
	h_stop();

	/* No proxy: other domains are not found. */
	h_start(NULL);
	bob = h_client(3);
	send_message(bob, 3, "dave@elsewhere.test", "t3");
	r = h_wait(bob);
	assert_int_equal(h_status(r), 404);
	assert_non_null(strstr(r, "Domain not served here"));
	h_run(40000);
	h_stop();
}

/* A relayed request keeps its Route set but for the entry naming us
 * (RFC 3261 16.4, 16.6). */
static void test_relay_keeps_route_set(void **state)
{
	int bob, proxy;
	const char *r;

	(void)state;
	h_start("config simpled 'main'\n"
		"\toption outbound_proxy 'sip:10.0.0.9:5060'\n");
	bob = h_client(3);
	proxy = h_client(9);
	h_request(bob, &(struct h_req){.method = "MESSAGE", .n = 3,
		.from = "bob", .to = "dave@elsewhere.test",
		.hdrs = "Route: <sip:" H_SERVER ";lr>, <sip:10.0.0.8;lr>\n"
			"Route: <sip:10.0.0.7;lr>\n",
		.body = "routed"});
	r = h_wait(proxy);
	assert_non_null(r);
	assert_int_equal(h_hdr_count(r, "Route"), 2);
	assert_string_equal(h_hdr(r, "Route"), "<sip:10.0.0.8;lr>");
	assert_null(strstr(r, H_SERVER ";lr"));
	h_answer(proxy, r, 200);
	assert_int_equal(h_status(h_wait(bob)), 200);
	h_run(40000);
	h_stop();
}

/* An unreliable network (20% loss, 10% duplicated, 10% reordered, both
 * ways): bob retransmits as a UAC does, alice answers every copy, and
 * every MESSAGE ends with bob holding its 200 and alice having seen it
 * in exactly one client transaction of ours (one branch). */
static void test_lossy_network(void **state)
{
	static char sent[4096], branches[20][64];
	int alice, bob, i, t, n_br = 0;
	const char *r;

	(void)state;
	h_start(NULL);
	alice = h_client(2);
	bob = h_client(3);
	assert_int_equal(h_register(alice, 2, "alice", 3600), 200);
	sim_impair(20, 10, 10, 42);
	for (i = 0; i < 20; i++) {
		char tok[16], body[32];
		int final = 0;

		snprintf(tok, sizeof(tok), "lossy%d", i);
		snprintf(body, sizeof(body), "message %d", i);
		for (t = 0; t < 12 && !final; t++) {
			/* Same branch every time: a retransmission. */
			h_request(bob, &(struct h_req){.method = "MESSAGE",
				.n = 3, .from = "bob", .to = "alice",
				.from_tag = tok, .call_id = tok, .branch = tok,
				.body = body});
			h_run(500);
			while ((r = h_recv(alice)) != NULL) {
				const char *b = strstr(r, "branch=");
				int k;

				snprintf(sent, sizeof(sent), "%s", r);
				h_answer(alice, sent, 200);
				for (k = 0; b && k < n_br &&
				     strncmp(branches[k], b, 34); k++) {
				}
				if (b && k == n_br) {
					snprintf(branches[n_br++], 64, "%.34s",
						 b);
				}
			}
			while ((r = h_recv(bob)) != NULL) {
				final |= h_status(r) == 200;
			}
		}
		assert_true(final);
		assert_int_equal(n_br, i + 1);
	}
	sim_impair(0, 0, 0, 0);
	h_run(40000);
	h_drain(alice);
	h_drain(bob);
	h_stop();
}

/* A request that comes back holding our own Via is a loop: 482, and
 * nothing is sent on (RFC 3261 16.3 step 4, RFC 5393). */
static void test_loop_482(void **state)
{
	static char back[8192];
	int bob, proxy;
	const char *r, *via;

	(void)state;
	h_start("config simpled 'main'\n"
		"\toption outbound_proxy 'sip:10.0.0.9:5060'\n");
	bob = h_client(3);
	proxy = h_client(9);
	send_message(bob, 3, "dave@elsewhere.test", "loop1");
	r = h_wait(proxy);
	assert_non_null(r);
	/* The "proxy" sends it straight back, its own Via on top. */
	via = strstr(r, "\r\nVia:");
	assert_non_null(via);
	snprintf(back, sizeof(back), "%.*s\r\nVia: SIP/2.0/UDP "
		 "10.0.0.9:5060;branch=z9hG4bKproxy1%s", (int)(via - r), r, via);
	h_send(proxy, "%s", back);
	r = h_wait(proxy);
	assert_non_null(r);
	assert_int_equal(h_status(r), 482);
	assert_null(h_recv(proxy)); /* not relayed again */
	h_run(40000);
	h_drain(bob);
	h_drain(proxy);
	h_stop();
}

#ifdef CONFIG_SIMPLED_PRESENCE
/* A 2xx that makes a dialog copies the Record-Route set (RFC 3261
 * 12.1.1). */
static void test_subscribe_200_copies_record_route(void **state)
{
	const char *r;
	int a;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	r = h_request_wait(a, &(struct h_req){.method = "SUBSCRIBE", .n = 2,
		.from = "alice", .event = "presence",
		.contact = "<sip:alice@10.0.0.2:5060>",
		.hdrs = "Expires: 600\nRecord-Route: <sip:10.0.0.5;lr>\n"
			"Record-Route: <sip:10.0.0.6;lr;x=1>\n"});
	assert_int_equal(h_status(r), 200);
	assert_int_equal(h_hdr_count(r, "Record-Route"), 2);
	assert_string_equal(h_hdr(r, "Record-Route"), "<sip:10.0.0.5;lr>");
	assert_non_null(strstr(r, "Record-Route: <sip:10.0.0.6;lr;x=1>"));
	h_run(40000);
	h_stop();
}
#endif

static void test_invite_405_until_ack(void **state)
{
	int c;
	const char *r;
	unsigned n;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	r = h_send_wait(c,
		"INVITE sip:alice@" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKinv\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:alice@" H_DOMAIN ">\n"
		"Call-ID: inv\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
	assert_int_equal(h_status(r), 405);
	assert_string_equal(h_hdr(r, "Allow"), H_ALLOW);
	/* No ACK yet: Timer G resends the 405. */
	h_run(2000);
	n = h_drain(c);
	assert_true(n >= 2);
	h_send(c, "ACK sip:alice@" H_DOMAIN " SIP/2.0\n"
	       "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKinv\n"
	       "From: <sip:bob@" H_DOMAIN ">;tag=b\n"
	       "To: <sip:alice@" H_DOMAIN ">;tag=x\n"
	       "Call-ID: inv\nCSeq: 1 ACK\nContent-Length: 0\n\n");
	h_run(30000);
	assert_int_equal(h_drain(c), 0);
	h_stop();
}

static void test_request_checks(void **state)
{
	int c;
	const char *r;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	r = h_send_wait(c,
		"MESSAGE sip:alice@" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKmf\n"
		"Max-Forwards: 0\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:alice@" H_DOMAIN ">\n"
		"Call-ID: mf\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n");
	assert_int_equal(h_status(r), 483);
	r = h_send_wait(c,
		"MESSAGE tel:+12125551212 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKtel\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <tel:+12125551212>\n"
		"Call-ID: tel\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n");
	assert_int_equal(h_status(r), 416);
	r = h_send_wait(c,
		"MESSAGE sip:alice@" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKnoid\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:alice@" H_DOMAIN ">\n"
		"CSeq: 1 MESSAGE\nContent-Length: 0\n\n");
	assert_int_equal(h_status(r), 400);
	assert_non_null(strstr(r, "400 Missing Call-ID header"));
	r = h_send_wait(c,
		"MESSAGE sip:alice@" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKcs\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:alice@" H_DOMAIN ">\n"
		"Call-ID: cs\nCSeq: 1 REGISTER\nContent-Length: 0\n\n");
	assert_non_null(strstr(r, "400 CSeq method does not match"));
	r = h_send_wait(c,
		"MESSAGE sip:alice@" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKcl\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:alice@" H_DOMAIN ">\n"
		"Call-ID: cl\nCSeq: 1 MESSAGE\nContent-Length: 50\n\nshort");
	assert_non_null(strstr(r, "400 Content-Length is larger than"));
	r = h_send_wait(c,
		"OPTIONS sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKrq\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:" H_DOMAIN ">\nRequire: 100rel\n"
		"Call-ID: rq\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
	assert_int_equal(h_status(r), 420);
	assert_string_equal(h_hdr(r, "Unsupported"), "100rel");
	/* Garbage gets no answer, only a counter. */
	assert_null(h_send_wait(c, "\x01\x02 not sip at all\n\n"));
	assert_int_equal(stat_value("rx_dropped"), 1);
	assert_int_equal(stat_value("bad_requests"), 3);
	h_run(40000);
	h_stop();
}

/* RFC 4475 faults that were dropped or answered wrong: each gets the
 * answer the RFC names. */
static void test_torture_answers(void **state)
{
	static char longid[400], longbr[400], first[4096];
	int c;
	const char *r;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	/* badvers: 505, not silence. */
	r = h_send_wait(c,
		"OPTIONS sip:" H_DOMAIN " SIP/7.0\n"
		"Via: SIP/7.0/UDP 10.0.0.2;branch=z9hG4bKv7\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: v7\nCSeq: 1 OPTIONS\nl: 0\n\n");
	assert_int_equal(h_status(r), 505);
	/* lwsstart: two SP in the request line, 400. */
	r = h_send_wait(c,
		"OPTIONS  sip:" H_DOMAIN "  SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKsp\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: sp\nCSeq: 1 OPTIONS\nl: 0\n\n");
	assert_int_equal(h_status(r), 400);
	/* scalar02: numbers above 2^32-1 are 400, not dropped. */
	r = h_send_wait(c,
		"OPTIONS sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKbig\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: big\nCSeq: 36893488147419103232 OPTIONS\nl: 0\n\n");
	assert_int_equal(h_status(r), 400);
	r = h_send_wait(c,
		"REGISTER sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKbige\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:bob@" H_DOMAIN ">\nCall-ID: bige\n"
		"CSeq: 1 REGISTER\nContact: <sip:bob@10.0.0.2>\n"
		"Expires: 4294967296\nl: 0\n\n");
	assert_int_equal(h_status(r), 400);
	/* novelsc: a scheme we do not serve is 416, however it parses. */
	r = h_send_wait(c,
		"OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKsb\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: sb\nCSeq: 1 OPTIONS\nl: 0\n\n");
	assert_int_equal(h_status(r), 416);
	/* bext01: Proxy-Require is refused like Require. */
	r = h_send_wait(c,
		"OPTIONS sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKpr\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: pr\nCSeq: 1 OPTIONS\n"
		"Proxy-Require: noProxiesSupportThis\nl: 0\n\n");
	assert_int_equal(h_status(r), 420);
	assert_string_equal(h_hdr(r, "Unsupported"), "noProxiesSupportThis");
	/* A Call-ID and a branch longer than any fixed key are valid: the
	 * request is answered and its retransmission matched. */
	memset(longid, 'c', 300);
	memset(longbr, 'b', 300);
	r = h_send_wait(c,
		"OPTIONS sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK%s\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: %s\nCSeq: 1 OPTIONS\nl: 0\n\n", longbr, longid);
	assert_int_equal(h_status(r), 200);
	assert_string_equal(h_hdr(r, "Call-ID"), longid);
	snprintf(first, sizeof(first), "%s", r);
	r = h_send_wait(c,
		"OPTIONS sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK%s\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: %s\nCSeq: 1 OPTIONS\nl: 0\n\n", longbr, longid);
	assert_string_equal(r, first);
	assert_int_equal(stat_value("rx_retransmissions"), 1);
	/* The same long branch but for another method is another
	 * transaction (the hash covers the whole key). */
	r = h_send_wait(c,
		"MESSAGE sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK%s\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: %s\nCSeq: 2 MESSAGE\nl: 0\n\n", longbr, longid);
	assert_int_not_equal(h_status(r), 200);
	assert_int_equal(stat_value("rx_retransmissions"), 1);
	h_run(40000);
	h_stop();
}

/* A datagram over CONFIG_SIMPLED_MAX_MSG_SIZE: 513 when what arrived
 * holds Via, From, To, Call-ID and CSeq; else dropped and counted. */
static void test_oversized_datagram(void **state)
{
	static char pad[CONFIG_SIMPLED_MAX_MSG_SIZE + 1000];
	int c;
	const char *r;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	memset(pad, 'x', sizeof(pad) - 1);
	r = h_send_wait(c,
		"MESSAGE sip:alice@" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKover\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:alice@" H_DOMAIN ">\nCall-ID: over\n"
		"CSeq: 1 MESSAGE\nContent-Type: text/plain\n"
		"Content-Length: %zu\n\n%s", strlen(pad), pad);
	assert_int_equal(h_status(r), 513);
	assert_string_equal(h_hdr(r, "Call-ID"), "over");
	/* The padding comes first: the Call-ID is past the limit. */
	r = h_send_wait(c,
		"MESSAGE sip:alice@" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKover2\n"
		"X-Pad: %s\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=b\n"
		"To: <sip:alice@" H_DOMAIN ">\nCall-ID: over2\n"
		"CSeq: 1 MESSAGE\nContent-Length: 0\n\n", pad);
	assert_null(r);
	assert_int_equal(stat_value("rx_oversize_dropped"), 1);
	/* Still serving. */
	assert_int_equal(h_register(c, 2, "bob", 600), 200);
	h_run(40000);
	h_stop();
}

static void test_txn_pool_reclaims_completed(void **state)
{
	int c, alice, i;
	const char *r;
	char br[16];

	(void)state;
	h_start("config limits\n\toption server_txns 4\n");
	c = h_client(3);
	alice = h_client(2);
	/* Ten answered requests through four slots: the oldest completed
	 * transactions make room. */
	for (i = 0; i < 10; i++) {
		assert_int_equal(h_register(c, 3, "bob", 600), 200);
	}
	assert_int_equal(stat_value("txn_reclaimed"), 6);
	assert_int_equal(stat_value("overload_503"), 0);
	/* Transactions still waiting for an answer are never reclaimed. */
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	for (i = 0; i < 5; i++) {
		snprintf(br, sizeof(br), "busy%d", i);
		send_message(c, 3, "alice@" H_DOMAIN, br);
	}
	h_run(10);
	/* Four relays wait on alice; the fifth finds no slot. */
	r = h_recv(c);
	assert_int_equal(h_status(r), 503);
	assert_non_null(h_hdr(r, "Retry-After"));
	assert_int_equal(stat_value("overload_503"), 1);
	h_run(40000);
	h_stop();
}

static int sweep_alice, sweep_bob;

/* bob's MESSAGE to alice; alice answers 200 to what reaches her, with
 * allocations still failing, so both legs are swept. */
static int relay_exchange(int n, int retry)
{
	char tok[16];
	const char *r;
	int t;

	/* The same token: the same bytes. A retry lets the relay's own
	 * retransmissions (a lost answer) run their course too. */
	snprintf(tok, sizeof(tok), "oom%d", n);
	send_message(sweep_bob, 3, "alice@" H_DOMAIN, tok);
	for (t = 0; t < (retry ? 4000 : 10); t += 10) {
		h_run(10);
		while ((r = h_recv(sweep_alice)) != NULL) {
			char copy[4096];

			snprintf(copy, sizeof(copy), "%s", r);
			if (!strncmp(copy, "MESSAGE", 7)) {
				h_answer(sweep_alice, copy, 200);
			}
		}
	}
	h_run(10);
	return h_final(sweep_bob);
}

/* Fail the n-th allocation of a MESSAGE relay, request out and answer
 * back, for every n: the sender gets 200, 202 or 503 (at its
 * retransmission at the latest), the daemon keeps serving, and at the
 * end nothing is left allocated. */
static void test_oom_sweep_relay(void **state)
{
	static const int ok[] = {200, H_KEPT, 503, 0};

	(void)state;
	h_start(NULL);
	sweep_alice = h_client(2);
	sweep_bob = h_client(3);
	assert_int_equal(h_register(sweep_alice, 2, "alice", 3600), 200);
	assert_true(h_oom_sweep(relay_exchange, NULL, ok) > 5);
	/* Still serving. */
	assert_int_equal(h_register(sweep_alice, 2, "alice", 3600), 200);
	h_run(40000);
	h_stop();
}

/* OPTIONS from client c to ip:port; its status, 0 when unanswered. */
static int options_to(int c, const char *ip, uint16_t port)
{
	static unsigned n;
	struct port_addr dst;
	char req[512];
	const char *r;
	int len;

	n++;
	len = snprintf(req, sizeof(req), "OPTIONS sip:%s:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKif%u\r\n"
		       "From: <sip:bob@" H_DOMAIN ">;tag=o\r\n"
		       "To: <sip:%s>\r\nCall-ID: if%u\r\nCSeq: 1 OPTIONS\r\n"
		       "Content-Length: 0\r\n\r\n", ip, port, n, ip, n);
	assert_int_equal(sd_addr_parse(&dst, ip, port), 0);
	assert_int_equal(port_sendto(c, req, (size_t)len, &dst), 0);
	h_run(10);
	r = h_recv(c);
	return r ? h_status(r) : 0;
}

/* A listener named by interface ("udp:lan0:5070") is bound to the
 * interface's address, follows it when it changes, closes while it has
 * none and opens again when one comes. */
static void test_listen_on_interface(void **state)
{
	struct port_addr a;
	int c;

	(void)state;
	assert_int_equal(sd_addr_parse(&a, "10.0.0.100", 0), 0);
	sim_if_set("lan0", &a);
	h_start("config simpled 'main'\n\tlist listen 'udp:lan0:5070'\n");
	c = h_client(2);
	assert_int_equal(options_to(c, "10.0.0.100", 5070), 200);
	assert_int_equal(sd_addr_parse(&a, "10.0.0.101", 0), 0);
	sim_if_set("lan0", &a);
	assert_int_equal(options_to(c, "10.0.0.101", 5070), 200);
	assert_int_equal(options_to(c, "10.0.0.100", 5070), 0);
	sim_if_set("lan0", NULL);
	assert_int_equal(options_to(c, "10.0.0.101", 5070), 0);
	assert_int_equal(sd_addr_parse(&a, "10.0.0.102", 0), 0);
	sim_if_set("lan0", &a);
	assert_int_equal(options_to(c, "10.0.0.102", 5070), 200);
	/* The fixed listener beside it was served all along. */
	assert_int_equal(h_status(h_send_wait(c,
		"OPTIONS sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKfx\n"
		"From: <sip:bob@" H_DOMAIN ">;tag=f\nTo: <sip:" H_DOMAIN ">\n"
		"Call-ID: fx\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n")),
		200);
	h_run(40000);
	h_stop();
	sim_if_set("lan0", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retransmission_absorbed),
		cmocka_unit_test(test_message_relay),
		cmocka_unit_test(test_relay_timeout_retransmits),
		cmocka_unit_test(test_relay_send_refused),
		cmocka_unit_test(test_forking_best_response),
		cmocka_unit_test(test_message_targets),
		cmocka_unit_test(test_max_breadth),
		cmocka_unit_test(test_relay_keeps_route_set),
		cmocka_unit_test(test_loop_482),
		cmocka_unit_test(test_lossy_network),
#ifdef CONFIG_SIMPLED_PRESENCE
		cmocka_unit_test(test_subscribe_200_copies_record_route),
#endif
		cmocka_unit_test(test_invite_405_until_ack),
		cmocka_unit_test(test_request_checks),
		cmocka_unit_test(test_torture_answers),
		cmocka_unit_test(test_oversized_datagram),
		cmocka_unit_test(test_txn_pool_reclaims_completed),
		cmocka_unit_test(test_oom_sweep_relay),
		cmocka_unit_test(test_listen_on_interface),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
