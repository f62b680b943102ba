/** @file pres_sub.c  SUBSCRIBE and NOTIFY as notifier (RFC 6665, 3856,
 * 3857/3858, 3842): dialogs, refresh, unsubscribe, fetch, expiry, the
 * bodies of each event package, and write-back of subscriptions to LMDB.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "pres"
#include "log.h"
#ifdef CONFIG_SIMPLED_OFFLINE
#include "offline.h"
#endif
#include "pool.h"
#include "pres_priv.h"
#include "reg.h"
#include "stat.h"
#include "store.h"

/* Version tag of the write-back record layout. */
#define SUB_REC_V1 0x50530001u

static struct pres_sub *subs;
static unsigned n_subs;
static struct tmr flush_tmr;
static char body_buf[CONFIG_SIMPLED_MAX_MSG_SIZE];

unsigned pres_sub_count(void)
{
	return n_subs;
}

/* ------------------------------------------------------------ lifetime */

static void sub_unlink(struct pres_sub *s)
{
	struct pres_sub **pp;

	for (pp = &s->ent->subs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->next = NULL;
}

/* Remove s from every index; the element waits for its NOTIFYs. */
static void sub_remove(struct pres_sub *s)
{
	struct pres_entity *e = s->ent;

	if (s->zombie) {
		return;
	}
	tmr_cancel(&s->tmr);
	HASH_DEL(subs, s);
	sub_unlink(s);
	n_subs--;
	if (pres_cfg.subs_db_mode == PRES_SUBS_WRITE_BACK) {
		store_rec_del(STORE_PRES_SUB, s->key);
	}
	s->zombie = 1;
	s->ent = NULL;
	pres_entity_put(e);
	if (!s->inflight) {
		pool_put(&pres_sub_pool, s);
	}
}

/* --------------------------------------------------------------- bodies */

static void xml_escaped(struct sd_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sd_buf_str(b, "&amp;"); break;
		case '<': sd_buf_str(b, "&lt;"); break;
		case '>': sd_buf_str(b, "&gt;"); break;
		case '"': sd_buf_str(b, "&quot;"); break;
		default: sd_buf_add(b, s, 1); break;
		}
	}
}

static const char *winfo_status(const struct pres_sub *w)
{
	if (w->zombie || w->state == PRES_SUB_TERMINATED) {
		return "terminated";
	}
	return w->state == PRES_SUB_PENDING ? "pending" : "active";
}

static void winfo_watcher(struct sd_buf *b, const struct pres_sub *w,
			  const char *event)
{
	sd_buf_printf(b, "<watcher id=\"%.12s\" event=\"%s\" status=\"%s\">"
		      "sip:", w->local_tag, event, winfo_status(w));
	xml_escaped(b, w->watcher);
	sd_buf_str(b, "</watcher>\n");
}

/* RFC 3858: the full list, or only `changed` (partial). */
static void winfo_body(struct sd_buf *b, struct pres_sub *s,
		       const struct pres_sub *changed, const char *event)
{
	const struct pres_sub *w;

	sd_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<watcherinfo xmlns=\"urn:ietf:params:xml:ns:watcherinfo\""
		      " version=\"%u\" state=\"%s\">\n"
		      "<watcher-list resource=\"", s->version++,
		      changed ? "partial" : "full");
	xml_escaped(b, s->presentity_uri);
	sd_buf_str(b, "\" package=\"presence\">\n");
	if (changed) {
		winfo_watcher(b, changed, event);
	} else {
		for (w = s->ent ? s->ent->subs : NULL; w; w = w->next) {
			if (w->event == PRES_EV_PRESENCE) {
				winfo_watcher(b, w, "subscribe");
			}
		}
	}
	sd_buf_str(b, "</watcher-list>\n</watcherinfo>\n");
}

#ifdef CONFIG_SIMPLED_OFFLINE
#define PRES_ALLOW_EVENTS "presence, presence.winfo, message-summary"
static void msgsum_body(struct sd_buf *b, const struct pres_sub *s)
{
	const char *aor = s->presentity_uri + 4;
	unsigned n = offline_count(aor);

	sd_buf_printf(b, "Messages-Waiting: %s\r\nMessage-Account: %s\r\n"
		      "Text-Message: %u/0\r\n", n ? "yes" : "no",
		      s->presentity_uri, n);
}
#else
#define PRES_ALLOW_EVENTS "presence, presence.winfo"
#endif

/* --------------------------------------------------------------- NOTIFY */

