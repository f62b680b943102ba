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
#include "port.h"
#include "pres_priv.h"
#include "sd.h"
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
/* Fetches whose Call-ID is long and holds a quoted NUL ("a\<NUL>xxx..."):
 * each one's memory comes back when it ends (h_stop() checks no block
 * is left). A Call-ID kept from the budget was once given back to the
 * string arena because its strlen() stopped at the NUL. */
static void test_long_callid_with_nul(void **state)
{
	static char msg[8192];
	struct port_addr srv;
	const char *m;
	size_t o;
	int b, i;

	(void)state;
	h_start(NULL);
	b = h_client(3);
	assert_int_equal(sd_addr_parse(&srv, H_SERVER, 5060), 0);
	for (i = 0; i < 5; i++) {
		o = (size_t)snprintf(msg, sizeof(msg),
			"SUBSCRIBE sip:alice@" D " SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKnul%d\r\n"
			"Max-Forwards: 70\r\nFrom: <sip:bob@" D ">;tag=wb\r\n"
			"To: <sip:alice@" D ">\r\nCSeq: %d SUBSCRIBE\r\n"
			"Contact: <sip:bob@10.0.0.3:5060>\r\n"
			"Event: presence\r\nExpires: 0\r\nCall-ID: \"a\\",
			i, 100 + i);
		msg[o++] = '\0';
		memset(msg + o, 'x', 5000);
		o += 5000;
		o += (size_t)snprintf(msg + o, sizeof(msg) - o,
				      "%d\"\r\nContent-Length: 0\r\n\r\n", i);
		assert_int_equal(port_sendto(b, msg, o, &srv), 0);
		h_run(100);
		while ((m = h_recv(b)) != NULL) {
			if (!strncmp(m, "NOTIFY", 6)) {
				h_answer(b, m, 200);
			} else {
				assert_int_equal(h_status(m), 200);
			}
		}
	}
	h_run(40000);
	h_stop();
}

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

static int sweep_a, sweep_b, sweep_code;

/* alice changes her document while bob watches: the PUBLISH, the NOTIFY
 * and bob's answer to it all run with allocations failing. */
static int publish_exchange(int n, int retry)
{
	char tuple[16];
	int code;

	(void)retry;
	snprintf(tuple, sizeof(tuple), "t%d", n);
	code = publish(sweep_a, 2, "alice", etag, 3600, NULL,
		       pidf("alice", tuple, n & 1));
	if (code == 200) {
		last_etag();
	}
	while (next_notify(sweep_b)) {
	}
	return code;
}

static void test_oom_sweep_publish(void **state)
{
	static const int ok[] = {200, 503, 0};

	(void)state;
	h_start(NULL);
	sweep_a = h_client(2);
	sweep_b = h_client(3);
	assert_int_equal(publish(sweep_a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "t0", 1)), 200);
	last_etag();
	subscribe(sweep_b, 3, "bob", "alice", "presence", 3600, "sw", NULL);
	subscribed(sweep_b);
	assert_true(h_oom_sweep(publish_exchange, NULL, ok) > 5);
	/* Still serving, and bob still follows alice. */
	assert_int_equal(publish(sweep_a, 2, "alice", etag, 3600, NULL,
				 pidf("alice", "after", 1)), 200);
	notify_with(sweep_b, "after");
	h_run(40000);
	h_stop();
}

/* bob subscribes to alice: the SUBSCRIBE, its NOTIFY and bob's answer
 * run with allocations failing. */
static int subscribe_exchange(int n, int retry)
{
	char cid[32];

	(void)retry;
	snprintf(cid, sizeof(cid), "sw%d", n);
	resp[0] = '\0';
	subscribe(sweep_b, 3, "bob", "alice", "presence", 600, cid, NULL);
	while (next_notify(sweep_b)) {
	}
	sweep_code = h_status(resp);
	return sweep_code;
}

/* Its subscription ends, so the sweep does not fill the pool. */
static void subscribe_settle(int n)
{
	char cid[32], tag[64];

	if (sweep_code != 200) {
		return;
	}
	snprintf(cid, sizeof(cid), "sw%d", n);
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	subscribe(sweep_b, 3, "bob", "alice", "presence", 0, cid, tag);
	while (next_notify(sweep_b)) {
	}
	assert_int_equal(h_status(resp), 200);
}

static void test_oom_sweep_subscribe(void **state)
{
	static const int ok[] = {200, 503, 0};

	(void)state;
	h_start(NULL);
	sweep_a = h_client(2);
	sweep_b = h_client(3);
	assert_int_equal(publish(sweep_a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "t0", 1)), 200);
	assert_true(h_oom_sweep(subscribe_exchange, subscribe_settle, ok) >
		    5);
	h_run(40000);
	assert_int_equal(pres_sub_count(), 0);
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

/*
 * A watcher's pending subscription is its presentity's last reference (no
 * document, no other watcher: registration-driven presence) when the
 * presentity decides on it: allow, block and polite-block each leave the
 * daemon serving, and the presentity goes when the subscription does.
 */
