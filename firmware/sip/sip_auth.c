/** @file sip_auth.c  Digest computations and nonces (see sip_auth.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "port.h"
#include "sd.h"
#include "sd_hash.h"
#include "sip_auth.h"
#include "sip_priv.h"

static const char *const alg_names[SIP_AUTH__COUNT] = {"MD5", "SHA-256"};

const char *sip_auth_alg_name(enum sip_auth_alg a)
{
	return a < SIP_AUTH__COUNT ? alg_names[a] : "?";
}

int sip_auth_alg_parse(const char *name, size_t len, enum sip_auth_alg *a)
{
	unsigned i;

	for (i = 0; i < SIP_AUTH__COUNT; i++) {
		if (strlen(alg_names[i]) == len &&
		    !strncasecmp(name, alg_names[i], len)) {
			*a = (enum sip_auth_alg)i;
			return 0;
		}
	}
	return EINVAL;
}

void sip_hex(const uint8_t *b, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
	hex[2 * n] = '\0';
}

/* hex = H(the parts joined by ':'), parts ending with NULL. */
static void hash_joined(enum sip_auth_alg a, char hex[SIP_HEX_MAX],
			const char *const *parts)
{
	/* The longest input: a response over two hashes, a nonce, a
	 * cnonce and nc; a HA1 over a user, realm and password. */
	static char buf[2048];
	uint8_t h[SIP_HASH_MAX];
	size_t len = 0, n;
	unsigned i;

	for (i = 0; parts[i]; i++) {
		n = strlen(parts[i]);
		if (len + n + 2 >= sizeof(buf)) {
			n = 0; /* cannot match anything a client computed */
		}
		if (i && len + 1 < sizeof(buf)) {
			buf[len++] = ':';
		}
		memcpy(buf + len, parts[i], n);
		len += n;
	}
	sip_hex(h, sip_crypto_hash(a, buf, len, h), hex);
}

void sip_auth_ha1(enum sip_auth_alg a, const char *user, const char *realm,
		  const char *password, char hex[SIP_HEX_MAX])
{
	const char *const parts[] = {user, realm, password, NULL};

	hash_joined(a, hex, parts);
}

void sip_auth_response(enum sip_auth_alg a, const char *ha1,
		       const char *nonce, const char *nc, const char *cnonce,
		       const char *method, const char *uri,
		       char hex[SIP_HEX_MAX])
{
	const char *const a2[] = {method, uri, NULL};
	char ha2[SIP_HEX_MAX];
	const char *const parts[] = {ha1, nonce, nc, cnonce, "auth", ha2,
				     NULL};
	const char *const old[] = {ha1, nonce, ha2, NULL};

	hash_joined(a, ha2, a2);
	hash_joined(a, hex, nc ? parts : old);
}

/* --------------------------------------------------------------- nonces */

/* A nonce used lately (answered right) and the highest nc used with it.
 * Entries are taken at the first use, not when a nonce is issued, so
 * unauthenticated requests (each gets a new nonce) cannot push a
 * client's nonce out. The table is a ring in first-use order over a fixed
 * array; a hash finds an entry.
 *
 * Issues and first uses are counted on one clock (ticks; a nonce carries
 * the tick it was issued at). A nonce missing from the table was either
 * never used, or used and pushed out; the latter only if it was issued
 * no later than the first use of the newest entry that left (it would
 * still be in the table otherwise): then it is stale. Seconds would not
 * do: at a few thousand authentications a second every nonce issued in
 * the second of an eviction would be stale. */
struct nonce_ent {
	UT_hash_handle hh;
	uint32_t nc;
	uint32_t used_at;	/* tick of its first use */
	char nonce[SIP_NONCE_LEN + 1];
};

static struct nonce_ent *ring, *by_nonce;
static unsigned ring_size, ring_next;
static uint8_t secret[32];
static uint32_t ticks;		/* issues and first uses so far */
static uint32_t forgotten_upto;	/* first-use tick of the newest gone */
static int forgotten;

