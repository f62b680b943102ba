/** @file test_port_lwip.c  The porting contract on lwIP's socket API
 * (port/lwip), on the host against Debian's liblwip: UDP and TCP through
 * port_watch()/port_poll(), then the daemon itself over lwIP answering
 * OPTIONS, taking a REGISTER and relaying a MESSAGE to the registered
 * client, all on one lwIP interface whose address loops back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app.h"
#include "loop.h"
#include "port.h"
#include "port_lwip.h"
#include "sd.h"

#define IP "10.10.0.1"

static unsigned fired;
static unsigned fired_ev;

static void on_ev(int sock, unsigned ev, void *arg)
{
	(void)sock;
	(void)arg;
	fired++;
	fired_ev |= ev;
}

static struct port_addr at(uint16_t port)
{
	struct port_addr a;

	assert_int_equal(sd_addr_parse(&a, IP, port), 0);
	return a;
}

/* Run the loop until cond() or about a second has gone. */
static void poll_until(int (*cond)(void))
{
	int i;

	for (i = 0; i < 40 && !cond(); i++) {
		assert_int_equal(port_poll(25), 0);
	}
}

static int has_fired(void)
{
	return fired > 0;
}

static void test_udp(void **state)
{
	struct port_addr a = at(6000), b = at(6001), src;
	char buf[64];
	size_t len = sizeof(buf);
	int sa, sb;

	(void)state;
	assert_int_equal(port_udp_open(&sa, &a), 0);
	assert_int_equal(port_udp_open(&sb, &b), 0);
	assert_int_equal(port_recvfrom(sa, buf, &len, &src), EAGAIN);
	assert_int_equal(port_watch(sa, PORT_EV_READ, on_ev, NULL), 0);
	fired = fired_ev = 0;
	assert_int_equal(port_sendto(sb, "ping", 4, &a), 0);
	poll_until(has_fired);
	assert_int_equal(fired, 1);
	assert_true(fired_ev & PORT_EV_READ);
	len = sizeof(buf);
	assert_int_equal(port_recvfrom(sa, buf, &len, &src), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(src.port, 6001);
	len = sizeof(buf);
	assert_int_equal(port_recvfrom(sa, buf, &len, &src), EAGAIN);
	/* A datagram longer than the buffer: its start, and EMSGSIZE. */
	assert_int_equal(port_sendto(sb, "0123456789", 10, &a), 0);
	fired = 0;
	poll_until(has_fired);
	len = 4;
	assert_int_equal(port_recvfrom(sa, buf, &len, &src), EMSGSIZE);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(port_close(sa), 0);
	assert_int_equal(port_close(sb), 0);
}

static int accepted = -1;

static void on_accept(int lsock, unsigned ev, void *arg)
{
	struct port_addr peer;

	(void)ev;
	(void)arg;
	assert_int_equal(port_tcp_accept(lsock, &accepted, &peer), 0);
}

static int has_accepted(void)
{
	return accepted >= 0;
}

static void test_tcp(void **state)
{
	struct port_addr l = at(6010), local;
	char buf[64];
	size_t n = 0, got = 0;
	int ls, cs, i;

	(void)state;
	assert_int_equal(port_tcp_listen(&ls, &l), 0);
	assert_int_equal(port_watch(ls, PORT_EV_READ, on_accept, NULL), 0);
	assert_int_equal(port_tcp_connect(&cs, &l), 0);
	poll_until(has_accepted);
	assert_true(accepted >= 0);
	assert_int_equal(port_local_addr(ls, &local), 0);
	assert_int_equal(local.port, 6010);
	for (i = 0; i < 40 && !n; i++) {
		if (port_send(cs, "hello", 5, &n) == EAGAIN) {
			port_poll(25);
		}
	}
	assert_int_equal(n, 5);
	for (i = 0; i < 40 && port_recv(accepted, buf, sizeof(buf), &got) ==
	     EAGAIN; i++) {
		port_poll(25);
	}
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "hello", 5);
	/* The peer closing reads as 0 bytes. */
	assert_int_equal(port_close(cs), 0);
	for (i = 0; i < 40 && port_recv(accepted, buf, sizeof(buf), &got) ==
	     EAGAIN; i++) {
		port_poll(25);
	}
	assert_int_equal(got, 0);
	port_close(accepted);
	port_close(ls);
}

/* A SIP exchange with the daemon over lwIP. */
static char rx[8192];

