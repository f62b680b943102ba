/** @file sip_addr.c  SIP addresses: one parser of transport + IP literal +
 * port, and the forms that split their text for it: listen specs
 * ("udp:ADDR:PORT"), the outbound proxy and next hops
 * ("sip:IP[:PORT][;transport=]") and registered contacts (libosip2's URI).
 * Also where a contact is reached and the Contact we give for ourselves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip_priv.h"

/* Longer than any IP literal ("[" 45 characters "]"). */
#define ADDR_HOST_MAX 64

static int tp_is(struct sd_pl name, const char *s, unsigned flags)
{
	if (flags & SIP_ADDR_TP_LOWER) {
		return name.l == strlen(s) && !memcmp(name.p, s, name.l);
	}
	return !sd_pl_casecmp(name, s);
}

static int tp_parse(struct sd_pl name, unsigned flags, enum sip_tp_type *tp)
{
	if (!name.p || tp_is(name, "udp", flags)) {
		*tp = SIP_TP_UDP;
	} else if (tp_is(name, "tcp", flags)) {
		*tp = SIP_TP_TCP;
	} else if (tp_is(name, "tls", flags)) {
		*tp = SIP_TP_TLS;
	} else {
		return EINVAL;
	}
	return 0;
}

/* Read as strtoul() reads it, as all three forms always did (blanks or a
 * sign before the digits pass); longer than 15 characters is refused. */
