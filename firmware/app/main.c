/** @file main.c  simpled's command line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MODULE "simpled"
#include "app.h"
#include "log.h"
#include "loop.h"
#include "port.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: simpled [-c FILE] [-f] [-d]... [--version]\n"
		"  -c FILE    UCI configuration file (default: built-in "
		"defaults)\n"
		"  -f         stay in the foreground (procd, systemd)\n"
		"  -d         more logging (repeat for debug)\n"
		"  --version  print the version and exit\n");
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		return errno;
	}
	if (pid > 0) {
		_exit(0);
	}
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 2) {
			close(fd);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int foreground = 0, debug = 0, i, err;
	char why[512];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("simpled %s (built with:%s)\n", SIMPLED_VERSION,
			       app_features());
			return 0;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "-f")) {
			foreground = 1;
		} else if (!strcmp(argv[i], "-d")) {
			debug++;
		} else {
			fprintf(stderr, "simpled: unknown argument '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	err = app_configure(path, NULL, why, sizeof(why));
	if (err) {
		fprintf(stderr, "simpled: %s\n", why);
		return 1;
	}
	app_cfg.log_level += debug;
	if (app_cfg.log_level > LOG_LVL_DEBUG) {
		app_cfg.log_level = LOG_LVL_DEBUG;
	}
	if (app_cfg.log_target == APP_LOG_SYSLOG) {
		port_log_syslog("simpled");
	}
	if (!foreground && daemonize()) {
		fprintf(stderr, "simpled: cannot daemonize\n");
		return 1;
	}
	err = app_start();
	if (err) {
		return 1;
	}
	loop_run(NULL);
	LOG_INF("stopping");
	app_stop();
	return 0;
}