static void decide_on_last_reference(const char *cmd, const char *state)
{
	char text[64];
	const char *n;
	int b, c;

	h_start("config presence\n\toption auth_policy explicit\n");
	b = h_client(3);
	c = h_client(4);
	subscribe(b, 3, "bob", "carol", "presence", 600, "last", NULL);
	n = subscribed(b);
	assert_string_equal(h_hdr(n, "Subscription-State"),
			    "pending;expires=600");
	assert_int_equal(pres_sub_count(), 1);
	snprintf(text, sizeof(text), "%s bob@" D, cmd);
	assert_int_equal(command(c, 4, "carol", text), 200);
	n = next_notify(b);
	assert_non_null(n);
	assert_non_null(strstr(h_hdr(n, "Subscription-State"), state));
	/* Still serving: a second decision, a SUBSCRIBE, a PUBLISH. */
	assert_int_equal(command(c, 4, "carol", text), 200);
	next_notify(b);
	assert_int_equal(publish(c, 4, "carol", NULL, 600, NULL,
				 pidf("carol", "t", 1)), 200);
	next_notify(b);
	h_run(40000);
	h_stop();
}

static void test_allow_last_reference(void **state)
{
	(void)state;
	decide_on_last_reference("allow", "active");
}

static void test_block_last_reference(void **state)
{
	(void)state;
	decide_on_last_reference("block", "terminated;reason=rejected");
	assert_int_equal(pres_sub_count(), 0);
}

static void test_polite_block_last_reference(void **state)
{
	(void)state;
	decide_on_last_reference("polite-block", "active");
}

/* ------------------------------------------------------------ privacy */

/* alice's document, with a note only those she allows may read. */
static const char *secret_pidf(const char *note)
{
	static char b[512];

	snprintf(b, sizeof(b),
		 "<?xml version=\"1.0\"?>"
		 "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		 "entity=\"sip:alice@" D "\"><tuple id=\"desk\"><status>"
		 "<basic>open</basic></status><note>%s</note></tuple>"
		 "</presence>", note);
	return b;
}

/* Every NOTIFY queued at sock is answered 200 and holds no "secret";
 * the last one is kept in notify_buf. @return how many there were. */
static unsigned none_secret(int sock)
{
	unsigned n = 0;
	const char *m;

	while ((m = next_notify(sock)) != NULL) {
		n++;
		if (strstr(m, "secret")) {
			fprintf(stderr, "leaked:\n%s\n", m);
		}
		assert_null(strstr(m, "secret"));
	}
	return n;
}

/* A NOTIFY that tells no state: no body at all. */
static void stateless(const char *n, const char *sub_state)
{
	assert_non_null(n);
	assert_null(strstr(n, "secret"));
	assert_null(h_hdr(n, "Content-Type"));
	assert_string_equal(h_body(n), "");
	assert_string_equal(h_hdr(n, "Subscription-State"), sub_state);
}

/*
 * A watcher alice has not allowed never sees her state (RFC 3856 6.6):
 * not by a fetch, not while pending, not in the NOTIFY that ends its
 * subscription (unsubscribe, expiry, rejection); polite-blocked, only a
 * neutral document; nor her winfo or message-summary. carol, allowed,
 * does see it: the note is there to be leaked.
 */
static void test_unapproved_sees_nothing(void **state)
{
	const char *n;
	char tag[64];
	int a, b, c, d;

	(void)state;
	h_start("config presence\n\toption auth_policy explicit\n");
	a = h_client(2);
	b = h_client(3);
	c = h_client(4);
	d = h_client(5);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 secret_pidf("secret one")), 200);
	last_etag();
	assert_int_equal(command(a, 2, "alice", "allow carol@" D), 200);
	subscribe(c, 4, "carol", "alice", "presence", 3600, "pc", NULL);
	assert_non_null(strstr(subscribed(c), "secret one"));
	/* A fetch: one NOTIFY, terminated, no state. */
	subscribe(b, 3, "bob", "alice", "presence", 0, "pf", NULL);
	stateless(subscribed(b), "terminated;reason=timeout");
	assert_int_equal(none_secret(b), 0);
	/* Pending: no state, nor when alice changes hers. */
	subscribe(b, 3, "bob", "alice", "presence", 600, "pu", NULL);
	stateless(subscribed(b), "pending;expires=600");
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL,
				 secret_pidf("secret two")), 200);
	last_etag();
	notify_with(c, "secret two");
	assert_int_equal(none_secret(b), 0);
	/* A refresh: still pending, still nothing. */
	subscribe(b, 3, "bob", "alice", "presence", 600, "pu", tag);
	stateless(subscribed(b), "pending;expires=600");
	/* Unsubscribe. */
	subscribe(b, 3, "bob", "alice", "presence", 0, "pu", tag);
	stateless(subscribed(b), "terminated");
	/* Expiry. */
	subscribe(b, 3, "bob", "alice", "presence", 60, "pe", NULL);
	stateless(subscribed(b), "pending;expires=60");
	h_run(61000);
	stateless(next_notify(b), "terminated;reason=timeout");
	none_secret(b); /* its resends */
	none_secret(c);
	/* Rejection. */
	subscribe(b, 3, "bob", "alice", "presence", 600, "pr", NULL);
	stateless(subscribed(b), "pending;expires=600");
	assert_int_equal(command(a, 2, "alice", "block bob@" D), 200);
	stateless(next_notify(b), "terminated;reason=rejected");
	assert_int_equal(none_secret(b), 0);
	/* Polite-block: active, a neutral document, to its end. */
	subscribe(d, 5, "dave", "alice", "presence", 600, "pp", NULL);
	stateless(subscribed(d), "pending;expires=600");
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	assert_int_equal(command(a, 2, "alice", "polite-block dave@" D), 200);
	n = next_notify(d);
	assert_non_null(n);
	assert_string_equal(h_hdr(n, "Subscription-State"),
			    "active;expires=600");
	assert_non_null(strstr(n, "<basic>closed</basic>"));
	assert_null(strstr(n, "secret"));
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL,
				 secret_pidf("secret three")), 200);
	notify_with(c, "secret three");
	n = next_notify(d);
	assert_non_null(n);
	assert_null(strstr(n, "secret"));
	subscribe(d, 5, "dave", "alice", "presence", 0, "pp", tag);
	n = subscribed(d);
	assert_string_equal(h_hdr(n, "Subscription-State"), "terminated");
	assert_null(strstr(n, "secret"));
	/* Her watcher list and her message count are hers only. */
	subscribe(d, 5, "dave", "alice", "presence.winfo", 600, "pw", NULL);
	assert_int_not_equal(take_resp(d), 200);
	subscribe(d, 5, "dave", "alice", "message-summary", 600, "pm", NULL);
	assert_int_not_equal(take_resp(d), 200);
	assert_int_equal(none_secret(d), 0);
	assert_int_equal(none_secret(b), 0);
	h_run(40000);
	h_stop();
}

