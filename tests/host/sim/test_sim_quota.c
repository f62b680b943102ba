/** @file test_sim_quota.c  Per-source caps (SPEC section I) of presence
 * and chat rooms: subscriptions, published documents and rooms created
 * from one source address, refused with the reason over the cap, counted
 * again after a restart (records of the previous schema counting against
 * nobody). The offline store's caps are in test_sim_offline.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "simpled_config.h"
#include "store.h"
#ifdef CONFIG_SIMPLED_PRESENCE
#include "pres.h"
#endif
#ifdef CONFIG_SIMPLED_IMC
#include "imc.h"
#endif

#define D H_DOMAIN

static char resp[8192];
static int sock_of[8];

static void clients(void)
{
	int n;

	for (n = 2; n < 8; n++) {
		sock_of[n] = h_client(n);
	}
}

/* Send r from client r->n; the status of its response (kept in resp).
 * Requests that come meanwhile (NOTIFYs, room notes) are answered 200. */
static int ask(const struct h_req *r)
{
	const char *m;
	int n = r->n;

	h_request(sock_of[n], r);
	h_run(10);
	resp[0] = '\0';
	while ((m = h_recv(sock_of[n])) != NULL) {
		if (!strncmp(m, "SIP/2.0", 7)) {
			snprintf(resp, sizeof(resp), "%s", m);
		} else {
			static char copy[8192];

			snprintf(copy, sizeof(copy), "%s", m);
			h_answer(sock_of[n], copy, 200);
		}
	}
	return h_status(resp);
}

#ifdef CONFIG_SIMPLED_PRESENCE
static unsigned cseq = 100;

/* The To tag of the last response. */
static const char *resp_totag(char *buf, size_t size)
{
	const char *t = strstr(h_hdr(resp, "To"), "tag=");

	snprintf(buf, size, "%s", t ? t + 4 : "");
	return buf;
}

/* SUBSCRIBE to presence of presentity from watcher at client n; totag
 * NULL for a new dialog. */
static int sub(int n, const char *watcher, const char *presentity,
	       const char *callid, int expires, const char *totag)
{
	char tag[64], contact[96], hdrs[32];

	snprintf(tag, sizeof(tag), "w%s", watcher);
	snprintf(contact, sizeof(contact), "<sip:%s@10.0.0.%d:5060>", watcher,
		 n);
	snprintf(hdrs, sizeof(hdrs), "Expires: %d\n", expires);
	return ask(&(struct h_req){.method = "SUBSCRIBE", .n = n,
		.from = watcher, .from_tag = tag, .to = presentity,
		.to_tag = totag, .call_id = callid, .cseq = ++cseq,
		.event = "presence", .contact = contact, .hdrs = hdrs});
}

/* PUBLISH of a document of user from client n (etag NULL: a new one). */
static int pub(int n, const char *user, const char *etag, int expires,
	       const char *tuple)
{
	char hdrs[128] = "", body[512], cid[64];

	if (etag) {
		snprintf(hdrs, sizeof(hdrs), "SIP-If-Match: %s\n", etag);
	}
	snprintf(hdrs + strlen(hdrs), sizeof(hdrs) - strlen(hdrs),
		 "Expires: %d\n", expires);
	snprintf(body, sizeof(body),
		 "<?xml version=\"1.0\"?>"
		 "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		 "entity=\"sip:%s@" D "\"><tuple id=\"%s\"><status><basic>"
		 "open</basic></status></tuple></presence>", user,
		 tuple ? tuple : "t");
	snprintf(cid, sizeof(cid), "pub-%s-%d", user, n);
	return ask(&(struct h_req){.method = "PUBLISH", .n = n,
		.from = user, .call_id = cid, .cseq = ++cseq,
		.event = "presence", .hdrs = hdrs,
		.ctype = "application/pidf+xml", .body = tuple ? body : NULL});
}

/* Rewrite a record of kind k as the previous schema wrote it: cut bytes
 * at from (cut of them), set byte 0 to first (-1: leave it). */
