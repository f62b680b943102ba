/** @file main.c  simpled's command line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define LOG_MODULE "simpled"
#include "app.h"
#include "log.h"
#include "loop.h"
#include "port.h"
#include "sip_auth.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: simpled [-c FILE] [-f] [-d]... [--version]\n"
		"       simpled -t [-c FILE]\n"
		"       simpled [-c FILE] passwd USER [DOMAIN]\n"
		"       simpled ctl [-c FILE | --socket PATH] [--pretty] "
		"COMMAND [ARGS...]\n"
		"  -c FILE    UCI configuration file (default: built-in "
		"defaults)\n"
		"  -f         stay in the foreground (procd, systemd)\n"
		"  -d         more logging (repeat for debug)\n"
		"  -t         check the configuration and exit (0: good; 1: "
		"the\n"
		"             error as FILE:LINE: reason)\n"
		"  --version  print the version and exit\n"
		"  passwd     read a password (terminal or stdin) and print "
		"the\n"
		"             `config user` section holding its hashes; DOMAIN "
		"defaults\n"
		"             to the first served domain\n"
		"  ctl        ask the running daemon (simpled ctl help); its "
		"socket is\n"
		"             the one FILE names, else /etc/config/simpled's "
		"when it\n"
		"             exists, else the built-in default\n");
}

/* One line of the password from fd 0 into buf, without echo on a
 * terminal (prompt on stderr). @return 0 or -1. */
static int read_password(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	int tty = isatty(0), ok;
	size_t n;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(0, &old) < 0) {
			return -1;
		}
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)size, stdin) != NULL;
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (!ok) {
		return -1;
	}
	n = strcspn(buf, "\r\n");
	if (!buf[n] && n == size - 1) {
		return -1; /* longer than the buffer */
	}
	buf[n] = '\0';
	return 0;
}

/* simpled passwd USER [DOMAIN]: the section for /etc/config/simpled. */
static int passwd(const char *user, const char *domain)
{
	char pw[128], again[128], ha1[SIP_HEX_MAX], ha256[SIP_HEX_MAX];

	if (!sip_user_name_ok(user)) {
		fprintf(stderr, "simpled: '%s' cannot be a user name (letters, "
			"digits and -_.!~*()&=+$,;?/)\n", user);
		return 2;
	}
	if (!domain[0] || strspn(domain, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
			  strlen(domain)) {
		fprintf(stderr, "simpled: '%s' is not a domain name\n",
			domain);
		return 2;
	}
	if (read_password("Password: ", pw, sizeof(pw))) {
		fprintf(stderr, "simpled: no password read (at most %zu "
			"bytes, one line)\n", sizeof(pw) - 1);
		return 1;
	}
	if (isatty(0) && (read_password("Again: ", again, sizeof(again)) ||
			  strcmp(pw, again))) {
		fprintf(stderr, "simpled: the passwords differ\n");
		return 1;
	}
	if (!pw[0]) {
		fprintf(stderr, "simpled: empty password\n");
		return 1;
	}
	sip_auth_ha1(SIP_AUTH_MD5, user, domain, pw, ha1);
	sip_auth_ha1(SIP_AUTH_SHA256, user, domain, pw, ha256);
	memset(pw, 0, sizeof(pw));
	memset(again, 0, sizeof(again));
	printf("config user\n"
	       "\toption name '%s'\n"
	       "\toption domain '%s'\n"
	       "\toption ha1 '%s'\n"
	       "\toption ha1_sha256 '%s'\n", user, domain, ha1, ha256);
	return 0;
}

/* Point fd at /dev/null. */
static void to_null(int fd)
{
	int nul = open("/dev/null", O_RDWR);

	if (nul >= 0 && nul != fd) {
		dup2(nul, fd);
		close(nul);
	}
}

/*
 * Without -f: fork, and let the child start while the caller waits. The
 * parent never returns from here: it reads one byte from the child through
 * a pipe and exits 0 once the child serves, or 1 when its start-up failed
 * (the reason is already on the caller's stderr) or it died; after a
 * failure it waits for the child, so nothing is left running. In the child
 * it returns 0 with the pipe's write end in *report, for detach_done().
 */
static int detach(int *report)
{
	int fds[2], st;
	char ok = 1;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) < 0) {
		return errno;
	}
	pid = fork();
	if (pid < 0) {
		st = errno;
		close(fds[0]);
		close(fds[1]);
		return st;
	}
	if (pid > 0) {
		close(fds[1]);
		do {
			n = read(fds[0], &ok, 1);
		} while (n < 0 && errno == EINTR);
		if (n == 1 && ok == 0) {
			_exit(0);
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
		}
		_exit(1);
	}
	close(fds[0]);
	setsid();
	to_null(0);
	to_null(1);
	*report = fds[1];
	return 0;
}