static void on_notify_answer(int code, const struct sip_msg *resp, void *arg)
{
	struct pres_sub *s = arg;

	(void)resp;
	s->inflight--;
	if (s->zombie) {
		if (!s->inflight) {
			pool_put(&pres_sub_pool, s);
		}
		return;
	}
	if (code >= 200 && code < 300) {
		return;
	}
	stat_inc(pres_stat_notify_failed);
	/* RFC 6665 4.2.2: these end the subscription; others are noise. */
	if (code == 404 || code == 405 || code == 408 || code == 410 ||
	    code == 481 || code == 501) {
		LOG_DBG("subscription of %s ended by NOTIFY answer %d",
			s->watcher, code);
		sub_remove(s);
	}
}

/*
 * Send the current state. reason: NULL for active/pending, else the
 * subscription ends with this reason ("" for none). changed: for winfo, the
 * watcher whose state changed (partial document), or NULL for full.
 */
static void notify(struct pres_sub *s, const char *reason,
		   const struct pres_sub *changed, const char *wevent)
{
	char hdrs[CONFIG_SIMPLED_MAX_ROUTE_LEN + 512];
	char from[sizeof(((struct pres_sub *)0)->presentity_uri) + PRES_TAG_LEN + 8];
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];
	struct sip_request r;
	struct sd_buf b, h;
	int64_t left = s->expires_at - port_wall_s();
	int with_body;

	if (left < 0) {
		left = 0;
	}
	sd_buf_init(&b, body_buf, sizeof(body_buf));
	with_body = !(s->state == PRES_SUB_PENDING && !reason) &&
		    !(s->decision == PRES_BLOCK);
	memset(&r, 0, sizeof(r));
	if (with_body) {
		switch (s->event) {
		case PRES_EV_PRESENCE:
			pres_pidf_aggregate(&b, s->ent, s->presentity_uri,
					    s->decision == PRES_POLITE_BLOCK);
			r.ctype = "application/pidf+xml";
			break;
		case PRES_EV_WINFO:
			winfo_body(&b, s, changed, wevent);
			r.ctype = "application/watcherinfo+xml";
			break;
#ifdef CONFIG_SIMPLED_OFFLINE
		case PRES_EV_MSGSUM:
			msgsum_body(&b, s);
			r.ctype = "application/simple-message-summary";
			break;
#endif
		default:
			break;
		}
		if (b.overflow) {
			LOG_WRN("NOTIFY body for %s too large", s->watcher);
			stat_inc(pres_stat_notify_failed);
			return;
		}
	}
	if (pres_cfg.server_address[0]) {
		snprintf(contact, sizeof(contact), "%s",
			 pres_cfg.server_address);
	} else {
		sip_local_contact(&s->flow, contact, sizeof(contact));
	}
	sd_buf_init(&h, hdrs, sizeof(hdrs));
	sd_buf_printf(&h, "Event: %s\r\nContact: <%s>\r\n",
		      pres_event_name(s->event), contact);
	if (reason) {
		sd_buf_printf(&h, "Subscription-State: terminated%s%s\r\n",
			      *reason ? ";reason=" : "", reason);
	} else {
		sd_buf_printf(&h, "Subscription-State: %s;expires=%lld\r\n",
			      s->state == PRES_SUB_PENDING ? "pending" :
			      "active", (long long)left);
	}
	sd_buf_str(&h, s->route);
	snprintf(from, sizeof(from), "<%s>;tag=%s", s->presentity_uri,
		 s->local_tag);
	r.method = "NOTIFY";
	r.ruri = s->contact;
	r.from = from;
	r.to = s->remote_from;
	r.call_id = s->callid;
	r.cseq = ++s->local_cseq;
	r.hdrs = hdrs;
	r.body = body_buf;
	r.blen = with_body ? b.len : 0;
	if (!with_body) {
		r.ctype = NULL;
	}
	if (h.overflow ||
	    sip_request_send(&r, &s->flow, on_notify_answer, s)) {
		stat_inc(pres_stat_notify_failed);
		return;
	}
	s->inflight++;
	s->dirty = 1;
	stat_inc(pres_stat_notify_sent);
}

/* Tell the winfo watchers of e that watcher w changed. */
static void winfo_changed(struct pres_entity *e, const struct pres_sub *w,
			  const char *event)
{
	struct pres_sub *s, *next;

	for (s = e ? e->subs : NULL; s; s = next) {
		next = s->next;
		if (s->event == PRES_EV_WINFO && s != w) {
			notify(s, NULL, w, event);
		}
	}
}

