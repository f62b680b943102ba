/** @file test_sim_presence.c  PUBLISH, SUBSCRIBE/NOTIFY, winfo,
 * message-summary, aggregation, authorization, restart, on virtual time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "pres_priv.h"
#include "stat.h"
#include "store.h"

#define D H_DOMAIN

static char resp[8192];
static unsigned cseq = 100;

/* A NOTIFY met while looking for a response, kept for next_notify(). */
static char stash[8192];
static int stashed;
static int stash_sock;

/* The next response queued at sock (NOTIFYs before it are answered). */
static char seen_message[8192];

static int take_resp(int sock)
{
	const char *m;

	resp[0] = '\0';
	while ((m = h_recv(sock)) != NULL) {
		if (!strncmp(m, "SIP/2.0", 7)) {
			snprintf(resp, sizeof(resp), "%s", m);
			break;
		}
		if (!strncmp(m, "NOTIFY", 6)) {
			snprintf(stash, sizeof(stash), "%s", m);
			stashed = 1;
			stash_sock = sock;
			h_answer(sock, stash, 200);
		} else if (!strncmp(m, "MESSAGE", 7)) {
			/* May come before the answer that waits for a
			 * commit (a PUBLISH saying open). */
			snprintf(seen_message, sizeof(seen_message), "%s", m);
		}
	}
	if (getenv("PRES_DEBUG") && h_status(resp) >= 400) {
		fprintf(stderr, "%s\n", resp);
	}
	return h_status(resp);
}

static const char *pidf(const char *user, const char *tuple, int open)
{
	static char b[512];

	snprintf(b, sizeof(b),
		 "<?xml version=\"1.0\"?>"
		 "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		 "entity=\"sip:%s@" D "\"><tuple id=\"%s\"><status><basic>%s"
		 "</basic></status></tuple></presence>",
		 user, tuple, open ? "open" : "closed");
	return b;
}

/* PUBLISH from client n; etag and body may be NULL. */
static int publish(int sock, int n, const char *user, const char *etag,
		   int expires, const char *ctype, const char *body)
{
	char hdrs[128] = "", cid[64];
	size_t l;

	if (etag) {
		snprintf(hdrs, sizeof(hdrs), "SIP-If-Match: %s\n", etag);
	}
	if (expires >= 0) {
		l = strlen(hdrs);
		snprintf(hdrs + l, sizeof(hdrs) - l, "Expires: %d\n", expires);
	}
	snprintf(cid, sizeof(cid), "pub-%s", user);
	h_request(sock, &(struct h_req){.method = "PUBLISH", .n = n,
		.from = user, .from_tag = "p", .call_id = cid, .cseq = ++cseq,
		.event = "presence", .hdrs = hdrs,
		.ctype = ctype ? ctype : "application/pidf+xml", .body = body});
	h_run(10);
	return take_resp(sock);
}

static char etag[64];

static const char *last_etag(void)
{
	const char *e = h_hdr(resp, "SIP-ETag");

	snprintf(etag, sizeof(etag), "%s", e ? e : "");
	return etag;
}

/* SUBSCRIBE from watcher at client n; totag NULL for a new dialog. */
static int subscribe(int sock, int n, const char *watcher,
		     const char *presentity, const char *event, int expires,
		     const char *callid, const char *totag)
{
	char tag[64], contact[96], hdrs[32];

	/* The same From tag every time: a refresh stays in the dialog. */
	snprintf(tag, sizeof(tag), "w%s", watcher);
	snprintf(contact, sizeof(contact), "<sip:%s@10.0.0.%d:5060>", watcher,
		 n);
	snprintf(hdrs, sizeof(hdrs), "Expires: %d\n", expires);
	h_request(sock, &(struct h_req){.method = "SUBSCRIBE", .n = n,
		.from = watcher, .from_tag = tag, .to = presentity,
		.to_tag = totag, .call_id = callid, .cseq = ++cseq,
		.event = event, .contact = contact, .hdrs = hdrs});
	h_run(10);
	return 0;
}

