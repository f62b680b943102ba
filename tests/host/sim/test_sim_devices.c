/** @file test_sim_devices.c  Messaging to a user's devices on virtual
 * time (RFC 5626 +sip.instance): every registered device gets a MESSAGE,
 * a device that is off or fails gets it from the store when it is back,
 * once and in order, across a restart; devices without an instance are
 * not remembered; copies of sent messages reach the sender's other
 * devices; the history service replays what a device missed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "offline.h"
#include "stat.h"

#define ALICE "alice@" H_DOMAIN
#define INST_A "<urn:uuid:00000000-0000-1000-8000-00000000000a>"
#define INST_B "<urn:uuid:00000000-0000-1000-8000-00000000000b>"
#define INST_C "<urn:uuid:00000000-0000-1000-8000-00000000000c>"

/* alice keeps her password in the file; bob too. */
#define ACCOUNTS                                                         \
	"config simpled 'main'\n\toption open_registration '0'\n"         \
	"config user\n\toption name alice\n\toption password wonder\n"    \
	"config user\n\toption name bob\n\toption password hunter2\n"

static char resp[8192];

/* The next answer at c into resp; its status (0: none). */
static int answer_at(int c)
{
	const char *r = h_wait(c);

	snprintf(resp, sizeof(resp), "%s", r ? r : "");
	return h_status(resp);
}

/* r sent from c, and again with credentials of user if challenged;
 * the final status. */
static int send_authed(int c, struct h_req *r, const char *user,
		       const char *password, const char *uri)
{
	char hdrs[1400];
	const char *extra = r->hdrs ? r->hdrs : "";
	int code;

	h_request(c, r);
	code = answer_at(c);
	if (code != 401 && code != 407) {
		return code;
	}
	snprintf(hdrs, sizeof(hdrs), "%s%s", extra,
		 h_digest(resp, 0, user, password, r->method, uri, 1));
	r->hdrs = hdrs;
	r->cseq = r->cseq ? r->cseq + 1 : 2;
	h_request(c, r);
	return answer_at(c);
}

/* REGISTER user's device inst ("" none) at client n; the status. */
static int reg_dev(int c, int n, const char *user, const char *inst,
		   int expires)
{
	static unsigned cseq = 100;
	char contact[200], cid[48], hdrs[32];
	const char *pw = !strcmp(user, "alice") ? "wonder" : "hunter2";

	snprintf(contact, sizeof(contact), "<sip:%s@10.0.0.%d:5060>%s%s%s",
		 user, n, inst[0] ? ";+sip.instance=\"" : "", inst,
		 inst[0] ? "\"" : "");
	snprintf(cid, sizeof(cid), "dev-%s-%d", user, n);
	snprintf(hdrs, sizeof(hdrs), "Expires: %d\n", expires);
	cseq += 2;
	return send_authed(c, &(struct h_req){.method = "REGISTER", .n = n,
		.from = user, .call_id = cid, .cseq = cseq,
		.contact = contact, .hdrs = hdrs}, user, pw,
		"sip:" H_DOMAIN);
}

/* A MESSAGE from `from` at client n to user `to`, sent; the status is
 * read later (send_wait()) or not at all. */
static void msg_from(int c, int n, const char *from, const char *to,
		     const char *tok, const char *ctype, const char *body)
{
	char tag[32], cid[32];

	snprintf(tag, sizeof(tag), "t%s", tok);
	snprintf(cid, sizeof(cid), "c%s", tok);
	h_request(c, &(struct h_req){.method = "MESSAGE", .n = n,
		.from = from, .to = to, .from_tag = tag, .call_id = cid,
		.branch = tok, .ctype = ctype, .body = body});
}

/* The same, answering a challenge; the final status comes after the
 * devices answered (msg_status()). */
static void msg_authed(int c, int n, const char *from, const char *to,
		       const char *tok, const char *body)
{
	char tag[32], cid[32], uri[64], hdrs[1400];
	const char *pw = !strcmp(from, "alice") ? "wonder" : "hunter2";

	snprintf(tag, sizeof(tag), "t%s", tok);
	snprintf(cid, sizeof(cid), "c%s", tok);
	snprintf(uri, sizeof(uri), "sip:%s@" H_DOMAIN, to);
	h_request(c, &(struct h_req){.method = "MESSAGE", .n = n,
		.from = from, .to = to, .from_tag = tag, .call_id = cid,
		.body = body});
	assert_int_equal(answer_at(c), 407);
	snprintf(hdrs, sizeof(hdrs), "%s",
		 h_digest(resp, 0, from, pw, "MESSAGE", uri, 1));
	h_request(c, &(struct h_req){.method = "MESSAGE", .n = n,
		.from = from, .to = to, .from_tag = tag, .call_id = cid,
		.cseq = 2, .hdrs = hdrs, .body = body});
}

