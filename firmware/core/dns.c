/** @file dns.c  The stub resolver (see dns.h). A fixed table of queries
 * in flight, each with a UDP socket of its own (so a port the kernel
 * picks at random, besides a random id: RFC 5452), asked of the servers
 * in turn (1 s, then 2 s, then 4 s) and matched by its id, the name it
 * asked and the server it asked. RFC 1035 message format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "dns"
#include "dns.h"
#include "log.h"
#include "sd.h"
#include "tmr.h"

#define DNS_TRIES 3
#define DNS_MSG_MAX 1232	/* what one UDP answer may hold (EDNS0's
				 * common size; we ask without EDNS0: 512) */

struct query {
	int used;
	int sock;		/* its own, or -1 */
	uint8_t family;		/* of sock */
	uint16_t id;
	enum dns_type type;
	unsigned tries;		/* sent so far */
	unsigned asked;		/* bit per server index asked */
	struct tmr tmr;
	dns_h *h;
	void *arg;
	char name[DNS_NAME_MAX + 1];
};

static struct query queries[DNS_MAX_QUERIES];
static struct port_addr servers[DNS_MAX_SERVERS];
static unsigned n_servers;

/* ------------------------------------------------------------- encoding */

/* The question of q into buf. @return its length, or 0 when a label does
 * not fit the format. */
static size_t encode(const struct query *q, uint8_t *buf, size_t size)
{
	const char *p = q->name;
	size_t o = 12;

	memset(buf, 0, 12);
	buf[0] = (uint8_t)(q->id >> 8);
	buf[1] = (uint8_t)q->id;
	buf[2] = 0x01;	/* recursion desired */
	buf[5] = 1;	/* one question */
	while (*p) {
		size_t l = strcspn(p, ".");

		if (!l || l > 63 || o + l + 1 + 5 > size) {
			return 0;
		}
		buf[o++] = (uint8_t)l;
		memcpy(buf + o, p, l);
		o += l;
		p += l + (p[l] == '.');
	}
	buf[o++] = 0;
	buf[o++] = (uint8_t)(q->type >> 8);
	buf[o++] = (uint8_t)q->type;
	buf[o++] = 0;
	buf[o++] = 1;	/* class IN */
	return o;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Read the (possibly compressed) name at *off into out (dotted, lower
 * case). @return 0, or EPROTO for a malformed one; *off moves past it. */
static int read_name(const uint8_t *m, size_t len, size_t *off, char *out)
{
	size_t o = *off, n = 0;
	unsigned jumps = 0;
	int jumped = 0;

	for (;;) {
		uint8_t l;

		if (o >= len) {
			return EPROTO;
		}
		l = m[o];
		if ((l & 0xc0) == 0xc0) {
			if (o + 1 >= len || ++jumps > 16) {
				return EPROTO;
			}
			if (!jumped) {
				*off = o + 2;
				jumped = 1;
			}
			o = (size_t)(l & 0x3f) << 8 | m[o + 1];
			continue;
		}
		if (l & 0xc0) {
			return EPROTO;
		}
		o++;
		if (!l) {
			break;
		}
		if (o + l > len || n + l + 1 > DNS_NAME_MAX) {
			return EPROTO;
		}
		if (n) {
			out[n++] = '.';
		}
		for (; l; l--) {
			char c = (char)m[o++];

			if (c >= 'A' && c <= 'Z') {
				c = (char)(c + 32);
			}
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '_')) {
				return EPROTO; /* no host name holds it */
			}
			out[n++] = c;
		}
	}
	out[n] = '\0';
	if (!jumped) {
		*off = o;
	}
	return 0;
}

/* The answer m to q into rr (at most DNS_MAX_RR of q's type, owned by
 * the name asked or the end of its CNAME chain, class IN). @return 0 (with
 * *n, 0 for a name that does not exist), EAGAIN (this server failed: ask
 * the next) or EPROTO. */
static int decode(const struct query *q, const uint8_t *m, size_t len,
		  struct dns_rr *rr, unsigned *n)
{
	static char name[DNS_NAME_MAX + 1], owner[DNS_NAME_MAX + 1];
	unsigned qd, an, i, rcode;
	size_t off = 12;

