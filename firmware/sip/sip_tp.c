/** @file sip_tp.c  The transport front: listeners (UDP sockets, TCP and
 * TLS listening sockets), UDP datagrams in, sending over any transport,
 * and what we advertise for a listener. Bytes in, bytes out; no SIP
 * semantics. TCP and TLS connections live in sip_tcp.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "tp"
#include "log.h"
#include "sip_priv.h"
#include "stat.h"

/* Datagrams read per socket event, so one busy socket cannot starve. */
#define TP_UDP_BURST 32
/* Datagrams taken by one receive call. */
#define TP_UDP_BATCH 8

struct listener {
	enum sip_tp_type tp;
	int sock;		/* -1: an interface without its address yet */
	struct port_addr addr;
	char ifname[16];	/* "": a fixed address; else whose it is */
	/* Our Via sent-by for it, written for sent_by_addr (every request
	 * we send carries one: not formatted anew each time). */
	struct port_addr sent_by_addr;
	char sent_by[80];
};

static struct listener listeners[CONFIG_SIMPLED_MAX_LISTEN];
static unsigned n_listeners;
/* A batch of datagrams, each's first CONFIG_SIMPLED_MAX_MSG_SIZE bytes: a
 * longer one is answered 513 from them, or dropped
 * (sip_core_refuse_head()). The first also takes the start of what an ICMP
 * error returns, read before the batch. */
static char udp_rxb[TP_UDP_BATCH][CONFIG_SIMPLED_MAX_MSG_SIZE + 1];

/*
 * What is sent over UDP while a batch of received datagrams is handled
 * (their answers, relayed requests, NOTIFYs) is queued and leaves in one
 * port_send_batch() after the batch (one sendmmsg on POSIX); sends from
 * elsewhere (timers) go at once. A datagram the system refuses is handled
 * as an ICMP error for it once the batch is done (never inside a handler
 * whose send filled the queue): the transaction that sent it ends then.
 */
#define TP_TXQ_MAX (2 * TP_UDP_BATCH)
#define TP_TXQ_BYTES (4 * CONFIG_SIMPLED_MAX_MSG_SIZE)

static struct {
	int on;			/* a received batch is being handled */
	int sock;
	unsigned n;
	size_t used;
	struct port_dgram d[TP_TXQ_MAX];
	char buf[TP_TXQ_BYTES];
} txq;

/* Datagrams the system refused during a batch: their start (where the
 * branch is, as much as an ICMP error returns) and where they went. More
 * than fit are only counted: their transactions time out. */
#define TP_REFUSED_MAX TP_TXQ_MAX
#define TP_REFUSED_HEAD 576
static struct {
	unsigned n;
	struct {
		struct port_addr dst;
		size_t len;
		char head[TP_REFUSED_HEAD];
	} d[TP_REFUSED_MAX];
} refused;

static void tx_error(int err)
{
	stat_inc(sip_stat_tx_errors);
	LOG_DBG("send failed: %s", strerror(err));
}

static void send_failed(int err, const void *buf, size_t len,
			const struct port_addr *dst)
{
	tx_error(err);
	if (refused.n < TP_REFUSED_MAX) {
		len = len < TP_REFUSED_HEAD ? len : TP_REFUSED_HEAD;
		memcpy(refused.d[refused.n].head, buf, len);
		refused.d[refused.n].len = len;
		refused.d[refused.n].dst = *dst;
		refused.n++;
	}
}

static void txq_flush(void)
{
	unsigned done = 0, sent;

	while (done < txq.n) {
		int err = port_send_batch(txq.sock, txq.d + done,
					  txq.n - done, &sent);

		if (err) {
			send_failed(err, txq.d[done].buf, txq.d[done].len,
				    &txq.d[done].peer);
			sent = 1; /* skip it, send the rest */
		}
		done += sent;
	}
	txq.n = 0;
	txq.used = 0;
}

/* A received batch is done: what it sent leaves, then the transactions
 * of what the system refused end (what that sends goes at once). */
static void txq_end(void)
{
	unsigned i;

	txq_flush();
	txq.on = 0;
	for (i = 0; i < refused.n; i++) {
		sip_txn_unreachable(refused.d[i].head, refused.d[i].len,
				    SIP_TP_UDP, &refused.d[i].dst);
	}
	refused.n = 0;
}

static void txq_add(int sock, const char *buf, size_t len,
		    const struct port_addr *dst)
{
	struct port_dgram *d;

	if (txq.n && (txq.sock != sock || txq.n == TP_TXQ_MAX ||
		      len > sizeof(txq.buf) - txq.used)) {
		txq_flush();
	}
	txq.sock = sock;
	d = &txq.d[txq.n++];
	d->buf = txq.buf + txq.used;
	d->len = len;
	d->peer = *dst;
	memcpy(d->buf, buf, len);
	txq.used += len;
}

