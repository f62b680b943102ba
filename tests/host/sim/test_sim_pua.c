/** @file test_sim_pua.c  PUBLISH and SUBSCRIBE for another domain (pua/,
 * what `ctl publish` and `ctl subscribe` drive), against the test playing
 * that domain's server at the outbound proxy 10.0.0.9, on virtual time:
 * the ways a refresh goes wrong and what each must lead to.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "mod.h"
#include "pool.h"
#include "pua.h"
#include "stat.h"

#define PROXY_CFG "config simpled 'main'\n" \
	"\toption outbound_proxy 'sip:10.0.0.9:5060'\n"

static struct {
	int calls;
	int code;
	char etag[64];
	unsigned expires;
} got;

static void on_result(const struct pua_result *r, void *arg)
{
	(void)arg;
	got.calls++;
	got.code = r->code;
	snprintf(got.etag, sizeof(got.etag), "%s", r->etag);
	got.expires = r->expires;
}

static char last_state[256];
static int states;

static int on_state(void *ev, void *arg)
{
	const struct pua_state *st = ev;

	(void)arg;
	states++;
	snprintf(last_state, sizeof(last_state), "%s|%s", st->sub_state,
		 st->body);
	return 0;
}

static void pub_one(const struct pua_pub_view *v, void *arg)
{
	snprintf(arg, 64, "%s", v->etag);
}

static const char *doc = "<presence>router up</presence>";

static void publish(unsigned expires)
{
	memset(&got, 0, sizeof(got));
	assert_int_equal(pua_publish(&(struct pua_pub_req){
		.uri = "sip:router@far.test", .event = "presence",
		.ctype = "application/pidf+xml", .body = doc,
		.expires = expires}, on_result, NULL), 0);
	h_run(10);
}

/* A refresh answered 412 (the server forgot our ETag): the document is
 * published anew, with its body; a refresh that times out past the
 * deadline drops the publication. */
static void test_publish_412_then_lost(void **state)
{
	char etag[64] = "";
	const char *m;
	int up;

	(void)state;
	h_start(PROXY_CFG);
	up = h_client(9);
	publish(10);
	m = h_recv(up);
	assert_non_null(m);
	assert_non_null(strstr(h_body(m), "router up"));
	assert_null(h_hdr(m, "SIP-If-Match"));
	h_answer_hdrs(up, m, 200, "SIP-ETag: e1\nExpires: 10\n");
	h_run(10);
	assert_int_equal(got.calls, 1);
	assert_int_equal(got.code, 200);
	assert_string_equal(got.etag, "e1");
	assert_int_equal(got.expires, 10);
	/* The refresh at 8 s: the ETag, no body. */
	h_run(8000);
	m = h_recv(up);
	assert_non_null(m);
	assert_string_equal(h_hdr(m, "SIP-If-Match"), "e1");
	assert_string_equal(h_body(m), "");
	h_answer(up, m, 412);
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	assert_null(h_hdr(m, "SIP-If-Match"));
	assert_non_null(strstr(h_body(m), "router up"));
	h_answer_hdrs(up, m, 200, "SIP-ETag: e2\nExpires: 10\n");
	h_run(10);
	assert_int_equal(got.calls, 1); /* refreshes tell nobody */
	pua_pub_walk(pub_one, etag);
	assert_string_equal(etag, "e2");
	/* The next refresh is never answered: after its 32 s the
	 * publication's time is up and it goes. */
	h_run(8000);
	assert_non_null(h_recv(up));
	h_run(40000);
	h_drain(up);
	etag[0] = '\0';
	pua_pub_walk(pub_one, etag);
	assert_string_equal(etag, "");
	assert_true(stat_value("remote_failed") >= 1);
	h_stop();
}

/* 423 Interval Too Brief: asked again once with the Min-Expires. */
static void test_publish_423(void **state)
{
	const char *m;
	int up;

	(void)state;
	h_start(PROXY_CFG);
	up = h_client(9);
	publish(5);
	m = h_recv(up);
	assert_non_null(m);
	h_answer_hdrs(up, m, 423, "Min-Expires: 60\n");
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	assert_string_equal(h_hdr(m, "Expires"), "60");
	h_answer_hdrs(up, m, 200, "SIP-ETag: e1\nExpires: 60\n");
	h_run(10);
	assert_int_equal(got.code, 200);
	assert_int_equal(got.expires, 60);
	/* Removed: the ETag, Expires 0, no body; the answer ends it. */
	memset(&got, 0, sizeof(got));
	assert_int_equal(pua_publish(&(struct pua_pub_req){
		.uri = "sip:router@far.test", .event = "presence",
		.expires = 0}, on_result, NULL), 0);
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	assert_string_equal(h_hdr(m, "SIP-If-Match"), "e1");
	assert_string_equal(h_hdr(m, "Expires"), "0");
	h_answer_hdrs(up, m, 200, "Expires: 0\n");
	h_run(10);
	assert_int_equal(got.code, 200);
	assert_int_equal(got.expires, 0);
	h_run(40000);
	h_stop();
}

