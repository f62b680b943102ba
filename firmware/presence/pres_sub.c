/** @file pres_sub.c  SUBSCRIBE and NOTIFY as notifier (RFC 6665): dialogs,
 * refresh, unsubscribe, fetch, expiry, authorization changes, coalesced
 * NOTIFYs and the NOTIFYs that wait for a client transaction. What a
 * NOTIFY carries comes from the subscription's event package (struct
 * pres_pkg); write-back to LMDB is pres_wb.c.
 *
 * Privacy (RFC 3856 6.6, RFC 6665 5.3): only a watcher the presentity
 * allowed (or polite-blocked: a neutral document) is ever sent a body;
 * a pending, undecided or blocked one gets none, not in a fetch, not in
 * the NOTIFY that ends its subscription, not after a restart.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "pres"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "pres_priv.h"
#include "reg.h"
#include "stat.h"
#include "strs.h"

static struct pres_sub *subs;
static unsigned n_subs;
static char body_buf[CONFIG_SIMPLED_MAX_MSG_SIZE];

/*
 * NOTIFYs owed. One that finds no client transaction (the pool dry, or
 * memory short: sip_request_send() says ENOMEM) is not lost: its
 * subscription joins this queue, oldest first, at most once, so the
 * queue is bounded by the subscription pool and needs no memory. When SIP
 * reports a client transaction answered or ended (sip_ctx_observe()), the
 * queue drains on a 0 ms timer as far as transactions go, each NOTIFY
 * built then with the state as it is then. While no transaction can be
 * had a new NOTIFY joins the queue rather than overtake it. One refused
 * ENOMEM although a transaction could be had (memory, or a TCP
 * connection, short for it) goes to the back, so that it holds up no
 * other; a drain that stops short tries again after DRAIN_RETRY_MS should
 * SIP report nothing more.
 */
#define DRAIN_RETRY_MS 1000
static struct pres_sub *owed_head, *owed_tail;
static struct tmr drain_tmr;

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

static void owed_unlink(struct pres_sub *s)
{
	if (!s->owed) {
		return;
	}
	if (s->owed_prev) {
		s->owed_prev->owed_next = s->owed_next;
	} else {
		owed_head = s->owed_next;
	}
	if (s->owed_next) {
		s->owed_next->owed_prev = s->owed_prev;
	} else {
		owed_tail = s->owed_prev;
	}
	s->owed_prev = s->owed_next = NULL;
	s->owed = 0;
	s->owed_reason = NULL;
}

/* Queue s at the back. */
static void owed_link(struct pres_sub *s)
{
	s->owed = 1;
	s->owed_next = NULL;
	s->owed_prev = owed_tail;
	if (owed_tail) {
		owed_tail->owed_next = s;
	} else {
		owed_head = s;
	}
	owed_tail = s;
}

/* A removed subscription goes once nothing of it is pending. */
static void sub_release(struct pres_sub *s)
{
	if (s->zombie && !s->inflight && !s->owed) {
		pres_sub_free(s);
	}
}

/* Remove s from every index; the element waits for its NOTIFYs (those
 * sent, and a final one still owed). The presentity goes with its last
 * reference: callers must not touch it afterwards. */
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
	pres_wb_forget(s);
	if (!s->owed_reason) {
		owed_unlink(s); /* a state owed means nothing once it ends */
	}
	s->zombie = 1;
	s->ent = NULL;
	pres_entity_put(e);
	sub_release(s);
}

/* The text fields of a subscription and of struct pres_sub_text, in
 * the same order. */
static const struct {
	size_t in_sub, in_text, size;
} text_fields[] = {
#define TEXT_FIELD(f) {offsetof(struct pres_sub, f), \
	offsetof(struct pres_sub_text, f), \
	sizeof(((struct pres_sub_text *)0)->f)}
	TEXT_FIELD(key), TEXT_FIELD(local_tag), TEXT_FIELD(remote_from),
	TEXT_FIELD(presentity_uri), TEXT_FIELD(watcher), TEXT_FIELD(contact),
	TEXT_FIELD(route),
#undef TEXT_FIELD
};

