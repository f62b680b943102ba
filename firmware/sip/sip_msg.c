/** @file sip_msg.c  Raw header index, essentials and libosip2 parse. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "sip"
#include "log.h"
#include "mem.h"
#include "sip_auth.h"
#include "sip_priv.h"

#define HN(name, compact, id) {name, sizeof(name) - 1, compact, id}

static const struct {
	const char *name;
	unsigned char len;
	char compact;
	enum sip_hdr_id id;
} hdr_names[] = {
	HN("Via", 'v', SIP_HDR_VIA),
	HN("From", 'f', SIP_HDR_FROM),
	HN("To", 't', SIP_HDR_TO),
	HN("Call-ID", 'i', SIP_HDR_CALL_ID),
	HN("CSeq", 0, SIP_HDR_CSEQ),
	HN("Contact", 'm', SIP_HDR_CONTACT),
	HN("Max-Forwards", 0, SIP_HDR_MAX_FORWARDS),
	HN("Content-Length", 'l', SIP_HDR_CONTENT_LENGTH),
	HN("Content-Type", 'c', SIP_HDR_CONTENT_TYPE),
	HN("Expires", 0, SIP_HDR_EXPIRES),
	HN("Route", 0, SIP_HDR_ROUTE),
	HN("Record-Route", 0, SIP_HDR_RECORD_ROUTE),
	HN("Require", 0, SIP_HDR_REQUIRE),
	HN("Proxy-Require", 0, SIP_HDR_PROXY_REQUIRE),
	/* Headers without an id of their own that have a compact form:
	 * RFC 3261 7.3.3 (e, s, k), RFC 3265 (o, u), RFC 3515 (r), RFC 3892
	 * (b), RFC 3841 (j, d, a), RFC 4028 (x), RFC 4474 (y). */
	HN("Content-Encoding", 'e', SIP_HDR_OTHER),
	HN("Subject", 's', SIP_HDR_OTHER),
	HN("Supported", 'k', SIP_HDR_OTHER),
	HN("Event", 'o', SIP_HDR_OTHER),
	HN("Allow-Events", 'u', SIP_HDR_OTHER),
	HN("Refer-To", 'r', SIP_HDR_OTHER),
	HN("Referred-By", 'b', SIP_HDR_OTHER),
	HN("Reject-Contact", 'j', SIP_HDR_OTHER),
	HN("Request-Disposition", 'd', SIP_HDR_OTHER),
	HN("Session-Expires", 'x', SIP_HDR_OTHER),
	HN("Identity", 'y', SIP_HDR_OTHER),
	HN("Accept-Contact", 'a', SIP_HDR_OTHER),
};

#define N_HDR_NAMES (sizeof(hdr_names) / sizeof(hdr_names[0]))

/* Is a header line's name this full name, or its compact form? */
static int name_is(struct sd_pl name, const char *full)
{
	size_t i;

	if (!sd_pl_casecmp(name, full)) {
		return 1;
	}
	if (name.l != 1) {
		return 0;
	}
	for (i = 0; i < N_HDR_NAMES; i++) {
		if (hdr_names[i].compact &&
		    (name.p[0] | 0x20) == hdr_names[i].compact) {
			return !strcasecmp(hdr_names[i].name, full);
		}
	}
	return 0;
}

/* Called for every header line: a compact form by its letter, a full
 * name compared only with the names that start like it. */
static enum sip_hdr_id hdr_id(struct sd_pl name)
{
	char c = name.l ? (char)(name.p[0] | 0x20) : 0;
	size_t i;

	for (i = 0; c && i < N_HDR_NAMES; i++) {
		if (hdr_names[i].id == SIP_HDR_OTHER) {
			continue;
		}
		if (name.l == 1 ? hdr_names[i].compact == c :
		    name.l == hdr_names[i].len &&
		    (hdr_names[i].name[0] | 0x20) == c &&
		    !strncasecmp(name.p, hdr_names[i].name, name.l)) {
			return hdr_names[i].id;
		}
	}
	return SIP_HDR_OTHER;
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	size_t i;

	for (i = 0; i < N_HDR_NAMES; i++) {
		if (hdr_names[i].id == id) {
			return hdr_names[i].name;
		}
	}
	return "";
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m,
				  enum sip_hdr_id id)
{
	unsigned i;

	for (i = 0; i < m->nhdrs; i++) {
		if (m->hdrs[i].id == id) {
			return &m->hdrs[i];
		}
	}
	return NULL;
}

