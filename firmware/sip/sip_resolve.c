/** @file sip_resolve.c  A SIP URI's host name to one address, as RFC 3263
 * says for a name without a numeric host: with a port, A then AAAA; with
 * none, SRV (_sip._udp, _sip._tcp or _sips._tcp by transport), its
 * targets by priority and weight (RFC 2782), failing over to the next
 * when one has no address, and the name itself on the transport's port
 * when there is no SRV record. One resolution per struct sip_resolve:
 * the outbound proxy holds one (sip_proxy.c), the contact names cache one
 * per name (sip_names.c). Never blocks: core/dns.c answers through the
 * loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sip_priv.h"

static void finish(struct sip_resolve *r, int err, const char *why,
		   const struct port_addr *addr)
{
	r->n_srv = 0;
	r->done(r, err, why, addr, r->ttl);
}

static int next_target(struct sip_resolve *r);

static void on_addr(int err, const struct dns_rr *rr, unsigned n, void *arg)
{
	struct sip_resolve *r = arg;
	struct port_addr a;

	if (!err && !n && !r->asked_aaaa) {
		r->asked_aaaa = 1;
		if (!dns_query(r->target, DNS_AAAA, on_addr, r)) {
			return;
		}
	}
	if (err || !n) {
		if (next_target(r)) {
			return; /* the next SRV target */
		}
		finish(r, err ? err : ENOENT, err ? strerror(err) :
		       "no address", NULL);
		return;
	}
	a = rr[0].addr;
	a.port = r->tport;
	if (rr[0].ttl < r->ttl) {
		r->ttl = rr[0].ttl;
	}
	finish(r, 0, NULL, &a);
}

/* A, then AAAA, of target on port. */
static void ask_addr(struct sip_resolve *r, const char *target,
		     uint16_t port)
{
	int err;

	snprintf(r->target, sizeof(r->target), "%s", target);
	r->tport = port;
	r->asked_aaaa = 0;
	err = dns_query(r->target, DNS_A, on_addr, r);
	if (err) {
		finish(r, err, strerror(err), NULL);
	}
}

/* Ask for the addresses of the next SRV target: of the lowest priority
 * left, one drawn by weight (RFC 2782). @return 0 when none is left. */
static int next_target(struct sip_resolve *r)
{
	uint32_t sum = 0, x, run = 0;
	uint16_t prio = 0xffff;
	unsigned i, pick = 0;
	struct dns_rr t;

	if (!r->n_srv) {
		return 0;
	}
	for (i = 0; i < r->n_srv; i++) {
		if (r->srv[i].prio < prio) {
			prio = r->srv[i].prio;
		}
	}
	for (i = 0; i < r->n_srv; i++) {
		sum += r->srv[i].prio == prio ? r->srv[i].weight : 0;
	}
	port_random(&x, sizeof(x));
	x = sum ? x % (sum + 1) : 0;
	/* Weight 0 first, so that it is drawn only when x is 0. */
	for (i = 0; i < r->n_srv; i++) {
		if (r->srv[i].prio == prio && !r->srv[i].weight) {
			pick = i;
			if (!x) {
				goto picked;
			}
		}
	}
	for (i = 0; i < r->n_srv; i++) {
		if (r->srv[i].prio == prio) {
			run += r->srv[i].weight;
			pick = i;
			if (r->srv[i].weight && run >= x) {
				break;
			}
		}
	}
picked:
	if (r->srv[pick].ttl < r->ttl) {
		r->ttl = r->srv[pick].ttl;
	}
	t = r->srv[pick];
	r->srv[pick] = r->srv[--r->n_srv];
	ask_addr(r, t.target, t.port);
	return 1;
}

static void on_srv(int err, const struct dns_rr *rr, unsigned n, void *arg)
{
	struct sip_resolve *r = arg;
	unsigned i;

	if (err) {
		/* No answer is not "no record": RFC 3263 falls back to the
		 * name itself only when the domain has no SRV record. */
		finish(r, err, strerror(err), NULL);
		return;
	}
	if (!n) {
		/* No SRV: the name itself on the transport's port. */
		ask_addr(r, r->host, r->tp == SIP_TP_TLS ? 5061 : 5060);
		return;
	}
	r->n_srv = 0;
	for (i = 0; i < n; i++) {
		if (rr[i].target[0] && rr[i].port) { /* "." or 0: none */
			r->srv[r->n_srv++] = rr[i];
		}
	}
	if (!next_target(r)) {
		finish(r, ENOENT, "SRV says no SIP service there", NULL);
	}
}

void sip_resolve_start(struct sip_resolve *r)
{
	static const char *const srv[] = {"_sip._udp", "_sip._tcp",
					  "_sips._tcp"};
	char name[DNS_NAME_MAX + 16];
	int err;

	r->ttl = SIP_RESOLVE_TTL_MAX_S;
	r->n_srv = 0;
	if (r->port) {
		ask_addr(r, r->host, r->port);
		return;
	}
	snprintf(name, sizeof(name), "%s.%s", srv[r->tp], r->host);
	err = dns_query(name, DNS_SRV, on_srv, r);
	if (err) {
		finish(r, err, strerror(err), NULL);
	}
}

void sip_resolve_cancel(struct sip_resolve *r)
{
	dns_cancel(on_srv, r);
	dns_cancel(on_addr, r);
	r->n_srv = 0;
}