#define N_TEXT_FIELDS (sizeof(text_fields) / sizeof(text_fields[0]))

static char **text_of(struct pres_sub *s, size_t i)
{
	return (char **)(void *)((char *)s + text_fields[i].in_sub);
}

/* The arena of the subscriptions' text, sized in pres_sub_init(). */
static struct strs pres_strs;

static size_t strs_for_one_sub(void)
{
	size_t i, n = strs_room(CONFIG_SIMPLED_MAX_CALLID_LEN - 1);

	for (i = 0; i < N_TEXT_FIELDS; i++) {
		n += strs_room(text_fields[i].size - 1);
	}
	return n;
}

struct pres_sub *pres_sub_new(void)
{
	struct pres_sub *s = pool_get(&pres_sub_pool);
	size_t i;

	if (s) {
		s->callid = strs_dupn(&pres_strs, "", 0);
		for (i = 0; i < N_TEXT_FIELDS; i++) {
			*text_of(s, i) = strs_dupn(&pres_strs, "", 0);
		}
	}
	return s;
}

static void callid_put(char *callid)
{
	if (strs_owns(&pres_strs, callid)) {
		strs_put(&pres_strs, callid);
	} else {
		mem_put(callid); /* NULL: nothing */
	}
}

void pres_sub_free(struct pres_sub *s)
{
	size_t i;

	tally_put(&pres_subs_by_source, s->src);
	callid_put(s->callid);
	for (i = 0; i < N_TEXT_FIELDS; i++) {
		strs_put(&pres_strs, *text_of(s, i));
	}
	pool_put(&pres_sub_pool, s);
}

int pres_sub_set_callid(struct pres_sub *s, struct sd_pl callid)
{
	/* Longer than the arena was sized for (a Call-ID may fill a
	 * message): from the memory budget. */
	char *p = callid.l >= CONFIG_SIMPLED_MAX_CALLID_LEN ?
		  mem_strndup(callid.p, callid.l) :
		  strs_dupn(&pres_strs, callid.p, callid.l);

	if (!p) {
		return ENOMEM;
	}
	callid_put(s->callid);
	s->callid = p;
	return 0;
}

int pres_sub_set_text(struct pres_sub *s, const struct pres_sub_text *t)
{
	char **cur[N_TEXT_FIELDS], *taken[N_TEXT_FIELDS];
	const char *want[N_TEXT_FIELDS];
	size_t i;

	for (i = 0; i < N_TEXT_FIELDS; i++) {
		cur[i] = text_of(s, i);
		want[i] = (const char *)t + text_fields[i].in_text;
	}
	if (strs_take(&pres_strs, cur, want, taken, N_TEXT_FIELDS)) {
		return ENOMEM;
	}
	strs_swap(&pres_strs, cur, taken, N_TEXT_FIELDS);
	return 0;
}

int pres_sub_set_contact(struct pres_sub *s, const char *contact)
{
	return strs_set(&pres_strs, &s->contact, contact);
}

int pres_sub_key(char *key, size_t size, struct sd_pl callid,
		 struct sd_pl remote_tag, const char *local_tag)
{
	char cid[CONFIG_SIMPLED_MAX_CALLID_LEN];
	int n;

	sd_key_fit(cid, sizeof(cid), callid);
	n = snprintf(key, size, "%s|%.*s|%s", cid, (int)remote_tag.l,
		     remote_tag.p, local_tag);
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

size_t pres_sub_key_callid_len(const struct pres_sub *s)
{
	size_t l = strlen(s->callid);

	return l < CONFIG_SIMPLED_MAX_CALLID_LEN ? l : SD_KEY_HASHED_LEN - 1;
}

struct pres_sub *pres_sub_find(const char *key)
{
	struct pres_sub *s;

