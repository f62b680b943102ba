/** @file sip_crypto.c  The one file that calls mbedTLS, so that a port to
 * another version (OpenWrt 24.10 ships 3.6; this is written against
 * Debian's 2.28) changes this file only:
 * - MD5 and SHA-256 by their own functions (2.28's `_ret` names; 3.x drops
 *   the suffix), and HMAC-SHA-256 (RFC 2104) on top of SHA-256. Not the
 *   generic `md` layer: it links every digest the library has.
 * - TLS (`config tls`, CONFIG_SIMPLED_TLS): the server side of TLS 1.2 on
 *   a connection sip_tcp.c accepted, over its non-blocking socket.
 * - mbedTLS's memory. Debian's build has no platform memory hooks, so the
 *   build renames the calloc and free that libmbed*.a call to
 *   sd_mbedtls_calloc and sd_mbedtls_free (objcopy --redefine-sym, see
 *   cmake/deps.cmake): every byte mbedTLS holds is lent by core/mem.c,
 *   charged to the TLS arena and capped by `option memory_kb`, in every
 *   build (static, dynamic, ASan), and no pointer of another library's
 *   ever reaches them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>

#include "simpled_config.h"
#ifdef CONFIG_SIMPLED_TLS
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>	/* mbedtls_ssl_flush_output() */
#include <mbedtls/x509_crt.h>
#endif

#define LOG_MODULE "tls"
#include "cfg.h"
#include "log.h"
#include "mem.h"
#include "mod.h"
#include "rate.h"
#include "sip_auth.h"
#include "sip_priv.h"
#include "stat.h"

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

/* ------------------------------------------------------------- memory */

/* Everything mbedTLS holds, and the most it may: a flood of handshakes
 * is refused at this cap, never by taking what SIP needs. */
static struct mem_arena tls_arena;
static size_t tls_cap = (size_t)-1;

/* mbedTLS's calloc (see the file comment): prototypes for the linker's
 * sake only, nothing of ours calls them. */
void *sd_mbedtls_calloc(size_t n, size_t size);
void sd_mbedtls_free(void *p);

void *sd_mbedtls_calloc(size_t n, size_t size)
{
	struct mem_arena *prev;
	void *p;

	/* Far below any wrap of n * size or of mem_alloc's header. */
	if (size && n > (((size_t)-1) >> 2) / size) {
		return NULL;
	}
	if (n * size > tls_cap || tls_arena.bytes > tls_cap - n * size) {
		return NULL;
	}
	prev = mem_arena_enter(&tls_arena);
	p = mem_zalloc(n * size);
	mem_arena_leave(prev);
	return p;
}

void sd_mbedtls_free(void *p)
{
	mem_put(p);
}

size_t sip_tls_memory(void)
{
	return tls_arena.bytes;
}

#ifdef CONFIG_SIMPLED_TLS

/* ------------------------------------------------------------- config */

/* `config tls`: Kamailio's tls module names. */
struct tls_cfg {
	char certificate[CONFIG_SIMPLED_MAX_STR];
	char private_key[CONFIG_SIMPLED_MAX_STR];
	char ca_list[CONFIG_SIMPLED_MAX_STR];
	int verify_certificate;
	int require_certificate;
	int memory_kb;
	int handshake_limit;
	int handshake_sources;
};

static struct tls_cfg tls_cfg;

#define T struct tls_cfg
static const struct cfg_opt tls_opts[] = {
	CFG_STR_OPT(T, "certificate", certificate, "", NULL),
	CFG_STR_OPT(T, "private_key", private_key, "", NULL),
	CFG_STR_OPT(T, "ca_list", ca_list, "", NULL),
	CFG_BOOL_OPT(T, "verify_certificate", verify_certificate, "0"),
	CFG_BOOL_OPT(T, "require_certificate", require_certificate, "0"),
	CFG_INT_OPT(T, "memory_kb", memory_kb, 64, 1048576, "2048"),
	CFG_INT_OPT(T, "handshake_limit", handshake_limit, 0, 100000, "60"),
	CFG_INT_OPT(T, "handshake_sources", handshake_sources, 1, 65536,
		    "256"),
};
#undef T

/* The certificate, its key and the client checks are read again at each
 * reload (a renewed certificate, same path, is picked up); how many
 * sources are tracked sizes a table carved at start. */
static const char *const tls_restart[] = {"handshake_sources", NULL};
static int tls_reload(char *why, size_t whylen);

static const struct cfg_sect tls_sect = CFG_SECT("tls", tls_opts, &tls_cfg,
						 .restart = tls_restart,
						 .reload = tls_reload);

