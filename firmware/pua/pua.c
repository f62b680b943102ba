/** @file pua.c  PUBLISH and SUBSCRIBE for presentities of other domains,
 * sent through the outbound proxy on behalf of `simpled ctl` (pua.h).
 *
 * A publication or subscription is one pool object holding what its next
 * request needs: the ETag (RFC 3903 4.4) or the dialog (Call-ID, tags,
 * remote target, route set: RFC 6665 4.1.2), the body a 412 makes us send
 * again, and one timer. That timer refreshes it at four fifths of the
 * granted time, retries a refresh that failed every PUA_RETRY_S while
 * time is left, and drops it when none is. One request of each object is
 * in flight at a time; its final answer goes to whoever asked (ctl) or,
 * for a refresh, only to the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "pua"
#include "log.h"
#include "port.h"
#include "pua.h"
#include "sip.h"
#include "sip_auth.h"
#include "tmr.h"

#define MOD_DEF "pua.def"
#include "mod_decl.h"

#define PUA_RETRY_S 10
/* A subscription ended by us waits this long for its last NOTIFY. */
#define PUA_LINGER_S 5
#define PUA_TAG_LEN 32
#define PUA_ID_LEN 64
#define PUA_EVENT_LEN 32
#define PUA_ROUTE_LEN 512

/* What both kinds share: the names, the next hop, the request in flight. */
struct pua_obj {
	struct pua_obj *next;	/* in pubs or subs */
	struct tmr tmr;
	pua_h *h;		/* who waits for the request in flight */
	void *arg;
	int busy;		/* a request is in flight */
	int auth_tried;		/* its challenge was answered once */
	int retried_423;
	int ending;		/* expires 0 was asked */
	int gone;		/* ended while busy: freed by its answer */
	uint32_t cseq;
	uint32_t deadline_ms;	/* when what was granted runs out */
	unsigned expires;	/* asked for */
	char proxy[CONFIG_SIMPLED_MAX_URI_LEN];	/* "" the outbound proxy */
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];	/* Request-URI, To */
	char event[PUA_EVENT_LEN];
	char call_id[64];
	char from_tag[PUA_TAG_LEN + 1];
};

struct pua_pub {
	struct pua_obj o;	/* first: the pool object is both */
	char id[PUA_ID_LEN];
	char etag[PUA_TAG_LEN * 2];
	char ctype[64];
	char hdrs[256];
	char body[CONFIG_SIMPLED_PUA_MAX_BODY];
	size_t blen;
	int send_body;		/* the next request carries the body */
};

struct pua_sub {
	struct pua_obj o;
	char watcher[CONFIG_SIMPLED_MAX_URI_LEN];
	char to_tag[PUA_TAG_LEN * 2];
	char target[CONFIG_SIMPLED_MAX_URI_LEN];	/* remote target */
	char route[PUA_ROUTE_LEN];	/* "Route: ...\r\n" or "" */
	char sub_state[64];
	char ctype[64];
	char body[CONFIG_SIMPLED_PUA_MAX_BODY];
	int truncated;
	int established;	/* a 2xx came */
};

static struct hook_list observers;

static struct pua_obj *pubs, *subs;	/* the live objects of each kind */
static struct hook_list observers;

/* ------------------------------------------------------------ objects */

static void unlink_obj(struct pua_obj **head, struct pua_obj *o)
{
	for (; *head; head = &(*head)->next) {
		if (*head == o) {
			*head = o->next;
			return;
		}
	}
}

static void pub_free(struct pua_pub *p)
{
	tmr_cancel(&p->o.tmr);
	unlink_obj(&pubs, &p->o);
	pool_put(&pua_pub_pool, p);
}

static void sub_free(struct pua_sub *s)
{
	tmr_cancel(&s->o.tmr);
	unlink_obj(&subs, &s->o);
	pool_put(&pua_sub_pool, s);
}

