/** @file sip_msg.c  Raw header index, essentials and libosip2 parse. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "sip"
#include "log.h"
#include "mem.h"
#include "sip_priv.h"

static const struct {
	const char *name;
	char compact;
	enum sip_hdr_id id;
} hdr_names[] = {
	{"Via", 'v', SIP_HDR_VIA},
	{"From", 'f', SIP_HDR_FROM},
	{"To", 't', SIP_HDR_TO},
	{"Call-ID", 'i', SIP_HDR_CALL_ID},
	{"CSeq", 0, SIP_HDR_CSEQ},
	{"Contact", 'm', SIP_HDR_CONTACT},
	{"Max-Forwards", 0, SIP_HDR_MAX_FORWARDS},
	{"Content-Length", 'l', SIP_HDR_CONTENT_LENGTH},
	{"Content-Type", 'c', SIP_HDR_CONTENT_TYPE},
	{"Expires", 0, SIP_HDR_EXPIRES},
	{"Route", 0, SIP_HDR_ROUTE},
	{"Record-Route", 0, SIP_HDR_RECORD_ROUTE},
	{"Require", 0, SIP_HDR_REQUIRE},
	{"Proxy-Require", 0, SIP_HDR_PROXY_REQUIRE},
};

static enum sip_hdr_id hdr_id(struct sd_pl name)
{
	size_t i;

	for (i = 0; i < sizeof(hdr_names) / sizeof(hdr_names[0]); i++) {
		if (name.l == 1 && hdr_names[i].compact &&
		    (name.p[0] | 0x20) == hdr_names[i].compact) {
			return hdr_names[i].id;
		}
		if (!sd_pl_casecmp(name, hdr_names[i].name)) {
			return hdr_names[i].id;
		}
	}
	return SIP_HDR_OTHER;
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	size_t i;

	for (i = 0; i < sizeof(hdr_names) / sizeof(hdr_names[0]); i++) {
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
		if (!sd_pl_casecmp(m->hdrs[i].name, name)) {
			return &m->hdrs[i];
		}
	}
	return NULL;
}

/* End of the line starting at p (points at CR or LF or end). */
static const char *line_end(const char *p, const char *end)
{
	while (p < end && *p != '\r' && *p != '\n') {
		p++;
	}
	return p;
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
	       (c >= '0' && c <= '9') || strchr("-.!%*_+`'~", c);
}

static int scan_start_line(struct sip_msg *m, const char *p,
			   const char *e, const char **why)
{
	const char *sp1 = memchr(p, ' ', (size_t)(e - p));
	const char *sp2;

	if (!sp1) {
		*why = "Malformed start line";
		return EBADMSG;
	}
	sp2 = memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1));
	if ((size_t)(e - p) > 7 && !strncmp(p, "SIP/2.0 ", 8)) {
		uint32_t code;

		m->is_request = 0;
		if (!sp2) {
			sp2 = e;
		}
		if (sd_pl_u32(sd_pl(sp1 + 1, (size_t)(sp2 - sp1 - 1)),
			      &code) || code < 100 || code > 699) {
			*why = "Malformed status code";
			return EBADMSG;
		}
		m->status = (int)code;
		m->reason = sp2 < e ? sd_pl(sp2 + 1, (size_t)(e - sp2 - 1)) :
				      sd_pl(e, 0);
		return 0;
	}
	m->is_request = 1;
	if (!sp2 || sp2 == sp1 + 1 || sp1 == p) {
		*why = "Malformed request line";
		return EBADMSG;
	}
	m->method = sd_pl(p, (size_t)(sp1 - p));
	m->ruri = sd_pl(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	m->version = sd_pl(sp2 + 1, (size_t)(e - sp2 - 1));
	for (p = m->method.p; p < sp1; p++) {
		if (!is_token_char(*p)) {
			*why = "Malformed method";
			return EBADMSG;
		}
	}
	if (sd_pl_casecmp(m->version, "SIP/2.0")) {
		*why = "Unsupported SIP version";
		return EBADMSG;
	}
	return 0;
}

