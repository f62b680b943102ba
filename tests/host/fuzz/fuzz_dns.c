/** @file fuzz_dns.c  libFuzzer: answers from a name server. The daemon
 * resolves a named outbound proxy, and the contact host names of the
 * REGISTERs this target sends (a new name every fourth input, with a
 * port or without: SRV first), through a name server that is this
 * target: each input becomes the answer to the query the daemon has
 * waiting (its id and question kept, so the records are read), and virtual
 * time moves on so that the next query comes (refreshes, retries, the
 * REGISTERs waiting for their names). A crash, a sanitizer report or a
 * leak fails it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_daemon.h"
#include "port.h"
#include "sd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ns = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t q[512], m[2048];
	static unsigned inputs;
	struct port_addr from, a;
	size_t qlen = sizeof(q), o;

	if (!fuzz_daemon_started()) {
		fuzz_daemon_start("fuzz-dns",
				  "config simpled 'main'\n"
				  "\tlist resolver '10.0.0.53'\n"
				  "\toption resolve_contacts '1'\n"
				  "\toption outbound_proxy 'sip:p.far.test'\n");
		sd_addr_parse(&a, "10.0.0.53", 53);
		port_udp_open(&ns, &a);
	}
	if (inputs++ % 4 == 0) {
		char reg[512];
		int n = snprintf(reg, sizeof(reg),
			"REGISTER sip:example.test SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKf%u\r\n"
			"From: <sip:u%u@example.test>;tag=f\r\n"
			"To: <sip:u%u@example.test>\r\n"
			"Call-ID: f%u\r\nCSeq: 1 REGISTER\r\n"
			"Contact: <sip:u@c%u.far.test%s>\r\n"
			"Content-Length: 0\r\n\r\n", inputs, inputs % 64,
			inputs % 64, inputs, inputs % 512,
			inputs & 4 ? ":5070" : "");

		fuzz_daemon_send(reg, (size_t)n);
		fuzz_daemon_run(0);
	}
	/* Until a query waits (retries come within seconds, refreshes
	 * within the TTL floor of 30 s). */
	for (o = 0; o < 40 && port_recvfrom(ns, q, &qlen, &from); o++) {
		qlen = sizeof(q);
		fuzz_daemon_run(1000);
	}
	if (o == 40 || qlen < 12 || size < 4) {
		return 0;
	}
	/* id and question of the query; flags, counts and records from
	 * the input. */
	memcpy(m, q, qlen);
	m[2] = data[0] | 0x80;
	m[3] = data[1];
	m[6] = data[2];
	m[7] = data[3];
	o = size - 4 < sizeof(m) - qlen ? size - 4 : sizeof(m) - qlen;
	memcpy(m + qlen, data + 4, o);
	port_sendto(ns, m, qlen + o, &from);
	fuzz_daemon_run(0);
	return 0;
}
