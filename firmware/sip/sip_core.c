/** @file sip_core.c  The receive path: validate, match a transaction,
 * route the request to the service registered for its method.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "sip"
#include "log.h"
#include "sip_priv.h"

/* Most methods services can register. */
#define SIP_MAX_ROUTES 16

struct route {
	char method[16];
	sip_req_h *h;
};

const struct sip_cfg *sip_cfg;
static struct route routes[SIP_MAX_ROUTES];
static unsigned n_routes;
static char allow_hdr[SIP_MAX_ROUTES * 17];
static char stateless_buf[CONFIG_SIMPLED_MAX_MSG_SIZE + 1];

int sip_route(const char *method, sip_req_h *h)
{
	size_t l;

	if (!method || !h || strlen(method) >= sizeof(routes[0].method)) {
		return EINVAL;
	}
	if (n_routes >= SIP_MAX_ROUTES) {
		return ENOSPC;
	}
	strcpy(routes[n_routes].method, method);
	routes[n_routes].h = h;
	n_routes++;
	l = strlen(allow_hdr);
	snprintf(allow_hdr + l, sizeof(allow_hdr) - l, "%s%s",
		 l ? ", " : "", method);
	return 0;
}

const char *sip_allow(void)
{
	return allow_hdr;
}

static sip_req_h *route_find(struct sd_pl method)
{
	unsigned i;

	for (i = 0; i < n_routes; i++) {
		if (method.l == strlen(routes[i].method) &&
		    !memcmp(method.p, routes[i].method, method.l)) {
			return routes[i].h;
		}
	}
	return NULL;
}

void sip_reply_stateless(const struct sip_msg *req, int code,
			 const char *reason, const char *hdrs)
{
	struct sip_flow dst;
	struct sd_buf b;
	char tag[11];

	sip_response_flow(req, &dst);
	sd_rand_hex(tag, sizeof(tag) - 1);
	sd_buf_init(&b, stateless_buf, sizeof(stateless_buf));
	sip_build_response(&b, req, code, reason, tag, hdrs, NULL, NULL, 0);
	if (!b.overflow) {
		sip_tp_send(&dst, b.p, b.len);
		stat_inc(sip_stat_tx_responses);
	}
}

/* Answer a request we keep no transaction for (503 when overloaded; a
 * 400 is counted as a bad request), and drop it. */
static void refuse(struct sip_msg *m, int code, const char *reason)
{
	if (code == 503) {
		stat_inc(stat_overload);
		sip_reply_stateless(m, 503, SIP_OVERLOAD_REASON,
				    SIP_OVERLOAD_HDRS);
	} else {
		if (code == 400) {
			stat_inc(sip_stat_bad_requests);
		}
		sip_reply_stateless(m, code, reason, NULL);
	}
	sip_msg_free(m);
}

/* Require and Proxy-Require: we support no extensions (RFC 3261 8.2.2.3,
 * 16.3): 420 naming every option asked for, over all their lines. */
static int check_require(struct sip_stx *st, const struct sip_msg *m)
{
	static char hdr[CONFIG_SIMPLED_MAX_MSG_SIZE / 2];
	struct sd_buf b;
	unsigned i, n = 0;

	if (!sd_pl_casecmp(m->method, "ACK") ||
	    !sd_pl_casecmp(m->method, "CANCEL")) {
		return 0;
	}
	sd_buf_init(&b, hdr, sizeof(hdr));
	sd_buf_str(&b, "Unsupported: ");
	for (i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		if ((h->id != SIP_HDR_REQUIRE &&
		     h->id != SIP_HDR_PROXY_REQUIRE) || !h->value.l) {
			continue;
		}
		sd_buf_str(&b, n++ ? ", " : "");
		sd_buf_pl(&b, h->value);
	}
	if (!n) {
		return 0;
	}
	sd_buf_str(&b, "\r\n");
	/* The request is no bigger than a message: the list fits. */
	sip_reply(st, 420, NULL, b.overflow ? NULL : hdr, NULL, NULL, 0);
	return EPROTONOSUPPORT;
}