static void make_old(enum store_kind k, const char *key, size_t from,
		     size_t cut, int first)
{
	static unsigned char rec[STORE_REC_MAX];
	size_t vl;

	assert_int_equal(store_rec_get(k, key, rec, sizeof(rec), &vl), 0);
	assert_true(from + cut <= vl);
	memmove(rec + from, rec + from + cut, vl - from - cut);
	if (first >= 0) {
		rec[0] = (unsigned char)first;
	}
	assert_int_equal(store_rec_put(k, key, rec, vl - cut), 0);
}

static void test_subscriptions_per_source(void **state)
{
	const char *cfg = "config presence\n"
			  "\toption max_subscriptions_per_source 2\n";
	char t1[64], t2[64], key[128];

	(void)state;
	h_start(cfg);
	clients();
	assert_int_equal(sub(3, "bob", "alice", "q1", 3600, NULL), 200);
	resp_totag(t1, sizeof(t1));
	assert_int_equal(sub(3, "bob", "carol", "q2", 3600, NULL), 200);
	resp_totag(t2, sizeof(t2));
	assert_int_equal(sub(3, "bob", "dave", "q3", 3600, NULL), 403);
	assert_non_null(strstr(resp, "403 Too many subscriptions from this "
				     "source\r\n"));
	/* A refresh is no new subscription. */
	assert_int_equal(sub(3, "bob", "alice", "q1", 3600, t1), 200);
	/* The cap is per source address. */
	assert_int_equal(sub(4, "erin", "alice", "q4", 3600, NULL), 200);
	assert_int_equal(pres_sub_count(), 3);
	h_restart(cfg);
	clients();
	assert_int_equal(pres_sub_count(), 3);
	assert_int_equal(sub(3, "bob", "dave", "q5", 3600, NULL), 403);
	/* An unsubscribed one no longer counts. */
	assert_int_equal(sub(3, "bob", "alice", "q1", 0, t1), 200);
	assert_int_equal(sub(3, "bob", "dave", "q6", 3600, NULL), 200);
	assert_int_equal(sub(3, "bob", "fred", "q7", 3600, NULL), 403);
	/* A record of the previous schema (version 2: no source at its
	 * end, "10.0.0.3" after a 2-byte length) counts against nobody. */
	h_run(200000); /* written back (clean_period) */
	snprintf(key, sizeof(key), "q2|wbob|%s", t2);
	{
		unsigned char rec[STORE_REC_MAX];
		size_t vl;

		assert_int_equal(store_rec_get(STORE_PRES_SUB, key, rec,
					       sizeof(rec), &vl), 0);
		assert_int_equal(rec[0], 3);
		assert_memory_equal(rec + vl - 10, "\x08\x00" "10.0.0.3", 10);
		make_old(STORE_PRES_SUB, key, vl - 10, 10, 2);
	}
	h_restart(cfg);
	clients();
	assert_int_equal(pres_sub_count(), 3);
	assert_int_equal(sub(3, "bob", "fred", "q8", 3600, NULL), 200);
	assert_int_equal(sub(3, "bob", "gina", "q9", 3600, NULL), 403);
	h_run(40000);
	h_stop();
}

