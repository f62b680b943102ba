/** @file sip_authn.c  Who sent a request: digest challenges and their
 * answers (RFC 3261 22, RFC 7616, RFC 8760), the `config auth` section,
 * and the sources refused after failed attempts.
 *
 * A REGISTER claims the identity of its To, the other challenged methods
 * that of their From. When that identity is in a served domain the
 * request must carry credentials of the account user@domain (realm: the
 * domain): a REGISTER in an Authorization header after a 401, the others
 * in a Proxy-Authorization after a 407. A request claiming an identity of
 * another domain is not challenged (a peer server delivering to a local
 * user) and reaches the service with no authenticated user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "auth"
#include "cfg.h"
#include "log.h"
#include "mem.h"
#include "mod.h"
#include "rate.h"
#include "sd_hash.h"
#include "sip_auth.h"
#include "sip_priv.h"
#include "stat.h"

struct auth_cfg {
	char algorithms[SIP_AUTH__COUNT][16];
	unsigned n_algorithms;
	int challenge_register;
	int challenge_message;
	int challenge_publish;
	int challenge_subscribe;
	int nonce_expires;
	int nonces;
	int max_failures;
	int failure_window;
	int failure_sources;
};

static struct auth_cfg auth_cfg;

static int check_alg(const char *v, char *why, size_t whylen)
{
	enum sip_auth_alg a;

	if (sip_auth_alg_parse(v, strlen(v), &a)) {
		snprintf(why, whylen, "algorithms: '%s' is not MD5 or SHA-256",
			 v);
		return EINVAL;
	}
	return 0;
}

#define C struct auth_cfg
static const struct cfg_opt auth_opts[] = {
	CFG_LIST_OPT(C, "algorithms", algorithms, n_algorithms,
		     "MD5 SHA-256", check_alg),
	CFG_BOOL_OPT(C, "challenge_register", challenge_register, "1"),
	CFG_BOOL_OPT(C, "challenge_message", challenge_message, "1"),
	CFG_BOOL_OPT(C, "challenge_publish", challenge_publish, "1"),
	CFG_BOOL_OPT(C, "challenge_subscribe", challenge_subscribe, "1"),
	CFG_INT_OPT(C, "nonce_expires", nonce_expires, 10, 3600, "300"),
	CFG_INT_OPT(C, "nonces", nonces, 16, 65536, "1024"),
	CFG_INT_OPT(C, "max_failures", max_failures, 0, 1000, "10"),
	CFG_INT_OPT(C, "failure_window", failure_window, 1, 86400, "300"),
	CFG_INT_OPT(C, "failure_sources", failure_sources, 1, 65536, "256"),
};
#undef C

/* Table sizes are set at start. */
static const char *const auth_restart[] = {"nonces", "failure_sources",
					   NULL};
static int auth_reload(char *why, size_t whylen);

static const struct cfg_sect auth_sect = CFG_SECT("auth", auth_opts,
						  &auth_cfg,
						  .restart = auth_restart,
						  .reload = auth_reload);

static unsigned long stat_challenges, stat_ok, stat_failed, stat_stale,
	stat_banned;

static const struct stat_def auth_stats[] = {
	{"auth_challenges", &stat_challenges},
	{"auth_ok", &stat_ok},
	{"auth_failed", &stat_failed},
	{"auth_stale", &stat_stale},
	{"auth_source_refused", &stat_banned},
	{NULL, NULL},
};

/* ------------------------------------------------------ failing sources */

/* Failed attempts per source address in failure_window (core/rate.c). */
static struct rate failures;

/* ---------------------------------------------------------- credentials */

/* The parameters of one Digest credential, or of a challenge (from an
 * upstream proxy); values unquoted. */
struct cred {
	char username[64];
	char realm[128];
	char nonce[128];
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];
	char response[SIP_HEX_MAX];
	char algorithm[16];
	char cnonce[128];
	char qop[32];
	char nc[16];
	char opaque[128];
};

/* Copy a parameter value, quoted or not, into buf. @return where it
 * ended, or NULL when malformed or too long. */
static const char *param_value(const char *p, const char *end, char *buf,
			       size_t size)
{
	size_t n = 0;

	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
			}
			if (n + 1 >= size) {
				return NULL;
			}
			buf[n++] = *p;
		}
		if (p >= end) {
			return NULL;
		}
		p++;
	} else {
		while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
			if (n + 1 >= size) {
				return NULL;
			}
			buf[n++] = *p++;
		}
	}
	buf[n] = '\0';
	return p;
}

#define CRED_FIELD(name) {#name, offsetof(struct cred, name), \
			  sizeof(((struct cred *)0)->name)}

