/*
 * loadgen - a SIP-over-UDP load generator for simpled's benchmarks.
 *
 * One thread, libc only.  A scenario keeps up to -w transactions in
 * flight, started at -r per second by a token bucket; it retransmits them
 * itself (RFC 3261 Timers E and F of a non-INVITE client transaction) and
 * matches answers by Via branch in a fixed hash table, so a transaction
 * costs a few hundred bytes of formatting and a share of one batched
 * sendmmsg/recvmmsg.  A second socket plays the user agent that messages
 * are delivered to.  The summary is one line of key=value pairs.
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -o loadgen loadgen.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	REQ_MAX = 1300,		/* a request we build: RFC 3261 18.1.1's UDP bound */
	TX_MAX = 2048,		/* a datagram we send (answers copy the server's Vias) */
	RX_MAX = 16384,		/* a datagram we read; longer ones are cut, counted */
	BATCH = 32,		/* datagrams per sendmmsg / recvmmsg */
	DRAIN_ROUNDS = 8,	/* recvmmsg calls per socket per turn: sending goes on */
	MAX_WINDOW = 65536,
	MAX_NAME = 64,		/* domain, room and formats from the command line */
	URI_MAX = 160,
	TAG_MAX = 64,
	BODY_MAX = 512,
	DEDUP_SLOTS = 1 << 16,	/* recent incoming requests, to spot resent ones */
	CODE_MAX = 700,
	SOCK_BUF = 8 << 20,	/* bytes: a burst of answers must not be dropped */
};

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define T1_NS (500 * NS_PER_MS)		/* first retransmission (Timer E) */
#define T2_NS (4000 * NS_PER_MS)	/* retransmission interval ceiling */
#define TIMER_F_NS (32 * NS_PER_S)	/* no final answer by then: a timeout */
#define TICK_NS (10 * NS_PER_MS)	/* timer scan period: fine enough for T1 */
#define QUIET_NS (2 * NS_PER_S)		/* no delivery for this long: all came */
#define SETTLE_NS (300 * NS_PER_MS)	/* room setup: let announcements end */
#define BURST_S 0.02			/* token bucket depth, in seconds of -r */
#define BRANCH_PREFIX "z9hG4bKlg"
#define ID_PREFIX "lg"			/* of our Call-IDs and tags */
#define NAME_BAD " \t\r\n<>;@:"	/* not in -d -R -D: they end a URI part */

enum scen { SC_RESPOND, SC_REGISTER, SC_RELAY, SC_STORE, SC_DELIVER,
	SC_PUBLISH, SC_SUBSCRIBE, SC_ROOM, SC_COUNT };
static const char *const scen_names[SC_COUNT] = { "respond", "register",
	"relay", "store", "deliver", "publish", "subscribe", "room" };

struct opts {
	struct sockaddr_in server;
	struct in_addr local;
	char local_s[INET_ADDRSTRLEN];
	double rate, seconds;
	long count;
	int window, users, members;
	const char *domain, *room, *room_domain, *create_fmt, *add_fmt;
	enum scen scen;
};

/* A piece of a received datagram. */
struct span {
	const char *p;
	size_t n;
};

/* What we read of a SIP message: its first line and the headers we use. */
struct sipmsg {
	int code;		/* status of a response; 0 for a request */
	struct span method, via, to, call_id, contact, sub_state;
	const char *hdrs, *end;	/* header section onwards, for answering */
};

/* One transaction in flight; for subscribe, one cycle of four. */
struct txn {
	uint64_t branch;	/* hash key of the request in flight */
	uint64_t call;		/* Call-ID and From tag; subscribe's NOTIFY key */
	int64_t born;		/* first send of the transaction (or cycle) */
	int64_t rtx_at, rtx_iv, dead_at;
	bool busy, setup, answered, notified;
	uint8_t phase;		/* subscribe: 1 subscribing, 2 unsubscribing */
	uint16_t len;
	uint32_t cseq;
	long user;		/* K of the uK, wK, offK names */
	char to_tag[TAG_MAX];
	char target[URI_MAX];	/* subscribe: remote target from the 2xx */
	char msg[REQ_MAX];
};