static void notify_now(struct pres_entity *e, enum pres_event ev)
{
	struct pres_sub *s, *next;

	for (s = e->subs; s; s = next) {
		next = s->next;
		if (s->event == ev && s->state == PRES_SUB_ACTIVE) {
			notify(s, NULL, NULL, NULL);
		}
	}
}

/*
 * send_fast_notify 0: changes are coalesced and sent once a second, so a
 * burst of PUBLISHes costs one NOTIFY per watcher. Entities with pending
 * changes are chained through next_dirty; an entity is never freed while
 * chained because pres_entity_put() refuses entities with dirty events.
 */
static struct pres_entity *dirty_head;
static struct tmr dirty_tmr;

static void dirty_fire(void *arg)
{
	(void)arg;
	while (dirty_head) {
		struct pres_entity *e = dirty_head;
		unsigned evs = e->dirty_events;
		int ev;

		dirty_head = e->next_dirty;
		e->next_dirty = NULL;
		e->dirty_events = 0;
		for (ev = 0; ev < PRES_EV__COUNT; ev++) {
			if (evs & (1u << ev)) {
				notify_now(e, (enum pres_event)ev);
			}
		}
		pres_entity_put(e);
	}
}

void pres_notify_all(struct pres_entity *e, enum pres_event ev)
{
	if (pres_cfg.send_fast_notify) {
		notify_now(e, ev);
		return;
	}
	if (!e->dirty_events) {
		e->next_dirty = dirty_head;
		dirty_head = e;
	}
	e->dirty_events |= 1u << ev;
	if (!tmr_active(&dirty_tmr)) {
		tmr_start(&dirty_tmr, 1000, dirty_fire, NULL);
	}
}

void pres_sub_decide(struct pres_entity *e, const char *watcher,
		     enum pres_decision d)
{
	struct pres_sub *s, *next;

	for (s = e->subs; s; s = next) {
		next = s->next;
		if (s->event != PRES_EV_PRESENCE || strcmp(s->watcher, watcher)) {
			continue;
		}
		s->decision = d;
		s->dirty = 1;
		if (d == PRES_BLOCK) {
			s->state = PRES_SUB_TERMINATED;
			notify(s, "rejected", NULL, NULL);
			winfo_changed(e, s, "rejected");
			sub_remove(s);
			continue;
		}
		if (d == PRES_ALLOW || d == PRES_POLITE_BLOCK) {
			s->state = PRES_SUB_ACTIVE;
			notify(s, NULL, NULL, NULL);
			winfo_changed(e, s, "approved");
		}
	}
}

/* ------------------------------------------------------------ SUBSCRIBE */

static void sub_expired(void *arg)
{
	struct pres_sub *s = arg;
	struct pres_entity *e = s->ent;

	stat_inc(pres_stat_sub_expired);
	s->state = PRES_SUB_TERMINATED;
	if (pres_cfg.timeout_rm_subs) {
		notify(s, "timeout", NULL, NULL);
	}
	if (s->event == PRES_EV_PRESENCE) {
		winfo_changed(e, s, "timeout");
	}
	sub_remove(s);
}

static void sub_arm(struct pres_sub *s, uint32_t expires)
{
	s->expires_at = port_wall_s() + expires;
	tmr_start(&s->tmr, expires * 1000u, sub_expired, s);
	s->dirty = 1;
}

static void reply_200(struct sip_stx *st, const struct pres_sub *s,
		      int expires)
{
	char hdrs[CONFIG_SIMPLED_MAX_URI_LEN + 64];
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];

	if (pres_cfg.server_address[0]) {
		snprintf(contact, sizeof(contact), "%s",
			 pres_cfg.server_address);
	} else {
		sip_local_contact(&s->flow, contact, sizeof(contact));
	}
	snprintf(hdrs, sizeof(hdrs), "Expires: %d\r\nContact: <%s>\r\n",
		 expires, contact);
	sip_reply(st, 200, NULL, hdrs, NULL, NULL, 0);
}