/* Parse "Digest k=v, k="v", ..." into c. @return 0 or EINVAL. */
static int cred_parse(struct sd_pl v, struct cred *c)
{
	static const struct {
		const char *name;
		size_t off, size;
	} fields[] = {
		CRED_FIELD(username), CRED_FIELD(realm), CRED_FIELD(nonce),
		CRED_FIELD(uri), CRED_FIELD(response), CRED_FIELD(algorithm),
		CRED_FIELD(cnonce), CRED_FIELD(qop), CRED_FIELD(nc),
		CRED_FIELD(opaque),
	};
	const char *p = v.p, *end = v.p + v.l;
	char skip[512];

	memset(c, 0, sizeof(*c));
	if (v.l < 7 || strncasecmp(p, "Digest", 6) ||
	    (p[6] != ' ' && p[6] != '\t')) {
		return EINVAL;
	}
	p += 6;
	while (p < end) {
		const char *name;
		size_t nl, i;
		char *dst = skip;
		size_t dsize = sizeof(skip);

		while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
			p++;
		}
		if (p >= end) {
			break;
		}
		name = p;
		while (p < end && *p != '=' && *p != ' ' && *p != '\t') {
			p++;
		}
		nl = (size_t)(p - name);
		while (p < end && (*p == ' ' || *p == '\t')) {
			p++;
		}
		if (p >= end || *p != '=') {
			return EINVAL;
		}
		p++;
		while (p < end && (*p == ' ' || *p == '\t')) {
			p++;
		}
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (strlen(fields[i].name) == nl &&
			    !strncasecmp(name, fields[i].name, nl)) {
				dst = (char *)c + fields[i].off;
				dsize = fields[i].size;
				break;
			}
		}
		p = param_value(p, end, dst, dsize);
		if (!p) {
			return EINVAL;
		}
	}
	return 0;
}

int sip_authn_realm_ours(struct sd_pl value)
{
	struct cred c;

	return cred_parse(value, &c) || !c.realm[0] ||
	       sip_local_domain(sd_pl_str(c.realm)) != NULL;
}

/* ----------------------------------------------------------- the check */

static int method_challenged(struct sd_pl m)
{
	if (!sd_pl_casecmp(m, "REGISTER")) {
		return auth_cfg.challenge_register;
	}
	if (!sd_pl_casecmp(m, "MESSAGE")) {
		return auth_cfg.challenge_message;
	}
	if (!sd_pl_casecmp(m, "PUBLISH")) {
		return auth_cfg.challenge_publish;
	}
	if (!sd_pl_casecmp(m, "SUBSCRIBE")) {
		return auth_cfg.challenge_subscribe;
	}
	return 0;
}

/* Can the account claimed (NULL: none) be checked with algorithm name?
 * An account that keeps only one hash is offered only its algorithm, so
 * a client that picks the first challenge does not fail for nothing. */
static int alg_usable(const struct sip_user *u, const char *name)
{
	enum sip_auth_alg a;

	if (!u || u->password[0] ||
	    sip_auth_alg_parse(name, strlen(name), &a)) {
		return 1;
	}
	return (a == SIP_AUTH_SHA256 ? u->ha1_sha256 : u->ha1)[0] != '\0';
}

/* Is simpled the request's user agent server (401, Authorization), or a
 * proxy for it (MESSAGE: 407, Proxy-Authorization; RFC 3261 22.1)? */
static int as_uas(const struct sip_msg *m)
{
	return sd_pl_casecmp(m->method, "MESSAGE") != 0;
}

/* 401 or 407 (as_uas()) with one challenge per algorithm, in order. */
static void challenge(struct sip_stx *st, const struct sip_msg *m,
		      const char *realm, const struct sip_user *claimed,
		      int stale)
{
	int reg = as_uas(m);
	char nonce[SIP_NONCE_LEN + 1], hdrs[1024];
	struct sd_buf b;
	unsigned i;

	sip_nonce_new(nonce);
	sd_buf_init(&b, hdrs, sizeof(hdrs));
	for (i = 0; i < auth_cfg.n_algorithms; i++) {
		if (!alg_usable(claimed, auth_cfg.algorithms[i])) {
			continue;
		}
		enum sip_auth_alg a = SIP_AUTH_MD5;

		sip_auth_alg_parse(auth_cfg.algorithms[i],
				   strlen(auth_cfg.algorithms[i]), &a);
		sd_buf_printf(&b, "%s: Digest realm=\"%s\", nonce=\"%s\", "
			      "algorithm=%s, qop=\"auth\"%s\r\n",
			      reg ? "WWW-Authenticate" : "Proxy-Authenticate",
			      realm, nonce, sip_auth_alg_name(a),
			      stale ? ", stale=true" : "");
	}
	stat_inc(stat_challenges);
	sip_reply(st, reg ? 401 : 407, NULL, b.overflow ? NULL : hdrs, NULL,
		  NULL, 0);
}