static const char *recv_one(int s)
{
	struct port_addr src;
	size_t len;
	int i;

	for (i = 0; i < 40; i++) {
		len = sizeof(rx) - 1;
		if (!port_recvfrom(s, rx, &len, &src)) {
			rx[len] = '\0';
			return rx;
		}
		loop_once(25);
	}
	return NULL;
}

static void send_req(int s, const char *fmt, ...)
{
	struct port_addr srv = at(5060);
	char out[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(out));
	assert_int_equal(port_sendto(s, out, (size_t)n, &srv), 0);
}

static void test_daemon(void **state)
{
	char cfg[1024], dir[] = "/tmp/lwip-state.XXXXXX", err[256];
	struct port_addr ca = at(6020), cb = at(6021);
	const char *m;
	char via[256], from[256], to[256], cid[128], cseq[64];
	int alice, bob;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cfg, sizeof(cfg),
		 "config simpled 'main'\n"
		 "\tlist domain 'lwip.test'\n"
		 "\tlist listen 'udp:" IP ":5060'\n"
		 "\toption state_dir '%s'\n"
		 "\toption open_registration '1'\n"
		 "\toption resolve_contacts '0'\n", dir);
	assert_int_equal(app_configure(NULL, cfg, err, sizeof(err)), 0);
	assert_int_equal(app_start(), 0);
	assert_int_equal(port_udp_open(&alice, &ca), 0);
	assert_int_equal(port_udp_open(&bob, &cb), 0);

	send_req(bob, "OPTIONS sip:lwip.test SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP " IP ":6021;branch=z9hG4bKo1\r\n"
		 "From: <sip:bob@lwip.test>;tag=b\r\nTo: <sip:lwip.test>\r\n"
		 "Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	m = recv_one(bob);
	assert_non_null(m);
	assert_true(!strncmp(m, "SIP/2.0 200", 11));

	send_req(alice, "REGISTER sip:lwip.test SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP " IP ":6020;branch=z9hG4bKr1\r\n"
		 "From: <sip:alice@lwip.test>;tag=a\r\n"
		 "To: <sip:alice@lwip.test>\r\nCall-ID: r1\r\n"
		 "CSeq: 1 REGISTER\r\nContact: <sip:alice@" IP ":6020>\r\n"
		 "Expires: 600\r\nContent-Length: 0\r\n\r\n");
	m = recv_one(alice);
	assert_non_null(m);
	assert_true(!strncmp(m, "SIP/2.0 200", 11));

	send_req(bob, "MESSAGE sip:alice@lwip.test SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP " IP ":6021;branch=z9hG4bKm1\r\n"
		 "From: <sip:bob@lwip.test>;tag=b\r\n"
		 "To: <sip:alice@lwip.test>\r\nCall-ID: m1\r\n"
		 "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
		 "Content-Length: 9\r\n\r\nover lwIP");
	m = recv_one(alice);
	assert_non_null(m);
	assert_true(!strncmp(m, "MESSAGE sip:alice@" IP ":6020", 29));
	assert_non_null(strstr(m, "\r\n\r\nover lwIP"));
	/* alice answers 200: bob gets it. */
	assert_int_equal(sscanf(strstr(m, "\r\nVia:") + 2, "%255[^\r]", via),
			 1);
	assert_int_equal(sscanf(strstr(m, "\r\nFrom:") + 2, "%255[^\r]",
				from), 1);
	assert_int_equal(sscanf(strstr(m, "\r\nTo:") + 2, "%255[^\r]", to), 1);
	assert_int_equal(sscanf(strstr(m, "\r\nCall-ID:") + 2, "%127[^\r]",
				cid), 1);
	assert_int_equal(sscanf(strstr(m, "\r\nCSeq:") + 2, "%63[^\r]", cseq),
			 1);
	send_req(alice, "SIP/2.0 200 OK\r\n%s\r\n%s\r\n%s;tag=al\r\n%s\r\n"
		 "%s\r\nContent-Length: 0\r\n\r\n", via, from, to, cid, cseq);
	m = recv_one(bob);
	assert_non_null(m);
	assert_true(!strncmp(m, "SIP/2.0 200", 11));
	port_close(alice);
	port_close(bob);
	app_stop();
	snprintf(cfg, sizeof(cfg), "%s/data.mdb", dir);
	unlink(cfg);
	snprintf(cfg, sizeof(cfg), "%s/lock.mdb", dir);
	unlink(cfg);
	rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(port_init(), 0);
	assert_int_equal(port_lwip_netif_up(IP), 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_daemon),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
