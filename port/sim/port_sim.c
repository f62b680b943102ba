/** @file port_sim.c  Simulation port: virtual clock and in-memory UDP.
 * Test-only code: it may use malloc freely.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "port_sim.h"

#define SIM_MAX_SOCKS 64
/* Interface addresses of the simulated host (sim_local_addr()). */
#define SIM_MAX_LOCAL 8

struct dgram {
	struct dgram *next;
	struct port_addr src;
	size_t len;
	uint8_t data[];
};

enum sim_kind {
	SIM_UDP = 0,
	SIM_LISTEN,	/* head: connections waiting for accept (src = peer,
			 * len = the server end's socket) */
	SIM_STREAM,	/* head: bytes in order, as chunks */
};

struct sim_sock {
	int used;
	enum sim_kind kind;
	struct port_addr addr;
	struct port_addr peer;	/* SIM_STREAM */
	int other;		/* SIM_STREAM: the other end, -1 once closed */
	size_t off;		/* SIM_STREAM: bytes of head already read */
	struct dgram *head, *tail;
	port_ev_h *h;
	void *arg;
	unsigned events;
};

static struct sim_sock socks[SIM_MAX_SOCKS];
static unsigned loss, dup, reorder;
static struct port_addr refused_to;	/* sim_udp_refuse() */
static int refused_err;
static uint32_t rnd;
static struct port_addr local[SIM_MAX_LOCAL];
static unsigned n_local;
static uint32_t now_ms;
static uint64_t elapsed_ms;	/* since the start: the monotonic clock */
static int64_t wall_s = SIM_WALL_DEFAULT_S;

static int addr_eq(const struct port_addr *a, const struct port_addr *b)
{
	size_t n = a->family == PORT_AF_INET6 ? 16 : 4;

	return a->family == b->family && a->port == b->port &&
	       memcmp(a->ip, b->ip, n) == 0;
}

/* A socket's queue: datagrams, waiting connections or stream chunks. */
static void queue_append(struct sim_sock *s, struct dgram *d)
{
	d->next = NULL;
	if (s->tail) {
		s->tail->next = d;
	} else {
		s->head = d;
	}
	s->tail = d;
}

static struct dgram *queue_pop(struct sim_sock *s)
{
	struct dgram *d = s->head;

	if (d) {
		s->head = d->next;
		if (!s->head) {
			s->tail = NULL;
		}
	}
	return d;
}

static void sock_flush(struct sim_sock *s)
{
	struct dgram *d;

	while ((d = queue_pop(s))) {
		free(d);
	}
}

void sim_reset(uint32_t t)
{
	int i;

	for (i = 0; i < SIM_MAX_SOCKS; i++) {
		sock_flush(&socks[i]);
		memset(&socks[i], 0, sizeof(socks[i]));
	}
	now_ms = t;
	loss = dup = reorder = 0;
	n_local = 0;
	refused_err = 0;
}

void sim_udp_refuse(const struct port_addr *to, int err)
{
	refused_to = *to;
	refused_err = err;
}

void sim_impair(unsigned loss_pct, unsigned dup_pct, unsigned reorder_pct,
		uint32_t seed)
{
	loss = loss_pct;
	dup = dup_pct;
	reorder = reorder_pct;
	rnd = seed ? seed : 1;
}

/* True with pct percent chance (xorshift32: the same run every time). */
static int chance(unsigned pct)
{
	if (!pct) {
		return 0;
	}
	rnd ^= rnd << 13;
	rnd ^= rnd >> 17;
	rnd ^= rnd << 5;
	return rnd % 100 < pct;
}

/* A queue entry holding a copy of len bytes from src (NULL: no memory). */
static struct dgram *dgram_new(const struct port_addr *src, const void *buf,
			       size_t len)
{
	struct dgram *d = malloc(sizeof(*d) + len);

	if (d) {
		d->src = *src;
		d->len = len;
		memcpy(d->data, buf, len);
	}
	return d;
}

static int enqueue(struct sim_sock *to, const struct port_addr *src,
		   const void *buf, size_t len)
{
	struct dgram *d = dgram_new(src, buf, len);

	if (!d) {
		return ENOMEM;
	}
	if (to->head && chance(reorder)) {
		d->next = to->head; /* overtakes what is queued */
		to->head = d;
		return 0;
	}
	queue_append(to, d);
	return 0;
}

void sim_local_addr(const struct port_addr *a)
{
	if (n_local < SIM_MAX_LOCAL) {
		local[n_local++] = *a;
	}
}

