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
#include "mem.h"
#include "offline_priv.h"
#include "reg.h"
#include "sd_hash.h"
#include "store.h"
#include "tmr.h"
#include "wall.h"

#define MOD_DEF "offline.def"
#include "mod_decl.h"

/* Messages purged or reminders kicked per timer run; more waits a tick. */
#define OFFLINE_BATCH 64
/* History is written while the store is less full than this (percent of
 * the map), and gives way this many entries at a time to a message a
 * device waits for when the store is full. */
#define OFFLINE_HISTORY_FILL_PCT 85
#define OFFLINE_EVICT_BATCH 16
/* Header a sender uses to ask for delivery at a given time (Unix s). */
#define OFFLINE_SEND_TIME_HDR "Send-Time"

/* The contact a dump delivers to, copied out of reg_lookup's callback
 * (or given: a history replay). */
struct target {
	int found;
	struct sip_flow flow;
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];
};

/* Delivery of one queue (owner: its key, offline_priv.h), or a history
 * replay (replay set: not in the hash, on the replays list, to a fixed
 * target, each entry after `after` once). */
struct dump {
	UT_hash_handle hh;
	struct dump *next;	/* replays */
	uint64_t inflight;	/* id being delivered, 0 none */
	uint32_t tries;		/* of the message in flight */
	int64_t send_at;	/* of the message in flight */
	struct tmr retry;
	int replay;
	int restart;		/* a newer ask: from restart_after next */
	uint64_t after, restart_after;
	struct target to;
	char owner[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
};

struct offline_cfg offline_cfg;
static struct hook_list observers;

int offline_observe(hook_h *h, void *arg)
{
	return hook_add(&observers, h, arg);
}

/* The count of a queue changed: its user's observers are told. */
static void changed(const char *key)
{
	char user[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
	struct offline_change ch = {user};

	offline_key_user(key, user, sizeof(user));
	hook_run(&observers, &ch);
}
static struct dump *dumps, *replays;
static unsigned n_replays;
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
	OFF_INT("device_memory", device_memory, 0, 31536000, "604800"),
	OFF_BOOL("sent_copies", sent_copies, "1"),
	OFF_INT("user_history", user_history, 0, 1000, "100"),
	OFF_INT("history_expire", history_expire, 1, 31536000, "2592000"),
	OFF_STR("history_user", history_user, "history"),
};
#undef O
#undef OFF_INT
#undef OFF_BOOL
#undef OFF_STR

static const struct cfg_sect offline_sect =
	CFG_SECT("offline", offline_opts, &offline_cfg);

/* ------------------------------------------------------------- queues */

/* FNV-1a, 64 bits: the same on every build and across restarts. */
static uint64_t inst_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	}
	return h;
}