/* The final answer the sender at c got. */
static int msg_status(int c)
{
	int code;

	h_run(10);
	do {
		code = answer_at(c);
	} while (code && code < 200);
	return code;
}

/* What device c received within 10 ms: a MESSAGE holding text. */
static const char *gets(int c, const char *text)
{
	const char *r;

	h_run(10);
	r = h_recv(c);
	assert_non_null(r);
	assert_int_equal(strncmp(r, "MESSAGE ", 8), 0);
	assert_non_null(strstr(h_body(r), text));
	return r;
}

/* Device c received nothing within 10 ms. */
static void gets_nothing(int c)
{
	h_run(10);
	assert_null(h_recv(c));
}

static void got(int c, const char *text, int code)
{
	h_answer(c, gets(c, text), code);
	h_run(10);
}

/* bob at client 3; alice's devices A, B and C at clients 2, 4, 5. */
static int bob, a, b, c;

static void start(const char *cfg)
{
	h_start(cfg);
	bob = h_client(3);
	a = h_client(2);
	b = h_client(4);
	c = h_client(5);
}

/* Both of alice's devices registered. */
static void two_devices(void)
{
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 600), 200);
}

/* Both registered devices get it; the sender gets 200 and nothing is
 * kept for later. Each copy names the message's place in the history. */
static void test_every_device_gets_it(void **state)
{
	const char *ra, *rb;
	char ida[32];

	(void)state;
	start(NULL);
	two_devices();
	msg_from(bob, 3, "bob", "alice", "m1", NULL, "hello both");
	ra = gets(a, "hello both");
	assert_non_null(h_hdr(ra, "History-Id"));
	snprintf(ida, sizeof(ida), "%s", h_hdr(ra, "History-Id"));
	h_answer(a, ra, 200);
	rb = gets(b, "hello both");
	assert_string_equal(h_hdr(rb, "History-Id"), ida);
	h_answer(b, rb, 200);
	assert_int_equal(msg_status(bob), 200);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("offline_device_copies"), 0);
	h_run(40000);
	h_stop();
}

/* The history entry of a message every device took is committed lazily
 * (lazy_commit_ms), not within the commit window; a copy kept for a device
 * is committed within the window before the 200. */
static void test_history_commits_lazily(void **state)
{
	unsigned long commits;

	(void)state;
	start(NULL);
	two_devices();
	h_run(1000);
	commits = stat_value("store_commits");
	msg_from(bob, 3, "bob", "alice", "l1", NULL, "lazy");
	got(a, "lazy", 200);
	got(b, "lazy", 200);
	assert_int_equal(msg_status(bob), 200);
	h_run(20);
	assert_int_equal(stat_value("store_commits"), commits);
	h_run(100);
	assert_int_equal(stat_value("store_commits"), commits + 1);
	/* B off: its copy is a promise, committed before bob's 200. */
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 0), 200);
	h_run(200);
	commits = stat_value("store_commits");
	msg_from(bob, 3, "bob", "alice", "l2", NULL, "kept for b");
	h_run(5);
	assert_int_equal(stat_value("store_commits"), commits + 1);
	got(a, "kept for b", 200);
	assert_int_equal(msg_status(bob), 200);
	h_run(40000);
	h_stop();
}

/* A device that unregistered gets what came meanwhile when it is back,
 * once; the one online had it at once, and the sender had 200. */
static void test_device_off_gets_it_once(void **state)
{
	const char *r;

	(void)state;
	start(NULL);
	two_devices();
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 0), 200);
	msg_from(bob, 3, "bob", "alice", "m1", NULL, "while b was off");
	got(a, "while b was off", 200);
	assert_int_equal(msg_status(bob), 200);
	gets_nothing(b);
	assert_int_equal(offline_count(ALICE), 1);
	h_run(60000);
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 600), 200);
	r = gets(b, "while b was off");
	assert_non_null(h_hdr(r, "Date"));
	assert_non_null(h_hdr(r, "History-Id"));
	h_answer(b, r, 200);
	h_run(10);
	assert_int_equal(offline_count(ALICE), 0);
	/* A refresh sends nothing again, to either. */
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 600), 200);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	gets_nothing(b);
	gets_nothing(a);
	h_run(40000);
	h_stop();
}

