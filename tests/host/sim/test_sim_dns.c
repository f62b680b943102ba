/** @file test_sim_dns.c  An outbound proxy given by name, on virtual
 * time: RFC 3263's SRV then A (or A alone), MESSAGEs answered 503 until
 * it is resolved, the answer's TTL honoured, a failed refresh keeping the
 * last address. The name server is a socket of this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "harness.h"
#include "port.h"
#include "sd.h"

static int ns;

/* A socket at ip:port of the simulated network. */
static int sock_at(const char *ip, uint16_t port)
{
	struct port_addr a;
	int s;

	assert_int_equal(sd_addr_parse(&a, ip, port), 0);
	assert_int_equal(port_udp_open(&s, &a), 0);
	return s;
}

struct query {
	uint8_t msg[512];
	size_t len;
	struct port_addr from;
	char name[256];
	unsigned type;
};

/* The next query the daemon sent to our name server. */
static int take_query(struct query *q)
{
	uint8_t msg[sizeof(q->msg)];
	struct port_addr from;
	size_t o = 12, n = 0, len = sizeof(msg);

	if (port_recvfrom(ns, msg, &len, &from)) {
		return 0; /* q keeps the last query */
	}
	memcpy(q->msg, msg, len);
	q->len = len;
	q->from = from;
	assert_true(q->len > 17);
	while (q->msg[o]) {
		size_t l = q->msg[o++];

		if (n) {
			q->name[n++] = '.';
		}
		memcpy(q->name + n, q->msg + o, l);
		n += l;
		o += l;
	}
	q->name[n] = '\0';
	q->type = (unsigned)(q->msg[o + 1] << 8 | q->msg[o + 2]);
	return 1;
}

static size_t put_name(uint8_t *b, const char *name)
{
	size_t o = 0;

	while (*name) {
		size_t l = strcspn(name, ".");

		b[o++] = (uint8_t)l;
		memcpy(b + o, name, l);
		o += l;
		name += l + (name[l] == '.');
	}
	b[o++] = 0;
	return o;
}

/* An answer to q being written: its question copied, records added. */
struct answer {
	const struct query *q;
	uint8_t m[800];
	size_t o;
};

static void answer_begin(struct answer *a, const struct query *q,
			 unsigned rcode)
{
	a->q = q;
	memcpy(a->m, q->msg, q->len);
	a->o = q->len;
	a->m[2] = 0x81;				/* response, RD */
	a->m[3] = (uint8_t)(0x80 | rcode);	/* RA */
	a->m[7] = 0;
}

/* One record of class IN: owned by owner, or by the question's name when
 * owner is NULL. */
static void answer_rr(struct answer *a, const char *owner, unsigned type,
		      uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	uint8_t *m = a->m;
	size_t o = a->o;

	if (owner) {
		o += put_name(m + o, owner);
	} else {
		m[o++] = 0xc0;
		m[o++] = 12;
	}
	m[o++] = (uint8_t)(type >> 8);
	m[o++] = (uint8_t)type;
	m[o++] = 0;
	m[o++] = 1;
	m[o++] = (uint8_t)(ttl >> 24);
	m[o++] = (uint8_t)(ttl >> 16);
	m[o++] = (uint8_t)(ttl >> 8);
	m[o++] = (uint8_t)ttl;
	m[o++] = (uint8_t)(rdlen >> 8);
	m[o++] = (uint8_t)rdlen;
	memcpy(m + o, rd, rdlen);
	a->o = o + rdlen;
	m[7]++;
}

static void answer_send(const struct answer *a)
{
	assert_int_equal(port_sendto(ns, a->m, a->o, &a->q->from), 0);
}

/* Answer q: rcode, and one record of rdata (none when rdlen 0). */
static void reply(const struct query *q, unsigned rcode, uint32_t ttl,
		  const uint8_t *rdata, size_t rdlen)
{
	struct answer a;

	answer_begin(&a, q, rcode);
	if (rdlen) {
		answer_rr(&a, NULL, q->type, ttl, rdata, rdlen);
	}
	answer_send(&a);
}

static void reply_a(const struct query *q, const char *ip, uint32_t ttl)
{
	struct port_addr a;

	assert_int_equal(sd_addr_parse(&a, ip, 0), 0);
	reply(q, 0, ttl, a.ip, 4);
}

/* The rdata of an SRV record into rd. @return its length. */
static size_t srv_rdata(uint8_t *rd, uint16_t prio, uint16_t port,
			const char *target)
{
	rd[0] = (uint8_t)(prio >> 8);
	rd[1] = (uint8_t)prio;
	rd[2] = rd[3] = 0; /* weight */
	rd[4] = (uint8_t)(port >> 8);
	rd[5] = (uint8_t)port;
	return 6 + put_name(rd + 6, target);
}

