/** @file sip_tcp.c  TCP and TLS connections: accept, connect, idle
 * timeout, queued output and Content-Length framing of the input stream.
 * A TLS connection is a TCP one whose bytes pass through sip_crypto.c
 * (handshake first, under the same first-request deadline). Bytes in,
 * bytes out; no SIP semantics. Listeners belong to sip_tp.c.
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
	enum sip_tp_type tp;	/* TCP, or TLS over it */
	struct sip_tls *tls;	/* TLS: the session, else NULL */
	int handshaking;	/* TLS: no request can come yet */
	int connecting;
	int accepted;		/* the peer connected to us */
	int served;		/* a complete message arrived */
	int partial;		/* part of a message is waiting */
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
#ifdef CONFIG_SIMPLED_TLS
	sip_tls_free(c->tls);
#endif
	port_close(c->sock);
	mem_put(c->tx);
	conns[c->slot] = NULL;
	stat_inc(sip_stat_tcp_closed);
	pool_put(&sip_tcp_pool, c);
}

/* True when the connection in slot with generation gen is no longer c:
 * a handler closed it (and the slot may hold a new one). */
static int conn_gone(const struct tcp_conn *c, int slot, uint32_t gen)
{
	return conns[slot] != c || c->gen != gen;
}

static void conn_idle(void *arg)
{
	struct tcp_conn *c = arg;
	struct port_addr peer = c->peer;
	int connecting = c->connecting;

	LOG_DBG("closing %s TCP connection",
		connecting ? "a connect that timed out:" : "an idle");
	conn_close(c);
	if (connecting) {
		sip_txn_peer_failed(&peer);
	}
}

/* The timer that closes a connection: a message begun must end within
 * TCP_MESSAGE_S, an accepted connection must bring its first request
 * within TCP_FIRST_S, and any connection idle for TCP_IDLE_S goes. */
static void conn_touch(struct tcp_conn *c)
{
	uint32_t s = CONFIG_SIMPLED_TCP_IDLE_S;

	if (c->partial || c->connecting) {
		return; /* the message or connect deadline runs */
	}
	if (c->accepted && !c->served) {
		if (tmr_active(&c->idle)) {
			return; /* pings do not move the first deadline */
		}
		s = CONFIG_SIMPLED_TCP_FIRST_S;
	}
	tmr_start(&c->idle, s * 1000u, conn_idle, c);
}

/* After input was framed: a partial message starts its deadline once. */
static void conn_rearm(struct tcp_conn *c)
{
	if (c->rx_len && !c->partial) {
		c->partial = 1;
		tmr_start(&c->idle, CONFIG_SIMPLED_TCP_MESSAGE_S * 1000u,
			  conn_idle, c);
	} else if (!c->rx_len && !c->skip) {
		c->partial = 0;
		conn_touch(c);
	}
}

static void conn_event(int sock, unsigned ev, void *arg);

/* A connection the peer made (accepted) or one we are making. */
static struct tcp_conn *conn_new(int sock, int lidx, enum sip_tp_type tp,
				 const struct port_addr *peer, int accepted)
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
	c->tp = tp;
	c->tls = NULL;
	c->handshaking = 0;
	c->peer = *peer;
	c->accepted = accepted;
	c->connecting = !accepted;
	conns[i] = c;
	conn_touch(c);
	return c;
}

static int conn_queue(struct tcp_conn *c, const char *buf, size_t len);
static int conn_flush(struct tcp_conn *c);

/* One pong (CRLF) for the pings just read. @return 0 or an error after
 * which the connection closes. */
static int conn_pong(struct tcp_conn *c)
{
	int err = conn_queue(c, "\r\n", 2);

	return err ? err : conn_flush(c);
}

static void conn_flow(const struct tcp_conn *c, struct sip_flow *f)
{
	sip_tp_flow(f, c->tp, c->lidx, &c->peer);
	f->conn = c->slot;
	f->gen = c->gen;
}

/* The socket, or TLS over it. */
static int conn_recv(struct tcp_conn *c, char *buf, size_t len, size_t *got)
{
#ifdef CONFIG_SIMPLED_TLS
	if (c->tls) {
		return sip_tls_recv(c->tls, buf, len, got);
	}
#endif
	return port_recv(c->sock, buf, len, got);
}