static struct pua_pub *pub_find(const char *uri, const char *event,
				const char *id)
{
	struct pua_obj *o;

	for (o = pubs; o; o = o->next) {
		struct pua_pub *p = (struct pua_pub *)o;

		if (!strcmp(o->uri, uri) && !strcmp(o->event, event) &&
		    !strcmp(p->id, id)) {
			return p;
		}
	}
	return NULL;
}

static struct pua_sub *sub_find(const char *presentity, const char *watcher,
				const char *event)
{
	struct pua_obj *o;

	for (o = subs; o; o = o->next) {
		struct pua_sub *s = (struct pua_sub *)o;

		if (!strcmp(o->uri, presentity) && !strcmp(o->event, event) &&
		    (!watcher || !strcmp(s->watcher, watcher))) {
			return s;
		}
	}
	return NULL;
}

/* The subscription a NOTIFY belongs to: our Call-ID, our tag in To. */
static struct pua_sub *sub_by_dialog(const struct sip_msg *m)
{
	struct pua_obj *o;

	for (o = subs; o; o = o->next) {
		if (!sd_pl_casecmp(m->call_id, o->call_id) &&
		    !sd_pl_casecmp(m->to_tag, o->from_tag)) {
			return (struct pua_sub *)o;
		}
	}
	return NULL;
}

static int next_hop(const struct pua_obj *o, struct sip_flow *f)
{
	return o->proxy[0] ? sip_uri_flow(o->proxy, f) : sip_proxy_flow(f);
}

/* The request in flight ended: tell whoever asked for it. */
static void answer(struct pua_obj *o, int code, const char *reason,
		   const char *etag, unsigned expires)
{
	struct pua_result r = {code, reason, etag ? etag : "", expires};
	pua_h *h = o->h;
	void *arg = o->arg;

	o->h = NULL;
	o->arg = NULL;
	if (h) {
		h(&r, arg);
	}
}

/* A number header of resp (Expires, Min-Expires), or dflt. */
static unsigned hdr_num(const struct sip_msg *resp, const char *name,
			unsigned dflt)
{
	const struct sip_hdr *h = resp ? sip_msg_hdr_name(resp, name) : NULL;
	uint32_t v;

	return h && !sd_pl_u32(h->value, &v) ? v : dflt;
}

/* The refresh (or retry) timer: four fifths of the granted time. */
static void arm(struct pua_obj *o, unsigned granted_s, tmr_h *h)
{
	o->deadline_ms = port_now_ms() + granted_s * 1000u;
	tmr_start(&o->tmr, granted_s * 800u > 1000u ? granted_s * 800u :
		  1000u, h, o);
}

/* Seconds o has left of what was granted, on now. */
static unsigned left_s(const struct pua_obj *o, uint32_t now)
{
	return tmr_before(now, o->deadline_ms) ?
	       (o->deadline_ms - now) / 1000u : 0;
}

/* After a failed refresh: again in PUA_RETRY_S, or at the deadline.
 * @return 0, or ETIMEDOUT when no time is left. */
static int retry_later(struct pua_obj *o, tmr_h *h)
{
	uint32_t now = port_now_ms(), left;

	if (!tmr_before(now, o->deadline_ms)) {
		return ETIMEDOUT;
	}
	left = o->deadline_ms - now;
	tmr_start(&o->tmr, left < PUA_RETRY_S * 1000u ? left :
		  PUA_RETRY_S * 1000u, h, o);
	return 0;
}

/* Answer a challenge (401 or 407 for our `config upstream` realm) once
 * per request. @return 1 when the request went again. */
static int challenged(struct pua_obj *o, int code, const struct sip_msg *resp,
		      const char *method, const char *ruri,
		      int (*send)(struct pua_obj *o, const char *auth))
{
	char auth[1024];

	if (!resp || (code != 401 && code != 407) || o->auth_tried ||
	    sip_upstream_answer(resp, method, ruri, 1, auth, sizeof(auth))) {
		return 0;
	}
	o->auth_tried = 1;
	return !send(o, auth);
}

