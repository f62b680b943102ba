/** @file sip_tcp.c  TCP connections: accept, connect, idle timeout, queued
 * output and Content-Length framing of the input stream. Bytes in, bytes
 * out; no SIP semantics. Listeners belong to sip_tp.c.
 */
#include <errno.h>
#include <string.h>

#define LOG_MODULE "tp"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "sip_priv.h"
#include "stat.h"
#include "tmr.h"

/* Pending TCP output beyond this closes the connection (slow reader). */
#define TP_TX_MAX (4 * CONFIG_SIMPLED_MAX_MSG_SIZE)

struct tcp_conn {
	int slot;
	int sock;
	uint32_t gen;
	int lidx;
	int connecting;
	struct port_addr peer;
	struct tmr idle;
	char *tx;
	size_t tx_len;
	size_t skip;		/* body bytes of a refused message to drop */
	size_t rx_len;
	char rx[CONFIG_SIMPLED_MAX_MSG_SIZE + 1];
};

static struct tcp_conn *conns[CONFIG_SIMPLED_MAX_TCP_CONNS];
static uint32_t conn_gen;

static void conn_close(struct tcp_conn *c)
{
	tmr_cancel(&c->idle);
	port_close(c->sock);
	mem_free(c->tx);
	conns[c->slot] = NULL;
	stat_inc(sip_stat_tcp_closed);
	pool_put(&sip_tcp_pool, c);
}

static void conn_idle(void *arg)
{
	struct tcp_conn *c = arg;

	LOG_DBG("closing idle TCP connection");
	conn_close(c);
}

static void conn_touch(struct tcp_conn *c)
{
	tmr_start(&c->idle, CONFIG_SIMPLED_TCP_IDLE_S * 1000u, conn_idle, c);
}

static void conn_event(int sock, unsigned ev, void *arg);

static struct tcp_conn *conn_new(int sock, int lidx,
				 const struct port_addr *peer)
{
	struct tcp_conn *c;
	int i;

	c = pool_get(&sip_tcp_pool);
	if (!c) {
		stat_inc(stat_overload);
		return NULL;
	}
	for (i = 0; i < CONFIG_SIMPLED_MAX_TCP_CONNS && conns[i]; i++) {
	}
	c->slot = i;
	c->sock = sock;
	c->gen = ++conn_gen;
	c->lidx = lidx;
	c->peer = *peer;
	conns[i] = c;
	conn_touch(c);
	return c;
}

static void conn_flow(const struct tcp_conn *c, struct sip_flow *f)
{
	sip_tp_flow(f, SIP_TP_TCP, c->lidx, &c->peer);
	f->conn = c->slot;
	f->gen = c->gen;
}

/* Deliver every complete message in the buffer. @return 0 or an error
 * after which the connection must close. */
static int conn_frame(struct tcp_conn *c)
{
	for (;;) {
		const char *hend;
		size_t off = 0, hlen, total;
		uint32_t cl;
		struct sip_flow f;

		if (c->skip) {
			size_t n = c->skip < c->rx_len ? c->skip : c->rx_len;

			memmove(c->rx, c->rx + n, c->rx_len - n);
			c->rx_len -= n;
			c->skip -= n;
			if (c->skip) {
				return 0;
			}
		}
		/* CRLF keep-alives between messages (RFC 5626 3.5.1). */
		while (off < c->rx_len &&
		       (c->rx[off] == '\r' || c->rx[off] == '\n')) {
			off++;
		}
		if (off) {
			memmove(c->rx, c->rx + off, c->rx_len - off);
			c->rx_len -= off;
		}
		if (!c->rx_len) {
			return 0;
		}
		/* Not strstr(): a header may hold a quoted NUL (RFC 4475
		 * intmeth). */
		hend = memmem(c->rx, c->rx_len, "\r\n\r\n", 4);
		if (!hend) {
			if (c->rx_len >= CONFIG_SIMPLED_MAX_MSG_SIZE) {
				LOG_DBG("TCP header section too large");
				stat_inc(sip_stat_rx_dropped);
				return EMSGSIZE;
			}
			return 0;
		}
		hlen = (size_t)(hend - c->rx) + 4;
		conn_flow(c, &f);
		if (sip_frame_content_length(c->rx, hlen, &cl)) {
			/* Where the body ends is unknown: answer 400 from the
			 * headers, then close. */
			sip_core_bad_frame(c->rx, hlen, &f);
			return conns[f.conn] != c || c->gen != f.gen ?
			       ECANCELED : EBADMSG;
		}
		total = hlen + cl;
		if (total > CONFIG_SIMPLED_MAX_MSG_SIZE) {
			/* Answer 513 from the headers, drop the body. */
			sip_core_too_large(c->rx, hlen, &f);
			if (conns[f.conn] != c || c->gen != f.gen) {
				return ECANCELED; /* closed while answering */
			}
			c->skip = cl;
			memmove(c->rx, c->rx + hlen, c->rx_len - hlen);
			c->rx_len -= hlen;
			continue;
		}
		if (c->rx_len < total) {
			return 0;
		}
		sip_core_recv(c->rx, total, &f);
		/* The handler may have closed this connection. */
		if (conns[f.conn] != c || c->gen != f.gen) {
			return ECANCELED;
		}
		memmove(c->rx, c->rx + total, c->rx_len - total);
		c->rx_len -= total;
	}
}