static void reply_srv(const struct query *q, uint16_t prio, uint16_t port,
		      const char *target, uint32_t ttl)
{
	uint8_t rd[300];

	reply(q, 0, ttl, rd, srv_rdata(rd, prio, port, target));
}

/* The daemon with the test as its name server and this outbound proxy.
 * @return bob (client 3). */
static int proxy_start(const char *proxy)
{
	char cfg[256];

	snprintf(cfg, sizeof(cfg), "config simpled 'main'\n"
		 "\tlist resolver '10.0.0.53'\n"
		 "\toption outbound_proxy '%s'\n", proxy);
	h_start(cfg);
	ns = sock_at("10.0.0.53", 53);
	return h_client(3);
}

/* bob's MESSAGE for dave@far.test; the status bob gets at once (0 when
 * it was relayed and waits). */
static int to_dave(int bob, const char *tok)
{
	h_drain(bob); /* 408s of earlier ones nobody answered */
	h_request(bob, &(struct h_req){.method = "MESSAGE", .n = 3,
		.from = "bob", .to = "dave@far.test",
		.ruri = "sip:dave@far.test", .body = tok});
	return h_status(h_wait(bob));
}

/* Did a MESSAGE holding tok reach the socket s (among what is queued)? */
static int reached(int s, const char *tok)
{
	char buf[8192];
	struct port_addr src;
	size_t len = sizeof(buf) - 1;
	int found = 0;

	while (!port_recvfrom(s, buf, &len, &src)) {
		buf[len] = '\0';
		found |= strstr(buf, tok) != NULL;
		len = sizeof(buf) - 1;
	}
	return found;
}

static void test_named_proxy_srv_then_a(void **state)
{
	struct query q;
	int bob, p1, p2;

	(void)state;
	bob = proxy_start("sip:proxy.far.test");
	p1 = sock_at("10.0.0.9", 5070);
	p2 = sock_at("10.0.0.8", 5060);
	/* Not resolved yet: 503 with a time to come back. */
	assert_int_equal(to_dave(bob, "early"), 503);
	h_run(1100); /* the first query found nobody: asked again */
	assert_true(take_query(&q));
	assert_string_equal(q.name, "_sip._udp.proxy.far.test");
	assert_int_equal(q.type, 33);
	reply_srv(&q, 10, 5070, "pp.far.test", 120);
	h_run(10);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "pp.far.test");
	assert_int_equal(q.type, 1);
	reply_a(&q, "10.0.0.9", 60);
	h_run(10);
	assert_int_equal(to_dave(bob, "srv-one"), 0);
	assert_true(reached(p1, "srv-one"));
	/* The A record's 60 s (the smaller TTL) run out: asked again; no
	 * SRV record now, so the name itself on 5060. */
	h_run(60000);
	while (take_query(&q) && q.type != 33) {
	}
	assert_string_equal(q.name, "_sip._udp.proxy.far.test");
	reply(&q, 3, 0, NULL, 0); /* NXDOMAIN */
	h_run(10);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "proxy.far.test");
	reply_a(&q, "10.0.0.8", 3600);
	h_run(10);
	assert_int_equal(to_dave(bob, "by-a"), 0);
	assert_true(reached(p2, "by-a"));
	/* A refresh nobody answers keeps the last address. */
	h_run(3600 * 1000 + 20000);
	assert_int_equal(to_dave(bob, "kept"), 0);
	assert_true(reached(p2, "kept"));
	h_run(40000);
	h_stop();
}

/* With a port the name is looked up by A alone. */
static void test_named_proxy_with_port(void **state)
{
	struct query q;
	int bob, p;

	(void)state;
	bob = proxy_start("sip:gw.far.test:5080");
	p = sock_at("10.0.0.7", 5080);
	h_run(1100);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "gw.far.test");
	assert_int_equal(q.type, 1);
	reply_a(&q, "10.0.0.7", 300);
	h_run(10);
	assert_int_equal(to_dave(bob, "with-port"), 0);
	assert_true(reached(p, "with-port"));
	h_run(40000);
	h_stop();
}

/* An A record for another name than the one asked. */
static void reply_a_owner(const struct query *q, const char *owner,
			  const char *ip)
{
	struct answer ans;
	struct port_addr a;

	assert_int_equal(sd_addr_parse(&a, ip, 0), 0);
	answer_begin(&ans, q, 0);
	answer_rr(&ans, owner, 1, 3600, a.ip, 4);
	answer_send(&ans);
}

/* Answers that must not be believed or acted on: a record owned by
 * another name; a SERVFAIL for the SRV (no fallback to the bare name,
 * which RFC 3263 allows only when there is no SRV record). */