static unsigned long stat_handshakes, stat_failed, stat_refused;

static const struct stat_def tls_stats[] = {
	{"tls_handshakes", &stat_handshakes},
	{"tls_handshake_failures", &stat_failed},
	{"tls_refused", &stat_refused},
	{NULL, NULL},
};

/* --------------------------------------------------------- the server */

/* TLS 1.2 with forward secrecy and AEAD only. */
static const int suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

/* ECDHE on P-256 (or P-384): mbedTLS 2.28 computes P-256 twice as fast
 * as X25519 (NIST_OPTIM), and the client's order would pick X25519. */
static const mbedtls_ecp_group_id curves[] = {
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_NONE,
};

/* A certificate with its key, client checks and the mbedTLS
 * configuration made of them. Connections keep a pointer to the one they
 * were accepted with: a reload loads the other of two and new
 * connections take it; the old one is freed when its last connection
 * goes. */
struct tls_creds {
	mbedtls_x509_crt cert;
	mbedtls_x509_crt ca;
	mbedtls_pk_context key;
	mbedtls_ssl_config conf;
	unsigned users;		/* connections accepted with it */
	char fp[1024];		/* what it was read from (tls_fingerprint) */
};

struct tls_server {
	int ready;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	struct tls_creds creds[2];
	unsigned cur;		/* the one new connections get */
	/* A renewed certificate waits for the spare slot (its connections
	 * to close); tls_probe checked that its files load. */
	int pending;
};

static struct tls_creds tls_probe;

static struct tls_server srv;
/* Handshakes begun per source address in the last minute. */
static struct rate handshakes;

struct sip_tls {
	mbedtls_ssl_context ssl;
	struct tls_creds *creds;
	int sock;
	int established;
	unsigned wants;		/* PORT_EV_WRITE: a record waits */
	size_t pending;		/* length of the write mbedTLS holds */
};

int sip_tls_built(void)
{
	return 1;
}

int sip_tls_ready(void)
{
	return srv.ready;
}

static const char *tls_err(int rc, char *buf, size_t size)
{
	mbedtls_strerror(rc, buf, size);
	return buf;
}

/* A key file others can read gives the server's identity away. */
static void warn_if_readable(const char *path)
{
	struct stat st;

	if (!stat(path, &st) && (st.st_mode & S_IROTH)) {
		LOG_WRN("%s is readable by other users: chmod 600 it "
			"(it holds the TLS private key)", path);
	}
}

static void creds_init(struct tls_creds *c)
{
	memset(c, 0, sizeof(*c));
	mbedtls_x509_crt_init(&c->cert);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_pk_init(&c->key);
	mbedtls_ssl_config_init(&c->conf);
}

static void creds_free(struct tls_creds *c)
{
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_pk_free(&c->key);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_x509_crt_free(&c->cert);
	creds_init(c);
}

/* What `config tls` names now, files included (device, inode, size,
 * modification time): a renewal written over the old files or renamed
 * into place changes it. */
static void tls_fingerprint(char *fp, size_t size)
{
	const char *const files[] = {tls_cfg.certificate, tls_cfg.private_key,
				     tls_cfg.ca_list};
	struct sd_buf b;
	unsigned i;

	sd_buf_init(&b, fp, size);
	sd_buf_printf(&b, "%d%d", tls_cfg.verify_certificate,
		      tls_cfg.require_certificate);
	for (i = 0; i < 3; i++) {
		struct stat st;

		memset(&st, 0, sizeof(st));
		if (files[i][0]) {
			stat(files[i], &st);
		}
		sd_buf_printf(&b, "|%s:%lu:%lu:%lld:%lld.%ld", files[i],
			      (unsigned long)st.st_dev,
			      (unsigned long)st.st_ino,
			      (long long)st.st_size,
			      (long long)st.st_mtim.tv_sec,
			      st.st_mtim.tv_nsec);
	}
	if (b.overflow) {
		fp[0] = '\0'; /* never equal: read again */
	}
}