int port_addr_is_local(const struct port_addr *a)
{
	size_t n = a->family == PORT_AF_INET6 ? 16 : 4;
	unsigned i;

	for (i = 0; i < n_local; i++) {
		if (local[i].family == a->family &&
		    !memcmp(local[i].ip, a->ip, n)) {
			return 1;
		}
	}
	return 0;
}

void sim_set_wall_s(int64_t s)
{
	wall_s = s - (int64_t)(elapsed_ms / 1000u);
}

/* Work for a reader: a datagram, a connection to accept, stream bytes,
 * or the end of a stream whose peer closed. */
static int sim_readable(const struct sim_sock *s)
{
	return s->head || (s->kind == SIM_STREAM && s->other < 0);
}

static int enqueue_stream(struct sim_sock *to, const void *buf, size_t len)
{
	struct dgram *d = dgram_new(&to->peer, buf, len);

	if (!d) {
		return ENOMEM;
	}
	queue_append(to, d);
	return 0;
}

/* The simulated host's own address: the first one given to
 * sim_local_addr(), else the first UDP socket's (the daemon's). */
static void sd_sim_host(struct port_addr *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	if (n_local) {
		*a = local[0];
		a->port = 0;
		return;
	}
	for (i = 0; i < SIM_MAX_SOCKS; i++) {
		if (socks[i].used && socks[i].kind != SIM_STREAM) {
			*a = socks[i].addr;
			a->port = 0;
			return;
		}
	}
}

unsigned sim_pending(void)
{
	unsigned n = 0;
	int i;

	for (i = 0; i < SIM_MAX_SOCKS; i++) {
		if (socks[i].used && (socks[i].events & PORT_EV_READ) &&
		    sim_readable(&socks[i])) {
			n++;
		}
	}
	return n;
}

int port_init(void)
{
	return 0;
}

void port_close_all(void)
{
	sim_reset(now_ms);
}

unsigned port_signals_take(void)
{
	return 0;
}

uint32_t port_now_ms(void)
{
	return now_ms;
}

uint64_t port_now_us(void)
{
	return elapsed_ms * 1000u;
}

int64_t port_wall_s(void)
{
	return wall_s + (int64_t)(elapsed_ms / 1000u);
}

int port_random(void *buf, size_t len)
{
	/* Deterministic on purpose: a simulation run repeats exactly. */
	static uint32_t x = 2463534242u;
	uint8_t *p = buf;

	while (len--) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		*p++ = (uint8_t)x;
	}
	return 0;
}

void port_log_syslog(const char *ident)
{
	(void)ident;
}

void port_log_errors_to_stderr(int on)
{
	(void)on;
}

void port_log(int level, const char *line)
{
	if (getenv("SIM_LOG")) {
		fprintf(stderr, "sim[%d] %u: %s\n", level, now_ms, line);
	}
}

static struct sim_sock *sock_get(int sock)
{
	if (sock < 0 || sock >= SIM_MAX_SOCKS || !socks[sock].used) {
		return NULL;
	}
	return &socks[sock];
}

/* The socket of kind bound to a (-1: none). */
static int sock_find(enum sim_kind kind, const struct port_addr *a)
{
	int i;

	for (i = 0; i < SIM_MAX_SOCKS; i++) {
		if (socks[i].used && socks[i].kind == kind &&
		    addr_eq(&socks[i].addr, a)) {
			return i;
		}
	}
	return -1;
}

static int sock_new(int *sock, enum sim_kind kind,
		    const struct port_addr *addr)
{
	int i;

	for (i = 0; i < SIM_MAX_SOCKS; i++) {
		if (!socks[i].used) {
			memset(&socks[i], 0, sizeof(socks[i]));
			socks[i].used = 1;
			socks[i].kind = kind;
			socks[i].addr = *addr;
			socks[i].other = -1;
			*sock = i;
			return 0;
		}
	}
	return EMFILE;
}

int port_udp_open(int *sock, const struct port_addr *bind)
{
	static const uint8_t any[16];
	static uint16_t ephemeral = 50000;
	struct port_addr a = *bind;

	/* A client socket (port 0): the host's first address, a port of
	 * its own, as a kernel would choose. */
	if (!a.port) {
		if (!memcmp(a.ip, any, sizeof(any))) {
			sd_sim_host(&a);
		}
		a.port = ephemeral++;
	}
	if (sock_find(SIM_UDP, &a) >= 0) {
		return EADDRINUSE;
	}
	return sock_new(sock, SIM_UDP, &a);
}