static void test_answers_not_believed(void **state)
{
	struct query q;
	int bob, p;

	(void)state;
	bob = proxy_start("sip:gw.far.test:5080");
	p = sock_at("10.0.0.66", 5080);
	h_run(1100);
	assert_true(take_query(&q));
	reply_a_owner(&q, "unrelated.evil", "10.0.0.66");
	h_run(10);
	assert_int_equal(to_dave(bob, "own"), 503);
	assert_false(reached(p, "own"));
	h_run(40000);
	h_stop();

	proxy_start("sip:proxy.far.test");
	h_run(1100);
	assert_true(take_query(&q));
	assert_int_equal(q.type, 33);
	reply(&q, 2, 0, NULL, 0); /* SERVFAIL */
	h_run(10);
	/* The SRV again (the next server: here the same), never an A
	 * query for the bare name. */
	assert_true(take_query(&q));
	assert_int_equal(q.type, 33);
	h_run(40000);
	h_stop();
}

/* With two servers: a SERVFAIL from one sends the question to the other
 * at once; an answer from a server asked earlier still counts. */
static void test_two_servers(void **state)
{
	struct query q;
	int bob, p, ns1, ns2;

	(void)state;
	h_start("config simpled 'main'\n"
		"\tlist resolver '10.0.0.53'\n"
		"\tlist resolver '10.0.0.54'\n"
		"\toption outbound_proxy 'sip:gw.far.test:5080'\n");
	ns1 = sock_at("10.0.0.53", 53);
	ns2 = sock_at("10.0.0.54", 53);
	bob = h_client(3);
	p = sock_at("10.0.0.7", 5080);
	h_run(1100); /* try 1 (ns1) found nobody; try 2 went to ns2 */
	ns = ns1;
	while (take_query(&q)) {
	}
	ns = ns2;
	assert_true(take_query(&q));
	reply(&q, 2, 0, NULL, 0); /* ns2: SERVFAIL */
	h_run(10);
	ns = ns1;
	assert_true(take_query(&q)); /* at once to ns1 */
	assert_string_equal(q.name, "gw.far.test");
	h_run(2100); /* ns1 is slow: try 4 went to ns2 */
	ns = ns2;
	while (take_query(&q)) {
	}
	ns = ns1;
	reply_a(&q, "10.0.0.7", 300); /* ns1 answers after all */
	h_run(10);
	assert_int_equal(to_dave(bob, "late"), 0);
	assert_true(reached(p, "late"));
	h_run(40000);
	h_stop();
}

/* Two SRV records in one answer. */
static void reply_srv2(const struct query *q, uint16_t p1, uint16_t port1,
		       const char *t1, uint16_t p2, uint16_t port2,
		       const char *t2)
{
	struct answer a;
	uint8_t rd[300];

	answer_begin(&a, q, 0);
	answer_rr(&a, NULL, 33, 60, rd, srv_rdata(rd, p1, port1, t1));
	answer_rr(&a, NULL, 33, 60, rd, srv_rdata(rd, p2, port2, t2));
	answer_send(&a);
}

/* The best SRV target has no address: the next one is used (RFC 2782
 * priorities). */
static void test_srv_failover(void **state)
{
	struct query q;
	int bob, p;

	(void)state;
	bob = proxy_start("sip:proxy.far.test");
	p = sock_at("10.0.0.9", 5071);
	h_run(1100);
	assert_true(take_query(&q));
	reply_srv2(&q, 20, 5071, "pp.far.test", 10, 5070, "dead.far.test");
	h_run(10);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "dead.far.test"); /* priority 10 first */
	reply(&q, 3, 0, NULL, 0);
	h_run(10);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "dead.far.test");
	assert_int_equal(q.type, 28); /* then its AAAA */
	reply(&q, 3, 0, NULL, 0);
	h_run(10);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "pp.far.test");
	reply_a(&q, "10.0.0.9", 300);
	h_run(10);
	assert_int_equal(to_dave(bob, "fail-over"), 0);
	assert_true(reached(p, "fail-over"));
	h_run(40000);
	h_stop();
}

/* resolv.conf: the nameserver lines, at most as many as asked. */
static void test_resolv_conf(void **state)
{
	struct port_addr a[3];
	char ip[64];

	(void)state;
	assert_int_equal(dns_parse_resolv_conf(
		"# by dhcp\nsearch lan\nnameserver 192.168.1.1\n"
		"nameserver fd00::1\n nameserver  10.0.0.53 \n"
		"nameserver 10.9.9.9\nnameserver bogus\n", a, 3), 3);
	sd_addr_str(&a[0], ip, sizeof(ip));
	assert_string_equal(ip, "192.168.1.1:53");
	sd_addr_str(&a[1], ip, sizeof(ip));
	assert_string_equal(ip, "[fd00::1]:53");
	sd_addr_str(&a[2], ip, sizeof(ip));
	assert_string_equal(ip, "10.0.0.53:53");
	assert_int_equal(dns_parse_resolv_conf("", a, 3), 0);
}

