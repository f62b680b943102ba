/** @file fuzz_recv.c  libFuzzer: the whole receive path. The daemon runs
 * in-process on port/sim with every service built in; each input is one
 * datagram from a client, taken through parse, transactions and dispatch
 * to whatever service it names (REGISTER, MESSAGE to users, rooms and
 * the presence command user, PUBLISH, SUBSCRIBE, ...). Every 64 inputs
 * virtual time moves on past every transaction timer, so state ends and
 * pools are reused. A crash, a sanitizer report or a leak fails it. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned n;

	if (!fuzz_daemon_started()) {
		fuzz_daemon_start("fuzz-recv", NULL);
	}
	fuzz_daemon_send(data, size);
	fuzz_daemon_run(0);
	if (++n % 64 == 0) {
		/* every transaction and NOTIFY timer ends */
		fuzz_daemon_run(70000);
	}
	return 0;
}