void sip_core_recv(const char *buf, size_t len, const struct sip_flow *f)
{
	struct sip_msg *m = NULL;
	struct sip_stx *st;
	const struct sip_hdr *h;
	const char *why;
	sip_req_h *rh;
	char hdr[300];
	uint32_t mf;
	int err;

	if (len > CONFIG_SIMPLED_MAX_MSG_SIZE) {
		/* Never handed to libosip2. */
		sip_core_refuse_head(buf, CONFIG_SIMPLED_MAX_MSG_SIZE, f, 513,
				     NULL);
		return;
	}
	err = sip_msg_parse(&m, buf, len, f, &why);
	if (!m) {
		stat_inc(*(err == ENOMEM ? &stat_overload :
			   &sip_stat_rx_dropped));
		if (err == EBADMSG) {
			LOG_DBG("dropped unparseable message: %s",
				why ? why : "?");
		}
		return;
	}
	if (!m->is_request) {
		if (err) {
			stat_inc(sip_stat_rx_dropped);
			sip_msg_free(m);
			return;
		}
		stat_inc(sip_stat_rx_responses);
		sip_ctx_receive(m);
		return;
	}
	stat_inc(sip_stat_rx_requests);
	if (!sd_pl_casecmp(m->method, "ACK") && err) {
		sip_msg_free(m); /* never answer an ACK */
		return;
	}
	if (err) {
		refuse(m, err == ENOMEM ? 503 : m->fault, why);
		return;
	}
	err = sip_stx_receive(&st, m);
	if (err == EALREADY) {
		return;
	}
	if (err) {
		refuse(m, err == ENOMEM ? 503 : 400,
		       "Transaction identifiers too long");
		return;
	}
	/* From here the transaction owns m. */
	if (sip_txn_sent_by_us(m)) {
		/* We sent it and it came back: a loop (RFC 3261 16.3). */
		stat_inc(sip_stat_loops);
		sip_reply(st, 482, NULL, NULL, NULL, NULL, 0);
		return;
	}
	h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	if (h && !sd_pl_u32(h->value, &mf) && mf == 0 &&
	    sd_pl_casecmp(m->method, "OPTIONS")) {
		sip_reply(st, 483, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (!m->osip->req_uri || !m->osip->req_uri->scheme ||
	    (strcasecmp(m->osip->req_uri->scheme, "sip") &&
	     strcasecmp(m->osip->req_uri->scheme, "sips"))) {
		sip_reply(st, 416, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (check_require(st, m)) {
		return;
	}
	if (sip_authn_check(st, m)) {
		return; /* challenged or refused */
	}
	rh = route_find(m->method);
	if (rh) {
		rh(st, m);
		return;
	}
	if (!sd_pl_casecmp(m->method, "CANCEL")) {
		/* Nothing we run can be cancelled: every answer is final. */
		sip_reply(st, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow_hdr);
	sip_reply(st, 405, NULL, hdr, NULL, NULL, 0);
}

void sip_core_refuse_head(const char *hdrs, size_t len,
			  const struct sip_flow *f, int code,
			  const char *reason)
{
	struct sip_msg *m = NULL;

	stat_inc(sip_stat_rx_dropped);
	if (sip_msg_parse_head(&m, hdrs, len, f)) {
		if (code == 513) {
			stat_inc(sip_stat_rx_oversize_dropped);
			LOG_DBG("dropped a message over the size limit");
		}
		return;
	}
	if (!sd_pl_casecmp(m->method, "ACK")) {
		sip_msg_free(m); /* an ACK is never answered */
		return;
	}
	refuse(m, code, reason);
}

int sip_open_registration(void)
{
	return sip_cfg && sip_cfg->open_registration;
}

const char *sip_cfg_domain(void)
{
	return sip_cfg && sip_cfg->n_domain ? sip_cfg->domain[0] : "";
}

int sip_is_local_host(struct sd_pl host)
{
	return sip_local_domain(host) != NULL;
}

const char *sip_local_domain(struct sd_pl host)
{
	unsigned i;

	if (!sip_cfg) {
		return NULL;
	}
	if (host.l >= 2 && host.p[0] == '[' && host.p[host.l - 1] == ']') {
		host = sd_pl(host.p + 1, host.l - 2);
	}
	for (i = 0; i < sip_cfg->n_domain; i++) {
		if (!sd_pl_casecmp(host, sip_cfg->domain[i])) {
			return sip_cfg->domain[i];
		}
	}
	if (sip_cfg->n_domain && sip_tp_is_local_ip(host)) {
		return sip_cfg->domain[0];
	}
	return NULL;
}

int sip_init(const struct sip_cfg *cfg)
{
	static int parser_ready;
	int err;

	if (!parser_ready) {
		parser_init();
		parser_ready = 1;
	}
	sip_cfg = cfg;
	err = sip_txn_init();
	if (err) {
		return err;
	}
	err = sip_tp_open(cfg);
	if (err) {
		return err;
	}
	/* Names (the outbound proxy's, contacts') need a name server. */
	dns_open(cfg->dns_servers, cfg->n_dns_servers);
	sip_names_open(cfg->resolve_contacts && cfg->n_dns_servers > 0);
	/* After the listeners: the proxy's flow names one of them. */
	err = sip_proxy_open(cfg);
	if (err) {
		sip_names_close();
		dns_close();
		sip_tp_close();
	}
	return err;
}

void sip_close(void)
{
	sip_proxy_close();
	sip_names_close();
	dns_close();
	sip_txn_close();
	sip_tp_close();
	n_routes = 0;
	allow_hdr[0] = '\0';
	sip_cfg = NULL;
}

int sip_hdr_u32(struct sip_stx *st, const struct sip_hdr *h,
		const char *name, uint32_t *v)
{
	char reason[64];

	if (!h) {
		return ENOENT;
	}
	if (!sd_pl_u32(h->value, v)) {
		return 0;
	}
	snprintf(reason, sizeof(reason), "Malformed %s header", name);
	sip_reply(st, 400, reason, NULL, NULL, NULL, 0);
	return EBADMSG;
}

#define MOD_DEF "sip.def"
#define MOD_VAR sip_mod
#define MOD_NAME "sip"
#define MOD_SECT NULL
#define MOD_START NULL
#define MOD_STOP NULL
#include "mod_def.h"
