/** @file fuzz_recv.c  libFuzzer: the whole receive path. The daemon runs
 * in-process on port/sim with every service built in; each input is one
 * datagram from a client, taken through parse, transactions and dispatch
 * to whatever service it names (REGISTER, MESSAGE to users, rooms and
 * the presence command user, PUBLISH, SUBSCRIBE, ...). Every 64 inputs
 * virtual time moves on past every transaction timer, so state ends and
 * pools are reused. A crash, a sanitizer report or a leak fails it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "loop.h"
#include "port_sim.h"
#include "sd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int client;
static struct port_addr server;

static void start(void)
{
	char cfg[1024], dir[512], err[512];
	struct port_addr a;

	snprintf(dir, sizeof(dir), "%s/fuzz-recv-%d",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	mkdir(dir, 0700);
	snprintf(cfg, sizeof(cfg),
		 "config simpled 'main'\n"
		 "\tlist domain 'example.test'\n"
		 "\tlist listen 'udp:10.0.0.1:5060'\n"
		 "\toption state_dir '%s'\n"
		 "\toption log_level 'err'\n"
		 "\toption open_registration '1'\n"
		 "config storage\n\toption map_size_kb '4096'\n", dir);
	sim_reset(0xfffff000u);
	if (app_configure(NULL, cfg, err, sizeof(err)) || app_start()) {
		fprintf(stderr, "fuzz_recv: cannot start: %s\n", err);
		abort();
	}
	sd_addr_parse(&a, "10.0.0.2", 5060);
	port_udp_open(&client, &a);
	sd_addr_parse(&server, "10.0.0.1", 5060);
}

/* Run the loop until nothing is left to do now; with ms, let that much
 * virtual time pass too. */
static void run(uint32_t ms)
{
	uint32_t end = port_now_ms() + ms;
	char buf[65536];
	struct port_addr src;

	do {
		size_t len = sizeof(buf);
		int left = (int)(end - port_now_ms());

		loop_once(left > 0 ? left : 0);
		while (!port_recvfrom(client, buf, &len, &src)) {
			len = sizeof(buf); /* answers to the client: dropped */
		}
	} while ((int32_t)(end - port_now_ms()) > 0 || sim_pending());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned n;

	if (!client) {
		start();
	}
	port_sendto(client, data, size, &server);
	run(0);
	if (++n % 64 == 0) {
		run(70000); /* every transaction and NOTIFY timer ends */
	}
	return 0;
}
