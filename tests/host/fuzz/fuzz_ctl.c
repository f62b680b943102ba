/** @file fuzz_ctl.c  libFuzzer: control requests. Each input is one
 * request line as the control socket reads it: parsed, and when it
 * parses, run against the whole daemon on port/sim (which registers a
 * user now and then, so that registrations has something to show). The
 * answer must be one JSON object: it starts with '{', ends with '}' and
 * holds no newline. A crash, a sanitizer report or a leak fails it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_priv.h"
#include "fuzz_daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_req req;
	static char answer[CONFIG_SIMPLED_CTL_MAX_ANSWER];
	static const char reg[] =
		"REGISTER sip:example.test SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKc1\r\n"
		"From: <sip:u%22q@example.test>;tag=f\r\n"
		"To: <sip:u%22q@example.test>\r\n"
		"Call-ID: c1\r\nCSeq: 1 REGISTER\r\n"
		"Contact: <sip:u@10.0.0.2:5060>\r\n"
		"Content-Length: 0\r\n\r\n";
	static unsigned n;
	const char *why = NULL;
	struct sd_buf b;

	if (!fuzz_daemon_started()) {
		fuzz_daemon_start("fuzz-ctl", NULL);
	}
	if (n++ % 64 == 0) {
		fuzz_daemon_send(reg, sizeof(reg) - 1);
		fuzz_daemon_run(0);
	}
	if (size > sizeof(req.strings) ||
	    ctl_json_request((const char *)data, size, &req, &why)) {
		return 0;
	}
	sd_buf_init(&b, answer, sizeof(answer));
	/* A call of no client: an answer that comes later is dropped. */
	if (ctl_cmd_run(&req, &b, &(struct ctl_call){0, 0}) == CTL_PENDING) {
		return 0;
	}
	if (!b.overflow && (b.len < 2 || answer[0] != '{' ||
			    answer[b.len - 1] != '}' ||
			    memchr(answer, '\n', b.len))) {
		abort();
	}
	return 0;
}