int sip_nonce_init(unsigned entries)
{
	HASH_CLEAR(hh, by_nonce);
	mem_put(ring);
	ring = NULL;
	ring_size = ring_next = 0;
	forgotten = 0;
	forgotten_upto = 0;
	ticks = 0;
	if (!entries) {
		return 0;
	}
	ring = mem_zalloc((size_t)entries * sizeof(*ring));
	if (!ring) {
		return ENOMEM;
	}
	ring_size = entries;
	if (port_random(secret, sizeof(secret))) {
		sip_nonce_init(0);
		return EIO; /* no secret, no nonces to trust */
	}
	return 0;
}

static void nonce_mac(const char *head, char mac[33])
{
	uint8_t h[SIP_HASH_MAX];

	sip_crypto_hmac(secret, sizeof(secret), head, 24, h);
	sip_hex(h, 16, mac);
}

uint32_t sip_now_s(void)
{
	return (uint32_t)(port_now_us() / 1000000u);
}

void sip_nonce_new(char out[SIP_NONCE_LEN + 1])
{
	char mac[33], rnd[9];

	sd_rand_hex(rnd, 8);
	snprintf(out, SIP_NONCE_LEN + 1, "%08x%08x%s", (unsigned)sip_now_s(),
		 (unsigned)++ticks, rnd);
	nonce_mac(out, mac);
	memcpy(out + 24, mac, 33);
}

/* The issue time of a nonce of ours (MAC checked), or -1. */
static long nonce_issued(const char *nonce)
{
	char mac[33], head[25];

	if (strlen(nonce) != SIP_NONCE_LEN) {
		return -1;
	}
	memcpy(head, nonce, 24);
	head[24] = '\0';
	nonce_mac(head, mac);
	if (!sip_auth_equal(mac, nonce + 24)) {
		return -1;
	}
	head[8] = '\0';
	return (long)strtoul(head, NULL, 16);
}

/* The tick a nonce of ours was issued at (its second 8 hex digits). */
static uint32_t issue_tick(const char *nonce)
{
	char t[9];

	memcpy(t, nonce + 8, 8);
	t[8] = '\0';
	return (uint32_t)strtoul(t, NULL, 16);
}

/* Issued at tick t no later than the first use of the newest entry gone:
 * it may have been used and pushed out. */
static int maybe_forgotten(uint32_t t)
{
	return forgotten && (int32_t)(t - forgotten_upto) <= 0;
}

static void forget(uint32_t t)
{
	if (!forgotten || (int32_t)(t - forgotten_upto) > 0) {
		forgotten_upto = t;
	}
	forgotten = 1;
}

enum sip_nonce_verdict sip_nonce_check(const char *nonce, uint32_t nc,
				       uint32_t lifetime_s)
{
	struct nonce_ent *e;
	long issued = nonce_issued(nonce);

	if (issued < 0) {
		return SIP_NONCE_FORGED;
	}
	if ((uint32_t)(sip_now_s() - (uint32_t)issued) > lifetime_s) {
		return SIP_NONCE_STALE;
	}
	HASH_FIND_STR(by_nonce, nonce, e);
	if (e) {
		return nc <= e->nc ? SIP_NONCE_REPLAY : SIP_NONCE_OK;
	}
	if (maybe_forgotten(issue_tick(nonce))) {
		return SIP_NONCE_STALE; /* used, perhaps, and pushed out */
	}
	return SIP_NONCE_OK; /* its first use */
}

void sip_nonce_use(const char *nonce, uint32_t nc)
{
	struct nonce_ent *e;

	/* Checked OK just before (sip_nonce_check): ours. */
	if (!ring_size || strlen(nonce) != SIP_NONCE_LEN) {
		return;
	}
	HASH_FIND_STR(by_nonce, nonce, e);
	if (e) {
		if (nc > e->nc) {
			e->nc = nc;
		}
		return;
	}
	e = &ring[ring_next];
	ring_next = (ring_next + 1) % ring_size;
	if (e->nonce[0]) {
		HASH_DEL(by_nonce, e);
		forget(e->used_at);
	}
	memcpy(e->nonce, nonce, sizeof(e->nonce));
	e->nc = nc;
	e->used_at = ++ticks;
	sd_hash_oom = 0;
	HASH_ADD_STR(by_nonce, nonce, e);
	if (sd_hash_oom) {
		e->nonce[0] = '\0';
		forget(e->used_at); /* not kept: a later use is stale */
	}
}

int sip_auth_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++) {
		d |= (unsigned char)(a[i] ^ b[i]);
	}
	return !d;
}