int port_tcp_listen(int *sock, const struct port_addr *bind)
{
	if (sock_find(SIM_LISTEN, bind) >= 0) {
		return EADDRINUSE;
	}
	return sock_new(sock, SIM_LISTEN, bind);
}

int port_tcp_accept(int lsock, int *sock, struct port_addr *peer)
{
	struct sim_sock *l = sock_get(lsock);
	struct dgram *d;

	if (!l || l->kind != SIM_LISTEN) {
		return EBADF;
	}
	d = queue_pop(l);
	if (!d) {
		return EAGAIN;
	}
	*sock = (int)d->len;
	*peer = d->src;
	free(d);
	return 0;
}

int sim_tcp_connect(int *sock, const struct port_addr *from,
		    const struct port_addr *to)
{
	static uint16_t ephemeral = 40000;
	struct port_addr src = *from;
	struct dgram *d;
	int l = sock_find(SIM_LISTEN, to), c, s;

	if (l < 0) {
		return ECONNREFUSED;
	}
	if (!src.port) {
		src.port = ephemeral++;
	}
	d = malloc(sizeof(*d));
	if (!d || sock_new(&c, SIM_STREAM, &src)) {
		free(d);
		return ENOMEM;
	}
	if (sock_new(&s, SIM_STREAM, to)) {
		port_close(c);
		free(d);
		return ENOMEM;
	}
	socks[c].peer = *to;
	socks[c].other = s;
	socks[s].peer = src;
	socks[s].other = c;
	d->src = src;
	d->len = (size_t)s;
	queue_append(&socks[l], d);
	*sock = c;
	return 0;
}

int port_tcp_connect(int *sock, const struct port_addr *dst)
{
	struct port_addr from;

	/* From the simulated host's first address (10.0.0.1 in the tests'
	 * harness), an ephemeral port. */
	sd_sim_host(&from);
	return sim_tcp_connect(sock, &from, dst);
}

int port_local_addr(int sock, struct port_addr *addr)
{
	struct sim_sock *s = sock_get(sock);

	if (!s) {
		return EBADF;
	}
	*addr = s->addr;
	return 0;
}

int port_sendto(int sock, const void *buf, size_t len,
		const struct port_addr *dst)
{
	struct sim_sock *s = sock_get(sock);
	int i;

	if (!s) {
		return EBADF;
	}
	if (refused_err && dst->family == refused_to.family &&
	    dst->port == refused_to.port &&
	    !memcmp(dst->ip, refused_to.ip, sizeof(dst->ip))) {
		return refused_err;
	}
	i = sock_find(SIM_UDP, dst);
	if (i < 0 || chance(loss)) {
		return 0; /* nobody listens, or the network lost it */
	}
	if (chance(dup) && enqueue(&socks[i], &s->addr, buf, len)) {
		return ENOMEM;
	}
	return enqueue(&socks[i], &s->addr, buf, len);
}

int port_recv_error(int sock, void *buf, size_t *len, struct port_addr *dst)
{
	(void)sock;
	(void)buf;
	(void)dst;
	*len = 0;
	return EAGAIN; /* the simulated network sends no ICMP */
}

int port_recvfrom(int sock, void *buf, size_t *len, struct port_addr *src)
{
	struct sim_sock *s = sock_get(sock);
	struct dgram *d;

	if (!s) {
		return EBADF;
	}
	d = queue_pop(s);
	if (!d) {
		return EAGAIN;
	}
	*src = d->src;
	if (d->len > *len) {
		/* As recvfrom() with MSG_TRUNC: the first bytes, then the
		 * rest is lost. */
		memcpy(buf, d->data, *len);
		free(d);
		return EMSGSIZE;
	}
	memcpy(buf, d->data, d->len);
	*len = d->len;
	free(d);
	return 0;
}

int port_send(int sock, const void *buf, size_t len, size_t *sent)
{
	struct sim_sock *s = sock_get(sock);

	*sent = 0;
	if (!s || s->kind != SIM_STREAM) {
		return EBADF;
	}
	if (s->other < 0) {
		return EPIPE;
	}
	/* A reliable stream: no loss, duplication or reordering. */
	if (enqueue_stream(&socks[s->other], buf, len)) {
		return ENOMEM;
	}
	*sent = len;
	return 0;
}

