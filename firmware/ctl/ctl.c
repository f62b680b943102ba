/** @file ctl.c  The control socket: a local stream socket (mode 0600)
 * served by the event loop. Each client sends one JSON request per line
 * and gets one JSON object per line. Bounded: at most `max_clients`
 * clients (one more is told {"error":"busy"} and closed), requests of at
 * most CONFIG_SIMPLED_CTL_MAX_REQUEST bytes (a longer or malformed one is
 * answered with an error and the connection closed), a request must
 * arrive within CTL_REQUEST_S of the connection or of the last answer,
 * and a client that does not read its answers is closed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "ctl"
#include "cfg.h"
#include "ctl_priv.h"
#include "log.h"
#include "mem.h"
#include "port.h"
#include "stat.h"
#include "tmr.h"

/* Seconds a client has to send (the rest of) a request. */
#define CTL_REQUEST_S 60
/* How long a refused client's input is still read and dropped. */
#define CTL_LINGER_MS 1000
/* Answer bytes one client may have waiting (it does not read). */
#define CTL_TX_MAX (2 * CONFIG_SIMPLED_CTL_MAX_ANSWER + 2)

struct ctl_cfg {
	char socket[CONFIG_SIMPLED_MAX_STR];
	int max_clients;
};

static struct ctl_cfg ctl_cfg;

#define C struct ctl_cfg
static const struct cfg_opt ctl_opts[] = {
	CFG_STR_OPT(C, "socket", socket, "", NULL),
	CFG_INT_OPT(C, "max_clients", max_clients, 1,
		    CONFIG_SIMPLED_CTL_MAX_CLIENTS, "8"),
};
#undef C

static const struct cfg_sect ctl_sect = CFG_SECT("ctl", ctl_opts, &ctl_cfg,
						 .restart = cfg_restart_all);

static unsigned long stat_requests, stat_errors, stat_busy;

static const struct stat_def ctl_stats[] = {
	{"ctl_requests", &stat_requests},
	{"ctl_errors", &stat_errors},
	{"ctl_busy", &stat_busy},
	{NULL, NULL},
};

const struct mod ctl_mod = {"ctl", NULL, ctl_stats, &ctl_sect, NULL, NULL,
			    NULL, NULL, NULL};

struct ctl_client {
	int sock;		/* -1: free */
	struct tmr idle;
	struct tmr linger;	/* closing: the last moment */
	size_t rx_len;
	char rx[CONFIG_SIMPLED_CTL_MAX_REQUEST + 1];
	char *tx;
	size_t tx_len;
	int closing;		/* close once tx is sent */
	int pending;		/* a command answers later: wait for it */
	/* A command's answer is still to come, even if the client went:
	 * the slot's pending state (ctl_cmd.c) is not free for another. */
	int outstanding;
	int eof;		/* the client sent all it will */
	struct tmr resume;	/* its next lines, after an answer */
	int in_run;		/* its command is running now */
	/* watch: the key followed ("presence alice@home.lan"), "" when none; a
	 * watching client gets a line per change and sends nothing more. */
	char watch[CONFIG_SIMPLED_MAX_URI_LEN + 64];
	size_t now_len;		/* in_run: answered at once, into answer */
	uint32_t gen;
};

struct ctl_view ctl_view;
static struct ctl_client clients[CONFIG_SIMPLED_CTL_MAX_CLIENTS];
static uint32_t client_gen;
static int lsock = -1;
static char sock_path[CONFIG_SIMPLED_MAX_STR + 16];
/* One answer being written. */
static char answer[CONFIG_SIMPLED_CTL_MAX_ANSWER];
static struct ctl_req req;

void ctl_socket_path(const char *state_dir, char *buf, size_t size)
{
	if (ctl_cfg.socket[0]) {
		snprintf(buf, size, "%s", ctl_cfg.socket);
	} else {
		snprintf(buf, size, "%s/ctl.sock", state_dir);
	}
}

static void client_close(struct ctl_client *c)
{
	tmr_cancel(&c->idle);
	tmr_cancel(&c->linger);
	tmr_cancel(&c->resume);
	c->eof = 0;
	port_close(c->sock);
	mem_put(c->tx);
	c->tx = NULL;
	c->tx_len = 0;
	c->rx_len = 0;
	c->closing = 0;
	c->pending = 0;
	c->watch[0] = '\0';
	c->sock = -1;
}

static void client_event(int sock, unsigned ev, void *arg);
static void client_idle(void *arg);

/* A client that half-closed has nothing left to be answered: no command
 * pending, no complete request unread. */
static int all_answered(const struct ctl_client *c)
{
	return c->eof && !c->pending && !memchr(c->rx, '\n', c->rx_len);
}
static void client_lines(struct ctl_client *c);

/* Send what is queued; close when done and closing. @return 0, or an
 * error after which the client was closed. */