/* In the child, start-up over: tell the parent. A daemon that serves lets
 * the caller's stderr go (it logs to syslog) before the caller returns. */
static void detach_done(int report, int err)
{
	char ok = err ? 1 : 0;

	if (!err) {
		port_log_errors_to_stderr(0);
		to_null(2);
	}
	while (write(report, &ok, 1) < 0 && errno == EINTR) {
	}
	close(report);
}

/* SIGHUP: read the configuration again (logged either way). */
static void on_hup(unsigned sigs)
{
	char restart[512], why[512];

	(void)sigs;
	app_reload(restart, sizeof(restart), why, sizeof(why));
}

int main(int argc, char **argv)
{
	const char *path = NULL, *pw_user = NULL, *pw_domain = NULL;
	const char *ctl_socket = NULL;
	int foreground = 0, debug = 0, report = -1, i, err, ctl = 0;
	int pretty = 0, test = 0;
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
		} else if (!strcmp(argv[i], "-t")) {
			test = 1;
		} else if (!strcmp(argv[i], "-d")) {
			debug++;
		} else if (!strcmp(argv[i], "ctl")) {
			/* ctl [-c FILE | --socket PATH] [--pretty] COMMAND */
			for (i++; i < argc && argv[i][0] == '-'; i++) {
				if (!strcmp(argv[i], "-c") && i + 1 < argc) {
					path = argv[++i];
				} else if (!strcmp(argv[i], "--socket") &&
					   i + 1 < argc) {
					ctl_socket = argv[++i];
				} else if (!strcmp(argv[i], "--pretty")) {
					pretty = 1;
				} else {
					break;
				}
			}
			ctl = i;
			break;
		} else if (!strcmp(argv[i], "passwd") && i + 1 < argc &&
			   i + 3 >= argc) {
			pw_user = argv[i + 1];
			pw_domain = i + 2 < argc ? argv[i + 2] : NULL;
			break;
		} else {
			fprintf(stderr, "simpled: unknown argument '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (ctl && !path && !ctl_socket &&
	    !access("/etc/config/simpled", R_OK)) {
		path = "/etc/config/simpled";
	}
	err = app_configure(path, NULL, why, sizeof(why));
	if (err) {
		fprintf(stderr, "simpled: %s\n", why);
		return 1;
	}
	if (test) {
		printf("simpled: %s: configuration good\n", path ? path :
		       "(built-in defaults)");
		return 0;
	}
	if (ctl) {
		return app_ctl(ctl_socket, argc - ctl, argv + ctl, pretty);
	}
	if (pw_user) {
		/* The realm is the user's domain: by default the first one
		 * served. */
		return passwd(pw_user, pw_domain ? pw_domain :
				       app_cfg.domain[0]);
	}
	app_log_boost(debug);
	/* Detached, the daemon has no stderr: it logs to syslog whatever
	 * log_target says. Start-up errors go to stderr as well, for whoever
	 * started it. */
	if (!foreground || app_cfg.log_target == APP_LOG_SYSLOG) {
		port_log_syslog("simpled");
	}
	port_log_errors_to_stderr(1);
	if (!foreground) {
		err = detach(&report);
		if (err) {
			fprintf(stderr, "simpled: cannot detach: %s\n",
				strerror(err));
			return 1;
		}
	}
	err = app_start();
	if (!foreground) {
		detach_done(report, err);
	}
	if (err) {
		return 1;
	}
	port_log_errors_to_stderr(0);
	loop_run(on_hup);
	LOG_INF("stopping");
	app_stop();
	return 0;
}