int port_recv(int sock, void *buf, size_t len, size_t *got)
{
	struct sim_sock *s = sock_get(sock);
	uint8_t *out = buf;

	*got = 0;
	if (!s || s->kind != SIM_STREAM) {
		return EBADF;
	}
	while (s->head && *got < len) {
		struct dgram *d = s->head;
		size_t n = d->len - s->off;

		if (n > len - *got) {
			n = len - *got;
		}
		memcpy(out + *got, d->data + s->off, n);
		*got += n;
		s->off += n;
		if (s->off == d->len) {
			free(queue_pop(s));
			s->off = 0;
		}
	}
	if (*got || s->other < 0) {
		return 0; /* data, or 0 bytes: the peer closed */
	}
	return EAGAIN;
}

int port_close(int sock)
{
	struct sim_sock *s = sock_get(sock);

	if (!s) {
		return EBADF;
	}
	if (s->kind == SIM_STREAM && s->other >= 0) {
		socks[s->other].other = -1; /* it reads EOF */
	}
	if (s->kind == SIM_LISTEN) {
		struct dgram *d;

		while ((d = queue_pop(s))) { /* never accepted: close ends */
			port_close((int)d->len);
			free(d);
		}
	}
	sock_flush(s);
	memset(s, 0, sizeof(*s));
	return 0;
}

int port_watch(int sock, unsigned events, port_ev_h *h, void *arg)
{
	struct sim_sock *s = sock_get(sock);

	if (!s) {
		return EBADF;
	}
	s->h = h;
	s->arg = arg;
	s->events = events;
	return 0;
}

int port_poll(int timeout_ms)
{
	int i, delivered = 0;

	for (i = 0; i < SIM_MAX_SOCKS; i++) {
		struct sim_sock *s = &socks[i];

		unsigned ev = 0;

		if (!s->used || !s->h) {
			continue;
		}
		if ((s->events & PORT_EV_READ) && sim_readable(s)) {
			ev |= PORT_EV_READ;
		}
		if ((s->events & PORT_EV_WRITE) && s->kind == SIM_STREAM) {
			ev |= PORT_EV_WRITE; /* always room in memory */
		}
		if (ev) {
			s->h(i, ev, s->arg);
			delivered = 1;
		}
	}
	if (!delivered && timeout_ms > 0) {
		now_ms += (uint32_t)timeout_ms;
		elapsed_ms += (uint64_t)timeout_ms;
	}
	return 0;
}

static enum port_fs sim_fs;

void sim_set_fs(enum port_fs kind)
{
	sim_fs = kind;
}

int port_fs_kind(const char *path, enum port_fs *kind, char *name,
		 size_t size)
{
	static const char *const names[] = {"ext4", "tmpfs", "jffs2"};

	(void)path;
	*kind = sim_fs;
	snprintf(name, size, "%s", names[sim_fs]);
	return 0;
}

void *port_reserve(size_t size)
{
	return calloc(1, size ? size : 1);
}

void port_unreserve(void *p, size_t size)
{
	(void)size;
	free(p);
}

/* Simulated interfaces: a name and one IPv4 address each. */
static struct {
	char name[16];
	struct port_addr addr;
	int has_addr;
} sim_ifs[4];
static void (*sim_if_h)(void *arg);
static void *sim_if_arg;

void sim_if_set(const char *name, const struct port_addr *a)
{
	unsigned i, free_i = 4;

	for (i = 0; i < 4; i++) {
		if (!strcmp(sim_ifs[i].name, name)) {
			break;
		}
		if (!sim_ifs[i].name[0] && free_i == 4) {
			free_i = i;
		}
	}
	if (i == 4) {
		i = free_i;
	}
	if (i == 4) {
		return;
	}
	snprintf(sim_ifs[i].name, sizeof(sim_ifs[i].name), "%s", name);
	sim_ifs[i].has_addr = a != NULL;
	if (a) {
		sim_ifs[i].addr = *a;
		sim_local_addr(a);
	}
	if (sim_if_h) {
		sim_if_h(sim_if_arg);
	}
}

int port_if_addr(const char *name, int family, struct port_addr *a)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(sim_ifs[i].name, name)) {
			if (!sim_ifs[i].has_addr ||
			    sim_ifs[i].addr.family != family) {
				return EADDRNOTAVAIL;
			}
			*a = sim_ifs[i].addr;
			a->port = 0;
			return 0;
		}
	}
	return ENODEV;
}

int port_if_watch(void (*h)(void *arg), void *arg)
{
	sim_if_h = h;
	sim_if_arg = arg;
	return 0;
}

void port_if_unwatch(void)
{
	sim_if_h = NULL;
}

int port_udp_rcvbuf(int sock, size_t bytes, size_t *got)
{
	(void)sock;
	*got = bytes; /* no kernel queue to size here */
	return 0;
}