/* Next response and next NOTIFY queued at sock (order varies). */
static char notify_buf[8192];

static const char *next_notify(int sock)
{
	const char *m;

	if (stashed && stash_sock == sock) {
		stashed = 0;
		snprintf(notify_buf, sizeof(notify_buf), "%s", stash);
		return notify_buf;
	}
	while ((m = h_recv(sock)) != NULL) {
		if (!strncmp(m, "NOTIFY ", 7)) {
			snprintf(notify_buf, sizeof(notify_buf), "%s", m);
			h_answer(sock, notify_buf, 200);
			return notify_buf;
		}
		if (!strncmp(m, "SIP/2.0", 7)) {
			snprintf(resp, sizeof(resp), "%s", m);
		}
	}
	return NULL;
}

/* The next NOTIFY at sock, asserted there and holding text. */
static const char *notify_with(int sock, const char *text)
{
	const char *n = next_notify(sock);

	assert_non_null(n);
	assert_non_null(strstr(n, text));
	return n;
}

/* The NOTIFY after a SUBSCRIBE from sock, both asserted: the response
 * 200, the NOTIFY there. */
static const char *subscribed(int sock)
{
	const char *n = next_notify(sock);

	assert_int_equal(h_status(resp), 200);
	assert_non_null(n);
	return n;
}

static char totag[64];

static const char *resp_totag(void)
{
	const char *t = strstr(h_hdr(resp, "To"), "tag=");

	snprintf(totag, sizeof(totag), "%s", t ? t + 4 : "");
	return totag;
}

static int reset(void **state)
{
	(void)state;
	stashed = 0;
	return 0;
}

static void test_publish_etags(void **state)
{
	char first[64];
	int a;

	(void)state;
	h_start("config presence\n\toption min_expires 30\n");
	a = h_client(2);
	assert_int_equal(publish(a, 2, "alice", NULL, -1, NULL,
				 pidf("alice", "t1", 1)), 200);
	assert_string_equal(h_hdr(resp, "Expires"), "3600");
	snprintf(first, sizeof(first), "%s", last_etag());
	assert_int_equal(strlen(first), 16);
	assert_int_equal(pres_doc_count(), 1);
	/* Refresh: no body, new ETag; the old one is then unknown. */
	assert_int_equal(publish(a, 2, "alice", first, 600, NULL, NULL), 200);
	assert_string_not_equal(last_etag(), first);
	assert_string_equal(h_hdr(resp, "Expires"), "600");
	assert_int_equal(publish(a, 2, "alice", first, 600, NULL, NULL), 412);
	/* Modify with a body. */
	assert_int_equal(publish(a, 2, "alice", etag, 600, NULL,
				 pidf("alice", "t1", 0)), 200);
	last_etag();
	assert_int_equal(stat_value("presence_published"), 2);
	assert_int_equal(stat_value("presence_refreshed"), 1);
	/* 423 below min_expires. */
	assert_int_equal(publish(a, 2, "alice", etag, 10, NULL, NULL), 423);
	assert_string_equal(h_hdr(resp, "Min-Expires"), "30");
	/* Remove. */
	assert_int_equal(publish(a, 2, "alice", etag, 0, NULL, NULL), 200);
	assert_int_equal(pres_doc_count(), 0);
	assert_int_equal(publish(a, 2, "alice", etag, 600, NULL, NULL), 412);
	/* Bodies are checked. */
	assert_int_equal(publish(a, 2, "alice", NULL, 60, NULL,
				 "<presence><tuple></presence>"), 400);
	assert_non_null(strstr(resp, "400 XML: end tag does not match"));
	assert_int_equal(publish(a, 2, "alice", NULL, 60, "text/plain",
				 "hi"), 415);
	assert_string_equal(h_hdr(resp, "Accept"), "application/pidf+xml");
	assert_int_equal(publish(a, 2, "alice", NULL, 60, NULL,
				 "<?xml version=\"1.0\"?><note>x</note>"), 400);
	assert_non_null(strstr(resp, "not a PIDF document"));
	assert_int_equal(publish(a, 2, "alice", NULL, -1, NULL, NULL), 400);
	/* Expiry. */
	assert_int_equal(publish(a, 2, "alice", NULL, 60, NULL,
				 pidf("alice", "t9", 1)), 200);
	h_run(61000);
	assert_int_equal(pres_doc_count(), 0);
	assert_int_equal(stat_value("presence_expired"), 1);
	h_stop();
}