/* 423 Interval Too Brief: once more with the Min-Expires asked for. */
static int too_brief(struct pua_obj *o, int code, const struct sip_msg *resp,
		     int (*send)(struct pua_obj *o, const char *auth))
{
	unsigned min = hdr_num(resp, "Min-Expires", 0);

	if (code != 423 || o->retried_423 || min <= o->expires) {
		return 0;
	}
	o->retried_423 = 1;
	o->expires = min;
	o->auth_tried = 0; /* a new request: its challenge is answered too */
	return !send(o, NULL);
}

static void reason_of(const struct sip_msg *resp, char *buf, size_t size)
{
	buf[0] = '\0';
	if (resp && sd_pl_copy(resp->reason, buf, size)) {
		buf[0] = '\0';
	}
}

/* Header lines from a program: each ends in CRLF and none is empty (no
 * end of the head of ours). */
static int hdrs_ok(const char *h, char *out, size_t size)
{
	size_t n;

	if (!h || !h[0]) {
		out[0] = '\0';
		return 0;
	}
	n = strlen(h);
	if (n + 3 > size || strstr(h, "\r\n\r\n") || h[0] == '\r' ||
	    h[0] == '\n') {
		return EINVAL;
	}
	snprintf(out, size, "%s%s", h,
		 n >= 2 && !strcmp(h + n - 2, "\r\n") ? "" : "\r\n");
	return 0;
}

/* A new object's dialog identifiers: a publication keeps its Call-ID
 * and From tag over its refreshes, as a subscription must. */
static void new_ids(struct pua_obj *o)
{
	sd_rand_hex(o->from_tag, PUA_TAG_LEN);
	sd_rand_hex(o->call_id, 32);
	strcpy(o->call_id + 32, "@pua");
}