	*n = 0;
	if (len < 12 || !(m[2] & 0x80)) {
		return EPROTO;
	}
	rcode = m[3] & 0x0f;
	qd = get16(m + 4);
	an = get16(m + 6);
	if (qd != 1 || read_name(m, len, &off, name) ||
	    strcasecmp(name, q->name) || off + 4 > len ||
	    get16(m + off) != q->type) {
		return EPROTO; /* not the answer to our question */
	}
	off += 4;
	if (rcode == 3) {
		return 0; /* NXDOMAIN: no such name */
	}
	if (rcode == 2 || rcode == 4 || rcode == 5) {
		return EAGAIN; /* SERVFAIL, NOTIMP, REFUSED: another server */
	}
	if (rcode || (m[2] & 0x02)) {
		return EPROTO; /* other failures, or truncated (no TCP) */
	}
	snprintf(owner, sizeof(owner), "%s", q->name);
	for (i = 0; i < an; i++) {
		uint16_t type, class, rdlen;
		uint32_t ttl;
		struct dns_rr *r = &rr[*n];

		if (read_name(m, len, &off, name) || off + 10 > len) {
			return EPROTO;
		}
		type = get16(m + off);
		class = get16(m + off + 2);
		ttl = get32(m + off + 4);
		rdlen = get16(m + off + 8);
		off += 10;
		if (off + rdlen > len) {
			return EPROTO;
		}
		if (class != 1 || strcmp(name, owner)) {
			off += rdlen; /* not about our name: ignored */
			continue;
		}
		if (type == 5) { /* CNAME: the records that follow are its */
			size_t t = off;

			if (read_name(m, off + rdlen, &t, owner)) {
				return EPROTO;
			}
			off += rdlen;
			continue;
		}
		if (type != q->type || *n == DNS_MAX_RR) {
			off += rdlen;
			continue;
		}
		memset(r, 0, sizeof(*r));
		r->type = (enum dns_type)type;
		r->ttl = ttl > 0x7fffffffu ? 0 : ttl; /* RFC 2181 8 */
		if (type == DNS_A && rdlen == 4) {
			r->addr.family = PORT_AF_INET;
			memcpy(r->addr.ip, m + off, 4);
		} else if (type == DNS_AAAA && rdlen == 16) {
			r->addr.family = PORT_AF_INET6;
			memcpy(r->addr.ip, m + off, 16);
		} else if (type == DNS_SRV && rdlen > 6) {
			size_t t = off + 6;

			r->prio = get16(m + off);
			r->weight = get16(m + off + 2);
			r->port = get16(m + off + 4);
			if (read_name(m, off + rdlen, &t, r->target)) {
				return EPROTO;
			}
		} else {
			return EPROTO;
		}
		off += rdlen;
		(*n)++;
	}
	return 0;
}

/* ---------------------------------------------------------------- flow */

static void query_free(struct query *q)
{
	tmr_cancel(&q->tmr);
	if (q->sock >= 0) {
		port_close(q->sock);
	}
	q->sock = -1;
	q->used = 0;
}

static void query_end(struct query *q, int err, const struct dns_rr *rr,
		      unsigned n)
{
	dns_h *h = q->h;
	void *arg = q->arg;

	query_free(q);
	h(err, rr, n, arg);
}

static void on_readable(int sock, unsigned events, void *arg);

/* A socket of q's own for the server's family (a new port each). */
static int query_sock(struct query *q, uint8_t family)
{
	struct port_addr any;

	if (q->sock >= 0 && q->family == family) {
		return 0;
	}
	if (q->sock >= 0) {
		port_close(q->sock);
		q->sock = -1;
	}
	memset(&any, 0, sizeof(any));
	any.family = family;
	if (port_udp_open(&q->sock, &any)) {
		q->sock = -1;
		return EIO;
	}
	q->family = family;
	if (port_watch(q->sock, PORT_EV_READ, on_readable, q)) {
		port_close(q->sock);
		q->sock = -1;
		return EIO;
	}
	return 0;
}

static void query_send(struct query *q);

static void query_timeout(void *arg)
{
	struct query *q = arg;

	if (q->tries >= DNS_TRIES * n_servers) {
		LOG_WRN("no answer for %s (type %d)", q->name, q->type);
		query_end(q, ETIMEDOUT, NULL, 0);
		return;
	}
	query_send(q);
}

static const struct port_addr *server_of(const struct query *q)
{
	return &servers[(q->tries ? q->tries - 1 : 0) % n_servers];
}

