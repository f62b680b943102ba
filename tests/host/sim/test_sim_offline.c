/** @file test_sim_offline.c  Offline messages on virtual time: store,
 * delivery on register, order, retries, quota, expiry, reminders,
 * restart, sender notice, full store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <stdint.h>

#include "app.h"
#include "harness.h"
#include "mod.h"
#include "offline.h"
#include "port.h"
#include "port_sim.h"
#include "sd.h"
#include "stat.h"
#include "store.h"

#define ALICE "alice@" H_DOMAIN

static int bob;
static int alice;

static void start(const char *cfg)
{
	h_start(cfg);
	bob = h_client(3);
	alice = h_client(2);
}

/* bob's MESSAGE for alice (extra header lines may be NULL); the status
 * bob gets. */
static int store_for_alice(const char *tok, const char *extra,
			   const char *body)
{
	h_message(bob, 3, ALICE, tok, extra, body);
	return h_status(h_wait(bob));
}

/* What alice has after ms more of virtual time: asserted there and, when
 * text is set, holding it in its body. */
static const char *alice_gets(uint32_t ms, const char *text)
{
	const char *r;

	h_run(ms);
	r = h_recv(alice);
	assert_non_null(r);
	if (text) {
		assert_non_null(strstr(h_body(r), text));
	}
	return r;
}

/* alice answers the MESSAGE r with code, and the daemon takes it in. */
static void answer(const char *r, int code)
{
	h_answer(alice, r, code);
	h_run(10);
}

static void test_stored_then_delivered_on_register(void **state)
{
	const char *r;

	(void)state;
	start(NULL);
	assert_int_equal(store_for_alice("s1", NULL, "hello alice"), 202);
	assert_int_equal(offline_count(ALICE), 1);
	assert_int_equal(stat_value("offline_stored"), 1);
	h_run(5000);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	r = alice_gets(10, NULL);
	assert_int_equal(strncmp(r, "MESSAGE sip:alice@10.0.0.2:5060 ", 32), 0);
	assert_non_null(h_hdr(r, "Date"));
	assert_non_null(strstr(h_hdr(r, "Date"), " GMT"));
	assert_non_null(strstr(h_hdr(r, "From"), "sip:bob@" H_DOMAIN));
	assert_string_equal(h_hdr(r, "Content-Type"), "text/plain");
	/* add_date: the text says when it was stored. */
	assert_int_equal(strncmp(h_body(r), "[stored 20", 10), 0);
	assert_non_null(strstr(h_body(r), "] hello alice"));
	answer(r, 200);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_dumped"), 1);
	h_run(40000);
	h_stop();
}

/* A message stored after 2038-01-19 (where a 32-bit time_t ends) is
 * dated right in its Date header and its [stored ...] prefix. */