/* Read `config tls` into c. @return 0, or EINVAL with why. */
static int creds_load(struct tls_creds *c, char *why, size_t whylen)
{
	char e[128];
	int rc;

	if (!tls_cfg.certificate[0] || !tls_cfg.private_key[0]) {
		snprintf(why, whylen, "config tls: 'certificate' and "
			 "'private_key' go together");
		return EINVAL;
	}
	if (tls_cfg.require_certificate && !tls_cfg.verify_certificate) {
		snprintf(why, whylen, "config tls: 'require_certificate' "
			 "needs 'verify_certificate' '1'");
		return EINVAL;
	}
	if (tls_cfg.verify_certificate && !tls_cfg.ca_list[0]) {
		snprintf(why, whylen, "config tls: 'verify_certificate' needs "
			 "'ca_list' (the CAs client certificates are checked "
			 "against)");
		return EINVAL;
	}
	rc = mbedtls_x509_crt_parse_file(&c->cert, tls_cfg.certificate);
	if (rc) {
		snprintf(why, whylen, "config tls: certificate '%s': %s",
			 tls_cfg.certificate, tls_err(rc, e, sizeof(e)));
		return EINVAL;
	}
	rc = mbedtls_pk_parse_keyfile(&c->key, tls_cfg.private_key, NULL);
	if (rc) {
		snprintf(why, whylen, "config tls: private_key '%s': %s",
			 tls_cfg.private_key, tls_err(rc, e, sizeof(e)));
		return EINVAL;
	}
	warn_if_readable(tls_cfg.private_key);
	if (mbedtls_pk_check_pair(&c->cert.pk, &c->key)) {
		snprintf(why, whylen, "config tls: private_key '%s' is not "
			 "the key of certificate '%s'", tls_cfg.private_key,
			 tls_cfg.certificate);
		return EINVAL;
	}
	if (tls_cfg.ca_list[0]) {
		rc = mbedtls_x509_crt_parse_file(&c->ca, tls_cfg.ca_list);
		if (rc > 0) {
			LOG_WRN("config tls: ca_list '%s': %d certificates "
				"could not be read and are left out",
				tls_cfg.ca_list, rc);
			rc = c->ca.version ? 0 : MBEDTLS_ERR_X509_INVALID_FORMAT;
		}
		if (rc) {
			snprintf(why, whylen, "config tls: ca_list '%s': %s",
				 tls_cfg.ca_list, tls_err(rc, e, sizeof(e)));
			return EINVAL;
		}
	}
	rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_SERVER,
					 MBEDTLS_SSL_TRANSPORT_STREAM,
					 MBEDTLS_SSL_PRESET_DEFAULT);
	if (!rc) {
		rc = mbedtls_ssl_conf_own_cert(&c->conf, &c->cert, &c->key);
	}
	if (rc) {
		snprintf(why, whylen, "config tls: %s",
			 tls_err(rc, e, sizeof(e)));
		return EINVAL;
	}
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &srv.drbg);
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&c->conf, suites);
	mbedtls_ssl_conf_curves(&c->conf, curves);
	mbedtls_ssl_conf_authmode(&c->conf,
				  !tls_cfg.verify_certificate ?
				  MBEDTLS_SSL_VERIFY_NONE :
				  tls_cfg.require_certificate ?
				  MBEDTLS_SSL_VERIFY_REQUIRED :
				  MBEDTLS_SSL_VERIFY_OPTIONAL);
	if (tls_cfg.verify_certificate) {
		mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	}
	tls_fingerprint(c->fp, sizeof(c->fp));
	return 0;
}

/* Load `config tls` into the spare slot and make it the current one.
 * @return 0, or an errno with why (the current one is kept). */
static int creds_swap(char *why, size_t whylen)
{
	struct tls_creds *spare = &srv.creds[!srv.cur];
	int err;

	if (spare->users) {
		snprintf(why, whylen, "config tls: %u connections still use "
			 "the certificate before the one in use: reload again "
			 "once they have closed", spare->users);
		return EBUSY;
	}
	creds_free(spare);
	err = creds_load(spare, why, whylen);
	if (err) {
		creds_free(spare);
		return err;
	}
	srv.cur = !srv.cur;
	if (!srv.creds[!srv.cur].users) {
		creds_free(&srv.creds[!srv.cur]);
	}
	LOG_INF("tls: certificate %s loaded for new connections",
		tls_cfg.certificate);
	return 0;
}