/* A batch of datagrams to send from one socket. */
struct txq {
	int fd, n;
	struct mmsghdr mh[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in to[BATCH];
	char buf[BATCH][TX_MAX];
};

/* A batch of datagrams read from a socket. */
struct rxq {
	struct mmsghdr mh[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	char buf[BATCH][RX_MAX];
};

struct stats {
	long started, ok, failed, timeouts, retrans, deliveries, sip_txns;
	long stray, dups, io_errors;
	long codes[CODE_MAX];
	int64_t t_begin, last_done, last_delivery;
};

static struct {
	struct opts o;
	int cfd, ufd;		/* our client socket; the UAS socket or -1 */
	unsigned cport, uport;
	char domain_uri[URI_MAX], owner_uri[URI_MAX], room_uri[URI_MAX];
	struct txn *txns;
	uint32_t *free_slots, nfree;
	long inflight, target, want_deliveries;
	uint64_t next_id;
	uint64_t *ht_keys;	/* open addressing, linear probing; 0 = empty */
	uint32_t *ht_vals, ht_mask;
	uint64_t dedup[DEDUP_SLOTS];
	uint32_t *lat;		/* microseconds, one per successful transaction */
	double tokens;
	int64_t refill_at, next_tick, t_limit, settle_until;
	bool measuring, setup_pending, stopped;
	int setup_code;		/* final status of the setup request; 0 = none */
	struct stats st;
} G;

static struct txq TXQ[2];	/* [0] client socket, [1] UAS socket */
static struct rxq RX;
static volatile sig_atomic_t stop_flag;

__attribute__((noreturn, format(printf, 2, 3)))
static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- Formatting: a small printf of our own, for the hot path ---- */

struct out {
	char *p, *end;
	bool full;
};

static void put_n(struct out *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n) {
		o->full = true;
		n = (size_t)(o->end - o->p);
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void put(struct out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

static void put_num(struct out *o, unsigned long long v, unsigned base)
{
	char b[24];
	int i = sizeof b;

	do
		b[--i] = "0123456789abcdef"[v % base];
	while (v /= base);
	put_n(o, b + i, sizeof b - (size_t)i);
}

/* Only %s %d %u %ld %lu %llx and %%: a request is a dozen of them and
 * glibc's printf machinery costs more than the rest of the request.  The
 * format attribute makes the compiler check every call like printf's. */
static void outv(struct out *o, const char *fmt, va_list ap)
{
	for (const char *f = fmt; *f;) {
		const char *pct = strchr(f, '%');
		if (!pct) {
			put(o, f);
			return;
		}
		put_n(o, f, (size_t)(pct - f));
		int longs = (pct[1] == 'l') + (pct[1] == 'l' && pct[2] == 'l');
		char conv = pct[1 + longs];
		f = pct + 2 + longs;
		if (conv == 's') {
			put(o, va_arg(ap, const char *));
		} else if (conv == 'd') {
			long v = longs ? va_arg(ap, long) : va_arg(ap, int);
			if (v < 0)
				put_n(o, "-", 1);
			put_num(o, v < 0 ? 0 - (unsigned long)v : (unsigned long)v, 10);
		} else if (conv == 'u' || conv == 'x') {
			unsigned long long v = longs == 2 ? va_arg(ap, unsigned long long) :
				longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			put_num(o, v, conv == 'x' ? 16 : 10);
		} else {
			put_n(o, "%", 1);
		}
	}
}

__attribute__((format(printf, 2, 3)))
static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	outv(o, fmt, ap);
	va_end(ap);
}

/* outf() into a NUL-terminated string; a string that does not fit is an
 * error in the command line (names are bounded), so it stops the run. */
__attribute__((format(printf, 3, 4)))
static void strf(char *dst, size_t cap, const char *fmt, ...)
{
	struct out o = { dst, dst + cap - 1, false };
	va_list ap;

	va_start(ap, fmt);
	outv(&o, fmt, ap);
	va_end(ap);
	*o.p = '\0';
	if (o.full)
		die(2, "'%s' is longer than %zu bytes", dst, cap - 1);
}

/* FMT with each %s replaced by ARG and %% by %: the -C and -A formats
 * come from the command line, so no printf may read them. */
static void expand(char *dst, size_t cap, const char *fmt, const char *arg)
{
	struct out o = { dst, dst + cap - 1, false };

	for (const char *f = fmt; *f; f++) {
		if (f[0] == '%' && (f[1] == 's' || f[1] == '%'))
			put(&o, *++f == 's' ? arg : "%");
		else
			put_n(&o, f, 1);
	}
	*o.p = '\0';
}

/* ---- Branch and Call-ID hash table: fixed arrays, no allocation ---- */

static uint32_t ht_home(uint64_t k)
{
	return (uint32_t)((k * 0x9E3779B97F4A7C15ULL) >> 32) & G.ht_mask;
}

static void ht_put(uint64_t k, uint32_t v)
{
	uint32_t i = ht_home(k);

	while (G.ht_keys[i])
		i = (i + 1) & G.ht_mask;
	G.ht_keys[i] = k;
	G.ht_vals[i] = v;
}

/* The position of K in the table, or -1. */
static long ht_find(uint64_t k)
{
	for (uint32_t i = ht_home(k); G.ht_keys[i]; i = (i + 1) & G.ht_mask)
		if (G.ht_keys[i] == k)
			return i;
	return -1;
}

/* The slot stored under K, or -1. */
static long ht_get(uint64_t k)
{
	long i = ht_find(k);

	return i < 0 ? -1 : (long)G.ht_vals[i];
}

/* Removes K and shifts later entries of its cluster back: no tombstones,
 * so lookups stay short however long the run. */
static void ht_del(uint64_t k)
{
	long found = ht_find(k);

	if (found < 0)
		return;
	uint32_t hole = (uint32_t)found, j = hole;
	for (;;) {
		j = (j + 1) & G.ht_mask;
		if (!G.ht_keys[j])
			break;
		/* The entry at j may fill the hole if the hole lies between
		 * its home and j, cyclically. */
		uint32_t home = ht_home(G.ht_keys[j]);
		if (((j - home) & G.ht_mask) >= ((j - hole) & G.ht_mask)) {
			G.ht_keys[hole] = G.ht_keys[j];
			G.ht_vals[hole] = G.ht_vals[j];
			hole = j;
		}
	}
	G.ht_keys[hole] = 0;
}

/* Branches, Call-IDs and tags share one counter, so they never collide in
 * the table.  It starts at the wall clock: the server takes a branch it
 * saw in the last 32 s for a retransmission, even from an earlier run. */
static uint64_t new_id(void)
{
	return G.next_id++;
}

/* ---- Parsing what we receive ---- */

struct hiter {
	const char *p, *end;
};

/* The next header line, its name and its value; false at the blank line
 * that ends the header section.  Folded lines are not joined: neither
 * simpled nor this tool folds. */
static bool next_hdr(struct hiter *it, struct span *line, struct span *name,
		     struct span *val)
{
	if (it->p >= it->end)
		return false;
	const char *s = it->p, *nl = memchr(s, '\n', (size_t)(it->end - s));
	const char *le = nl ? nl : it->end;

	it->p = nl ? nl + 1 : it->end;
	if (le > s && le[-1] == '\r')
		le--;
	if (le == s)
		return false;
	const char *colon = memchr(s, ':', (size_t)(le - s));
	const char *ne = colon ? colon : le, *v = colon ? colon + 1 : le;
	while (ne > s && (ne[-1] == ' ' || ne[-1] == '\t'))
		ne--;
	while (v < le && (*v == ' ' || *v == '\t'))
		v++;
	*line = (struct span){ s, (size_t)(le - s) };
	*name = (struct span){ s, (size_t)(ne - s) };
	*val = (struct span){ v, (size_t)(le - v) };
	return true;
}

/* Header name NAME is FULL or its compact form C (RFC 3261 7.3.3). */
static bool name_is(struct span name, const char *full, char c)
{
	if (name.n == 1)
		return (name.p[0] | 0x20) == c;
	return name.n == strlen(full) && !strncasecmp(name.p, full, name.n);
}

static bool span_is(struct span s, const char *lit)
{
	return s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

static bool parse(const char *p, size_t n, struct sipmsg *m)
{
	const char *eol = memchr(p, '\n', n);
	struct span line, name, val;

	memset(m, 0, sizeof *m);
	if (!eol)
		return false;
	if (n > 12 && !memcmp(p, "SIP/2.0 ", 8)) {
		for (int i = 8; i < 11; i++) {
			if (p[i] < '0' || p[i] > '9')
				return false;
			m->code = m->code * 10 + (p[i] - '0');
		}
		if (m->code < 100)
			return false;
	} else {
		const char *sp = memchr(p, ' ', (size_t)(eol - p));
		if (!sp || sp == p)
			return false;
		m->method = (struct span){ p, (size_t)(sp - p) };
	}
	m->hdrs = eol + 1;
	m->end = p + n;
	for (struct hiter it = { m->hdrs, m->end };
	     next_hdr(&it, &line, &name, &val);) {
		if (!m->via.p && name_is(name, "via", 'v'))
			m->via = val;
		else if (name_is(name, "to", 't'))
			m->to = val;
		else if (name_is(name, "call-id", 'i'))
			m->call_id = val;
		else if (name_is(name, "contact", 'm'))
			m->contact = val;
		else if (name_is(name, "subscription-state", 0))
			m->sub_state = val;
	}
	return true;
}

/* The hex number after PREFIX at the start of S (1 to 16 digits). */
static bool hex_after(struct span s, const char *prefix, uint64_t *out)
{
	size_t pl = strlen(prefix), i = pl;
	uint64_t v = 0;

	if (s.n < pl || memcmp(s.p, prefix, pl))
		return false;
	for (; i < s.n && i - pl <= 16; i++) {
		char c = (char)(s.p[i] | 0x20);
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			break;
	}
	*out = v;
	return i > pl && i - pl <= 16 && v;
}

/* The id in a Via branch of ours. */
static bool branch_id(struct span via, uint64_t *id)
{
	const char *b = via.p ? memmem(via.p, via.n, "branch=", 7) : NULL;

	return b && hex_after((struct span){ b + 7, (size_t)(via.p + via.n - b - 7) },
			      BRANCH_PREFIX, id);
}

/* Copies the value of parameter NAME (";tag=") of a From, To or Contact
 * into DST; false when absent or too long. */
static bool param(struct span h, const char *name, char *dst, size_t cap)
{
	const char *gt = memchr(h.p, '>', h.n), *s = gt ? gt : h.p;
	const char *end = h.p + h.n;
	const char *p = memmem(s, (size_t)(end - s), name, strlen(name));
	size_t n = 0;

	if (!p)
		return false;
	for (p += strlen(name); p + n < end && !strchr(";, \t>", p[n]); n++)
		;
	if (!n || n >= cap)
		return false;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

/* The URI inside <> of a Contact (or up to ';' without them). */
static void contact_uri(struct span c, char *dst, size_t cap)
{
	const char *lt = memchr(c.p, '<', c.n), *s = lt ? lt + 1 : c.p;
	const char *e = memchr(s, lt ? '>' : ';', (size_t)(c.p + c.n - s));
	size_t n = (size_t)((e ? e : c.p + c.n) - s);

	if (n && n < cap) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	}
}

/* ---- Sockets and batched I/O ---- */

static int open_udp(struct in_addr ip, unsigned port, unsigned *bound)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port), .sin_addr = ip };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), sz = SOCK_BUF;