static void test_bad_event_and_raise(void **state)
{
	int a;

	(void)state;
	h_start("config presence\n\toption min_expires 120\n"
		"\toption min_expires_action 2\n");
	a = h_client(2);
	snprintf(resp, sizeof(resp), "%s", h_request_wait(a, &(struct h_req){
		.method = "PUBLISH", .n = 2, .from = "alice",
		.event = "dialog"}));
	assert_int_equal(h_status(resp), 489);
	assert_string_equal(h_hdr(resp, "Allow-Events"), "presence");
	/* SUBSCRIBE offers the packages built in. */
	subscribe(a, 2, "alice", "alice", "dialog", 600, "evs", NULL);
	assert_int_equal(take_resp(a), 489);
#ifdef CONFIG_SIMPLED_OFFLINE
	assert_string_equal(h_hdr(resp, "Allow-Events"),
			    "presence, presence.winfo, message-summary");
#else
	assert_string_equal(h_hdr(resp, "Allow-Events"),
			    "presence, presence.winfo");
#endif
	assert_int_equal(publish(a, 2, "alice", NULL, 10, NULL,
				 pidf("alice", "t1", 1)), 200);
	assert_string_equal(h_hdr(resp, "Expires"), "120");
	h_stop();
}

static void test_subscribe_notify_cycle(void **state)
{
	const char *n;
	int a, b, c;
	char tag[64];

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	c = h_client(4);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "phone", 1)), 200);
	last_etag();
	subscribe(b, 3, "bob", "alice", "presence", 600, "sub-b", NULL);
	n = subscribed(b);
	assert_string_equal(h_hdr(resp, "Expires"), "600");
	assert_non_null(h_hdr(resp, "Contact"));
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	assert_true(strlen(tag) > 0);
	assert_string_equal(h_hdr(n, "Event"), "presence");
	assert_string_equal(h_hdr(n, "Subscription-State"),
			    "active;expires=600");
	assert_string_equal(h_hdr(n, "Content-Type"), "application/pidf+xml");
	assert_non_null(strstr(n, "<tuple id=\"phone\">"));
	assert_non_null(strstr(n, "<basic>open</basic>"));
	assert_non_null(strstr(h_hdr(n, "From"), tag));
	/* A second watcher; a change reaches both. */
	subscribe(c, 4, "carol", "alice", "presence", 600, "sub-c", NULL);
	assert_non_null(next_notify(c));
	assert_int_equal(pres_sub_count(), 2);
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL,
				 pidf("alice", "phone", 0)), 200);
	notify_with(b, "<basic>closed</basic>");
	notify_with(c, "<basic>closed</basic>");
	/* Refresh in the dialog, then a wrong tag is 481. */
	subscribe(b, 3, "bob", "alice", "presence", 900, "sub-b", tag);
	n = subscribed(b);
	assert_string_equal(h_hdr(n, "Subscription-State"),
			    "active;expires=900");
	subscribe(b, 3, "bob", "alice", "presence", 900, "sub-b", "nosuch");
	next_notify(b);
	assert_int_equal(h_status(resp), 481);
	/* Unsubscribe: 200 and a final NOTIFY. */
	subscribe(b, 3, "bob", "alice", "presence", 0, "sub-b", tag);
	n = subscribed(b);
	assert_string_equal(h_hdr(n, "Subscription-State"), "terminated");
	assert_int_equal(pres_sub_count(), 1);
	h_run(40000);
	h_stop();
}