static int tls_reload(char *why, size_t whylen)
{
	char fp[sizeof(srv.creds[0].fp)];
	int err;

	if (srv.ready) {
		tls_fingerprint(fp, sizeof(fp));
		if (!fp[0] || strcmp(fp, srv.creds[srv.cur].fp)) {
			if (!srv.creds[!srv.cur].users) {
				err = creds_swap(why, whylen);
				if (err) {
					return err;
				}
				srv.pending = 0;
			} else {
				/* Its files must load all the same: a bad
				 * one refuses the reload now. */
				err = creds_load(&tls_probe, why, whylen);
				creds_free(&tls_probe);
				if (err) {
					return err;
				}
				srv.pending = 1;
				LOG_WRN("tls: certificate %s is loaded once the "
					"%u connections of the one before last "
					"have closed", tls_cfg.certificate,
					srv.creds[!srv.cur].users);
			}
		}
	}
	tls_cap = (size_t)tls_cfg.memory_kb * 1024u;
	if (tls_cap > mem_budget()) {
		LOG_WRN("config tls: memory_kb (%d) is more than the memory "
			"budget: the budget is the cap", tls_cfg.memory_kb);
		tls_cap = mem_budget();
	}
	handshakes.max = (unsigned)tls_cfg.handshake_limit;
	return 0;
}

static void tls_stop(void)
{
	rate_free(&handshakes);
	creds_free(&srv.creds[0]);
	creds_free(&srv.creds[1]);
	creds_free(&tls_probe);
	mbedtls_ctr_drbg_free(&srv.drbg);
	mbedtls_entropy_free(&srv.entropy);
	srv.ready = 0;
	tls_cap = (size_t)-1;
}

static int tls_start(void)
{
	char why[256];
	int err;

	memset(&srv, 0, sizeof(srv));
	mbedtls_entropy_init(&srv.entropy);
	mbedtls_ctr_drbg_init(&srv.drbg);
	creds_init(&srv.creds[0]);
	creds_init(&srv.creds[1]);
	creds_init(&tls_probe);
	tls_cap = (size_t)tls_cfg.memory_kb * 1024u;
	if (tls_cap > mem_budget()) {
		LOG_ERR("config tls: memory_kb (%d) is more than the whole "
			"memory budget (limits mem_budget_kb, %zu)",
			tls_cfg.memory_kb, mem_budget() / 1024u);
		return EINVAL;
	}
	if (!tls_cfg.certificate[0] && !tls_cfg.private_key[0]) {
		return 0; /* no TLS listener can be opened */
	}
	if (mbedtls_ctr_drbg_seed(&srv.drbg, mbedtls_entropy_func,
				  &srv.entropy,
				  (const unsigned char *)"simpled", 7)) {
		LOG_ERR("tls: no entropy for the random generator");
		tls_stop();
		return EIO;
	}
	err = creds_load(&srv.creds[0], why, sizeof(why));
	if (err) {
		LOG_ERR("%s", why);
	} else {
		err = rate_init(&handshakes,
				(unsigned)tls_cfg.handshake_sources, 60,
				(unsigned)tls_cfg.handshake_limit);
	}
	if (err) {
		tls_stop();
		return err;
	}
	srv.ready = 1;
	return 0;
}

const struct mod sip_tls_mod = {"tls", NULL, tls_stats, &tls_sect,
				tls_start, tls_stop, NULL, NULL, NULL};

/* The socket below mbedTLS. */
static int bio_send(void *arg, const unsigned char *buf, size_t len)
{
	struct sip_tls *t = arg;
	size_t sent = 0;
	int err = port_send(t->sock, buf, len, &sent);

	if (err == EAGAIN) {
		t->wants = PORT_EV_WRITE;
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	}
	return err ? MBEDTLS_ERR_NET_SEND_FAILED : (int)sent;
}

static int bio_recv(void *arg, unsigned char *buf, size_t len)
{
	struct sip_tls *t = arg;
	size_t got = 0;
	int err = port_recv(t->sock, buf, len, &got);

	if (err == EAGAIN) {
		return MBEDTLS_ERR_SSL_WANT_READ;
	}
	return err ? MBEDTLS_ERR_NET_RECV_FAILED : (int)got;
}

/* What a handshake takes beside the record buffers (bignums, the
 * handshake state, ECDHE and signature work), kept free when one is
 * accepted so that it can finish. */
#define TLS_HANDSHAKE_ROOM (24 * 1024)

int sip_tls_admit(const struct port_addr *peer)
{
	if (rate_refused(&handshakes, peer, sip_now_s())) {
		stat_inc(stat_refused);
		return EBUSY;
	}
	rate_count(&handshakes, peer, sip_now_s());
	return 0;
}

struct sip_tls *sip_tls_accept(int sock)
{
	struct sip_tls *t;

