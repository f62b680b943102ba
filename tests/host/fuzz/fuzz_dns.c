/** @file fuzz_dns.c  libFuzzer: answers from a name server. The daemon
 * resolves a named outbound proxy through a name server that is this
 * target: each input becomes the answer to the query the daemon has
 * waiting (its id and question kept, so the records are read), and virtual
 * time moves on so that the next query comes (refreshes, retries). A
 * crash, a sanitizer report or a leak fails it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_daemon.h"
#include "port.h"
#include "sd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ns = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t q[512], m[2048];
	struct port_addr from, a;
	size_t qlen = sizeof(q), o;

	if (!fuzz_daemon_started()) {
		fuzz_daemon_start("fuzz-dns",
				  "config simpled 'main'\n"
				  "\tlist resolver '10.0.0.53'\n"
				  "\toption outbound_proxy 'sip:p.far.test'\n");
		sd_addr_parse(&a, "10.0.0.53", 53);
		port_udp_open(&ns, &a);
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
