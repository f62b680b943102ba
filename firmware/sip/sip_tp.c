/** @file sip_tp.c  Transports: UDP sockets, TCP listeners and connections
 * with Content-Length framing. Bytes in, bytes out; no SIP semantics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "tp"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "sip_priv.h"
#include "stat.h"
#include "tmr.h"

/* Pending TCP output beyond this closes the connection (slow reader). */
#define TP_TX_MAX (4 * CONFIG_SIMPLED_MAX_MSG_SIZE)
/* Datagrams read per socket event, so one busy socket cannot starve. */
#define TP_UDP_BURST 32

struct listener {
	enum sip_tp_type tp;
	int sock;
	struct port_addr addr;
};

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

static struct listener listeners[CONFIG_SIMPLED_MAX_LISTEN];
static unsigned n_listeners;
static struct tcp_conn *conns[CONFIG_SIMPLED_MAX_TCP_CONNS];
static uint32_t conn_gen;
static char udp_rx[65536];

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
	memset(f, 0, sizeof(*f));
	f->tp = SIP_TP_TCP;
	f->lidx = c->lidx;
	f->conn = c->slot;
	f->gen = c->gen;
	f->peer = c->peer;
}

/* Deliver every complete message in the buffer. @return 0 or an error
 * after which the connection must close. */
static int conn_frame(struct tcp_conn *c)
{
	for (;;) {
		char *hend;
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
		c->rx[c->rx_len] = '\0';
		hend = strstr(c->rx, "\r\n\r\n");
		if (!hend) {
			if (c->rx_len >= CONFIG_SIMPLED_MAX_MSG_SIZE) {
				LOG_DBG("TCP header section too large");
				stat_inc(sip_stat_rx_dropped);
				return EMSGSIZE;
			}
			return 0;
		}
		hlen = (size_t)(hend - c->rx) + 4;
		if (sip_frame_content_length(c->rx, hlen, &cl)) {
			stat_inc(sip_stat_rx_dropped);
			return EBADMSG;
		}
		conn_flow(c, &f);
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

static void accept_event(int sock, unsigned ev, void *arg)
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

static void udp_event(int sock, unsigned ev, void *arg)
{
	int lidx = (int)(intptr_t)arg;
	int i;

	(void)ev;
	for (i = 0; i < TP_UDP_BURST; i++) {
		struct sip_flow f;
		size_t len = sizeof(udp_rx) - 1;
		int err;

		memset(&f, 0, sizeof(f));
		f.tp = SIP_TP_UDP;
		f.lidx = lidx;
		f.conn = -1;
		err = port_recvfrom(sock, udp_rx, &len, &f.peer);
		if (err == EAGAIN) {
			return;
		}
		if (err) {
			stat_inc(sip_stat_rx_dropped);
			continue;
		}
		sip_core_recv(udp_rx, len, &f);
	}
}

/* "udp:1.2.3.4:5060" / "tcp:[::1]:5060" */
static int parse_spec(const char *spec, enum sip_tp_type *tp,
		      struct port_addr *a, char *why, size_t whylen)
{
	const char *hp, *colon;
	char host[64];
	unsigned long port;
	char *end;
	size_t hl;

	if (!strncmp(spec, "udp:", 4)) {
		*tp = SIP_TP_UDP;
	} else if (!strncmp(spec, "tcp:", 4)) {
		*tp = SIP_TP_TCP;
	} else {
		snprintf(why, whylen, "listen '%s': transport must be udp: "
			 "or tcp:", spec);
		return EINVAL;
	}
	hp = spec + 4;
	colon = strrchr(hp, ':');
	if (!colon || (hp[0] == '[' && colon < strchr(hp, ']'))) {
		snprintf(why, whylen, "listen '%s': expected ADDR:PORT", spec);
		return EINVAL;
	}
	hl = (size_t)(colon - hp);
	if (hl >= sizeof(host)) {
		snprintf(why, whylen, "listen '%s': address too long", spec);
		return EINVAL;
	}
	memcpy(host, hp, hl);
	host[hl] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535) {
		snprintf(why, whylen, "listen '%s': bad port", spec);
		return EINVAL;
	}
	if (sd_addr_parse(a, host, (uint16_t)port)) {
		snprintf(why, whylen, "listen '%s': '%s' is not an IP address",
			 spec, host);
		return EINVAL;
	}
	return 0;
}

int sip_listen_check(const char *spec, char *why, size_t whylen)
{
	enum sip_tp_type tp;
	struct port_addr a;

	return parse_spec(spec, &tp, &a, why, whylen);
}

int sip_tp_open(const struct sip_cfg *cfg)
{
	unsigned i;
	int err = pool_setup(&sip_tcp_pool, sizeof(struct tcp_conn));

	if (err) {
		return err;
	}
	n_listeners = 0;
	for (i = 0; i < cfg->n_listen && i < CONFIG_SIMPLED_MAX_LISTEN; i++) {
		struct listener *l = &listeners[n_listeners];
		char why[160], as[64];

		if (parse_spec(cfg->listen[i], &l->tp, &l->addr, why,
			       sizeof(why))) {
			LOG_ERR("%s", why);
			err = EINVAL;
			break;
		}
		if (l->tp == SIP_TP_UDP) {
			err = port_udp_open(&l->sock, &l->addr);
		} else {
			err = port_tcp_listen(&l->sock, &l->addr);
		}
		if (err) {
			LOG_ERR("cannot listen on %s: %s", cfg->listen[i],
				strerror(err));
			break;
		}
		/* Port 0 picks a free port: learn which. */
		port_local_addr(l->sock, &l->addr);
		port_watch(l->sock, PORT_EV_READ,
			   l->tp == SIP_TP_UDP ? udp_event : accept_event,
			   (void *)(intptr_t)n_listeners);
		n_listeners++;
		sd_addr_str(&l->addr, as, sizeof(as));
		LOG_INF("listening on %s:%s", l->tp == SIP_TP_UDP ? "udp" :
			"tcp", as);
	}
	if (err) {
		sip_tp_close();
	}
	return err;
}

void sip_tp_close(void)
{
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_MAX_TCP_CONNS; i++) {
		if (conns[i]) {
			conn_close(conns[i]);
		}
	}
	for (i = 0; i < n_listeners; i++) {
		port_close(listeners[i].sock);
	}
	n_listeners = 0;
}