static int port_parse(struct sd_pl pl, unsigned flags, uint16_t *port)
{
	char num[16], *end;
	unsigned long v;

	if (!pl.p) {
		*port = 5060;
		return 0;
	}
	if (!pl.l || sd_pl_copy(pl, num, sizeof(num))) {
		return EINVAL;
	}
	v = strtoul(num, &end, 10);
	if (*end || v > 65535 || (v == 0 && !(flags & SIP_ADDR_PORT0))) {
		return EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

int sip_addr_parse(struct sip_addr *a, struct sd_pl tp, struct sd_pl host,
		   struct sd_pl port, unsigned flags, unsigned *faults)
{
	char ip[ADDR_HOST_MAX];
	uint16_t pn = 0;

	*faults = 0;
	if (tp_parse(tp, flags, &a->tp)) {
		*faults |= SIP_ADDR_BAD_TP;
	}
	if (port_parse(port, flags, &pn)) {
		*faults |= SIP_ADDR_BAD_PORT;
	} else if (!port.p && a->tp == SIP_TP_TLS) {
		pn = 5061; /* RFC 3261 19.1.2 */
	}
	if (sd_pl_copy(host, ip, sizeof(ip))) {
		*faults |= SIP_ADDR_LONG_HOST | SIP_ADDR_NOT_IP;
	} else if (sd_addr_parse(&a->addr, ip, pn)) {
		*faults |= SIP_ADDR_NOT_IP;
	}
	return *faults ? EINVAL : 0;
}

int sip_addr_flow(const struct sip_addr *a, struct sip_flow *f)
{
	if (a->tp == SIP_TP_UDP) {
		return sip_tp_udp_flow(f, &a->addr);
	}
	/* Listener 0 names our sent-by, as it always has for next hops;
	 * sending finds or opens the connection. */
	sip_tp_flow(f, a->tp, 0, &a->addr);
	return 0;
}

/* "udp:1.2.3.4:5060", "tcp:[::1]:5060"; "udp:::1:5060" too (the port
 * follows the last colon). */
/* An interface name where a listen address may stand ("br-lan", "eth0.1"):
 * a letter, then letters, digits, '-' or '_', and a '.' only before the
 * VLAN number that ends it; IFNAMSIZ - 1 at most. */
static int is_ifname(struct sd_pl h)
{
	size_t i;

	if (h.l < 1 || h.l > 15 || !((h.p[0] | 0x20) >= 'a' &&
				     (h.p[0] | 0x20) <= 'z')) {
		return 0;
	}
	for (i = 0; i < h.l; i++) {
		char c = h.p[i];

		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c != '_' &&
		    c != '.') {
			return 0;
		}
		/* A dot only before a VLAN number ("eth0.1"): "host.lan"
		 * is a host name, which a listener does not take. */
		if (c == '.' && (i + 1 == h.l || strspn(h.p + i + 1,
			"0123456789") < h.l - i - 1)) {
			return 0;
		}
	}
	return 1; /* an IPv4 address starts with a digit */
}

int sip_listen_parse(const char *spec, struct sip_addr *a, char *ifname,
		     size_t ifsize, char *why, size_t whylen)
{
	const char *sep = strchr(spec, ':');
	const char *hp = sep ? sep + 1 : "";
	const char *colon = strrchr(hp, ':');
	struct sd_pl host = sd_pl_str(hp), port = SD_PL_INIT;
	unsigned f;

	if (colon && hp[0] == '[' && colon < strchr(hp, ']')) {
		colon = NULL;
	}
	if (colon) {
		host.l = (size_t)(colon - hp);
		port = sd_pl_str(colon + 1);
	}
	if (ifname && ifsize) {
		ifname[0] = '\0';
	}
	/* An interface's name stands for its IPv4 address, whatever it is
	 * now: bound once it has one, bound again when it changes. */
	if (colon && ifname && ifsize > host.l && is_ifname(host) &&
	    !sip_addr_parse(a, sd_pl(spec, (size_t)(sep - spec)),
			    sd_pl_str("0.0.0.0"), port,
			    SIP_ADDR_PORT0 | SIP_ADDR_TP_LOWER, &f)) {
		memcpy(ifname, host.p, host.l);
		ifname[host.l] = '\0';
		host = sd_pl_str("0.0.0.0");
	}
	/* Without a ':' the transport is empty, so refused. */
	if (!sip_addr_parse(a, sd_pl(spec, sep ? (size_t)(sep - spec) : 0),
			    host, port, SIP_ADDR_PORT0 | SIP_ADDR_TP_LOWER,
			    &f) && colon) {
		if (a->tp == SIP_TP_TLS && !sip_tls_built()) {
			snprintf(why, whylen, "listen '%s': this build has no "
				 "TLS (CONFIG_SIMPLED_TLS)", spec);
			return EINVAL;
		}
		return 0;
	}
	if (f & SIP_ADDR_BAD_TP) {
		snprintf(why, whylen, "listen '%s': transport must be udp:, "
			 "tcp: or tls:", spec);
	} else if (!colon) {
		snprintf(why, whylen, "listen '%s': expected ADDR:PORT", spec);
	} else if (f & SIP_ADDR_LONG_HOST) {
		snprintf(why, whylen, "listen '%s': address too long", spec);
	} else if (f & SIP_ADDR_BAD_PORT) {
		snprintf(why, whylen, "listen '%s': bad port", spec);
	} else {
		snprintf(why, whylen, "listen '%s': '%.*s' is neither an IP "
			 "address nor an interface name", spec, (int)host.l,
			 host.p);
	}
	return EINVAL;
}

int sip_listen_check(const char *spec, char *why, size_t whylen)
{
	struct sip_addr a;
	char ifname[16];

	return sip_listen_parse(spec, &a, ifname, sizeof(ifname), why, whylen);
}

/* "sip:IP[:port][;transport=udp|tcp]"; IPv6 in brackets. */
/* "sip:HOST[:PORT][;transport=T]" cut in its parts. @return 0 or
 * EINVAL (not sip:). */
static int proxy_split(const char *uri, struct sd_pl *host,
		       struct sd_pl *port, struct sd_pl *tp)
{
	const char *p, *semi, *colon, *hend;

	if (strncasecmp(uri, "sip:", 4)) {
		return EINVAL;
	}
	p = uri + 4;
	semi = strchr(p, ';');
	hend = semi ? semi : p + strlen(p);
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(hend - p));

		colon = rb && rb + 1 < hend && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(hend - p));
	}
	*host = sd_pl(p, (size_t)((colon ? colon : hend) - p));
	*port = colon ? sd_pl(colon + 1, (size_t)(hend - colon - 1)) :
		sd_pl(NULL, 0);
	/* The one parameter allowed; anything else is an empty (refused)
	 * transport. */
	*tp = !semi ? sd_pl(NULL, 0) :
	      strncasecmp(semi, ";transport=", 11) ? sd_pl(semi, 0) :
	      sd_pl_str(semi + 11);
	return 0;
}

