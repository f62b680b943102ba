/** @file test_sim_tcp.c  TCP on virtual time (port/sim streams): a
 * REGISTER and MESSAGEs over one connection, framing of pipelined and
 * split requests, keep-alive pings, and the first-request and message
 * deadlines that close slow peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "port.h"

#define OPTIONS(br) "OPTIONS sip:" H_DOMAIN " SIP/2.0\n" \
	"Via: SIP/2.0/TCP 10.0.0.2:5060;branch=z9hG4bK" br "\n" \
	"From: <sip:bob@" H_DOMAIN ">;tag=t\nTo: <sip:" H_DOMAIN ">\n" \
	"Call-ID: " br "\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n"

/* A registration over TCP: MESSAGEs for alice come back on her
 * connection, her answer on it ends bob's (UDP) transaction. */
static void test_register_and_message_over_tcp(void **state)
{
	static char copy[8192];
	const char *r;
	int alice, bob;

	(void)state;
	h_start(H_TCP);
	alice = h_tcp_client(2);
	bob = h_client(3);
	h_tcp_send(alice, "REGISTER sip:" H_DOMAIN " SIP/2.0\n"
		   "Via: SIP/2.0/TCP 10.0.0.2:5060;branch=z9hG4bKtr1\n"
		   "From: <sip:alice@" H_DOMAIN ">;tag=a\n"
		   "To: <sip:alice@" H_DOMAIN ">\nCall-ID: tr1\n"
		   "CSeq: 1 REGISTER\n"
		   "Contact: <sip:alice@10.0.0.2:5060;transport=tcp>\n"
		   "Expires: 600\nContent-Length: 0\n\n");
	r = h_tcp_recv(alice);
	assert_non_null(r);
	assert_int_equal(h_status(r), 200);
	h_message(bob, 3, "alice@" H_DOMAIN, "tm1", NULL, "over tcp");
	r = h_tcp_recv(alice);
	assert_non_null(r);
	assert_int_equal(strncmp(r, "MESSAGE ", 8), 0);
	assert_non_null(strstr(r, "Via: SIP/2.0/TCP"));
	assert_string_equal(h_body(r), "over tcp");
	snprintf(copy, sizeof(copy), "%s", r);
	h_answer_tcp(alice, copy, 200);
	assert_int_equal(h_status(h_wait(bob)), 200);
	port_close(alice);
	h_run(40000);
	h_stop();
}

/* Two requests in one write, one request in three writes across loop
 * turns, and a CRLF CRLF ping between them (a CRLF pong back). */
static void test_framing(void **state)
{
	static const char split[] = OPTIONS("sp3");
	int c;
	size_t n = strlen(split) / 3;

	(void)state;
	h_start(H_TCP);
	c = h_tcp_client(2);
	h_tcp_send(c, OPTIONS("pa1") OPTIONS("pa2"));
	assert_int_equal(h_status(h_tcp_recv(c)), 200);
	assert_int_equal(h_status(h_tcp_recv(c)), 200);
	h_tcp_send(c, "%.*s", (int)n, split);
	assert_null(h_tcp_recv(c));
	h_tcp_send(c, "%.*s", (int)n, split + n);
	assert_null(h_tcp_recv(c));
	h_tcp_send(c, "%s", split + 2 * n);
	assert_int_equal(h_status(h_tcp_recv(c)), 200);
	h_tcp_send(c, "\r\n\r\n");
	assert_null(h_tcp_recv(c));
	assert_string_equal(h_tcp_pending(), "\r\n");
	port_close(c);
	h_run(40000);
	h_stop();
}

/* A peer that began a message must end it within 5 s, and one that
 * connects must bring its first request within 10 s: then the server
 * closes. A peer that is served stays. */
static void test_deadlines(void **state)
{
	int slow, silent, good;

	(void)state;
	h_start(H_TCP);
	slow = h_tcp_client(2);
	silent = h_tcp_client(4);
	good = h_tcp_client(5);
	h_tcp_send(good, OPTIONS("ok1"));
	assert_int_equal(h_status(h_tcp_recv(good)), 200);
	h_tcp_send(slow, "O");
	h_run(4000);
	assert_false(h_tcp_closed(slow));
	h_run(1500);
	assert_true(h_tcp_closed(slow));
	assert_false(h_tcp_closed(silent));
	h_run(5000);
	assert_true(h_tcp_closed(silent));
	assert_false(h_tcp_closed(good));
	port_close(slow);
	port_close(silent);
	port_close(good);
	h_run(40000);
	h_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_message_over_tcp),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_deadlines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