/* ICMP unreachables for what we sent: the transactions they match end
 * early (bounded: at most a burst per event). */
static void udp_errors(int sock)
{
	struct port_addr dst;
	int i;

	for (i = 0; i < TP_UDP_BURST; i++) {
		size_t len = sizeof(udp_rxb[0]) - 1;
		int err = port_recv_error(sock, udp_rxb[0], &len, &dst);

		if (err == EAGAIN) {
			return;
		}
		if (!err) {
			sip_txn_unreachable(udp_rxb[0], len, SIP_TP_UDP,
					    &dst);
		}
	}
}

static void udp_event(int sock, unsigned ev, void *arg)
{
	int lidx = (int)(intptr_t)arg;
	struct port_dgram d[TP_UDP_BATCH];
	unsigned i, got, total = 0;

	if (ev & PORT_EV_ERROR) {
		udp_errors(sock);
	}
	for (i = 0; i < TP_UDP_BATCH; i++) {
		d[i].buf = udp_rxb[i];
		d[i].size = CONFIG_SIMPLED_MAX_MSG_SIZE;
	}
	/* A burst at most per event, in batches: one system call takes
	 * what is queued (recvmmsg). */
	while (total < TP_UDP_BURST) {
		int err = port_recv_batch(sock, d, TP_UDP_BATCH, &got);

		if (err) {
			if (err != EAGAIN) {
				stat_inc(sip_stat_rx_dropped);
			}
			return;
		}
		txq.on = 1;
		for (i = 0; i < got; i++) {
			struct sip_flow f;

			sip_tp_flow(&f, SIP_TP_UDP, lidx, NULL);
			f.peer = d[i].peer;
			if (d[i].truncated) {
				/* Only its first bytes are here. */
				sip_core_refuse_head(d[i].buf, d[i].len, &f,
						     513, NULL);
			} else {
				sip_core_recv(d[i].buf, d[i].len, &f);
			}
		}
		txq_end();
		total += got;
		if (got < TP_UDP_BATCH) {
			return; /* the queue is empty */
		}
	}
}

const char *sip_tp_name(enum sip_tp_type tp, int upper)
{
	static const char *const names[][2] = {
		{"udp", "UDP"}, {"tcp", "TCP"}, {"tls", "TLS"}};

	return names[tp][upper];
}

static int is_unspecified(const struct port_addr *a);

/* Room for a burst while the loop is busy: `udp_rcvbuf_kb`. Less than
 * asked is said once, with the fix. */
static void udp_rcvbuf(const struct listener *l)
{
	static int told;
	size_t got = 0;

	if (port_udp_rcvbuf(l->sock, sip_cfg->udp_rcvbuf, &got) ||
	    got >= sip_cfg->udp_rcvbuf || told) {
		return;
	}
	told = 1;
	LOG_WRN("UDP receive buffer %zu KB of the %zu KB asked "
		"(udp_rcvbuf_kb): raise net.core.rmem_max, or let the "
		"daemon have CAP_NET_ADMIN", got / 1024u,
		sip_cfg->udp_rcvbuf / 1024u);
}

/* Open l on l->addr. @return 0 or the port's error. */
static int listener_bind(struct listener *l, unsigned idx)
{
	int err = l->tp == SIP_TP_UDP ? port_udp_open(&l->sock, &l->addr) :
		  port_tcp_listen(&l->sock, &l->addr);

	if (err) {
		l->sock = -1;
		return err;
	}
	if (l->tp == SIP_TP_UDP && sip_cfg && sip_cfg->udp_rcvbuf) {
		udp_rcvbuf(l);
	}
	/* Port 0 picks a free port: learn which. */
	port_local_addr(l->sock, &l->addr);
	port_watch(l->sock, PORT_EV_READ,
		   l->tp == SIP_TP_UDP ? udp_event : sip_tp_tcp_accept,
		   (void *)(intptr_t)idx);
	return 0;
}

/* An interface listener: (re)bound to the interface's address now, or
 * closed while it has none. @return 0 or the port's error. */