/* Labels of 1 to 63 bytes, short enough that "_sip._udp." can go
 * before it (RFC 1035 2.3.4, RFC 3263 4.2). */
static int dns_name_ok(const char *name)
{
	const char *p = name;

	if (strlen(name) + 10 > 254) {
		return 0;
	}
	while (*p) {
		size_t l = strcspn(p, ".");

		if (!l || l > 63) {
			return 0;
		}
		p += l;
		if (*p == '.' && !*++p) {
			return 0; /* a trailing dot: no empty last label */
		}
	}
	return 1;
}

int sip_proxy_name(const char *uri, struct sip_addr *a, char *name,
		   size_t size)
{
	struct sd_pl host, port, tp;
	struct port_addr ip;
	unsigned f;

	if (proxy_split(uri, &host, &port, &tp) || !host.l ||
	    host.l >= size || host.p[0] == '[' ||
	    strspn(host.p, "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") <
		    host.l ||
	    sip_addr_parse(a, tp, sd_pl_str("0.0.0.0"), port, 0, &f) ||
	    a->tp == SIP_TP_TLS) {
		return EINVAL;
	}
	memcpy(name, host.p, host.l);
	name[host.l] = '\0';
	if (!sd_addr_parse(&ip, name, 0) || !dns_name_ok(name)) {
		return EINVAL; /* an IP literal, or not a name DNS holds */
	}
	if (!port.l) {
		a->addr.port = 0; /* none given: SRV, else 5060 */
	}
	return 0;
}

int sip_proxy_parse(const char *uri, struct sip_addr *a, char *why,
		    size_t whylen)
{
	struct sd_pl host, port, tp;
	unsigned f;

	if (proxy_split(uri, &host, &port, &tp)) {
		snprintf(why, whylen, "outbound_proxy '%s': must start with "
			 "sip:", uri);
		return EINVAL;
	}
	if (!sip_addr_parse(a, tp, host, port, 0, &f)) {
		if (a->tp != SIP_TP_TLS) {
			return 0;
		}
		f = SIP_ADDR_BAD_TP; /* we open no TLS connections */
	}
	if (!host.l || (f & SIP_ADDR_LONG_HOST)) {
		snprintf(why, whylen, "outbound_proxy '%s': bad host", uri);
	} else if (f & SIP_ADDR_BAD_PORT) {
		snprintf(why, whylen, "outbound_proxy '%s': bad port", uri);
	} else if (f & SIP_ADDR_BAD_TP) {
		snprintf(why, whylen, "outbound_proxy '%s': only "
			 ";transport=udp or ;transport=tcp", uri);
	} else {
		snprintf(why, whylen, "outbound_proxy '%s': host must be an "
			 "IP address", uri);
	}
	return EINVAL;
}

int sip_proxy_check(const char *uri, char *why, size_t whylen)
{
	struct sip_addr a;

	if (!*uri) {
		return 0;
	}
	return sip_proxy_parse(uri, &a, why, whylen);
}

int sip_uri_flow(const char *uri, struct sip_flow *f)
{
	struct sip_addr a;
	char why[160];

	if (sip_proxy_parse(uri, &a, why, sizeof(why))) {
		return EINVAL;
	}
	return sip_addr_flow(&a, f);
}

/* A contact URI's parts as a flow needs them: the transport (sips: is
 * TLS), the host, the port (0 when none is given). @return 0, or what
 * sip_contact_flow() says of a URI that cannot be reached. *faults tells
 * whether the host is a name (SIP_ADDR_NOT_IP). */