/* A device that answers as unreachable gets it again when it next
 * registers; the
 * other device's 2xx is the sender's answer. Meanwhile later messages
 * for it wait behind, so it gets them in order. */
static void test_failed_device_gets_it_later_in_order(void **state)
{

	(void)state;
	start(NULL);
	two_devices();
	msg_from(bob, 3, "bob", "alice", "m1", NULL, "first");
	got(a, "first", 200);
	h_answer(b, gets(b, "first"), 480);
	assert_int_equal(msg_status(bob), 200);
	assert_int_equal(offline_count(ALICE), 1);
	/* B has a backlog now: the second waits behind the first. */
	msg_from(bob, 3, "bob", "alice", "m2", NULL, "second");
	got(a, "second", 200);
	assert_int_equal(msg_status(bob), 200);
	gets_nothing(b);
	/* Its next registration (a refresh here) brings both, in order. */
	h_run(60000);
	gets_nothing(b);
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 600), 200);
	got(b, "first", 200);
	got(b, "second", 200);
	gets_nothing(b);
	gets_nothing(a);
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

/* Both devices off: 202, a copy for each, delivered to each in order;
 * and across a restart. */
static void test_all_off_then_restart(void **state)
{

	(void)state;
	start(NULL);
	two_devices();
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 0), 200);
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 0), 200);
	msg_from(bob, 3, "bob", "alice", "m1", NULL, "one");
	assert_int_equal(msg_status(bob), 202);
	msg_from(bob, 3, "bob", "alice", "m2", NULL, "two");
	assert_int_equal(msg_status(bob), 202);
	assert_int_equal(offline_count(ALICE), 2);
	assert_int_equal(stat_value("offline_device_copies"), 4);
	h_restart(NULL);
	bob = h_client(3);
	a = h_client(2);
	b = h_client(4);
	assert_int_equal(offline_count(ALICE), 2);
	/* Remembered across the restart: a third one is kept for both. */
	msg_from(bob, 3, "bob", "alice", "m3", NULL, "three");
	assert_int_equal(msg_status(bob), 202);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	got(a, "one", 200);
	got(a, "two", 200);
	got(a, "three", 200);
	gets_nothing(a);
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 600), 200);
	got(b, "one", 200);
	got(b, "two", 200);
	got(b, "three", 200);
	gets_nothing(b);
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

/* A contact without an instance is no device to remember: once its
 * binding ended it gets nothing of what another device took. With no
 * device at all, msilo's model holds: kept for whoever comes first. */
static void test_contact_without_instance_forgotten(void **state)
{

	(void)state;
	start(NULL);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	assert_int_equal(reg_dev(c, 5, "alice", "", 600), 200);
	assert_int_equal(reg_dev(c, 5, "alice", "", 0), 200);
	msg_from(bob, 3, "bob", "alice", "m1", NULL, "for a only");
	got(a, "for a only", 200);
	assert_int_equal(msg_status(bob), 200);
	assert_int_equal(reg_dev(c, 5, "alice", "", 600), 200);
	gets_nothing(c);
	assert_int_equal(offline_count(ALICE), 0);
	/* carol has only contacts without an instance. */
	assert_int_equal(reg_dev(c, 5, "carol", "", 600), 200);
	assert_int_equal(reg_dev(c, 5, "carol", "", 0), 200);
	msg_from(bob, 3, "bob", "carol", "m2", NULL, "msilo");
	assert_int_equal(msg_status(bob), 202);
	assert_int_equal(reg_dev(c, 5, "carol", "", 600), 200);
	got(c, "msilo", 200);
	h_run(40000);
	h_stop();
}

/* A device forgotten after device_memory gets nothing more, and what it
 * was waiting for goes. */
