/** @file sip_build.c  Writing SIP text: responses and our Via. Everything
 * simpled sends is written here from the raw header index, never through
 * libosip2's serializer.
 */
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sip_priv.h"

/* The top Via with received and rport filled in (RFC 3261 18.2.1,
 * RFC 3581). */
static void top_via(struct sd_buf *b, const struct sip_msg *req,
		    struct sd_pl value)
{
	struct sd_pl elem = sd_pl(value.p, sip_first_elem_len(value));
	struct sd_pl params, rport, host;
	char ip[48];
	const char *semi = memchr(elem.p, ';', elem.l);
	size_t hl;

	sd_addr_ip_str(&req->flow.peer, ip, sizeof(ip));
	params = semi ? sd_pl(semi, elem.l - (size_t)(semi - elem.p)) :
			sd_pl(elem.p + elem.l, 0);
	rport = sip_param(params, "rport");
	sd_buf_str(b, "Via: ");
	if (rport.p && rport.l == 0) {
		sd_buf_add(b, elem.p, (size_t)(rport.p - elem.p));
		sd_buf_str(b, "=");
		sd_buf_uint(b, req->flow.peer.port);
		sd_buf_add(b, rport.p,
			   (size_t)(elem.p + elem.l - rport.p));
	} else {
		sd_buf_pl(b, elem);
	}
	/* sent-by host without port or IPv6 brackets */
	host = req->sent_by;
	if (host.l && host.p[0] == '[') {
		const char *rb = memchr(host.p, ']', host.l);

		hl = rb ? (size_t)(rb - host.p - 1) : host.l;
		host = sd_pl(host.p + 1, hl);
	} else {
		const char *colon = memchr(host.p, ':', host.l);

		if (colon) {
			host.l = (size_t)(colon - host.p);
		}
	}
	if (!sip_param(params, "received").p &&
	    (rport.p || sd_pl_casecmp(host, ip))) {
		sd_buf_str(b, ";received=");
		sd_buf_str(b, ip);
	}
	if (elem.l < value.l) {
		sd_buf_add(b, value.p + elem.l, value.l - elem.l);
	}
	sd_buf_str(b, "\r\n");
}

/* The Content-Length line and the blank line that ends the headers. */
static void content_length(struct sd_buf *b, size_t n)
{
	sd_buf_str(b, "Content-Length: ");
	sd_buf_uint(b, n);
	sd_buf_str(b, "\r\n\r\n");
}

/* "Name: value", without the CRLF. */
static void hdr_start(struct sd_buf *b, struct sd_pl name, struct sd_pl value)
{
	sd_buf_pl(b, name);
	sd_buf_str(b, ": ");
	sd_buf_pl(b, value);
}

/* The headers a response copies from its request (RFC 3261 8.2.6.2),
 * and Record-Route in a response that makes a dialog (12.1.1; the only
 * dialogs here are subscriptions). */
static int copied_to_response(const struct sip_msg *req,
			      enum sip_hdr_id id, int code)
{
	if (id == SIP_HDR_RECORD_ROUTE) {
		return code > 100 && code < 300 &&
		       !sd_pl_casecmp(req->method, "SUBSCRIBE");
	}
	return id == SIP_HDR_VIA || id == SIP_HDR_FROM || id == SIP_HDR_TO ||
	       id == SIP_HDR_CALL_ID || id == SIP_HDR_CSEQ;
}

/* Does this Route element (name-addr or addr-spec) name us? */
static int route_is_ours(struct sd_pl e)
{
	const char *p = e.p, *end = e.p + e.l, *lt = memchr(p, '<', e.l);
	const char *host, *at;

	if (lt) {
		p = lt + 1;
	}
	while (p < end && *p != ':') {
		p++; /* the scheme */
	}
	host = ++p;
	for (at = host; at < end && *at != '@' && *at != '>' && *at != ';';
	     at++) {
	}
	if (at < end && *at == '@') {
		host = at + 1;
	}
	if (host < end && *host == '[') {
		host++;
		for (p = host; p < end && *p != ']'; p++) {
		}
		return p < end &&
		       sip_is_local_host(sd_pl(host, (size_t)(p - host)));
	}
	for (p = host; p < end && *p != ':' && *p != ';' && *p != '>'; p++) {
	}
	return p > host && sip_is_local_host(sd_pl(host, (size_t)(p - host)));
}

/* The Route elements of h that do not name us, as a header line (none
 * when all of them do). RFC 3261 16.4 removes the entry for this proxy;
 * the rest of the route set goes on with the request. */
static void route_without_us(struct sd_buf *b, const struct sip_hdr *h)
{
	struct sd_pl v = h->value;
	int first = 1;

	while (v.l) {
		struct sd_pl e = sd_pl_trim(sip_next_elem(&v));

		if (e.l && !route_is_ours(e)) {
			sd_buf_str(b, first ? "Route: " : ", ");
			sd_buf_pl(b, e);
			first = 0;
		}
	}
	if (!first) {
		sd_buf_str(b, "\r\n");
	}
}