	if (!srv.ready) {
		return NULL;
	}
	t = sd_mbedtls_calloc(1, sizeof(*t));
	if (!t) {
		stat_inc(stat_refused);
		return NULL;
	}
	t->sock = sock;
	t->creds = &srv.creds[srv.cur];
	t->creds->users++;
	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, &t->creds->conf)) {
		LOG_DBG("no memory for one more TLS connection (memory_kb)");
		stat_inc(stat_refused);
		sip_tls_free(t);
		return NULL;
	}
	if (tls_cap - tls_arena.bytes < TLS_HANDSHAKE_ROOM) {
		/* Its handshake could not finish: make room first. */
		LOG_DBG("no memory for one more TLS handshake (memory_kb)");
		stat_inc(stat_refused);
		sip_tls_free(t);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return t;
}

void sip_tls_free(struct sip_tls *t)
{
	if (t) {
		mbedtls_ssl_free(&t->ssl);
		/* The last connection of a certificate a reload replaced:
		 * its slot is free, for a renewal that waited for it. */
		if (t->creds && !--t->creds->users &&
		    t->creds != &srv.creds[srv.cur]) {
			creds_free(t->creds);
			if (srv.pending) {
				char why[256];

				srv.pending = 0;
				if (creds_swap(why, sizeof(why))) {
					LOG_ERR("tls: the renewed certificate "
						"was not loaded: %s", why);
				}
			}
		}
		sd_mbedtls_free(t);
	}
}

/* mbedTLS's answer as an errno: EAGAIN to wait (t->wants says for
 * what), ECONNRESET when the peer closed, EPROTO for anything else. */
static int tls_errno(struct sip_tls *t, int rc)
{
	char e[128];

	if (rc == MBEDTLS_ERR_SSL_WANT_READ) {
		return EAGAIN;
	}
	if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		t->wants = PORT_EV_WRITE;
		return EAGAIN;
	}
	if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
		return ECONNRESET;
	}
	if (!t->established) {
		stat_inc(stat_failed);
	}
	LOG_DBG("TLS: %s", tls_err(rc, e, sizeof(e)));
	return EPROTO;
}

int sip_tls_handshake(struct sip_tls *t)
{
	int rc;

	if (t->established) {
		return 0;
	}
	t->wants = 0;
	rc = mbedtls_ssl_handshake(&t->ssl);
	if (rc) {
		return tls_errno(t, rc);
	}
	/* verify_certificate without require_certificate: a certificate
	 * is optional, but one shown must be valid. */
	if (tls_cfg.verify_certificate &&
	    mbedtls_ssl_get_peer_cert(&t->ssl) &&
	    mbedtls_ssl_get_verify_result(&t->ssl)) {
		LOG_DBG("TLS: the client's certificate did not verify");
		stat_inc(stat_failed);
		return EPROTO;
	}
	t->established = 1;
	stat_inc(stat_handshakes);
	return 0;
}

int sip_tls_recv(struct sip_tls *t, char *buf, size_t len, size_t *got)
{
	int rc;

	*got = 0;
	t->wants = 0;
	rc = mbedtls_ssl_read(&t->ssl, (unsigned char *)buf, len);
	if (rc < 0) {
		return tls_errno(t, rc);
	}
	*got = (size_t)rc; /* 0: the peer closed */
	return 0;
}

int sip_tls_flush(struct sip_tls *t)
{
	int rc;

	t->wants = 0;
	rc = mbedtls_ssl_flush_output(&t->ssl);
	return rc ? tls_errno(t, rc) : 0;
}

int sip_tls_send(struct sip_tls *t, const char *buf, size_t len,
		 size_t *sent)
{
	int rc;

	*sent = 0;
	t->wants = 0;
	/* A record of mbedTLS's own (an alert) goes first: a write would
	 * flush it and count our bytes as written without sending them. */
	if (!t->pending && t->ssl.out_left) {
		rc = mbedtls_ssl_flush_output(&t->ssl);
		if (rc) {
			return tls_errno(t, rc);
		}
	}
	/* A record mbedTLS already holds is finished with the same length
	 * (more may have been queued behind it since). */
	if (t->pending) {
		len = t->pending;
	}
	rc = mbedtls_ssl_write(&t->ssl, (const unsigned char *)buf, len);
	if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		t->pending = len;
	}
	if (rc < 0) {
		return tls_errno(t, rc);
	}
	t->pending = 0;
	*sent = (size_t)rc;
	return 0;
}

size_t sip_tls_pending(const struct sip_tls *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl);
}

unsigned sip_tls_wants(const struct sip_tls *t)
{
	return t->wants;
}

#else /* !CONFIG_SIMPLED_TLS */

int sip_tls_built(void)
{
	return 0;
}

int sip_tls_ready(void)
{
	return 0;
}

int sip_tls_admit(const struct port_addr *peer)
{
	(void)peer;
	return EPROTONOSUPPORT;
}

#endif