static void test_device_forgotten_after_memory(void **state)
{

	(void)state;
	start("config offline\n\toption device_memory '600'\n"
	      "\toption check_time '10'\n\toption clean_period '1'\n");
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 0), 200);
	msg_from(bob, 3, "bob", "alice", "m1", NULL, "kept a while");
	assert_int_equal(msg_status(bob), 202);
	assert_int_equal(offline_count(ALICE), 1);
	h_run(620000);
	assert_int_equal(offline_count(ALICE), 0);
	assert_int_equal(stat_value("devices_forgotten"), 1);
	/* Nobody to keep it for now but msilo's queue. */
	msg_from(bob, 3, "bob", "alice", "m2", NULL, "any device");
	assert_int_equal(msg_status(bob), 202);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	got(a, "any device", 200);
	gets_nothing(a);
	h_run(40000);
	h_stop();
}

/* What alice sends from one device reaches her other devices, marked,
 * with From and To as sent; one that is off gets it when it is back. */
static void test_sent_copies(void **state)
{
	const char *r;

	(void)state;
	start(ACCOUNTS);
	assert_int_equal(reg_dev(bob, 3, "bob", "", 600), 200);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 600), 200);
	msg_authed(a, 2, "alice", "bob", "s1", "from my phone");
	got(bob, "from my phone", 200);
	r = gets(b, "from my phone");
	assert_string_equal(h_hdr(r, "Sent-Copy"), "yes");
	assert_non_null(strstr(h_hdr(r, "From"), "alice@"));
	assert_non_null(strstr(h_hdr(r, "To"), "bob@"));
	assert_non_null(h_hdr(r, "History-Id"));
	h_answer(b, r, 200);
	assert_int_equal(msg_status(a), 200);
	gets_nothing(a); /* not back to the device that sent it */
	/* b off: the copy waits for it. */
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 0), 200);
	msg_authed(a, 2, "alice", "bob", "s2", "while b is off");
	got(bob, "while b is off", 200);
	assert_int_equal(msg_status(a), 200);
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 600), 200);
	r = gets(b, "while b is off");
	assert_string_equal(h_hdr(r, "Sent-Copy"), "yes");
	h_answer(b, r, 200);
	gets_nothing(a);
	h_run(40000);
	h_stop();
}

/* Unauthenticated senders' devices get no copies (nothing proves whose
 * they are), nor with sent_copies off. */
static void test_no_sent_copies_unauthenticated(void **state)
{

	(void)state;
	start(NULL);
	assert_int_equal(reg_dev(bob, 3, "bob", "", 600), 200);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	assert_int_equal(reg_dev(b, 4, "alice", INST_B, 600), 200);
	msg_from(a, 2, "alice", "bob", "u1", NULL, "unproven");
	got(bob, "unproven", 200);
	assert_int_equal(msg_status(a), 200);
	gets_nothing(b);
	assert_int_equal(stat_value("message_sent_copies"), 0);
	h_run(40000);
	h_stop();
}

/* A delivery report (IMDN in message/cpim) for a sender whose devices
 * are all off waits for them and arrives byte for byte. */
static void test_report_reaches_offline_sender(void **state)
{
	static const char report[] =
		"From: <sip:bob@" H_DOMAIN ">\r\n"
		"To: <sip:alice@" H_DOMAIN ">\r\n"
		"NS: imdn <urn:ietf:params:imdn>\r\n"
		"imdn.Message-ID: r1\r\n"
		"DateTime: 2026-11-30T10:00:00Z\r\n"
		"\r\n"
		"Content-Type: message/imdn+xml\r\n"
		"Content-Disposition: notification\r\n"
		"\r\n"
		"<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\"><message-id>m9"
		"</message-id><delivery-notification><status><delivered/>"
		"</status></delivery-notification></imdn>";
	const char *r;

	(void)state;
	start(NULL);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 0), 200);
	msg_from(bob, 3, "bob", "alice", "rep", "message/cpim", report);
	assert_int_equal(msg_status(bob), 202);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	r = gets(a, "<delivered/>");
	assert_string_equal(h_body(r), report);
	assert_string_equal(h_hdr(r, "Content-Type"), "message/cpim");
	h_answer(a, r, 200);
	h_run(40000);
	h_stop();
}

/* A new device asks the history service for what it missed: the
 * messages after a marker, as MESSAGEs in order, its own sent ones
 * marked; only the authenticated owner gets them. */
