/** @file fuzz_daemon.c  See fuzz_daemon.h. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "fuzz_daemon.h"
#include "loop.h"
#include "port_sim.h"
#include "sd.h"

static int client, started;
static struct port_addr server;

void fuzz_daemon_start(const char *name, const char *extra_cfg)
{
	char cfg[2048], dir[512], err[512];
	struct port_addr a;

	snprintf(dir, sizeof(dir), "%s/%s-%d",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name,
		 (int)getpid());
	mkdir(dir, 0700);
	snprintf(cfg, sizeof(cfg),
		 "config simpled 'main'\n"
		 "\tlist domain 'example.test'\n"
		 "\tlist listen 'udp:10.0.0.1:5060'\n"
		 "\toption state_dir '%s'\n"
		 "\toption log_level 'err'\n"
		 "\toption open_registration '1'\n"
		 "config storage\n\toption map_size_kb '4096'\n%s",
		 dir, extra_cfg ? extra_cfg : "");
	sim_reset(0xfffff000u);
	if (app_configure(NULL, cfg, err, sizeof(err)) || app_start()) {
		fprintf(stderr, "%s: cannot start: %s\n", name, err);
		abort();
	}
	sd_addr_parse(&a, "10.0.0.2", 5060);
	port_udp_open(&client, &a);
	sd_addr_parse(&server, "10.0.0.1", 5060);
	started = 1;
}

int fuzz_daemon_started(void)
{
	return started;
}

void fuzz_daemon_send(const void *data, size_t len)
{
	port_sendto(client, data, len, &server);
}

void fuzz_daemon_run(uint32_t ms)
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