	if (fd < 0)
		die(2, "socket: %s", strerror(errno));
	/* FORCE passes net.core.rmem_max when we may (root); else ask. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		char s[INET_ADDRSTRLEN];
		die(2, "cannot bind %s:%u: %s",
		    inet_ntop(AF_INET, &ip, s, sizeof s), port, strerror(errno));
	}
	getsockname(fd, (struct sockaddr *)&a, &len);
	*bound = ntohs(a.sin_port);
	return fd;
}

static void txq_init(struct txq *q, int fd)
{
	q->fd = fd;
	for (int i = 0; i < BATCH; i++) {
		q->iov[i].iov_base = q->buf[i];
		q->mh[i].msg_hdr = (struct msghdr){ .msg_name = &q->to[i],
			.msg_namelen = sizeof q->to[i], .msg_iov = &q->iov[i],
			.msg_iovlen = 1 };
	}
}

static void txq_flush(struct txq *q)
{
	for (int done = 0; done < q->n;) {
		int r = sendmmsg(q->fd, q->mh + done, (unsigned)(q->n - done), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {	/* skip the datagram that failed, send the rest */
			G.st.io_errors++;
			r = 1;
		}
		done += r;
	}
	q->n = 0;
}

/* The buffer of the next datagram to TO; txq_commit() queues it. */
static char *txq_slot(struct txq *q, const struct sockaddr_in *to)
{
	if (q->n == BATCH)
		txq_flush(q);
	q->to[q->n] = *to;
	return q->buf[q->n];
}

static void txq_commit(struct txq *q, size_t len)
{
	q->iov[q->n++].iov_len = len;
}

static void rx_init(void)
{
	for (int i = 0; i < BATCH; i++) {
		RX.iov[i] = (struct iovec){ RX.buf[i], RX_MAX };
		RX.mh[i].msg_hdr = (struct msghdr){ .msg_name = &RX.from[i],
			.msg_iov = &RX.iov[i], .msg_iovlen = 1 };
	}
}

/* Reads up to BATCH datagrams without waiting; parses them into M. */
static int rx_batch(int fd, struct sipmsg m[BATCH])
{
	for (int i = 0; i < BATCH; i++)
		RX.mh[i].msg_hdr.msg_namelen = sizeof RX.from[i];
	int n = recvmmsg(fd, RX.mh, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		if (RX.mh[i].msg_hdr.msg_flags & MSG_TRUNC)
			G.st.io_errors++;
		if (!parse(RX.buf[i], RX.mh[i].msg_len, &m[i]))
			m[i].code = -1;	/* not SIP: skipped */
	}
	return n;
}