static void test_history_since_marker(void **state)
{
	static char inflight[8192];
	const char *r;
	char first[32], body[64];

	(void)state;
	start(ACCOUNTS);
	assert_int_equal(reg_dev(bob, 3, "bob", "", 600), 200);
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	msg_authed(bob, 3, "bob", "alice", "h1", "history one");
	r = gets(a, "history one");
	snprintf(first, sizeof(first), "%s", h_hdr(r, "History-Id"));
	h_answer(a, r, 200);
	assert_int_equal(msg_status(bob), 200);
	msg_authed(a, 2, "alice", "bob", "h2", "history two");
	got(bob, "history two", 200);
	assert_int_equal(msg_status(a), 200);
	/* The new device C registers and asks for everything. */
	assert_int_equal(reg_dev(c, 5, "alice", INST_C, 600), 200);
	gets_nothing(c);
	assert_int_equal(send_authed(c, &(struct h_req){.method = "MESSAGE",
		.n = 5, .from = "alice", .to = "history", .body = "since 0"},
		"alice", "wonder", "sip:history@" H_DOMAIN), 200);
	r = gets(c, "history one");
	assert_string_equal(h_hdr(r, "History-Id"), first);
	assert_null(h_hdr(r, "Sent-Copy"));
	h_answer(c, r, 200);
	r = gets(c, "history two");
	assert_string_equal(h_hdr(r, "Sent-Copy"), "yes");
	assert_non_null(strstr(h_hdr(r, "To"), "bob@"));
	h_answer(c, r, 200);
	gets_nothing(c);
	/* Since the first: only the second. */
	snprintf(body, sizeof(body), "since %s", first);
	assert_int_equal(send_authed(c, &(struct h_req){.method = "MESSAGE",
		.n = 5, .from = "alice", .to = "history", .body = body,
		.cseq = 10}, "alice", "wonder", "sip:history@" H_DOMAIN), 200);
	got(c, "history two", 200);
	gets_nothing(c);
	/* Asking again while a replay is under way takes it over: once the
	 * entry in flight is answered it goes on from the new marker. */
	assert_int_equal(send_authed(c, &(struct h_req){.method = "MESSAGE",
		.n = 5, .from = "alice", .to = "history", .body = "since 0",
		.cseq = 30}, "alice", "wonder", "sip:history@" H_DOMAIN), 200);
	r = gets(c, "history one");
	snprintf(inflight, sizeof(inflight), "%s", r);
	assert_int_equal(send_authed(c, &(struct h_req){.method = "MESSAGE",
		.n = 5, .from = "alice", .to = "history", .body = body,
		.cseq = 40}, "alice", "wonder", "sip:history@" H_DOMAIN), 200);
	gets_nothing(c);
	h_answer(c, inflight, 200);
	got(c, "history two", 200);
	gets_nothing(c);
	assert_int_equal(stat_value("history_sent"), 5);
	/* A malformed ask, and nobody registers as the service. */
	assert_int_equal(send_authed(c, &(struct h_req){.method = "MESSAGE",
		.n = 5, .from = "alice", .to = "history", .body = "all",
		.cseq = 20}, "alice", "wonder", "sip:history@" H_DOMAIN), 400);
	assert_int_equal(reg_dev(c, 5, "history", "", 600), 403);
	h_run(40000);
	h_stop();
}

/* Without an account nothing proves whose history it is. */
static void test_history_needs_authentication(void **state)
{

	(void)state;
	start(NULL);
	h_request(a, &(struct h_req){.method = "MESSAGE", .n = 2,
		.from = "alice", .to = "history", .body = "since 0"});
	assert_int_equal(answer_at(a), 403);
	h_run(40000);
	h_stop();
}

/* A device registered over two flows (RFC 5626 reg-id 1 and 2) gets a
 * message once, on one of them. */
