/** @file test_sim_registrar.c  REGISTER on virtual time (port/sim). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "mem.h"
#include "port_sim.h"
#include "reg.h"
#include "sd.h"
#include "stat.h"

/* A REGISTER for user from client 2 (user@host for another domain) with
 * a Contact (or none) and more header lines; the answer. */
static const char *reg(int sock, const char *user, const char *contact,
		       const char *hdrs)
{
	return h_request_wait(sock, &(struct h_req){.method = "REGISTER",
		.n = 2, .from = user, .contact = contact, .hdrs = hdrs});
}

static void test_expiry_after_one_hour(void **state)
{
	int c;
	const char *r;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	r = reg(c, "alice", "<sip:alice@10.0.0.2:5060>", "Expires: 3600\n");
	assert_int_equal(h_status(r), 200);
	assert_string_equal(h_hdr(r, "Contact"),
			    "<sip:alice@10.0.0.2:5060>;expires=3600");
	assert_non_null(strstr(h_hdr(r, "To"), ";tag="));
	assert_int_equal(reg_binding_count(), 1);
	/* The clock started 4 s before the 32-bit wrap: expiry crosses it. */
	h_run(3599u * 1000u);
	assert_int_equal(reg_binding_count(), 1);
	h_run(2000);
	assert_int_equal(reg_binding_count(), 0);
	assert_int_equal(stat_value("registrar_bindings_expired"), 1);
	h_stop();
}

static void test_contacts_refresh_unregister(void **state)
{
	int c, c3;
	const char *r;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	c3 = h_client(3);
	assert_int_equal(h_register(c, 2, "alice", 600), 200);
	assert_int_equal(h_register(c3, 3, "alice", 600), 200);
	assert_int_equal(reg_binding_count(), 2);
	/* A refresh keeps one binding per contact, with the new expiry. */
	h_run(100u * 1000u);
	assert_int_equal(h_register(c, 2, "alice", 900), 200);
	assert_int_equal(reg_binding_count(), 2);
	/* Query: no Contact lists every binding. */
	r = reg(c, "alice", NULL, NULL);
	assert_int_equal(h_status(r), 200);
	assert_int_equal(h_hdr_count(r, "Contact"), 2);
	assert_non_null(strstr(r, "<sip:alice@10.0.0.2:5060>;expires=900"));
	assert_non_null(strstr(r, "<sip:alice@10.0.0.3:5060>;expires=500"));
	/* Unregister one contact. */
	assert_int_equal(h_register(c3, 3, "alice", 0), 200);
	assert_int_equal(reg_binding_count(), 1);
	/* Contact: * with Expires: 0 removes the rest. */
	assert_int_equal(h_status(reg(c, "alice", "*", "Expires: 0\n")), 200);
	assert_int_equal(reg_binding_count(), 0);
	/* Contact: * without Expires: 0 is refused. */
	r = reg(c, "alice", "*", "Expires: 60\n");
	assert_int_equal(h_status(r), 400);
	assert_non_null(strstr(r, "Contact * needs Expires: 0"));
	h_stop();
}

static void test_expires_bounds(void **state)
{
	int c;
	const char *r;

	(void)state;
	h_start("config registrar\n\toption min_expires 60\n"
		"\toption max_expires 600\n\toption default_expires 300\n");
	c = h_client(2);
	r = reg(c, "alice", "<sip:alice@10.0.0.2>;expires=30", NULL);
	assert_int_equal(h_status(r), 423);
	assert_string_equal(h_hdr(r, "Min-Expires"), "60");
	assert_int_equal(reg_binding_count(), 0);
	/* Longer than max_expires is cut down, not refused. */
	assert_int_equal(h_register(c, 2, "alice", 7200), 200);
	r = reg(c, "bob", "<sip:bob@10.0.0.2>", NULL);
	assert_int_equal(h_status(r), 200);
	assert_string_equal(h_hdr(r, "Contact"),
			    "<sip:bob@10.0.0.2>;expires=300");
	h_run(601u * 1000u);
	assert_int_equal(reg_binding_count(), 0);
	h_stop();
}