static void test_dates_after_2038(void **state)
{
	const char *r;

	(void)state;
	start(NULL);
	sim_set_wall_s(2214129600); /* 2040-02-29T12:00:00Z */
	assert_int_equal(store_for_alice("y1", NULL, "leap day"), 202);
	h_run(5000);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	r = alice_gets(10, NULL);
	assert_string_equal(h_hdr(r, "Date"), "Wed, 29 Feb 2040 12:00:00 GMT");
	assert_string_equal(h_body(r), "[stored 2040-02-29 12:00:00 UTC] "
				       "leap day");
	answer(r, 200);
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

static void test_order_and_no_double_send(void **state)
{
	char req[4096];
	const char *r;
	unsigned n;

	(void)state;
	start("config offline\n\toption add_date 0\n");
	assert_int_equal(store_for_alice("o1", NULL, "first"), 202);
	assert_int_equal(store_for_alice("o2", NULL, "second"), 202);
	assert_int_equal(store_for_alice("o3", NULL, "third"), 202);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	snprintf(req, sizeof(req), "%s", h_wait(alice));
	assert_string_equal(h_body(req), "first");
	assert_null(h_recv(alice)); /* one at a time */
	/* A refresh while "first" is in flight sends nothing new. */
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	h_run(2000);
	n = 0;
	while ((r = h_recv(alice)) != NULL) {
		assert_string_equal(h_body(r), "first"); /* retransmissions */
		n++;
	}
	assert_true(n >= 1);
	answer(req, 200);
	r = h_recv(alice);
	assert_string_equal(h_body(r), "second");
	answer(r, 200);
	r = h_recv(alice);
	assert_string_equal(h_body(r), "third");
	answer(r, 200);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_dumped"), 3);
	h_run(40000);
	h_stop();
}

/* A burst of delivery reports (RFC 5438 IMDN in message/cpim) for alice,
 * who is offline: stored, then delivered in order, each body byte for
 * byte and its Content-Type kept (add_date, on by default, dates only
 * text/plain). Issue 16 builds on this. */
static void test_cpim_reports_kept_byte_for_byte(void **state)
{
	static char body[5][1024];
	char tok[16], req[4096];
	unsigned i;

	(void)state;
	start(NULL);
	for (i = 0; i < 5; i++) {
		snprintf(body[i], sizeof(body[i]),
			 "From: <sip:bob@" H_DOMAIN ">\r\n"
			 "To: <sip:alice@" H_DOMAIN ">\r\n"
			 "NS: imdn <urn:ietf:params:imdn>\r\n"
			 "imdn.Message-ID: r%u\r\n"
			 "DateTime: 2026-11-30T10:00:0%uZ\r\n\r\n"
			 "Content-Type: message/imdn+xml\r\n"
			 "Content-Disposition: notification\r\n\r\n"
			 "<?xml version=\"1.0\"?><imdn xmlns=\"urn:ietf:"
			 "params:xml:ns:imdn\"><message-id>m%u</message-id>"
			 "<delivery-notification><status><delivered/>"
			 "</status></delivery-notification></imdn>\r\n",
			 i, i, i);
		snprintf(tok, sizeof(tok), "imdn%u", i);
		h_request(bob, &(struct h_req){.method = "MESSAGE", .n = 3,
			.from = "bob", .to = ALICE, .branch = tok,
			.rport = 1, .ctype = "message/cpim", .body = body[i]});
		assert_int_equal(h_status(h_wait(bob)), 202);
	}
	assert_int_equal(offline_count(ALICE), 5);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	for (i = 0; i < 5; i++) {
		snprintf(req, sizeof(req), "%s", h_wait(alice));
		assert_string_equal(h_hdr(req, "Content-Type"),
				    "message/cpim");
		assert_string_equal(h_body(req), body[i]);
		answer(req, 200);
	}
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

static void test_failed_delivery_retries_then_gives_up(void **state)
{
	(void)state;
	start("config offline\n\toption max_tries 3\n"
	      "\toption retry_interval 30\n");
	assert_int_equal(store_for_alice("f1", NULL, "try me"), 202);
	assert_int_equal(h_register(alice, 2, "alice", 3600), 200);
	answer(alice_gets(10, NULL), 500); /* try 1 fails */
	assert_int_equal(offline_count(ALICE), 1);
	/* Backoff: nothing for 30 s (retransmissions of try 1 apart), then
	 * try 2. */
	h_run(29000);
	h_drain(alice);
	answer(alice_gets(1100, "try me"), 503);
	/* Then 60 s: try 3 fails too, and the message is dropped. */
	h_run(59000);
	h_drain(alice);
	answer(alice_gets(1100, NULL), 480);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_failed"), 1);
	assert_int_equal(stat_value("offline_dumped"), 0);
	h_run(40000);
	h_stop();
}

static void test_quota(void **state)
{
	const char *r;

	(void)state;
	start("config offline\n\toption max_messages 2\n");
	assert_int_equal(store_for_alice("q1", NULL, "1"), 202);
	assert_int_equal(store_for_alice("q2", NULL, "2"), 202);
	h_message(bob, 3, ALICE, "q3", NULL, "3");
	r = h_wait(bob);
	assert_int_equal(h_status(r), 480);
	assert_non_null(strstr(r, "480 Offline mailbox full"));
	assert_int_equal(offline_count(ALICE), 2);
	h_stop();
}

static void test_expiry(void **state)
{
	(void)state;
	start("config offline\n\toption expire_time 100\n"
	      "\toption check_time 10\n\toption clean_period 2\n");
	assert_int_equal(store_for_alice("e1", NULL, "soon gone"), 202);
	/* The request's Expires shortens the life further. */
	assert_int_equal(store_for_alice("e2", "Expires: 30\n", "shorter"),
			 202);
	h_run(41000);
	assert_int_equal(offline_count(ALICE), 1);
	assert_int_equal(stat_value("offline_expired"), 1);
	h_run(80000);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_expired"), 2);
	/* Nothing expired is ever delivered. */
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	assert_null(h_wait(alice));
	h_stop();
}

static void test_reminder(void **state)
{
	char hdr[64];

	(void)state;
	start(NULL);
	assert_int_equal(h_register(alice, 2, "alice", 3600), 200);
	snprintf(hdr, sizeof(hdr), "Send-Time: %lld\n",
		 (long long)port_wall_s() + 600);
	assert_int_equal(store_for_alice("r1", hdr, "stand-up in 5"), 202);
	/* Online, but the reminder waits for its time. */
	h_run(599000);
	assert_null(h_recv(alice));
	answer(alice_gets(2000, "stand-up in 5"), 200);
	assert_int_equal(stat_value("offline_dumped_reminders"), 1);
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

static void test_survives_restart(void **state)
{
	(void)state;
	start(NULL);
	assert_int_equal(store_for_alice("p1", NULL, "persist me"), 202);
	h_restart(NULL);
	bob = h_client(3);
	alice = h_client(2);
	assert_int_equal(offline_count(ALICE), 1);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	answer(alice_gets(10, "persist me"), 200);
	h_run(40000);
	assert_int_equal(offline_count(ALICE), 0);
	h_stop();
}

/* use_mode keeps the Call-ID: a long one (valid, RFC 3261 25.1) is
 * stored and delivered whole after a restart. */
static void test_long_callid_kept(void **state)
{
	static char cid[1201];
	const char *r;

	(void)state;
	memset(cid, 'c', sizeof(cid) - 1);
	memcpy(cid, "long-", 5);
	start("config offline\n\toption use_mode 1\n");
	h_request(bob, &(struct h_req){.method = "MESSAGE", .n = 3,
		.from = "bob", .to = ALICE, .call_id = cid,
		.body = "long call-id"});
	assert_int_equal(h_status(h_wait(bob)), 202);
	assert_int_equal(offline_count(ALICE), 1);
	h_restart("config offline\n\toption use_mode 1\n");
	bob = h_client(3);
	alice = h_client(2);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	r = alice_gets(10, "long call-id");
	assert_string_equal(h_hdr(r, "Call-ID"), cid);
	answer(r, 200);
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

static void test_sender_notice_and_window(void **state)
{
	const char *r;

	(void)state;
	start("config offline\n"
	      "\toption from_address 'sip:postmaster@" H_DOMAIN "'\n"
	      "\toption offline_message 'Stored for later.'\n"
	      "config storage\n\toption commit_window_ms 200\n");
	h_message(bob, 3, ALICE, "n1", NULL, "hi");
	h_run(10);
	/* The 202 waits for the group commit at the end of the window. */
	r = h_recv(bob);
	assert_non_null(r);
	assert_int_equal(h_status(r), 0); /* the notice came first */
	assert_int_equal(strncmp(r, "MESSAGE sip:bob@" H_DOMAIN " ", 22), 0);
	/* Its own From tag (RFC 3261 8.1.1.3). */
	assert_int_equal(strncmp(h_hdr(r, "From"), "sip:postmaster@" H_DOMAIN
				 ";tag=", 29), 0);
	assert_string_equal(h_body(r), "Stored for later.");
	h_answer(bob, r, 200);
	assert_null(h_recv(bob));
	h_run(300);
	assert_int_equal(h_status(h_recv(bob)), 202);
	assert_int_equal(stat_value("offline_sender_notices"), 1);
	h_run(40000);
	h_stop();
}

/* Many MESSAGEs inside one window: one commit, and no 202 before it. */
static void test_group_commit(void **state)
{
	unsigned long commits;
	char tok[16];
	int i;

	(void)state;
	start("config storage\n\toption commit_window_ms 50\n");
	h_run(100);
	commits = stat_value("store_commits");
	for (i = 0; i < 20; i++) {
		snprintf(tok, sizeof(tok), "g%d", i);
		h_message(bob, 3, ALICE, tok, NULL, "grouped");
	}
	h_run(20);
	assert_null(h_recv(bob)); /* nothing answered before the commit */
	assert_int_equal(stat_value("store_commits"), commits);
	h_run(40);
	for (i = 0; i < 20; i++) {
		assert_int_equal(h_status(h_recv(bob)), 202);
	}
	assert_null(h_recv(bob));
	assert_int_equal(stat_value("store_commits"), commits + 1);
	assert_int_equal(offline_count(ALICE), 20);
	h_run(40000);
	h_stop();
}

/* A commit that fails answers every MESSAGE of its group 500, and none
 * of them is delivered later (the sender's retry would be a duplicate). */
static void test_failed_commit_answers_500(void **state)
{
	char tok[16];
	int i;

	(void)state;
	start("config storage\n\toption commit_window_ms 50\n");
	assert_int_equal(store_for_alice("ok1", NULL, "kept"), 0);
	h_run(100);
	assert_int_equal(h_status(h_recv(bob)), 202);
	store_test_fail_commit(EIO);
	for (i = 0; i < 5; i++) {
		snprintf(tok, sizeof(tok), "f%d", i);
		h_message(bob, 3, ALICE, tok, NULL, "lost");
	}
	h_run(100);
	for (i = 0; i < 5; i++) {
		assert_int_equal(h_status(h_recv(bob)), 500);
	}
	assert_int_equal(stat_value("store_commit_failures"), 1);
	assert_int_equal(offline_count(ALICE), 1);
	/* After a restart only the first one is there and delivered. */
	h_restart("config storage\n\toption commit_window_ms 50\n");
	bob = h_client(3);
	alice = h_client(2);
	assert_int_equal(offline_count(ALICE), 1);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	answer(alice_gets(10, "kept"), 200);
	h_run(1000);
	assert_null(h_recv(alice));
	h_run(40000);
	h_stop();
}

/* Messages of about 1 KB stored until the store says 503; how many. */
static int fill(const char *prefix)
{
	static char body[1000];
	char tok[16];
	int i, st;

	memset(body, 'm', sizeof(body) - 1);
	for (i = 0; i < 2000; i++) {
		snprintf(tok, sizeof(tok), "%s%d", prefix, i);
		st = store_for_alice(tok, NULL, body);
		if (st != 202) {
			assert_int_equal(st, 503);
			return i;
		}
	}
	fail_msg("the store never filled");
	return i;
}

/* alice registers, takes every waiting message and unregisters. */
static void deliver_all(void)
{
	const char *r;

	assert_int_equal(h_register(alice, 2, "alice", 3600), 200);
	while (offline_count(ALICE)) {
		r = h_wait(alice);
		if (!r) {
			fail_msg("%u waiting, none delivered",
				 offline_count(ALICE));
		}
		h_answer(alice, r, 200);
		h_run(10);
	}
	assert_int_equal(h_register(alice, 2, "alice", 0), 200); /* gone */
}

/* A store that was full takes messages again once they are delivered,
 * and after a restart (used space is what the pages hold, not the
 * highest page ever written). */
static void test_full_store_space_comes_back(void **state)
{
	int first, again;
	/* One sender fills one mailbox: no quota in the way. */
	const char *cfg = "config storage\n\toption map_size_kb 512\n"
			  "config offline\n\toption max_messages 0\n"
			  "\toption max_messages_per_source 0\n";

	(void)state;
	start(cfg);
	first = fill("a");
	assert_true(first > 100);
	deliver_all();
	again = fill("b");
	assert_true(again >= first * 9 / 10);
	deliver_all();
	h_restart(cfg);
	bob = h_client(3);
	alice = h_client(2);
	again = fill("c");
	assert_true(again >= first * 9 / 10);
	h_run(40000);
	h_stop();
}

#if UINTPTR_MAX == UINT64_MAX && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* A store written by simpled before the owner-keyed layout (schema 1;
 * tests/host/data/store-schema1/README.md says how it was made, on a
 * 64-bit little-endian machine: LMDB files follow the word size and the
 * byte order) is migrated at start
 * and its messages go out in order when their owners register. */
static void test_delivers_from_schema1_store(void **state)
{
	char path[1024];
	const char *r;
	static const char *const carol[] = {"first for carol",
					    "second for carol",
					    "third for carol"};
	int i, c, d;

	(void)state;
	snprintf(path, sizeof(path), "%s/store-schema1/data.mdb",
		 getenv("SIMPLED_DATA"));
	h_start_with_store("config simpled 'main'\n"
			   "\tlist domain 'simpled.test'\n", path);
	assert_int_equal(offline_count("carol@simpled.test"), 3);
	assert_int_equal(offline_count("dave@simpled.test"), 1);
	c = h_client(4);
	d = h_client(5);
	assert_int_equal(h_status(h_request_wait(c, &(struct h_req){
		.method = "REGISTER", .n = 4, .from = "carol@simpled.test",
		.contact = "<sip:carol@10.0.0.4:5060>",
		.hdrs = "Expires: 600\n"})), 200);
	for (i = 0; i < 3; i++) {
		r = h_wait(c);
		assert_non_null(r);
		assert_non_null(strstr(h_body(r), carol[i]));
		assert_non_null(h_hdr(r, "Subject"));
		h_answer(c, r, 200);
	}
	assert_int_equal(h_status(h_request_wait(d, &(struct h_req){
		.method = "REGISTER", .n = 5, .from = "dave@simpled.test",
		.contact = "<sip:dave@10.0.0.5:5060>",
		.hdrs = "Expires: 600\n"})), 200);
	r = h_wait(d);
	assert_non_null(r);
	assert_non_null(strstr(h_body(r), "only one for dave"));
	h_answer(d, r, 200);
	h_run(10);
	assert_int_equal(offline_count("carol@simpled.test"), 0);
	assert_int_equal(offline_count("dave@simpled.test"), 0);
	h_run(40000);
	h_stop();
}
#else
/* A 32-bit or big-endian build cannot read that 64-bit little-endian
 * file: it is refused at start (a log line), not misread, and a MESSAGE
 * that would be stored is answered 500 while the daemon goes on
 * serving. */
static void test_refuses_foreign_store(void **state)
{
	char path[1024];
	const char *r;
	int c;

	(void)state;
	snprintf(path, sizeof(path), "%s/store-schema1/data.mdb",
		 getenv("SIMPLED_DATA"));
	h_start_with_store(NULL, path);
	assert_int_equal(offline_count("carol@" H_DOMAIN), 0);
	c = h_client(4);
	h_message(c, 4, "carol@" H_DOMAIN, "r64", NULL, "hello carol");
	r = h_wait(c);
	assert_non_null(r);
	assert_int_equal(h_status(r), 500);
	assert_non_null(strstr(r, "Message store unavailable"));
	assert_int_equal(h_register(c, 4, "carol", 600), 200);
	h_run(40000);
	h_stop();
}
#endif

/* With one client transaction, the answer to the first delivery starts
 * the next one from inside its callback: that request must keep its own
 * retransmissions (it once took the finishing transaction's slot and lost
 * its Timer E). */
static void test_callback_keeps_new_transaction(void **state)
{
	const char *r;

	(void)state;
	start("config limits\n\toption client_txns 1\n");
	assert_int_equal(store_for_alice("c1", NULL, "first"), 202);
	assert_int_equal(store_for_alice("c2", NULL, "second"), 202);
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	answer(alice_gets(10, "first"), 200);
	r = h_recv(alice);
	assert_non_null(r);
	assert_non_null(strstr(h_body(r), "second"));
	/* alice does not answer: Timer E resends it at 0.5, 1.5 s. */
	h_run(2000);
	assert_true(h_drain(alice) >= 2);
	h_run(40000);
	h_stop();
}

/* The largest map_size_kb the build takes opens a store of that size that
 * stores. A 32-bit build maps at most 1 GiB: a larger Kconfig ceiling
 * (.ci/dev builds armhf with the largest, 4194304 KiB) is refused at start
 * above that, not wrapped (4194304 * 1024 is 0 in a 32-bit size_t, and
 * every MESSAGE to be stored was answered 503). */
static void test_largest_map_stores(void **state)
{
	char cfg[128], err[256];
	long kb = CONFIG_SIMPLED_STORE_MAP_MAX_KB;

	(void)state;
#if SIZE_MAX <= UINT32_MAX && CONFIG_SIMPLED_STORE_MAP_MAX_KB > 1048576
	snprintf(cfg, sizeof(cfg), "config storage\n\toption map_size_kb %ld\n",
		 kb);
	err[0] = '\0';
	assert_int_not_equal(app_configure(NULL, cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "is outside 256..1048576"));
	kb = 1048576;
#endif
	snprintf(cfg, sizeof(cfg), "config storage\n\toption map_size_kb %ld\n",
		 kb);
	start(cfg);
	assert_int_equal(store_for_alice("m1", NULL, "in a large map"), 202);
	assert_int_equal(offline_count(ALICE), 1);
	h_run(40000);
	h_stop();
	(void)err;
}

/* The index of waiting messages is a pool too: one more is 503. */
static void test_message_pool_full_503(void **state)
{
	(void)state;
	start("config limits\n\toption store_messages 3\n");
	assert_int_equal(store_for_alice("p1", NULL, "a"), 202);
	assert_int_equal(store_for_alice("p2", NULL, "b"), 202);
	assert_int_equal(store_for_alice("p3", NULL, "c"), 202);
	assert_int_equal(store_for_alice("p4", NULL, "d"), 503);
	assert_int_equal(offline_count(ALICE), 3);
	h_run(40000);
	h_stop();
}

/* Each user's history is an owner in the store's index: when histories
 * hold every owner entry (store_owners), a message for an offline user
 * still gets one (the oldest history goes whole) and is kept: 202. */
static void test_histories_give_way_to_owners(void **state)
{
	const char *r;
	char user[16], to[64];
	int u, i;

	(void)state;
	start("config limits\n\toption store_owners 4\n");
	for (u = 0; u < 4; u++) {
		snprintf(user, sizeof(user), "u%d", u);
		snprintf(to, sizeof(to), "u%d@" H_DOMAIN, u);
		assert_int_equal(h_register(alice, 2, user, 600), 200);
		for (i = 0; i < 20; i++) {
			h_message(bob, 3, to, h_token(), NULL, "live");
			h_run(10);
			r = h_recv(alice);
			assert_non_null(r);
			h_answer(alice, r, 200);
			assert_int_equal(h_status(h_wait(bob)), 200);
		}
		assert_int_equal(h_register(alice, 2, user, 0), 200);
	}
	assert_int_equal(stat_value("history_kept"), 80);
	assert_int_equal(store_for_alice("o1", NULL, "kept"), 202);
	assert_int_equal(offline_count(ALICE), 1);
	assert_true(stat_value("history_evicted") >= 20);
	h_run(40000);
	h_stop();
}

static void test_full_store_answers_503(void **state)
{
	static char big[7000];
	int i, st = 0, ok = 0;

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	start("config storage\n\toption map_size_kb 256\n");
	for (i = 0; i < 60; i++) {
		char tok[16];

		snprintf(tok, sizeof(tok), "big%d", i);
		st = store_for_alice(tok, NULL, big);
		if (st != 202) {
			break;
		}
		ok++;
	}
	assert_true(ok > 0);
	assert_int_equal(st, 503);
	/* Still serving, and the stored ones still go out. */
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	assert_non_null(h_wait(alice));
	h_run(40000);
	h_stop();
}

/* A body of n 'x's (n < 8192). */
static const char *xs(size_t n)
{
	static char body[CONFIG_SIMPLED_MAX_MSG_SIZE];

	assert_true(n < sizeof(body));
	memset(body, 'x', n);
	body[n] = '\0';
	return body;
}

/* alice registers the contact uri (at client 2) for expires s. */
static void register_contact(const char *uri, int expires)
{
	char contact[CONFIG_SIMPLED_MAX_URI_LEN + 8], hdrs[32];

	snprintf(contact, sizeof(contact), "<%s>", uri);
	snprintf(hdrs, sizeof(hdrs), "Expires: %d\n", expires);
	assert_int_equal(h_status(h_request_wait(alice, &(struct h_req){
		.method = "REGISTER", .n = 2, .from = "alice",
		.call_id = "reg-long", .cseq = expires ? 1 : 2,
		.contact = contact, .hdrs = hdrs})), 200);
}

/* A 202 is a promise: a MESSAGE is stored only when the MESSAGE that
 * delivers it (our Via, Date, the [stored ...] prefix, the contact's
 * Request-URI, ...) fits the largest request we send. The bound takes the
 * longest contact URI the registrar keeps; with alice registered at such
 * a URI the largest message stored is delivered whole in exactly
 * CONFIG_SIMPLED_MAX_MSG_SIZE bytes, and one byte more is refused at
 * arrival (it was stored, then dropped after max_tries). */
static void test_stored_only_when_delivery_fits(void **state)
{
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];
	size_t len0, most, n;
	const char *r;

	(void)state;
	/* sip:alice@10.0.0.2:5060;pad=ppp... as long as kept (255). */
	n = (size_t)snprintf(uri, sizeof(uri), "sip:alice@10.0.0.2:5060;pad=");
	memset(uri + n, 'p', sizeof(uri) - 1 - n);
	uri[sizeof(uri) - 1] = '\0';
	/* Without history: its History-Id line would take a few bytes
	 * that depend on the entry's number. */
	start("config offline\n\toption user_history 0\n");
	/* What the delivery of a 4000-byte body to that contact takes. */
	assert_int_equal(store_for_alice("b0", NULL, xs(4000)), 202);
	register_contact(uri, 600);
	r = alice_gets(10, NULL);
	len0 = strlen(r);
	assert_string_equal(h_hdr(r, "Content-Length"), "4033");
	answer(r, 200);
	register_contact(uri, 0);
	/* The largest body whose delivery fits, and one byte more. */
	most = 4000 + CONFIG_SIMPLED_MAX_MSG_SIZE - len0;
	h_message(bob, 3, ALICE, "b1", NULL, xs(most + 1));
	r = h_wait(bob);
	assert_int_equal(h_status(r), 513);
	assert_non_null(strstr(r, "513 Message too large to deliver from "
				  "the store\r\n"));
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_stored"), 1);
	assert_int_equal(store_for_alice("b2", NULL, xs(most)), 202);
	register_contact(uri, 600);
	r = alice_gets(10, NULL);
	assert_int_equal(strlen(r), CONFIG_SIMPLED_MAX_MSG_SIZE);
	assert_int_equal(strncmp(h_body(r), "[stored 20", 10), 0);
	assert_int_equal(strlen(h_body(r)), 33 + most);
	assert_string_equal(h_body(r) + 33, xs(most));
	answer(r, 200);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_dumped"), 2);
	assert_int_equal(stat_value("offline_failed"), 0);
	h_run(40000);
	h_stop();
}

/* bob's MESSAGE for alice from client n whose datagram is exactly len
 * bytes (CRLF line ends, a body of 'x's). */
static void message_of_len(int sock, int n, const char *tok, size_t len)
{
	static char text[CONFIG_SIMPLED_MAX_MSG_SIZE + 1];
	const char *fmt = "MESSAGE sip:" ALICE " SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.%d:5060;branch=z9hG4bK%s\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:bob@" H_DOMAIN ">;tag=%s\r\n"
			  "To: <sip:" ALICE ">\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: 1 MESSAGE\r\n"
			  "Content-Type: text/plain\r\n"
			  "Content-Length: %4zu\r\n\r\n";
	size_t head = (size_t)snprintf(text, sizeof(text), fmt, n, tok, tok,
				       tok, (size_t)0);

	assert_true(len < sizeof(text) && len - head >= 1000);
	snprintf(text, sizeof(text), fmt, n, tok, tok, tok, len - head);
	memset(text + head, 'x', len - head);
	text[len] = '\0';
	h_send(sock, "%s", text);
}

/* Kept header lines written longer than they came (compact "s:" becomes
 * "Subject: ") can make a request's kept fields larger than any stored
 * message: it is refused 513 (too large to keep), nothing else happens
 * (this wrote through a wild pointer once). */
static void test_kept_lines_longer_than_the_request(void **state)
{
	static char text[CONFIG_SIMPLED_MAX_MSG_SIZE + 1];
	struct port_addr srv;
	size_t o, head;
	int i;

	(void)state;
	start(NULL);
	/* Compact headers, bare LF line ends, 58 "Subject:N" lines: each is
	 * kept as "Subject: N" CRLF, 2 bytes longer; the last one fills the
	 * request to 8191 bytes. */
	o = (size_t)snprintf(text, sizeof(text),
			     "MESSAGE sip:" ALICE " SIP/2.0\n"
			     "v: SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKw1\n"
			     "f: <sip:bob@" H_DOMAIN ">;tag=w1\n"
			     "t: <sip:" ALICE ">\ni: w1\nCSeq: 1 MESSAGE\n");
	for (i = 0; i < 57; i++) {
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "Subject:%d\n", i);
	}
	head = o + strlen("Subject:\nl: 5\n\nhello");
	o += (size_t)snprintf(text + o, sizeof(text) - o, "Subject:%0*d\n",
			      (int)(CONFIG_SIMPLED_MAX_MSG_SIZE - 1 - head), 0);
	o += (size_t)snprintf(text + o, sizeof(text) - o, "l: 5\n\nhello");
	assert_int_equal(o, CONFIG_SIMPLED_MAX_MSG_SIZE - 1);
	assert_int_equal(sd_addr_parse(&srv, H_SERVER, 5060), 0);
	assert_int_equal(port_sendto(bob, text, o, &srv), 0);
	assert_int_equal(h_status(h_wait(bob)), 513);
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

/* A MESSAGE one byte under the arrival limit is taken in, but would not
 * fit once written for delivery: 513 at once, nothing stored. */
static void test_just_under_arrival_limit_refused(void **state)
{
	const char *r;

	(void)state;
	start(NULL);
	message_of_len(bob, 3, "u1", CONFIG_SIMPLED_MAX_MSG_SIZE - 1);
	r = h_wait(bob);
	assert_int_equal(h_status(r), 513);
	assert_non_null(strstr(r, "too large to deliver from the store"));
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_stored"), 0);
	assert_int_equal(stat_value("offline_refused"), 1);
	h_run(40000);
	h_stop();
}

/* count MESSAGEs for to from client sock/n, each answered code. */
static void store_n(int sock, int n, const char *to, int count, int code)
{
	static unsigned seq;
	char tok[32];
	int i;

	for (i = 0; i < count; i++) {
		snprintf(tok, sizeof(tok), "n%u", seq++);
		h_message(sock, n, to, tok, NULL, "q");
		assert_int_equal(h_status(h_wait(sock)), code);
	}
}

/* The defaults: 50 messages stored per source (its IP address), 100 per
 * owner; both counts rebuilt from the store after a restart. */
static void test_default_quotas_and_restart(void **state)
{
	static char first[4096];
	int c4, c5;
	const char *r;

	(void)state;
	start(NULL);
	c4 = h_client(4);
	c5 = h_client(5);
	store_n(bob, 3, ALICE, 50, 202);
	h_message(bob, 3, ALICE, "over", NULL, "q");
	r = h_wait(bob);
	assert_int_equal(h_status(r), 403);
	assert_non_null(strstr(r, "403 Too many stored messages from this "
				  "sender\r\n"));
	/* The cap is the source's, whoever the message is for. */
	store_n(bob, 3, "carol@" H_DOMAIN, 1, 403);
	store_n(c4, 4, ALICE, 50, 202);
	store_n(c5, 5, ALICE, 1, 480); /* alice has 100 */
	store_n(c5, 5, "carol@" H_DOMAIN, 1, 202);
	assert_int_equal(offline_count(ALICE), 100);
	h_restart(NULL);
	bob = h_client(3);
	alice = h_client(2);
	c4 = h_client(4);
	c5 = h_client(5);
	store_n(bob, 3, "carol@" H_DOMAIN, 1, 403);
	store_n(c5, 5, ALICE, 1, 480);
	store_n(c5, 5, "dave@" H_DOMAIN, 48, 202);
	store_n(c5, 5, "dave@" H_DOMAIN, 1, 202); /* carol's + 49 = 50 */
	store_n(c5, 5, "dave@" H_DOMAIN, 1, 403);
	/* A delivered message (bob's first) no longer counts for its
	 * source; alice is gone before the next one leaves. */
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	snprintf(first, sizeof(first), "%s", alice_gets(10, "q"));
	assert_int_equal(h_register(alice, 2, "alice", 0), 200);
	answer(first, 200);
	assert_null(h_recv(alice));
	assert_int_equal(offline_count(ALICE), 99);
	store_n(bob, 3, "carol@" H_DOMAIN, 1, 202);
	store_n(bob, 3, "carol@" H_DOMAIN, 1, 403);
	assert_int_equal(stat_value("offline_refused"), 4);
	h_run(40000);
	h_stop();
}

/* Send-Time at most max_send_ahead (30 days) ahead; further is refused
 * with the reason, and nothing is stored. */
static void test_send_time_at_most_30_days_ahead(void **state)
{
	char hdr[64];
	const char *r;
	int64_t now;

	(void)state;
	start(NULL);
	now = port_wall_s();
	snprintf(hdr, sizeof(hdr), "Send-Time: %lld\n",
		 (long long)now + 30 * 86400 + 1);
	h_message(bob, 3, ALICE, "t1", hdr, "too far");
	r = h_wait(bob);
	assert_int_equal(h_status(r), 400);
	assert_non_null(strstr(r, "400 Send-Time more than 30 days ahead\r\n"));
	assert_int_equal(offline_count(ALICE), 0);
	snprintf(hdr, sizeof(hdr), "Send-Time: %lld\n",
		 (long long)now + 30 * 86400);
	assert_int_equal(store_for_alice("t2", hdr, "in a month"), 202);
	assert_int_equal(offline_count(ALICE), 1);
	h_restart("config offline\n\toption max_send_ahead 3600\n");
	bob = h_client(3);
	alice = h_client(2);
	snprintf(hdr, sizeof(hdr), "Send-Time: %lld\n",
		 (long long)port_wall_s() + 3601);
	h_message(bob, 3, ALICE, "t3", hdr, "too far");
	r = h_wait(bob);
	assert_non_null(strstr(r, "400 Send-Time more than 3600 s ahead\r\n"));
	h_run(40000);
	h_stop();
}

/* Run ms of virtual time in steps of at most 10 days, alice keeping her
 * registration (an hour of margin), and nothing delivered meanwhile. */
static void quiet_for(uint64_t ms)
{
	const uint64_t step = 10 * 86400000ull;

	while (ms) {
		uint64_t now = ms < step ? ms : step;

		assert_int_equal(h_register(alice, 2, "alice", 11 * 86400),
				 200);
		h_run((uint32_t)now);
		assert_null(h_recv(alice));
		ms -= now;
	}
}

/* retry_interval x 2^(tries-1) does not wrap: with 67109 s the wait after
 * the 7th try is 67109000 ms x 64, just over 2^32, which the 32-bit
 * product made 8.7 s. Each wait is now what it says, at most the longest
 * timer (INT32_MAX ms, 24.8 days: from the 6th try on). */
/* The state directory's filesystem: on JFFS2 (no shared writable
 * mapping) the daemon refuses to start; in RAM it runs (with a warning)
 * and stores as ever. */
static void test_state_dir_filesystem(void **state)
{
	(void)state;
	sim_set_fs(PORT_FS_JFFS2);
	assert_int_equal(h_start_err(NULL), EINVAL);
	assert_int_equal(mod_pools_used(), 0);
	sim_set_fs(PORT_FS_RAM);
	h_start(NULL);
	bob = h_client(3);
	assert_int_equal(store_for_alice("fs1", NULL, "kept"), 202);
	assert_int_equal(offline_count("alice@" H_DOMAIN), 1);
	sim_set_fs(PORT_FS_DISK);
	h_run(40000);
	h_stop();
}

static void test_backoff_does_not_wrap(void **state)
{
	static char r[4096];
	uint64_t wait;
	int k;

	(void)state;
	start("config offline\n\toption max_tries 9\n"
	      "\toption retry_interval 67109\n"
	      "\toption expire_time 31536000\n\toption check_time 86400\n");
	assert_int_equal(store_for_alice("w1", NULL, "wait for it"), 202);
	assert_int_equal(h_register(alice, 2, "alice", 3600), 200);
	answer(alice_gets(10, "wait for it"), 500); /* try 1 */
	for (k = 1; k <= 7; k++) {
		/* After try k failed. */
		wait = 67109000ull << (k - 1);
		if (wait > INT32_MAX) {
			wait = INT32_MAX;
		}
		quiet_for(wait - 1000);
		snprintf(r, sizeof(r), "%s", alice_gets(2000, "wait for it"));
		h_drain(alice); /* its retransmissions */
		if (k < 7) {
			answer(r, 500);
		}
	}
	answer(r, 200); /* try 8 */
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_dumped"), 1);
	h_run(40000);
	h_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stored_then_delivered_on_register),
		cmocka_unit_test(test_dates_after_2038),
		cmocka_unit_test(test_order_and_no_double_send),
		cmocka_unit_test(test_cpim_reports_kept_byte_for_byte),
		cmocka_unit_test(test_failed_delivery_retries_then_gives_up),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_reminder),
		cmocka_unit_test(test_survives_restart),
		cmocka_unit_test(test_long_callid_kept),
		cmocka_unit_test(test_sender_notice_and_window),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_failed_commit_answers_500),
		cmocka_unit_test(test_full_store_answers_503),
		cmocka_unit_test(test_histories_give_way_to_owners),
		cmocka_unit_test(test_message_pool_full_503),
		cmocka_unit_test(test_callback_keeps_new_transaction),
		cmocka_unit_test(test_largest_map_stores),
#if UINTPTR_MAX == UINT64_MAX && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		cmocka_unit_test(test_delivers_from_schema1_store),
#else
		cmocka_unit_test(test_refuses_foreign_store),
#endif
		cmocka_unit_test(test_full_store_space_comes_back),
		cmocka_unit_test(test_stored_only_when_delivery_fits),
		cmocka_unit_test(test_just_under_arrival_limit_refused),
		cmocka_unit_test(test_kept_lines_longer_than_the_request),
		cmocka_unit_test(test_default_quotas_and_restart),
		cmocka_unit_test(test_send_time_at_most_30_days_ahead),
		cmocka_unit_test(test_backoff_does_not_wrap),
		cmocka_unit_test(test_state_dir_filesystem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