	HASH_FIND_STR(subs, key, s);
	return s;
}

int pres_sub_link(struct pres_sub *s, struct pres_entity *e)
{
	sd_hash_oom = 0;
	HASH_ADD_KEYPTR(hh, subs, s->key, strlen(s->key), s);
	if (sd_hash_oom) {
		return ENOMEM;
	}
	s->ent = e;
	s->next = e->subs;
	e->subs = s;
	n_subs++;
	return 0;
}

struct sub_walk {
	const char *aor;
	void (*h)(const struct pres_sub_view *v, void *arg);
	void *arg;
	unsigned n;
};

static void sub_view(struct pres_sub *s, void *arg)
{
	static const char *const states[] = {"pending", "active",
					     "terminated"};
	static const char *const decisions[] = {"undecided", "allow",
						"block", "polite-block"};
	struct sub_walk *w = arg;
	struct pres_sub_view v;

	if (s->zombie || (w->aor && strcmp(s->presentity_uri + 4, w->aor))) {
		return;
	}
	v.presentity = s->presentity_uri;
	v.watcher = s->watcher;
	v.event = s->pkg->name;
	v.state = states[s->state];
	v.decision = decisions[s->decision];
	v.contact = s->contact;
	v.expires_s = (uint32_t)pres_sub_left(s);
	w->n++;
	w->h(&v, w->arg);
}

unsigned pres_walk_subs(const char *aor,
			void (*h)(const struct pres_sub_view *v, void *arg),
			void *arg)
{
	struct sub_walk w = {aor, h, arg, 0};

	pres_subs_walk(sub_view, &w);
	return w.n;
}

void pres_subs_walk(pres_sub_h *h, void *arg)
{
	struct pres_sub *s, *tmp;

	HASH_ITER(hh, subs, s, tmp) {
		h(s, arg);
	}
}

/* --------------------------------------------------------------- NOTIFY */

/* Bind a restored subscription's flow to one of our listeners. */
static int sub_bind(struct pres_sub *s)
{
	if (!s->unbound) {
		return 0;
	}
	if (sip_peer_flow(s->flow.tp, &s->flow.peer, &s->flow)) {
		return EAFNOSUPPORT;
	}
	s->unbound = 0;
	return 0;
}

/* Our Contact: server_address when set, else the address s reaches. */
static void our_contact(const struct pres_sub *s, char *buf, size_t size)
{
	if (pres_cfg.server_address[0]) {
		snprintf(buf, size, "%s", pres_cfg.server_address);
	} else {
		sip_local_contact(&s->flow, buf, size);
	}
}

static void sub_end(struct pres_sub *s, const char *reason,
		    const char *what);

static void on_notify_answer(int code, const struct sip_msg *resp, void *arg)
{
	struct pres_sub *s = arg;

	(void)resp;
	s->inflight--;
	if (s->zombie) {
		sub_release(s);
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
		sub_end(s, NULL, "deactivated");
	}
}

int pres_sub_sees_state(const struct pres_sub *s)
{
	return s->decision == PRES_ALLOW || s->decision == PRES_POLITE_BLOCK;
}

/* Build and send one NOTIFY. @return 0, ENOMEM (no client transaction
 * or memory now: the caller queues it) or another error (counted). */
static int sub_send(struct pres_sub *s, const char *reason,
		    const struct pres_sub *changed, const char *what)
{
	char hdrs[CONFIG_SIMPLED_MAX_ROUTE_LEN + 512];
	char from[CONFIG_SIMPLED_MAX_URI_LEN + 4 + PRES_TAG_LEN + 8];
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];
	struct sip_request r;
	struct sd_buf b, h;
	int64_t left = pres_sub_left(s);
	int with_body, err;

	if (sub_bind(s)) {
		LOG_DBG("no listener to reach %s", s->watcher);
		stat_inc(pres_stat_notify_failed);
		return EAFNOSUPPORT;
	}
	if (left < 0) {
		left = 0;
	}
	sd_buf_init(&b, body_buf, sizeof(body_buf));
	/* State only for a watcher allowed to see it; a final NOTIFY that
	 * had to wait past the end (a zombie: no presentity) says only
	 * that it ended. */
	with_body = !s->zombie && s->state != PRES_SUB_PENDING &&
		    pres_sub_sees_state(s);
	memset(&r, 0, sizeof(r));
	if (with_body) {
		s->pkg->body(&b, s, changed, what);
		r.ctype = s->pkg->ctype;
		if (b.overflow) {
			LOG_WRN("NOTIFY body for %s too large", s->watcher);
			stat_inc(pres_stat_notify_failed);
			return EMSGSIZE;
		}
	}
	our_contact(s, contact, sizeof(contact));
	sd_buf_init(&h, hdrs, sizeof(hdrs));
	sd_buf_printf(&h, "Event: %s\r\nContact: <%s>\r\n", s->pkg->name,
		      contact);
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
	err = h.overflow ? EMSGSIZE :
	      sip_request_send(&r, &s->flow, on_notify_answer, s);
	if (err) {
		if (err != ENOMEM) {
			stat_inc(pres_stat_notify_failed);
		}
		return err;
	}
	s->inflight++;
	s->dirty = 1;
	stat_inc(pres_stat_notify_sent);
	return 0;
}