static void test_refusals(void **state)
{
	struct h_req ord = {.method = "REGISTER", .n = 2, .from = "bob",
			    .call_id = "order",
			    .contact = "<sip:bob@10.0.0.2>"};
	int c;
	const char *r;

	(void)state;
	h_start("config registrar\n\toption max_contacts 1\n");
	c = h_client(2);
	/* Foreign domain. */
	r = reg(c, "alice@other.test", "<sip:alice@10.0.0.2>", NULL);
	assert_int_equal(h_status(r), 403);
	assert_non_null(strstr(r, "Domain not served here"));
	/* max_contacts 1: a second contact is refused. */
	assert_int_equal(h_register(c, 2, "alice", 600), 200);
	assert_int_equal(h_register(h_client(3), 3, "alice", 600), 403);
	/* Same Call-ID with a lower CSeq is out of order. */
	ord.cseq = 10;
	assert_int_equal(h_status(h_request_wait(c, &ord)), 200);
	ord.cseq = 9;
	r = h_request_wait(c, &ord);
	assert_int_equal(h_status(r), 400);
	assert_non_null(strstr(r, "CSeq out of order"));
	h_stop();
}

/* RFC 4475 escnull: escaped NULs in user parts are kept, so %00 and
 * %00%00 are two contacts and bob%00evil is not bob. A long Call-ID is
 * valid and registers. */
static void test_escaped_user_parts(void **state)
{
	static char longid[400];
	int c, c3;
	const char *r;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	c3 = h_client(3);
	r = h_send_wait(c,
		"REGISTER sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKnul\n"
		"From: <sip:null-%%00-null@" H_DOMAIN ">;tag=n\n"
		"To: <sip:null-%%00-null@" H_DOMAIN ">\nCall-ID: nul\n"
		"CSeq: 1 REGISTER\nContact: <sip:%%00@10.0.0.2>\n"
		"Contact: <sip:%%00%%00@10.0.0.2>\nl: 0\n\n");
	assert_int_equal(h_status(r), 200);
	assert_int_equal(h_hdr_count(r, "Contact"), 2);
	assert_int_equal(reg_binding_count(), 2);
	/* bob%00evil registers a contact of its own... */
	r = reg(c, "bob%00evil", "<sip:evil@10.0.0.2:5060>", NULL);
	assert_int_equal(h_status(r), 200);
	/* ...which a MESSAGE for bob does not reach: bob has none. */
	h_message(c3, 3, "bob@" H_DOMAIN, "nul1", NULL, "hi");
	r = h_wait(c3);
	assert_int_equal(h_status(r), H_KEPT);
	assert_null(h_recv(c));
	memset(longid, 'c', 300);
	r = h_send_wait(c,
		"REGISTER sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKlid\n"
		"From: <sip:carol@" H_DOMAIN ">;tag=n\n"
		"To: <sip:carol@" H_DOMAIN ">\nCall-ID: %s\n"
		"CSeq: 1 REGISTER\nContact: <sip:carol@10.0.0.2>\nl: 0\n\n",
		longid);
	assert_int_equal(h_status(r), 200);
	/* The same Call-ID and an old CSeq is still told apart. */
	r = h_send_wait(c,
		"REGISTER sip:" H_DOMAIN " SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKlid2\n"
		"From: <sip:carol@" H_DOMAIN ">;tag=n\n"
		"To: <sip:carol@" H_DOMAIN ">\nCall-ID: %s\n"
		"CSeq: 1 REGISTER\nContact: <sip:carol@10.0.0.2>\nl: 0\n\n",
		longid);
	assert_int_equal(h_status(r), 400);
	assert_non_null(strstr(r, "CSeq out of order"));
	h_run(40000);
	h_stop();
}

static void test_pool_exhaustion_503(void **state)
{
	int c, i, ok = 0, busy = 0;
	const char *r;
	char user[16];

	(void)state;
	h_start("config limits\n\toption bindings 3\n");
	c = h_client(2);
	for (i = 0; i < 6; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		h_register(c, 2, user, 600);
	}
	/* h_register() read the answers; count them from the stats. */
	ok = (int)reg_binding_count();
	assert_int_equal(ok, 3);
	busy = (int)stat_value("overload_503");
	assert_int_equal(busy, 3);
	/* The 503 carries Retry-After, and the server keeps serving. */
	r = reg(c, "zed", "<sip:zed@10.0.0.2>", NULL);
	assert_int_equal(h_status(r), 503);
	assert_non_null(h_hdr(r, "Retry-After"));
	assert_int_equal(h_status(h_request_wait(c, &(struct h_req){
		.method = "OPTIONS", .n = 2, .from = "zed",
		.ruri = "sip:" H_DOMAIN})), 200);
	/* Once a binding expires there is room again. */
	h_run(601u * 1000u);
	assert_int_equal(h_register(c, 2, "late", 600), 200);
	h_stop();
}