/* A copy of a SUBSCRIBE's dialog as the notifier sees it. */
struct dlg {
	char call_id[128], from[256], to_tag[64];
};

static void notify(int up, const struct dlg *d, int cseq,
		   const char *sub_state, const char *body)
{
	h_send(up, "NOTIFY sip:10.0.0.1:5060 SIP/2.0\n"
	       "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKn%d\n"
	       "From: <sip:bob@far.test>;tag=%s\n"
	       "To: %s\nCall-ID: %s\nCSeq: %d NOTIFY\nEvent: presence\n"
	       "Subscription-State: %s\n"
	       "Content-Type: application/pidf+xml\n"
	       "Content-Length: %zu\n\n%s", cseq, d->to_tag, d->from,
	       d->call_id, cseq, sub_state, strlen(body), body);
}

/* A NOTIFY before the SUBSCRIBE's 2xx is taken (RFC 6665 4.1.2.4) and
 * its tag makes the dialog; a refresh goes in that dialog; its 481 ends
 * the subscription, and watchers hear it ended. */
static void test_subscribe_notify_first_then_481(void **state)
{
	static char sub[8192];
	struct pua_state st;
	struct dlg d;
	const char *m;
	int up;

	(void)state;
	h_start(PROXY_CFG);
	up = h_client(9);
	states = 0;
	assert_int_equal(pua_observe(on_state, NULL), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(pua_subscribe(&(struct pua_sub_req){
		.presentity = "sip:bob@far.test", .watcher =
		"sip:alice@example.test", .event = "presence", .expires = 10},
		on_result, NULL), 0);
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	assert_non_null(strstr(m, "SUBSCRIBE sip:bob@far.test SIP/2.0"));
	assert_string_equal(h_hdr(m, "Accept"), "application/pidf+xml");
	snprintf(sub, sizeof(sub), "%s", m); /* h_recv's buffer is reused */
	m = sub;
	snprintf(d.call_id, sizeof(d.call_id), "%s", h_hdr(m, "Call-ID"));
	snprintf(d.from, sizeof(d.from), "%s", h_hdr(m, "From"));
	strcpy(d.to_tag, "bobtag");
	notify(up, &d, 1, "active;expires=10", "<p>away</p>");
	h_run(10);
	assert_int_equal(h_status(h_recv(up)), 200);
	assert_int_equal(states, 1);
	assert_string_equal(last_state, "active;expires=10|<p>away</p>");
	/* The 2xx comes late, with its own tag already known. */
	h_answer_hdrs(up, m, 200, "Contact: <sip:bob@10.0.0.9:5060>\n"
		      "Expires: 10\n");
	h_run(10);
	assert_int_equal(got.code, 200);
	assert_non_null(pua_state_get("sip:bob@far.test", "presence", &st));
	/* The refresh: in the dialog, to the remote target. */
	h_run(8000);
	m = h_recv(up);
	assert_non_null(m);
	assert_non_null(strstr(m, "SUBSCRIBE sip:bob@10.0.0.9:5060 SIP/2.0"));
	assert_non_null(strstr(h_hdr(m, "To"), ";tag=bobtag"));
	assert_string_equal(h_hdr(m, "Call-ID"), d.call_id);
	assert_string_equal(h_hdr(m, "CSeq"), "2 SUBSCRIBE");
	h_answer(up, m, 481);
	h_run(10);
	assert_null(pua_state_get("sip:bob@far.test", "presence", &st));
	assert_int_equal(states, 2);
	assert_string_equal(last_state, "terminated;reason=gone|<p>away</p>");
	/* Its NOTIFYs are strangers now. */
	notify(up, &d, 2, "active", "<p>late</p>");
	h_run(10);
	assert_int_equal(h_status(h_recv(up)), 481);
	pua_unobserve(on_state, NULL);
	h_run(40000);
	h_stop();
}

/* A publication whose time runs out while a request of it is still out
 * (a change the far end never answers) goes only once that request has
 * ended: its asker hears the 408, and the element is back in the pool
 * exactly once (it used to be freed twice). */
static void test_publish_expires_while_busy(void **state)
{
	const struct pool_info *pi = pool_info(mod_pool("remote_publications"));
	const char *m;
	int up;

	(void)state;
	h_start(PROXY_CFG);
	up = h_client(9);
	publish(10);
	m = h_recv(up);
	assert_non_null(m);
	h_answer_hdrs(up, m, 200, "SIP-ETag: e1\nExpires: 10\n");
	h_run(10);
	assert_int_equal(got.code, 200);
	/* At 7 s a change, never answered; the refresh timer (8 s) meets it
	 * busy, the deadline (10 s) passes while it is out. */
	h_run(7000);
	publish(10);
	h_drain(up);
	h_run(40000);
	h_drain(up);
	assert_int_equal(got.calls, 1);
	assert_int_equal(got.code, 408);
	assert_int_equal(pi->used, 0);
	h_stop();
}

/* A server that challenges every request: after a 423 the request goes
 * again and its challenge is answered again. */
static void test_challenge_after_423(void **state)
{
	const char *m;
	int up;

	(void)state;
	h_start(PROXY_CFG "config upstream\n\toption username 'r'\n"
		"\toption password 'p'\n\toption realm 'far.test'\n");
	up = h_client(9);
	publish(5);
	m = h_recv(up);
	h_answer_hdrs(up, m, 401, "WWW-Authenticate: Digest "
		      "realm=\"far.test\", nonce=\"n1\"\n");
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	assert_non_null(h_hdr(m, "Authorization"));
	h_answer_hdrs(up, m, 423, "Min-Expires: 60\n");
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	h_answer_hdrs(up, m, 401, "WWW-Authenticate: Digest "
		      "realm=\"far.test\", nonce=\"n2\"\n");
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	assert_non_null(strstr(h_hdr(m, "Authorization"), "nonce=\"n2\""));
	assert_string_equal(h_hdr(m, "Expires"), "60");
	h_answer_hdrs(up, m, 200, "SIP-ETag: e1\nExpires: 60\n");
	h_run(10);
	assert_int_equal(got.code, 200);
	h_run(40000);
	h_stop();
}

/* An ending that cannot be sent (a bad next hop) changes nothing: the
 * subscription stands and can be refreshed (it used to stay "ending",
 * every later request refused as under way). */
static void test_failed_request_changes_nothing(void **state)
{
	struct pua_sub_req q = {.presentity = "sip:bob@far.test",
		.watcher = "sip:alice@example.test", .event = "presence",
		.expires = 10};
	const char *m;
	int up;

	(void)state;
	h_start(PROXY_CFG);
	up = h_client(9);
	assert_int_equal(pua_subscribe(&q, on_result, NULL), 0);
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	h_answer_hdrs(up, m, 200, "Contact: <sip:bob@10.0.0.9:5060>\n"
		      "Expires: 10\n");
	h_run(10);
	q.expires = 0;
	q.proxy = "sip:not an address";
	assert_int_equal(pua_subscribe(&q, on_result, NULL), EINVAL);
	q.expires = 10;
	q.proxy = NULL;
	assert_int_equal(pua_subscribe(&q, on_result, NULL), 0);
	h_run(10);
	m = h_recv(up);
	assert_non_null(m);
	assert_string_equal(h_hdr(m, "Expires"), "10");
	h_answer_hdrs(up, m, 200, "Expires: 10\n");
	h_run(10);
	q.expires = 0;
	assert_int_equal(pua_subscribe(&q, on_result, NULL), 0);
	h_run(10);
	m = h_recv(up);
	h_answer_hdrs(up, m, 200, "Expires: 0\n");
	h_run(40000);
	h_stop();
}

/* What needs no far end: no outbound proxy, a busy name, ending what
 * does not exist, header lines that would end our head. */
static void test_refusals(void **state)
{
	(void)state;
	h_start(NULL);
	assert_int_equal(pua_publish(&(struct pua_pub_req){
		.uri = "sip:r@far.test", .event = "presence",
		.expires = 60}, on_result, NULL), ENOENT);
	h_stop();
	h_start(PROXY_CFG);
	publish(60);
	assert_int_equal(pua_publish(&(struct pua_pub_req){
		.uri = "sip:router@far.test", .event = "presence",
		.expires = 60}, on_result, NULL), EBUSY);
	assert_int_equal(pua_publish(&(struct pua_pub_req){
		.uri = "sip:other@far.test", .event = "presence",
		.hdrs = "X: 1\r\n\r\nbody", .expires = 60}, on_result, NULL),
		EINVAL);
	assert_int_equal(pua_subscribe(&(struct pua_sub_req){
		.presentity = "sip:bob@far.test", .watcher =
		"sip:alice@example.test", .event = "presence", .expires = 0},
		on_result, NULL), ENOENT);
	h_run(40000); /* the PUBLISH times out: 408 to its asker */
	assert_int_equal(got.code, 408);
	h_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_412_then_lost),
		cmocka_unit_test(test_publish_423),
		cmocka_unit_test(test_subscribe_notify_first_then_481),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_publish_expires_while_busy),
		cmocka_unit_test(test_challenge_after_423),
		cmocka_unit_test(test_failed_request_changes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