static int listener_follow(struct listener *l, unsigned idx)
{
	struct port_addr now;
	char as[64];
	int err;

	err = port_if_addr(l->ifname, PORT_AF_INET, &now);
	now.port = l->addr.port;
	if (!err && l->sock >= 0 && sd_addr_eq(&now, &l->addr)) {
		return 0; /* unchanged */
	}
	if (l->sock >= 0) {
		port_close(l->sock);
		l->sock = -1;
	}
	if (err) {
		memset(l->addr.ip, 0, sizeof(l->addr.ip));
		LOG_WRN("listening on %s:%s:%u once %s has an IPv4 address "
			"(%s)", sip_tp_name(l->tp, 0), l->ifname,
			l->addr.port, l->ifname, err == ENODEV ?
			"no such interface yet" : "none yet");
		return 0;
	}
	l->addr = now;
	err = listener_bind(l, idx);
	sd_addr_str(&l->addr, as, sizeof(as));
	if (err) {
		LOG_ERR("cannot listen on %s:%s (%s): %s",
			sip_tp_name(l->tp, 0), as, l->ifname, strerror(err));
		return err;
	}
	LOG_INF("listening on %s:%s (%s)", sip_tp_name(l->tp, 0), as,
		l->ifname);
	return 0;
}

/* An interface's addresses changed: its listeners follow. */
static void on_if_change(void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < n_listeners; i++) {
		if (listeners[i].ifname[0]) {
			listener_follow(&listeners[i], i);
		}
	}
}

int sip_tp_open(const struct sip_cfg *cfg)
{
	unsigned i;
	int err = sip_tp_tcp_init(), follow = 0;

	if (err) {
		return err;
	}
	n_listeners = 0;
	for (i = 0; i < cfg->n_listen && i < CONFIG_SIMPLED_MAX_LISTEN; i++) {
		struct listener *l = &listeners[n_listeners];
		struct sip_addr sa;
		char why[160], as[64];

		if (sip_listen_parse(cfg->listen[i], &sa, l->ifname,
				     sizeof(l->ifname), why, sizeof(why))) {
			LOG_ERR("%s", why);
			err = EINVAL;
			break;
		}
		l->tp = sa.tp;
		l->addr = sa.addr;
		l->sock = -1;
		if (l->tp == SIP_TP_TLS && !sip_tls_ready()) {
			LOG_ERR("listen '%s': needs a 'config tls' section "
				"with certificate and private_key",
				cfg->listen[i]);
			err = EINVAL;
			break;
		}
		if (l->ifname[0]) {
			err = listener_follow(l, n_listeners);
			n_listeners++;
			follow = 1;
			if (err) {
				break;
			}
			continue;
		}
		err = listener_bind(l, n_listeners);
		if (err) {
			LOG_ERR("cannot listen on %s: %s", cfg->listen[i],
				strerror(err));
			break;
		}
		n_listeners++;
		sd_addr_str(&l->addr, as, sizeof(as));
		if (!is_unspecified(&l->addr) && !port_addr_is_local(&l->addr)) {
			LOG_WRN("listening on %s:%s, an address no interface "
				"has yet: served once one has it",
				sip_tp_name(l->tp, 0), as);
		} else {
			LOG_INF("listening on %s:%s", sip_tp_name(l->tp, 0),
				as);
		}
	}
	if (!err && follow) {
		err = port_if_watch(on_if_change, NULL);
		if (err) {
			LOG_ERR("cannot follow interface addresses: %s",
				strerror(err));
		} else {
			/* An address that came between the first look and
			 * the watch. */
			on_if_change(NULL);
		}
	}
	if (err) {
		sip_tp_close();
	}
	return err;
}

void sip_tp_close(void)
{
	unsigned i;

	sip_tp_tcp_close();
	port_if_unwatch();
	for (i = 0; i < n_listeners; i++) {
		if (listeners[i].sock >= 0) {
			port_close(listeners[i].sock);
		}
	}
	n_listeners = 0;
}

int sip_tp_send(const struct sip_flow *f, const char *buf, size_t len)
{
	int err;

	if (sip_tp_stream(f->tp)) {
		err = sip_tp_tcp_send(f, buf, len);
	} else if (f->lidx < 0 || (unsigned)f->lidx >= n_listeners) {
		err = EBADF;
	} else if (txq.on && len <= sizeof(txq.buf)) {
		txq_add(listeners[f->lidx].sock, buf, len, &f->peer);
		return 0; /* its errors are told later (send_failed()) */
	} else {
		err = port_sendto(listeners[f->lidx].sock, buf, len, &f->peer);
	}
	if (err) {
		tx_error(err);
	}
	return err;
}

void sip_tp_flow(struct sip_flow *f, enum sip_tp_type tp, int lidx,
		 const struct port_addr *peer)
{
	memset(f, 0, sizeof(*f));
	f->tp = tp;
	f->lidx = lidx;
	f->conn = -1;
	if (peer) {
		f->peer = *peer;
	}
}