static void test_expiry_fetch_and_notify_errors(void **state)
{
	const char *n;
	int b;

	(void)state;
	h_start(NULL);
	b = h_client(3);
	subscribe(b, 3, "bob", "alice", "presence", 60, "sub-e", NULL);
	assert_non_null(next_notify(b));
	h_run(61000);
	n = next_notify(b);
	assert_non_null(n);
	assert_string_equal(h_hdr(n, "Subscription-State"),
			    "terminated;reason=timeout");
	assert_int_equal(pres_sub_count(), 0);
	assert_int_equal(stat_value("presence_subscriptions_expired"), 1);
	/* Fetch: Expires 0 out of dialog, one NOTIFY with the state. */
	subscribe(b, 3, "bob", "alice", "presence", 0, "fetch", NULL);
	n = subscribed(b);
	assert_non_null(strstr(n, "<basic>closed</basic>"));
	assert_non_null(strstr(h_hdr(n, "Subscription-State"), "terminated"));
	assert_int_equal(pres_sub_count(), 0);
	/* A NOTIFY answered 481 ends the subscription. */
	subscribe(b, 3, "bob", "alice", "presence", 600, "sub-x", NULL);
	while ((n = h_recv(b)) != NULL) {
		if (!strncmp(n, "NOTIFY", 6)) {
			snprintf(notify_buf, sizeof(notify_buf), "%s", n);
			h_answer(b, notify_buf, 481);
		}
	}
	h_run(10);
	assert_int_equal(pres_sub_count(), 0);
	h_run(40000);
	h_stop();
}

static void test_aggregation_and_closed_tuples(void **state)
{
	char e1[64];
	const char *n;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "desk", 1)), 200);
	snprintf(e1, sizeof(e1), "%s", last_etag());
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "mobile", 0)), 200);
	subscribe(b, 3, "bob", "alice", "presence", 600, "agg", NULL);
	n = notify_with(b, "<tuple id=\"desk\"><status><basic>open");
	assert_non_null(strstr(n, "<tuple id=\"mobile\"><status><basic>closed"));
	/* One document per ETag: exactly one <presence> root. */
	assert_null(strstr(strstr(n, "<presence") + 1, "<presence"));
	/* Removing the desk document shows its tuple closed. */
	assert_int_equal(publish(a, 2, "alice", e1, 0, NULL, NULL), 200);
	n = notify_with(b, "<tuple id=\"desk\"><status><basic>closed");
	assert_non_null(strstr(n, "<tuple id=\"mobile\">"));
	h_run(40000);
	h_stop();
}

static int command(int sock, int n, const char *from, const char *text)
{
	h_request(sock, &(struct h_req){.method = "MESSAGE", .n = n,
		.from = from, .to = "presence", .body = text});
	h_run(10);
	return take_resp(sock);
}

static void test_winfo_pending_and_commands(void **state)
{
	const char *n;
	int a, b, d, e;

	(void)state;
	h_start("config presence\n\toption auth_policy explicit\n");
	a = h_client(2);
	b = h_client(3);
	d = h_client(5);
	e = h_client(6);
	subscribe(a, 2, "alice", "alice", "presence.winfo", 600, "wi", NULL);
	n = subscribed(a);
	assert_string_equal(h_hdr(n, "Content-Type"),
			    "application/watcherinfo+xml");
	assert_non_null(strstr(n, "version=\"0\" state=\"full\""));
	/* bob is undecided: pending, NOTIFY without a body. */
	subscribe(b, 3, "bob", "alice", "presence", 600, "pb", NULL);
	n = subscribed(b);
	assert_string_equal(h_hdr(n, "Subscription-State"),
			    "pending;expires=600");
	assert_null(h_hdr(n, "Content-Type"));
	n = notify_with(a, "state=\"partial\"");
	assert_non_null(strstr(n, "status=\"pending\">sip:bob@" D));
	/* Only alice may watch her watchers. */
	subscribe(b, 3, "bob", "alice", "presence.winfo", 600, "bw", NULL);
	next_notify(b);
	assert_int_equal(h_status(resp), 403);
	/* alice allows bob by MESSAGE: bob becomes active with a body. */
	assert_int_equal(command(a, 2, "alice", "allow bob@" D), 200);
	assert_string_equal(h_body(resp), "bob@" D ": allow");
	n = notify_with(b, "<presence");
	assert_string_equal(h_hdr(n, "Subscription-State"),
			    "active;expires=600");
	notify_with(a, "status=\"active\">sip:bob@" D);
	/* Blocked: 403. Polite-blocked: accepted, sees a closed state. */
	assert_int_equal(command(a, 2, "alice", "block dave@" D), 200);
	subscribe(d, 5, "dave", "alice", "presence", 600, "pd", NULL);
	next_notify(d);
	assert_int_equal(h_status(resp), 403);
	assert_int_equal(command(a, 2, "alice", "polite-block erin@" D), 200);
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
				 pidf("alice", "real", 1)), 200);
	subscribe(e, 6, "erin", "alice", "presence", 600, "pe", NULL);
	n = subscribed(e);
	assert_non_null(strstr(n, "<basic>closed</basic>"));
	assert_null(strstr(n, "real"));
	assert_int_equal(command(a, 2, "alice", "frobnicate x"), 400);
	h_run(40000);
	h_stop();
}

