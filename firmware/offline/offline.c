/** @file offline.c  Offline message store and delivery (see offline.h).
 *
 * Delivery runs per owner, one message at a time in arrival order: a
 * "dump" holds the owner's delivery state, so a registration refresh while
 * a message is in flight sends nothing twice. A failed attempt counts a
 * try in the store and waits retry_interval * 2^(tries-1) seconds; after
 * max_tries the message is dropped and counted failed.
 *
 * A 202 is a promise: a message is stored only when the request that
 * delivers it will fit (delivery_fits()), and within the quotas of its
 * owner and of its sender.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LOG_MODULE "offline"
#include "cfg.h"
#include "log.h"
#include "offline.h"
#include "reg.h"
#include "sd_hash.h"
#include "store.h"
#include "tmr.h"
#include "wall.h"

#define MOD_DEF "offline.def"
#include "mod_decl.h"

/* Messages purged or reminders kicked per timer run; more waits a tick. */
#define OFFLINE_BATCH 64
/* Header a sender uses to ask for delivery at a given time (Unix s). */
#define OFFLINE_SEND_TIME_HDR "Send-Time"

struct dump {
	UT_hash_handle hh;
	uint64_t inflight;	/* id being delivered, 0 none */
	uint32_t tries;		/* of the message in flight */
	int64_t send_at;	/* of the message in flight */
	struct tmr retry;
	char owner[CONFIG_SIMPLED_MAX_URI_LEN];
};

struct offline_cfg offline_cfg;
static struct hook_list observers;

int offline_observe(hook_h *h, void *arg)
{
	return hook_add(&observers, h, arg);
}

static void changed(const char *owner)
{
	struct offline_change ch = {owner};

	hook_run(&observers, &ch);
}
static struct dump *dumps;
static struct tmr tick_tmr, due_tmr;
static unsigned ticks;
static char body_buf[CONFIG_SIMPLED_MAX_MSG_SIZE];

#define O struct offline_cfg
#define OFF_INT(n, f, lo, hi, d) CFG_INT_OPT(O, n, f, lo, hi, d)
#define OFF_BOOL(n, f, d) CFG_BOOL_OPT(O, n, f, d)
#define OFF_STR(n, f, d) CFG_STR_OPT(O, n, f, d, NULL)

static const struct cfg_opt offline_opts[] = {
	OFF_INT("expire_time", expire_time, 1, 31536000, "259200"),
	OFF_INT("check_time", check_time, 1, 86400, "60"),
	OFF_INT("clean_period", clean_period, 1, 1000, "5"),
	OFF_INT("max_messages", max_messages, 0, 1000000, "100"),
	OFF_INT("max_messages_per_source", max_messages_per_source, 0,
		1000000, "50"),
	OFF_INT("max_send_ahead", max_send_ahead, 1, 31536000, "2592000"),
	OFF_BOOL("add_date", add_date, "1"),
	OFF_BOOL("use_mode", use_mode, "0"),
	OFF_BOOL("use_contact", use_contact, "1"),
	OFF_INT("max_tries", max_tries, 1, 1000, "5"),
	OFF_INT("retry_interval", retry_interval, 1, 86400, "30"),
	OFF_STR("from_address", from_address, ""),
	OFF_STR("offline_message", offline_message,
		"The recipient is offline. Your message was stored and will "
		"be delivered later."),
	OFF_STR("content_type_hdr", content_type_hdr, "text/plain"),
};
#undef O
#undef OFF_INT
#undef OFF_BOOL
#undef OFF_STR

static const struct cfg_sect offline_sect =
	CFG_SECT("offline", offline_opts, &offline_cfg);

unsigned offline_count(const char *owner)
{
	return store_is_open() ? store_msg_count(owner) : 0;
}

struct purge {
	uint64_t ids[OFFLINE_BATCH];
	unsigned n;
};

static int purge_collect(const struct store_msg *m, void *arg)
{
	struct purge *p = arg;

	p->ids[p->n++] = m->id;
	return p->n == OFFLINE_BATCH;
}

