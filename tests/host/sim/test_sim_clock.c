/** @file test_sim_clock.c  Wall-clock steps while the daemon runs and
 * across restarts (port/sim's sim_set_wall_s()): stored messages,
 * reminders, presence documents and subscriptions keep the time they had
 * left, and a clock that comes up behind the store is not trusted until
 * it passes the newest stored arrival. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stdint.h>

#include "harness.h"
#include "port.h"
#include "port_sim.h"
#include "stat.h"
#ifdef CONFIG_SIMPLED_OFFLINE
#include "offline.h"
#endif
#ifdef CONFIG_SIMPLED_PRESENCE
#include "pres.h"
#endif

#define ALICE "alice@" H_DOMAIN
/* Ten years of 365 days. */
#define TEN_YEARS ((int64_t)3650 * 86400)

/* Step the wall clock by d seconds, as NTP or a user's `date -s` does. */
static void step(int64_t d)
{
	sim_set_wall_s(port_wall_s() + d);
}

#ifdef CONFIG_SIMPLED_OFFLINE

#define OFF_CFG "config offline\n\toption expire_time 3600\n" \
		"\toption clean_period 1\n\toption add_date 0\n"

static int bob, alice;

static void start(void)
{
	h_start(OFF_CFG);
	bob = h_client(3);
	alice = h_client(2);
}

static void restart(void)
{
	h_restart(OFF_CFG);
	bob = h_client(3);
	alice = h_client(2);
}

/* Down, and up again with the wall clock at wall_s. */
static void restart_at(int64_t wall_s)
{
	h_restart_wall(wall_s, OFF_CFG);
	bob = h_client(3);
	alice = h_client(2);
}

static int store_for_alice(const char *tok, const char *extra,
			   const char *body)
{
	h_message(bob, 3, ALICE, tok, extra, body);
	return h_status(h_wait(bob));
}

/* A message stored for an hour neither goes at once when the clock
 * jumps ten years ahead (also across a restart after the jump), nor
 * stays ten years when it jumps back: it goes when its hour is over. */
static void test_message_expiry_survives_steps(void **state)
{
	const char *r;

	(void)state;
	start();
	assert_int_equal(store_for_alice("f1", NULL, "ahead"), 202);
	h_run(600000);
	step(TEN_YEARS);
	h_run(120000);
	assert_int_equal(offline_count(ALICE), 1);
	assert_int_equal(stat_value("offline_expired"), 0);
	restart();
	assert_int_equal(offline_count(ALICE), 1);
	h_run(2700000); /* 57 of its 60 minutes gone */
	assert_int_equal(offline_count(ALICE), 1);
	/* Delivered with its arrival moved with the clock. */
	assert_int_equal(h_register(alice, 2, "alice", 600), 200);
	r = h_wait(alice);
	assert_non_null(r);
	assert_non_null(strstr(h_hdr(r, "Date"), "Dec 2035"));
	h_answer(alice, r, 200);
	h_run(10);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(h_register(alice, 2, "alice", 0), 200);

	assert_int_equal(store_for_alice("b1", NULL, "behind"), 202);
	h_run(600000);
	step(-TEN_YEARS);
	h_run(2880000); /* 58 minutes */
	assert_int_equal(offline_count(ALICE), 1);
	h_run(240000);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_expired"), 1);
	h_stop();
}

/* A reminder due in 10 minutes is still due 10 minutes after it was
 * asked for when the clock jumps ten years either way meanwhile. */
static void reminder_across(int64_t d)
{
	char hdr[64];
	const char *r;

	start();
	assert_int_equal(h_register(alice, 2, "alice", 3600), 200);
	snprintf(hdr, sizeof(hdr), "Send-Time: %lld\n",
		 (long long)port_wall_s() + 600);
	assert_int_equal(store_for_alice("r1", hdr, "stand-up"), 202);
	h_run(100000);
	step(d);
	h_run(2000);
	assert_null(h_recv(alice));
	h_run(490000);
	assert_null(h_recv(alice));
	h_run(10000);
	r = h_recv(alice);
	assert_non_null(r);
	assert_string_equal(h_body(r), "stand-up");
	h_answer(alice, r, 200);
	h_run(10);
	assert_int_equal(stat_value("offline_dumped_reminders"), 1);
	h_run(40000);
	h_stop();
}

static void test_reminder_step_ahead(void **state)
{
	(void)state;
	reminder_across(TEN_YEARS);
}

static void test_reminder_step_back(void **state)
{
	(void)state;
	reminder_across(-TEN_YEARS);
}

/* The router comes up with a clock 30 days behind the newest stored
 * arrival (it was down a week: OpenWrt set the clock from a file time),
 * then NTP steps it to the truth. Meanwhile nothing expires, a message
 * stored then keeps its hour and is dated at the truth after the step,
 * and a reminder asked for a wall time is delivered at that wall time. */