const struct sip_hdr *sip_msg_hdr_name(const struct sip_msg *m,
				       const char *name)
{
	unsigned i;

	for (i = 0; i < m->nhdrs; i++) {
		if (name_is(m->hdrs[i].name, name)) {
			return &m->hdrs[i];
		}
	}
	return NULL;
}

void sip_msg_source(const struct sip_msg *m, char *buf, size_t size)
{
	uint8_t h[SIP_HASH_MAX];
	size_t l = strlen(m->auth_user), keep;

	if (!l) {
		sd_addr_ip_str(&m->flow.peer, buf, size);
		return;
	}
	if (l < size) {
		memcpy(buf, m->auth_user, l + 1); /* has '@': never an IP */
		return;
	}
	/* Too long to keep whole: its start and a hash of it all, the same
	 * in every run (the records that count keep it). */
	sip_crypto_hash(SIP_AUTH_SHA256, m->auth_user, l, h);
	keep = size - 1 - 1 - 32;
	memcpy(buf, m->auth_user, keep);
	buf[keep] = '#';
	sip_hex(h, 16, buf + keep + 1);
}

/* End of the line starting at p (points at CR or LF or end). */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *cr;

	nl = nl ? nl : end;
	cr = memchr(p, '\r', (size_t)(nl - p));
	return cr ? cr : nl;
}

static const char *skip_eol(const char *p, const char *end)
{
	if (p < end && *p == '\r') {
		p++;
	}
	if (p < end && *p == '\n') {
		p++;
	}
	return p;
}

static int is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("-.!%*_+`'~", c));
}

static int is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* "SIP/" 1*DIGIT "." 1*DIGIT (RFC 3261 25.1 SIP-Version). */
static int is_sip_version(struct sd_pl v)
{
	size_t i = 4, d;

	if (v.l < 7 || strncasecmp(v.p, "SIP/", 4)) {
		return 0;
	}
	for (d = i; i < v.l && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
	}
	if (i == d || i == v.l || v.p[i] != '.') {
		return 0;
	}
	for (d = ++i; i < v.l && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
	}
	return i > d && i == v.l;
}

/* The first fault of a message is the one reported. */
static void fault(struct sip_msg *m, int code, const char **why,
		  const char *what)
{
	if (!m->fault) {
		m->fault = code;
		*why = what;
	}
}

/* A response's status line, or a request line. A request line that is
 * not exactly Method SP Request-URI SP SIP-Version (RFC 3261 7.1) is
 * still split on its blanks so that its fault can be answered 400. */
static void scan_start_line(struct sip_msg *m, const char *p,
			    const char *e, const char **why)
{
	struct sd_pl part[3];
	const char *q = p;
	unsigned n = 0;
	int odd = 0;

	if ((size_t)(e - p) > 7 && !strncmp(p, "SIP/2.0 ", 8)) {
		const char *sp1 = p + 7, *sp2;
		uint32_t code;

		m->is_request = 0;
		sp2 = memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1));
		if (!sp2) {
			sp2 = e;
		}
		if (sd_pl_u32(sd_pl(sp1 + 1, (size_t)(sp2 - sp1 - 1)),
			      &code) || code < 100 || code > 699) {
			fault(m, 400, why, "Malformed status code");
			return;
		}
		m->status = (int)code;
		m->reason = sp2 < e ? sd_pl(sp2 + 1, (size_t)(e - sp2 - 1)) :
				      sd_pl(e, 0);
		return;
	}
	m->is_request = 1;
	while (q < e) {
		const char *w = q;

		while (q < e && *q != ' ' && *q != '\t') {
			q++;
		}
		if (q > w) {
			if (n < 3) {
				part[n] = sd_pl(w, (size_t)(q - w));
			} else {
				part[2] = sd_pl(w, (size_t)(q - w));
			}
			n++;
		}
		if (q < e && (q == p || q + 1 == e || q[1] == ' ' ||
			      q[1] == '\t' || *q != ' ')) {
			odd = 1; /* leading, trailing or doubled blank */
		}
		while (q < e && (*q == ' ' || *q == '\t')) {
			q++;
		}
	}
	if (n >= 1) {
		m->method = part[0];
	}
	if (n >= 3) {
		m->ruri = part[1];
		m->version = part[2];
	}
	if (n != 3 || odd) {
		fault(m, 400, why, "Malformed request line");
		return;
	}
	for (q = m->method.p; q < m->method.p + m->method.l; q++) {
		if (!is_token_char(*q)) {
			fault(m, 400, why, "Malformed method");
			return;
		}
	}
	if (!sd_pl_casecmp(m->version, "SIP/2.0")) {
		return;
	}
	if (is_sip_version(m->version)) {
		fault(m, 505, why, "Unsupported SIP version");
	} else {
		fault(m, 400, why, "Malformed request line");
	}
}