/* Nor after a restart: a pending watcher restored stays without state to
 * its end, and one allowed by yesterday's policy only sees what today's
 * allows (pending under auth_policy explicit). */
static void test_unapproved_sees_nothing_after_restart(void **state)
{
	char tag_b[64], tag_e[64];
	int a, b, e;

	(void)state;
	h_start("config presence\n\toption auth_policy allow_all\n");
	a = h_client(2);
	b = h_client(3);
	e = h_client(6);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 secret_pidf("secret one")), 200);
	last_etag();
	subscribe(e, 6, "erin", "alice", "presence", 3600, "re", NULL);
	assert_non_null(strstr(subscribed(e), "secret one"));
	snprintf(tag_e, sizeof(tag_e), "%s", resp_totag());
	h_restart("config presence\n\toption auth_policy explicit\n");
	a = h_client(2);
	b = h_client(3);
	e = h_client(6);
	assert_int_equal(pres_sub_count(), 1);
	subscribe(b, 3, "bob", "alice", "presence", 3600, "rb", NULL);
	stateless(subscribed(b), "pending;expires=3600");
	snprintf(tag_b, sizeof(tag_b), "%s", resp_totag());
	h_restart("config presence\n\toption auth_policy explicit\n");
	a = h_client(2);
	b = h_client(3);
	e = h_client(6);
	assert_int_equal(pres_sub_count(), 2);
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL,
				 secret_pidf("secret two")), 200);
	assert_int_equal(none_secret(b), 0);
	assert_int_equal(none_secret(e), 0);
	subscribe(e, 6, "erin", "alice", "presence", 3600, "re", tag_e);
	stateless(subscribed(e), "pending;expires=3600");
	subscribe(b, 3, "bob", "alice", "presence", 0, "rb", tag_b);
	stateless(subscribed(b), "terminated");
	h_run(3601000);
	stateless(next_notify(e), "terminated;reason=timeout");
	none_secret(e); /* its resends */
	assert_int_equal(pres_sub_count(), 0);
	h_run(40000);
	h_stop();
}

/* -------------------------------------------- NOTIFYs that must wait */

/*
 * Four times more watchers than client transactions: one PUBLISH still
 * reaches every one. The NOTIFYs that find the pool dry wait for
 * transactions to free up (each answer frees one) and are counted.
 */
static void test_notify_waits_for_transactions(void **state)
{
	enum { WATCHERS = 64 };
	static char got[WATCHERS];
	char name[16], cid[16];
	unsigned seen = 0, rounds = 0, i;
	const char *m;
	int a, b;

	(void)state;
	memset(got, 0, sizeof(got));
	h_start("config limits\n\toption client_txns 16\n");
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "before", 1)), 200);
	last_etag();
	for (i = 0; i < WATCHERS; i++) {
		snprintf(name, sizeof(name), "w%u", i);
		snprintf(cid, sizeof(cid), "fan%u", i);
		subscribe(b, 3, name, "alice", "presence", 3600, cid, NULL);
		notify_with(b, "before");
	}
	assert_int_equal(pres_sub_count(), WATCHERS);
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL,
				 pidf("alice", "after", 0)), 200);
	while (seen < WATCHERS && rounds++ < 50) {
		while ((m = next_notify(b)) != NULL) {
			const char *to = h_hdr(m, "To");

			assert_non_null(strstr(m, "after"));
			assert_non_null(to);
			assert_int_equal(sscanf(to, "<sip:w%u@", &i), 1);
			assert_true(i < WATCHERS);
			assert_int_equal(got[i], 0);
			got[i] = 1;
			seen++;
		}
		h_run(10);
	}
	assert_int_equal(seen, WATCHERS);
	assert_true(stat_value("presence_notify_deferred") >=
		    WATCHERS - 16);
	assert_int_equal(stat_value("presence_notify_failed"), 0);
	h_run(40000);
	h_stop();
}

/* A subscription that ends while its NOTIFY waits: the final NOTIFY
 * waits in its place (saying only "terminated"), goes when a transaction
 * frees up, and the subscription is gone after it. */
