/** @file sd.c  Shared helpers (see sd.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sd.h"

struct sd_pl sd_pl_str(const char *s)
{
	return sd_pl(s, s ? strlen(s) : 0);
}

int sd_pl_casecmp(struct sd_pl pl, const char *s)
{
	size_t l = strlen(s);

	if (pl.l != l) {
		return pl.l < l ? -1 : 1;
	}
	return l ? strncasecmp(pl.p, s, l) : 0;
}

struct sd_pl sd_pl_trim(struct sd_pl pl)
{
	while (pl.l && (pl.p[0] == ' ' || pl.p[0] == '\t')) {
		pl.p++;
		pl.l--;
	}
	while (pl.l && (pl.p[pl.l - 1] == ' ' || pl.p[pl.l - 1] == '\t' ||
			pl.p[pl.l - 1] == '\r' || pl.p[pl.l - 1] == '\n')) {
		pl.l--;
	}
	return pl;
}

int sd_pl_u64(struct sd_pl pl, uint64_t *v)
{
	uint64_t x = 0, d;
	size_t i;

	if (!pl.l) {
		return EINVAL;
	}
	for (i = 0; i < pl.l; i++) {
		if (pl.p[i] < '0' || pl.p[i] > '9') {
			return EINVAL;
		}
		d = (uint64_t)(pl.p[i] - '0');
		if (x > (UINT64_MAX - d) / 10) {
			return ERANGE;
		}
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int sd_pl_u32(struct sd_pl pl, uint32_t *v)
{
	uint64_t x;
	int err = sd_pl_u64(pl, &x);

	if (!err && x > UINT32_MAX) {
		err = ERANGE;
	}
	if (!err) {
		*v = (uint32_t)x;
	}
	return err;
}

int sd_pl_copy(struct sd_pl pl, char *buf, size_t size)
{
	if (pl.l >= size) {
		return ENAMETOOLONG;
	}
	if (pl.l) {
		memcpy(buf, pl.p, pl.l); /* an absent part is {NULL, 0} */
	}
	buf[pl.l] = '\0';
	return 0;
}

void sd_str_copy(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);

	n = n < size ? n : size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

int sd_addr_parse(struct port_addr *a, const char *ip, uint16_t port)
{
	char tmp[48];
	size_t l = strlen(ip);

	memset(a, 0, sizeof(*a));
	a->port = port;
	if (l >= 2 && ip[0] == '[' && ip[l - 1] == ']') {
		if (l - 2 >= sizeof(tmp)) {
			return EINVAL;
		}
		memcpy(tmp, ip + 1, l - 2);
		tmp[l - 2] = '\0';
		ip = tmp;
	}
	if (inet_pton(AF_INET, ip, a->ip) == 1) {
		a->family = PORT_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a->ip) == 1) {
		a->family = PORT_AF_INET6;
		return 0;
	}
	return EINVAL;
}

void sd_addr_ip_str(const struct port_addr *a, char *buf, size_t size)
{
	if (a->family != PORT_AF_INET6 && size >= 16) {
		/* IPv4 without inet_ntop's printf (every stored message
		 * names its source). */
		struct sd_buf b;
		unsigned i;

		sd_buf_init(&b, buf, size);
		for (i = 0; i < 4; i++) {
			if (i) {
				sd_buf_add(&b, ".", 1);
			}
			sd_buf_uint(&b, a->ip[i]);
		}
		buf[b.len] = '\0';
		return;
	}
	if (!inet_ntop(a->family == PORT_AF_INET6 ? AF_INET6 : AF_INET,
		       a->ip, buf, (socklen_t)size)) {
		snprintf(buf, size, "?");
	}
}

void sd_addr_str(const struct port_addr *a, char *buf, size_t size)
{
	char ip[48];

	sd_addr_ip_str(a, ip, sizeof(ip));
	if (a->family == PORT_AF_INET6) {
		snprintf(buf, size, "[%s]:%u", ip, a->port);
	} else {
		snprintf(buf, size, "%s:%u", ip, a->port);
	}
}

int sd_addr_ip_eq(const struct port_addr *a, const struct port_addr *b)
{
	size_t n = a->family == PORT_AF_INET6 ? 16 : 4;

	return a->family == b->family && !memcmp(a->ip, b->ip, n);
}

int sd_addr_eq(const struct port_addr *a, const struct port_addr *b)
{
	return a->port == b->port && sd_addr_ip_eq(a, b);
}

void sd_buf_init(struct sd_buf *b, char *p, size_t size)
{
	b->p = p;
	b->size = size;
	b->len = 0;
	b->overflow = 0;
	if (size) {
		p[0] = '\0';
	}
}

void sd_buf_add(struct sd_buf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->size - b->len) {
		b->overflow = 1;
		return;
	}
	if (!n) {
		return; /* an absent slice has no pointer (RFC 2543 From) */
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sd_buf_str(struct sd_buf *b, const char *s)
{
	sd_buf_add(b, s, strlen(s));
}

void sd_buf_uint(struct sd_buf *b, unsigned long v)
{
	char d[24], *e = d + sizeof(d), *p = e;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sd_buf_add(b, p, (size_t)(e - p));
}

void sd_buf_pl(struct sd_buf *b, struct sd_pl pl)
{
	sd_buf_add(b, pl.p, pl.l);
}

void sd_buf_printf(struct sd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->size - b->len) {
		b->overflow = 1;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

/* Random bytes for tags and branches, taken from port_random() a pool at
 * a time: one system call per many requests, not one per tag. */
static uint8_t rand_pool[256];
static size_t rand_left;

void sd_rand_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i += 2) {
		uint8_t r;

		if (!rand_left) {
			port_random(rand_pool, sizeof(rand_pool));
			rand_left = sizeof(rand_pool);
		}
		r = rand_pool[--rand_left];
		rand_pool[rand_left] = 0; /* not kept once handed out */
		buf[i] = hex[r & 15];
		if (i + 1 < n) {
			buf[i + 1] = hex[r >> 4];
		}
	}
	buf[n] = '\0';
}

/* FNV-1a, 64 bit, from a seeded offset basis. */
static uint64_t fnv64(uint64_t h, struct sd_pl pl)
{
	size_t i;

	for (i = 0; i < pl.l; i++) {
		h ^= (uint8_t)pl.p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void sd_key_fit(char *key, size_t size, struct sd_pl pl)
{
	static uint64_t seed[2];
	static int seeded;
	uint64_t h0, h1;

	if (pl.l < size) {
		memcpy(key, pl.p, pl.l);
		key[pl.l] = '\0';
		return;
	}
	if (!seeded) {
		port_random(seed, sizeof(seed));
		seed[0] ^= 0xcbf29ce484222325ull;
		seed[1] ^= 0x84222325cbf29ce4ull;
		seeded = 1;
	}
	/* Two independent 64-bit halves; the length goes into both. */
	h0 = fnv64(seed[0] ^ pl.l, pl);
	h1 = fnv64(seed[1] + pl.l * 0x9e3779b97f4a7c15ull, pl);
	snprintf(key, size, "\x01%016llx%016llx", (unsigned long long)h0,
		 (unsigned long long)h1);
}

#include "sd_hash.h"

/* Set by uthash when a bucket table could not be allocated. */
int sd_hash_oom;