/* A REGISTER for user from client n with a Contact, a Call-ID and a CSeq;
 * the answer. */
static const char *reg_from(int sock, int n, const char *user,
			    const char *contact, const char *call_id,
			    unsigned cseq)
{
	return h_request_wait(sock, &(struct h_req){.method = "REGISTER",
		.n = n, .from = user, .contact = contact, .call_id = call_id,
		.cseq = cseq, .hdrs = "Expires: 600\n"});
}

/* Contact: * whose Call-ID/CSeq check fails for one binding
 * changes nothing (RFC 3261 10.3 step 6: the update is aborted). */
static void test_star_out_of_order_changes_nothing(void **state)
{
	int c2, c3;
	const char *r;

	(void)state;
	h_start(NULL);
	c2 = h_client(2);
	c3 = h_client(3);
	assert_int_equal(h_status(reg_from(c2, 2, "alice",
		"<sip:alice@10.0.0.2>", "ca", 5)), 200);
	assert_int_equal(h_status(reg_from(c3, 3, "alice",
		"<sip:alice@10.0.0.3>", "cb", 5)), 200);
	assert_int_equal(reg_binding_count(), 2);
	/* Same Call-ID as the first binding, CSeq not higher: refused, and
	 * the other binding (another Call-ID) stays too. */
	r = h_request_wait(c2, &(struct h_req){.method = "REGISTER", .n = 2,
		.from = "alice", .contact = "*", .call_id = "ca", .cseq = 5,
		.hdrs = "Expires: 0\n"});
	assert_int_equal(h_status(r), 400);
	assert_non_null(strstr(r, "CSeq out of order"));
	assert_int_equal(reg_binding_count(), 2);
	assert_int_equal(stat_value("registrar_bindings_removed"), 0);
	/* A higher CSeq removes both. */
	r = h_request_wait(c2, &(struct h_req){.method = "REGISTER", .n = 2,
		.from = "alice", .contact = "*", .call_id = "ca", .cseq = 6,
		.hdrs = "Expires: 0\n"});
	assert_int_equal(h_status(r), 200);
	assert_int_equal(reg_binding_count(), 0);
	h_stop();
}

/* Contact URIs compare as RFC 3261 19.1.4 says, not as
 * strings. */
static void test_uri_comparison_19_1_4(void **state)
{
	static const char *const distinct[] = {
		"<sip:alice@host.example;transport=udp>",
		"<sip:Alice@host.example:5060;transport=udp>",
		"<sip:Alice@host.example>",
		"<sip:Alice@host.example;transport=udp;user=ip>",
		"<sip:Alice@host.example;transport=udp;maddr=10.0.0.9>",
		"<sip:Alice@host.example;transport=udp;ob=1>",
	};
	size_t i;
	int c;
	const char *r;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	r = reg(c, "alice", "<sip:Alice@host.example;transport=udp>", NULL);
	assert_int_equal(h_status(r), 200);
	/* Host and parameters without case, escapes as what they stand
	 * for, a parameter only one side has ignored: the same binding,
	 * now shown as last registered. */
	r = reg(c, "alice", "<sip:Alice@HOST.example;Transport=UDP>", NULL);
	assert_int_equal(h_status(r), 200);
	assert_int_equal(reg_binding_count(), 1);
	assert_string_equal(h_hdr(r, "Contact"),
			    "<sip:Alice@HOST.example;Transport=UDP>;"
			    "expires=3600");
	r = reg(c, "alice", "<sip:%41lice@host.example;transport=%55dp;"
		"ob>", NULL);
	assert_int_equal(h_status(r), 200);
	assert_int_equal(reg_binding_count(), 1);
	assert_string_equal(h_hdr(r, "Contact"),
			    "<sip:Alice@host.example;transport=Udp;ob>;"
			    "expires=3600");
	/* Each of these is a binding of its own: the user part keeps its
	 * case; port 5060 given is not port omitted; transport, user, ttl,
	 * method and maddr count when only one side has them; any other
	 * parameter both have must be equal. */
	for (i = 0; i < sizeof(distinct) / sizeof(distinct[0]); i++) {
		assert_int_equal(h_status(reg(c, "alice", distinct[i], NULL)),
				 200);
		assert_int_equal(reg_binding_count(), (int)i + 2);
	}
	/* Two contacts of one request that are the same URI. */
	r = reg(c, "bob", "<sip:bob@10.0.0.2;transport=udp>, "
		"<sip:bob@10.0.0.2;TRANSPORT=UDP;x=1>", NULL);
	assert_int_equal(h_status(r), 400);
	assert_non_null(strstr(r, "Contact listed twice"));
	/* Removal finds the binding the same way (;OB tells it from the
	 * ;ob=1 one). */
	assert_int_equal(h_status(reg(c, "alice",
		"<sip:Alice@Host.Example;TRANSPORT=udp;OB>;expires=0", NULL)),
		200);
	assert_int_equal(reg_binding_count(), 6);
	r = reg(c, "alice", NULL, NULL);
	assert_int_equal(h_hdr_count(r, "Contact"), 6);
	assert_null(strstr(r, "transport=Udp;ob>"));
	assert_non_null(strstr(r, "transport=udp;ob=1>"));
	h_stop();
}

