/** @file sip_proxy.c  The outbound proxy: an IP address, or a host name
 * resolved as RFC 3263 says for a URI without a numeric host (no port:
 * SRV _sip._udp or _sip._tcp, the best priority; else A, then AAAA, on
 * 5060; with a port: A, then AAAA), without blocking the loop, and again
 * when the answer's TTL runs out (kept meanwhile: a failed refresh keeps
 * the last address until a later one succeeds).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "sip"
#include "dns.h"
#include "log.h"
#include "sd.h"
#include "sip_priv.h"
#include "stat.h"
#include "tmr.h"

#define PROXY_TTL_MIN_S 30
#define PROXY_TTL_MAX_S 86400
#define PROXY_RETRY_S 30

static struct {
	int configured;
	int named;			/* by host name: resolved */
	int ready;			/* flow holds an address */
	struct sip_flow flow;
	struct sip_addr a;		/* transport; port (0: none given) */
	char host[DNS_NAME_MAX + 1];
	char target[DNS_NAME_MAX + 1];	/* what A/AAAA is asked of */
	uint16_t port;			/* of the target */
	uint32_t ttl;			/* smallest of the chain so far */
	int asked_aaaa;
	struct tmr again;
	/* SRV targets not tried yet (RFC 2782: lowest priority first, by
	 * weight within one), for failover when one has no address. */
	struct dns_rr srv[DNS_MAX_RR];
	unsigned n_srv;
} px;

static void resolve(void *arg);

/* Ask again in s seconds (bounded). */
static void again_in(uint32_t s)
{
	if (s < PROXY_TTL_MIN_S) {
		s = PROXY_TTL_MIN_S;
	}
	if (s > PROXY_TTL_MAX_S) {
		s = PROXY_TTL_MAX_S;
	}
	tmr_start(&px.again, s * 1000u, resolve, NULL);
}

static void failed(const char *what)
{
	LOG_WRN("outbound_proxy %s: %s%s; asked again in %d s", px.host,
		what, px.ready ? " (the last address is kept)" : "",
		PROXY_RETRY_S);
	again_in(PROXY_RETRY_S);
}

static int next_target(void);

static void on_addr(int err, const struct dns_rr *rr, unsigned n,
		    void *arg)
{
	struct sip_addr a = px.a;
	char buf[64];

	(void)arg;
	if (!err && !n && !px.asked_aaaa) {
		px.asked_aaaa = 1;
		if (!dns_query(px.target, DNS_AAAA, on_addr, NULL)) {
			return;
		}
	}
	if (err || !n) {
		if (next_target()) {
			return; /* the next SRV target */
		}
		failed(err ? strerror(err) : "no address");
		return;
	}
	px.n_srv = 0;
	a.addr = rr[0].addr;
	a.addr.port = px.port;
	if (sip_addr_flow(&a, &px.flow)) {
		failed("no listener of its address family");
		return;
	}
	if (rr[0].ttl < px.ttl) {
		px.ttl = rr[0].ttl;
	}
	sd_addr_str(&a.addr, buf, sizeof(buf));
	if (!px.ready) {
		LOG_INF("outbound_proxy %s is %s", px.host, buf);
	}
	px.ready = 1;
	again_in(px.ttl);
}

/* A/AAAA of target on port. */
static void ask_addr(const char *target, uint16_t port)
{
	int err;

	snprintf(px.target, sizeof(px.target), "%s", target);
	px.port = port;
	px.asked_aaaa = 0;
	err = dns_query(px.target, DNS_A, on_addr, NULL);
	if (err) {
		failed(strerror(err));
	}
}

/* Ask for the addresses of the next SRV target: of the lowest priority
 * left, one drawn by weight (RFC 2782). @return 0 when none is left. */