static void test_final_notify_waits(void **state)
{
	char tag[64];
	const char *n;
	int a, b, c;

	(void)state;
	h_start("config limits\n\toption client_txns 2\n");
	a = h_client(2);
	b = h_client(3);
	c = h_client(4);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "t1", 1)), 200);
	last_etag();
	subscribe(b, 3, "w0", "alice", "presence", 3600, "fw0", NULL);
	notify_with(b, "t1");
	subscribe(b, 3, "w1", "alice", "presence", 3600, "fw1", NULL);
	notify_with(b, "t1");
	/* Two NOTIFYs left unanswered hold both client transactions. */
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL,
				 pidf("alice", "t2", 0)), 200);
	subscribe(c, 4, "w2", "alice", "presence", 3600, "fw2", NULL);
	assert_int_equal(take_resp(c), 200);
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	subscribe(c, 4, "w2", "alice", "presence", 0, "fw2", tag);
	assert_int_equal(take_resp(c), 200);
	assert_null(next_notify(c));
	assert_int_equal(pres_sub_count(), 2);
	/* w0 and w1 answer: w2's last NOTIFY goes. */
	notify_with(b, "t2");
	notify_with(b, "t2");
	h_run(10);
	n = next_notify(c);
	assert_non_null(n);
	assert_string_equal(h_hdr(n, "Subscription-State"), "terminated");
	assert_string_equal(h_body(n), "");
	assert_null(next_notify(c));
	assert_true(stat_value("presence_notify_deferred") >= 2);
	h_run(40000);
	h_stop();
}

/* -------------------------------------------------- in-dialog SUBSCRIBE */

/* A refresh moves the remote target to its Contact (RFC 6665, RFC 3261
 * 12.2); one naming another event package finds no subscription in the
 * dialog (481; an unknown one is 489) and leaves the dialog's own. */
static void test_refresh_target_and_event(void **state)
{
	char tag[64];
	const char *n;
	int a, b, d;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	d = h_client(5);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "t1", 1)), 200);
	last_etag();
	subscribe(b, 3, "bob", "alice", "presence", 600, "tr", NULL);
	n = subscribed(b);
	assert_non_null(strstr(n, "NOTIFY sip:bob@10.0.0.3:5060 "));
	snprintf(tag, sizeof(tag), "%s", resp_totag());
	/* bob's phone moved to 10.0.0.5: the refresh says so. */
	h_request(b, &(struct h_req){.method = "SUBSCRIBE", .n = 3,
		.from = "bob", .from_tag = "wbob", .to = "alice",
		.to_tag = tag, .call_id = "tr", .cseq = ++cseq,
		.event = "presence", .contact = "<sip:bob@10.0.0.5:5060>",
		.hdrs = "Expires: 600\n"});
	h_run(10);
	assert_int_equal(take_resp(b), 200);
	n = next_notify(d);
	assert_non_null(n);
	assert_non_null(strstr(n, "NOTIFY sip:bob@10.0.0.5:5060 "));
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL,
				 pidf("alice", "t2", 0)), 200);
	last_etag();
	notify_with(d, "t2");
	assert_null(next_notify(b));
	/* Another package in this dialog: 481; an unknown one: 489. */
	subscribe(b, 3, "bob", "alice", "presence.winfo", 600, "tr", tag);
	assert_int_equal(take_resp(b), 481);
	subscribe(b, 3, "bob", "alice", "dialog", 600, "tr", tag);
	assert_int_equal(take_resp(b), 489);
	assert_non_null(h_hdr(resp, "Allow-Events"));
	/* The presence subscription lives on, at its new target. */
	assert_int_equal(pres_sub_count(), 1);
	assert_int_equal(publish(a, 2, "alice", etag, 3600, NULL,
				 pidf("alice", "t3", 1)), 200);
	notify_with(d, "t3");
	/* The unsubscribe names 10.0.0.3 again: the last NOTIFY goes there. */
	subscribe(b, 3, "bob", "alice", "presence", 0, "tr", tag);
	assert_int_equal(take_resp(b), 200);
	n = next_notify(b);
	assert_non_null(n);
	assert_string_equal(h_hdr(n, "Subscription-State"), "terminated");
	assert_int_equal(pres_sub_count(), 0);
	h_run(40000);
	h_stop();
}

/* ---------------------------------------------- restored, not trusted */

/* In struct rec_in, a state or decision is given plus one (0: the good
 * subscription's). */
#define R1(v) ((v) + 1)

struct rec_in {
	unsigned ev, state, decision, tp, family;
	const char *callid, *rtag, *ltag, *from, *presentity, *watcher;
	const char *contact, *route;
};

static void put_str16(unsigned char *b, size_t *l, const char *s)
{
	size_t n = strlen(s);

	b[(*l)++] = (unsigned char)(n & 0xff);
	b[(*l)++] = (unsigned char)(n >> 8);
	memcpy(b + *l, s, n);
	*l += n;
}

/* A version 2 record (pres_wb.c) under its own key: callid|rtag|ltag;
 * a field left NULL or 0 takes that of a good subscription. */
