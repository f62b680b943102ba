/** @file sd.h  Shared helpers: borrowed string slices and addresses. */
#ifndef CORE_SD_H
#define CORE_SD_H

#include <stddef.h>
#include <stdint.h>

#include "port.h"

/** A borrowed slice of someone else's buffer: not NUL-terminated. */
struct sd_pl {
	const char *p;
	size_t l;
};

#define SD_PL_INIT {NULL, 0}

static inline struct sd_pl sd_pl(const char *p, size_t l)
{
	struct sd_pl pl = {p, l};

	return pl;
}

struct sd_pl sd_pl_str(const char *s);
/** Case-insensitive comparison of a slice with a C string. */
int sd_pl_casecmp(struct sd_pl pl, const char *s);
struct sd_pl sd_pl_trim(struct sd_pl pl);
/** Parse a decimal number; @return 0 or EINVAL / ERANGE. */
int sd_pl_u32(struct sd_pl pl, uint32_t *v);
int sd_pl_u64(struct sd_pl pl, uint64_t *v);
/** Copy into buf (NUL-terminated). @return 0 or ENAMETOOLONG. */
int sd_pl_copy(struct sd_pl pl, char *buf, size_t size);
/** s into buf[size], cut to fit: what snprintf(buf, size, "%s", s) does,
 * for the copies made per message. */
void sd_str_copy(char *buf, size_t size, const char *s);

/** Parse an IP literal ("1.2.3.4", "::1" or "[::1]") and a port. */
int sd_addr_parse(struct port_addr *a, const char *ip, uint16_t port);
/** "1.2.3.4" or "::1" (no brackets). */
void sd_addr_ip_str(const struct port_addr *a, char *buf, size_t size);
/** "1.2.3.4:5060" or "[::1]:5060". */
void sd_addr_str(const struct port_addr *a, char *buf, size_t size);
/** Same family and IP (and, for sd_addr_eq, port). */
int sd_addr_ip_eq(const struct port_addr *a, const struct port_addr *b);
int sd_addr_eq(const struct port_addr *a, const struct port_addr *b);

/** A bounded text writer; overflow is sticky and reported at the end. */
struct sd_buf {
	char *p;
	size_t size;
	size_t len;
	int overflow;
};

void sd_buf_init(struct sd_buf *b, char *p, size_t size);
void sd_buf_add(struct sd_buf *b, const char *s, size_t n);
void sd_buf_str(struct sd_buf *b, const char *s);
void sd_buf_pl(struct sd_buf *b, struct sd_pl pl);
/** v in decimal: what sd_buf_printf("%lu") writes, without the printf
 * machinery (header lines written for every message). */
void sd_buf_uint(struct sd_buf *b, unsigned long v);
void sd_buf_printf(struct sd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** n random lower-case hex characters plus NUL into buf[n + 1]. */
void sd_rand_hex(char *buf, size_t n);

/* Length of what sd_key_fit() writes for a slice that does not fit:
 * SOH, 32 hex digits, NUL. */
#define SD_KEY_HASHED_LEN 34

/**
 * A fixed-size key for a slice a peer may legitimately send longer than
 * any bound we keep (Call-ID, branch): the slice itself when it fits in
 * size - 1 bytes, else SOH and a 128-bit hash of it in hex, which no
 * literal slice can equal (SOH is no SIP text character). Two slices get
 * the same key when they are equal; different long ones only on a hash
 * collision (keyed with a random seed per process). size must be at least
 * SD_KEY_HASHED_LEN.
 */
void sd_key_fit(char *key, size_t size, struct sd_pl pl);

#endif
