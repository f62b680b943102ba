/** @file ctl_client.c  `simpled ctl`: one request to the daemon's control
 * socket, its answer on stdout (one JSON line, or indented with
 * --pretty), an error on stderr with a non-zero exit status. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl_priv.h"
#include "port.h"

/* Seconds the client waits for an answer: a publish or subscribe sent
 * over SIP may take three client transactions (a challenge answered, a
 * 423 retried) of up to 32 s each (Timer F) before its final answer. */
#define CTL_CLIENT_WAIT_S 100

static char line[CONFIG_SIMPLED_CTL_MAX_ANSWER + 2];
static char stdin_body[CONFIG_SIMPLED_CTL_MAX_REQUEST];

/* The answer indented by two spaces a level (strings kept as they are). */
static void print_pretty(const char *s)
{
	int depth = 0, in_str = 0, esc = 0;

	for (; *s && *s != '\n'; s++) {
		char c = *s;

		if (in_str) {
			putchar(c);
			if (esc) {
				esc = 0;
			} else if (c == '\\') {
				esc = 1;
			} else if (c == '"') {
				in_str = 0;
			}
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			putchar(c);
			break;
		case '{': case '[':
			if ((s[1] == '}' || s[1] == ']')) {
				putchar(c);
				putchar(*++s);
				break;
			}
			printf("%c\n%*s", c, 2 * ++depth, "");
			break;
		case '}': case ']':
			printf("\n%*s%c", 2 * --depth, "", c);
			break;
		case ',':
			printf(",\n%*s", 2 * depth, "");
			break;
		case ':':
			printf(": ");
			break;
		default:
			putchar(c);
		}
	}
	putchar('\n');
}

static void print_line(const char *s, int pretty)
{
	if (pretty) {
		print_pretty(s);
	} else {
		puts(s);
	}
	fflush(stdout);
}

/* watch: print each line as it comes; len bytes of the next are in line
 * already. Ends when the connection does. */
static void watch_lines(int sock, size_t len, int pretty)
{
	for (;;) {
		char *nl;
		size_t got = 0;

		line[len] = '\0';
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			print_line(line, pretty);
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len);
			line[len] = '\0';
		}
		if (len == sizeof(line) - 1 ||
		    port_recv(sock, line + len, sizeof(line) - 1 - len, &got) ||
		    !got) {
			return;
		}
		len += got;
	}
}

static int send_all(int sock, const char *p, size_t len)
{
	while (len) {
		size_t sent = 0;
		int err = port_send(sock, p, len, &sent);

		if (err) {
			return err;
		}
		p += sent;
		len -= sent;
	}
	return 0;
}

int ctl_client(const char *path, int argc, char **argv, int pretty)
{
	static char reqbuf[CONFIG_SIMPLED_CTL_MAX_REQUEST + 1];
	struct sd_buf b;
	size_t len = 0;
	int sock, err, i;
	char *nl = NULL;

	if (argc < 1) {
		fprintf(stderr, "simpled ctl: no command (try: simpled ctl "
			"help)\n");
		return 2;
	}
	sd_buf_init(&b, reqbuf, sizeof(reqbuf));
	sd_buf_str(&b, "{\"command\":");
	ctl_json_str(&b, argv[0]);
	sd_buf_str(&b, ",\"args\":[");
	for (i = 1; i < argc; i++) {
		sd_buf_str(&b, i > 1 ? "," : "");
		if (i == argc - 1 && !strcmp(argv[i], "-") &&
		    !strcmp(argv[0], "publish")) {
			/* The body from stdin. */
			size_t n = fread(stdin_body, 1, sizeof(stdin_body) - 1,
					 stdin);

			stdin_body[n] = '\0';
			ctl_json_str(&b, stdin_body);
		} else {
			ctl_json_str(&b, argv[i]);
		}
	}
	sd_buf_str(&b, "]}\n");
	if (b.overflow) {
		fprintf(stderr, "simpled ctl: the request is too large\n");
		return 2;
	}
	/* A daemon that does not answer within CTL_CLIENT_WAIT_S is an
	 * error; watch waits as long as it takes. */
	err = port_local_connect(&sock, path, strcmp(argv[0], "watch") ?
				 CTL_CLIENT_WAIT_S * 1000u : 0);
	if (err) {
		fprintf(stderr, "simpled ctl: cannot reach the daemon at %s: "
			"%s%s\n", path, strerror(err),
			err == ENOENT || err == ECONNREFUSED ?
			" (is it running?)" : "");
		return 2;
	}
	err = send_all(sock, reqbuf, b.len);
	while (!err && !nl && len < sizeof(line) - 1) {
		size_t got = 0;

		err = port_recv(sock, line + len, sizeof(line) - 1 - len, &got);
		if (!err && !got) {
			err = ECONNRESET;
		}
		len += got;
		line[len] = '\0';
		nl = strchr(line, '\n');
	}
	if (!nl) {
		port_close(sock);
		fprintf(stderr, "simpled ctl: no answer from %s: %s\n", path,
			strerror(err ? err : EMSGSIZE));
		return 2;
	}
	*nl = '\0';
	if (!strncmp(line, "{\"error\":", 9)) {
		port_close(sock);
		fprintf(stderr, "simpled ctl: %s\n", line);
		return 1;
	}
	print_line(line, pretty);
	if (!strcmp(argv[0], "watch")) {
		/* A line per change until the daemon or we stop. */
		len -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, len);
		watch_lines(sock, len, pretty);
	}
	port_close(sock);
	return 0;
}