/* Queues "200 OK" to request M: its Vias, From, To (tagged), Call-ID and
 * CSeq copied, no body.  Used by respond and by our UAS. */
static void answer_ok(struct txq *q, const struct sipmsg *m,
		      const struct sockaddr_in *to)
{
	char *buf = txq_slot(q, to), tag[TAG_MAX];
	struct out o = { buf, buf + TX_MAX, false };
	struct span line, name, val;

	put(&o, "SIP/2.0 200 OK\r\n");
	for (struct hiter it = { m->hdrs, m->end };
	     next_hdr(&it, &line, &name, &val);) {
		bool to_hdr = name_is(name, "to", 't');
		if (to_hdr || name_is(name, "via", 'v') ||
		    name_is(name, "from", 'f') ||
		    name_is(name, "call-id", 'i') || name_is(name, "cseq", 0)) {
			put_n(&o, line.p, line.n);
			if (to_hdr && !param(val, ";tag=", tag, sizeof tag))
				put(&o, ";tag=x");
			put(&o, "\r\n");
		}
	}
	put(&o, "Content-Length: 0\r\n\r\n");
	if (o.full)
		G.st.io_errors++;
	else
		txq_commit(q, (size_t)(o.p - buf));
}

/* ---- Requests ---- */

struct req {
	const char *method, *ruri, *from, *to, *to_tag, *contact;
	const char *extra;	/* more header lines, each ending in CRLF */
	const char *ctype, *body;
};

/* Writes R into T's buffer with a new branch; T's Call-ID is its From tag. */
static void build_req(struct txn *t, const struct req *r)
{
	struct out o = { t->msg, t->msg + sizeof t->msg, false };
	unsigned long blen = r->body ? strlen(r->body) : 0;
	unsigned long long call = t->call;

	t->branch = new_id();
	outf(&o, "%s %s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP %s:%u;rport;branch=" BRANCH_PREFIX "%llx\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <%s>;tag=" ID_PREFIX "%llx\r\n"
	     "To: <%s>%s%s\r\n"
	     "Call-ID: " ID_PREFIX "%llx@%s\r\n"
	     "CSeq: %u %s\r\n",
	     r->method, r->ruri, G.o.local_s, G.cport,
	     (unsigned long long)t->branch, r->from, call, r->to,
	     r->to_tag ? ";tag=" : "", r->to_tag ? r->to_tag : "",
	     call, G.o.local_s, t->cseq, r->method);
	if (r->contact)
		outf(&o, "Contact: <%s>\r\n", r->contact);
	put(&o, r->extra ? r->extra : "");
	if (blen)
		outf(&o, "Content-Type: %s\r\n", r->ctype);
	outf(&o, "Content-Length: %lu\r\n\r\n%s", blen, blen ? r->body : "");
	if (o.full)
		die(2, "a %s request would exceed %d bytes", r->method, REQ_MAX);
	t->len = (uint16_t)(o.p - t->msg);
}

/* REGISTER NAME with its contact at our socket on PORT (EXPIRES 0: its
 * removal). */
static void build_register(struct txn *t, const char *name, unsigned port,
			   int expires)
{
	char aor[URI_MAX], contact[URI_MAX], extra[32];

	strf(aor, sizeof aor, "sip:%s@%s", name, G.o.domain);
	strf(contact, sizeof contact, "sip:%s@%s:%u", name, G.o.local_s, port);
	strf(extra, sizeof extra, "Expires: %d\r\n", expires);
	build_req(t, &(struct req){ .method = "REGISTER",
		.ruri = G.domain_uri, .from = aor, .to = aor,
		.contact = contact, .extra = extra });
}

static void build_message(struct txn *t, const char *from, const char *to,
			  const char *body)
{
	build_req(t, &(struct req){ .method = "MESSAGE", .ruri = to,
		.from = from, .to = to, .ctype = "text/plain", .body = body });
}

/* A new PIDF document each time (its own tuple id, no SIP-If-Match). */
static void build_publish(struct txn *t, const char *aor)
{
	char body[BODY_MAX];

	strf(body, sizeof body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	     "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"%s\">"
	     "<tuple id=\"t%llx\"><status><basic>open</basic></status>"
	     "</tuple></presence>", aor, (unsigned long long)t->call);
	build_req(t, &(struct req){ .method = "PUBLISH", .ruri = aor,
		.from = aor, .to = aor, .ctype = "application/pidf+xml",
		.body = body, .extra = "Event: presence\r\nExpires: 3600\r\n" });
}

/* Phase 1 subscribes wK to uK; phase 2 ends that dialog (Expires: 0) at
 * the remote target the 2xx gave. */
static void build_subscribe(struct txn *t)
{
	char watcher[URI_MAX], pres[URI_MAX], contact[URI_MAX];
	bool unsub = t->phase == 2;

	strf(watcher, sizeof watcher, "sip:w%ld@%s", t->user, G.o.domain);
	strf(pres, sizeof pres, "sip:u%ld@%s", t->user, G.o.domain);
	strf(contact, sizeof contact, "sip:w%ld@%s:%u", t->user, G.o.local_s,
	     G.cport);
	build_req(t, &(struct req){ .method = "SUBSCRIBE",
		.ruri = unsub && t->target[0] ? t->target : pres,
		.from = watcher, .to = pres, .contact = contact,
		.to_tag = unsub ? t->to_tag : NULL,
		.extra = unsub ? "Event: presence\r\nAccept: application/pidf+xml"
				 "\r\nExpires: 0\r\n"
			       : "Event: presence\r\nAccept: application/pidf+xml"
				 "\r\nExpires: 60\r\n" });
}

/* ---- Transactions ---- */

static uint32_t slot_of(const struct txn *t)
{
	return (uint32_t)(t - G.txns);
}

static struct txn *txn_alloc(void)
{
	struct txn *t = &G.txns[G.free_slots[--G.nfree]];