static void test_documents_per_source(void **state)
{
	const char *cfg = "config presence\n"
			  "\toption max_documents_per_source 2\n";
	char e1[64], e2[64], key[128];
	size_t tl = strlen("application/pidf+xml");

	(void)state;
	h_start(cfg);
	clients();
	assert_int_equal(pub(2, "alice", NULL, 3600, "phone"), 200);
	snprintf(e1, sizeof(e1), "%s", h_hdr(resp, "SIP-ETag"));
	assert_int_equal(pub(2, "alice", NULL, 3600, "laptop"), 200);
	snprintf(e2, sizeof(e2), "%s", h_hdr(resp, "SIP-ETag"));
	assert_int_equal(pub(2, "bob", NULL, 3600, "tablet"), 403);
	assert_non_null(strstr(resp, "403 Too many documents from this "
				     "source\r\n"));
	/* Refreshing or modifying a document makes none. */
	assert_int_equal(pub(2, "alice", e1, 3600, NULL), 200);
	snprintf(e1, sizeof(e1), "%s", h_hdr(resp, "SIP-ETag"));
	assert_int_equal(pub(2, "alice", e2, 3600, "laptop2"), 200);
	snprintf(e2, sizeof(e2), "%s", h_hdr(resp, "SIP-ETag"));
	assert_int_equal(pub(5, "bob", NULL, 3600, "desk"), 200);
	assert_int_equal(pres_doc_count(), 3);
	h_restart(cfg);
	clients();
	assert_int_equal(pres_doc_count(), 3);
	assert_int_equal(pub(2, "bob", NULL, 3600, "tablet"), 403);
	/* A removed one no longer counts. */
	assert_int_equal(pub(2, "alice", e1, 0, NULL), 200);
	assert_int_equal(pub(2, "bob", NULL, 3600, "tablet"), 200);
	assert_int_equal(pub(2, "bob", NULL, 3600, "watch"), 403);
	/* A record of the previous schema (no "\x1f10.0.0.2" after its
	 * content type) counts against nobody. */
	snprintf(key, sizeof(key), "alice@" D "\x1f%.10s", e2);
	make_old(STORE_PRES_DOC, key, 8 + tl, strlen("\x1f" "10.0.0.2"), -1);
	h_restart(cfg);
	clients();
	assert_int_equal(pres_doc_count(), 3);
	assert_int_equal(pub(2, "bob", NULL, 3600, "watch"), 200);
	assert_int_equal(pub(2, "bob", NULL, 3600, "ring"), 403);
	h_run(40000);
	h_stop();
}
#endif

#ifdef CONFIG_SIMPLED_IMC
/* A #command from user at client n to the manager. */
static int cmd(int n, const char *user, const char *text)
{
	return ask(&(struct h_req){.method = "MESSAGE", .n = n, .from = user,
		.to = "chat", .body = text});
}

static void test_rooms_per_source(void **state)
{
	const char *cfg = "config imc\n\toption max_rooms_per_source 2\n";

	(void)state;
	h_start(cfg);
	clients();
	assert_int_equal(cmd(3, "bob", "#create r1"), 200);
	assert_int_equal(cmd(3, "bob", "#create r2 private"), 200);
	assert_int_equal(cmd(3, "bob", "#create r3"), 403);
	assert_non_null(strstr(h_body(resp), "You have created 2 rooms from "
				       "your address, the most allowed"));
	/* Joining a missing room creates it (create_on_join): refused too;
	 * joining an existing one is no creation. */
	assert_int_equal(cmd(3, "bob", "#join r4"), 403);
	assert_int_equal(cmd(4, "carol", "#create r3"), 200);
	assert_int_equal(cmd(3, "bob", "#join r3"), 200);
	assert_int_equal(imc_room_count(), 3);
	h_restart(cfg);
	clients();
	assert_int_equal(imc_room_count(), 3);
	assert_int_equal(cmd(3, "bob", "#create r5"), 403);
	/* A destroyed room no longer counts; the private flag came back. */
	assert_int_equal(cmd(3, "bob", "#destroy r1"), 200);
	assert_int_equal(cmd(3, "bob", "#create r5"), 200);
	assert_int_equal(cmd(5, "dave", "#join r2"), 403);
	/* A room of the previous schema (its flag only) counts against
	 * nobody. */
	{
		unsigned char flag = 1;

		assert_int_equal(store_rec_put(STORE_IMC_ROOM, "r2", &flag, 1),
				 0);
	}
	h_restart(cfg);
	clients();
	assert_int_equal(cmd(5, "dave", "#join r2"), 403); /* still private */
	assert_int_equal(cmd(3, "bob", "#create r6"), 200);
	assert_int_equal(cmd(3, "bob", "#create r7"), 403);
	h_run(40000);
	h_stop();
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef CONFIG_SIMPLED_PRESENCE
		cmocka_unit_test(test_subscriptions_per_source),
		cmocka_unit_test(test_documents_per_source),
#endif
#ifdef CONFIG_SIMPLED_IMC
		cmocka_unit_test(test_rooms_per_source),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