static int copy_name(char *dst, size_t size, const char *src)
{
	if (!src || strlen(src) >= size) {
		return EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* A request asked for (ctl): o's next one, with its next hop and
 * expiry, whose final answer goes to h. */
static int ask(struct pua_obj *o, const char *proxy, unsigned expires,
	       int (*send)(struct pua_obj *o, const char *auth), pua_h *h,
	       void *arg)
{
	static char was_proxy[CONFIG_SIMPLED_MAX_URI_LEN];
	unsigned was_expires = o->expires;
	int was_ending = o->ending, err;

	memcpy(was_proxy, o->proxy, sizeof(was_proxy));
	copy_name(o->proxy, sizeof(o->proxy), proxy ? proxy : "");
	o->expires = expires;
	o->ending = expires == 0;
	o->auth_tried = 0;
	o->retried_423 = 0;
	err = send(o, NULL);
	if (err) {
		/* Nothing was asked: it stands as it was. */
		memcpy(o->proxy, was_proxy, sizeof(was_proxy));
		o->expires = was_expires;
		o->ending = was_ending;
		return err;
	}
	o->h = h;
	o->arg = arg;
	return 0;
}

/* ------------------------------------------------------------ PUBLISH */

static void on_pub_answer(int code, const struct sip_msg *resp, void *arg);
static void pub_timer(void *arg);

static int pub_send(struct pua_obj *o, const char *auth)
{
	struct pua_pub *p = (struct pua_pub *)o;
	static char hdrs[2048];
	struct sip_request r = {0};
	struct sip_flow f;
	struct sd_buf b;
	char from[CONFIG_SIMPLED_MAX_URI_LEN + PUA_TAG_LEN + 8];
	char to[CONFIG_SIMPLED_MAX_URI_LEN + 2];
	int err = next_hop(o, &f);

	if (err) {
		return err;
	}
	snprintf(from, sizeof(from), "<%s>;tag=%s", o->uri, o->from_tag);
	snprintf(to, sizeof(to), "<%s>", o->uri);
	sd_buf_init(&b, hdrs, sizeof(hdrs));
	sd_buf_printf(&b, "Event: %s\r\nExpires: %u\r\n", o->event,
		      o->expires);
	if (p->etag[0]) {
		sd_buf_printf(&b, "SIP-If-Match: %s\r\n", p->etag);
	}
	sd_buf_str(&b, p->hdrs);
	sd_buf_str(&b, auth ? auth : "");
	if (b.overflow) {
		return EMSGSIZE;
	}
	r.method = "PUBLISH";
	r.ruri = o->uri;
	r.from = from;
	r.to = to;
	r.call_id = o->call_id;
	r.cseq = ++o->cseq;
	r.hdrs = hdrs;
	if (p->send_body && !o->ending) {
		r.ctype = p->ctype;
		r.body = p->body;
		r.blen = p->blen;
	}
	err = sip_request_send(&r, &f, on_pub_answer, p);
	o->busy = !err;
	return err;
}

static void on_pub_answer(int code, const struct sip_msg *resp, void *arg)
{
	struct pua_pub *p = arg;
	struct pua_obj *o = &p->o;
	const struct sip_hdr *h;
	char reason[64];
	unsigned granted;

	o->busy = 0;
	if (o->gone) {
		answer(o, code, NULL, "", 0);
		pub_free(p);
		return;
	}
	if (challenged(o, code, resp, "PUBLISH", o->uri, pub_send) ||
	    too_brief(o, code, resp, pub_send)) {
		return;
	}
	if (code == 412 && p->etag[0] && p->blen && !o->ending) {
		/* Our ETag is unknown there (it restarted, it expired):
		 * publish the document anew (RFC 3903 4.4). */
		p->etag[0] = '\0';
		p->send_body = 1;
		o->auth_tried = 0;
		if (!pub_send(o, NULL)) {
			return;
		}
	}
	o->auth_tried = 0;
	o->retried_423 = 0;
	reason_of(resp, reason, sizeof(reason));
	if (code >= 200 && code < 300) {
		h = sip_msg_hdr_name(resp, "SIP-ETag");
		if (h && sd_pl_copy(h->value, p->etag, sizeof(p->etag))) {
			p->etag[0] = '\0';
		}
		granted = o->ending ? 0 : hdr_num(resp, "Expires", o->expires);
		stat_inc(*(o->h ? &pua_stat_published : &pua_stat_refreshed));
		answer(o, code, NULL, p->etag, granted);
		if (!granted) {
			LOG_INF("publication of %s removed", o->uri);
			pub_free(p);
			return;
		}
		p->send_body = 0;
		arm(o, granted, pub_timer);
		return;
	}
	stat_inc(pua_stat_failed);
	LOG_WRN("PUBLISH of %s: %d %s", o->uri, code,
		reason[0] ? reason : sip_reason(code));
	if (o->h) {
		answer(o, code, reason[0] ? reason : NULL, "", 0);
		if (!p->etag[0] || o->ending ||
		    !tmr_before(port_now_ms(), o->deadline_ms)) {
			pub_free(p); /* nothing stands there */
		}
		return;
	}
	if (code == 412 || retry_later(o, pub_timer)) {
		LOG_WRN("publication of %s lost", o->uri);
		pub_free(p);
	}
}

/* The publication's time is up: it goes, at once or, while a request
 * of it is out, when that request ends (its answer still reaches whoever
 * asked). */
static void pub_end(struct pua_pub *p)
{
	LOG_WRN("publication of %s expired unrefreshed", p->o.uri);
	if (p->o.busy) {
		p->o.gone = 1;
		return;
	}
	pub_free(p);
}

static void pub_timer(void *arg)
{
	struct pua_pub *p = arg;

	if (!tmr_before(port_now_ms(), p->o.deadline_ms)) {
		pub_end(p);
		return;
	}
	if ((p->o.busy || pub_send(&p->o, NULL)) &&
	    retry_later(&p->o, pub_timer)) {
		pub_end(p);
	}
}

int pua_publish(const struct pua_pub_req *q, pua_h *h, void *arg)
{
	static struct {
		char etag[PUA_TAG_LEN * 2], ctype[64], hdrs[256];
		char body[CONFIG_SIMPLED_PUA_MAX_BODY];
		size_t blen;
		int send_body;
	} was;
	const char *id = q->id ? q->id : "";
	char hdrs[sizeof(((struct pua_pub *)0)->hdrs)];
	struct pua_pub *p;
	int fresh = 0, err;

	if (strlen(q->uri) >= CONFIG_SIMPLED_MAX_URI_LEN ||
	    strlen(q->event) >= PUA_EVENT_LEN || strlen(id) >= PUA_ID_LEN ||
	    (q->etag && strlen(q->etag) >= sizeof(p->etag)) ||
	    (q->proxy && strlen(q->proxy) >= sizeof(p->o.proxy)) ||
	    (q->body && (!q->ctype || strlen(q->ctype) >= sizeof(p->ctype))) ||
	    hdrs_ok(q->hdrs, hdrs, sizeof(hdrs))) {
		return EINVAL;
	}
	if (q->body && strlen(q->body) > sizeof(p->body)) {
		return EMSGSIZE;
	}
	p = pub_find(q->uri, q->event, id);
	if (p && p->o.busy) {
		return EBUSY;
	}
	if (!p) {
		p = pool_get(&pua_pub_pool);
		if (!p) {
			return ENOSPC;
		}
		copy_name(p->o.uri, sizeof(p->o.uri), q->uri);
		copy_name(p->o.event, sizeof(p->o.event), q->event);
		copy_name(p->id, sizeof(p->id), id);
		new_ids(&p->o);
		p->o.next = pubs;
		pubs = &p->o;
		fresh = 1;
	}
	if (!fresh) {
		/* What a request that cannot be sent must not change. */
		memcpy(was.etag, p->etag, sizeof(was.etag));
		memcpy(was.ctype, p->ctype, sizeof(was.ctype));
		memcpy(was.hdrs, p->hdrs, sizeof(was.hdrs));
		memcpy(was.body, p->body, p->blen);
		was.blen = p->blen;
		was.send_body = p->send_body;
	}
	if (q->etag) {
		copy_name(p->etag, sizeof(p->etag), q->etag);
	}
	if (q->body) {
		copy_name(p->ctype, sizeof(p->ctype), q->ctype);
		p->blen = strlen(q->body);
		memcpy(p->body, q->body, p->blen);
		p->send_body = 1;
	}
	memcpy(p->hdrs, hdrs, sizeof(hdrs));
	err = ask(&p->o, q->proxy, q->expires, pub_send, h, arg);
	if (err && fresh) {
		pub_free(p);
	} else if (err) {
		memcpy(p->etag, was.etag, sizeof(was.etag));
		memcpy(p->ctype, was.ctype, sizeof(was.ctype));
		memcpy(p->hdrs, was.hdrs, sizeof(was.hdrs));
		memcpy(p->body, was.body, was.blen);
		p->blen = was.blen;
		p->send_body = was.send_body;
	}
	return err;
}

void pua_pub_walk(void (*h)(const struct pua_pub_view *v, void *arg),
		  void *arg)
{
	uint32_t now = port_now_ms();
	struct pua_obj *o;

	for (o = pubs; o; o = o->next) {
		struct pua_pub *p = (struct pua_pub *)o;
		struct pua_pub_view v = {o->uri, o->event, p->id, p->etag, 0};

		if (p->etag[0]) { /* stands there */
			v.expires_left = left_s(o, now);
			h(&v, arg);
		}
	}
}

/* ---------------------------------------------------------- SUBSCRIBE */

static void on_sub_answer(int code, const struct sip_msg *resp, void *arg);
static void sub_timer(void *arg);

/* What each package's NOTIFY bodies are (RFC 6665 7.2: Accept). */
static const char *accept_of(const char *event)
{
	static const char *const known[][2] = {
		{"presence", "application/pidf+xml"},
		{"presence.winfo", "application/watcherinfo+xml"},
		{"message-summary", "application/simple-message-summary"},
	};
	unsigned i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (!strcmp(event, known[i][0])) {
			return known[i][1];
		}
	}
	return NULL;
}

static const char *sub_ruri(const struct pua_sub *s)
{
	return s->target[0] ? s->target : s->o.uri;
}

static int sub_send(struct pua_obj *o, const char *auth)
{
	struct pua_sub *s = (struct pua_sub *)o;
	static char hdrs[2048];
	char from[CONFIG_SIMPLED_MAX_URI_LEN + PUA_TAG_LEN + 8];
	char to[CONFIG_SIMPLED_MAX_URI_LEN + sizeof(s->to_tag) + 8];
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];
	const char *acc = accept_of(o->event);
	struct sip_request r = {0};
	struct sip_flow f;
	struct sd_buf b;
	int err = next_hop(o, &f);

	if (err) {
		return err;
	}
	snprintf(from, sizeof(from), "<%s>;tag=%s", s->watcher, o->from_tag);
	snprintf(to, sizeof(to), "<%s>%s%s", o->uri, s->to_tag[0] ?
		 ";tag=" : "", s->to_tag);
	sip_local_contact(&f, contact, sizeof(contact));
	sd_buf_init(&b, hdrs, sizeof(hdrs));
	sd_buf_printf(&b, "%sContact: <%s>\r\nEvent: %s\r\nExpires: %u\r\n",
		      s->route, contact, o->event, o->expires);
	if (acc) {
		sd_buf_printf(&b, "Accept: %s\r\n", acc);
	}
	sd_buf_str(&b, auth ? auth : "");
	if (b.overflow) {
		return EMSGSIZE;
	}
	r.method = "SUBSCRIBE";
	r.ruri = sub_ruri(s);
	r.from = from;
	r.to = to;
	r.call_id = o->call_id;
	r.cseq = ++o->cseq;
	r.hdrs = hdrs;
	err = sip_request_send(&r, &f, on_sub_answer, s);
	o->busy = !err;
	return err;
}