	t->busy = true;
	t->setup = t->answered = t->notified = false;
	t->phase = 0;
	t->to_tag[0] = t->target[0] = '\0';
	t->cseq = 1;
	t->call = new_id();
	return t;
}

static void txn_free(struct txn *t)
{
	ht_del(t->branch);
	if (G.o.scen == SC_SUBSCRIBE)
		ht_del(t->call);
	if (!t->setup)
		G.inflight--;
	t->busy = false;
	G.free_slots[G.nfree++] = slot_of(t);
}

static void txn_queue(const struct txn *t)
{
	char *b = txq_slot(&TXQ[0], &G.o.server);

	memcpy(b, t->msg, t->len);
	txq_commit(&TXQ[0], t->len);
}

/* First send of the request built in T: its branch in the table, timers. */
static void txn_send(struct txn *t, int64_t now)
{
	ht_put(t->branch, slot_of(t));
	t->answered = false;
	t->rtx_iv = T1_NS;
	t->rtx_at = now + T1_NS;
	t->dead_at = now + TIMER_F_NS;
	txn_queue(t);
}

static void finish(struct txn *t, bool ok, int64_t now)
{
	if (ok) {
		G.lat[G.st.ok++] = (uint32_t)((now - t->born) / 1000);
	} else {
		G.st.failed++;
	}
	G.st.last_done = now;
	txn_free(t);
}

static void txn_timeout(struct txn *t)
{
	if (t->setup) {
		G.setup_code = 0;
		G.setup_pending = false;
	} else {
		G.st.timeouts++;
	}
	txn_free(t);
}

/* Timer E (resend, the interval doubling to T2) and Timer F (give up),
 * scanned every TICK_NS: cheaper than a timer queue for a few thousand
 * transactions, and a 10 ms error is nothing next to T1. */
static void check_timers(int64_t now)
{
	for (int i = 0; i < G.o.window; i++) {
		struct txn *t = &G.txns[i];
		if (!t->busy)
			continue;
		if (now >= t->dead_at) {
			txn_timeout(t);
		} else if (!t->answered && now >= t->rtx_at) {
			txn_queue(t);
			G.st.retrans++;
			t->rtx_iv = t->rtx_iv * 2 < T2_NS ? t->rtx_iv * 2 : T2_NS;
			t->rtx_at = now + t->rtx_iv;
		}
	}
}

static void expire_all(void)
{
	for (int i = 0; i < G.o.window; i++)
		if (G.txns[i].busy)
			txn_timeout(&G.txns[i]);
}

/* ---- Scenarios ---- */

static bool is_success(int code)
{
	switch (G.o.scen) {
	case SC_STORE:
		return code == 200 || code == 202;
	case SC_SUBSCRIBE:
	case SC_ROOM:
		return code >= 200 && code < 300;
	default:
		return code == 200;
	}
}

/* Starts measured transaction number SEQ in T. */
static void start_one(struct txn *t, long seq, int64_t now)
{
	char name[MAX_NAME], from[URI_MAX], to[URI_MAX];

	t->born = now;
	t->user = seq % G.o.users + 1;
	strf(from, sizeof from, "sip:u%ld@%s", t->user, G.o.domain);
	switch (G.o.scen) {
	case SC_REGISTER:
	case SC_DELIVER:
		strf(name, sizeof name, "%s%ld",
		     G.o.scen == SC_DELIVER ? "off" : "u", t->user);
		build_register(t, name, G.o.scen == SC_DELIVER ? G.uport : G.cport,
			       3600);
		break;
	case SC_RELAY:
		strf(to, sizeof to, "sip:alice@%s", G.o.domain);
		build_message(t, from, to, "loadgen relay message");
		break;
	case SC_STORE:
		strf(to, sizeof to, "sip:off%ld@%s", t->user, G.o.domain);
		build_message(t, from, to, "loadgen offline message");
		break;
	case SC_PUBLISH:
		build_publish(t, from);
		break;
	case SC_SUBSCRIBE:
		t->phase = 1;
		ht_put(t->call, slot_of(t));	/* NOTIFYs come by Call-ID */
		build_subscribe(t);
		break;
	default:
		build_message(t, G.owner_uri, G.room_uri, "loadgen room message");
		break;
	}
	txn_send(t, now);
}

/* A subscribe cycle moves on once its SUBSCRIBE got a 2xx and its NOTIFY
 * came, whichever arrived first. */
static void sub_advance(struct txn *t, int64_t now)
{
	if (!t->answered || !t->notified)
		return;
	if (t->phase == 2) {
		finish(t, true, now);
		return;
	}
	t->phase = 2;
	t->notified = false;
	t->cseq++;
	build_subscribe(t);
	txn_send(t, now);
}

static void sub_answer(struct txn *t, const struct sipmsg *m, int64_t now)
{
	G.st.sip_txns++;
	if (m->code >= 300) {
		finish(t, false, now);
		return;
	}
	if (t->phase == 1) {
		if (!m->to.p || !param(m->to, ";tag=", t->to_tag, TAG_MAX)) {
			fprintf(stderr, "loadgen: %d to SUBSCRIBE without To tag\n",
				m->code);
			finish(t, false, now);
			return;
		}
		if (m->contact.p)
			contact_uri(m->contact, t->target, sizeof t->target);
	}
	t->answered = true;
	ht_del(t->branch);	/* a resent 2xx is a stray from now on */
	sub_advance(t, now);
}

/* Phase 2 waits for the NOTIFY that says "terminated": one of phase 1 that
 * came late must not end the cycle. */
static void sub_notify(const struct sipmsg *m, int64_t now)
{
	uint64_t id;
	long slot = m->call_id.p && hex_after(m->call_id, ID_PREFIX, &id) ?
		    ht_get(id) : -1;

	if (slot < 0) {
		G.st.stray++;
		return;
	}
	struct txn *t = &G.txns[slot];
	G.st.sip_txns++;
	if (t->phase == 2 && (m->sub_state.n < 10 ||
			      strncasecmp(m->sub_state.p, "terminated", 10)))
		return;
	t->notified = true;
	sub_advance(t, now);
}