#define INST_X "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-" \
	"00A0C91E6BF6>\""
#define INST_X_LOWER "+sip.instance=\"<urn:uuid:00000000-0000-1000-" \
	"8000-00a0c91e6bf6>\""

/* Bindings with +sip.instance are one per instance and reg-id
 * (RFC 5626 section 6, RFC 5627), whatever their URI. */
static void test_instance_replaces_binding(void **state)
{
	int c2, c3, c5, bob;
	const char *r;

	(void)state;
	h_start(NULL);
	c2 = h_client(2);
	c3 = h_client(3);
	c5 = h_client(5);
	bob = h_client(4);
	r = reg_from(c2, 2, "alice", "<sip:alice@10.0.0.2:5060>;" INST_X,
		     "nat", 1);
	assert_int_equal(h_status(r), 200);
	/* The NAT gave the device a new address: same instance, new URI
	 * (the uuid in lower case is the same URN). */
	r = reg_from(c3, 3, "alice", "<sip:alice@10.0.0.3:5060>;"
		     INST_X_LOWER, "nat", 2);
	assert_int_equal(h_status(r), 200);
	assert_int_equal(reg_binding_count(), 1);
	assert_int_equal(h_hdr_count(r, "Contact"), 1);
	assert_string_equal(h_hdr(r, "Contact"), "<sip:alice@10.0.0.3:5060>;"
			    "expires=600;" INST_X_LOWER);
	/* A MESSAGE goes to the new address only. */
	h_message(bob, 4, "alice@" H_DOMAIN, "i1", NULL, "hi");
	r = h_wait(c3);
	assert_non_null(r);
	assert_int_equal(strncmp(r, "MESSAGE sip:alice@10.0.0.3:5060 ", 32),
			 0);
	assert_null(h_recv(c2));
	h_answer(c3, r, 200);
	assert_int_equal(h_status(h_wait(bob)), 200);

	/* Two flows of one instance (reg-id 1 and 2) are two bindings; a
	 * flow registered again from a new address replaces its own. */
	assert_int_equal(h_status(reg_from(c2, 2, "carol",
		"<sip:carol@10.0.0.2>;" INST_X ";reg-id=1", "f1", 1)), 200);
	assert_int_equal(h_status(reg_from(c3, 3, "carol",
		"<sip:carol@10.0.0.3>;" INST_X ";reg-id=2", "f2", 1)), 200);
	assert_int_equal(reg_binding_count(), 3);
	r = reg_from(c5, 5, "carol", "<sip:carol@10.0.0.5>;" INST_X
		     ";reg-id=1", "f1", 2);
	assert_int_equal(h_status(r), 200);
	assert_int_equal(reg_binding_count(), 3);
	assert_int_equal(h_hdr_count(r, "Contact"), 2);
	assert_non_null(strstr(r, "<sip:carol@10.0.0.5>;expires=600;" INST_X
			       ";reg-id=1"));
	assert_non_null(strstr(r, "<sip:carol@10.0.0.3>;expires=600;" INST_X
			       ";reg-id=2"));
	assert_null(strstr(r, "10.0.0.2"));
	/* Removing a flow goes by its reg-id, not by its URI. */
	r = reg_from(c5, 5, "carol", "<sip:carol@10.0.0.5>;" INST_X
		     ";reg-id=2;expires=0", "f2", 2);
	assert_int_equal(h_status(r), 200);
	assert_int_equal(reg_binding_count(), 2);
	assert_non_null(strstr(r, "<sip:carol@10.0.0.5>;expires=600;" INST_X
			       ";reg-id=1"));
	/* The same flow twice in one request. */
	r = reg_from(c5, 5, "carol", "<sip:carol@10.0.0.5>;" INST_X
		     ";reg-id=1, <sip:carol@10.0.0.6>;" INST_X_LOWER
		     ";reg-id=1", "f1", 3);
	assert_int_equal(h_status(r), 400);
	assert_non_null(strstr(r, "Contact listed twice"));
	/* What a malformed or overlong instance or reg-id gets; a reg-id
	 * without an instance means nothing. */
	r = reg(c5, "dave", "<sip:dave@10.0.0.5>;+sip.instance=\"<>\"", NULL);
	assert_non_null(strstr(r, "400 Malformed +sip.instance parameter"));
	r = reg(c5, "dave", "<sip:dave@10.0.0.5>;+sip.instance=\"<urn:x:a "
		"b>\"", NULL);
	assert_non_null(strstr(r, "400 Malformed +sip.instance parameter"));
	r = reg(c5, "dave", "<sip:dave@10.0.0.5>;" INST_X ";reg-id=0", NULL);
	assert_non_null(strstr(r, "400 Malformed reg-id parameter"));
	r = reg(c5, "dave", "<sip:dave@10.0.0.5>;+sip.instance=\"<urn:x:"
		"0123456789012345678901234567890123456789012345678901234567890"
		"123456789012345678901234567890123456789>\"", NULL);
	assert_non_null(strstr(r, "400 +sip.instance too long"));
	r = reg(c5, "dave", "<sip:dave@10.0.0.5>;reg-id=3", NULL);
	assert_int_equal(h_status(r), 200);
	assert_string_equal(h_hdr(r, "Contact"),
			    "<sip:dave@10.0.0.5>;expires=3600");
	h_run(40000);
	h_stop();
}