/* The route set of a 2xx: its Record-Route entries, last first (RFC
 * 3261 12.1.2), as a Route header line. */
static void route_set(struct pua_sub *s, const struct sip_msg *resp)
{
	struct sd_pl rr[8];
	unsigned i, n = 0;
	struct sd_buf b;

	for (i = 0; i < resp->nhdrs && n < 8; i++) {
		const struct sip_hdr *h = &resp->hdrs[i];
		const char *p = h->value.p, *end = p + h->value.l, *start = p;
		int in_angle = 0;

		if (h->id != SIP_HDR_RECORD_ROUTE) {
			continue;
		}
		for (; p <= end && n < 8; p++) {
			if (p == end || (*p == ',' && !in_angle)) {
				rr[n] = sd_pl_trim(sd_pl(start, (size_t)(p -
								 start)));
				n += rr[n].l != 0;
				start = p + 1;
			} else if (*p == '<' || *p == '>') {
				in_angle = *p == '<';
			}
		}
	}
	s->route[0] = '\0';
	if (!n) {
		return;
	}
	sd_buf_init(&b, s->route, sizeof(s->route));
	sd_buf_str(&b, "Route: ");
	while (n--) {
		sd_buf_pl(&b, rr[n]);
		sd_buf_str(&b, n ? ", " : "\r\n");
	}
	if (b.overflow) {
		s->route[0] = '\0';
		LOG_WRN("subscription to %s: its route set is too long",
			s->o.uri);
	}
}