/* Trim SP, HTAB and the CRLF of folded lines on both sides. */
static struct sd_pl trim_lws(struct sd_pl pl)
{
	while (pl.l && is_lws(pl.p[0])) {
		pl.p++;
		pl.l--;
	}
	while (pl.l && is_lws(pl.p[pl.l - 1])) {
		pl.l--;
	}
	return pl;
}

/* Index header lines; folded continuation lines join the previous one.
 * On a fault the lines read so far stay indexed, so that an answer can
 * still be addressed. */
static int scan_headers(struct sip_msg *m, const char **pp, const char *end,
			const char **why)
{
	const char *p = *pp;

	while (p < end) {
		const char *e = line_end(p, end);
		const char *colon;
		struct sip_hdr *h;

		if (e == p) {
			/* Empty line: headers end, body follows. */
			*pp = skip_eol(p, end);
			return 0;
		}
		if ((*p == ' ' || *p == '\t') && m->nhdrs) {
			h = &m->hdrs[m->nhdrs - 1];
			h->value.l = (size_t)(e - h->value.p);
			h->value = trim_lws(h->value);
			p = skip_eol(e, end);
			continue;
		}
		colon = memchr(p, ':', (size_t)(e - p));
		if (!colon) {
			*why = "Malformed header line (no colon)";
			return EBADMSG;
		}
		if (m->nhdrs >= CONFIG_SIMPLED_MAX_HEADERS) {
			*why = "Too many header lines";
			return EBADMSG;
		}
		h = &m->hdrs[m->nhdrs++];
		h->name = sd_pl_trim(sd_pl(p, (size_t)(colon - p)));
		h->value = trim_lws(sd_pl(colon + 1, (size_t)(e - colon - 1)));
		h->id = hdr_id(h->name);
		if (!h->name.l) {
			*why = "Malformed header line (empty name)";
			return EBADMSG;
		}
		p = skip_eol(e, end);
	}
	*pp = end;
	*why = "Message ends inside the header section";
	return EBADMSG;
}

/* A NUL byte is text only as a quoted-pair inside a quoted string (RFC
 * 4475 intmeth); anywhere else in the header section it is a fault. */
static int nul_outside_quotes(const char *p, const char *end)
{
	int inq = 0;

	if (!memchr(p, '\0', (size_t)(end - p))) {
		return 0;
	}
	for (; p < end; p++) {
		if (inq && *p == '\\' && p + 1 < end) {
			p++;
		} else if (*p == '"') {
			inq = !inq;
		} else if (*p == '\n') {
			inq = 0;
		} else if (!*p) {
			return 1;
		}
	}
	return 0;
}

/* Find ;name=value among the parameters in s (a header value portion). */
struct sd_pl sip_param(struct sd_pl s, const char *name)
{
	size_t nl = strlen(name);
	size_t i = 0;

	while (i < s.l) {
		size_t j;

		if (s.p[i] != ';') {
			i++;
			continue;
		}
		i++;
		while (i < s.l && is_lws(s.p[i])) {
			i++;
		}
		if (i + nl <= s.l && !strncasecmp(s.p + i, name, nl)) {
			j = i + nl;
			while (j < s.l && is_lws(s.p[j])) {
				j++;
			}
			if (j < s.l && s.p[j] == '=') {
				size_t k = ++j;

				while (k < s.l && s.p[k] != ';' &&
				       s.p[k] != ',') {
					k++;
				}
				return trim_lws(sd_pl(s.p + j, k - j));
			}
			if (j == s.l || s.p[j] == ';' || s.p[j] == ',') {
				return sd_pl(s.p + j, 0);
			}
		}
	}
	return sd_pl(NULL, 0);
}

/* The header parameters of a From/To value (after the URI). */
static struct sd_pl addr_params(struct sd_pl v)
{
	const char *gt;
	const char *lt = memchr(v.p, '<', v.l);