static int conn_send(struct tcp_conn *c, const char *buf, size_t len,
		     size_t *sent)
{
#ifdef CONFIG_SIMPLED_TLS
	if (c->tls) {
		return sip_tls_send(c->tls, buf, len, sent);
	}
#endif
	return port_send(c->sock, buf, len, sent);
}

/* Drop n bytes from the front of the input. */
static void conn_consume(struct tcp_conn *c, size_t n)
{
	memmove(c->rx, c->rx + n, c->rx_len - n);
	c->rx_len -= n;
}

/* Deliver every complete message in the buffer (sip_frame_next() says
 * where they are). @return 0 or an error after which the connection
 * must close (ECANCELED: it was closed while a message was handled). */
static int conn_frame(struct tcp_conn *c)
{
	for (;;) {
		struct sip_frame fr;
		struct sip_flow f;

		if (c->skip) {
			size_t n = c->skip < c->rx_len ? c->skip : c->rx_len;

			conn_consume(c, n);
			c->skip -= n;
			if (c->skip) {
				return 0;
			}
		}
		sip_frame_next(c->rx, c->rx_len, &fr);
		conn_consume(c, fr.lead);
		if (fr.pings && conn_pong(c)) {
			return EIO;
		}
		conn_flow(c, &f);
		switch (fr.what) {
		case SIP_FRAME_MORE:
			return 0;
		case SIP_FRAME_CLOSE:
			if (!fr.code) {
				LOG_DBG("TCP header section too large");
				stat_inc(sip_stat_rx_dropped);
			} else {
				sip_core_refuse_head(c->rx, fr.hlen, &f,
						     fr.code, fr.reason);
			}
			return conn_gone(c, f.conn, f.gen) ? ECANCELED :
			       EBADMSG;
		case SIP_FRAME_REFUSE:
			sip_core_refuse_head(c->rx, fr.hlen, &f, fr.code,
					     fr.reason);
			if (conn_gone(c, f.conn, f.gen)) {
				return ECANCELED; /* closed while answering */
			}
			conn_consume(c, fr.hlen);
			c->skip = fr.skip;
			continue;
		case SIP_FRAME_MESSAGE:
			break;
		}
		c->served = 1;
		c->partial = 0;
		sip_core_recv(c->rx, fr.len, &f);
		/* The handler may have closed this connection. */
		if (conn_gone(c, f.conn, f.gen)) {
			return ECANCELED;
		}
		conn_consume(c, fr.len);
	}
}