/* The remote target: the URI of the 2xx's Contact. */
static void remote_target(struct pua_sub *s, const struct sip_msg *resp)
{
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	struct sd_pl v;
	const char *lt, *gt;

	s->target[0] = '\0';
	if (!h) {
		return;
	}
	v = h->value;
	lt = memchr(v.p, '<', v.l);
	gt = lt ? memchr(lt, '>', v.l - (size_t)(lt - v.p)) : NULL;
	if (lt && gt) {
		v = sd_pl(lt + 1, (size_t)(gt - lt - 1));
	} else {
		v.l = strcspn(v.p, ";,") < v.l ? strcspn(v.p, ";,") : v.l;
	}
	if (sd_pl_copy(sd_pl_trim(v), s->target, sizeof(s->target))) {
		s->target[0] = '\0';
	}
}

/* What the last NOTIFY of s said, as observers and lists see it. */
static struct pua_state state_of(const struct pua_sub *s)
{
	return (struct pua_state){s->o.uri, s->watcher, s->o.event,
				  s->sub_state, s->body, s->ctype,
				  s->truncated};
}

static void tell(const struct pua_sub *s)
{
	struct pua_state st = state_of(s);

	hook_run(&observers, &st);
}

/* The subscription is over (refused, terminated, expired). */
static void sub_end(struct pua_sub *s, const char *why)
{
	LOG_INF("subscription of %s to %s (%s) ended: %s", s->watcher,
		s->o.uri, s->o.event, why);
	if (strncmp(s->sub_state, "terminated", 10)) {
		snprintf(s->sub_state, sizeof(s->sub_state),
			 "terminated;reason=%s", why);
		tell(s);
	}
	if (s->o.busy) {
		s->o.gone = 1;
		return;
	}
	sub_free(s);
}

