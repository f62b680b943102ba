/** @file fuzz_auth.c  libFuzzer: credentials. The daemon runs with
 * accounts and challenges on; each input is split at its first NUL into
 * a Request-URI user and a credential line, sent as the Authorization of a
 * REGISTER and the Proxy-Authorization of a MESSAGE (odd inputs with a
 * nonce the daemon just issued, so the checks past the nonce run too). A
 * crash, a sanitizer report or a leak fails it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_daemon.h"
#include "sip_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void send_req(const char *method, const char *hname,
		     const char *user, const char *cred, size_t clen)
{
	static char dgram[12000];
	static unsigned seq;
	int n;

	seq++;
	n = snprintf(dgram, sizeof(dgram),
		     "%s sip:%s@example.test SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa%u\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:%s@example.test>;tag=f%u\r\n"
		     "To: <sip:%s@example.test>\r\n"
		     "Call-ID: a%u@fuzz\r\nCSeq: 1 %s\r\n"
		     "Contact: <sip:alice@10.0.0.2>\r\n%s: ",
		     method, user, seq, user, seq, user, seq, method, hname);
	if (n < 0 || (size_t)n + clen + 64 > sizeof(dgram)) {
		return;
	}
	memcpy(dgram + n, cred, clen);
	n += (int)clen;
	n += snprintf(dgram + n, sizeof(dgram) - (size_t)n,
		      "\r\nContent-Length: 0\r\n\r\n");
	fuzz_daemon_send(dgram, (size_t)n);
	fuzz_daemon_run(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned inputs;
	char user[64] = "alice", cred[4096];
	const uint8_t *nul = memchr(data, 0, size);
	size_t ul = nul ? (size_t)(nul - data) : 0, cl;

	if (!fuzz_daemon_started()) {
		fuzz_daemon_start("fuzz-auth",
				  "config simpled 'main'\n"
				  "\toption open_registration '0'\n"
				  "config user\n\toption name 'alice'\n"
				  "\toption password 'wonder'\n");
	}
	if (nul && ul && ul < sizeof(user) && !memchr(data, '\r', ul) &&
	    !memchr(data, '\n', ul)) {
		memcpy(user, data, ul);
		user[ul] = '\0';
		data = nul + 1;
		size -= ul + 1;
	}
	cl = size < sizeof(cred) ? size : sizeof(cred) - 1;
	memcpy(cred, data, cl);
	if (inputs & 1) {
		/* A fresh nonce of ours where the input says N0NCE. */
		char n[SIP_NONCE_LEN + 1], *at;

		sip_nonce_new(n);
		cred[cl] = '\0';
		at = strstr(cred, "N0NCE");
		if (at && cl + SIP_NONCE_LEN < sizeof(cred)) {
			memmove(at + SIP_NONCE_LEN, at + 5,
				cl - (size_t)(at - cred) - 5);
			memcpy(at, n, SIP_NONCE_LEN);
			cl += SIP_NONCE_LEN - 5;
		}
	}
	send_req("REGISTER", "Authorization", user, cred, cl);
	send_req("MESSAGE", "Proxy-Authorization", user, cred, cl);
	if (++inputs % 64 == 0) {
		fuzz_daemon_run(70000);
	}
	return 0;
}