static void test_registration_driven(void **state)
{
	int b, c;

	(void)state;
	h_start(NULL);
	b = h_client(3);
	c = h_client(4);
	subscribe(b, 3, "bob", "carol", "presence", 3600, "rd", NULL);
	notify_with(b, "<basic>closed</basic>");
	assert_int_equal(h_register(c, 4, "carol", 600), 200);
	h_run(10);
	notify_with(b, "<basic>open</basic>");
	/* The last binding expires: watchers see closed. */
	h_run(601000);
	notify_with(b, "<basic>closed</basic>");
	h_run(40000);
	h_stop();
}

#ifndef CONFIG_SIMPLED_OFFLINE
/* Without offline/ there is nothing to count: message-summary is an
 * unknown package (489) and Allow-Events does not offer it. */
static void test_message_summary(void **state)
{
	int a;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	subscribe(a, 2, "alice", "alice", "message-summary", 600, "ms", NULL);
	assert_int_equal(take_resp(a), 489);
	assert_string_equal(h_hdr(resp, "Allow-Events"),
			    "presence, presence.winfo");
	h_stop();
}
#else
static void test_message_summary(void **state)
{
	const char *n;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	subscribe(a, 2, "alice", "alice", "message-summary", 600, "ms", NULL);
	n = next_notify(a);
	assert_non_null(n);
	assert_string_equal(h_hdr(n, "Content-Type"),
			    "application/simple-message-summary");
	assert_non_null(strstr(h_body(n), "Messages-Waiting: no"));
	h_message(b, 3, "alice@" D, "mw1", NULL, "for later");
	h_run(10);
	n = next_notify(a);
	assert_non_null(n);
	assert_non_null(strstr(h_body(n), "Messages-Waiting: yes"));
	assert_non_null(strstr(h_body(n), "Text-Message: 1/0"));
	h_run(40000);
	h_stop();
}

#endif

static void test_restart_keeps_documents_and_subscriptions(void **state)
{
	unsigned char rec[STORE_REC_MAX];
	char tag[64], key[160];
	const char *n;
	size_t vl;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "kept", 1)), 200);
	last_etag();
	subscribe(b, 3, "bob", "alice", "presence", 3600, "rs", NULL);
	assert_non_null(next_notify(b));
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	h_run(40000);
	h_restart(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(pres_doc_count(), 1);
	assert_int_equal(pres_sub_count(), 1);
	/* Written back in the versioned encoding (pres_wb.c), version 3
	 * (with the source it counts against). */
	snprintf(key, sizeof(key), "rs|wbob|%s", tag);
	assert_int_equal(store_rec_get(STORE_PRES_SUB, key, rec, sizeof(rec),
				       &vl), 0);
	assert_true(vl > 44);
	assert_int_equal(rec[0], 3);
	/* The ETag from before the restart still refreshes. */
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL, NULL), 200);
	assert_int_equal(publish(a, 2, "alice", last_etag(), 3600, NULL,
				 pidf("alice", "kept", 0)), 200);
	n = notify_with(b, "<basic>closed</basic>");
	assert_non_null(strstr(h_hdr(n, "From"), tag));
	/* The restored dialog still takes in-dialog requests. */
	subscribe(b, 3, "bob", "alice", "presence", 0, "rs", tag);
	next_notify(b);
	assert_int_equal(h_status(resp), 200);
	assert_int_equal(pres_sub_count(), 0);
	h_run(40000);
	h_stop();
}