static void put_v2(const struct rec_in *r)
{
	static unsigned char b[STORE_REC_MAX];
	int64_t until = port_wall_s() + 600;
	char key[256];
	size_t l = 0;
	unsigned i;

	b[l++] = 2;
	b[l++] = (unsigned char)r->ev;
	b[l++] = (unsigned char)(r->state ? r->state - 1 : PRES_SUB_ACTIVE);
	b[l++] = (unsigned char)(r->decision ? r->decision - 1 : PRES_ALLOW);
	b[l++] = (unsigned char)r->tp;
	b[l++] = (unsigned char)(r->family ? r->family : 4);
	b[l++] = 0xc4; /* port 5060 */
	b[l++] = 0x13;
	memset(b + l, 0, 16);
	memcpy(b + l, "\x0a\x00\x00\x03", 4);
	l += 16;
	memset(b + l, 0, 12); /* CSeqs, winfo version */
	b[l] = 1;
	l += 12;
	for (i = 0; i < 8; i++) {
		b[l++] = (unsigned char)((uint64_t)until >> (8 * i));
	}
	put_str16(b, &l, r->callid);
	put_str16(b, &l, r->rtag ? r->rtag : "wbob");
	put_str16(b, &l, r->ltag ? r->ltag : "lt");
	put_str16(b, &l, r->from ? r->from : "<sip:bob@" D ">;tag=wbob");
	put_str16(b, &l, r->presentity ? r->presentity : "sip:alice@" D);
	put_str16(b, &l, r->watcher ? r->watcher : "bob@" D);
	put_str16(b, &l, r->contact ? r->contact : "sip:bob@10.0.0.3:5060");
	put_str16(b, &l, r->route ? r->route : "");
	snprintf(key, sizeof(key), "%s|%s|%s", r->callid,
		 r->rtag ? r->rtag : "wbob", r->ltag ? r->ltag : "lt");
	assert_int_equal(store_rec_put(STORE_PRES_SUB, key, b, l), 0);
}

/*
 * Records crafted to look like ours are checked, field by field, before
 * a subscription is restored from them: each bad one is dropped (and
 * deleted), the good one beside them lives. A state that would show the
 * presentity's state to a watcher never allowed (active yet undecided) is
 * as bad as a number out of range, and so is a CR LF that would write a
 * header of its own into the NOTIFY.
 */
static void test_restart_checks_subscription_records(void **state)
{
	static const struct rec_in bad[] = {
		{.callid = "ev", .ev = 9},
		{.callid = "st", .state = R1(7)},
		{.callid = "de", .decision = R1(9)},
		{.callid = "tp", .tp = 5},
		{.callid = "af", .family = 9},
		{.callid = "leak", .decision = R1(PRES_UNDECIDED)},
		{.callid = "pa", .state = R1(PRES_SUB_PENDING)},
		{.callid = "te", .state = R1(PRES_SUB_TERMINATED)},
		{.callid = "blk", .decision = R1(PRES_BLOCK)},
		{.callid = "wi", .ev = PRES_EV_WINFO},
		{.callid = "crlf",
		 .contact = "sip:bob@10.0.0.3\r\nX-Injected: 1"},
		{.callid = "route", .route = "Via: x\r\n"},
		{.callid = "nowatcher", .watcher = "bob"},
		{.callid = "sp ace"},
	};
	unsigned char rec[STORE_REC_MAX];
	char key[64];
	const char *n;
	size_t vl, i;
	int a, b;

	(void)state;
	h_start(NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_v2(&bad[i]);
	}
	put_v2(&(struct rec_in){.callid = "good"});
	h_restart(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(pres_sub_count(), 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(key, sizeof(key), "%s|wbob|lt", bad[i].callid);
		assert_int_equal(store_rec_get(STORE_PRES_SUB, key, rec,
					       sizeof(rec), &vl), ENOENT);
	}
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
				 pidf("alice", "t", 1)), 200);
	n = next_notify(b);
	assert_non_null(n);
	assert_string_equal(h_hdr(n, "Call-ID"), "good");
	assert_null(strstr(n, "X-Injected"));
	assert_null(next_notify(b));
	h_run(40000);
	h_stop();
}

/* More records than the pool holds: those that fit are restored, the
 * rest are not (and logged), and the daemon serves on. */
static void test_restart_more_records_than_pool(void **state)
{
	char cid[16];
	unsigned i, seen = 0;
	int a, b;

	(void)state;
	h_start(NULL);
	for (i = 0; i < 5; i++) {
		snprintf(cid, sizeof(cid), "many%u", i);
		put_v2(&(struct rec_in){.callid = cid});
	}
	h_restart("config limits\n\toption subscriptions 3\n");
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(pres_sub_count(), 3);
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
				 pidf("alice", "t", 1)), 200);
	while (next_notify(b)) {
		seen++;
	}
	assert_int_equal(seen, 3);
	subscribe(b, 3, "carol", "alice", "presence", 600, "full", NULL);
	assert_int_equal(take_resp(b), 503);
	h_run(40000);
	h_stop();
}

/* Authorization rules are records too: one that is not a decision this
 * build writes (a value out of range, two bytes, a key without a
 * watcher) is dropped at start and never taken for one. */