/* A failed attempt: counted, logged in one stable line, answered. */
static void failed(struct sip_stx *st, const struct sip_msg *m,
		   const char *who, const char *why)
{
	char ip[64];

	sd_addr_ip_str(&m->flow.peer, ip, sizeof(ip));
	stat_inc(stat_failed);
	rate_count(&failures, &m->flow.peer, sip_now_s());
	LOG_WRN("authentication failed for %s from %s: %s", who, ip, why);
	sip_reply(st, 403, why, NULL, NULL, NULL, 0);
}

static void lower(char *s)
{
	for (; s && *s; s++) {
		if (*s >= 'A' && *s <= 'Z') {
			*s = (char)(*s + 32);
		}
	}
}

/* The HA1 of u for algorithm a, or "" when u keeps no way to make it. */
static void user_ha1(const struct sip_user *u, const char *realm,
		     enum sip_auth_alg a, char ha1[SIP_HEX_MAX])
{
	const char *kept = a == SIP_AUTH_SHA256 ? u->ha1_sha256 : u->ha1;

	if (u->password[0]) {
		sip_auth_ha1(a, u->name, realm, u->password, ha1);
		return;
	}
	snprintf(ha1, SIP_HEX_MAX, "%s", kept);
	lower(ha1); /* hashed as lower-case hex */
}

/* Was alg one of those we offer? */
static int alg_offered(enum sip_auth_alg a)
{
	unsigned i;

	for (i = 0; i < auth_cfg.n_algorithms; i++) {
		if (!strcasecmp(auth_cfg.algorithms[i], sip_auth_alg_name(a))) {
			return 1;
		}
	}
	return 0;
}

/* The credential of m for realm, from its (Proxy-)Authorization headers.
 * @return 0, ENOENT (none for realm) or EINVAL (malformed). */
static int cred_find(const struct sip_msg *m, const char *realm,
		     struct cred *c)
{
	const char *name = as_uas(m) ? "Authorization" :
			   "Proxy-Authorization";
	int bad = 0;
	unsigned i;

	for (i = 0; i < m->nhdrs; i++) {
		if (sd_pl_casecmp(m->hdrs[i].name, name)) {
			continue;
		}
		if (cred_parse(m->hdrs[i].value, c)) {
			bad = 1;
			continue;
		}
		if (!strcasecmp(c->realm, realm)) {
			return 0;
		}
	}
	return bad ? EINVAL : ENOENT;
}

/* Do credentials computed for uri answer this request? Their uri must be
 * its Request-URI (RFC 7616 3.4.6), or a URI of this server without a
 * user (sipp sends its remote address): credentials for a request to
 * someone else cannot be turned to another target. */
static int uri_ours(const char *uri, struct sd_pl ruri)
{
	const char *h = strchr(uri, ':'), *e;
	size_t hl;

	if (strlen(uri) == ruri.l && !sd_pl_casecmp(ruri, uri)) {
		return 1;
	}
	if (!h || (strncasecmp(uri, "sip:", 4) && strncasecmp(uri, "sips:", 5))
	    || strchr(++h, '@')) {
		return 0;
	}
	if (*h == '[') {
		e = strchr(h, ']');
		if (!e) {
			return 0;
		}
		hl = (size_t)(e - h) + 1;
	} else {
		hl = strcspn(h, ":;?>");
	}
	return sip_local_domain(sd_pl(h, hl)) != NULL;
}