static void sub_linger(void *arg)
{
	sub_free(arg);
}

static void on_sub_answer(int code, const struct sip_msg *resp, void *arg)
{
	struct pua_sub *s = arg;
	struct pua_obj *o = &s->o;
	char reason[64];
	unsigned granted;

	o->busy = 0;
	if (o->gone) {
		answer(o, code, NULL, NULL, 0);
		sub_free(s);
		return;
	}
	if (challenged(o, code, resp, "SUBSCRIBE", sub_ruri(s), sub_send) ||
	    too_brief(o, code, resp, sub_send)) {
		return;
	}
	o->auth_tried = 0;
	o->retried_423 = 0;
	reason_of(resp, reason, sizeof(reason));
	if (code >= 200 && code < 300) {
		if (!s->established) {
			s->established = 1;
			/* A NOTIFY that came first made the dialog (RFC
			 * 6665 4.1.2.4): its tag stands. */
			if (!s->to_tag[0] &&
			    sd_pl_copy(resp->to_tag, s->to_tag,
				       sizeof(s->to_tag))) {
				s->to_tag[0] = '\0';
			}
			remote_target(s, resp);
			route_set(s, resp);
		}
		granted = o->ending ? 0 : hdr_num(resp, "Expires", o->expires);
		stat_inc(*(o->h ? &pua_stat_subscribed : &pua_stat_refreshed));
		answer(o, code, NULL, NULL, granted);
		if (!granted) {
			/* Its last NOTIFY may still come: wait a little. */
			o->ending = 1;
			tmr_start(&o->tmr, PUA_LINGER_S * 1000u, sub_linger, s);
			return;
		}
		arm(o, granted, sub_timer);
		return;
	}
	stat_inc(pua_stat_failed);
	LOG_WRN("SUBSCRIBE of %s to %s: %d %s", s->watcher, o->uri, code,
		reason[0] ? reason : sip_reason(code));
	if (o->h) {
		answer(o, code, reason[0] ? reason : NULL, NULL, 0);
		if (!s->established || o->ending) {
			sub_end(s, "refused");
		}
		return;
	}
	if (code == 481 || retry_later(o, sub_timer)) {
		sub_end(s, code == 481 ? "gone" : "timeout");
	}
}

static void sub_timer(void *arg)
{
	struct pua_sub *s = arg;

	if (!tmr_before(port_now_ms(), s->o.deadline_ms)) {
		sub_end(s, "timeout");
		return;
	}
	if ((s->o.busy || sub_send(&s->o, NULL)) &&
	    retry_later(&s->o, sub_timer)) {
		sub_end(s, "timeout");
	}
}

