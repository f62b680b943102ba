/** @file sip_auth.h  Digest authentication (RFC 3261 22, RFC 7616,
 * RFC 8760): the hashes, the response a client must send, and the nonces
 * simpled hands out. */
#ifndef SIP_AUTH_H
#define SIP_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct sip_msg;

enum sip_auth_alg {
	SIP_AUTH_MD5,
	SIP_AUTH_SHA256,
	SIP_AUTH__COUNT
};

/* Bytes of the longest hash (SHA-256), and of its hex form with NUL. */
#define SIP_HASH_MAX 32
#define SIP_HEX_MAX (2 * SIP_HASH_MAX + 1)

/** "MD5" or "SHA-256", as in the algorithm parameter. */
const char *sip_auth_alg_name(enum sip_auth_alg a);
/** The algorithm named (case-insensitive). @return 0 or EINVAL. */
int sip_auth_alg_parse(const char *name, size_t len, enum sip_auth_alg *a);

/** HA1 = H(user ":" realm ":" password), lower-case hex. */
void sip_auth_ha1(enum sip_auth_alg a, const char *user, const char *realm,
		  const char *password, char hex[SIP_HEX_MAX]);

/** What the response parameter must be for qop=auth (RFC 7616 3.4.1):
 * H(HA1 ":" nonce ":" nc ":" cnonce ":auth:" H(method ":" uri)); with nc
 * NULL, a challenge without qop (RFC 2069): H(HA1 ":" nonce ":" HA2). */
void sip_auth_response(enum sip_auth_alg a, const char *ha1,
		       const char *nonce, const char *nc, const char *cnonce,
		       const char *method, const char *uri,
		       char hex[SIP_HEX_MAX]);

/* ------------------------------------------------------------ accounts */

/* A `config user` section (sip_user.c). The password is kept as given, or
 * only as its hashes (ha1, ha1_sha256: the file need not hold it). */
struct sip_user {
	char name[64];
	char domain[128];	/**< "" = the first served domain */
	char display[64];
	char password[128];
	char ha1[2 * 16 + 1];		/**< MD5 HA1, hex, or "" */
	char ha1_sha256[2 * 32 + 1];	/**< SHA-256 HA1, hex, or "" */
};

/** The accounts module (`config user`, any number up to
 * CONFIG_SIMPLED_MAX_USERS). */
extern const struct mod sip_users_mod;
/** The account name@domain, or NULL. */
const struct sip_user *sip_user_find(const char *name, const char *domain);
/** Can name be an account's name (a user part without escapes)? */
int sip_user_name_ok(const char *name);
/** Does user@domain ("user@domain") exist: an account, or anyone under
 * open registration? */
int sip_user_exists(const char *aor);
/** How many accounts are configured. */
unsigned sip_user_count(void);

/** Challenges and the check of their answers (`config auth`). */
extern const struct mod sip_auth_mod;
/** Our account at the outbound proxy (`config upstream`). */
extern const struct mod sip_upstream_mod;
#ifdef CONFIG_SIMPLED_TLS
/** The TLS server: certificate, key, client checks (`config tls`). */
extern const struct mod sip_tls_mod;
#endif
/**
 * The header line (CRLF-terminated) answering the upstream challenge of
 * resp (a 401 or 407) for a request of method to uri with the `config
 * upstream` account: MD5 or SHA-256, qop=auth when offered, else RFC 2069.
 * Only a 407 (the proxy's) is answered for a request we relay: a 401
 * there comes from the far end, which must never get our digest. own:
 * the request is ours (pua's PUBLISH, SUBSCRIBE), so the far end is the
 * other domain's server and its 401 for the realm is answered too.
 * @return 0, ENOENT (no account, or no challenge it can answer) or
 * EMSGSIZE.
 */
int sip_upstream_answer(const struct sip_msg *resp, const char *method,
			const char *uri, int own, char *hdr, size_t size);

/* sip_crypto.c: the only file that calls mbedTLS. */
/** out = H(data); @return the hash length (16 or 32). */
size_t sip_crypto_hash(enum sip_auth_alg a, const void *data, size_t len,
		       uint8_t out[SIP_HASH_MAX]);
/** out = HMAC-SHA-256(key, data). */
void sip_crypto_hmac(const void *key, size_t klen, const void *data,
		     size_t len, uint8_t out[SIP_HASH_MAX]);

/*
 * Nonces: "<8 hex: issue time, s><8 hex: issue tick><8 hex: random><32
 * hex: MAC>", the MAC
 * a keyed hash (a secret drawn at start) of what comes before it, so a
 * nonce is recognised without a table; a bounded table of the nonces used
 * lately (answered right) keeps the highest nonce count (nc) used with
 * each, so a replayed Authorization is refused. Issuing a nonce costs no
 * entry, so unauthenticated requests cannot push others out.
 */
#define SIP_NONCE_LEN 56

enum sip_nonce_verdict {
	SIP_NONCE_OK,		/**< ours, fresh, nc higher than before */
	SIP_NONCE_STALE,	/**< ours but expired, or used and no
				 * longer in the table: challenge again with
				 * stale=true */
	SIP_NONCE_REPLAY,	/**< nc not above the highest seen */
	SIP_NONCE_FORGED,	/**< not made by this process */
};

/** Set up the table of entries nonces (start-up; 0 frees it) and draw
 * the secret. @return 0 or ENOMEM. */
int sip_nonce_init(unsigned entries);
/** A new nonce issued now. */
void sip_nonce_new(char out[SIP_NONCE_LEN + 1]);
/** Judge nonce used with count nc now, valid for lifetime_s (nothing is
 * recorded: see sip_nonce_use()). */
enum sip_nonce_verdict sip_nonce_check(const char *nonce, uint32_t nc,
				       uint32_t lifetime_s);
/** nc was used with nonce (checked OK, and the answer was right): a
 * count up to it is a replay from now on (the nonce enters the table, the
 * oldest used one leaving). */
void sip_nonce_use(const char *nonce, uint32_t nc);
/** Are the NUL-terminated a and b equal? In a time that does not depend
 * on where they differ (for secrets: responses, MACs). */
int sip_auth_equal(const char *a, const char *b);

#endif