	if (lt) {
		gt = memchr(lt, '>', v.l - (size_t)(lt - v.p));
		if (!gt) {
			return sd_pl(NULL, 0);
		}
		return sd_pl(gt + 1, v.l - (size_t)(gt + 1 - v.p));
	}
	gt = memchr(v.p, ';', v.l);
	return gt ? sd_pl(gt, v.l - (size_t)(gt - v.p)) : sd_pl(NULL, 0);
}

size_t sip_first_elem_len(struct sd_pl v)
{
	int inq = 0, inang = 0;
	size_t i;

	if (!v.l || !memchr(v.p, ',', v.l)) {
		return v.l; /* one element: most headers */
	}
	for (i = 0; i < v.l; i++) {
		char c = v.p[i];

		if (c == '"' && (i == 0 || v.p[i - 1] != '\\')) {
			inq = !inq;
		} else if (!inq && c == '<') {
			inang = 1;
		} else if (!inq && c == '>') {
			inang = 0;
		} else if (!inq && !inang && c == ',') {
			return i;
		}
	}
	return v.l;
}

struct sd_pl sip_next_elem(struct sd_pl *v)
{
	size_t n = sip_first_elem_len(*v);
	struct sd_pl e = sd_pl(v->p, n);

	*v = n < v->l ? sd_pl(v->p + n + 1, v->l - n - 1) :
			sd_pl(v->p + n, 0);
	return e;
}

/* A token of the Via's sent-protocol, after LWS. */
static struct sd_pl via_token(const char **pp, const char *e)
{
	const char *p = *pp, *t;

	while (p < e && is_lws(*p)) {
		p++;
	}
	for (t = p; p < e && is_token_char(*p); p++) {
	}
	*pp = p;
	return sd_pl(t, (size_t)(p - t));
}

/* LWS, then c. */
static int via_sep(const char **pp, const char *e, char c)
{
	const char *p = *pp;

	while (p < e && is_lws(*p)) {
		p++;
	}
	if (p == e || *p != c) {
		return 0;
	}
	*pp = p + 1;
	return 1;
}

/* Top Via: sent-protocol LWS sent-by *( SEMI via-params ), where
 * sent-protocol is name SLASH version SLASH transport and LWS may stand
 * around each slash, folded lines included (RFC 3261 25.1; RFC 4475
 * wsinv). The sent-by is read even when the protocol is not SIP/2.0, so
 * that the refusal can be addressed. */
static const char *parse_via(struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
	struct sd_pl name, version, transport, via;
	const char *p, *e, *host, *hend;
	uint32_t port;

	if (!h) {
		return "Missing Via header";
	}
	via = sd_pl(h->value.p, sip_first_elem_len(h->value));
	p = via.p;
	e = via.p + via.l;
	name = via_token(&p, e);
	if (!name.l || !via_sep(&p, e, '/')) {
		return "Malformed Via header";
	}
	version = via_token(&p, e);
	if (!version.l || !via_sep(&p, e, '/')) {
		return "Malformed Via header";
	}
	transport = via_token(&p, e);
	if (!transport.l || p == e || !is_lws(*p)) {
		return "Malformed Via header";
	}
	while (p < e && is_lws(*p)) {
		p++;
	}
	host = p;
	if (p < e && *p == '[') {
		while (p < e && *p != ']') {
			p++;
		}
		if (p < e) {
			p++;
		}
	} else {
		while (p < e && *p != ':' && *p != ';' && !is_lws(*p)) {
			p++;
		}
	}
	hend = p;
	if (hend == host) {
		return "Malformed Via header";
	}
	/* RFC 3261 18.2.2: 5060 over UDP, else the default port of the
	 * Via's transport. */
	m->via_port = sip_tp_stream(m->flow.tp) &&
		      !sd_pl_casecmp(transport, "TLS") ? 5061 : 5060;
	if (via_sep(&p, e, ':')) {
		const char *d;

		while (p < e && is_lws(*p)) {
			p++;
		}
		for (d = p; p < e && *p >= '0' && *p <= '9'; p++) {
		}
		if (sd_pl_u32(sd_pl(d, (size_t)(p - d)), &port) || port == 0 ||
		    port > 65535) {
			return "Malformed Via header (port)";
		}
		m->via_port = (uint16_t)port;
		hend = p;
	}
	m->sent_by = sd_pl(host, (size_t)(hend - host));
	while (p < e && is_lws(*p)) {
		p++;
	}
	if (p < e && *p != ';') {
		m->sent_by.l = 0;
		return "Malformed Via header";
	}
	m->branch = sip_param(sd_pl(p, (size_t)(e - p)), "branch");
	m->via_rport = sip_param(sd_pl(p, (size_t)(e - p)), "rport").p !=
		       NULL;
	if (sd_pl_casecmp(name, "SIP") || sd_pl_casecmp(version, "2.0")) {
		return "Malformed Via header (not SIP/2.0)";
	}
	return NULL;
}