static void on_response(const struct sipmsg *m, int64_t now)
{
	uint64_t id;
	long slot = branch_id(m->via, &id) ? ht_get(id) : -1;

	if (slot < 0) {
		G.st.stray++;
		return;
	}
	struct txn *t = &G.txns[slot];
	if (m->code < 200)
		return;		/* provisional: wait on, resend on */
	if (t->setup) {
		G.setup_code = m->code;
		G.setup_pending = false;
		txn_free(t);
		return;
	}
	if (m->code < CODE_MAX)
		G.st.codes[m->code]++;
	if (G.o.scen == SC_SUBSCRIBE)
		sub_answer(t, m, now);
	else
		finish(t, is_success(m->code), now);
}

/* Whether the top Via was seen lately: a resent request repeats it. */
static bool seen_before(struct span via)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (size_t i = 0; i < via.n; i++)
		h = (h ^ (unsigned char)via.p[i]) * 1099511628211ULL;
	h |= 1;
	uint64_t *slot = &G.dedup[h & (DEDUP_SLOTS - 1)];
	if (*slot == h)
		return true;
	*slot = h;
	return false;
}

/* A request from the server: answered 200 whatever it is, then counted. */
static void on_request(int fd, const struct sipmsg *m,
		       const struct sockaddr_in *from, int64_t now)
{
	if (span_is(m->method, "ACK"))
		return;
	answer_ok(&TXQ[fd == G.ufd], m, from);
	if (seen_before(m->via)) {
		G.st.dups++;
	} else if (fd == G.ufd && span_is(m->method, "MESSAGE")) {
		if (G.measuring) {
			G.st.deliveries++;
			G.st.last_delivery = now;
		}
	} else if (G.o.scen == SC_SUBSCRIBE && span_is(m->method, "NOTIFY")) {
		sub_notify(m, now);
	}
}

/* ---- The event loop ---- */

/* Reads and handles what is queued on FD; returns the datagram count. */
static int drain(int fd)
{
	struct sipmsg m[BATCH];
	int total = 0, n = BATCH;

	for (int round = 0; round < DRAIN_ROUNDS && n == BATCH; round++) {
		if ((n = rx_batch(fd, m)) <= 0)
			break;
		int64_t now = now_ns();
		for (int i = 0; i < n; i++) {
			if (m[i].code > 0)
				on_response(&m[i], now);
			else if (m[i].code == 0)
				on_request(fd, &m[i], &RX.from[i], now);
		}
		total += n;
	}
	return total;
}

static bool can_start(void)
{
	return G.measuring && G.st.started < G.target && G.nfree > 0;
}

/* Starts what the token bucket and the window allow, a batch at most. */
static int start_batch(int64_t now)
{
	int n = 0;

	if (G.o.rate > 0) {
		double depth = G.o.rate * BURST_S > 1 ? G.o.rate * BURST_S : 1;
		G.tokens += (double)(now - G.refill_at) * 1e-9 * G.o.rate;
		G.tokens = G.tokens < depth ? G.tokens : depth;
		G.refill_at = now;
	}
	for (; n < BATCH && can_start() && (G.o.rate <= 0 || G.tokens >= 1); n++) {
		start_one(txn_alloc(), G.st.started++, now);
		G.inflight++;
		G.tokens -= 1;
	}
	return n;
}

/* Sleeps until a socket is readable, the next timer scan or the next
 * token, whichever comes first. */
static void wait_io(int64_t now)
{
	int64_t until = G.next_tick;

	if (can_start() && G.o.rate > 0) {
		int64_t t = now + (int64_t)((1 - G.tokens) / G.o.rate * 1e9);
		until = t < until ? t : until;
	}
	int64_t d = until > now ? until - now : 0;
	struct timespec ts = { d / NS_PER_S, d % NS_PER_S };
	struct pollfd p[2] = { { G.cfd, POLLIN, 0 }, { G.ufd, POLLIN, 0 } };
	ppoll(p, G.ufd >= 0 ? 2 : 1, &ts, NULL);
}

/* Runs until DONE says so, or the time limit or a signal (then whatever
 * is in flight is a timeout). */
static void loop(bool (*done)(int64_t now))
{
	for (;;) {
		int64_t now = now_ns();
		if (stop_flag || now >= G.t_limit) {
			expire_all();
			G.stopped = true;
			return;
		}
		int got = drain(G.cfd) + (G.ufd >= 0 ? drain(G.ufd) : 0);
		now = now_ns();
		if (now >= G.next_tick) {
			check_timers(now);
			G.next_tick = now + TICK_NS;
		}
		int started = start_batch(now);
		txq_flush(&TXQ[0]);
		txq_flush(&TXQ[1]);
		if (done(now))
			return;
		if (!got && !started)
			wait_io(now);
	}
}

static bool setup_done(int64_t now)
{
	(void)now;
	return !G.setup_pending;
}

static bool settled(int64_t now)
{
	return now >= G.settle_until;
}

static bool measured_done(int64_t now)
{
	if (G.st.started < G.target || G.inflight > 0)
		return false;
	return G.st.deliveries >= G.want_deliveries ||
	       now - G.st.last_delivery >= QUIET_NS;
}

/* Sends one setup request (not measured) built in T and waits for its
 * final answer; returns its status, 0 if none came. */
static int setup_request(struct txn *t)
{
	t->setup = true;
	G.setup_pending = true;
	txn_send(t, now_ns());
	loop(setup_done);
	if (G.stopped)
		die(1, "setup: stopped before an answer came");
	return G.setup_code;
}

static void setup_register(const char *name)
{
	struct txn *t = txn_alloc();
	int code;

	build_register(t, name, G.uport, 3600);
	if ((code = setup_request(t)) != 200)
		die(1, "setup: REGISTER %s got %d (0: no answer)", name, code);
}

/* After the run, what it registered is removed (answers not checked):
 * the next run has other ports, and stale contacts would be forked to
 * and listed in every 200. */
static void unregister(const char *name, unsigned port)
{
	struct txn *t = txn_alloc();

	build_register(t, name, port, 0);
	setup_request(t);
}