static int client_flush(struct ctl_client *c)
{
	while (c->tx_len) {
		size_t sent = 0;
		int err = port_send(c->sock, c->tx, c->tx_len, &sent);

		if (err == EAGAIN) {
			port_watch(c->sock, PORT_EV_READ | PORT_EV_WRITE,
				   client_event, c);
			return 0;
		}
		if (err) {
			client_close(c);
			return err;
		}
		memmove(c->tx, c->tx + sent, c->tx_len - sent);
		c->tx_len -= sent;
	}
	if (all_answered(c)) {
		client_close(c);
		return ECONNRESET;
	}
	if (c->closing && !tmr_active(&c->linger)) {
		/* The error is sent: what else the client sends is read and
		 * dropped for a moment (closing with it unread would reset
		 * the connection, and the answer with it), then closed. */
		tmr_cancel(&c->idle);
		tmr_start(&c->linger, CTL_LINGER_MS, client_idle, c);
	}
	port_watch(c->sock, PORT_EV_READ, client_event, c);
	return 0;
}

/* Queue one answer line. */
static int client_answer(struct ctl_client *c, const char *s, size_t len)
{
	char *nt;

	if (c->tx_len + len + 1 > CTL_TX_MAX) {
		client_close(c);
		return ENOBUFS;
	}
	nt = mem_alloc(c->tx_len + len + 1);
	if (!nt) {
		client_close(c);
		return ENOMEM;
	}
	if (c->tx_len) {
		memcpy(nt, c->tx, c->tx_len);
	}
	memcpy(nt + c->tx_len, s, len);
	nt[c->tx_len + len] = '\n';
	mem_put(c->tx);
	c->tx = nt;
	c->tx_len += len + 1;
	return client_flush(c);
}

static void client_idle(void *arg)
{
	struct ctl_client *c = arg;

	LOG_DBG("closing a control client that sent no request");
	client_close(c);
}

static void answer_error(struct ctl_client *c, const char *why, int close)
{
	struct sd_buf b;

	sd_buf_init(&b, answer, sizeof(answer));
	sd_buf_add(&b, "{", 1);
	ctl_json_kv_str(&b, "error", why);
	sd_buf_add(&b, "}", 1);
	stat_inc(stat_errors);
	c->closing = close;
	client_answer(c, answer, b.len);
}

/* One request line (without its newline). @return 0, or an error after
 * which the client is gone. */
static int client_request(struct ctl_client *c, const char *line,
			  size_t len)
{
	struct ctl_call call = {(unsigned)(c - clients), c->gen};
	const char *why = NULL;
	struct sd_buf b;
	int err;

	stat_inc(stat_requests);
	err = ctl_json_request(line, len, &req, &why);
	if (err) {
		answer_error(c, why, 1);
		return EBADMSG;
	}
	sd_buf_init(&b, answer, sizeof(answer));
	c->pending = 1;
	c->in_run = 1;
	c->now_len = 0;
	err = ctl_cmd_run(&req, &b, &call);
	c->in_run = 0;
	if (err == CTL_PENDING && !c->now_len) {
		tmr_cancel(&c->idle);
		c->outstanding = 1;
		return 0; /* ctl_call_answer() comes later */
	}
	c->pending = 0;
	if (err == CTL_PENDING) {
		b.len = c->now_len; /* it answered before returning */
	}
	if (b.overflow) {
		answer_error(c, "the answer is too large (narrow it with "
			     "an argument)", 0);
		return 0;
	}
	if (!strncmp(answer, "{\"error\"", 8)) {
		stat_inc(stat_errors);
	}
	return client_answer(c, answer, b.len);
}

static void client_event(int sock, unsigned ev, void *arg)
{
	struct ctl_client *c = arg;
	size_t got = 0;
	int err;

	(void)sock;
	if ((ev & PORT_EV_WRITE) && client_flush(c)) {
		return;
	}
	if (!(ev & PORT_EV_READ)) {
		return;
	}
	if (c->closing || c->watch[0]) {
		c->rx_len = 0; /* dropped */
	} else if (c->rx_len == sizeof(c->rx) - 1) {
		/* Full while a command is pending: read on once it is
		 * answered (client_flush() watches again). */
		port_watch(c->sock, c->tx_len ? PORT_EV_WRITE : 0,
			   client_event, c);
		return;
	}
	err = port_recv(c->sock, c->rx + c->rx_len,
			sizeof(c->rx) - 1 - c->rx_len, &got);
	if (err == EAGAIN) {
		return;
	}
	if (!err && !got && (c->pending || c->tx_len)) {
		/* Half closed: what it asked is still answered. */
		c->eof = 1;
		port_watch(c->sock, c->tx_len ? PORT_EV_WRITE : 0,
			   client_event, c);
		return;
	}
	if (err || !got) {
		client_close(c);
		return;
	}
	if (c->closing || c->watch[0]) {
		return;
	}
	c->rx_len += got;
	client_lines(c);
}

/* The complete request lines received, one at a time: a pending one
 * holds the rest until it is answered. */