/* CSeq: number LWS method. The method is read even when the number is
 * wrong, so that the 400 can be addressed (RFC 4475 scalar02). */
static const char *parse_cseq(struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CSEQ);
	const char *p, *e, *d;
	int bad;

	if (!h) {
		return "Missing CSeq header";
	}
	p = h->value.p;
	e = p + h->value.l;
	for (d = p; p < e && *p >= '0' && *p <= '9'; p++) {
	}
	bad = p == d || p == e || !is_lws(*p) ||
	      sd_pl_u32(sd_pl(d, (size_t)(p - d)), &m->cseq) ||
	      m->cseq > 0x7fffffffu;
	while (p < e && !is_lws(*p)) {
		p++;
	}
	m->cseq_method = trim_lws(sd_pl(p, (size_t)(e - p)));
	for (p = m->cseq_method.p; p < e; p++) {
		if (!is_token_char(*p)) {
			bad = 1;
		}
	}
	if (bad || !m->cseq_method.l) {
		return "Malformed CSeq header";
	}
	if (m->is_request && (m->cseq_method.l != m->method.l ||
			      memcmp(m->cseq_method.p, m->method.p,
				     m->method.l))) {
		return "CSeq method does not match the request line";
	}
	return NULL;
}

/* A header every message carries, not empty. @return NULL or the fault. */
static const char *required(const struct sip_msg *m, enum sip_hdr_id id,
			    const char *missing, struct sd_pl *value)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	if (!h || !h->value.l) {
		return missing;
	}
	*value = h->value;
	return NULL;
}

/* From or To, and its tag parameter. */
static const char *parse_addr_tag(const struct sip_msg *m,
				  enum sip_hdr_id id, const char *missing,
				  struct sd_pl *tag)
{
	struct sd_pl v;
	const char *fault = required(m, id, missing, &v);

	if (!fault) {
		*tag = sip_param(addr_params(v), "tag");
	}
	return fault;
}

/* Read every essential header; the first fault found is reported, but
 * all are read so that a 400 can still be addressed. */
static void essentials(struct sip_msg *m, const char **why)
{
	const char *f[5];
	int i;

	f[0] = parse_via(m);
	f[1] = parse_addr_tag(m, SIP_HDR_FROM, "Missing From header",
			      &m->from_tag);
	f[2] = parse_addr_tag(m, SIP_HDR_TO, "Missing To header",
			      &m->to_tag);
	f[3] = required(m, SIP_HDR_CALL_ID, "Missing Call-ID header",
			&m->call_id);
	f[4] = parse_cseq(m);
	for (i = 0; i < 5; i++) {
		if (f[i]) {
			fault(m, 400, why, f[i]);
		}
	}
}

/* Headers that may appear once (RFC 4475 multi01, mcl01). */
static const struct {
	enum sip_hdr_id id;
	const char *fault;
} single[] = {
	{SIP_HDR_FROM, "More than one From header"},
	{SIP_HDR_TO, "More than one To header"},
	{SIP_HDR_CALL_ID, "More than one Call-ID header"},
	{SIP_HDR_CSEQ, "More than one CSeq header"},
	{SIP_HDR_MAX_FORWARDS, "More than one Max-Forwards header"},
	{SIP_HDR_CONTENT_LENGTH, "More than one Content-Length header"},
	{SIP_HDR_CONTENT_TYPE, "More than one Content-Type header"},
};

/* An addr-spec outside <> cannot hold URI headers: its '?' would be
 * ambiguous (RFC 3261 20; RFC 4475 regbadct). */
static int bare_uri_headers(struct sd_pl v)
{
	while (v.l) {
		struct sd_pl el = sip_next_elem(&v);

		if (!memchr(el.p, '<', el.l) && !memchr(el.p, '"', el.l) &&
		    memchr(el.p, '?', el.l)) {
			return 1;
		}
	}
	return 0;
}