static int next_target(void)
{
	uint32_t sum = 0, r, run = 0;
	uint16_t prio = 0xffff;
	unsigned i, pick = 0;

	if (!px.n_srv) {
		return 0;
	}
	for (i = 0; i < px.n_srv; i++) {
		if (px.srv[i].prio < prio) {
			prio = px.srv[i].prio;
		}
	}
	for (i = 0; i < px.n_srv; i++) {
		sum += px.srv[i].prio == prio ? px.srv[i].weight : 0;
	}
	port_random(&r, sizeof(r));
	r = sum ? r % (sum + 1) : 0;
	/* Weight 0 first, so that it is drawn only when r is 0. */
	for (i = 0; i < px.n_srv; i++) {
		if (px.srv[i].prio == prio && !px.srv[i].weight) {
			pick = i;
			if (!r) {
				goto picked;
			}
		}
	}
	for (i = 0; i < px.n_srv; i++) {
		if (px.srv[i].prio == prio) {
			run += px.srv[i].weight;
			pick = i;
			if (px.srv[i].weight && run >= r) {
				break;
			}
		}
	}
picked:
	if (px.srv[pick].ttl < px.ttl) {
		px.ttl = px.srv[pick].ttl;
	}
	{
		struct dns_rr t = px.srv[pick];

		px.srv[pick] = px.srv[--px.n_srv];
		ask_addr(t.target, t.port);
	}
	return 1;
}

static void on_srv(int err, const struct dns_rr *rr, unsigned n, void *arg)
{
	unsigned i;

	(void)arg;
	if (err) {
		/* No answer is not "no record": RFC 3263 falls back to the
		 * name itself only when the domain has no SRV record. */
		failed(strerror(err));
		return;
	}
	if (!n) {
		ask_addr(px.host, 5060); /* no SRV: the name itself */
		return;
	}
	px.n_srv = 0;
	for (i = 0; i < n; i++) {
		if (rr[i].target[0] && rr[i].port) { /* "." or 0: none */
			px.srv[px.n_srv++] = rr[i];
		}
	}
	if (!next_target()) {
		failed("SRV says no SIP service there");
	}
}

static void resolve(void *arg)
{
	char srv[DNS_NAME_MAX + 16];
	int err;

	(void)arg;
	px.ttl = PROXY_TTL_MAX_S;
	if (px.a.addr.port) {
		ask_addr(px.host, px.a.addr.port);
		return;
	}
	snprintf(srv, sizeof(srv), "_sip._%s.%s",
		 px.a.tp == SIP_TP_TCP ? "tcp" : "udp", px.host);
	err = dns_query(srv, DNS_SRV, on_srv, NULL);
	if (err) {
		failed(strerror(err));
	}
}

int sip_outbound_proxy_check(const char *uri, char *why, size_t whylen)
{
	struct sip_addr a;
	char name[DNS_NAME_MAX + 1];

	if (!*uri || !sip_proxy_name(uri, &a, name, sizeof(name)) ||
	    !sip_proxy_check(uri, why, whylen)) {
		return 0;
	}
	if (strstr(why, "must be an IP address")) {
		snprintf(why, whylen, "outbound_proxy '%s': host neither an IP "
			 "address nor a host name", uri);
	}
	return EINVAL;
}

int sip_proxy_open(const struct sip_cfg *cfg)
{
	const char *uri = cfg->outbound_proxy;
	char why[160];
	int err;

	memset(&px, 0, sizeof(px));
	if (!uri || !uri[0]) {
		return 0;
	}
	px.configured = 1;
	if (!sip_proxy_name(uri, &px.a, px.host, sizeof(px.host))) {
		px.named = 1;
		err = dns_open(cfg->dns_servers, cfg->n_dns_servers);
		if (err || !cfg->n_dns_servers) {
			LOG_ERR("outbound_proxy %s: %s", px.host, err ?
				strerror(err) : "no name server (list "
				"resolver, or /etc/resolv.conf)");
			return err ? err : EINVAL;
		}
		resolve(NULL);
		return 0;
	}
	err = sip_proxy_parse(uri, &px.a, why, sizeof(why));
	if (err) {
		LOG_ERR("%s", why);
		return err;
	}
	if (sip_addr_flow(&px.a, &px.flow)) {
		LOG_ERR("outbound_proxy: no UDP listener of its address "
			"family");
		return EINVAL;
	}
	px.ready = 1;
	return 0;
}

void sip_proxy_close(void)
{
	tmr_cancel(&px.again);
	if (px.named) {
		dns_close();
	}
	memset(&px, 0, sizeof(px));
}

int sip_proxy_flow(struct sip_flow *f)
{
	if (!px.configured) {
		return ENOENT;
	}
	if (!px.ready) {
		return EAGAIN; /* a name not resolved yet */
	}
	*f = px.flow;
	return 0;
}
