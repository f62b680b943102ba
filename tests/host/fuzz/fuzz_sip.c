/** @file fuzz_sip.c  libFuzzer: one datagram through the raw index and
 * libosip2 under the message arena; nothing may leak or crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mem.h"
#include "sip_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sip_flow f = {.tp = SIP_TP_UDP, .conn = -1};
	struct sip_msg *m = NULL;
	const char *why;

	if (!ready) {
		mem_set_budget(8u << 20);
		mem_osip_install();
		parser_init();
		ready = 1;
	}
	sip_msg_parse(&m, (const char *)data, size, &f, &why);
	sip_msg_free(m);
	if (mem_blocks() != 0) {
		abort(); /* the arena must give everything back */
	}
	return 0;
}