static void test_restart_checks_rule_records(void **state)
{
	unsigned char v[4];
	size_t vl;
	int b, c, e;

	(void)state;
	h_start("config presence\n\toption auth_policy explicit\n");
	assert_int_equal(store_rec_put(STORE_PRES_RULE,
				       "alice@" D "\x1f" "bob@" D, "\x07", 1),
			 0);
	assert_int_equal(store_rec_put(STORE_PRES_RULE,
				       "alice@" D "\x1f" "carol@" D,
				       "\x01\x01", 2), 0);
	assert_int_equal(store_rec_put(STORE_PRES_RULE, "alice@" D,
				       "\x02", 1), 0);
	assert_int_equal(store_rec_put(STORE_PRES_RULE,
				       "alice@" D "\x1f" "erin@" D, "\x01", 1),
			 0);
	h_restart("config presence\n\toption auth_policy explicit\n");
	b = h_client(3);
	c = h_client(4);
	e = h_client(6);
	assert_int_equal(store_rec_get(STORE_PRES_RULE,
				       "alice@" D "\x1f" "bob@" D, v,
				       sizeof(v), &vl), ENOENT);
	assert_int_equal(store_rec_get(STORE_PRES_RULE,
				       "alice@" D "\x1f" "carol@" D, v,
				       sizeof(v), &vl), ENOENT);
	assert_int_equal(store_rec_get(STORE_PRES_RULE, "alice@" D, v,
				       sizeof(v), &vl), ENOENT);
	subscribe(b, 3, "bob", "alice", "presence", 600, "rb", NULL);
	assert_string_equal(h_hdr(subscribed(b), "Subscription-State"),
			    "pending;expires=600");
	subscribe(c, 4, "carol", "alice", "presence", 600, "rc", NULL);
	assert_string_equal(h_hdr(subscribed(c), "Subscription-State"),
			    "pending;expires=600");
	subscribe(e, 6, "erin", "alice", "presence", 600, "re", NULL);
	assert_string_equal(h_hdr(subscribed(e), "Subscription-State"),
			    "active;expires=600");
	h_run(40000);
	h_stop();
}

#define PIDF_NS "urn:ietf:params:xml:ns:pidf"
#define DM_NS "urn:ietf:params:xml:ns:pidf:data-model"

/* The body of a NOTIFY is a PIDF document the checker accepts. */
static const char *pidf_body_ok(const char *n)
{
	const char *b = h_body(n), *why = NULL;

	if (pres_xml_check(b, strlen(b), &why) ||
	    !pres_pidf_is(b, strlen(b))) {
		fprintf(stderr, "%s\n%s\n", why ? why : "not PIDF", b);
		fail();
	}
	return b;
}

/*
 * Comments and processing instructions may follow the root element; the
 * aggregate took everything up to the last "</" for the root's content,
 * so one holding "</" spliced the rest of the document into it.
 */
static void test_aggregate_after_root_markup(void **state)
{
	const char *n;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
		"<presence xmlns=\"" PIDF_NS "\"><tuple id=\"t1\"><status>"
		"<basic>open</basic></status></tuple></presence>\n"
		"<!-- </presence> --><?pi </tuple>?>\n"), 200);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "t2", 0)), 200);
	subscribe(b, 3, "bob", "alice", "presence", 600, "am", NULL);
	n = subscribed(b);
	pidf_body_ok(n);
	assert_non_null(strstr(n, "<tuple id=\"t1\">"));
	assert_non_null(strstr(n, "<tuple id=\"t2\">"));
	assert_null(strstr(n, "<?pi"));
	h_run(40000);
	h_stop();
}

/*
 * Two documents bind dm differently, and one binds the data model's
 * namespace to d as well. Hoisting every root's declarations (the first
 * binding of a prefix winning) gave the second document's dm the first
 * one's namespace: its <dm:x dm:a d:a> then had the same attribute twice.
 * Each document keeps its own bindings.
 */
static void test_aggregate_prefix_conflicts(void **state)
{
	const char *n;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
		"<presence xmlns=\"" PIDF_NS "\" xmlns:d=\"" DM_NS "\" "
		"xmlns:dm=\"urn:example:other\" entity=\"sip:alice@" D "\">"
		"<tuple id=\"t2\"><status><basic>open</basic></status>"
		"</tuple><dm:x dm:a=\"1\" d:a=\"2\"/></presence>"), 200);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
		"<presence xmlns=\"" PIDF_NS "\" xmlns:dm=\"" DM_NS "\" "
		"entity=\"sip:alice@" D "\"><dm:person id=\"p1\"/>"
		"<tuple id=\"t1\"><status><basic>open</basic></status>"
		"</tuple></presence>"), 200);
	/* The same namespace under yet another prefix, and a document
	 * whose default namespace is not PIDF's. */
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
		"<p:presence xmlns:p=\"" PIDF_NS "\" xmlns=\"urn:example:x\" "
		"xmlns:data=\"" DM_NS "\"><data:person id=\"p2\"/>"
		"<p:tuple id=\"t3\"><p:status><p:basic>closed</p:basic>"
		"</p:status><e/></p:tuple></p:presence>"), 200);
	subscribe(b, 3, "bob", "alice", "presence", 600, "pc", NULL);
	n = subscribed(b);
	pidf_body_ok(n);
	assert_non_null(strstr(n, "<dm:x xmlns:dm=\"urn:example:other\" "));
	assert_non_null(strstr(n, "<p:tuple xmlns=\"urn:example:x\" "));
	assert_non_null(strstr(n, "<dm:person id=\"p1\"/>"));
	h_run(40000);
	h_stop();
}

/*
 * More declarations than the aggregate's root held (1024 bytes): those
 * past it were dropped, leaving their prefixes unbound.
 */