static void test_one_flow_per_device(void **state)
{
	static unsigned cseq = 500;
	int n, got_it = 0;
	const char *r;
	char contact[200];

	(void)state;
	start(NULL);
	for (n = 0; n < 2; n++) {
		snprintf(contact, sizeof(contact), "<sip:alice@10.0.0.%d:5060>;"
			 "+sip.instance=\"" INST_A "\";reg-id=%d",
			 n ? 4 : 2, n + 1);
		assert_int_equal(h_status(h_request_wait(n ? b : a,
			&(struct h_req){.method = "REGISTER", .n = n ? 4 : 2,
			.from = "alice", .call_id = n ? "flow2" : "flow1",
			.cseq = ++cseq, .contact = contact,
			.hdrs = "Expires: 600\n"})), 200);
	}
	msg_from(bob, 3, "bob", "alice", "f1", NULL, "one flow");
	h_run(10);
	while ((r = h_recv(a)) != NULL || (r = h_recv(b)) != NULL) {
		got_it++;
		h_answer(strstr(r, "10.0.0.2") ? a : b, r, 200);
	}
	assert_int_equal(got_it, 1);
	assert_int_equal(msg_status(bob), 200);
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

/* With device_memory 0 no device is remembered: a contact with an
 * instance that fails is like any other, and msilo keeps the message for
 * whichever contact comes first. */
static void test_no_device_memory(void **state)
{
	(void)state;
	start("config offline\n\toption device_memory '0'\n");
	assert_int_equal(reg_dev(a, 2, "alice", INST_A, 600), 200);
	msg_from(bob, 3, "bob", "alice", "n1", NULL, "for anyone");
	h_answer(a, gets(a, "for anyone"), 480);
	assert_int_equal(msg_status(bob), 202);
	assert_int_equal(offline_count(ALICE), 1);
	assert_int_equal(stat_value("offline_device_copies"), 0);
	assert_int_equal(reg_dev(c, 5, "alice", "", 600), 200);
	got(c, "for anyone", 200);
	assert_int_equal(offline_count(ALICE), 0);
	h_run(40000);
	h_stop();
}

/* Max-Breadth 1 lets one branch go; the other device gets the message
 * from the store, not never. */
static void test_breadth_keeps_for_the_rest(void **state)
{
	const char *ra, *rb;

	(void)state;
	start(NULL);
	two_devices();
	h_request(bob, &(struct h_req){.method = "MESSAGE", .n = 3,
		.from = "bob", .to = "alice", .hdrs = "Max-Breadth: 1\n",
		.body = "narrow"});
	h_run(10);
	ra = h_recv(a);
	rb = ra ? NULL : h_recv(b);
	assert_true((ra != NULL) != (rb != NULL));
	h_answer(ra ? a : b, ra ? ra : rb, 200);
	assert_int_equal(msg_status(bob), 200);
	assert_int_equal(offline_count(ALICE), 1);
	assert_int_equal(reg_dev(ra ? b : a, ra ? 4 : 2, "alice",
				 ra ? INST_B : INST_A, 600), 200);
	got(ra ? b : a, "narrow", 200);
	h_run(40000);
	h_stop();
}

/* A ninth device is not remembered while the eight others wait for
 * messages: what was promised to them stays. */
static void test_devices_waiting_not_replaced(void **state)
{
	char inst[64];
	int i;

	(void)state;
	start(NULL);
	for (i = 0; i < 9; i++) {
		snprintf(inst, sizeof(inst),
			 "<urn:uuid:00000000-0000-1000-8000-0000000000%02d>",
			 i);
		assert_int_equal(reg_dev(a, 2, "alice", inst, 600), 200);
		assert_int_equal(reg_dev(a, 2, "alice", inst, 0), 200);
		if (i == 7) {
			msg_from(bob, 3, "bob", "alice", "w1", NULL,
				 "for eight");
			assert_int_equal(msg_status(bob), 202);
		}
	}
	assert_int_equal(stat_value("offline_device_copies"), 8);
	assert_int_equal(stat_value("devices_forgotten"), 0);
	assert_int_equal(offline_count(ALICE), 1);
	snprintf(inst, sizeof(inst),
		 "<urn:uuid:00000000-0000-1000-8000-0000000000%02d>", 0);
	assert_int_equal(reg_dev(a, 2, "alice", inst, 600), 200);
	got(a, "for eight", 200);
	h_run(40000);
	h_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_device_gets_it),
		cmocka_unit_test(test_history_commits_lazily),
		cmocka_unit_test(test_device_off_gets_it_once),
		cmocka_unit_test(test_failed_device_gets_it_later_in_order),
		cmocka_unit_test(test_all_off_then_restart),
		cmocka_unit_test(test_contact_without_instance_forgotten),
		cmocka_unit_test(test_device_forgotten_after_memory),
		cmocka_unit_test(test_sent_copies),
		cmocka_unit_test(test_no_sent_copies_unauthenticated),
		cmocka_unit_test(test_report_reaches_offline_sender),
		cmocka_unit_test(test_history_since_marker),
		cmocka_unit_test(test_history_needs_authentication),
		cmocka_unit_test(test_one_flow_per_device),
		cmocka_unit_test(test_no_device_memory),
		cmocka_unit_test(test_breadth_keeps_for_the_rest),
		cmocka_unit_test(test_devices_waiting_not_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