static int conn_flush(struct tcp_conn *c)
{
	size_t sent;
	int err;

	while (c->tx_len) {
		err = conn_send(c, c->tx, c->tx_len, &sent);
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
	mem_put(c->tx);
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
#ifdef CONFIG_SIMPLED_TLS
	if (c->handshaking) {
		err = sip_tls_handshake(c->tls);
		if (err == EAGAIN) {
			port_watch(c->sock, PORT_EV_READ |
				   sip_tls_wants(c->tls), conn_event, c);
			return;
		}
		if (err) {
			goto close;
		}
		/* What was queued meanwhile (a request for a client that
		 * reconnected from its registered address) goes now; the
		 * first request may already wait. */
		c->handshaking = 0;
		ev = PORT_EV_READ | (c->tx_len ? PORT_EV_WRITE : 0);
		port_watch(c->sock, PORT_EV_READ, conn_event, c);
	} else if (c->tls && (ev & PORT_EV_WRITE) && !c->tx_len) {
		/* A record of mbedTLS's own (an alert) waits. */
		err = sip_tls_flush(c->tls);
		if (err && err != EAGAIN) {
			goto close;
		}
	}
#endif
	if (ev & PORT_EV_WRITE) {
		if (c->connecting) {
			c->connecting = 0;
			conn_touch(c);
		}
		err = conn_flush(c);
		if (err) {
			goto close;
		}
	}
	while (ev & PORT_EV_READ) {
		size_t got = 0;

		err = conn_recv(c, c->rx + c->rx_len,
				CONFIG_SIMPLED_MAX_MSG_SIZE - c->rx_len, &got);
		if (err == EAGAIN) {
			break;
		}
		if (err || got == 0) {
			goto close;
		}
		c->rx_len += got;
		err = conn_frame(c);
		if (err == ECANCELED) {
			return;
		}
		if (err) {
			goto close;
		}
		conn_rearm(c);
		/* TLS may hold decrypted bytes the socket no longer
		 * signals. */
		ev = 0;
#ifdef CONFIG_SIMPLED_TLS
		if (c->tls && sip_tls_pending(c->tls)) {
			ev = PORT_EV_READ;
		}
#endif
	}
#ifdef CONFIG_SIMPLED_TLS
	if (c->tls && sip_tls_wants(c->tls) && !c->tx_len) {
		/* A record of mbedTLS's own (an alert) waits for room. */
		port_watch(c->sock, PORT_EV_READ | PORT_EV_WRITE, conn_event,
			   c);
	}
#endif
	return;
close:
	if (!conn_gone(c, slot, gen)) {
		struct port_addr peer = c->peer;

		conn_close(c);
		if (err) {
			/* Refused or reset: nothing sent on it will be
			 * answered. */
			sip_txn_peer_failed(&peer);
		}
	}
}

static unsigned conns_from(const struct port_addr *peer)
{
	unsigned i, n = 0;

	for (i = 0; i < CONFIG_SIMPLED_MAX_TCP_CONNS; i++) {
		if (conns[i] && conns[i]->accepted &&
		    sd_addr_ip_eq(&conns[i]->peer, peer)) {
			n++;
		}
	}
	return n;
}

/* The pool (or TLS's memory) is full: close the oldest accepted
 * connection but keep that has not yet brought a complete request (slow
 * or silent peers), so that one more peer can be served. Peers that did
 * are kept. */
static void evict_waiting(const struct tcp_conn *keep)
{
	struct tcp_conn *victim = NULL;
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_MAX_TCP_CONNS; i++) {
		struct tcp_conn *c = conns[i];

		if (c && c != keep && c->accepted && !c->served &&
		    (!victim || (int32_t)(c->gen - victim->gen) < 0)) {
			victim = c;
		}
	}
	if (victim) {
		LOG_DBG("TCP pool full: closing a connection still waiting "
			"for its first request");
		stat_inc(sip_stat_tcp_evicted);
		conn_close(victim);
	}
}

void sip_tp_tcp_accept(int sock, unsigned ev, void *arg)
{
	int lidx = (int)(intptr_t)arg;
	enum sip_tp_type tp = sip_tp_listener_type(lidx);
	struct port_addr peer;
	int csock;

	(void)ev;
	while (port_tcp_accept(sock, &csock, &peer) == 0) {
		struct tcp_conn *c = NULL;

		if (conns_from(&peer) < CONFIG_SIMPLED_TCP_PER_SOURCE &&
		    (tp != SIP_TP_TLS || !sip_tls_admit(&peer))) {
			if (pool_info(&sip_tcp_pool)->used ==
			    pool_size(&sip_tcp_pool)) {
				evict_waiting(NULL);
			}
			c = conn_new(csock, lidx, tp, &peer, 1);
		}
#ifdef CONFIG_SIMPLED_TLS
		if (c && tp == SIP_TP_TLS) {
			c->handshaking = 1;
			c->tls = sip_tls_accept(csock);
			if (!c->tls) {
				/* memory_kb spent: a connection that never
				 * brought a request makes room, once. */
				evict_waiting(c);
				c->tls = sip_tls_accept(csock);
			}
			if (!c->tls) {
				c->sock = -1; /* closed below */
				conn_close(c);
				c = NULL;
			}
		}
#endif
		if (!c) {
			stat_inc(sip_stat_tcp_refused);
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
	mem_put(c->tx);
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
		if (conns[i] && conns[i]->tp == f->tp &&
		    sd_addr_eq(&conns[i]->peer, &f->peer)) {
			c = conns[i];
		}
	}
	if (!c && f->tp == SIP_TP_TLS) {
		return ENOTCONN; /* we open no TLS connections */
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
		c = conn_new(sock, lidx, SIP_TP_TCP, &f->peer, 0);
		if (!c) {
			port_close(sock);
			return ENOMEM;
		}
		tmr_start(&c->idle, CONFIG_SIMPLED_TCP_CONNECT_S * 1000u,
			  conn_idle, c);
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
	if (c->tx_len || c->connecting || c->handshaking) {
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
