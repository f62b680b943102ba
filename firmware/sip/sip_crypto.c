/** @file sip_crypto.c  The one file that calls mbedTLS: MD5 and SHA-256
 * by their own functions (mbedTLS 2.28's `_ret` names; 3.x drops the
 * suffix, so a port to OpenWrt's 3.6 changes this file only), and
 * HMAC-SHA-256 (RFC 2104) on top of SHA-256. Not the generic `md` layer:
 * it links every digest the library has (about 20 KB more). */
#include <string.h>

#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>

#include "sip_auth.h"

size_t sip_crypto_hash(enum sip_auth_alg a, const void *data, size_t len,
		       uint8_t out[SIP_HASH_MAX])
{
	if (a == SIP_AUTH_SHA256) {
		if (mbedtls_sha256_ret(data, len, out, 0)) {
			memset(out, 0, SIP_HASH_MAX);
		}
		return 32;
	}
	if (mbedtls_md5_ret(data, len, out)) {
		memset(out, 0, SIP_HASH_MAX);
	}
	return 16;
}

void sip_crypto_hmac(const void *key, size_t klen, const void *data,
		     size_t len, uint8_t out[SIP_HASH_MAX])
{
	mbedtls_sha256_context c;
	uint8_t k[64], pad[64], inner[32];
	unsigned i;

	memset(k, 0, sizeof(k));
	if (klen > sizeof(k)) {
		mbedtls_sha256_ret(key, klen, k, 0);
	} else {
		memcpy(k, key, klen);
	}
	mbedtls_sha256_init(&c);
	for (i = 0; i < 64; i++) {
		pad[i] = k[i] ^ 0x36;
	}
	if (mbedtls_sha256_starts_ret(&c, 0) ||
	    mbedtls_sha256_update_ret(&c, pad, 64) ||
	    mbedtls_sha256_update_ret(&c, data, len) ||
	    mbedtls_sha256_finish_ret(&c, inner)) {
		memset(out, 0, SIP_HASH_MAX);
		mbedtls_sha256_free(&c);
		return;
	}
	for (i = 0; i < 64; i++) {
		pad[i] = k[i] ^ 0x5c;
	}
	if (mbedtls_sha256_starts_ret(&c, 0) ||
	    mbedtls_sha256_update_ret(&c, pad, 64) ||
	    mbedtls_sha256_update_ret(&c, inner, 32) ||
	    mbedtls_sha256_finish_ret(&c, out)) {
		memset(out, 0, SIP_HASH_MAX);
	}
	mbedtls_sha256_free(&c);
	memset(k, 0, sizeof(k));
}
