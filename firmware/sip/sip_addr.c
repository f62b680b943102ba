/** @file sip_addr.c  SIP addresses: listen specs ("udp:ADDR:PORT"), the
 * outbound proxy and next hops ("sip:IP[:PORT][;transport=]"), where a
 * registered contact is reached, and the Contact we give for ourselves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip_priv.h"

/* "udp:1.2.3.4:5060" / "tcp:[::1]:5060" */
int sip_listen_parse(const char *spec, enum sip_tp_type *tp,
		     struct port_addr *a, char *why, size_t whylen)
{
	const char *hp, *colon;
	char host[64];
	unsigned long port;
	char *end;
	size_t hl;

	if (!strncmp(spec, "udp:", 4)) {
		*tp = SIP_TP_UDP;
	} else if (!strncmp(spec, "tcp:", 4)) {
		*tp = SIP_TP_TCP;
	} else {
		snprintf(why, whylen, "listen '%s': transport must be udp: "
			 "or tcp:", spec);
		return EINVAL;
	}
	hp = spec + 4;
	colon = strrchr(hp, ':');
	if (!colon || (hp[0] == '[' && colon < strchr(hp, ']'))) {
		snprintf(why, whylen, "listen '%s': expected ADDR:PORT", spec);
		return EINVAL;
	}
	hl = (size_t)(colon - hp);
	if (hl >= sizeof(host)) {
		snprintf(why, whylen, "listen '%s': address too long", spec);
		return EINVAL;
	}
	memcpy(host, hp, hl);
	host[hl] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535) {
		snprintf(why, whylen, "listen '%s': bad port", spec);
		return EINVAL;
	}
	if (sd_addr_parse(a, host, (uint16_t)port)) {
		snprintf(why, whylen, "listen '%s': '%s' is not an IP address",
			 spec, host);
		return EINVAL;
	}
	return 0;
}

int sip_listen_check(const char *spec, char *why, size_t whylen)
{
	enum sip_tp_type tp;
	struct port_addr a;

	return sip_listen_parse(spec, &tp, &a, why, whylen);
}


/* "sip:IP[:port][;transport=udp|tcp]" */
int sip_proxy_parse(const char *uri, struct port_addr *a,
		    enum sip_tp_type *tp, char *why, size_t whylen)
{
	char host[64];
	const char *p, *semi, *colon, *hend;
	unsigned long port = 5060;
	size_t hl;

	*tp = SIP_TP_UDP;
	if (strncasecmp(uri, "sip:", 4)) {
		snprintf(why, whylen, "outbound_proxy '%s': must start with "
			 "sip:", uri);
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
	hl = (size_t)((colon ? colon : hend) - p);
	if (!hl || hl >= sizeof(host)) {
		snprintf(why, whylen, "outbound_proxy '%s': bad host", uri);
		return EINVAL;
	}
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (colon) {
		char *end;

		port = strtoul(colon + 1, &end, 10);
		if (end != hend || port == 0 || port > 65535) {
			snprintf(why, whylen, "outbound_proxy '%s': bad port",
				 uri);
			return EINVAL;
		}
	}
	if (semi) {
		if (!strcasecmp(semi, ";transport=tcp")) {
			*tp = SIP_TP_TCP;
		} else if (strcasecmp(semi, ";transport=udp")) {
			snprintf(why, whylen, "outbound_proxy '%s': only "
				 ";transport=udp or ;transport=tcp", uri);
			return EINVAL;
		}
	}
	if (sd_addr_parse(a, host, (uint16_t)port)) {
		snprintf(why, whylen, "outbound_proxy '%s': host must be an "
			 "IP address", uri);
		return EINVAL;
	}
	return 0;
}

int sip_proxy_check(const char *uri, char *why, size_t whylen)
{
	struct port_addr a;
	enum sip_tp_type tp;

	if (!*uri) {
		return 0;
	}
	return sip_proxy_parse(uri, &a, &tp, why, whylen);
}

int sip_uri_flow(const char *uri, struct sip_flow *f)
{
	struct port_addr a;
	enum sip_tp_type tp;
	char why[160];

	if (sip_proxy_parse(uri, &a, &tp, why, sizeof(why))) {
		return EINVAL;
	}
	memset(f, 0, sizeof(*f));
	f->tp = tp;
	f->conn = -1;
	f->peer = a;
	return tp == SIP_TP_UDP ? sip_tp_udp_flow(f, &a) : 0;
}

int sip_contact_flow(const osip_uri_t *u, const struct sip_flow *src,
		     struct sip_flow *out)
{
	osip_uri_param_t *tp = NULL;
	enum sip_tp_type want = SIP_TP_UDP;
	struct port_addr a;
	unsigned long port = 5060;
	int lidx;

	*out = *src;
	if (!u || !u->host) {
		return EINVAL;
	}
	if (osip_uri_uparam_get_byname((osip_uri_t *)u, "transport", &tp) == 0 &&
	    tp && tp->gvalue) {
		if (!strcasecmp(tp->gvalue, "tcp")) {
			want = SIP_TP_TCP;
		} else if (strcasecmp(tp->gvalue, "udp")) {
			return EPROTONOSUPPORT;
		}
	}
	if (u->port && u->port[0]) {
		char *end;

		port = strtoul(u->port, &end, 10);
		if (*end || port == 0 || port > 65535) {
			return EINVAL;
		}
	}
	if (sd_addr_parse(&a, u->host, (uint16_t)port)) {
		return 0; /* a host name: use the source of the REGISTER */
	}
	if (want == SIP_TP_UDP) {
		return sip_tp_udp_flow(out, &a);
	}
	if (src->tp == SIP_TP_TCP) {
		out->peer = a; /* conn/gen still name the live connection */
		return 0;
	}
	lidx = sip_tp_listener(SIP_TP_TCP, a.family);
	if (lidx < 0) {
		return EAFNOSUPPORT;
	}
	memset(out, 0, sizeof(*out));
	out->tp = SIP_TP_TCP;
	out->lidx = lidx;
	out->conn = -1;
	out->peer = a;
	return 0;
}

void sip_local_contact(const struct sip_flow *f, char *buf, size_t size)
{
	char sent_by[160];
	const char *tp;

	sip_tp_sent_by(f, sent_by, sizeof(sent_by), &tp);
	snprintf(buf, size, "sip:%s%s", sent_by,
		 f->tp == SIP_TP_TCP ? ";transport=tcp" : "");
}