static void header_checks(struct sip_msg *m, const char **why)
{
	static const struct {
		enum sip_hdr_id id;
		const char *fault;
	} addr[] = {
		{SIP_HDR_FROM, "Malformed From header (URI with headers needs "
			       "<>)"},
		{SIP_HDR_TO, "Malformed To header (URI with headers needs <>)"},
		{SIP_HDR_CONTACT, "Malformed Contact header (URI with headers "
				  "needs <>)"},
	};
	size_t i;
	unsigned j, n;

	for (i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		for (j = 0, n = 0; j < m->nhdrs; j++) {
			n += m->hdrs[j].id == single[i].id;
		}
		if (n > 1) {
			fault(m, 400, why, single[i].fault);
		}
	}
	for (i = 0; i < sizeof(addr) / sizeof(addr[0]); i++) {
		for (j = 0; j < m->nhdrs; j++) {
			if (m->hdrs[j].id == addr[i].id &&
			    bare_uri_headers(m->hdrs[j].value)) {
				fault(m, 400, why, addr[i].fault);
			}
		}
	}
}

/* The Request-URI's scheme: 416 for one we do not serve, whatever else
 * the URI holds (RFC 4475 unkscm, novelsc); a SIP URI with headers is no
 * Request-URI (RFC 3261 19.1.5; RFC 4475 escruri). */
static void check_ruri(struct sip_msg *m, const char **why)
{
	struct sd_pl r = m->ruri;
	size_t i;

	for (i = 0; i < r.l && r.p[i] != ':'; i++) {
		char c = r.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (i && ((c >= '0' && c <= '9') || c == '+' || c == '-' ||
			     c == '.')))) {
			fault(m, 400, why, "Malformed Request-URI");
			return;
		}
	}
	if (!i || i == r.l) {
		fault(m, 400, why, "Malformed Request-URI");
		return;
	}
	r.l = i;
	if (sd_pl_casecmp(r, "sip") && sd_pl_casecmp(r, "sips")) {
		fault(m, 416, why, "Unsupported URI scheme");
		return;
	}
	/* The user part may hold '?' (RFC 4475 intmeth); headers start
	 * after the host, and '@' cannot appear in them. */
	for (i = m->ruri.l; i > r.l && m->ruri.p[i - 1] != '@'; i--) {
	}
	if (memchr(m->ruri.p + i, '?', m->ruri.l - i)) {
		fault(m, 400, why, "Request-URI with headers");
	}
}

/* A response can be matched by the client from the top Via and the CSeq
 * (RFC 3261 17.1.3), so a 400 is sent whenever both could be read. */
static int answerable(const struct sip_msg *m)
{
	return m->cseq_method.l && m->sent_by.l;
}

/* A message with a fault: kept in *mp when it is a request a 400 can
 * still be addressed for, freed otherwise. @return err */
static int refuse(struct sip_msg **mp, struct sip_msg *m, int err)
{
	if (m->is_request && m->method.l && answerable(m)) {
		if (!m->fault) {
			m->fault = 400;
		}
		*mp = m;
	} else {
		sip_msg_free(m);
	}
	return err;
}

void sip_response_flow(const struct sip_msg *m, struct sip_flow *f)
{
	*f = m->flow;
	/* UDP: to the source port only when the client asked (rport).
	 * TCP: the connection (conn/gen) while it lives; once it is gone,
	 * a new one to the sent-by port (RFC 3261 18.2.2). */
	if (sip_tp_stream(f->tp) || !m->via_rport) {
		f->peer.port = m->via_port;
	}
}

static void check_body(struct sip_msg *m, const char *body, const char *end,
		       const char **why)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH);
	size_t avail = (size_t)(end - body);
	uint32_t cl;

	if (!h) {
		/* Optional on UDP: the body is the rest of the datagram. */
		m->body = sd_pl(body, avail);
		return;
	}
	if (sd_pl_u32(h->value, &cl)) {
		fault(m, 400, why, "Malformed Content-Length header");
		return;
	}
	if (cl > avail) {
		fault(m, 400, why, "Content-Length is larger than the body");
		return;
	}
	m->body = sd_pl(body, cl);
}

static void check_max_forwards(struct sip_msg *m, const char **why)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	uint32_t mf;

	if (h && (sd_pl_u32(h->value, &mf) || mf > 255)) {
		fault(m, 400, why, "Malformed Max-Forwards header");
	}
}