int offline_key(char *buf, size_t size, const char *user, const char *inst,
		int hist)
{
	int n;

	if (hist) {
		n = snprintf(buf, size, "%s%c", user, OFFLINE_HIST_SEP);
	} else if (inst && inst[0]) {
		n = snprintf(buf, size, "%s%c%016llx", user, OFFLINE_DEV_SEP,
			     (unsigned long long)inst_hash(inst));
	} else {
		n = snprintf(buf, size, "%s", user);
	}
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

void offline_key_user(const char *key, char *buf, size_t size)
{
	size_t n = strcspn(key, "\x1e\x1f");

	if (n >= size) {
		n = size - 1;
	}
	memcpy(buf, key, n);
	buf[n] = '\0';
}

/* The key of user's device inst ("": any) into buf (size
 * CONFIG_SIMPLED_STORE_MAX_OWNER_LEN); "" when too long. */
static const char *dev_key(char *buf, const char *user, const char *inst)
{
	if (offline_key(buf, CONFIG_SIMPLED_STORE_MAX_OWNER_LEN, user, inst,
			0)) {
		buf[0] = '\0';
	}
	return buf;
}

int offline_device_waiting(const char *user, const char *inst)
{
	char key[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];

	return store_is_open() && inst[0] &&
	       store_msg_count(dev_key(key, user, inst)) > 0;
}

struct most {
	const char *user;
	unsigned n;
};

static int most_waiting(const char *inst, void *arg)
{
	struct most *m = arg;
	char key[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
	unsigned n = store_msg_count(dev_key(key, m->user, inst));

	if (n > m->n) {
		m->n = n;
	}
	return 0;
}

/* What a user has waiting: the most any one of their devices (or the
 * queue for whichever device) waits for. */
unsigned offline_count(const char *owner)
{
	struct most m = {owner, 0};

	if (!store_is_open()) {
		return 0;
	}
	m.n = store_msg_count(owner);
	offline_dev_each(owner, most_waiting, &m);
	return m.n;
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

/* Delete every message of queue key; *n counts them. A delivery under
 * way finds its message gone when it is answered (deleting it again
 * changes nothing) and none after it. @return 0 or the store's error. */
static int queue_purge(const char *key, unsigned *n)
{
	struct purge p;
	unsigned i;
	int err = 0;

	do {
		p.n = 0;
		store_msg_list(key, purge_collect, &p);
		for (i = 0; i < p.n && !err; i++) {
			err = store_msg_del(key, p.ids[i]);
			*n += !err;
		}
	} while (p.n == OFFLINE_BATCH && !err);
	return err;
}

unsigned offline_queue_drop(const char *key)
{
	unsigned n = 0;

	queue_purge(key, &n);
	if (n) {
		changed(key);
	}
	return n;
}

struct purge_all {
	const char *user;
	unsigned *n;
	int err;
};

static int purge_device(const char *inst, void *arg)
{
	struct purge_all *pa = arg;
	char key[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];

	pa->err = queue_purge(dev_key(key, pa->user, inst), pa->n);
	return pa->err;
}

int offline_purge(const char *owner, unsigned *n,
		  void (*h)(int err, void *arg), void *arg)
{
	struct purge_all pa = {owner, n, 0};

	*n = 0;
	if (!store_is_open()) {
		return ENOENT;
	}
	pa.err = queue_purge(owner, n);
	if (!pa.err) {
		offline_dev_each(owner, purge_device, &pa);
	}
	if (*n) {
		LOG_INF("%u stored messages of %s purged", *n, owner);
		changed(owner);
	}
	if (!pa.err) {
		store_when_durable(h, arg);
	}
	return pa.err;
}

/* ------------------------------------------------------------- delivery */

static void dump_next(struct dump *d);

static void dump_free(struct dump *d)
{
	struct dump **pp;

	tmr_cancel(&d->retry);
	if (!d->replay) {
		HASH_DEL(dumps, d);
	}
	for (pp = &replays; d->replay && *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			n_replays--;
			break;
		}
	}
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
	memset(d, 0, sizeof(*d));
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
	if (d->replay) {
		/* A replay sends each entry once; an unreachable device asks
		 * again. */
		d->after = id;
		if (code >= 200 && code < 300) {
			stat_inc(offline_stat_history_sent);
		}
		if (d->restart) {
			d->restart = 0;
			d->after = d->restart_after;
			dump_next(d);
		} else if (code >= 200 && code < 300) {
			dump_next(d);
		} else {
			dump_free(d);
		}
		return;
	}
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

struct pick {
	int64_t now;
	const struct target *to;
	struct dump *d;
	int sent;
	int err;
};

/* The first contact taking MESSAGE; for a device's queue, one of that
 * device (its key's hash of the instance). */
struct taker {
	struct target *t;
	int device;		/* a device's queue: hash names it */
	uint64_t hash;
};

static void first_taker(const struct reg_contact *c, void *arg)
{
	struct taker *tk = arg;
	struct target *t = tk->t;

	if (tk->device &&
	    (!c->instance[0] || inst_hash(c->instance) != tk->hash)) {
		return;
	}
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
			     const char *ruri, int replay)
{
	static char hdrs[STORE_MSG_MAX + 96];
	struct tm tm;
	time_t t = (time_t)m->arrival;
	int n;

	gmtime_r(&t, &tm);
	n = (int)strftime(hdrs, sizeof(hdrs),
			  "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	if (replay) {
		n += snprintf(hdrs + n, sizeof(hdrs) - (size_t)n,
			      OFFLINE_HIST_HDR ": %llu\r\n",
			      (unsigned long long)m->id);
	}
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
	delivery_request(&r, m, longest, 0);
	return !sip_request_fits(&r);
}

static int send_one(const struct store_msg *m, void *arg)
{
	struct pick *p = arg;
	struct sip_request r;

	if (m->expires <= p->now || (m->send_at && m->send_at > p->now)) {
		return 0; /* expired (purge takes it) or a reminder not due */
	}
	delivery_request(&r, m, p->to->uri, p->d->replay);
	p->d->inflight = m->id;
	p->d->tries = m->tries;
	p->d->send_at = m->send_at;
	p->err = sip_request_send(&r, &p->to->flow, on_delivered, p->d);
	if (p->d->replay && p->err == EMSGSIZE) {
		/* A history entry whose replay does not fit this contact:
		 * passed over, the next one goes. */
		p->d->inflight = 0;
		p->d->after = m->id;
		p->err = 0;
		return 0;
	}
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
	p.to = d->replay ? &d->to : &to;
	if (store_is_open() && !d->replay) {
		char user[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
		const char *sep = strchr(d->owner, OFFLINE_DEV_SEP);
		struct taker tk = {&to, sep != NULL,
				   sep ? strtoull(sep + 1, NULL, 16) : 0};

		offline_key_user(d->owner, user, sizeof(user));
		reg_lookup(user, first_taker, &tk);
	}
	if (store_is_open() && p.to->found) {
		/* A replay goes on after what it sent, or its marker. */
		store_msg_list_after(d->owner, d->replay ? d->after : 0,
				     send_one, &p);
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
	char key[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
	int up = ch->ev == REG_ADDED || ch->ev == REG_REFRESHED;

	(void)arg;
	if (!store_is_open()) {
		return 0;
	}
	offline_dev_seen(ch->aor, ch->c->instance, !up);
	if (up && ch->c->accepts_message) {
		dump_kick(ch->aor);
		if (ch->c->instance[0]) {
			dump_kick(dev_key(key, ch->aor, ch->c->instance));
		}
	}
	return 0;
}

/* --------------------------------------------------------------- timers */

static void arm_due(void);

/* Owners with a reminder due; kicked once the store's read is over (no
 * store call may run inside a store callback). */
struct due_owners {
	unsigned n;
	char owner[OFFLINE_BATCH][CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
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
		offline_dev_sweep();
	}
	arm_due();
	tmr_start(&tick_tmr, (uint32_t)offline_cfg.check_time * 1000u, tick,
		  NULL);
}

/* ---------------------------------------------------------------- store */


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
		stat_inc(offline_stat_refused);
		sip_reply(st, 400, why, NULL, NULL, NULL, 0);
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

/* ---------------------------------------------------------------- copies */

/* Fields of a message kept for delivery, built by field_add() before
 * copy_make() takes them. */
static char fields[STORE_MSG_MAX];

/* The fields f, written at b's buffer (each with its NUL), and the body,
 * as a copy in the budget; a field that did not fit there (field_add()
 * gave "" for it) stays "", and the copy is not to be kept (too large).
 * @return NULL without memory. */
static struct offline_copy *copy_make(const struct sd_buf *b,
				      const char *const *f, const void *body,
				      size_t blen)
{
	struct offline_copy *c = mem_alloc(sizeof(*c) + b->len + blen);
	const char **to[6];
	unsigned i;

	if (!c) {
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	to[0] = &c->from;
	to[1] = &c->to;
	to[2] = &c->ctype;
	to[3] = &c->callid;
	to[4] = &c->extra;
	to[5] = &c->sender;
	c->refs = 1;
	memcpy(c->text, b->p, b->len);
	for (i = 0; i < 6; i++) {
		*to[i] = f[i] >= b->p && f[i] < b->p + b->len ?
			 c->text + (f[i] - b->p) : "";
	}
	c->body = c->text + b->len;
	c->blen = blen;
	memcpy((char *)c->body, body, blen);
	/* Too large to keep: delivered live only. */
	c->expires = b->overflow ? -1 : wall_now() + offline_cfg.expire_time;
	return c;
}

struct offline_copy *offline_copy_req(const struct sip_msg *req)
{
	char sender[SIP_SOURCE_LEN];
	const struct sip_hdr *h;
	struct offline_copy *c;
	const char *f[6];
	struct sd_buf b;
	uint32_t v;

	sip_msg_source(req, sender, sizeof(sender));
	sd_buf_init(&b, fields, sizeof(fields));
	f[0] = field_add(&b, hdr_value(req, SIP_HDR_FROM));
	f[1] = field_add(&b, hdr_value(req, SIP_HDR_TO));
	f[2] = field_add(&b, hdr_value(req, SIP_HDR_CONTENT_TYPE));
	f[3] = field_add(&b, offline_cfg.use_mode ? req->call_id
						  : sd_pl("", 0));
	f[4] = extra_add(&b, req);
	f[5] = field_add(&b, sd_pl_str(sender));
	c = copy_make(&b, f, req->body.p, req->body.l);
	if (!c) {
		return NULL;
	}
	h = sip_msg_hdr(req, SIP_HDR_EXPIRES);
	if (h && !sd_pl_u32(h->value, &v)) {
		int64_t now = wall_now();

		if (v == 0 && c->expires > 0) {
			c->expires = 0;
		} else if (c->expires > 0 && now + (int64_t)v < c->expires) {
			c->expires = now + v;
		}
	}
	return c;
}

struct offline_copy *offline_copy_new(const char *from, const char *to,
				      const char *ctype, const char *extra,
				      const char *body, size_t blen)
{
	const char *v[6] = {from, to, ctype ? ctype : "", "",
			    extra ? extra : "", ""};
	const char *f[6];
	struct sd_buf b;
	unsigned i;

	sd_buf_init(&b, fields, sizeof(fields));
	for (i = 0; i < 6; i++) {
		f[i] = field_add(&b, sd_pl_str(v[i]));
	}
	return copy_make(&b, f, body, blen);
}

void offline_copy_put(struct offline_copy *c)
{
	if (c && !--c->refs) {
		mem_put(c);
	}
}

const char *offline_copy_hdrs(const struct offline_copy *c, int with_extra,
			      char *buf, size_t size)
{
	struct sd_buf b;

	sd_buf_init(&b, buf, size);
	if (c->hist_id) {
		/* 64 bits on every target (unsigned long is 32 on some). */
		sd_buf_printf(&b, OFFLINE_HIST_HDR ": %llu\r\n",
			      (unsigned long long)c->hist_id);
	}
	if (c->sent) {
		sd_buf_str(&b, OFFLINE_SENT_HDR ": yes\r\n");
	}
	if (with_extra) {
		sd_buf_str(&b, c->extra);
	}
	if (b.overflow) {
		b.len = 0;
	}
	buf[b.len < size ? b.len : size - 1] = '\0';
	return buf;
}

/* The quota one more message in queue key from sender ("": nobody)
 * would break: 0, EDQUOT (the queue's, max_messages) or EUSERS (the
 * sender's, max_messages_per_source). Both counts are kept in memory. */
static int over_quota(const char *key, const char *sender)
{
	if (offline_cfg.max_messages &&
	    store_msg_count(key) >= (unsigned)offline_cfg.max_messages) {
		return EDQUOT;
	}
	if (sender[0] && offline_cfg.max_messages_per_source &&
	    store_msg_sender_count(sender) >=
	    (unsigned)offline_cfg.max_messages_per_source) {
		return EUSERS;
	}
	return 0;
}

/* c as a record of queue key (with the copy's marks in its extra lines,
 * kept in a static buffer until the next call). */
static void copy_record(struct store_msg *m, const struct offline_copy *c,
			const char *key, int marks)
{
	static char extra[STORE_MSG_MAX];

	memset(m, 0, sizeof(*m));
	m->owner = key;
	m->from = c->from;
	m->to = c->to;
	m->ctype = c->ctype;
	m->callid = c->callid;
	m->extra = marks ? offline_copy_hdrs(c, 1, extra, sizeof(extra)) :
		   c->extra;
	m->sender = c->counted ? "" : c->sender;
	m->body = c->body;
	m->blen = c->blen;
	m->arrival = wall_now();
	m->expires = c->expires;
}

static int is_history(const char *owner)
{
	size_t n = strlen(owner);

	return n && owner[n - 1] == OFFLINE_HIST_SEP;
}

/* Delete the n oldest entries of all histories. @return how many. */
static unsigned history_evict(unsigned n)
{
	char owner[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
	unsigned done = 0;
	uint64_t id;

	while (done < n && !store_msg_oldest(is_history, owner, &id) &&
	       !store_msg_del(owner, id)) {
		stat_inc(offline_stat_history_evicted);
		done++;
	}
	return done;
}

/* Delete the whole history holding the oldest entry (its owner entry is
 * free then). @return how many entries went. */
static unsigned history_evict_owner(void)
{
	char owner[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
	unsigned n = 0;
	uint64_t id;

	if (!store_msg_oldest(is_history, owner, &id) &&
	    !store_msg_trim(owner, 0, &n)) {
		offline_stat_history_evicted += n;
	}
	return n;
}

/* Keep c in queue key, a reminder at send_at (0: none). */
static int keep_in(struct offline_copy *c, const char *key, int64_t send_at)
{
	struct store_msg m;
	int err;

	if (!store_is_open()) {
		return ENODEV;
	}
	if (!key[0]) {
		return ENAMETOOLONG;
	}
	if (c->expires <= 0) {
		return c->expires ? EMSGSIZE : ENOENT;
	}
	copy_record(&m, c, key, 1);
	err = over_quota(key, m.sender);
	if (err) {
		stat_inc(offline_stat_refused);
		return err;
	}
	m.send_at = send_at;
	if (send_at && m.expires < send_at + offline_cfg.expire_time) {
		m.expires = send_at + offline_cfg.expire_time;
	}
	if (!delivery_fits(&m)) {
		stat_inc(offline_stat_refused);
		return EMSGSIZE;
	}
	err = store_msg_put(&m);
	if (err == ENOSPC && history_evict(OFFLINE_EVICT_BATCH)) {
		/* A waiting message comes before history: the oldest
		 * entries of any history give way. Their index entries are
		 * free at once (store_messages); their pages once this group
		 * is committed, for the next message. */
		err = store_msg_put(&m);
		if (err == ENOSPC && history_evict_owner()) {
			/* Every owner taken (store_owners): the oldest
			 * history goes whole, its owner with it. */
			err = store_msg_put(&m);
		}
	}
	if (err) {
		LOG_WRN("cannot store a message for %s: %s", key,
			store_strerror(err));
		return err;
	}
	c->counted = 1;
	stat_inc(offline_stat_stored);
	changed(key);
	if (send_at) {
		arm_due();
	}
	return 0;
}

int offline_keep(struct offline_copy *c, const char *user, const char *inst)
{
	char key[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
	int err = keep_in(c, dev_key(key, user, inst ? inst : ""), 0);

	if (!err && inst && inst[0]) {
		stat_inc(offline_stat_device_copies);
	}
	return err;
}

/* Remembered devices without a binding taking MESSAGE now. */
struct away {
	struct offline_copy *c;
	const char *user;
	const char *except;
	unsigned kept;
};

static int keep_if_away(const char *inst, void *arg)
{
	struct away *a = arg;

	if ((!a->except || strcmp(inst, a->except)) &&
	    !offline_device_bound(a->user, inst, 1) &&
	    !offline_keep(a->c, a->user, inst)) {
		a->kept++;
	}
	return 0;
}

unsigned offline_keep_away(struct offline_copy *c, const char *user,
			   const char *except)
{
	struct away a = {c, user, except, 0};

	if (store_is_open()) {
		offline_dev_each(user, keep_if_away, &a);
	}
	return a.kept;
}

/* ---------------------------------------------------------------- history */

uint64_t offline_history_add(struct offline_copy *c, const char *user)
{
	char key[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
	unsigned cap = (unsigned)offline_cfg.user_history, trimmed;
	struct store_msg m;

	c->hist_id = 0;
	if (!store_is_open() || !offline_cfg.user_history ||
	    offline_key(key, sizeof(key), user, NULL, 1)) {
		return 0;
	}
	if (store_fill_pct() >= OFFLINE_HISTORY_FILL_PCT) {
		/* The rest of the store is for messages devices wait for:
		 * no entry now, and the oldest of all histories make room
		 * (counted free once this group is committed). */
		history_evict(OFFLINE_EVICT_BATCH);
		return 0;
	}
	/* Its History-Id is its own id, written at each replay; the mark
	 * of a sent one is kept. Whether a replay of it fits is seen at the
	 * replay (one that does not is passed over). */
	copy_record(&m, c, key, c->sent);
	m.sender = "";
	m.expires = m.arrival + offline_cfg.history_expire;
	m.lazy = 1;
	if (store_msg_put(&m)) {
		return 0; /* best effort: no reason to refuse the message */
	}
	/* Kept to its length in batches of an eighth (at least one): one
	 * write deletes them together. */
	if (store_msg_count(key) >= cap + (cap + 7) / 8) {
		store_msg_trim(key, cap, &trimmed);
	}
	stat_inc(offline_stat_history_kept);
	c->hist_id = m.id;
	return m.id;
}

static int hist_count(const struct store_msg *m, void *arg)
{
	(void)m;
	++*(int *)arg;
	return 0;
}

int offline_history(const char *user, uint64_t after, store_msg_h *h,
		    void *arg)
{
	char key[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];

	if (!store_is_open()) {
		return ENOENT;
	}
	if (offline_key(key, sizeof(key), user, NULL, 1)) {
		return 0;
	}
	return store_msg_list_after(key, after, h, arg);
}

int offline_history_replay(const char *user, uint64_t after,
			   const char *ruri, const struct sip_flow *flow)
{
	struct dump *d;
	int n = 0;

	if (!store_is_open()) {
		return -ENOENT;
	}
	offline_history(user, after, hist_count, &n);
	if (!n) {
		return 0;
	}
	/* One replay per user: a new ask takes over the one under way
	 * (from its marker, once the entry in flight is answered), so a
	 * device asking again and again holds one dump; and replays take
	 * at most a quarter of the dumps, the rest deliver waiting
	 * messages. */
	for (d = replays; d; d = d->next) {
		char user_of[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];

		offline_key_user(d->owner, user_of, sizeof(user_of));
		if (strcmp(user_of, user)) {
			continue;
		}
		d->to.flow = *flow;
		sd_str_copy(d->to.uri, sizeof(d->to.uri), ruri);
		if (d->inflight) {
			d->restart = 1;
			d->restart_after = after;
		} else {
			d->after = after;
			tmr_start(&d->retry, 0, dump_retry, d);
		}
		return n;
	}
	if (n_replays >= (pool_size(&offline_dump_pool) + 3) / 4) {
		return -EBUSY;
	}
	d = pool_get(&offline_dump_pool);
	if (!d) {
		return -ENOSPC;
	}
	n_replays++;
	memset(d, 0, sizeof(*d));
	d->replay = 1;
	d->after = after;
	d->to.found = 1;
	d->to.flow = *flow;
	sd_str_copy(d->to.uri, sizeof(d->to.uri), ruri);
	if (offline_key(d->owner, sizeof(d->owner), user, NULL, 1)) {
		pool_put(&offline_dump_pool, d);
		return 0;
	}
	d->next = replays;
	replays = d;
	/* The first goes out in the next turn: after the answer to the
	 * ask. */
	tmr_start(&d->retry, 0, dump_retry, d);
	return n;
}

/* ---------------------------------------------------------------- store */

/* Why a message could not be kept, as its sender sees it. */
static void answer_refused(struct sip_stx *st, int err)
{
	switch (err) {
	case EDQUOT:
		sip_reply(st, 480, "Offline mailbox full", NULL, NULL, NULL, 0);
		return;
	case EUSERS:
		sip_reply(st, 403, "Too many stored messages from this sender",
			  NULL, NULL, NULL, 0);
		return;
	case EMSGSIZE:
		sip_reply(st, 513, "Message too large to deliver from the store",
			  NULL, NULL, NULL, 0);
		return;
	case ENOENT:
		sip_reply(st, 480, "User not online", NULL, NULL, NULL, 0);
		return;
	case ENOSPC:
		stat_inc(offline_stat_refused);
		stat_inc(stat_overload);
		sip_reply(st, 503, "Message store full", "Retry-After: 60\r\n",
			  NULL, NULL, 0);
		return;
	}
	stat_inc(offline_stat_refused);
	sip_reply(st, 500, "Message store unavailable", NULL, NULL, NULL, 0);
}

/* The answer to a message kept (err 0: 202 once durable) or not. */
static void kept_answer(struct sip_stx *st, const struct sip_msg *req,
			const char *owner, int err)
{
	if (err) {
		answer_refused(st, err);
		return;
	}
	if (offline_cfg.from_address[0]) {
		send_notice(req, owner);
	}
	/* 202 once the group commit that holds it is on disk. */
	sip_reply_hold(st, 202, NULL, NULL, NULL, NULL, 0);
	store_when_durable(sip_reply_release, st);
}

void offline_store(struct sip_stx *st, const struct sip_msg *req,
		   const char *owner)
{
	struct offline_copy *c;
	int64_t send_at;

	if (!store_is_open()) {
		answer_refused(st, EIO);
		return;
	}
	send_at = send_time(st, req, wall_now());
	if (send_at < 0) {
		return;
	}
	c = offline_copy_req(req);
	if (!c) {
		sip_reply_errno(st, ENOMEM);
		return;
	}
	kept_answer(st, req, owner, keep_in(c, owner, send_at));
	offline_copy_put(c);
}

void offline_store_copy(struct sip_stx *st, const struct sip_msg *req,
			struct offline_copy *c, const char *owner)
{
	kept_answer(st, req, owner,
		    store_is_open() ? keep_in(c, owner, 0) : EIO);
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
	err = offline_dev_start();
	if (!err && offline_cfg.user_history) {
		err = reg_reserve(offline_cfg.history_user, "message history");
		if (err) {
			LOG_ERR("history_user '%s': %s",
				offline_cfg.history_user, err == EEXIST ?
				"the name of another service" : strerror(err));
		}
	}
	if (!err) {
		err = reg_observe(on_reg_change, NULL);
	}
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
	while (replays) {
		dump_free(replays);
	}
	offline_dev_stop();
	hook_clear(&observers);
}

#define MOD_DEF "offline.def"
#define MOD_VAR offline_mod
#define MOD_NAME "offline"
#define MOD_SECT &offline_sect
#define MOD_START offline_start
#define MOD_STOP offline_stop
#include "mod_def.h"