int sip_tp_listener(enum sip_tp_type tp, int family)
{
	unsigned i;

	for (i = 0; i < n_listeners; i++) {
		/* One waiting for its interface's address cannot send. */
		if (listeners[i].tp == tp && listeners[i].sock >= 0 &&
		    listeners[i].addr.family == family) {
			return (int)i;
		}
	}
	return -1;
}

enum sip_tp_type sip_tp_listener_type(int lidx)
{
	return listeners[lidx].tp;
}

int sip_tp_udp_flow(struct sip_flow *f, const struct port_addr *dst)
{
	int lidx = sip_tp_listener(SIP_TP_UDP, dst->family);

	if (lidx < 0) {
		return EAFNOSUPPORT;
	}
	sip_tp_flow(f, SIP_TP_UDP, lidx, dst);
	return 0;
}

static int is_unspecified(const struct port_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->ip, zero, a->family == PORT_AF_INET6 ? 16 : 4);
}

void sip_tp_sent_by(const struct sip_flow *f, char *buf, size_t size,
		    const char **tpname)
{
	struct listener *l = &listeners[f->lidx];
	size_t n;

	*tpname = sip_tp_name(f->tp, 1);
	if (is_unspecified(&l->addr) && sip_cfg && sip_cfg->n_domain) {
		/* The domain may change at a reload: not kept. */
		snprintf(buf, size, "%s:%u", sip_cfg->domain[0],
			 l->addr.port);
		return;
	}
	if (!l->sent_by[0] || !sd_addr_eq(&l->sent_by_addr, &l->addr)) {
		sd_addr_str(&l->addr, l->sent_by, sizeof(l->sent_by));
		l->sent_by_addr = l->addr;
	}
	n = strlen(l->sent_by);
	n = n < size ? n : size - 1;
	memcpy(buf, l->sent_by, n);
	buf[n] = '\0';
}

void sip_tp_widest_flow(struct sip_flow *f)
{
	char sent_by[160];
	const char *tp;
	size_t widest = 0;
	unsigned i;

	sip_tp_flow(f, SIP_TP_UDP, 0, NULL);
	for (i = 0; i < n_listeners; i++) {
		struct sip_flow g;

		sip_tp_flow(&g, listeners[i].tp, (int)i, NULL);
		sip_tp_sent_by(&g, sent_by, sizeof(sent_by), &tp);
		if (strlen(sent_by) > widest) {
			widest = strlen(sent_by);
			*f = g;
		}
	}
}

static int is_loopback(const struct port_addr *a)
{
	static const uint8_t lo6[16] = {[15] = 1};

	if (a->family == PORT_AF_INET) {
		return a->ip[0] == 127;
	}
	return !memcmp(a->ip, lo6, sizeof(lo6));
}

/* An IP address one of our listeners is bound to. */
static int listens_on_ip(const struct port_addr *a)
{
	unsigned i;

	for (i = 0; i < n_listeners; i++) {
		if (sd_addr_ip_eq(&listeners[i].addr, a)) {
			return 1;
		}
	}
	return 0;
}

/* An address of the host: one we listen on, or one the port knows. */
static int is_host_ip(const struct port_addr *a)
{
	return listens_on_ip(a) || port_addr_is_local(a);
}

int sip_is_own_address(const struct port_addr *a)
{
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct port_addr x;
	unsigned i;
	int host = -1; /* is_host_ip(), asked at most once */

	if (!a) {
		return 0;
	}
	x = *a;
	if (x.family == PORT_AF_INET6 &&
	    !memcmp(x.ip, v4mapped, sizeof(v4mapped))) {
		x.family = PORT_AF_INET;
		memmove(x.ip, x.ip + 12, 4);
	}
	for (i = 0; i < n_listeners; i++) {
		const struct port_addr *l = &listeners[i].addr;

		if (l->port != x.port) {
			continue;
		}
		if (is_loopback(&x) || sd_addr_ip_eq(l, &x)) {
			return 1;
		}
		if (l->family == x.family && is_unspecified(l)) {
			if (host < 0) {
				host = is_host_ip(&x);
			}
			if (host) {
				return 1;
			}
		}
	}
	return 0;
}

int sip_tp_is_local_ip(struct sd_pl host)
{
	struct sip_addr a;
	unsigned faults;

	if (sip_addr_parse(&a, sd_pl(NULL, 0), host, sd_pl(NULL, 0), 0,
			   &faults)) {
		return 0;
	}
	return listens_on_ip(&a.addr);
}