static int sweep_c, sweep_cur;

/* A refresh in the other spelling of the bound URI: equal only by
 * 19.1.4. The binding stays one whatever fails. */
static int uri_refresh_exchange(int n, int retry)
{
	static const char *const form[] = {
		"<sip:Alice@host.example;transport=udp>",
		"<sip:Alice@HOST.example;Transport=UDP>",
	};
	int code;

	(void)n;
	(void)retry;
	code = h_status(reg(sweep_c, "alice", form[!sweep_cur], NULL));
	h_drain(sweep_c);
	assert_int_equal(reg_binding_count(), 1);
	if (code == 200) {
		sweep_cur = !sweep_cur;
	}
	return code;
}

/* Every allocation of a refresh that parses the stored URI again fails
 * once in turn: 200 or 503, the binding stays one, nothing leaks. */
static void test_oom_sweep_uri_refresh(void **state)
{
	static const int ok[] = {200, 503, 0};

	(void)state;
	h_start(NULL);
	sweep_c = h_client(2);
	sweep_cur = 0;
	assert_int_equal(h_status(reg(sweep_c, "alice",
				      "<sip:Alice@host.example;transport=udp>",
				      NULL)), 200);
	assert_true(h_oom_sweep(uri_refresh_exchange, NULL, ok) > 2);
	h_run(40000);
	h_stop();
}

/* A contact that is simpled itself is never bound (a MESSAGE
 * to it would come back to us). */