/* A Call-ID longer than any bound kept (valid, RFC 3261 25.1) sets up a
 * dialog whose NOTIFYs repeat it whole, in-dialog requests find it, and
 * so they do after a restart. */
static void test_long_callid_dialog(void **state)
{
	static char cid[1501];
	char tag[64];
	const char *n;
	int a, b;

	(void)state;
	memset(cid, 'q', sizeof(cid) - 1);
	memcpy(cid, "long-", 5);
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "t1", 1)), 200);
	subscribe(b, 3, "bob", "alice", "presence", 3600, cid, NULL);
	n = subscribed(b);
	assert_string_equal(h_hdr(n, "Call-ID"), cid);
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	subscribe(b, 3, "bob", "alice", "presence", 3600, cid, tag);
	n = subscribed(b);
	assert_string_equal(h_hdr(n, "Call-ID"), cid);
	h_run(40000);
	h_restart(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(pres_sub_count(), 1);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "t2", 0)), 200);
	n = notify_with(b, "t2");
	assert_string_equal(h_hdr(n, "Call-ID"), cid);
	subscribe(b, 3, "bob", "alice", "presence", 0, cid, tag);
	n = subscribed(b);
	assert_string_equal(h_hdr(n, "Call-ID"), cid);
	assert_int_equal(pres_sub_count(), 0);
	h_run(40000);
	h_stop();
}

/* A few bytes of a fixed pseudo-random sequence. */
static unsigned rnd(void)
{
	static unsigned x = 12345;

	x = x * 1103515245u + 12345u;
	return (x >> 16) & 0x7fff;
}

/*
 * Records the last run cannot have written are dropped at restore, and
 * deleted, without harm to the good ones: another version, garbage, every
 * truncation of a real record and random mutations of it (all under keys
 * that do not match them), and a version 1 image with a wrong tag.
 */
static void test_restart_drops_bad_records(void **state)
{
	static unsigned char good[STORE_REC_MAX], bad[STORE_REC_MAX];
	static const unsigned char other_version[] = {3, 0, 1, 1, 0, 4, 0xc4};
	char tag[64], key[160];
	const char *n;
	size_t gl, l, i;
	unsigned k;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	subscribe(b, 3, "bob", "alice", "presence", 3600, "gb", NULL);
	assert_non_null(next_notify(b));
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	h_run(101000); /* clean_period: the write-back flush */
	snprintf(key, sizeof(key), "gb|wbob|%s", tag);
	assert_int_equal(store_rec_get(STORE_PRES_SUB, key, good,
				       sizeof(good), &gl), 0);
	assert_int_equal(store_rec_put(STORE_PRES_SUB, "bad|v|3",
				       other_version, sizeof(other_version)),
			 0);
	assert_int_equal(store_rec_put(STORE_PRES_SUB, "bad|garbage|x",
				       "\x02\xff\xff garbage", 12), 0);
	memset(bad, 0xff, sizeof(struct pres_sub_rec_v1));
	assert_int_equal(store_rec_put(STORE_PRES_SUB, "bad|v1|tag", bad,
				       sizeof(struct pres_sub_rec_v1)), 0);
	for (l = 0; l < gl; l++) {
		snprintf(key, sizeof(key), "cut%zu", l);
		assert_int_equal(store_rec_put(STORE_PRES_SUB, key, good, l),
				 0);
	}
	for (k = 0; k < 200; k++) {
		l = gl - 8 + rnd() % 16;
		memcpy(bad, good, gl);
		memset(bad + gl, 0, 8);
		for (i = 0; i < 1 + rnd() % 4; i++) {
			bad[rnd() % l] = (unsigned char)rnd();
		}
		snprintf(key, sizeof(key), "mut%u", k);
		assert_int_equal(store_rec_put(STORE_PRES_SUB, key, bad, l),
				 0);
	}
	h_restart(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(pres_sub_count(), 1);
	assert_int_equal(store_rec_get(STORE_PRES_SUB, "bad|v|3", bad,
				       sizeof(bad), &l), ENOENT);
	assert_int_equal(store_rec_get(STORE_PRES_SUB, "cut10", bad,
				       sizeof(bad), &l), ENOENT);
	assert_int_equal(store_rec_get(STORE_PRES_SUB, "mut7", bad,
				       sizeof(bad), &l), ENOENT);
	/* The good one still gets its NOTIFYs. */
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
				 pidf("alice", "t", 1)), 200);
	n = next_notify(b);
	assert_non_null(n);
	assert_non_null(strstr(n, "<basic>open</basic>"));
	assert_non_null(strstr(h_hdr(n, "From"), tag));
	h_run(40000);
	h_stop();
}