static void client_lines(struct ctl_client *c)
{
	char *nl;

	while (!c->pending && !c->watch[0] &&
	       (nl = memchr(c->rx, '\n', c->rx_len))) {
		size_t n = (size_t)(nl - c->rx);
		int err = client_request(c, c->rx, n);

		if (err || c->sock < 0) {
			return;
		}
		memmove(c->rx, nl + 1, c->rx_len - n - 1);
		c->rx_len -= n + 1;
	}
	if (c->pending || c->watch[0]) {
		/* Waiting for its answer (a publish over SIP may take
		 * minutes) or following: not idle. */
		tmr_cancel(&c->idle);
		return;
	}
	if (c->rx_len == sizeof(c->rx) - 1) {
		answer_error(c, "the request is too large", 1);
		return;
	}
	tmr_start(&c->idle, CTL_REQUEST_S * 1000u, client_idle, c);
}

void ctl_call_watch(const struct ctl_call *call, const char *key)
{
	struct ctl_client *c = &clients[call->slot];

	if (call->slot < CONFIG_SIMPLED_CTL_MAX_CLIENTS && c->sock >= 0 &&
	    c->gen == call->gen) {
		snprintf(c->watch, sizeof(c->watch), "%s", key);
		tmr_cancel(&c->idle);
	}
}

int ctl_watching(const char *key)
{
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_CTL_MAX_CLIENTS; i++) {
		if (clients[i].sock >= 0 && !strcmp(clients[i].watch, key)) {
			return 1;
		}
	}
	return 0;
}

void ctl_watch_send(const char *key, const char *text, size_t len)
{
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &clients[i];

		if (c->sock >= 0 && !strcmp(c->watch, key)) {
			client_answer(c, text, len); /* may close it */
		}
	}
}

static void client_resume(void *arg)
{
	struct ctl_client *c = arg;

	client_lines(c);
	if (c->sock >= 0 && !c->tx_len && all_answered(c)) {
		client_close(c);
	}
}

void ctl_call_answer(const struct ctl_call *call, const char *text,
		     size_t len)
{
	struct ctl_client *c;

	if (call->slot >= CONFIG_SIMPLED_CTL_MAX_CLIENTS) {
		return;
	}
	c = &clients[call->slot];
	if (c->gen == call->gen && !c->in_run) {
		c->outstanding = 0;
	}
	if (c->sock < 0 || c->gen != call->gen || !c->pending) {
		return; /* gone meanwhile */
	}
	if (c->in_run) {
		/* Before its command returned: client_request() sends it. */
		c->now_len = len < sizeof(answer) ? len : sizeof(answer);
		memmove(answer, text, c->now_len);
		return;
	}
	c->pending = 0;
	if (!strncmp(text, "{\"error\"", 8)) {
		stat_inc(stat_errors);
	}
	if (client_answer(c, text, len) || c->sock < 0) {
		return;
	}
	/* Its next lines on a turn of their own: this may run inside
	 * another client's command (a commit that answers many). */
	tmr_start(&c->resume, 0, client_resume, c);
}

static void accept_event(int sock, unsigned ev, void *arg)
{
	int csock;

	(void)ev;
	(void)arg;
	while (!port_local_accept(sock, &csock)) {
		struct ctl_client *c = NULL;
		int i;

		for (i = 0; i < ctl_cfg.max_clients; i++) {
			if (clients[i].sock < 0 && !clients[i].outstanding) {
				c = &clients[i];
				break;
			}
		}
		if (!c) {
			static const char busy[] =
				"{\"error\":\"busy: too many control clients "
				"(max_clients)\"}\n";
			size_t sent;

			stat_inc(stat_busy);
			port_send(csock, busy, sizeof(busy) - 1, &sent);
			port_close(csock);
			continue;
		}
		c->sock = csock;
		c->gen = ++client_gen;
		port_watch(csock, PORT_EV_READ, client_event, c);
		tmr_start(&c->idle, CTL_REQUEST_S * 1000u, client_idle, c);
	}
}

int ctl_open(const struct ctl_view *v)
{
	int i, err;

	ctl_view = *v;
	for (i = 0; i < CONFIG_SIMPLED_CTL_MAX_CLIENTS; i++) {
		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].sock = -1;
	}
	ctl_socket_path(v->state_dir, sock_path, sizeof(sock_path));
	err = port_local_listen(&lsock, sock_path, 0600);
	if (err == ENOSYS) {
		lsock = -1;
		return 0; /* this port has no local sockets */
	}
	if (err) {
		LOG_ERR("control socket %s: %s", sock_path, err == EADDRINUSE ?
			"another simpled is listening there" : err == EEXIST ?
			"a file that is not a socket is in the way" :
			strerror(err));
		lsock = -1;
		return err;
	}
	port_watch(lsock, PORT_EV_READ, accept_event, NULL);
	ctl_cmd_open();
	LOG_INF("control socket %s", sock_path);
	return 0;
}

void ctl_close(void)
{
	int i;

	if (lsock >= 0) {
		ctl_cmd_close();
	}
	for (i = 0; i < CONFIG_SIMPLED_CTL_MAX_CLIENTS; i++) {
		if (clients[i].sock >= 0) {
			client_close(&clients[i]);
		}
	}
	if (lsock >= 0) {
		port_close(lsock);
		remove(sock_path);
		lsock = -1;
	}
}
