/** @file fuzz_imc.c  libFuzzer: chat room #commands. The input is up to
 * eight commands separated by 0x1e; the first byte of each picks the
 * sender (one of three users) and the target (the manager or one of four
 * rooms), the rest is the MESSAGE body as sent. Each body goes through
 * imc_cmd_parse(), whose result must be well formed, and then as a
 * MESSAGE through the whole daemon on port/sim, so commands run against
 * the rooms earlier ones made. A crash, a sanitizer report or a leak
 * fails it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_daemon.h"
#include "imc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What imc_cmd_parse() hands back is well formed whatever it was given. */
static void check_parse(const uint8_t *body, size_t len)
{
	struct imc_cmd c;
	const char *why = NULL;

	if (!len || body[0] != '#') {
		return;
	}
	memset(&c, 0xa5, sizeof(c));
	if (imc_cmd_parse((const char *)body + 1, len - 1, &c, &why)) {
		if (!why || !why[0]) {
			abort(); /* a refusal always says why */
		}
		return;
	}
	if ((unsigned)c.kind >= IMC__COUNT ||
	    !memchr(c.user, '\0', sizeof(c.user)) ||
	    !memchr(c.room, '\0', sizeof(c.room))) {
		abort();
	}
}

static void send_one(const uint8_t *p, size_t len)
{
	static const char *const users[] = {"alice", "bob", "carol"};
	static const char *const to[] = {"chat", "r0", "r1", "r2", "r3"};
	static char dgram[10000];
	static unsigned seq;
	const char *from, *target;
	int n;

	if (!len) {
		return;
	}
	from = users[p[0] % 3];
	target = to[(p[0] / 3) % 5];
	p++;
	len--;
	if (len > 4096) {
		len = 4096;
	}
	check_parse(p, len);
	seq++;
	n = snprintf(dgram, sizeof(dgram),
		     "MESSAGE sip:%s@example.test SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKf%u\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:%s@example.test>;tag=f%u\r\n"
		     "To: <sip:%s@example.test>\r\n"
		     "Call-ID: c%u@fuzz\r\n"
		     "CSeq: 1 MESSAGE\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %zu\r\n\r\n",
		     target, seq, from, seq, target, seq, len);
	memcpy(dgram + n, p, len);
	fuzz_daemon_send(dgram, (size_t)n + len);
	fuzz_daemon_run(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned inputs;
	const uint8_t *p = data, *end = data + size, *sep;
	int k;

	if (!fuzz_daemon_started()) {
		fuzz_daemon_start("fuzz-imc", "config imc\n"
				  "\toption rooms_domain 'example.test'\n");
	}
	for (k = 0; k < 8 && p < end; k++) {
		sep = memchr(p, 0x1e, (size_t)(end - p));
		send_one(p, (size_t)((sep ? sep : end) - p));
		p = sep ? sep + 1 : end;
	}
	if (++inputs % 64 == 0) {
		fuzz_daemon_run(70000); /* every transaction timer ends */
	}
	return 0;
}