static int contact_parts(const osip_uri_t *u, struct sip_addr *a,
			 uint16_t *port_given, unsigned *faults)
{
	osip_uri_param_t *prm = NULL;
	struct sd_pl tp = SD_PL_INIT, port = SD_PL_INIT;
	char tpbuf[16];

	if (!u || !u->host) {
		return EINVAL;
	}
	if (!osip_uri_uparam_get_byname((osip_uri_t *)u, "transport", &prm) &&
	    prm && prm->gvalue) {
		/* As it compares: ";transport=%55dp" is UDP. */
		tp = sd_pl_str(sip_uri_canon(prm->gvalue, tpbuf, sizeof(tpbuf)) ?
			       prm->gvalue : tpbuf);
	}
	if (u->port && u->port[0]) {
		port = sd_pl_str(u->port);
	}
	if (u->scheme && !strcasecmp(u->scheme, "sips") &&
	    (!tp.p || !sd_pl_casecmp(tp, "tcp"))) {
		tp = sd_pl_str("tls"); /* RFC 3261 26.2.2 */
	}
	sip_addr_parse(a, tp, sd_pl_str(u->host), port, 0, faults);
	if (*faults & SIP_ADDR_BAD_TP) {
		return EPROTONOSUPPORT;
	}
	if (*faults & SIP_ADDR_BAD_PORT) {
		return EINVAL;
	}
	*port_given = port.p ? (uint16_t)strtoul(port.p, NULL, 10) : 0;
	return 0;
}

int sip_contact_flow(const osip_uri_t *u, const struct sip_flow *src,
		     struct sip_flow *out)
{
	struct port_addr addr;
	struct sip_addr a;
	uint16_t port;
	unsigned f;
	int err;

	*out = *src;
	err = contact_parts(u, &a, &port, &f);
	if (err) {
		return err;
	}
	if (sip_tp_stream(a.tp) && a.tp == src->tp) {
		/* conn/gen still name the live connection. */
		if (!(f & SIP_ADDR_NOT_IP)) {
			out->peer = a.addr;
		}
		return 0;
	}
	if (f & SIP_ADDR_NOT_IP) {
		/* A host name: resolved, else where the request came from. */
		if (!dns_name_ok(u->host)) {
			return 0;
		}
		err = sip_name_lookup(u->host, a.tp, port, &addr);
		if (err) {
			return err == EINPROGRESS ? err : 0;
		}
		a.addr = addr;
	}
	return sip_peer_flow(a.tp, &a.addr, out);
}

int sip_contact_wait(const osip_uri_t *u, void (*h)(void *arg), void *arg)
{
	struct sip_addr a;
	uint16_t port;
	unsigned f;

	if (contact_parts(u, &a, &port, &f) || !(f & SIP_ADDR_NOT_IP)) {
		return ENOENT;
	}
	return sip_name_wait(u->host, a.tp, port, h, arg);
}

void sip_contact_unwait(void (*h)(void *arg), void *arg)
{
	sip_name_unwait(h, arg);
}

int sip_peer_flow(enum sip_tp_type tp, const struct port_addr *peer,
		  struct sip_flow *out)
{
	struct port_addr a = *peer; /* peer may be out->peer */
	int lidx;

	if (tp == SIP_TP_UDP) {
		return sip_tp_udp_flow(out, &a);
	}
	lidx = sip_tp_listener(tp, a.family);
	if (lidx < 0) {
		return EAFNOSUPPORT;
	}
	sip_tp_flow(out, tp, lidx, &a);
	return 0;
}

void sip_local_contact(const struct sip_flow *f, char *buf, size_t size)
{
	char sent_by[160];
	const char *tp;

	sip_tp_sent_by(f, sent_by, sizeof(sent_by), &tp);
	snprintf(buf, size, "sip:%s%s%s", sent_by,
		 f->tp == SIP_TP_UDP ? "" : ";transport=",
		 f->tp == SIP_TP_UDP ? "" : sip_tp_name(f->tp, 0));
}