/* What builds before the versioned encoding wrote (a struct image) is
 * migrated: the subscription lives on, and is written again as version
 * 2. */
static void test_restart_migrates_version_1(void **state)
{
	static struct pres_sub_rec_v1 r;
	unsigned char rec[STORE_REC_MAX];
	const char *n;
	size_t vl;
	int a, c;

	(void)state;
	h_start(NULL);
	memset(&r, 0, sizeof(r));
	r.version = PRES_SUB_REC_V1;
	r.event = PRES_EV_PRESENCE;
	r.state = PRES_SUB_ACTIVE;
	r.decision = PRES_ALLOW;
	r.local_cseq = 5;
	r.remote_cseq = 1;
	r.expires_at = port_wall_s() + 600;
	r.flow.tp = 0;
	r.flow.lidx = 3; /* a listener of the old run: not trusted */
	r.flow.conn = -1;
	r.flow.peer.family = 4;
	r.flow.peer.port = 5060;
	memcpy(r.flow.peer.ip, "\x0a\x00\x00\x04", 4);
	strcpy(r.callid, "legacy");
	strcpy(r.local_tag, "lt1");
	strcpy(r.remote_from, "<sip:carol@" D ">;tag=wcarol");
	strcpy(r.presentity_uri, "sip:alice@" D);
	strcpy(r.watcher, "carol@" D);
	strcpy(r.contact, "sip:carol@10.0.0.4:5060");
	assert_int_equal(store_rec_put(STORE_PRES_SUB, "legacy|wcarol|lt1",
				       &r, sizeof(r)), 0);
	h_restart(NULL);
	a = h_client(2);
	c = h_client(4);
	assert_int_equal(pres_sub_count(), 1);
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
				 pidf("alice", "t", 1)), 200);
	n = next_notify(c);
	assert_non_null(n);
	assert_non_null(strstr(n, "<basic>open</basic>"));
	assert_non_null(strstr(h_hdr(n, "From"), "tag=lt1"));
	assert_string_equal(h_hdr(n, "CSeq"), "6 NOTIFY");
	h_run(10000);
	h_restart(NULL);
	assert_int_equal(pres_sub_count(), 1);
	assert_int_equal(store_rec_get(STORE_PRES_SUB, "legacy|wcarol|lt1",
				       rec, sizeof(rec), &vl), 0);
	assert_int_equal(rec[0], 3);
	/* It still takes in-dialog requests: unsubscribe. */
	c = h_client(4);
	subscribe(c, 4, "carol", "alice", "presence", 0, "legacy", "lt1");
	next_notify(c);
	assert_int_equal(h_status(resp), 200);
	assert_int_equal(pres_sub_count(), 0);
	h_run(40000);
	h_stop();
}