static int is_unspecified(const struct port_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->ip, zero, a->family == PORT_AF_INET6 ? 16 : 4);
}

void sip_tp_sent_by(const struct sip_flow *f, char *buf, size_t size,
		    const char **tpname)
{
	const struct listener *l = &listeners[f->lidx];

	*tpname = f->tp == SIP_TP_TCP ? "TCP" : "UDP";
	if (is_unspecified(&l->addr) && sip_cfg && sip_cfg->n_domain) {
		snprintf(buf, size, "%s:%u", sip_cfg->domain[0],
			 l->addr.port);
	} else {
		sd_addr_str(&l->addr, buf, size);
	}
}

int sip_tp_udp_flow(struct sip_flow *f, const struct port_addr *dst)
{
	unsigned i;

	for (i = 0; i < n_listeners; i++) {
		if (listeners[i].tp == SIP_TP_UDP &&
		    listeners[i].addr.family == dst->family) {
			memset(f, 0, sizeof(*f));
			f->tp = SIP_TP_UDP;
			f->lidx = (int)i;
			f->conn = -1;
			f->peer = *dst;
			return 0;
		}
	}
	return EAFNOSUPPORT;
}

int sip_tp_is_local_ip(struct sd_pl host)
{
	struct port_addr a;
	char tmp[64];
	unsigned i;

	if (sd_pl_copy(host, tmp, sizeof(tmp)) ||
	    sd_addr_parse(&a, tmp, 0)) {
		return 0;
	}
	for (i = 0; i < n_listeners; i++) {
		const struct port_addr *l = &listeners[i].addr;

		if (l->family == a.family &&
		    !memcmp(l->ip, a.ip, a.family == PORT_AF_INET6 ? 16 : 4)) {
			return 1;
		}
	}
	return 0;
}

static int tcp_listener_for(int family)
{
	unsigned i;

	for (i = 0; i < n_listeners; i++) {
		if (listeners[i].tp == SIP_TP_TCP &&
		    listeners[i].addr.family == family) {
			return (int)i;
		}
	}
	return -1;
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

static int tcp_send(const struct sip_flow *f, const char *buf, size_t len)
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
		lidx = tcp_listener_for(f->peer.family);
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

int sip_tp_send(const struct sip_flow *f, const char *buf, size_t len)
{
	int err;

	if (f->tp == SIP_TP_TCP) {
		err = tcp_send(f, buf, len);
	} else if (f->lidx < 0 || (unsigned)f->lidx >= n_listeners) {
		err = EBADF;
	} else {
		err = port_sendto(listeners[f->lidx].sock, buf, len, &f->peer);
	}
	if (err) {
		stat_inc(sip_stat_tx_errors);
		LOG_DBG("send failed: %s", strerror(err));
	}
	return err;
}

int sip_contact_flow(const osip_uri_t *u, const struct sip_flow *src,
		     struct sip_flow *out)
{
	osip_uri_param_t *tp = NULL;
	enum sip_tp_type want = SIP_TP_UDP;
	struct port_addr a;
	unsigned long port = 5060;

	*out = *src;
	if (!u || !u->host) {
		return EINVAL;
	}
	if (osip_uri_uparam_get_byname((osip_uri_t *)u, "transport", &tp) == 0 &&
	    tp && tp->gvalue) {
		if (!strcasecmp(tp->gvalue, "tcp")) {
			want = SIP_TP_TCP;
		} else if (strcasecmp(tp->gvalue, "udp")) {
			return EPROTONOSUPPORT;
		}
	}
	if (u->port && u->port[0]) {
		char *end;

		port = strtoul(u->port, &end, 10);
		if (*end || port == 0 || port > 65535) {
			return EINVAL;
		}
	}
	if (sd_addr_parse(&a, u->host, (uint16_t)port)) {
		return 0; /* a host name: use the source of the REGISTER */
	}
	if (want == SIP_TP_TCP && src->tp == SIP_TP_TCP) {
		out->peer = a; /* conn/gen still name the live connection */
		return 0;
	}
	return sip_peer_flow(want, &a, out);
}

int sip_peer_flow(enum sip_tp_type tp, const struct port_addr *peer,
		  struct sip_flow *out)
{
	struct port_addr a = *peer; /* peer may be out->peer */
	int lidx;

	if (tp == SIP_TP_UDP) {
		return sip_tp_udp_flow(out, &a);
	}
	lidx = tcp_listener_for(a.family);
	if (lidx < 0) {
		return EAFNOSUPPORT;
	}
	memset(out, 0, sizeof(*out));
	out->tp = SIP_TP_TCP;
	out->lidx = lidx;
	out->conn = -1;
	out->peer = a;
	return 0;
}

void sip_local_contact(const struct sip_flow *f, char *buf, size_t size)
{
	char sent_by[160];
	const char *tp;

	sip_tp_sent_by(f, sent_by, sizeof(sent_by), &tp);
	snprintf(buf, size, "sip:%s%s", sent_by,
		 f->tp == SIP_TP_TCP ? ";transport=tcp" : "");
}
