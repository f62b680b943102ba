/** @file sip_crypto.c  The one file that calls mbedTLS. Its generic
 * message-digest API (mbedtls_md_*) is the same in mbedTLS 2.28 (Debian)
 * and 3.6 (OpenWrt 24.10), so a port to another version changes this file
 * only. */
#include <string.h>

#include <mbedtls/md.h>

#include "sip_auth.h"

static const mbedtls_md_info_t *md_info(enum sip_auth_alg a)
{
	return mbedtls_md_info_from_type(a == SIP_AUTH_SHA256 ?
					 MBEDTLS_MD_SHA256 : MBEDTLS_MD_MD5);
}

size_t sip_crypto_hash(enum sip_auth_alg a, const void *data, size_t len,
		       uint8_t out[SIP_HASH_MAX])
{
	const mbedtls_md_info_t *md = md_info(a);

	if (!md || mbedtls_md(md, data, len, out)) {
		memset(out, 0, SIP_HASH_MAX);
	}
	return md ? mbedtls_md_get_size(md) : 0;
}

void sip_crypto_hmac(const void *key, size_t klen, const void *data,
		     size_t len, uint8_t out[SIP_HASH_MAX])
{
	const mbedtls_md_info_t *md = md_info(SIP_AUTH_SHA256);

	if (!md || mbedtls_md_hmac(md, key, klen, data, len, out)) {
		memset(out, 0, SIP_HASH_MAX);
	}
}
