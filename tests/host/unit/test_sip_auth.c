/** @file test_sip_auth.c  Digest authentication: the hashes against the
 * RFC 7616 examples, and the nonces (forged, stale, replayed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem.h"
#include "port_sim.h"
#include "sip_auth.h"

/* RFC 7616 3.9.1: the same request answered with MD5 and SHA-256. */
static void test_rfc7616_examples(void **state)
{
	static const char *const want[SIP_AUTH__COUNT] = {
		"8ca523f5e9506fed4657c9700eebdbec",
		"753927fa0e85d155564e2e272a28d180"
		"2ca10daf4496794697cf8db5856cb6c1",
	};
	char ha1[SIP_HEX_MAX], resp[SIP_HEX_MAX];
	unsigned a;

	(void)state;
	for (a = 0; a < SIP_AUTH__COUNT; a++) {
		sip_auth_ha1((enum sip_auth_alg)a, "Mufasa",
			     "http-auth@example.org", "Circle of Life", ha1);
		sip_auth_response((enum sip_auth_alg)a, ha1,
				  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
				  "00000001",
				  "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
				  "GET", "/dir/index.html", resp);
		assert_string_equal(resp, want[a]);
	}
	/* The HA1 of RFC 2617's example, MD5 over "Mufasa:realm:pw". */
	sip_auth_ha1(SIP_AUTH_MD5, "Mufasa", "testrealm@host.com",
		     "Circle Of Life", ha1);
	assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");
}

/* RFC 4231 4.2 and 4.3 (test cases 1 and 2): HMAC-SHA-256, which keys
 * the nonces. */
static void test_hmac_sha256(void **state)
{
	static const uint8_t want1[32] = {
		0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8,
		0xaf, 0xce, 0xaf, 0x0b, 0xf1, 0x2b, 0x88, 0x1d, 0xc2, 0x00,
		0xc9, 0x83, 0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32,
		0xcf, 0xf7};
	static const uint8_t want2[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04,
		0x24, 0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08,
		0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec,
		0x38, 0x43};
	uint8_t key[20], out[SIP_HASH_MAX];

	(void)state;
	memset(key, 0x0b, sizeof(key));
	sip_crypto_hmac(key, sizeof(key), "Hi There", 8, out);
	assert_memory_equal(out, want1, 32);
	sip_crypto_hmac("Jefe", 4, "what do ya want for nothing?", 28, out);
	assert_memory_equal(out, want2, 32);
}

static void test_alg_names(void **state)
{
	enum sip_auth_alg a;

	(void)state;
	assert_int_equal(sip_auth_alg_parse("sha-256", 7, &a), 0);
	assert_int_equal(a, SIP_AUTH_SHA256);
	assert_int_equal(sip_auth_alg_parse("MD5", 3, &a), 0);
	assert_int_equal(a, SIP_AUTH_MD5);
	assert_int_not_equal(sip_auth_alg_parse("SHA-512-256", 11, &a), 0);
	assert_int_not_equal(sip_auth_alg_parse("MD5-sess", 8, &a), 0);
	assert_string_equal(sip_auth_alg_name(SIP_AUTH_SHA256), "SHA-256");
}

static void test_nonces(void **state)
{
	char n1[SIP_NONCE_LEN + 1], n2[SIP_NONCE_LEN + 1], bad[SIP_NONCE_LEN + 1];
	unsigned i;

	(void)state;
	mem_set_budget(1 << 20);
	sim_reset(1000);
	assert_int_equal(sip_nonce_init(4), 0);
	sip_nonce_new(n1);
	sip_nonce_new(n2);
	assert_int_equal(strlen(n1), SIP_NONCE_LEN);
	assert_string_not_equal(n1, n2);
	/* Counts must rise; a count used before is a replay. A check
	 * records nothing: only a use does. */
	assert_int_equal(sip_nonce_check(n1, 1, 300), SIP_NONCE_OK);
	assert_int_equal(sip_nonce_check(n1, 1, 300), SIP_NONCE_OK);
	sip_nonce_use(n1, 1);
	assert_int_equal(sip_nonce_check(n1, 1, 300), SIP_NONCE_REPLAY);
	assert_int_equal(sip_nonce_check(n1, 3, 300), SIP_NONCE_OK);
	sip_nonce_use(n1, 3);
	assert_int_equal(sip_nonce_check(n1, 2, 300), SIP_NONCE_REPLAY);
	assert_int_equal(sip_nonce_check(n2, 1, 300), SIP_NONCE_OK);
	assert_true(sip_auth_equal("abc", "abc"));
	assert_false(sip_auth_equal("abc", "abd"));
	assert_false(sip_auth_equal("abc", "ab"));
	/* Any change of any character is not ours. */
	for (i = 0; i < SIP_NONCE_LEN; i++) {
		memcpy(bad, n2, sizeof(bad));
		bad[i] = bad[i] == 'a' ? 'b' : 'a';
		assert_int_equal(sip_nonce_check(bad, 9, 300),
				 SIP_NONCE_FORGED);
	}
	assert_int_equal(sip_nonce_check("short", 1, 300), SIP_NONCE_FORGED);
	sip_nonce_use(n2, 1);
	/* Nonces issued and never answered (a flood of requests without
	 * credentials) take no entry: n1 and n2 are still known. */
	for (i = 0; i < 100; i++) {
		char n[SIP_NONCE_LEN + 1];

		sip_nonce_new(n);
	}
	assert_int_equal(sip_nonce_check(n1, 3, 300), SIP_NONCE_REPLAY);
	assert_int_equal(sip_nonce_check(n2, 1, 300), SIP_NONCE_REPLAY);
	/* Four nonces used after them push them out: stale now, as is an
	 * unused one issued before those left (it may have been used). */
	port_poll(1000);
	for (i = 0; i < 4; i++) {
		char n[SIP_NONCE_LEN + 1];

		sip_nonce_new(n);
		sip_nonce_use(n, 1);
	}
	assert_int_equal(sip_nonce_check(n1, 4, 300), SIP_NONCE_STALE);
	assert_int_equal(sip_nonce_check(n2, 2, 300), SIP_NONCE_STALE);
	/* Past its lifetime a nonce is stale. */
	sip_nonce_new(n1);
	port_poll(301 * 1000); /* nothing to wait for: time moves on */
	assert_int_equal(sip_nonce_check(n1, 1, 300), SIP_NONCE_STALE);
	sip_nonce_new(n2);
	assert_int_equal(sip_nonce_check(n2, 1, 300), SIP_NONCE_OK);
	/* A new process secret: the old nonces are not ours. */
	assert_int_equal(sip_nonce_init(4), 0);
	assert_int_equal(sip_nonce_check(n2, 2, 300), SIP_NONCE_FORGED);
	assert_int_equal(sip_nonce_init(0), 0);
	assert_int_equal(mem_used(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_examples),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_nonces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