/* Index header lines; folded continuation lines join the previous one. */
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
			h->value = sd_pl_trim(h->value);
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
		h->value = sd_pl_trim(sd_pl(colon + 1,
					    (size_t)(e - colon - 1)));
		h->id = hdr_id(h->name);
		if (!h->name.l) {
			*why = "Malformed header line (empty name)";
			return EBADMSG;
		}
		p = skip_eol(e, end);
	}
	*why = "Message ends inside the header section";
	return EBADMSG;
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
		while (i < s.l && (s.p[i] == ' ' || s.p[i] == '\t')) {
			i++;
		}
		if (i + nl <= s.l && !strncasecmp(s.p + i, name, nl)) {
			j = i + nl;
			while (j < s.l && (s.p[j] == ' ' || s.p[j] == '\t')) {
				j++;
			}
			if (j < s.l && s.p[j] == '=') {
				size_t k = ++j;

				while (k < s.l && s.p[k] != ';' &&
				       s.p[k] != ',') {
					k++;
				}
				return sd_pl_trim(sd_pl(s.p + j, k - j));
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

/* Top Via: "SIP/2.0/UDP host:port;params". */
static const char *parse_via(struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
	struct sd_pl v, via, params;
	const char *sp, *rb, *colon;
	uint32_t port;
	size_t i;

	if (!h) {
		return "Missing Via header";
	}
	via = sd_pl(h->value.p, sip_first_elem_len(h->value));
	sp = memchr(via.p, ' ', via.l);
	if (!sp || via.l < 12 || strncasecmp(via.p, "SIP/2.0/", 8)) {
		return "Malformed Via header";
	}
	v = sd_pl_trim(sd_pl(sp, via.l - (size_t)(sp - via.p)));
	for (i = 0; i < v.l && v.p[i] != ';'; i++) {
	}
	params = sd_pl(v.p + i, v.l - i);
	m->via_port = 5060;
	m->sent_by = sd_pl_trim(sd_pl(v.p, i));
	if (!m->sent_by.l) {
		return "Malformed Via header";
	}
	rb = memchr(m->sent_by.p, ']', m->sent_by.l);
	sp = rb ? rb : m->sent_by.p;
	colon = memchr(sp, ':', m->sent_by.l - (size_t)(sp - m->sent_by.p));
	if (colon) {
		if (sd_pl_u32(sd_pl(colon + 1, m->sent_by.l -
				    (size_t)(colon + 1 - m->sent_by.p)),
			      &port) || port == 0 || port > 65535) {
			m->sent_by.l = 0;
			return "Malformed Via header (port)";
		}
		m->via_port = (uint16_t)port;
	}
	m->branch = sip_param(params, "branch");
	m->via_rport = sip_param(params, "rport").p != NULL;
	return NULL;
}

static const char *parse_cseq(struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CSEQ);
	const char *sp;

	if (!h) {
		return "Missing CSeq header";
	}
	sp = memchr(h->value.p, ' ', h->value.l);
	if (!sp || sd_pl_u32(sd_pl(h->value.p, (size_t)(sp - h->value.p)),
			     &m->cseq) || m->cseq > 0x7fffffffu) {
		return "Malformed CSeq header";
	}
	m->cseq_method = sd_pl_trim(sd_pl(sp, h->value.l -
					  (size_t)(sp - h->value.p)));
	if (!m->cseq_method.l) {
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
static int essentials(struct sip_msg *m, const char **why)
{
	const char *fault[5];
	int i;

	fault[0] = parse_via(m);
	fault[1] = parse_addr_tag(m, SIP_HDR_FROM, "Missing From header",
				  &m->from_tag);
	fault[2] = parse_addr_tag(m, SIP_HDR_TO, "Missing To header",
				  &m->to_tag);
	fault[3] = required(m, SIP_HDR_CALL_ID, "Missing Call-ID header",
			    &m->call_id);
	fault[4] = parse_cseq(m);
	for (i = 0; i < 5; i++) {
		if (fault[i]) {
			*why = fault[i];
			return EBADMSG;
		}
	}
	return 0;
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
		*mp = m;
	} else {
		sip_msg_free(m);
	}
	return err;
}

void sip_response_flow(const struct sip_msg *m, struct sip_flow *f)
{
	*f = m->flow;
	if (f->tp == SIP_TP_UDP && !m->via_rport) {
		f->peer.port = m->via_port;
	}
}

static int check_body(struct sip_msg *m, const char *body, const char *end,
		      const char **why)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH);
	size_t avail = (size_t)(end - body);
	uint32_t cl;

	if (!h) {
		/* Optional on UDP: the body is the rest of the datagram. */
		m->body = sd_pl(body, avail);
		return 0;
	}
	if (sd_pl_u32(h->value, &cl)) {
		*why = "Malformed Content-Length header";
		return EBADMSG;
	}
	if (cl > avail) {
		*why = "Content-Length is larger than the body";
		return EBADMSG;
	}
	m->body = sd_pl(body, cl);
	return 0;
}