static void drain_fire(void *arg);

/* s owes a NOTIFY: reason NULL for its state, else its final one. */
static void owe(struct pres_sub *s, const char *reason)
{
	stat_inc(pres_stat_notify_deferred);
	if (reason) {
		s->owed_reason = reason;
	}
	if (!s->owed) {
		owed_link(s);
	}
	if (!tmr_active(&drain_tmr)) {
		tmr_start(&drain_tmr, DRAIN_RETRY_MS, drain_fire, NULL);
	}
}

void pres_sub_notify(struct pres_sub *s, const char *reason,
		     const struct pres_sub *changed, const char *what)
{
	int err;

	if (owed_head && !sip_ctx_available()) {
		owe(s, reason);
		return;
	}
	if (s->owed) {
		changed = NULL; /* what it missed too: the full state */
		what = NULL;
	}
	err = sub_send(s, reason, changed, what);
	if (err == ENOMEM) {
		owe(s, reason);
	} else if (!err && !s->owed_reason) {
		owed_unlink(s); /* what it owed has just gone */
	}
}

/* Send what is owed, oldest first, while client transactions last. */
static void drain_fire(void *arg)
{
	(void)arg;
	while (owed_head && sip_ctx_available()) {
		struct pres_sub *s = owed_head;
		const char *reason = s->owed_reason;

		owed_unlink(s);
		if (sub_send(s, reason, NULL, NULL) == ENOMEM) {
			s->owed_reason = reason;
			owed_link(s);
			break;
		}
		sub_release(s);
	}
	if (owed_head) {
		tmr_start(&drain_tmr, DRAIN_RETRY_MS, drain_fire, NULL);
	}
}

/* SIP has a client transaction to give again. */
static int on_ctx_free(void *ev, void *arg)
{
	(void)ev;
	(void)arg;
	if (owed_head) {
		tmr_start(&drain_tmr, 0, drain_fire, NULL);
	}
	return 0;
}

/* Watcher w of e came, went or was decided on (what: its winfo event):
 * the packages of the other subscriptions to e say whether they care. */
static void watcher_changed(struct pres_entity *e, const struct pres_sub *w,
			    const char *what)
{
	struct pres_sub *s, *next;

	if (e && w->pkg == &pres_pkg_presence) {
		pres_observers_tell(e->key, PRES_EV_WINFO);
	}
	for (s = e ? e->subs : NULL; s; s = next) {
		next = s->next;
		if (s != w && s->pkg->watcher_changed) {
			s->pkg->watcher_changed(s, w, what);
		}
	}
}

/*
 * The end of a subscription, however it comes (unsubscribe, fetch,
 * expiry, rejection, a NOTIFY refused): the last NOTIFY gives reason
 * (NULL: none is sent), the other subscriptions to the presentity hear
 * what of it (NULL: nothing), and it goes. When it was the presentity's
 * last reference the presentity goes too: the caller must not touch it.
 */
static void sub_end(struct pres_sub *s, const char *reason, const char *what)
{
	s->state = PRES_SUB_TERMINATED;
	if (reason) {
		pres_sub_notify(s, reason, NULL, NULL);
	}
	if (what) {
		watcher_changed(s->ent, s, what);
	}
	sub_remove(s);
}

void pres_sub_drop(struct pres_sub *s)
{
	sub_end(s, NULL, NULL);
}

/* Who follows states besides SIP watchers (ctl's watch). */
static struct hook_list state_observers;

