/** @file sip_proxy.c  The outbound proxy: an IP address, or a host name
 * resolved as RFC 3263 says (sip_resolve.c), and again when the answer's
 * TTL runs out (kept meanwhile: a failed refresh keeps the last address
 * until a later one succeeds).
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
#define PROXY_TTL_MAX_S SIP_RESOLVE_TTL_MAX_S
#define PROXY_RETRY_S 30

static struct {
	int configured;
	int named;			/* by host name: resolved */
	int ready;			/* flow holds an address */
	struct sip_flow flow;
	struct sip_addr a;		/* transport; port (0: none given) */
	struct sip_resolve res;
	struct tmr again;
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
	LOG_WRN("outbound_proxy %s: %s%s; asked again in %d s", px.res.host,
		what, px.ready ? " (the last address is kept)" : "",
		PROXY_RETRY_S);
	again_in(PROXY_RETRY_S);
}

static void resolved(struct sip_resolve *r, int err, const char *why,
		     const struct port_addr *addr, uint32_t ttl)
{
	struct sip_addr a = px.a;
	char buf[64];

	(void)r;
	if (err) {
		failed(why);
		return;
	}
	a.addr = *addr;
	if (sip_addr_flow(&a, &px.flow)) {
		failed("no listener of its address family");
		return;
	}
	sd_addr_str(&a.addr, buf, sizeof(buf));
	if (!px.ready) {
		LOG_INF("outbound_proxy %s is %s", px.res.host, buf);
	}
	px.ready = 1;
	again_in(ttl);
}

static void resolve(void *arg)
{
	(void)arg;
	sip_resolve_start(&px.res);
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
	if (!sip_proxy_name(uri, &px.a, px.res.host, sizeof(px.res.host))) {
		px.named = 1;
		if (!cfg->n_dns_servers) {
			LOG_ERR("outbound_proxy %s: no name server (list "
				"resolver, or /etc/resolv.conf)", px.res.host);
			return EINVAL;
		}
		px.res.tp = px.a.tp;
		px.res.port = px.a.addr.port;
		px.res.done = resolved;
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
		sip_resolve_cancel(&px.res);
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