static void teardown(void)
{
	char name[MAX_NAME + 16];

	switch (G.o.scen) {
	case SC_RELAY:
		unregister("alice", G.uport);
		break;
	case SC_ROOM:
		for (int i = 1; i <= G.o.members; i++) {
			strf(name, sizeof name, "%sm%d", G.o.room, i);
			unregister(name, G.uport);
		}
		break;
	case SC_REGISTER:
	case SC_DELIVER:
		for (long k = 1; k <= G.o.users && k <= G.st.started; k++) {
			strf(name, sizeof name, "%s%ld",
			     G.o.scen == SC_DELIVER ? "off" : "u", k);
			unregister(name, G.o.scen == SC_DELIVER ? G.uport :
				   G.cport);
		}
		break;
	default:
		break;
	}
}

/* Room: the owner creates it, then each member registers at our UAS and
 * is added.  An add refused (say, already a member) is only reported. */
static void setup_room(void)
{
	char body[BODY_MAX], member[MAX_NAME + 16], manager[URI_MAX];
	struct txn *t = txn_alloc();
	int code;

	strf(manager, sizeof manager, "sip:chat@%s", G.o.domain);
	expand(body, sizeof body, G.o.create_fmt, G.o.room);
	build_message(t, G.owner_uri, manager, body);
	if ((code = setup_request(t)) < 200 || code >= 300)
		die(1, "setup: '%s' to %s got %d", body, manager, code);
	for (int i = 1; i <= G.o.members; i++) {
		strf(member, sizeof member, "%sm%d", G.o.room, i);
		setup_register(member);
		expand(body, sizeof body, G.o.add_fmt, member);
		build_message(t = txn_alloc(), G.owner_uri, G.room_uri, body);
		if ((code = setup_request(t)) < 200 || code >= 300)
			fprintf(stderr, "loadgen: setup: '%s' got %d\n", body, code);
	}
	G.settle_until = now_ns() + SETTLE_NS;
	loop(settled);
}

/* ---- Results ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile Q of the sorted latencies. */
static uint32_t percentile(double q)
{
	long i = (long)(q * (double)G.st.ok + 0.999999) - 1;

	return G.st.ok ? G.lat[i < 0 ? 0 : i] : 0;
}

static void summary(void)
{
	const struct stats *s = &G.st;
	int64_t end = s->last_done > s->t_begin ? s->last_done : now_ns();
	double el = (double)(end - s->t_begin) / 1e9;
	double del = (double)(s->last_delivery - s->t_begin) / 1e9;
	const char *sep = "";

	qsort(G.lat, (size_t)s->ok, sizeof *G.lat, cmp_u32);
	printf("scenario=%s started=%ld ok=%ld failed=%ld timeouts=%ld "
	       "retrans=%ld elapsed_s=%.3f rate=%.0f p50_us=%u p99_us=%u "
	       "deliveries=%ld", scen_names[G.o.scen], s->started, s->ok,
	       s->failed, s->timeouts, s->retrans, el, el > 0 ? s->ok / el : 0,
	       percentile(0.50), percentile(0.99), s->deliveries);
	if (G.want_deliveries)
		printf(" expected_deliveries=%ld delivery_rate=%.0f",
		       G.want_deliveries, del > 0 ? s->deliveries / del : 0);
	if (G.o.scen == SC_SUBSCRIBE)
		printf(" sip_txns=%ld", s->sip_txns);
	printf(" stray=%ld dup_requests=%ld io_errors=%ld codes=", s->stray,
	       s->dups, s->io_errors);
	for (int c = 100; c < CODE_MAX; c++)
		if (s->codes[c])
			printf("%s%d:%ld", sep, c, s->codes[c]), sep = ",";
	printf("\n");
}

/* ---- respond: a stateless 200 OK answerer ---- */

static int run_respond(void)
{
	struct sipmsg m[BATCH];
	long answered = 0;
	int64_t first = 0, last = 0;
	int64_t end = now_ns() + (int64_t)(G.o.seconds * 1e9);

	G.cfd = open_udp(G.o.local, ntohs(G.o.server.sin_port), &G.cport);
	txq_init(&TXQ[0], G.cfd);
	while (!stop_flag && now_ns() < end) {
		int n = rx_batch(G.cfd, m);
		if (n <= 0) {
			poll(&(struct pollfd){ G.cfd, POLLIN, 0 }, 1, 100);
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (m[i].code == 0 && !span_is(m[i].method, "ACK")) {
				answer_ok(&TXQ[0], &m[i], &RX.from[i]);
				answered++;
			}
		}
		txq_flush(&TXQ[0]);
		last = now_ns();
		first = first ? first : last;
	}
	double el = (double)(last - first) / 1e9;
	printf("scenario=respond answered=%ld elapsed_s=%.3f rate=%.0f "
	       "io_errors=%ld\n", answered, el, el > 0 ? answered / el : 0,
	       G.st.io_errors);
	return 0;
}

/* ---- Command line ---- */

__attribute__((noreturn))
static void usage(void)
{
	fputs("usage: loadgen [-s HOST:PORT] [-l LOCAL_IP] [-r RATE] [-n COUNT]"
	      " [-w WINDOW] [-u USERS]\n"
	      "               [-d DOMAIN] [-t SECONDS] [-R ROOM] [-M MEMBERS]"
	      " [-C CREATE_FMT] [-A ADD_FMT]\n"
	      "               [-D ROOM_DOMAIN] SCENARIO\n"
	      "SCENARIO: respond register relay store deliver publish"
	      " subscribe room\n"
	      "defaults: -s 127.0.0.1:5060 -l 127.0.0.1 -r 0 (no pacing) -n 10000"
	      " -w 256 -u 1000\n"
	      "          -d bench.test -t 60 -R ten -M 10 -C '#create %s'"
	      " -A '#add %s' -D conference.DOMAIN\n", stderr);
	exit(2);
}

static double num_arg(const char *s, double lo, double hi, char opt)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		die(2, "-%c: '%s' is not a number from %g to %g", opt, s, lo, hi);
	return v;
}