/* ------------------------------------------------ host names in contacts */

#define NAMES_CFG "config simpled 'main'\n" \
		  "\tlist resolver '10.0.0.53'\n" \
		  "\toption resolve_contacts '1'\n"

/* alice (client 2) registers contact; the status she gets within 10 ms
 * (0: none yet, it waits for a name). */
static int register_contact(int alice, const char *contact)
{
	h_request(alice, &(struct h_req){.method = "REGISTER", .n = 2,
		.from = "alice", .contact = contact,
		.hdrs = "Expires: 600\n"});
	return h_status(h_wait(alice));
}

/* bob's MESSAGE for alice, answered by whoever got it (the socket
 * answered is not checked here: reached() says where it went). */
static void to_alice(int bob, const char *tok)
{
	h_drain(bob);
	h_request(bob, &(struct h_req){.method = "MESSAGE", .n = 3,
		.from = "bob", .to = "alice", .body = tok});
	h_run(10);
}

/* The daemon resolving contact names, the test its name server; alice
 * (client 2), bob (client 3) and a phone at 10.0.0.7:port. */
static void names_start(int *alice, int *bob, int *phone, uint16_t port)
{
	h_start(NAMES_CFG);
	ns = sock_at("10.0.0.53", 53);
	*alice = h_client(2);
	*bob = h_client(3);
	*phone = sock_at("10.0.0.7", port);
}

/* A contact named by a host and port: its REGISTER waits for the A
 * record, the MESSAGEs for it go to that address, and the name is kept
 * for its TTL (a second REGISTER asks nothing). */
static void test_contact_name_a(void **state)
{
	struct query q;
	int alice, bob, phone;

	(void)state;
	names_start(&alice, &bob, &phone, 5072);
	assert_int_equal(register_contact(alice,
		"<sip:alice@phone.far.test:5072>"), 0);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "phone.far.test");
	assert_int_equal(q.type, 1);
	reply_a(&q, "10.0.0.7", 300);
	assert_int_equal(h_status(h_wait(alice)), 200);
	to_alice(bob, "to-the-phone");
	assert_true(reached(phone, "to-the-phone"));
	assert_false(reached(alice, "to-the-phone"));
	/* Cached: answered at once, no query. */
	assert_int_equal(register_contact(alice,
		"<sip:alice@phone.far.test:5072>"), 200);
	assert_false(take_query(&q));
	h_run(40000);
	h_stop();
}

/* Without a port: SRV _sip._udp first, its target's A, its port. */
static void test_contact_name_srv(void **state)
{
	struct query q;
	int alice, bob, phone;

	(void)state;
	names_start(&alice, &bob, &phone, 5074);
	assert_int_equal(register_contact(alice,
		"<sip:alice@phone.far.test>"), 0);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "_sip._udp.phone.far.test");
	reply_srv(&q, 10, 5074, "ph.far.test", 300);
	h_run(10);
	assert_true(take_query(&q));
	assert_string_equal(q.name, "ph.far.test");
	reply_a(&q, "10.0.0.7", 300);
	assert_int_equal(h_status(h_wait(alice)), 200);
	to_alice(bob, "by-srv");
	assert_true(reached(phone, "by-srv"));
	h_run(40000);
	h_stop();
}

/* A name with no address (NXDOMAIN for A and AAAA): the contact is
 * reached where its REGISTER came from, as without name servers; a name
 * that is this server is refused like its address. */
static void test_contact_name_unknown_or_self(void **state)
{
	struct query q;
	int alice, bob;

	(void)state;
	h_start(NAMES_CFG);
	ns = sock_at("10.0.0.53", 53);
	alice = h_client(2);
	bob = h_client(3);
	assert_int_equal(register_contact(alice,
		"<sip:alice@laptop.local:5060>"), 0);
	assert_true(take_query(&q));
	reply(&q, 3, 0, NULL, 0);
	h_run(10);
	assert_true(take_query(&q));
	assert_int_equal(q.type, 28);
	reply(&q, 3, 0, NULL, 0);
	assert_int_equal(h_status(h_wait(alice)), 200);
	to_alice(bob, "to-the-source");
	assert_true(reached(alice, "to-the-source"));
	assert_int_equal(register_contact(alice,
		"<sip:alice@us.far.test:5060>"), 0);
	assert_true(take_query(&q));
	reply_a(&q, H_SERVER, 300);
	assert_int_equal(h_status(h_wait(alice)), 403);
	h_run(40000);
	h_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_proxy_srv_then_a),
		cmocka_unit_test(test_named_proxy_with_port),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_answers_not_believed),
		cmocka_unit_test(test_two_servers),
		cmocka_unit_test(test_srv_failover),
		cmocka_unit_test(test_contact_name_a),
		cmocka_unit_test(test_contact_name_srv),
		cmocka_unit_test(test_contact_name_unknown_or_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