static void query_send(struct query *q)
{
	uint8_t buf[DNS_NAME_MAX + 32];
	const struct port_addr *srv;
	size_t len = encode(q, buf, sizeof(buf));
	unsigned round;

	q->tries++;
	srv = server_of(q);
	q->asked |= 1u << ((q->tries - 1) % n_servers);
	round = (q->tries - 1) / n_servers; /* 0, 1, 2: 1 s, 2 s, 4 s */
	if (len && !query_sock(q, srv->family)) {
		port_sendto(q->sock, buf, len, srv);
	}
	tmr_start(&q->tmr, 1000u << round, query_timeout, q);
}

/* Was src one of the servers q asked (an answer to an earlier try comes
 * late sometimes)? */
static int asked(const struct query *q, const struct port_addr *src)
{
	unsigned i;

	for (i = 0; i < n_servers; i++) {
		if ((q->asked & (1u << i)) && sd_addr_eq(src, &servers[i])) {
			return 1;
		}
	}
	return 0;
}

static void on_readable(int sock, unsigned events, void *arg)
{
	static uint8_t m[DNS_MSG_MAX];
	struct dns_rr rr[DNS_MAX_RR];
	struct query *q = arg;
	struct port_addr src;
	unsigned n;
	size_t len;
	int err;

	(void)events;
	for (;;) {
		len = sizeof(m);
		if (!q->used || q->sock != sock ||
		    port_recvfrom(sock, m, &len, &src)) {
			return;
		}
		if (len < 12 || get16(m) != q->id || !asked(q, &src)) {
			continue; /* not the answer: ignored */
		}
		err = decode(q, m, len, rr, &n);
		if (err == EAGAIN && q->tries < DNS_TRIES * n_servers) {
			LOG_DBG("server failed for %s: the next", q->name);
			tmr_cancel(&q->tmr);
			query_send(q); /* at once, to the next server */
			return;
		}
		if (err) {
			LOG_DBG("unusable answer for %s", q->name);
			err = EPROTO;
			n = 0;
		}
		query_end(q, err, rr, n);
		return;
	}
}

/* ----------------------------------------------------------------- API */

int dns_open(const struct port_addr *srv, unsigned n)
{
	unsigned i;

	dns_close();
	for (i = 0; i < DNS_MAX_QUERIES; i++) {
		queries[i].sock = -1;
	}
	for (i = 0; i < n && n_servers < DNS_MAX_SERVERS; i++) {
		servers[n_servers] = srv[i];
		if (!servers[n_servers].port) {
			servers[n_servers].port = 53;
		}
		n_servers++;
	}
	return 0;
}

void dns_close(void)
{
	unsigned i;

	for (i = 0; i < DNS_MAX_QUERIES; i++) {
		if (queries[i].used) {
			query_free(&queries[i]);
		}
	}
	n_servers = 0;
}

unsigned dns_parse_resolv_conf(const char *text, struct port_addr *out,
			       unsigned max)
{
	const char *p = text;
	unsigned n = 0;

	while (p && *p && n < max) {
		char ip[64];

		if (sscanf(p, " nameserver %63s", ip) == 1 &&
		    !sd_addr_parse(&out[n], ip, 53)) {
			n++;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return n;
}

int dns_query(const char *name, enum dns_type t, dns_h *h, void *arg)
{
	struct query *q = NULL;
	unsigned i;

	if (!n_servers) {
		return ENOTCONN;
	}
	if (strlen(name) > DNS_NAME_MAX) {
		return ENAMETOOLONG;
	}
	{
		struct query probe;
		uint8_t buf[DNS_NAME_MAX + 32];

		memset(&probe, 0, sizeof(probe));
		snprintf(probe.name, sizeof(probe.name), "%s", name);
		if (!encode(&probe, buf, sizeof(buf))) {
			return EINVAL; /* an empty or over-long label */
		}
	}
	for (i = 0; i < DNS_MAX_QUERIES && !q; i++) {
		q = queries[i].used ? NULL : &queries[i];
	}
	if (!q) {
		return EBUSY;
	}
	memset(q, 0, sizeof(*q));
	q->sock = -1;
	q->used = 1;
	port_random(&q->id, sizeof(q->id));
	q->type = t;
	q->h = h;
	q->arg = arg;
	snprintf(q->name, sizeof(q->name), "%s", name);
	query_send(q);
	return 0;
}

void dns_cancel(dns_h *h, void *arg)
{
	unsigned i;

	for (i = 0; i < DNS_MAX_QUERIES; i++) {
		if (queries[i].used && queries[i].h == h &&
		    queries[i].arg == arg) {
			query_free(&queries[i]);
		}
	}
}