/* A name (BAD non-NULL: none of its characters, they would end a URI) or
 * a one-line format, bounded so that every request fits REQ_MAX. */
static const char *text_arg(const char *s, char opt, const char *bad)
{
	if (!*s || strlen(s) > MAX_NAME || strpbrk(s, bad ? bad : "\r\n"))
		die(2, "-%c: '%s' must be 1 to %d characters%s", opt, s,
		    MAX_NAME, bad ? ", no blanks or <>;@:" : " on one line");
	return s;
}

static void server_arg(const char *s)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints = { .ai_family = AF_INET,
		.ai_socktype = SOCK_DGRAM }, *res;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof host)
		die(2, "-s: '%s' is not HOST:PORT", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	int port = (int)num_arg(colon + 1, 1, 65535, 's');
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc)
		die(2, "-s: %s: %s", host, gai_strerror(rc));
	memcpy(&G.o.server, res->ai_addr, sizeof G.o.server);
	G.o.server.sin_port = htons((uint16_t)port);
	freeaddrinfo(res);
}

static void parse_args(int argc, char **argv)
{
	struct opts *o = &G.o;
	int c;

	*o = (struct opts){ .count = 10000, .window = 256, .users = 1000,
		.seconds = 60, .members = 10, .domain = "bench.test",
		.room = "ten", .create_fmt = "#create %s", .add_fmt = "#add %s" };
	server_arg("127.0.0.1:5060");
	inet_pton(AF_INET, "127.0.0.1", &o->local);
	while ((c = getopt(argc, argv, "s:l:r:n:w:u:d:t:R:M:C:A:D:")) != -1) {
		switch (c) {
		case 's': server_arg(optarg); break;
		case 'l':
			if (inet_pton(AF_INET, optarg, &o->local) != 1)
				die(2, "-l: '%s' is not an IPv4 address", optarg);
			break;
		case 'r': o->rate = num_arg(optarg, 0, 1e8, 'r'); break;
		case 'n': o->count = (long)num_arg(optarg, 1, 1e9, 'n'); break;
		case 'w': o->window = (int)num_arg(optarg, 1, MAX_WINDOW, 'w'); break;
		case 'u': o->users = (int)num_arg(optarg, 1, 1e8, 'u'); break;
		case 'd': o->domain = text_arg(optarg, 'd', NAME_BAD); break;
		case 't': o->seconds = num_arg(optarg, 0.001, 1e7, 't'); break;
		case 'R': o->room = text_arg(optarg, 'R', NAME_BAD); break;
		case 'M': o->members = (int)num_arg(optarg, 1, 1000, 'M'); break;
		case 'C': o->create_fmt = text_arg(optarg, 'C', NULL); break;
		case 'A': o->add_fmt = text_arg(optarg, 'A', NULL); break;
		case 'D': o->room_domain = text_arg(optarg, 'D', NAME_BAD); break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	for (o->scen = 0; o->scen < SC_COUNT; o->scen++)
		if (!strcmp(argv[optind], scen_names[o->scen]))
			break;
	if (o->scen == SC_COUNT)
		die(2, "unknown scenario '%s'", argv[optind]);
	inet_ntop(AF_INET, &o->local, o->local_s, sizeof o->local_s);
}

static void *alloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die(2, "out of memory for %zu x %zu bytes", n, size);
	return p;
}

/* Everything the run needs, allocated once: nothing per request. */
static void init_run(void)
{
	uint32_t size = 1;
	struct timespec ts;
	enum scen sc = G.o.scen;

	G.target = sc == SC_DELIVER ? G.o.users : G.o.count;
	G.want_deliveries = sc == SC_DELIVER ? G.o.count :
			    sc == SC_ROOM ? G.o.count * G.o.members : 0;
	G.txns = alloc((size_t)G.o.window, sizeof *G.txns);
	G.free_slots = alloc((size_t)G.o.window, sizeof *G.free_slots);
	for (int i = G.o.window - 1; i >= 0; i--)
		G.free_slots[G.nfree++] = (uint32_t)i;
	while (size < 4u * (uint32_t)G.o.window)	/* 2 keys a cycle, half full */
		size <<= 1;
	G.ht_keys = alloc(size, sizeof *G.ht_keys);
	G.ht_vals = alloc(size, sizeof *G.ht_vals);
	G.ht_mask = size - 1;
	G.lat = alloc((size_t)G.target, sizeof *G.lat);
	clock_gettime(CLOCK_REALTIME, &ts);
	G.next_id = ((uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec) ^
		    ((uint64_t)getpid() << 40) ^ 1;
	strf(G.domain_uri, URI_MAX, "sip:%s", G.o.domain);
	strf(G.owner_uri, URI_MAX, "sip:owner@%s", G.o.domain);
	if (G.o.room_domain)
		strf(G.room_uri, URI_MAX, "sip:%s@%s", G.o.room, G.o.room_domain);
	else
		strf(G.room_uri, URI_MAX, "sip:%s@conference.%s", G.o.room,
		     G.o.domain);

	G.cfd = open_udp(G.o.local, 0, &G.cport);
	G.ufd = sc == SC_RELAY || sc == SC_DELIVER || sc == SC_ROOM ?
		open_udp(G.o.local, 0, &G.uport) : -1;
	txq_init(&TXQ[0], G.cfd);
	txq_init(&TXQ[1], G.ufd);
	G.t_limit = now_ns() + (int64_t)(G.o.seconds * 1e9);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */

	parse_args(argc, argv);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rx_init();
	if (G.o.scen == SC_RESPOND)
		return run_respond();

	init_run();
	if (G.o.scen == SC_RELAY)
		setup_register("alice");
	else if (G.o.scen == SC_ROOM)
		setup_room();
	G.measuring = true;
	G.st.t_begin = G.st.last_delivery = G.refill_at = now_ns();
	G.tokens = 1;
	loop(measured_done);
	summary();
	G.measuring = false;
	if (!G.stopped)
		teardown();
	return G.st.failed || G.st.timeouts ||
	       G.st.deliveries < G.want_deliveries ? 1 : 0;
}