static void test_aggregate_many_declarations(void **state)
{
	static char doc[2048];
	char decl[64];
	const char *n;
	int a, b, i, k;
	size_t l;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	for (i = 0; i < 3; i++) {
		l = (size_t)snprintf(doc, sizeof(doc), "<presence xmlns=\""
				     PIDF_NS "\"");
		for (k = 0; k < 5; k++) {
			l += (size_t)snprintf(doc + l, sizeof(doc) - l,
				" xmlns:p%d%d=\"urn:example:a-rather-long-"
				"namespace-name-to-fill-the-root:%d:%d\"", i,
				k, i, k);
		}
		l += (size_t)snprintf(doc + l, sizeof(doc) - l, ">");
		for (k = 0; k < 5; k++) {
			l += (size_t)snprintf(doc + l, sizeof(doc) - l,
					      "<p%d%d:e/>", i, k);
		}
		snprintf(doc + l, sizeof(doc) - l, "</presence>");
		assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
					 doc), 200);
	}
	subscribe(b, 3, "bob", "alice", "presence", 600, "md", NULL);
	n = subscribed(b);
	pidf_body_ok(n);
	for (i = 0; i < 3; i++) {
		for (k = 0; k < 5; k++) {
			snprintf(decl, sizeof(decl), "xmlns:p%d%d=\"", i, k);
			assert_non_null(strstr(n, decl));
			snprintf(decl, sizeof(decl), "<p%d%d:e", i, k);
			assert_non_null(strstr(n, decl));
		}
	}
	h_run(40000);
	h_stop();
}

/* The presentity's URI goes into the entity attribute escaped. */
static void test_aggregate_entity_escaped(void **state)
{
	const char *n;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	subscribe(b, 3, "bob", "a&b", "presence", 600, "ee", NULL);
	n = subscribed(b);
	pidf_body_ok(n);
	assert_non_null(strstr(n, "entity=\"sip:a&amp;b@" D "\""));
	assert_int_equal(publish(a, 2, "a&b", NULL, 3600, NULL,
				 pidf("x", "t1", 1)), 200);
	n = notify_with(b, "<tuple id=\"t1\">");
	pidf_body_ok(n);
	assert_non_null(strstr(n, "entity=\"sip:a&amp;b@" D "\""));
	h_run(40000);
	h_stop();
}

/*
 * Tuple ids were taken from anything that looked like a tuple tag, in
 * comments and CDATA too, and written back unchecked as closed tuples
 * once the document went.
 */
static void test_closed_tuples_only_real_ones(void **state)
{
	char e1[64];
	const char *n;
	int a, b;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
		"<presence xmlns=\"" PIDF_NS "\"><!-- <tuple id=\"x&y\"/> -->"
		"<tuple id=\"real\"><status><basic>open</basic></status>"
		"<note><![CDATA[<tuple id=\"c&d\">]]></note></tuple>"
		"</presence>"), 200);
	snprintf(e1, sizeof(e1), "%s", last_etag());
	subscribe(b, 3, "bob", "alice", "presence", 600, "ct", NULL);
	assert_non_null(subscribed(b));
	assert_int_equal(publish(a, 2, "alice", e1, 0, NULL, NULL), 200);
	n = notify_with(b, "<tuple id=\"real\"><status><basic>closed");
	pidf_body_ok(n);
	assert_null(strstr(n, "x&y"));
	assert_null(strstr(n, "c&d"));
	h_run(40000);
	h_stop();
}

/* PUBLISH from client n of a body of len bytes, as it is. */
static int publish_raw(int sock, int n, const char *user, const char *body,
		       size_t len)
{
	static char msg[4096];
	struct port_addr srv;
	size_t l;

	l = (size_t)snprintf(msg, sizeof(msg),
		"PUBLISH sip:%s@" D " SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.%d:5060;branch=z9hG4bK%s\r\n"
		"Max-Forwards: 70\r\nFrom: <sip:%s@" D ">;tag=p\r\n"
		"To: <sip:%s@" D ">\r\nCall-ID: raw-%s\r\n"
		"CSeq: %u PUBLISH\r\nEvent: presence\r\nExpires: 600\r\n"
		"Content-Type: application/pidf+xml\r\n"
		"Content-Length: %zu\r\n\r\n", user, n, h_token(), user,
		user, h_token(), ++cseq, len);
	assert_true(l + len < sizeof(msg));
	memcpy(msg + l, body, len);
	assert_int_equal(sd_addr_parse(&srv, H_SERVER, 5060), 0);
	assert_int_equal(port_sendto(sock, msg, l + len, &srv), 0);
	h_run(10);
	return take_resp(sock);
}

/* A body that is not UTF-8 or holds a NUL is refused, and says which. */
static void test_publish_body_encoding(void **state)
{
	static const char nul[] = "<presence xmlns=\"" PIDF_NS "\"><tuple "
		"id=\"t\"><status><basic>open</basic></status><note>a\0b"
		"</note></tuple></presence>";
	static const char *const bad[] = {
		"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe2\x82",
	};
	char doc[512];
	size_t i;
	int a;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	assert_int_equal(publish_raw(a, 2, "alice", nul, sizeof(nul) - 1),
			 400);
	assert_non_null(strstr(resp, "400 Body holds a NUL byte\r\n"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(doc, sizeof(doc), "<presence xmlns=\"" PIDF_NS "\">"
			 "<tuple id=\"t\"><status><basic>open</basic>"
			 "</status><note>%s</note></tuple></presence>",
			 bad[i]);
		assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL, doc),
				 400);
		assert_non_null(strstr(resp,
				       "400 Body is not valid UTF-8\r\n"));
	}
	/* UTF-8 is taken, up to U+10FFFF. */
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
		"<presence xmlns=\"" PIDF_NS "\"><tuple id=\"t\"><status>"
		"<basic>open</basic></status><note>\xc3\xa9\xe2\x82\xac"
		"\xf4\x8f\xbf\xbd</note></tuple></presence>"), 200);
	assert_int_equal(pres_doc_count(), 1);
	h_stop();
}