/* No byte a log line could be forged with (space, controls, DEL). */
static int printable(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

int sip_authn_check(struct sip_stx *st, struct sip_msg *m)
{
	const osip_uri_t *u;
	const char *dom;
	char user[64], who[256], ha1[SIP_HEX_MAX], want[SIP_HEX_MAX];
	const struct sip_user *acct;
	enum sip_auth_alg alg = SIP_AUTH_MD5;
	struct cred c;
	uint32_t nc;
	int err;

	m->auth_user[0] = '\0';
	if (sip_open_registration() || !method_challenged(m->method)) {
		return 0;
	}
	u = !sd_pl_casecmp(m->method, "REGISTER") ?
	    (m->osip->to ? m->osip->to->url : NULL) :
	    (m->osip->from ? m->osip->from->url : NULL);
	dom = u && u->host ? sip_local_domain(sd_pl_str(u->host)) : NULL;
	if (!dom) {
		return 0; /* another domain's user: never a local identity */
	}
	if (rate_refused(&failures, &m->flow.peer, sip_now_s())) {
		stat_inc(stat_banned);
		sip_reply(st, 403, "Too many failed authentications", NULL,
			  NULL, NULL, 0);
		return 1;
	}
	if (!u->username || sip_uri_canon(u->username, user, sizeof(user)) ||
	    !printable(user)) {
		sip_reply(st, 400, "Malformed user in the identity claimed",
			  NULL, NULL, NULL, 0);
		return 1;
	}
	snprintf(who, sizeof(who), "%s@%s", user, dom);
	lower(strchr(who, '@'));
	err = cred_find(m, dom, &c);
	if (err == ENOENT) {
		challenge(st, m, dom, sip_user_find(user, dom), 0);
		return 1;
	}
	/* Malformed, for another request, or an answer we did not ask for:
	 * refused, but not counted as a guess (anyone could send it from
	 * a forged address). */
	if (err || !c.nonce[0] || !c.response[0] || strcasecmp(c.qop, "auth") ||
	    !c.cnonce[0] || strlen(c.nc) != 8 ||
	    strspn(c.nc, "0123456789abcdefABCDEF") != 8 ||
	    (c.algorithm[0] && sip_auth_alg_parse(c.algorithm,
						  strlen(c.algorithm),
						  &alg)) ||
	    !alg_offered(alg)) {
		sip_reply(st, 400, "Malformed or unsupported credentials",
			  NULL, NULL, NULL, 0);
		return 1;
	}
	if (!uri_ours(c.uri, m->ruri)) {
		sip_reply(st, 400, "Credentials for another Request-URI", NULL,
			  NULL, NULL, 0);
		return 1;
	}
	nc = (uint32_t)strtoul(c.nc, NULL, 16);
	/* First whether the nonce is one of ours and still holds: only an
	 * answer to a challenge we sent can count as a failed guess. */
	switch (sip_nonce_check(c.nonce, nc,
				(uint32_t)auth_cfg.nonce_expires)) {
	case SIP_NONCE_OK:
		break;
	case SIP_NONCE_STALE:
	case SIP_NONCE_FORGED: /* an earlier run's, or not ours */
		stat_inc(stat_stale);
		challenge(st, m, dom, sip_user_find(user, dom), 1);
		return 1;
	case SIP_NONCE_REPLAY:
		stat_inc(stat_failed);
		sip_reply(st, 403, "Nonce count replayed", NULL, NULL, NULL,
			  0);
		return 1;
	}
	acct = sip_user_find(c.username, dom);
	ha1[0] = '\0';
	if (acct) {
		user_ha1(acct, dom, alg, ha1);
	}
	sip_auth_response(alg, ha1[0] ? ha1 : "-", c.nonce, c.nc, c.cnonce,
			  m->osip->sip_method, c.uri, want);
	lower(c.response);
	if (!acct || !ha1[0] || !sip_auth_equal(want, c.response)) {
		failed(st, m, who, "Wrong user name or password");
		return 1;
	}
	sip_nonce_use(c.nonce, nc);
	if (strcmp(acct->name, user)) {
		char why[160];

		snprintf(why, sizeof(why), "Authenticated as %s, not %s",
			 acct->name, user);
		stat_inc(stat_failed);
		sip_reply(st, 403, why, NULL, NULL, NULL, 0);
		return 1;
	}
	stat_inc(stat_ok);
	snprintf(m->auth_user, sizeof(m->auth_user), "%s", who);
	return 0;
}

/* -------------------------------------------------------------- upstream */

/* Our account at the outbound proxy (`config upstream`). */
struct upstream_cfg {
	char username[64];
	char password[128];
	char realm[128];	/* "" = whatever realm the proxy names */
};

static struct upstream_cfg upstream_cfg;

#define U struct upstream_cfg
static const struct cfg_opt upstream_opts[] = {
	CFG_STR_OPT(U, "username", username, "", NULL),
	CFG_STR_OPT(U, "password", password, "", NULL),
	CFG_STR_OPT(U, "realm", realm, "", NULL),
};
#undef U

/* Checked at start only (quotable values): a restart applies it. */
static const struct cfg_sect upstream_sect = CFG_SECT("upstream",
						      upstream_opts,
						      &upstream_cfg,
						      .restart =
						      cfg_restart_all);

/* Can s go between double quotes as it is (no '"', '\\', controls)? */
static int quotable(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || (unsigned char)*s < ' ' ||
		    *s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* An account must say whose challenges it answers: never to anyone. */
static int upstream_start(void)
{
	if (upstream_cfg.username[0] && !upstream_cfg.realm[0]) {
		LOG_ERR("config upstream: 'realm' is required with 'username' "
			"(the realm of the outbound proxy's challenges)");
		return EINVAL;
	}
	if (!quotable(upstream_cfg.username) || !quotable(upstream_cfg.realm)) {
		LOG_ERR("config upstream: no '\"', '\\' or control character "
			"in 'username' or 'realm'");
		return EINVAL;
	}
	return 0;
}

const struct mod sip_upstream_mod = {"upstream", NULL, NULL, &upstream_sect,
				     upstream_start, NULL, NULL, NULL, NULL};

/* Does the comma-separated qop list offer "auth"? */
static int offers_auth(const char *qop)
{
	const char *p = qop;

	while (*p) {
		size_t n = strcspn(p, ", \t");

		if (n == 4 && !strncasecmp(p, "auth", 4)) {
			return 1;
		}
		p += n;
		p += strspn(p, ", \t");
	}
	return 0;
}

int sip_upstream_answer(const struct sip_msg *resp, const char *method,
			const char *uri, int own, char *hdr, size_t size)
{
	const char *name = resp->status == 401 ? "WWW-Authenticate" :
		"Proxy-Authenticate";
	char ha1[SIP_HEX_MAX], rsp[SIP_HEX_MAX], cnonce[17];
	enum sip_auth_alg a = SIP_AUTH_MD5;
	struct cred c;
	struct sd_buf b;
	unsigned i;
	int qop;

	/* A proxy's 407, or for our own request the far end's 401, for the
	 * configured realm (see sip_auth.h). */
	if (!upstream_cfg.username[0] || !upstream_cfg.realm[0] ||
	    (resp->status != 407 && !(own && resp->status == 401)) ||
	    !quotable(uri)) {
		return ENOENT;
	}
	for (i = 0; i < resp->nhdrs; i++) {
		if (sd_pl_casecmp(resp->hdrs[i].name, name) ||
		    cred_parse(resp->hdrs[i].value, &c) || !c.nonce[0] ||
		    strcmp(upstream_cfg.realm, c.realm) ||
		    !quotable(c.nonce) || !quotable(c.opaque) ||
		    (c.algorithm[0] &&
		     sip_auth_alg_parse(c.algorithm, strlen(c.algorithm),
					&a)) ||
		    (c.qop[0] && !offers_auth(c.qop))) {
			continue; /* not one we can answer: the next */
		}
		qop = c.qop[0] != '\0';
		sd_rand_hex(cnonce, 16);
		sip_auth_ha1(a, upstream_cfg.username, c.realm,
			     upstream_cfg.password, ha1);
		sip_auth_response(a, ha1, c.nonce, qop ? "00000001" : NULL,
				  cnonce, method, uri, rsp);
		sd_buf_init(&b, hdr, size);
		sd_buf_printf(&b, "%s: Digest username=\"%s\", realm=\"%s\", "
			      "nonce=\"%s\", uri=\"%s\", response=\"%s\", "
			      "algorithm=%s", resp->status == 401 ?
			      "Authorization" : "Proxy-Authorization",
			      upstream_cfg.username,
			      c.realm, c.nonce, uri, rsp, sip_auth_alg_name(a));
		if (qop) {
			sd_buf_printf(&b, ", qop=auth, nc=00000001, "
				      "cnonce=\"%s\"", cnonce);
		}
		if (c.opaque[0]) {
			sd_buf_printf(&b, ", opaque=\"%s\"", c.opaque);
		}
		sd_buf_str(&b, "\r\n");
		return b.overflow ? EMSGSIZE : 0;
	}
	return ENOENT;
}

/* ----------------------------------------------------------- the module */

static int auth_start(void)
{
	int err = sip_nonce_init((unsigned)auth_cfg.nonces);

	if (err) {
		return err;
	}
	return rate_init(&failures, (unsigned)auth_cfg.failure_sources,
			 (uint32_t)auth_cfg.failure_window,
			 (unsigned)auth_cfg.max_failures);
}

/* The failure limits apply from the next attempt; counts so far stay. */
static int auth_reload(char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	failures.max = (unsigned)auth_cfg.max_failures;
	failures.window_s = (uint32_t)auth_cfg.failure_window;
	return 0;
}

static void auth_stop(void)
{
	rate_free(&failures);
	sip_nonce_init(0);
}

const struct mod sip_auth_mod = {"auth", NULL, auth_stats, &auth_sect,
				 auth_start, auth_stop, NULL, NULL, NULL};