int pua_subscribe(const struct pua_sub_req *q, pua_h *h, void *arg)
{
	struct pua_sub *s;
	int fresh = 0, err;

	if (strlen(q->presentity) >= CONFIG_SIMPLED_MAX_URI_LEN ||
	    strlen(q->watcher) >= CONFIG_SIMPLED_MAX_URI_LEN ||
	    strlen(q->event) >= PUA_EVENT_LEN ||
	    (q->proxy && strlen(q->proxy) >= CONFIG_SIMPLED_MAX_URI_LEN)) {
		return EINVAL;
	}
	s = sub_find(q->presentity, q->watcher, q->event);
	if (s && (s->o.busy || s->o.ending || s->o.gone)) {
		return EBUSY;
	}
	if (!s) {
		if (!q->expires) {
			return ENOENT; /* nothing to end */
		}
		s = pool_get(&pua_sub_pool);
		if (!s) {
			return ENOSPC;
		}
		copy_name(s->o.uri, sizeof(s->o.uri), q->presentity);
		copy_name(s->watcher, sizeof(s->watcher), q->watcher);
		copy_name(s->o.event, sizeof(s->o.event), q->event);
		new_ids(&s->o);
		s->o.next = subs;
		subs = &s->o;
		fresh = 1;
	}
	err = ask(&s->o, q->proxy, q->expires, sub_send, h, arg);
	if (err && fresh) {
		sub_free(s);
	}
	return err;
}

/* A NOTIFY of one of our subscriptions: keep its state, tell observers,
 * answer 200; 481 for a subscription we do not have. */
static void on_notify(struct sip_stx *st, const struct sip_msg *req)
{
	struct pua_sub *s = sub_by_dialog(req);
	const struct sip_hdr *h;

	if (!s) {
		sip_reply(st, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	stat_inc(pua_stat_notifies);
	if (!s->to_tag[0] && sd_pl_copy(req->from_tag, s->to_tag,
					sizeof(s->to_tag))) {
		s->to_tag[0] = '\0'; /* NOTIFY before the 2xx (RFC 6665) */
	}
	h = sip_msg_hdr_name(req, "Subscription-State");
	if (!h || sd_pl_copy(h->value, s->sub_state, sizeof(s->sub_state))) {
		s->sub_state[0] = '\0';
	}
	h = sip_msg_hdr(req, SIP_HDR_CONTENT_TYPE);
	if (!h || sd_pl_copy(h->value, s->ctype, sizeof(s->ctype))) {
		s->ctype[0] = '\0';
	}
	s->truncated = sd_pl_copy(req->body, s->body, sizeof(s->body)) != 0;
	if (s->truncated) {
		s->body[0] = '\0';
	}
	sip_reply(st, 200, NULL, NULL, NULL, NULL, 0);
	tell(s);
	if (!strncmp(s->sub_state, "terminated", 10)) {
		sub_end(s, "terminated");
	}
}

int pua_observe(hook_h *h, void *arg)
{
	return hook_add(&observers, h, arg);
}

void pua_unobserve(hook_h *h, void *arg)
{
	hook_del(&observers, h, arg);
}

const struct pua_state *pua_state_get(const char *presentity,
				      const char *event,
				      struct pua_state *out)
{
	const struct pua_sub *s = sub_find(presentity, NULL, event);

	if (!s) {
		return NULL;
	}
	*out = state_of(s);
	return out;
}

void pua_sub_walk(void (*h)(const struct pua_state *s, unsigned left,
			    void *arg),
		  void *arg)
{
	uint32_t now = port_now_ms();
	struct pua_state st;
	struct pua_obj *o;

	for (o = subs; o; o = o->next) {
		const struct pua_sub *s = (const struct pua_sub *)o;

		if (!s->established || o->ending) {
			continue;
		}
		st = state_of(s);
		h(&st, left_s(o, now), arg);
	}
}

/* ------------------------------------------------------------- module */

static int pua_start(void)
{
	int err = pool_setup(&pua_pub_pool, sizeof(struct pua_pub));

	if (!err) {
		err = pool_setup(&pua_sub_pool, sizeof(struct pua_sub));
	}
	if (!err) {
		err = sip_route("NOTIFY", on_notify);
	}
	return err;
}

static void pua_stop(void)
{
	while (pubs) {
		pub_free((struct pua_pub *)pubs);
	}
	while (subs) {
		sub_free((struct pua_sub *)subs);
	}
	hook_clear(&observers);
}

#define MOD_DEF "pua.def"
#define MOD_VAR pua_mod
#define MOD_NAME "pua"
#define MOD_SECT NULL
#define MOD_START pua_start
#define MOD_STOP pua_stop
#include "mod_def.h"