int sip_frame_content_length(const char *hdrs, size_t len, uint32_t *cl)
{
	const char *p = hdrs, *end = hdrs + len;
	int seen = 0;

	*cl = 0;
	while (p < end) {
		const char *e = line_end(p, end);
		const char *colon = memchr(p, ':', (size_t)(e - p));

		if (colon && name_is(sd_pl_trim(sd_pl(p, (size_t)(colon - p))),
				     "Content-Length")) {
			uint32_t v;

			if (sd_pl_u32(trim_lws(sd_pl(colon + 1,
				(size_t)(e - colon - 1))), &v) ||
			    (seen && v != *cl)) {
				/* No way to know where the body ends
				 * (RFC 4475 ncl, mcl01). */
				return EBADMSG;
			}
			*cl = v;
			seen = 1;
		}
		p = skip_eol(e, end);
	}
	return seen ? 0 : ENOENT;
}

void sip_msg_free(struct sip_msg *m)
{
	if (!m) {
		return;
	}
	/* Everything libosip2 made for it (what it forgets to free too) was
	 * carved from the message's arena: no walk through the typed view. */
	mem_arena_release(&m->arena);
	mem_put(m);
}

/* Bytes carved for libosip2's view of a message of len bytes before a
 * chunk of SIP_OSIP_CHUNK more is taken: a request from a common client
 * needs less than its length (a copy of four header values and a block
 * for each of their URIs' parts and parameters). */
#define SIP_OSIP_ROOM(len) ((len) + 256)
#define SIP_OSIP_CHUNK 1024

/* A new message holding a copy of buf, and, when osip, the room its
 * libosip2 view is carved from: one block of the budget in all. */
static struct sip_msg *msg_new(const char *buf, size_t len,
			       const struct sip_flow *flow, int osip)
{
	size_t room = osip ? SIP_OSIP_ROOM(len) : 0;
	struct sip_msg *m = mem_alloc(sizeof(*m) + len + 1 + room);

	if (!m) {
		return NULL;
	}
	memset(m, 0, offsetof(struct sip_msg, auth_user));
	m->auth_user[0] = '\0';
	m->buf = (char *)(m + 1);
	memcpy(m->buf, buf, len);
	m->buf[len] = '\0';
	m->len = len;
	m->flow = *flow;
	mem_arena_bump(&m->arena, osip ? m->buf + len + 1 : NULL, room,
		       SIP_OSIP_CHUNK);
	return m;
}

/* Start line, header index and essentials. @return where the header
 * section ends (the body starts), or NULL when it is not complete. */
static const char *read_head(struct sip_msg *m, const char **why)
{
	const char *p = m->buf, *end = m->buf + m->len;
	const char *e = line_end(p, end);
	const char *w = NULL;

	scan_start_line(m, p, e, why);
	if (m->is_request && !m->method.l) {
		return NULL;
	}
	p = skip_eol(e, end);
	if (scan_headers(m, &p, end, &w)) {
		fault(m, 400, why, w);
		p = NULL;
	}
	essentials(m, why);
	header_checks(m, why);
	if (m->is_request && m->ruri.l) {
		check_ruri(m, why);
	}
	return p;
}

/* A header value as the C string libosip2 parses, carved from the
 * message's arena: every '%' written "%25" and a quoted NUL as a space.
 * libosip2 unescapes URI user, password, parameters and headers in place,
 * which would cut "bob%00evil" to "bob" and make %00 and %00%00 equal
 * (RFC 4475 escnull); on this text it leaves them escaped instead. */
static char *osip_cstr(struct sd_pl v)
{
	size_t n = 0, i, o = 0;
	char *t;

	if (!v.l || (!memchr(v.p, '%', v.l) && !memchr(v.p, '\0', v.l))) {
		t = mem_alloc(v.l + 1); /* nothing to change: most values */
		if (t) {
			if (v.l) {
				memcpy(t, v.p, v.l);
			}
			t[v.l] = '\0';
		}
		return t;
	}
	for (i = 0; i < v.l; i++) {
		n += v.p[i] == '%';
	}
	t = mem_alloc(v.l + 2 * n + 1);
	if (!t) {
		return NULL;
	}
	for (i = 0; i < v.l; i++) {
		if (v.p[i] == '%') {
			memcpy(t + o, "%25", 3);
			o += 3;
		} else {
			t[o++] = v.p[i] ? v.p[i] : ' ';
		}
	}
	t[o] = '\0';
	return t;
}

/* Each element of a Contact value (they are comma-separated) added to
 * the view. */