#ifdef CONFIG_SIMPLED_OFFLINE
static void test_publish_open_delivers_offline(void **state)
{
	const char *r;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(h_register(a, 2, "alice", 3600), 200);
	/* alice's phone does not answer: the MESSAGE is kept (202). */
	h_message(b, 3, "alice@" D, "po1", NULL, "ping");
	h_run(33000);
	h_drain(a);
	assert_int_equal(h_status(h_recv(b)), 202);
	h_run(5000);
	/* She comes back and says so: the message goes out at once. */
	seen_message[0] = '\0';
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
				 pidf("alice", "t", 1)), 200);
	r = seen_message[0] ? seen_message : h_recv(a);
	while (r && strncmp(r, "MESSAGE", 7)) {
		r = h_recv(a);
	}
	assert_non_null(r);
	assert_non_null(strstr(h_body(r), "ping"));
	h_run(40000);
	h_stop();
}

#endif

/* Event in its compact form "o" (RFC 3265) is understood by PUBLISH and
 * SUBSCRIBE. */
static void test_compact_event(void **state)
{
	const char *n;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	snprintf(resp, sizeof(resp), "%s", h_request_wait(a, &(struct h_req){
		.method = "PUBLISH", .n = 2, .from = "alice",
		.hdrs = "o: presence\nExpires: 600\n",
		.ctype = "application/pidf+xml",
		.body = pidf("alice", "t1", 1)}));
	assert_int_equal(h_status(resp), 200);
	h_request(b, &(struct h_req){.method = "SUBSCRIBE", .n = 3,
		.from = "bob", .to = "alice", .call_id = "cmp-sub",
		.contact = "<sip:bob@10.0.0.3:5060>",
		.hdrs = "o: presence\nExpires: 600\n"});
	h_run(10);
	n = subscribed(b);
	assert_non_null(strstr(n, "<basic>open</basic>"));
	h_run(40000);
	h_stop();
}

static void test_slow_notify_coalesces(void **state)
{
	int a, b;
	unsigned notifies = 0;
	const char *m;

	(void)state;
	h_start("config presence\n\toption send_fast_notify 0\n");
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
				 pidf("alice", "t", 1)), 200);
	last_etag();
	subscribe(b, 3, "bob", "alice", "presence", 600, "slow", NULL);
	assert_non_null(next_notify(b)); /* the first one is never delayed */
	assert_int_equal(publish(a, 2, "alice", etag, 600, NULL,
				 pidf("alice", "t", 0)), 200);
	assert_int_equal(publish(a, 2, "alice", last_etag(), 600, NULL,
				 pidf("alice", "t", 1)), 200);
	assert_null(next_notify(b));
	h_run(1100);
	while ((m = next_notify(b)) != NULL) {
		notifies++;
		assert_non_null(strstr(m, "<basic>open</basic>"));
	}
	assert_int_equal(notifies, 1);
	h_run(40000);
	h_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_publish_etags, reset),
		cmocka_unit_test_setup(test_bad_event_and_raise, reset),
		cmocka_unit_test_setup(test_subscribe_notify_cycle, reset),
		cmocka_unit_test_setup(test_expiry_fetch_and_notify_errors, reset),
		cmocka_unit_test_setup(test_aggregation_and_closed_tuples, reset),
		cmocka_unit_test_setup(test_winfo_pending_and_commands, reset),
		cmocka_unit_test_setup(test_registration_driven, reset),
		cmocka_unit_test_setup(test_message_summary, reset),
		cmocka_unit_test_setup(test_restart_keeps_documents_and_subscriptions, reset),
		cmocka_unit_test_setup(test_restart_drops_bad_records, reset),
		cmocka_unit_test_setup(test_restart_migrates_version_1, reset),
		cmocka_unit_test_setup(test_long_callid_dialog, reset),
#ifdef CONFIG_SIMPLED_OFFLINE
		cmocka_unit_test_setup(test_publish_open_delivers_offline, reset),
#endif
		cmocka_unit_test_setup(test_slow_notify_coalesces, reset),
		cmocka_unit_test_setup(test_compact_event, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