void sip_build_response(struct sd_buf *b, const struct sip_msg *req,
			int code, const char *reason, const char *totag,
			const char *hdrs, const char *ctype,
			const char *body, size_t blen)
{
	int first_via = 1;
	unsigned i;

	sd_buf_str(b, "SIP/2.0 ");
	sd_buf_uint(b, (unsigned)code);
	sd_buf_str(b, " ");
	sd_buf_str(b, reason ? reason : sip_reason(code));
	sd_buf_str(b, "\r\n");
	for (i = 0; i < req->nhdrs; i++) {
		const struct sip_hdr *h = &req->hdrs[i];

		if (h->id == SIP_HDR_VIA && first_via) {
			top_via(b, req, h->value);
			first_via = 0;
			continue;
		}
		if (!copied_to_response(req, h->id, code)) {
			continue;
		}
		hdr_start(b, sd_pl_str(sip_hdr_name(h->id)), h->value);
		if (h->id == SIP_HDR_TO && !req->to_tag.p && totag &&
		    code > 100) {
			sd_buf_str(b, ";tag=");
			sd_buf_str(b, totag);
		}
		sd_buf_str(b, "\r\n");
	}
	sd_buf_str(b, "Server: simpled\r\n");
	if (hdrs) {
		sd_buf_str(b, hdrs);
	}
	if (ctype && body) {
		sd_buf_str(b, "Content-Type: ");
		sd_buf_str(b, ctype);
		sd_buf_str(b, "\r\n");
	} else {
		blen = 0;
	}
	content_length(b, blen);
	if (blen) {
		sd_buf_add(b, body, blen);
	}
}

/* Our Via header line (with CRLF) for a request sent over flow. */
static void build_via(struct sd_buf *b, const struct sip_flow *flow,
		      const char *branch)
{
	char sent_by[160];
	const char *tp;

	sip_tp_sent_by(flow, sent_by, sizeof(sent_by), &tp);
	sd_buf_str(b, "Via: SIP/2.0/");
	sd_buf_str(b, tp);
	sd_buf_str(b, " ");
	sd_buf_str(b, sent_by);
	sd_buf_str(b, ";branch=");
	sd_buf_str(b, branch);
	sd_buf_str(b, ";rport\r\n");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A URI user part as it compares (RFC 3261 19.1.4): an escaped unreserved
 * character is that character, any other escape stays one in upper case.
 * The parse leaves escapes in libosip2's strings (osip_text()), so an
 * escaped NUL is "%00" here, never the end of the string. */
static void user_canon(struct sd_buf *b, const char *s)
{
	for (; *s; s++) {
		int hi = s[0] == '%' ? hexval(s[1]) : -1;
		int lo = hi >= 0 ? hexval(s[2]) : -1;
		char c;

		if (lo < 0) {
			sd_buf_add(b, s, 1);
			continue;
		}
		c = (char)(hi * 16 + lo);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c && strchr("-_.!~*'()", c))) {
			sd_buf_add(b, &c, 1);
		} else {
			sd_buf_printf(b, "%%%02X", (unsigned char)c);
		}
		s += 2;
	}
}

int sip_uri_canon(const char *user, char *buf, size_t size)
{
	struct sd_buf b;

	sd_buf_init(&b, buf, size);
	user_canon(&b, user);
	return b.overflow ? ENAMETOOLONG : 0;
}

int sip_uri_print(const osip_uri_t *u, char *buf, size_t size)
{
	struct sd_buf b;
	int pos = 0;
	osip_uri_param_t *prm;

	if (!u || !u->host || !u->scheme) {
		return EINVAL;
	}
	sd_buf_init(&b, buf, size);
	sd_buf_str(&b, u->scheme);
	sd_buf_str(&b, ":");
	if (u->username) {
		user_canon(&b, u->username);
		if (u->password) {
			sd_buf_str(&b, ":");
			sd_buf_str(&b, u->password);
		}
		sd_buf_str(&b, "@");
	}
	if (strchr(u->host, ':')) {
		sd_buf_str(&b, "[");
		sd_buf_str(&b, u->host);
		sd_buf_str(&b, "]");
	} else {
		sd_buf_str(&b, u->host);
	}
	if (u->port && u->port[0]) {
		sd_buf_str(&b, ":");
		sd_buf_str(&b, u->port);
	}
	while (!osip_list_eol(&u->url_params, pos)) {
		prm = osip_list_get(&u->url_params, pos++);
		sd_buf_str(&b, ";");
		user_canon(&b, prm->gname);
		if (prm->gvalue) {
			sd_buf_str(&b, "=");
			user_canon(&b, prm->gvalue);
		}
	}
	return b.overflow ? ENAMETOOLONG : 0;
}