static void test_self_contact_refused(void **state)
{
	static const char *const own[] = {
		"<sip:alice@10.0.0.1:5060>",	/* our listen address */
		"<sip:alice@10.0.0.1>",		/* 5060 by default */
		"<sip:alice@127.0.0.1:5060>",	/* loopback is always us */
		"<sip:alice@127.1.2.3;transport=udp>",
	};
	struct port_addr a;
	const char *r;
	unsigned i;
	int c;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		r = reg(c, "alice", own[i], NULL);
		assert_int_equal(h_status(r), 403);
		assert_non_null(strstr(r, "403 Contact points at this server"));
	}
	assert_int_equal(reg_binding_count(), 0);
	/* Our address at another port, or another host at our port, is
	 * someone else. */
	assert_int_equal(h_status(reg(c, "alice", "<sip:alice@10.0.0.1:5070>",
				      NULL)), 200);
	assert_int_equal(h_status(reg(c, "alice", "<sip:alice@127.0.0.1:5061>",
				      NULL)), 200);
	assert_int_equal(reg_binding_count(), 2);
	h_stop();

	/* A wildcard listener answers on every address of the host. */
	h_start("config simpled 'main'\n\tlist listen 'udp:0.0.0.0:5070'\n");
	assert_int_equal(sd_addr_parse(&a, "192.168.1.1", 0), 0);
	sim_local_addr(&a);
	c = h_client(2);
	r = reg(c, "alice", "<sip:alice@192.168.1.1:5070>", NULL);
	assert_int_equal(h_status(r), 403);
	assert_non_null(strstr(r, "Contact points at this server"));
	assert_int_equal(h_status(reg(c, "alice",
		"<sip:alice@127.0.0.1:5070>", NULL)), 403);
	/* Not a local address, or a local one at a port only a specific
	 * listener of another address has. */
	assert_int_equal(h_status(reg(c, "alice", "<sip:alice@10.0.0.7:5070>",
				      NULL)), 200);
	assert_int_equal(h_status(reg(c, "alice",
		"<sip:alice@192.168.1.1:5060>", NULL)), 200);
	assert_int_equal(reg_binding_count(), 2);
	h_stop();
}

/* The one table of names the daemon answers itself: services reserve
 * them at start, REGISTER refuses them with the reason, and the table is
 * emptied when the registrar stops. */
static void test_reserved_names(void **state)
{
	char name[80];
	const char *r;
	unsigned i;
	int c, err = 0;

	(void)state;
	h_start(NULL);
	c = h_client(2);
	assert_int_equal(reg_reserve("svc-a", "test service"), 0);
	assert_int_equal(reg_reserve("SVC-A", "test service"), 0);
	assert_int_equal(reg_reserve("Svc-A", "other service"), EEXIST);
	assert_int_equal(reg_reserve("", "test service"), EINVAL);
	memset(name, 'n', 64);
	name[64] = '\0';
	assert_int_equal(reg_reserve(name, "test service"), EINVAL);
	assert_string_equal(reg_reserved("sVc-a"), "test service");
	assert_null(reg_reserved("svc-b"));
	r = reg(c, "svc-a", "<sip:x@10.0.0.2>", NULL);
	assert_int_equal(h_status(r), 403);
	assert_non_null(strstr(r, "SIP/2.0 403 Name reserved for test "
			       "service\r\n"));
	r = reg(c, "%73vc-A", "<sip:x@10.0.0.2>", NULL);
	assert_non_null(strstr(r, "SIP/2.0 403 Name reserved for test "));
	assert_int_equal(reg_binding_count(), 0);
#ifdef CONFIG_SIMPLED_IMC
	assert_string_equal(reg_reserved("chat"), "chat rooms");
#endif
	for (i = 0; i < REG_MAX_RESERVED && !err; i++) {
		snprintf(name, sizeof(name), "fill%u", i);
		err = reg_reserve(name, "test service");
	}
	assert_int_equal(err, ENOSPC);
	h_stop();
	assert_null(reg_reserved("svc-a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry_after_one_hour),
		cmocka_unit_test(test_contacts_refresh_unregister),
		cmocka_unit_test(test_expires_bounds),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_pool_exhaustion_503),
		cmocka_unit_test(test_escaped_user_parts),
		cmocka_unit_test(test_star_out_of_order_changes_nothing),
		cmocka_unit_test(test_uri_comparison_19_1_4),
		cmocka_unit_test(test_instance_replaces_binding),
		cmocka_unit_test(test_oom_sweep_uri_refresh),
		cmocka_unit_test(test_self_contact_refused),
		cmocka_unit_test(test_reserved_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