/* What PUBLISH takes is a PIDF document: its root is presence in
 * PIDF's namespace, and it is well formed with namespaces. */
static void test_publish_refuses_what_cannot_merge(void **state)
{
	int a;

	(void)state;
	h_start(NULL);
	a = h_client(2);
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
		"<presence><tuple id=\"t\"/></presence>"), 400);
	assert_non_null(strstr(resp, "400 Body is not a PIDF document\r\n"));
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
		"<presence xmlns=\"" PIDF_NS "\"><dm:person/></presence>"),
		400);
	assert_non_null(strstr(resp, "400 XML: unbound namespace prefix\r\n"));
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
		"<presence xmlns=\"" PIDF_NS "\"><note>&nbsp;</note>"
		"</presence>"), 400);
	assert_non_null(strstr(resp, "400 XML: undefined entity\r\n"));
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
		"<presence xmlns=\"" PIDF_NS "\"><tuple id=\"a&b\"/>"
		"</presence>"), 400);
	assert_non_null(strstr(resp, "400 XML: malformed entity reference"));
	assert_int_equal(publish(a, 2, "alice", NULL, 600, NULL,
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
		"<presence xmlns=\"" PIDF_NS "\"/>"), 400);
	assert_non_null(strstr(resp, "400 XML: encoding is not UTF-8\r\n"));
	assert_int_equal(pres_doc_count(), 0);
	h_stop();
}

/*
 * A document stored by a build that checked less is checked again when
 * it is merged, and left out when it fails: the other documents still go
 * out in a well-formed aggregate.
 */
static void test_aggregate_skips_stored_bad_document(void **state)
{
	static const char bad[] = "<presence xmlns=\"" PIDF_NS "\"><tuple "
		"id=\"old\"><note>&foo;</note></tuple><p:x/></presence>";
	char rec[512];
	int64_t until;
	size_t tl = strlen(PRES_PIDF_TYPE) + 1;
	const char *n;
	int a, b;

	(void)state;
	h_start(NULL);
	until = port_wall_s() + 3600;
	memcpy(rec, &until, 8);
	memcpy(rec + 8, PRES_PIDF_TYPE, tl);
	memcpy(rec + 8 + tl, bad, sizeof(bad) - 1);
	assert_int_equal(store_rec_put(STORE_PRES_DOC, "alice@" D
				       "\x1f" "0123456789", rec,
				       8 + tl + sizeof(bad) - 1), 0);
	h_restart(NULL);
	a = h_client(2);
	b = h_client(3);
	assert_int_equal(pres_doc_count(), 1);
	assert_int_equal(publish(a, 2, "alice", NULL, 3600, NULL,
				 pidf("alice", "new", 1)), 200);
	subscribe(b, 3, "bob", "alice", "presence", 600, "sb", NULL);
	n = subscribed(b);
	pidf_body_ok(n);
	assert_non_null(strstr(n, "<tuple id=\"new\">"));
	assert_null(strstr(n, "&foo;"));
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
		cmocka_unit_test_setup(test_long_callid_with_nul, reset),
		cmocka_unit_test_setup(test_long_callid_dialog, reset),
		cmocka_unit_test_setup(test_oom_sweep_publish, reset),
		cmocka_unit_test_setup(test_oom_sweep_subscribe, reset),
#ifdef CONFIG_SIMPLED_OFFLINE
		cmocka_unit_test_setup(test_publish_open_delivers_offline, reset),
#endif
		cmocka_unit_test_setup(test_slow_notify_coalesces, reset),
		cmocka_unit_test_setup(test_compact_event, reset),
		cmocka_unit_test_setup(test_allow_last_reference, reset),
		cmocka_unit_test_setup(test_block_last_reference, reset),
		cmocka_unit_test_setup(test_polite_block_last_reference, reset),
		cmocka_unit_test_setup(test_unapproved_sees_nothing, reset),
		cmocka_unit_test_setup(test_unapproved_sees_nothing_after_restart, reset),
		cmocka_unit_test_setup(test_notify_waits_for_transactions, reset),
		cmocka_unit_test_setup(test_final_notify_waits, reset),
		cmocka_unit_test_setup(test_refresh_target_and_event, reset),
		cmocka_unit_test_setup(test_restart_checks_subscription_records, reset),
		cmocka_unit_test_setup(test_restart_more_records_than_pool, reset),
		cmocka_unit_test_setup(test_restart_checks_rule_records, reset),
		cmocka_unit_test_setup(test_aggregate_after_root_markup, reset),
		cmocka_unit_test_setup(test_aggregate_prefix_conflicts, reset),
		cmocka_unit_test_setup(test_aggregate_many_declarations, reset),
		cmocka_unit_test_setup(test_aggregate_entity_escaped, reset),
		cmocka_unit_test_setup(test_closed_tuples_only_real_ones, reset),
		cmocka_unit_test_setup(test_publish_body_encoding, reset),
		cmocka_unit_test_setup(test_publish_refuses_what_cannot_merge, reset),
		cmocka_unit_test_setup(test_aggregate_skips_stored_bad_document, reset),
	};

	if (getenv("PRES_TEST")) { /* one test (a pattern), when debugging */
		cmocka_set_test_filter(getenv("PRES_TEST"));
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