void sip_build_relay(struct sd_buf *b, const struct sip_msg *req,
		     const char *ruri, const struct sip_flow *out,
		     const char *branch, int max_breadth, const char *hdrs)
{
	int saw_mf = 0;
	unsigned i;

	sd_buf_pl(b, req->method);
	sd_buf_str(b, " ");
	sd_buf_str(b, ruri);
	sd_buf_str(b, " SIP/2.0\r\n");
	build_via(b, out, branch);
	for (i = 0; i < req->nhdrs; i++) {
		const struct sip_hdr *h = &req->hdrs[i];
		uint32_t mf;

		switch (h->id) {
		case SIP_HDR_MAX_FORWARDS:
			saw_mf = 1;
			if (sd_pl_u32(h->value, &mf) || mf == 0) {
				mf = 1;
			}
			sd_buf_str(b, "Max-Forwards: ");
			sd_buf_uint(b, mf - 1);
			sd_buf_str(b, "\r\n");
			continue;
		case SIP_HDR_CONTENT_LENGTH:
			continue; /* rewritten below */
		case SIP_HDR_ROUTE:
			route_without_us(b, h);
			continue;
		default:
			if (max_breadth >= 0 &&
			    !sd_pl_casecmp(h->name, "Max-Breadth")) {
				continue; /* written below */
			}
			/* Credentials for our realms are ours to consume
			 * (RFC 3261 22.3), never the next hop's to read. */
			if (!sd_pl_casecmp(h->name, "Proxy-Authorization") &&
			    sip_authn_realm_ours(h->value)) {
				continue;
			}
			break;
		}
		hdr_start(b, h->name, h->value);
		sd_buf_str(b, "\r\n");
	}
	if (!saw_mf) {
		sd_buf_str(b, "Max-Forwards: 69\r\n");
	}
	if (max_breadth >= 0) {
		sd_buf_str(b, "Max-Breadth: ");
		sd_buf_uint(b, (unsigned)max_breadth);
		sd_buf_str(b, "\r\n");
	}
	if (hdrs) {
		sd_buf_str(b, hdrs);
	}
	content_length(b, req->body.l);
	sd_buf_pl(b, req->body);
}

/* Does a From value carry a tag parameter (after the URI)? */
static int has_tag(const char *from)
{
	const char *p = strrchr(from, '>');

	for (p = p ? p : from; (p = strchr(p, ';')) != NULL; p++) {
		if (!strncasecmp(p + 1 + strspn(p + 1, " \t"), "tag=", 4)) {
			return 1;
		}
	}
	return 0;
}

void sip_build_request(struct sd_buf *b, const struct sip_request *r,
		       const struct sip_flow *out, const char *branch)
{
	char cid[48], tag[17];

	sd_buf_str(b, r->method);
	sd_buf_str(b, " ");
	sd_buf_str(b, r->ruri);
	sd_buf_str(b, " SIP/2.0\r\n");
	build_via(b, out, branch);
	sd_buf_str(b, "Max-Forwards: 70\r\nFrom: ");
	sd_buf_str(b, r->from);
	if (!has_tag(r->from)) {
		/* RFC 3261 8.1.1.3: every request we start has one. */
		sd_rand_hex(tag, 16);
		sd_buf_str(b, ";tag=");
		sd_buf_str(b, tag);
	}
	sd_buf_str(b, "\r\nTo: ");
	sd_buf_str(b, r->to);
	sd_buf_str(b, "\r\n");
	if (!r->call_id || !r->call_id[0]) {
		sd_rand_hex(cid, 24);
		cid[24] = '@';
		sd_str_copy(cid + 25, sizeof(cid) - 25,
			    sip_cfg && sip_cfg->n_domain ? sip_cfg->domain[0] :
			    "simpled");
	}
	sd_buf_str(b, "Call-ID: ");
	sd_buf_str(b, r->call_id && r->call_id[0] ? r->call_id : cid);
	sd_buf_str(b, "\r\nCSeq: ");
	sd_buf_uint(b, r->cseq ? r->cseq : 1);
	sd_buf_str(b, " ");
	sd_buf_str(b, r->method);
	sd_buf_str(b, "\r\n");
	if (r->hdrs) {
		sd_buf_str(b, r->hdrs);
	}
	if (r->ctype && r->ctype[0]) {
		sd_buf_str(b, "Content-Type: ");
		sd_buf_str(b, r->ctype);
		sd_buf_str(b, "\r\n");
	}
	content_length(b, r->ctype && r->ctype[0] ? r->blen : 0);
	if (r->ctype && r->ctype[0] && r->blen) {
		sd_buf_add(b, r->body, r->blen);
	}
}