static void test_clock_behind_until_synchronized(void **state)
{
	int64_t w = SIM_WALL_DEFAULT_S, truth = w + 7 * 86400;
	char hdr[64];
	const char *r;

	(void)state;
	start();
	assert_int_equal(store_for_alice("o1", NULL, "old"), 202);
	restart_at(w - 30 * 86400);
	assert_int_equal(offline_count(ALICE), 1);
	assert_int_equal(store_for_alice("n1", NULL, "new"), 202);
	snprintf(hdr, sizeof(hdr), "Send-Time: %lld\n",
		 (long long)truth + 1200);
	assert_int_equal(store_for_alice("t1", hdr, "at truth"), 202);
	h_run(600000);
	/* NTP: the truth, 600 s after the restart. */
	sim_set_wall_s(truth + 600);
	h_run(120000);
	assert_int_equal(offline_count(ALICE), 3);
	assert_int_equal(stat_value("offline_expired"), 0);
	/* The message stored meanwhile, dated at the truth. */
	assert_int_equal(h_register(alice, 2, "alice", 3600), 200);
	r = h_wait(alice);
	assert_non_null(r);
	assert_string_equal(h_body(r), "old");
	h_answer(alice, r, 200);
	r = h_wait(alice);
	assert_non_null(r);
	assert_string_equal(h_body(r), "new");
	assert_non_null(strstr(h_hdr(r, "Date"), "08 Jan 2026"));
	h_answer(alice, r, 200);
	h_run(10);
	assert_null(h_recv(alice));
	/* The reminder at its wall time: 1200 s after the truth. */
	h_run(440000);
	assert_null(h_recv(alice));
	h_run(60000);
	r = h_recv(alice);
	assert_non_null(r);
	assert_string_equal(h_body(r), "at truth");
	h_answer(alice, r, 200);
	h_run(40000);
	assert_int_equal(offline_count(ALICE), 0);
	h_stop();
}

#endif /* CONFIG_SIMPLED_OFFLINE */

#ifdef CONFIG_SIMPLED_PRESENCE

static unsigned cseq = 100;
static char last[8192];
static char etag[64];

/* Read what came for sock; NOTIFYs are answered 200 and the last one is
 * kept in `last`. @return the status of the last response, or 0. */
static int take(int sock)
{
	const char *m;
	int st = 0;

	while ((m = h_recv(sock)) != NULL) {
		if (!strncmp(m, "NOTIFY", 6)) {
			snprintf(last, sizeof(last), "%s", m);
			h_answer(sock, last, 200);
		} else if (h_status(m)) {
			st = h_status(m);
			if (h_hdr(m, "SIP-ETag")) {
				snprintf(etag, sizeof(etag), "%s",
					 h_hdr(m, "SIP-ETag"));
			}
		}
	}
	h_run(10);
	return st;
}

static const char *pidf(int open)
{
	static char b[512];

	snprintf(b, sizeof(b),
		 "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:"
		 "xml:ns:pidf\" entity=\"sip:alice@" H_DOMAIN "\"><tuple "
		 "id=\"t\"><status><basic>%s</basic></status></tuple>"
		 "</presence>", open ? "open" : "closed");
	return b;
}

/* A new document (open), or a change of the last one (closed). */
static int publish(int sock, int open)
{
	char hdrs[128] = "Expires: 3600\n";

	if (!open) {
		snprintf(hdrs, sizeof(hdrs), "Expires: 3600\nSIP-If-Match: "
			 "%s\n", etag);
	}
	h_request(sock, &(struct h_req){.method = "PUBLISH", .n = 2,
		.from = "alice", .call_id = "pub", .cseq = ++cseq,
		.event = "presence", .hdrs = hdrs,
		.ctype = "application/pidf+xml", .body = pidf(open)});
	h_run(10);
	return take(sock);
}

static int subscribe(int sock)
{
	h_request(sock, &(struct h_req){.method = "SUBSCRIBE", .n = 3,
		.from = "bob", .from_tag = "wb", .to = "alice",
		.call_id = "sub", .cseq = ++cseq, .event = "presence",
		.contact = "<sip:bob@10.0.0.3:5060>",
		.hdrs = "Expires: 3600\n"});
	h_run(10);
	return take(sock);
}

/* The expires=N of the last NOTIFY. */
static long notify_expires(void)
{
	const char *s = h_hdr(last, "Subscription-State");
	const char *e = s ? strstr(s, "expires=") : NULL;

	assert_non_null(e);
	return atol(e + 8);
}

/* A document and a subscription of an hour keep their hour across a
 * ten-year step ahead and one back, running and across restarts: the
 * NOTIFYs say what is left, a restart neither drops them as expired nor
 * keeps them for ten years, and they end when their hour is over. */
static void test_presence_survives_steps(void **state)
{
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 1), 200);
	assert_int_equal(subscribe(b), 200);
	assert_int_equal(notify_expires(), 3600);
	h_run(600000);
	step(TEN_YEARS);
	h_run(1000);
	assert_int_equal(publish(a, 0), 200);
	take(b);
	assert_non_null(strstr(last, "<basic>closed</basic>"));
	assert_in_range(notify_expires(), 2990, 3000);
	h_restart(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(pres_doc_count(), 1);
	assert_int_equal(pres_sub_count(), 1);
	h_run(600000);
	step(-TEN_YEARS);
	h_restart(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(pres_doc_count(), 1);
	assert_int_equal(pres_sub_count(), 1);
	/* 20 minutes gone before the restarts: the subscription ends 40
	 * minutes on, the document (published again at 10) 10 later. */
	h_run(2340000);
	assert_int_equal(pres_sub_count(), 1);
	assert_int_equal(pres_doc_count(), 1);
	h_run(120000);
	take(b);
	assert_int_equal(pres_sub_count(), 0);
	assert_int_equal(pres_doc_count(), 1);
	h_run(600000);
	assert_int_equal(pres_doc_count(), 0);
	h_run(40000);
	h_stop();
}

#endif /* CONFIG_SIMPLED_PRESENCE */

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef CONFIG_SIMPLED_OFFLINE
		cmocka_unit_test(test_message_expiry_survives_steps),
		cmocka_unit_test(test_reminder_step_ahead),
		cmocka_unit_test(test_reminder_step_back),
		cmocka_unit_test(test_clock_behind_until_synchronized),
#endif
#ifdef CONFIG_SIMPLED_PRESENCE
		cmocka_unit_test(test_presence_survives_steps),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