static int osip_contacts(osip_message_t *om, struct sd_pl v)
{
	while (v.l) {
		char *c = osip_cstr(sd_pl_trim(sip_next_elem(&v)));

		if (!c || osip_message_set_contact(om, c)) {
			return -1;
		}
	}
	return 0;
}

/* libosip2's typed view of the parts simpled reads through it of a
 * request: method, Request-URI, From, To and Contact (everything else,
 * and all of a response, is read from the header index). Only these are parsed: a full parse of every header
 * cost half the instructions of a REGISTER (bench/RESULTS.md). Call with
 * the message's arena current. */
static int osip_view(struct sip_msg *m)
{
	osip_message_t *om;
	char *meth, *ruri;
	unsigned i;
	int err = 0;

	if (osip_message_init(&om)) {
		return -1;
	}
	m->osip = om;
	meth = osip_cstr(m->method);
	if (!meth) {
		return -1;
	}
	osip_message_set_method(om, meth);
	ruri = osip_cstr(m->ruri);
	if (!ruri || osip_uri_init(&om->req_uri) ||
	    osip_uri_parse(om->req_uri, ruri)) {
		return -1;
	}
	for (i = 0; i < m->nhdrs && !err; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		char *v;

		switch (h->id) {
		case SIP_HDR_FROM:
		case SIP_HDR_TO:
			v = osip_cstr(h->value);
			err = !v || (h->id == SIP_HDR_FROM ?
				     osip_message_set_from(om, v) :
				     osip_message_set_to(om, v));
			break;
		case SIP_HDR_CONTACT:
			err = osip_contacts(om, h->value);
			break;
		default:
			break;
		}
	}
	return err ? -1 : 0;
}

int sip_msg_parse(struct sip_msg **mp, const char *buf, size_t len,
		  const struct sip_flow *flow, const char **why)
{
	struct sip_msg *m;
	struct mem_arena *prev;
	const char *body;

	*mp = NULL;
	*why = NULL;
	/* A response gets no libosip2 view: no room for one. */
	m = msg_new(buf, len, flow, len < 4 || memcmp(buf, "SIP/", 4));
	if (!m) {
		return ENOMEM;
	}
	body = read_head(m, why);
	if (body && nul_outside_quotes(m->buf, body)) {
		fault(m, 400, why, "Malformed header section (NUL byte)");
	}
	if (body && !m->fault) {
		check_body(m, body, m->buf + m->len, why);
	}
	if (body && !m->fault && m->is_request) {
		check_max_forwards(m, why);
	}
	if (m->fault || !body) {
		return refuse(mp, m, EBADMSG);
	}
	if (!m->is_request) {
		*mp = m; /* nothing reads a response through libosip2 */
		return 0;
	}
	/* The typed view; its allocations belong to the message's arena.
	 * libosip2 drops what it cannot allocate (a Contact's ;transport=)
	 * and may still report success: a view built while an allocation
	 * failed is not the message. */
	prev = mem_arena_enter(&m->arena);
	if (osip_view(m) || m->arena.failed) {
		m->osip = NULL; /* released with the arena */
	}
	mem_arena_leave(prev);
	if (!m->osip) {
		if (m->arena.failed) {
			return refuse(mp, m, ENOMEM);
		}
		fault(m, 400, why, "Malformed request");
		return refuse(mp, m, EBADMSG);
	}
	*mp = m;
	return 0;
}

int sip_msg_parse_head(struct sip_msg **mp, const char *buf, size_t len,
		       const struct sip_flow *flow)
{
	const char *why = NULL;
	struct sip_msg *m;

	*mp = NULL;
	m = msg_new(buf, len, flow, 0);
	if (!m) {
		return ENOMEM;
	}
	read_head(m, &why);
	if (!m->is_request || !m->method.l || !answerable(m) ||
	    !m->call_id.l || !sip_msg_hdr(m, SIP_HDR_FROM) ||
	    !sip_msg_hdr(m, SIP_HDR_TO)) {
		sip_msg_free(m);
		return EBADMSG;
	}
	*mp = m;
	return 0;
}

const char *sip_reason(int code)
{
	switch (code) {
	case 100: return "Trying";
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 412: return "Conditional Request Failed";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 440: return "Max-Breadth Exceeded";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 486: return "Busy Here";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	default:
		return code < 300 ? "OK" : code < 400 ? "Redirect" :
		       code < 500 ? "Client Error" :
		       code < 600 ? "Server Error" : "Global Failure";
	}
}