int pres_observe(hook_h *h, void *arg)
{
	return hook_add(&state_observers, h, arg);
}

void pres_unobserve(hook_h *h, void *arg)
{
	hook_del(&state_observers, h, arg);
}

void pres_observers_tell(const char *aor, enum pres_event ev)
{
	struct pres_change ch = {aor, pres_pkg_of(ev)->name};

	hook_run(&state_observers, &ch);
}

static void notify_now(struct pres_entity *e, enum pres_event ev)
{
	struct pres_sub *s, *next;

	pres_observers_tell(e->key, ev);
	for (s = e->subs; s; s = next) {
		next = s->next;
		if (s->pkg->ev == ev && s->state == PRES_SUB_ACTIVE) {
			pres_sub_notify(s, NULL, NULL, NULL);
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

void pres_sub_decide(const char *presentity, const char *watcher,
		     enum pres_decision d)
{
	struct pres_entity *e = pres_entity_get(presentity, 0);
	struct pres_sub *s, *next;

	if (d != PRES_ALLOW && d != PRES_BLOCK && d != PRES_POLITE_BLOCK) {
		return;
	}
	/* Ending the last subscription frees e; next is then NULL (any
	 * other would have kept e), so e is not touched again. */
	for (s = e ? e->subs : NULL; s; s = next) {
		next = s->next;
		if (s->pkg->owner_only || strcmp(s->watcher, watcher)) {
			continue;
		}
		s->decision = d;
		s->dirty = 1;
		if (d == PRES_BLOCK) {
			sub_end(s, "rejected", "rejected");
			continue;
		}
		s->state = PRES_SUB_ACTIVE;
		pres_sub_notify(s, NULL, NULL, NULL);
		watcher_changed(e, s, "approved");
	}
}

/* ------------------------------------------------------------ SUBSCRIBE */

static void sub_expired(void *arg)
{
	struct pres_sub *s = arg;

	stat_inc(pres_stat_sub_expired);
	sub_end(s, pres_cfg.timeout_rm_subs ? "timeout" : NULL, "timeout");
}

void pres_sub_arm(struct pres_sub *s, uint32_t expires)
{
	tmr_start(&s->tmr, expires * 1000u, sub_expired, s);
	s->dirty = 1;
}

static void reply_200(struct sip_stx *st, const struct pres_sub *s,
		      int expires)
{
	char hdrs[CONFIG_SIMPLED_MAX_URI_LEN + 64];
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];

	our_contact(s, contact, sizeof(contact));
	snprintf(hdrs, sizeof(hdrs), "Expires: %d\r\nContact: <%s>\r\n",
		 expires, contact);
	sip_reply(st, 200, NULL, hdrs, NULL, NULL, 0);
}

/*
 * A SUBSCRIBE in the dialog refreshes the remote target (RFC 6665 4.1.2.2
 * and 4.2.1.2, RFC 3261 12.2.2): its Contact is where NOTIFYs go from
 * now on, and without a route set the flow follows it. One without a
 * Contact leaves the target. @return 0 or EINVAL (a Contact we cannot
 * keep: the old target stays).
 */
static int target_refresh(struct pres_sub *s, const struct sip_msg *req)
{
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];
	osip_contact_t *ct = NULL;

	if (osip_message_get_contact(req->osip, 0, &ct) < 0 || !ct ||
	    !ct->url) {
		return 0;
	}
	if (sip_uri_print(ct->url, contact, sizeof(contact)) ||
	    pres_sub_set_contact(s, contact)) {
		return EINVAL;
	}
	if (!s->route[0]) {
		if (sip_contact_flow(ct->url, &req->flow, &s->flow)) {
			s->flow = req->flow;
		}
		s->unbound = 0;
	}
	s->dirty = 1;
	return 0;
}

static void in_dialog(struct sip_stx *st, const struct sip_msg *req,
		      const struct pres_pkg *pkg, int expires)
{
	char key[PRES_KEY_LEN], lt[PRES_TAG_LEN];
	char from[CONFIG_SIMPLED_MAX_URI_LEN];
	struct pres_sub *s;

	if (sd_pl_copy(req->to_tag, lt, sizeof(lt)) ||
	    pres_sub_key(key, sizeof(key), req->call_id, req->from_tag, lt)) {
		sip_reply(st, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	s = pres_sub_find(key);
	if (!s) {
		sip_reply(st, 481, "Subscription does not exist", NULL, NULL,
			  NULL, 0);
		return;
	}
	/* Only its watcher may refresh or end it: a From of a served domain
	 * has authenticated as itself (sip_authn.c), so knowing the dialog's
	 * identifiers is not enough. */
	if (!req->osip->from ||
	    reg_uri_aor(req->osip->from->url, from, sizeof(from)) ||
	    strcmp(from, s->watcher)) {
		sip_reply(st, 403, "Not this subscription's watcher", NULL,
			  NULL, NULL, 0);
		return;
	}
	if (req->cseq <= s->remote_cseq) {
		sip_reply(st, 500, "CSeq out of order", NULL, NULL, NULL, 0);
		return;
	}
	s->remote_cseq = req->cseq;
	/* A subscription is its dialog and its event package (RFC 6665
	 * 4.1.2, 4.2.1): none of this package lives in this dialog, and a
	 * second usage of the dialog is not set up (RFC 6665 4.5.2
	 * deprecates it). An unknown package was 489 already. */
	if (pkg != s->pkg) {
		sip_reply(st, 481, "No subscription to this event here", NULL,
			  NULL, NULL, 0);
		return;
	}
	if (target_refresh(s, req)) {
		sip_reply(st, 400, "Contact malformed or too long", NULL, NULL,
			  NULL, 0);
		return;
	}
	if (sub_bind(s)) {
		/* Our listeners changed since it was restored: answer the
		 * way the request came. */
		s->flow = req->flow;
		s->unbound = 0;
	}
	reply_200(st, s, expires);
	if (!expires) {
		sub_end(s, "", "deactivated");
		return;
	}
	pres_sub_arm(s, (uint32_t)expires);
	pres_sub_notify(s, NULL, NULL, NULL);
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

/* The dialog a new SUBSCRIBE sets up. @return 0, EINVAL (identifiers
 * too long or malformed) or ENOMEM. */
static int sub_fill(struct pres_sub *s, struct sip_stx *st,
		    const struct sip_msg *req, const struct sip_hdr *fh,
		    const osip_contact_t *ct, const char *aor)
{
	static struct pres_sub_text t;

	snprintf(t.local_tag, sizeof(t.local_tag), "%s", sip_stx_totag(st));
	snprintf(t.presentity_uri, sizeof(t.presentity_uri), "sip:%s", aor);
	if (!req->osip->from ||
	    reg_uri_aor(req->osip->from->url,
			t.watcher, sizeof(t.watcher)) ||
	    sd_pl_copy(fh->value, t.remote_from, sizeof(t.remote_from)) ||
	    sip_uri_print(ct->url, t.contact, sizeof(t.contact)) ||
	    route_set(req, t.route, sizeof(t.route)) ||
	    pres_sub_key(t.key, sizeof(t.key), req->call_id, req->from_tag,
			 t.local_tag)) {
		return EINVAL;
	}
	if (pres_sub_set_text(s, &t)) {
		return ENOMEM;
	}
	s->remote_cseq = req->cseq;
	/* With a route set, NOTIFYs go back the way the SUBSCRIBE came. */
	if (s->route[0] || sip_contact_flow(ct->url, &req->flow, &s->flow)) {
		s->flow = req->flow;
	}
	return 0;
}

static void on_subscribe(struct sip_stx *st, const struct sip_msg *req)
{
	const struct sip_hdr *evh = sip_msg_hdr_name(req, "Event");
	const struct sip_hdr *fh = sip_msg_hdr(req, SIP_HDR_FROM);
	const struct pres_pkg *pkg;
	osip_contact_t *ct = NULL;
	char aor[CONFIG_SIMPLED_MAX_URI_LEN], hdr[160], src[SIP_SOURCE_LEN];
	const char *why = NULL;
	struct pres_entity *e = NULL;
	struct pres_sub *s;
	int expires, err, code = 0;

	pkg = evh ? pres_pkg_find(evh->value) : NULL;
	if (!pkg) {
		snprintf(hdr, sizeof(hdr), "Allow-Events: %s\r\n",
			 pres_pkg_allow_events());
		sip_reply(st, 489, "Bad Event", hdr, NULL, NULL, 0);
		return;
	}
	expires = pres_expires(st, req, pres_cfg.expires_offset);
	if (expires < 0) {
		return;
	}
	if (req->to_tag.p) {
		in_dialog(st, req, pkg, expires);
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
	s = pres_sub_new();
	if (!s) {
		sip_reply_errno(st, ENOMEM);
		return;
	}
	sip_msg_source(req, src, sizeof(src));
	err = tally_get(&pres_subs_by_source, src,
			(unsigned)pres_cfg.max_subscriptions_per_source,
			&s->src);
	if (err) {
		code = err == EDQUOT ? 403 : 0; /* else no room: 503 */
		why = "Too many subscriptions from this source";
		goto refuse;
	}
	s->pkg = pkg;
	if (pres_sub_set_callid(s, req->call_id)) {
		goto refuse; /* budget spent: 503 */
	}
	err = sub_fill(s, st, req, fh, ct, aor);
	if (err) {
		code = err == ENOMEM ? 0 : 400; /* no room: 503 */
		why = "Dialog identifiers too long or malformed";
		goto refuse;
	}
	if (pkg->owner_only && strcmp(s->watcher, aor)) {
		code = 403;
		why = "Only the presentity may subscribe to this";
		goto refuse;
	}
	s->decision = pkg->owner_only ? PRES_ALLOW :
		      pres_auth_decide(aor, s->watcher);
	if (s->decision == PRES_BLOCK) {
		code = 403;
		why = "Subscription refused";
		goto refuse;
	}
	s->state = s->decision == PRES_UNDECIDED ? PRES_SUB_PENDING :
		   PRES_SUB_ACTIVE;
	e = pres_entity_get(aor, 1);
	if (!e || pres_sub_link(s, e)) {
		goto refuse; /* no room: 503 */
	}
	stat_inc(pres_stat_subscribed);
	reply_200(st, s, expires);
	if (!expires) {
		sub_end(s, "timeout", NULL); /* a fetch: one NOTIFY, done */
		return;
	}
	pres_sub_arm(s, (uint32_t)expires);
	pres_sub_notify(s, NULL, NULL, NULL);
	watcher_changed(e, s, "subscribe");
	return;

refuse:
	pres_sub_free(s);
	pres_entity_put(e);
	if (code) {
		sip_reply(st, code, why, NULL, NULL, NULL, 0);
	} else {
		sip_reply_errno(st, ENOMEM);
	}
}

int pres_sub_init(void)
{
	int err = pool_setup(&pres_sub_pool, sizeof(struct pres_sub));

	/* Room for the pool full of the longest text: the pool, not the
	 * arena, runs out first; only what is used becomes resident. */
	if (!err) {
		err = strs_setup(&pres_strs, "subscription text",
				 pool_size(&pres_sub_pool) *
				 strs_for_one_sub());
	}
	if (!err) {
		err = sip_ctx_observe(on_ctx_free, NULL);
	}
	if (err) {
		return err;
	}
	return sip_route("SUBSCRIBE", on_subscribe);
}

void pres_sub_close(void)
{
	struct pres_sub *s, *tmp;

	tmr_cancel(&dirty_tmr);
	tmr_cancel(&drain_tmr);
	sip_ctx_unobserve(on_ctx_free, NULL);
	/* Final NOTIFYs still owed go unsent; their zombies with them. */
	while (owed_head) {
		s = owed_head;
		owed_unlink(s);
		sub_release(s);
	}
	while (dirty_head) {
		struct pres_entity *e = dirty_head;

		dirty_head = e->next_dirty;
		e->next_dirty = NULL;
		e->dirty_events = 0;
	}
	HASH_ITER(hh, subs, s, tmp) {
		tmr_cancel(&s->tmr);
		HASH_DEL(subs, s);
		sub_unlink(s);
		n_subs--;
		pres_sub_free(s);
	}
	strs_release(&pres_strs);
}