static int make_key(char *key, size_t size, struct sd_pl callid,
		    struct sd_pl remote_tag, const char *local_tag)
{
	int n = snprintf(key, size, "%.*s|%.*s|%s", (int)callid.l, callid.p,
			 (int)remote_tag.l, remote_tag.p, local_tag);

	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

static void in_dialog(struct sip_stx *st, const struct sip_msg *req,
		      int expires)
{
	char key[PRES_KEY_LEN], lt[PRES_TAG_LEN];
	struct pres_sub *s;

	if (sd_pl_copy(req->to_tag, lt, sizeof(lt)) ||
	    make_key(key, sizeof(key), req->call_id, req->from_tag, lt)) {
		sip_reply(st, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	HASH_FIND_STR(subs, key, s);
	if (!s) {
		sip_reply(st, 481, "Subscription does not exist", NULL, NULL,
			  NULL, 0);
		return;
	}
	if (req->cseq <= s->remote_cseq) {
		sip_reply(st, 500, "CSeq out of order", NULL, NULL, NULL, 0);
		return;
	}
	s->remote_cseq = req->cseq;
	reply_200(st, s, expires);
	if (!expires) {
		struct pres_entity *e = s->ent;

		s->state = PRES_SUB_TERMINATED;
		notify(s, "", NULL, NULL);
		if (s->event == PRES_EV_PRESENCE) {
			winfo_changed(e, s, "deactivated");
		}
		sub_remove(s);
		return;
	}
	sub_arm(s, (uint32_t)expires);
	notify(s, NULL, NULL, NULL);
}

/* Record-Route values of the request, as our Route set (RFC 3261 12.1.1).*/
static int route_set(const struct sip_msg *req, char *buf, size_t size)
{
	struct sd_buf b;
	unsigned i;

	sd_buf_init(&b, buf, size);
	for (i = 0; i < req->nhdrs; i++) {
		if (req->hdrs[i].id == SIP_HDR_RECORD_ROUTE) {
			sd_buf_str(&b, "Route: ");
			sd_buf_pl(&b, req->hdrs[i].value);
			sd_buf_str(&b, "\r\n");
		}
	}
	return b.overflow ? ENAMETOOLONG : 0;
}

static void on_subscribe(struct sip_stx *st, const struct sip_msg *req)
{
	const struct sip_hdr *evh = sip_msg_hdr_name(req, "Event");
	const struct sip_hdr *fh = sip_msg_hdr(req, SIP_HDR_FROM);
	osip_contact_t *ct = NULL;
	char aor[CONFIG_SIMPLED_MAX_URI_LEN], key[PRES_KEY_LEN];
	struct pres_entity *e;
	struct pres_sub *s;
	int ev, expires, err;

	ev = evh ? pres_event_from_pl(evh->value) : -1;
	if (ev < 0) {
		sip_reply(st, 489, "Bad Event",
			  "Allow-Events: " PRES_ALLOW_EVENTS "\r\n", NULL,
			  NULL, 0);
		return;
	}
	expires = pres_expires(st, req, pres_cfg.expires_offset);
	if (expires < 0) {
		return;
	}
	if (req->to_tag.p) {
		in_dialog(st, req, expires);
		return;
	}
	err = reg_aor_key(req->osip->req_uri, aor, sizeof(aor));
	if (err) {
		sip_reply(st, 404, err == ENOENT ? "Domain not served here" :
			  "No user in Request-URI", NULL, NULL, NULL, 0);
		return;
	}
	if (!req->from_tag.l || !fh) {
		sip_reply(st, 400, "SUBSCRIBE without From tag", NULL, NULL,
			  NULL, 0);
		return;
	}
	if (osip_message_get_contact(req->osip, 0, &ct) < 0 || !ct ||
	    !ct->url) {
		sip_reply(st, 400, "SUBSCRIBE without Contact", NULL, NULL,
			  NULL, 0);
		return;
	}
	s = pool_get(&pres_sub_pool);
	if (!s) {
		sip_reply_errno(st, ENOMEM);
		return;
	}
	s->event = (enum pres_event)ev;
	snprintf(s->local_tag, sizeof(s->local_tag), "%s", sip_stx_totag(st));
	snprintf(s->presentity_uri, sizeof(s->presentity_uri), "sip:%s", aor);
	if (!req->osip->from ||
	    reg_uri_aor(req->osip->from->url,
			s->watcher, sizeof(s->watcher)) ||
	    sd_pl_copy(req->call_id, s->callid, sizeof(s->callid)) ||
	    sd_pl_copy(fh->value, s->remote_from, sizeof(s->remote_from)) ||
	    sip_uri_print(ct->url, s->contact, sizeof(s->contact)) ||
	    route_set(req, s->route, sizeof(s->route)) ||
	    make_key(s->key, sizeof(s->key), req->call_id, req->from_tag,
		     s->local_tag)) {
		pool_put(&pres_sub_pool, s);
		sip_reply(st, 400, "Dialog identifiers too long or malformed",
			  NULL, NULL, NULL, 0);
		return;
	}
	if (ev != PRES_EV_PRESENCE && strcmp(s->watcher, aor)) {
		pool_put(&pres_sub_pool, s);
		sip_reply(st, 403, "Only the presentity may subscribe to this",
			  NULL, NULL, NULL, 0);
		return;
	}
	s->decision = ev == PRES_EV_PRESENCE ?
		      pres_auth_decide(aor, s->watcher) : PRES_ALLOW;
	if (s->decision == PRES_BLOCK) {
		pool_put(&pres_sub_pool, s);
		sip_reply(st, 403, "Subscription refused", NULL, NULL, NULL, 0);
		return;
	}
	s->state = s->decision == PRES_UNDECIDED ? PRES_SUB_PENDING :
		   PRES_SUB_ACTIVE;
	s->remote_cseq = req->cseq;
	/* With a route set, NOTIFYs go back the way the SUBSCRIBE came. */
	if (s->route[0] || sip_contact_flow(ct->url, &req->flow, &s->flow)) {
		s->flow = req->flow;
	}
	e = pres_entity_get(aor, 1);
	if (!e) {
		pool_put(&pres_sub_pool, s);
		sip_reply_errno(st, ENOMEM);
		return;
	}
	memcpy(key, s->key, sizeof(key));
	sd_hash_oom = 0;
	HASH_ADD_STR(subs, key, s);
	if (sd_hash_oom) {
		pool_put(&pres_sub_pool, s);
		pres_entity_put(e);
		sip_reply_errno(st, ENOMEM);
		return;
	}
	s->ent = e;
	s->next = e->subs;
	e->subs = s;
	n_subs++;
	stat_inc(pres_stat_subscribed);
	reply_200(st, s, expires);
	if (!expires) {
		/* Fetch: one NOTIFY with the state, and done. */
		s->state = s->state == PRES_SUB_PENDING ? PRES_SUB_PENDING :
			   PRES_SUB_ACTIVE;
		notify(s, "timeout", NULL, NULL);
		sub_remove(s);
		return;
	}
	sub_arm(s, (uint32_t)expires);
	notify(s, NULL, NULL, NULL);
	if (ev == PRES_EV_PRESENCE) {
		winfo_changed(e, s, "subscribe");
	}
}

/* ----------------------------------------------------------- write-back */

struct sub_rec {
	uint32_t version;
	uint32_t event, state, decision;
	uint32_t local_cseq, remote_cseq, winfo_version;
	int64_t expires_at;
	struct sip_flow flow;
	char callid[CONFIG_SIMPLED_MAX_CALLID_LEN];
	char local_tag[PRES_TAG_LEN];
	char remote_from[CONFIG_SIMPLED_MAX_URI_LEN + PRES_TAG_LEN + 8];
	char presentity_uri[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	char watcher[CONFIG_SIMPLED_MAX_URI_LEN];
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];
	char route[CONFIG_SIMPLED_MAX_ROUTE_LEN + 1];
};

static void flush_dirty(void)
{
	static struct sub_rec r;
	struct pres_sub *s, *tmp;

	HASH_ITER(hh, subs, s, tmp) {
		if (!s->dirty) {
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.version = SUB_REC_V1;
		r.event = s->event;
		r.state = s->state;
		r.decision = s->decision;
		r.local_cseq = s->local_cseq;
		r.remote_cseq = s->remote_cseq;
		r.winfo_version = s->version;
		r.expires_at = s->expires_at;
		r.flow = s->flow;
		memcpy(r.callid, s->callid, sizeof(r.callid));
		memcpy(r.local_tag, s->local_tag, sizeof(r.local_tag));
		memcpy(r.remote_from, s->remote_from, sizeof(r.remote_from));
		memcpy(r.presentity_uri, s->presentity_uri,
		       sizeof(r.presentity_uri));
		memcpy(r.watcher, s->watcher, sizeof(r.watcher));
		memcpy(r.contact, s->contact, sizeof(r.contact));
		memcpy(r.route, s->route, sizeof(r.route));
		if (!store_rec_put(STORE_PRES_SUB, s->key, &r, sizeof(r))) {
			s->dirty = 0;
		}
	}
}

static void flush_fire(void *arg)
{
	(void)arg;
	flush_dirty();
	tmr_start(&flush_tmr, (uint32_t)pres_cfg.clean_period * 1000u,
		  flush_fire, NULL);
}

static int restore_sub(const char *key, const void *val, size_t vlen,
		       void *arg)
{
	const struct sub_rec *r = val;
	struct pres_entity *e;
	struct pres_sub *s;
	int64_t left = 0;

	(void)arg;
	if (vlen == sizeof(*r) && r->version == SUB_REC_V1) {
		left = r->expires_at - port_wall_s();
	}
	if (left <= 0 || strlen(key) >= sizeof(s->key) ||
	    strncmp(r->presentity_uri, "sip:", 4)) {
		return 0; /* stale: the walk's caller deletes those later */
	}
	s = pool_get(&pres_sub_pool);
	e = s ? pres_entity_get(r->presentity_uri + 4, 1) : NULL;
	if (!e) {
		pool_put(&pres_sub_pool, s);
		return 0;
	}
	strcpy(s->key, key);
	s->event = (enum pres_event)r->event;
	s->state = (enum pres_sub_state)r->state;
	s->decision = (enum pres_decision)r->decision;
	s->local_cseq = r->local_cseq;
	s->remote_cseq = r->remote_cseq;
	s->version = r->winfo_version;
	s->flow = r->flow;
	s->flow.conn = -1; /* connections died with the last run */
	memcpy(s->callid, r->callid, sizeof(s->callid));
	memcpy(s->local_tag, r->local_tag, sizeof(s->local_tag));
	memcpy(s->remote_from, r->remote_from, sizeof(s->remote_from));
	memcpy(s->presentity_uri, r->presentity_uri, sizeof(s->presentity_uri));
	memcpy(s->watcher, r->watcher, sizeof(s->watcher));
	memcpy(s->contact, r->contact, sizeof(s->contact));
	memcpy(s->route, r->route, sizeof(s->route));
	HASH_ADD_STR(subs, key, s);
	s->ent = e;
	s->next = e->subs;
	e->subs = s;
	n_subs++;
	s->expires_at = r->expires_at;
	tmr_start(&s->tmr, (uint32_t)(left * 1000), sub_expired, s);
	return 0;
}

struct stale_subs {
	unsigned n;
	char keys[32][PRES_KEY_LEN];
};

static int find_stale(const char *key, const void *val, size_t vlen,
		      void *arg)
{
	struct stale_subs *st = arg;
	struct pres_sub *s;

	(void)val;
	(void)vlen;
	HASH_FIND_STR(subs, key, s);
	if (!s && st->n < 32 && strlen(key) < PRES_KEY_LEN) {
		strcpy(st->keys[st->n++], key);
	}
	return 0;
}

int pres_sub_init(void)
{
	int err = pool_setup(&pres_sub_pool, sizeof(struct pres_sub));

	if (err) {
		return err;
	}
	if (pres_cfg.subs_db_mode == PRES_SUBS_WRITE_BACK && store_is_open()) {
		static struct stale_subs stale;
		unsigned i;

		store_rec_walk(STORE_PRES_SUB, "", restore_sub, NULL);
		do {
			stale.n = 0;
			store_rec_walk(STORE_PRES_SUB, "", find_stale, &stale);
			for (i = 0; i < stale.n; i++) {
				store_rec_del(STORE_PRES_SUB, stale.keys[i]);
			}
		} while (stale.n == 32);
		if (n_subs) {
			LOG_INF("%u subscriptions restored", n_subs);
		}
		tmr_start(&flush_tmr, (uint32_t)pres_cfg.clean_period * 1000u,
			  flush_fire, NULL);
	}
	return sip_route("SUBSCRIBE", on_subscribe);
}

void pres_sub_close(void)
{
	struct pres_sub *s, *tmp;

	tmr_cancel(&flush_tmr);
	tmr_cancel(&dirty_tmr);
	while (dirty_head) {
		struct pres_entity *e = dirty_head;

		dirty_head = e->next_dirty;
		e->next_dirty = NULL;
		e->dirty_events = 0;
	}
	if (pres_cfg.subs_db_mode == PRES_SUBS_WRITE_BACK && store_is_open()) {
		flush_dirty();
	}
	HASH_ITER(hh, subs, s, tmp) {
		tmr_cancel(&s->tmr);
		HASH_DEL(subs, s);
		sub_unlink(s);
		n_subs--;
		pool_put(&pres_sub_pool, s);
	}
}