int offline_purge(const char *owner, unsigned *n,
		  void (*h)(int err, void *arg), void *arg)
{
	struct purge p;
	unsigned i;
	int err = 0;

	*n = 0;
	if (!store_is_open()) {
		return ENOENT;
	}
	/* A delivery under way finds its message gone when it is answered
	 * (deleting it again changes nothing) and none after it. */
	do {
		p.n = 0;
		store_msg_list(owner, purge_collect, &p);
		for (i = 0; i < p.n && !err; i++) {
			err = store_msg_del(owner, p.ids[i]);
			*n += !err;
		}
	} while (p.n == OFFLINE_BATCH && !err);
	if (*n) {
		LOG_INF("%u stored messages of %s purged", *n, owner);
		changed(owner);
	}
	if (!err) {
		store_when_durable(h, arg);
	}
	return err;
}

/* ------------------------------------------------------------- delivery */

static void dump_next(struct dump *d);

static void dump_free(struct dump *d)
{
	tmr_cancel(&d->retry);
	HASH_DEL(dumps, d);
	pool_put(&offline_dump_pool, d);
}

static void dump_retry(void *arg)
{
	dump_next(arg);
}

/* Start delivering owner's messages unless that is already under way. */
static void dump_kick(const char *owner)
{
	struct dump *d;

	if (!store_msg_count(owner)) {
		return; /* nothing kept for owner (the index in memory) */
	}
	HASH_FIND_STR(dumps, owner, d);
	if (d) {
		/* In flight or backing off: the running dump continues. */
		return;
	}
	d = pool_get(&offline_dump_pool);
	if (!d) {
		LOG_WRN("delivery for %s postponed: dumps pool exhausted",
			owner);
		return;
	}
	snprintf(d->owner, sizeof(d->owner), "%s", owner);
	SD_HASH_ADD_STR(dumps, owner, d, &offline_dump_pool);
	if (!d) {
		return;
	}
	dump_next(d);
}

/* The wait after a failed try: retry_interval x 2^(tries-1), doubling at
 * most 10 times, in 64 bits (in 32 the product wrapped: retry_interval
 * 67109 s came out as 8.7 s after the 7th try), and at most the longest
 * timer, INT32_MAX ms (24.8 days). */
static uint32_t backoff_ms(uint32_t tries)
{
	uint64_t ms = (uint64_t)offline_cfg.retry_interval * 1000u;

	ms <<= tries - 1 < 10 ? tries - 1 : 10;
	return ms < INT32_MAX ? (uint32_t)ms : INT32_MAX;
}

static void on_delivered(int code, const struct sip_msg *resp, void *arg)
{
	struct dump *d = arg;
	int reminder = d->send_at != 0;
	uint64_t id = d->inflight;

	(void)resp;
	d->inflight = 0;
	if (code >= 200 && code < 300) {
		stat_inc(*(reminder ? &offline_stat_dumped_reminders :
			   &offline_stat_dumped));
	} else if (++d->tries >= (uint32_t)offline_cfg.max_tries) {
		LOG_INF("message %llu for %s dropped after %u tries (last %d)",
			(unsigned long long)id, d->owner, d->tries, code);
		stat_inc(*(reminder ? &offline_stat_failed_reminders :
			   &offline_stat_failed));
	} else {
		store_msg_update(d->owner, id, d->tries, d->send_at);
		tmr_start(&d->retry, backoff_ms(d->tries), dump_retry, d);
		return;
	}
	/* Delivered, or given up: the message goes, the next one follows. */
	store_msg_del(d->owner, id);
	changed(d->owner);
	dump_next(d);
}

/* The contact a dump delivers to, copied out of reg_lookup's callback. */
struct target {
	int found;
	struct sip_flow flow;
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];
};

struct pick {
	int64_t now;
	const struct target *to;
	struct dump *d;
	int sent;
	int err;
};

static void first_taker(const struct reg_contact *c, void *arg)
{
	struct target *t = arg;

	if (!t->found && c->accepts_message) {
		t->found = 1;
		t->flow = *c->flow;
		snprintf(t->uri, sizeof(t->uri), "%s", c->uri);
	}
}

/* Arrival dates are int64_t seconds; gmtime_r() must take them past 2038
 * (32-bit glibc: _TIME_BITS=64, set by the build). */
_Static_assert(sizeof(time_t) >= 8, "time_t must be 64-bit");