static int conn_flush(struct tcp_conn *c)
{
	size_t sent;
	int err;

	while (c->tx_len) {
		err = port_send(c->sock, c->tx, c->tx_len, &sent);
		if (err == EAGAIN) {
			return port_watch(c->sock, PORT_EV_READ | PORT_EV_WRITE,
					  conn_event, c);
		}
		if (err) {
			return err;
		}
		memmove(c->tx, c->tx + sent, c->tx_len - sent);
		c->tx_len -= sent;
	}
	mem_free(c->tx);
	c->tx = NULL;
	return port_watch(c->sock, PORT_EV_READ, conn_event, c);
}

static void conn_event(int sock, unsigned ev, void *arg)
{
	struct tcp_conn *c = arg;
	uint32_t gen = c->gen;
	int slot = c->slot;
	int err = 0;

	(void)sock;
	if (ev & PORT_EV_WRITE) {
		c->connecting = 0;
		err = conn_flush(c);
		if (err) {
			goto close;
		}
	}
	if (ev & PORT_EV_READ) {
		size_t got = 0;

		err = port_recv(c->sock, c->rx + c->rx_len,
				CONFIG_SIMPLED_MAX_MSG_SIZE - c->rx_len, &got);
		if (err == EAGAIN) {
			return;
		}
		if (err || got == 0) {
			goto close;
		}
		c->rx_len += got;
		conn_touch(c);
		err = conn_frame(c);
		if (err == ECANCELED) {
			return;
		}
		if (err) {
			goto close;
		}
	}
	return;
close:
	if (conns[slot] == c && c->gen == gen) {
		conn_close(c);
	}
}

void sip_tp_tcp_accept(int sock, unsigned ev, void *arg)
{
	int lidx = (int)(intptr_t)arg;
	struct port_addr peer;
	int csock;

	(void)ev;
	while (port_tcp_accept(sock, &csock, &peer) == 0) {
		struct tcp_conn *c = conn_new(csock, lidx, &peer);

		if (!c) {
			LOG_WRN("TCP connection refused: pool exhausted");
			port_close(csock);
			continue;
		}
		stat_inc(sip_stat_tcp_accepted);
		port_watch(csock, PORT_EV_READ, conn_event, c);
	}
}

static int conn_queue(struct tcp_conn *c, const char *buf, size_t len)
{
	char *nt;

	if (c->tx_len + len > TP_TX_MAX) {
		return ENOBUFS;
	}
	nt = mem_alloc(c->tx_len + len);
	if (!nt) {
		return ENOMEM;
	}
	if (c->tx_len) {
		memcpy(nt, c->tx, c->tx_len);
	}
	memcpy(nt + c->tx_len, buf, len);
	mem_free(c->tx);
	c->tx = nt;
	c->tx_len += len;
	return 0;
}

int sip_tp_tcp_send(const struct sip_flow *f, const char *buf, size_t len)
{
	struct tcp_conn *c = NULL;
	int err, sock, lidx;
	unsigned i;

	if (f->conn >= 0 && f->conn < CONFIG_SIMPLED_MAX_TCP_CONNS &&
	    conns[f->conn] && conns[f->conn]->gen == f->gen) {
		c = conns[f->conn];
	}
	for (i = 0; !c && i < CONFIG_SIMPLED_MAX_TCP_CONNS; i++) {
		if (conns[i] && sd_addr_eq(&conns[i]->peer, &f->peer)) {
			c = conns[i];
		}
	}
	if (!c) {
		lidx = sip_tp_listener(SIP_TP_TCP, f->peer.family);
		if (lidx < 0) {
			return EAFNOSUPPORT;
		}
		err = port_tcp_connect(&sock, &f->peer);
		if (err) {
			return err;
		}
		c = conn_new(sock, lidx, &f->peer);
		if (!c) {
			port_close(sock);
			return ENOMEM;
		}
		c->connecting = 1;
		err = conn_queue(c, buf, len);
		if (!err) {
			err = port_watch(sock, PORT_EV_READ | PORT_EV_WRITE,
					 conn_event, c);
		}
		if (err) {
			conn_close(c);
		}
		return err;
	}
	conn_touch(c);
	if (c->tx_len || c->connecting) {
		return conn_queue(c, buf, len);
	}
	err = conn_queue(c, buf, len);
	if (!err) {
		err = conn_flush(c);
	}
	if (err) {
		conn_close(c);
	}
	return err;
}

int sip_tp_tcp_init(void)
{
	return pool_setup(&sip_tcp_pool, sizeof(struct tcp_conn));
}

void sip_tp_tcp_close(void)
{
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_MAX_TCP_CONNS; i++) {
		if (conns[i]) {
			conn_close(conns[i]);
		}
	}
}