static int check_max_forwards(const struct sip_msg *m, const char **why)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	uint32_t mf;

	if (h && (sd_pl_u32(h->value, &mf) || mf > 255)) {
		*why = "Malformed Max-Forwards header";
		return EBADMSG;
	}
	return 0;
}

int sip_frame_content_length(const char *hdrs, size_t len, uint32_t *cl)
{
	const char *p = hdrs, *end = hdrs + len;

	*cl = 0;
	while (p < end) {
		const char *e = line_end(p, end);
		const char *colon = memchr(p, ':', (size_t)(e - p));

		if (colon) {
			struct sd_pl n = sd_pl_trim(sd_pl(p, (size_t)(colon -
								   p)));

			if (!sd_pl_casecmp(n, "Content-Length") ||
			    !sd_pl_casecmp(n, "l")) {
				return sd_pl_u32(sd_pl_trim(sd_pl(colon + 1,
					(size_t)(e - colon - 1))), cl);
			}
		}
		p = skip_eol(e, end);
	}
	return 0;
}

void sip_msg_free(struct sip_msg *m)
{
	struct mem_arena *prev;
	unsigned leaked;

	if (!m) {
		return;
	}
	prev = mem_arena_enter(&m->arena);
	if (m->osip) {
		osip_message_free(m->osip);
	}
	mem_arena_leave(prev);
	/* What libosip2 forgot to free goes with the message. */
	leaked = mem_arena_release(&m->arena);
	if (leaked) {
		LOG_DBG("released %u blocks libosip2 left behind", leaked);
	}
	mem_free(m->buf);
	mem_free(m);
}

int sip_msg_parse(struct sip_msg **mp, const char *buf, size_t len,
		  const struct sip_flow *flow, const char **why)
{
	struct sip_msg *m;
	struct mem_arena *prev;
	const char *p, *end, *e;
	int err;

	*mp = NULL;
	*why = NULL;
	m = mem_zalloc(sizeof(*m));
	if (!m) {
		return ENOMEM;
	}
	m->buf = mem_alloc(len + 1);
	if (!m->buf) {
		mem_free(m);
		return ENOMEM;
	}
	memcpy(m->buf, buf, len);
	m->buf[len] = '\0';
	m->len = len;
	m->flow = *flow;
	p = m->buf;
	end = m->buf + len;
	e = line_end(p, end);
	err = scan_start_line(m, p, e, why);
	/* After a bad version, keep reading so the 400 can be addressed. */
	if (!err || (m->is_request && m->ruri.l)) {
		const char *w2 = NULL;
		int e2;

		p = skip_eol(e, end);
		e2 = scan_headers(m, &p, end, &w2);
		if (!e2) {
			e2 = essentials(m, &w2);
		}
		if (!e2) {
			e2 = check_body(m, p, end, &w2);
		}
		if (!e2 && m->is_request) {
			e2 = check_max_forwards(m, &w2);
		}
		if (!err && e2) {
			err = e2;
			*why = w2;
		}
	}
	if (err) {
		return refuse(mp, m, err);
	}
	/* The typed view; its allocations belong to the message's arena. */
	prev = mem_arena_enter(&m->arena);
	if (osip_message_init(&m->osip) == 0) {
		/* libosip2 drops what it cannot allocate (a Contact's
		 * ;transport=) and may still report success: a view built
		 * while an allocation failed is not the message. */
		if (osip_message_parse(m->osip, m->buf, len) != 0 ||
		    m->arena.failed) {
			osip_message_free(m->osip);
			m->osip = NULL;
		}
	}
	mem_arena_leave(prev);
	if (!m->osip) {
		if (m->arena.failed) {
			return refuse(mp, m, ENOMEM);
		}
		*why = "Malformed request";
		return refuse(mp, m, EBADMSG);
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
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 486: return "Busy Here";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 513: return "Message Too Large";
	default:
		return code < 300 ? "OK" : code < 400 ? "Redirect" :
		       code < 500 ? "Client Error" :
		       code < 600 ? "Server Error" : "Global Failure";
	}
}