static size_t dated_body(const struct store_msg *m, const char **body)
{
	char date[64];
	struct tm tm;
	time_t t = (time_t)m->arrival;
	int n;

	*body = m->body;
	if (!offline_cfg.add_date || strncasecmp(m->ctype, "text/plain", 10)) {
		return m->blen;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm);
	n = snprintf(body_buf, sizeof(body_buf), "[stored %s] ", date);
	if (n < 0 || (size_t)n + m->blen > sizeof(body_buf)) {
		return m->blen;
	}
	memcpy(body_buf + n, m->body, m->blen);
	*body = body_buf;
	return (size_t)n + m->blen;
}

/* The MESSAGE that delivers m to ruri: what send_one() sends, written at
 * arrival too (delivery_fits()). Its header lines and dated body stay in
 * static buffers until the next call. */
static void delivery_request(struct sip_request *r, const struct store_msg *m,
			     const char *ruri)
{
	static char hdrs[STORE_MSG_MAX + 64];
	struct tm tm;
	time_t t = (time_t)m->arrival;
	int n;

	gmtime_r(&t, &tm);
	n = (int)strftime(hdrs, sizeof(hdrs),
			  "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	snprintf(hdrs + n, sizeof(hdrs) - (size_t)n, "%s", m->extra);
	memset(r, 0, sizeof(*r));
	r->method = "MESSAGE";
	r->ruri = ruri;
	r->from = m->from;
	r->to = m->to;
	r->call_id = offline_cfg.use_mode ? m->callid : NULL;
	r->cseq = 1;
	r->hdrs = hdrs;
	r->ctype = m->ctype[0] ? m->ctype : NULL;
	r->blen = dated_body(m, &r->body);
}

/*
 * Will m, about to be stored, fit the largest request we send once it is
 * written for delivery (our Via, Max-Forwards, Date, the [stored ...]
 * prefix, ...)? The contact it goes to is not known yet: its
 * Request-URI counts as the longest the registrar keeps. What the
 * configuration decides (use_mode, add_date, listen, domain) is taken as
 * it is now.
 */
static int delivery_fits(const struct store_msg *m)
{
	static char longest[CONFIG_SIMPLED_MAX_URI_LEN];
	struct sip_request r;

	memset(longest, 'u', sizeof(longest) - 1);
	delivery_request(&r, m, longest);
	return !sip_request_fits(&r);
}

static int send_one(const struct store_msg *m, void *arg)
{
	struct pick *p = arg;
	struct sip_request r;

	if (m->expires <= p->now || (m->send_at && m->send_at > p->now)) {
		return 0; /* expired (purge takes it) or a reminder not due */
	}
	delivery_request(&r, m, p->to->uri);
	p->d->inflight = m->id;
	p->d->tries = m->tries;
	p->d->send_at = m->send_at;
	p->err = sip_request_send(&r, &p->to->flow, on_delivered, p->d);
	p->sent = 1;
	return 1;
}

static void dump_next(struct dump *d)
{
	struct target to;
	struct pick p;

	if (d->inflight || tmr_active(&d->retry)) {
		return;
	}
	memset(&p, 0, sizeof(p));
	memset(&to, 0, sizeof(to));
	p.now = wall_now();
	p.d = d;
	p.to = &to;
	if (store_is_open()) {
		reg_lookup(d->owner, first_taker, &to);
		if (to.found) {
			store_msg_list(d->owner, send_one, &p);
		}
	}
	if (!p.sent) {
		dump_free(d); /* nothing to send, or nowhere to send it */
		return;
	}
	if (p.err) {
		/* Could not even leave: count it as a failed try. */
		on_delivered(503, NULL, d);
	}
}

static int on_reg_change(void *ev, void *arg)
{
	const struct reg_change *ch = ev;

	(void)arg;
	if ((ch->ev == REG_ADDED || ch->ev == REG_REFRESHED) &&
	    ch->c->accepts_message && store_is_open()) {
		dump_kick(ch->aor);
	}
	return 0;
}

/* --------------------------------------------------------------- timers */

static void arm_due(void);

/* Owners with a reminder due; kicked once the store's read is over (no
 * store call may run inside a store callback). */
struct due_owners {
	unsigned n;
	char owner[OFFLINE_BATCH][CONFIG_SIMPLED_MAX_URI_LEN];
};

static int note_due(const struct store_msg *m, void *arg)
{
	struct due_owners *d = arg;

	if (d->n < OFFLINE_BATCH) {
		snprintf(d->owner[d->n++], sizeof(d->owner[0]), "%s",
			 m->owner);
	}
	return 0;
}

static void due_fire(void *arg)
{
	static struct due_owners due;
	unsigned i;

	(void)arg;
	due.n = 0;
	store_msg_due(wall_now(), OFFLINE_BATCH, note_due, &due);
	for (i = 0; i < due.n; i++) {
		dump_kick(due.owner[i]);
	}
	arm_due();
}

/* Reminders are kicked at their time; a reminder already in a backing-off
 * dump stays in the index and is found again a tick later. */
static void arm_due(void)
{
	int64_t next = store_is_open() ? store_msg_next_due() : 0;
	int64_t now = wall_now();
	int64_t wait;

	tmr_cancel(&due_tmr);
	if (!next) {
		return;
	}
	wait = next > now ? next - now : 0;
	if (wait > offline_cfg.check_time) {
		wait = offline_cfg.check_time;
	}
	tmr_start(&due_tmr, (uint32_t)(wait ? wait * 1000 : 1000), due_fire,
		  NULL);
}

static int count_expired(const struct store_msg *m, void *arg)
{
	stat_inc(offline_stat_expired);
	return note_due(m, arg);
}

int offline_cleanup(unsigned *n, void (*h)(int err, void *arg), void *arg)
{
	static struct due_owners gone;
	unsigned batch, i;

	*n = 0;
	if (!store_is_open()) {
		return ENOENT;
	}
	do {
		batch = 0;
		gone.n = 0;
		store_msg_expire(wall_now(), OFFLINE_BATCH, count_expired,
				 &gone, &batch);
		for (i = 0; i < gone.n; i++) {
			changed(gone.owner[i]);
		}
		*n += batch;
	} while (batch == OFFLINE_BATCH);
	LOG_INF("cleanup: %u expired stored messages removed", *n);
	store_when_durable(h, arg);
	return 0;
}

static void tick(void *arg)
{
	static struct due_owners gone;
	unsigned n = 0, i;

	(void)arg;
	if (store_is_open() &&
	    ++ticks % (unsigned)offline_cfg.clean_period == 0) {
		gone.n = 0;
		store_msg_expire(wall_now(), OFFLINE_BATCH, count_expired,
				 &gone, &n);
		if (n == OFFLINE_BATCH) {
			ticks--; /* more to purge: again next tick */
		}
		for (i = 0; i < gone.n; i++) {
			changed(gone.owner[i]);
		}
	}
	arm_due();
	tmr_start(&tick_tmr, (uint32_t)offline_cfg.check_time * 1000u, tick,
		  NULL);
}

/* ---------------------------------------------------------------- store */

/* A message that could not be stored: why, as the sender sees it. */
static void answer_refused(struct sip_stx *st, int err)
{
	stat_inc(offline_stat_refused);
	if (err == ENOSPC) {
		stat_inc(stat_overload);
		sip_reply(st, 503, "Message store full", "Retry-After: 60\r\n",
			  NULL, NULL, 0);
	} else {
		sip_reply(st, 500, "Message store unavailable", NULL, NULL,
			  NULL, 0);
	}
}


static void send_notice(const struct sip_msg *req, const char *owner)
{
	osip_message_t *om = req->osip;
	osip_contact_t *ct = NULL;
	const osip_uri_t *target = om->from ? om->from->url : NULL;
	struct sip_request r;
	struct sip_flow dst = req->flow;
	char ruri[CONFIG_SIMPLED_MAX_URI_LEN], to[CONFIG_SIMPLED_MAX_URI_LEN + 2];

	(void)owner;
	if (offline_cfg.use_contact &&
	    osip_message_get_contact(om, 0, &ct) >= 0 && ct && ct->url) {
		target = ct->url;
		if (sip_contact_flow(ct->url, &req->flow, &dst)) {
			dst = req->flow;
		}
	}
	if (!target || sip_uri_print(target, ruri, sizeof(ruri)) ||
	    !om->from || sip_uri_print(om->from->url, to + 1,
				       sizeof(to) - 2)) {
		return;
	}
	to[0] = '<';
	strcat(to, ">");
	memset(&r, 0, sizeof(r));
	r.method = "MESSAGE";
	r.ruri = ruri;
	r.from = offline_cfg.from_address;
	r.to = to;
	r.ctype = offline_cfg.content_type_hdr;
	r.body = offline_cfg.offline_message;
	r.blen = strlen(offline_cfg.offline_message);
	if (!sip_request_send(&r, &dst, NULL, NULL)) {
		stat_inc(offline_stat_notices);
	}
}

/* A message not stored, counted, and answered why. */
static void refuse(struct sip_stx *st, int code, const char *why)
{
	stat_inc(offline_stat_refused);
	sip_reply(st, code, why, NULL, NULL, NULL, 0);
}

/* The quota one more message for owner from sender ("": the server
 * itself) would break: 0 none, 480 the owner's (max_messages), 403 the
 * sender's (max_messages_per_source). Both counts are kept in memory. */
static int over_quota(const char *owner, const char *sender)
{
	if (offline_cfg.max_messages &&
	    store_msg_count(owner) >= (unsigned)offline_cfg.max_messages) {
		return 480;
	}
	if (sender[0] && offline_cfg.max_messages_per_source &&
	    store_msg_sender_count(sender) >=
	    (unsigned)offline_cfg.max_messages_per_source) {
		return 403;
	}
	return 0;
}

/* The reminder time a Send-Time asks for: 0 (none, or not in the future),
 * or -1 after answering 400 (malformed, or further ahead than
 * max_send_ahead). */
static int64_t send_time(struct sip_stx *st, const struct sip_msg *req,
			 int64_t now)
{
	int ahead = offline_cfg.max_send_ahead;
	char why[64];
	uint32_t v;
	int err = sip_hdr_u32(st, sip_msg_hdr_name(req, OFFLINE_SEND_TIME_HDR),
			      OFFLINE_SEND_TIME_HDR, &v);

	if (err == EBADMSG) {
		return -1;
	}
	if (err || (int64_t)v <= now) {
		return 0;
	}
	if ((int64_t)v - now > ahead) {
		if (ahead % 86400) {
			snprintf(why, sizeof(why), "Send-Time more than %d s "
				 "ahead", ahead);
		} else {
			snprintf(why, sizeof(why), "Send-Time more than %d "
				 "days ahead", ahead / 86400);
		}
		refuse(st, 400, why);
		return -1;
	}
	return v;
}

/* v appended to b with a NUL; returns where it starts. */
static const char *field_add(struct sd_buf *b, struct sd_pl v)
{
	const char *start = b->p + b->len;

	sd_buf_pl(b, v);
	sd_buf_add(b, "", 1);
	return b->overflow ? "" : start;
}

/* The value of header id, empty when absent. */
static struct sd_pl hdr_value(const struct sip_msg *req, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(req, id);

	return h ? h->value : sd_pl("", 0);
}

/* Header lines worth keeping for the recipient, appended with a NUL. */
static const char *extra_add(struct sd_buf *b, const struct sip_msg *req)
{
	static const char *const keep[] = {"Subject", "Priority",
					   "In-Reply-To", "Reply-To"};
	const char *start = b->p + b->len;
	unsigned i, k;

	for (i = 0; i < req->nhdrs; i++) {
		for (k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
			if (!sd_pl_casecmp(req->hdrs[i].name, keep[k])) {
				sd_buf_printf(b, "%s: ", keep[k]);
				sd_buf_pl(b, req->hdrs[i].value);
				sd_buf_str(b, "\r\n");
			}
		}
	}
	sd_buf_add(b, "", 1);
	return b->overflow ? "" : start;
}

void offline_store(struct sip_stx *st, const struct sip_msg *req,
		   const char *owner)
{
	static char fields[STORE_MSG_MAX];
	char sender[SIP_SOURCE_LEN];
	struct sd_buf b;
	const struct sip_hdr *h;
	struct store_msg m;
	int64_t now = wall_now();
	uint32_t v;
	int err;

	if (!store_is_open()) {
		answer_refused(st, EIO);
		return;
	}
	sip_msg_source(req, sender, sizeof(sender));
	switch (over_quota(owner, sender)) {
	case 480:
		refuse(st, 480, "Offline mailbox full");
		return;
	case 403:
		refuse(st, 403, "Too many stored messages from this sender");
		return;
	}
	memset(&m, 0, sizeof(m));
	m.expires = now + offline_cfg.expire_time;
	h = sip_msg_hdr(req, SIP_HDR_EXPIRES);
	if (h && !sd_pl_u32(h->value, &v)) {
		if (v == 0) {
			sip_reply(st, 480, "User not online", NULL, NULL, NULL,
				  0);
			return;
		}
		if (now + (int64_t)v < m.expires) {
			m.expires = now + v;
		}
	}
	m.send_at = send_time(st, req, now);
	if (m.send_at < 0) {
		return;
	}
	if (m.send_at && m.expires < m.send_at + offline_cfg.expire_time) {
		m.expires = m.send_at + offline_cfg.expire_time;
	}
	sd_buf_init(&b, fields, sizeof(fields));
	m.owner = owner;
	m.from = field_add(&b, hdr_value(req, SIP_HDR_FROM));
	m.to = field_add(&b, hdr_value(req, SIP_HDR_TO));
	m.ctype = field_add(&b, hdr_value(req, SIP_HDR_CONTENT_TYPE));
	m.callid = field_add(&b, offline_cfg.use_mode ? req->call_id
						      : sd_pl("", 0));
	m.extra = extra_add(&b, req);
	m.sender = sender;
	m.body = req->body.p;
	m.blen = req->body.l;
	m.arrival = now;
	if (b.overflow || b.len + req->body.l > STORE_MSG_MAX ||
	    !delivery_fits(&m)) {
		refuse(st, 513, "Message too large to deliver from the store");
		return;
	}
	err = store_msg_put(&m);
	if (err) {
		LOG_WRN("cannot store a message for %s: %s", owner,
			store_strerror(err));
		answer_refused(st, err);
		return;
	}
	stat_inc(offline_stat_stored);
	changed(owner);
	if (offline_cfg.from_address[0]) {
		send_notice(req, owner);
	}
	if (m.send_at) {
		arm_due();
	}
	/* 202 once the group commit that holds it is on disk. */
	sip_reply_hold(st, 202, NULL, NULL, NULL, NULL, 0);
	store_when_durable(sip_reply_release, st);
}

int offline_put(const char *owner, const char *from, const char *to,
		const char *ctype, const char *body, size_t blen)
{
	struct store_msg m;
	int err;

	if (!store_is_open()) {
		return ENODEV;
	}
	if (over_quota(owner, "")) {
		stat_inc(offline_stat_refused);
		return EDQUOT;
	}
	memset(&m, 0, sizeof(m));
	m.owner = owner;
	m.from = from;
	m.to = to;
	m.ctype = ctype ? ctype : "";
	m.callid = "";
	m.extra = "";
	m.body = body;
	m.blen = blen;
	m.arrival = wall_now();
	m.expires = m.arrival + offline_cfg.expire_time;
	if (!delivery_fits(&m)) {
		stat_inc(offline_stat_refused);
		return EMSGSIZE;
	}
	err = store_msg_put(&m);
	if (!err) {
		stat_inc(offline_stat_stored);
		changed(owner);
	}
	return err;
}

void offline_kick(const char *owner)
{
	if (store_is_open() && store_msg_count(owner)) {
		dump_kick(owner);
	}
}

static int offline_start(void)
{
	int err;

	err = pool_setup(&offline_dump_pool, sizeof(struct dump));
	if (err) {
		return err;
	}
	if (!store_is_open()) {
		LOG_ERR("offline messages unavailable: no store");
	}
	err = reg_observe(on_reg_change, NULL);
	if (err) {
		return err;
	}
	ticks = 0;
	tmr_start(&tick_tmr, (uint32_t)offline_cfg.check_time * 1000u, tick,
		  NULL);
	arm_due();
	return 0;
}

static void offline_stop(void)
{
	struct dump *d, *tmp;

	tmr_cancel(&tick_tmr);
	tmr_cancel(&due_tmr);
	HASH_ITER(hh, dumps, d, tmp) {
		dump_free(d);
	}
	hook_clear(&observers);
}

#define MOD_DEF "offline.def"
#define MOD_VAR offline_mod
#define MOD_NAME "offline"
#define MOD_SECT &offline_sect
#define MOD_START offline_start
#define MOD_STOP offline_stop
#include "mod_def.h"
