/** @file ctl_cmd.c  The commands of the control socket. Each writes one
 * JSON object into the answer buffer; {"error": "..."} when it failed.
 * Read-only commands here: version, stats, config, registrations,
 * presentities, watchers, subscriptions, rooms, members, offline. A
 * command of a service not built in answers which Kconfig switch is
 * off. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "ctl_priv.h"
#define LOG_MODULE "ctl"
#include "log.h"
#ifdef CONFIG_SIMPLED_IMC
#include "imc.h"
#endif
#ifdef CONFIG_SIMPLED_OFFLINE
#include "offline.h"
#endif
#ifdef CONFIG_SIMPLED_PRESENCE
#include "pres.h"
#endif
#include "mem.h"
#include "mod.h"
#include "pool.h"
#include "pua.h"
#include "reg.h"
#include "sip.h"
#include "stat.h"
#ifdef CONFIG_SIMPLED_STORAGE
#include "store.h"
#endif

struct ctl_cmd {
	const char *name;
	unsigned min_args, max_args;
	const char *usage;
	void (*run)(const struct ctl_req *req, struct sd_buf *b);
	const char *off;	/* run NULL: why (a service not built) */
	/* Instead of run, one that may answer later (CTL_PENDING). */
	int (*run_call)(const struct ctl_req *req, struct sd_buf *b,
			const struct ctl_call *call);
};

/* What a command that answers later keeps until then: one per client,
 * which has one request at a time. */
static struct pending {
	struct ctl_call call;
	char name[CONFIG_SIMPLED_MAX_URI_LEN];	/* the user or presentity */
	char id[64];				/* publish's series id */
	char text[160];				/* the answer, written ahead */
	unsigned n;				/* what was counted */
} pending[CONFIG_SIMPLED_CTL_MAX_CLIENTS];

static void error(struct sd_buf *b, const char *why)
{
	b->len = 0;
	b->overflow = 0;
	sd_buf_add(b, "{", 1);
	ctl_json_kv_str(b, "error", why);
	sd_buf_add(b, "}", 1);
}

static void cmd_version(const struct ctl_req *req, struct sd_buf *b)
{
	const char *f = ctl_view.features ? ctl_view.features : "";
	int first = 1;

	(void)req;
	sd_buf_add(b, "{", 1);
	ctl_json_kv_str(b, "version", ctl_view.version ? ctl_view.version :
			"");
	sd_buf_str(b, ",\"features\":[");
	while (*f) {
		char name[32];
		size_t n;

		f += strspn(f, " ");
		n = strcspn(f, " ");
		if (!n) {
			break;
		}
		snprintf(name, sizeof(name), "%.*s", (int)n, f);
		sd_buf_str(b, first ? "" : ",");
		ctl_json_str(b, name);
		first = 0;
		f += n;
	}
	sd_buf_str(b, "]}");
}

struct walk {
	struct sd_buf *b;
	int first;
	const char *only;	/* one AoR, or NULL */
};

/* The next object of a walk's array: '{', after a ',' but the first. */
static void item(struct walk *w)
{
	sd_buf_str(w->b, w->first ? "{" : ",{");
	w->first = 0;
}

static void stat_one(const struct stat_def *s, void *arg)
{
	struct walk *w = arg;

	for (; s && s->name; s++) {
		sd_buf_str(w->b, w->first ? "" : ",");
		ctl_json_kv_num(w->b, s->name, *s->v);
		w->first = 0;
	}
}

static void cmd_stats(const struct ctl_req *req, struct sd_buf *b)
{
	struct walk w = {b, 1, NULL};
	struct pool *p;
	unsigned i;

	(void)req;
	sd_buf_str(b, "{\"counters\":{");
	mod_stats_walk(stat_one, &w);
	sd_buf_str(b, "},\"pools\":{");
	for (i = 0; (p = mod_pool_at(i)); i++) {
		const struct pool_info *pi = pool_info(p);

		sd_buf_str(b, i ? "," : "");
		ctl_json_str(b, pi->name);
		sd_buf_printf(b, ":{\"size\":%u,\"used\":%u,\"free\":%u,"
			      "\"peak\":%u,\"fails\":%lu}", pi->size, pi->used,
			      pi->size - pi->used, pi->peak, pi->fails);
	}
	sd_buf_printf(b, "},\"memory\":{\"budget\":%zu,\"used\":%zu,"
		      "\"peak\":%zu,\"fails\":%lu}", mem_budget(), mem_used(),
		      mem_peak(), mem_fails());
#ifdef CONFIG_SIMPLED_STORAGE
	/* The store's pages in use against its map (the 503 "store full"
	 * comes before the map is). */
	sd_buf_printf(b, ",\"store\":{\"used\":%zu,\"map\":%zu}",
		      store_bytes_used(),
		      store_is_open() ? (size_t)store_cfg.map_size_kb * 1024u :
		      0);
#endif
	sd_buf_str(b, "}");
}

/* Options that hold a password or its equivalent: never shown, only
 * whether they are set. */
static int secret(const char *name)
{
	return !strcmp(name, "password") || !strcmp(name, "ha1") ||
	       !strcmp(name, "ha1_sha256");
}

static void option(struct sd_buf *b, const struct cfg_opt *o,
		   const void *base)
{
	const char *field = (const char *)base + o->off;
	char v[CFG_LINE_MAX];
	unsigned i, cnt;

	ctl_json_str(b, o->name);
	sd_buf_add(b, ":", 1);
	if (o->type == CFG_LIST) {
		memcpy(&cnt, (const char *)base + o->cnt_off, sizeof(cnt));
		sd_buf_add(b, "[", 1);
		for (i = 0; i < cnt; i++) {
			sd_buf_str(b, i ? "," : "");
			ctl_json_str(b, field + i * o->size);
		}
		sd_buf_add(b, "]", 1);
		return;
	}
	cfg_value_str(o, base, v, sizeof(v));
	if (secret(o->name)) {
		ctl_json_str(b, v[0] ? "(hidden)" : "");
	} else if (o->type == CFG_INT || o->type == CFG_BOOL) {
		sd_buf_str(b, v);
	} else {
		ctl_json_str(b, v);
	}
}

static void sect_one(const struct cfg_sect *s, void *arg)
{
	struct walk *w = arg;
	unsigned n = s->max ? *s->count : 1, k;
	size_t i;

	if (s->off_switch) {
		return; /* a module not built */
	}
	for (k = 0; k < n; k++) {
		const char *base = (const char *)s->base + k * s->stride;

		item(w);
		ctl_json_kv_str(w->b, "section", s->type);
		for (i = 0; i < s->nopts; i++) {
			if (s->opts[i].off_switch) {
				continue;
			}
			sd_buf_add(w->b, ",", 1);
			option(w->b, &s->opts[i], base);
		}
		sd_buf_add(w->b, "}", 1);
	}
}

static void cmd_config(const struct ctl_req *req, struct sd_buf *b)
{
	struct walk w = {b, 1, NULL};

	(void)req;
	sd_buf_str(b, "{\"sections\":[");
	mod_sects_walk(sect_one, &w);
	sd_buf_str(b, "]}");
}

static void contact_one(const struct reg_contact *c, void *arg)
{
	struct walk *w = arg;
	char src[64];

	sd_addr_str(&c->flow->peer, src, sizeof(src));
	item(w);
	ctl_json_kv_str(w->b, "uri", c->uri);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_num(w->b, "expires", c->expires_s);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "transport", sip_tp_name(c->flow->tp, 0));
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "address", src);
	sd_buf_str(w->b, "}");
}

static void aor_one(const char *aor, void *arg)
{
	struct walk *w = arg;
	struct walk cw = {w->b, 1, NULL};

	item(w);
	ctl_json_kv_str(w->b, "aor", aor);
	sd_buf_str(w->b, ",\"contacts\":[");
	reg_lookup(aor, contact_one, &cw);
	sd_buf_str(w->b, "]}");
}

/* The registrar's key of a user written "sip:Alice@HOME.LAN" or
 * "alice@home.lan" (the domain lower-cased, a listen address read as the
 * first domain), as SIP requests are keyed. ours: only a served domain.
 * @return 0, or EINVAL (no user@host) or ENOENT (not ours) with why in
 * b. */
static int user_key(const char *in, int ours, char *out, size_t size,
		    struct sd_buf *b)
{
	char buf[CONFIG_SIMPLED_MAX_URI_LEN + 8];
	osip_uri_t *u = NULL;
	int err = EINVAL;

	if (strlen(in) + 4 < sizeof(buf) && !osip_uri_init(&u)) {
		snprintf(buf, sizeof(buf), "%s%s",
			 strncasecmp(in, "sip:", 4) ? "sip:" : "", in);
		if (!osip_uri_parse(u, buf) && u->username && u->host) {
			err = ours ? reg_aor_key(u, out, size) :
			      reg_uri_aor(u, out, size);
		}
		osip_uri_free(u);
	}
	if (err) {
		error(b, err == ENOENT ? "not a user of a domain served "
		      "here" : "name a user as sip:user@domain");
	}
	return err;
}

static void cmd_registrations(const struct ctl_req *req, struct sd_buf *b)
{
	struct walk w = {b, 1, NULL};
	char key[CONFIG_SIMPLED_MAX_URI_LEN];
	const char *aor = NULL;

	if (req->argc) {
		if (user_key(req->argv[0], 1, key, sizeof(key), b)) {
			return;
		}
		aor = key;
	}
	sd_buf_str(b, "{\"registrations\":[");
	if (aor) {
		if (reg_lookup(aor, NULL, NULL)) {
			aor_one(aor, &w);
		}
	} else {
		reg_walk(aor_one, &w);
	}
	sd_buf_str(b, "]}");
}

#ifdef CONFIG_SIMPLED_PRESENCE
static void presentity_one(const char *aor, unsigned docs, unsigned subs,
			   void *arg)
{
	struct walk *w = arg;

	if (w->only && strcmp(aor, w->only)) {
		return;
	}
	item(w);
	ctl_json_kv_str(w->b, "uri", aor);
	sd_buf_printf(w->b, ",\"documents\":%u,\"subscriptions\":%u}",
		      docs, subs);
}

static void sub_one(const struct pres_sub_view *v, void *arg)
{
	struct walk *w = arg;

	item(w);
	ctl_json_kv_strs(w->b, "presentity", v->presentity, "watcher",
			 v->watcher, "event", v->event, "state", v->state,
			 "decision", v->decision, "contact", v->contact, NULL);
	sd_buf_printf(w->b, ",\"expires\":%u}", v->expires_s);
}

static void cmd_watchers(const struct ctl_req *req, struct sd_buf *b)
{
	struct walk w = {b, 1, NULL};
	char key[CONFIG_SIMPLED_MAX_URI_LEN];

	if (user_key(req->argv[0], 1, key, sizeof(key), b)) {
		return;
	}
	sd_buf_str(b, "{\"subscriptions\":[");
	pres_walk_subs(key, sub_one, &w);
	sd_buf_str(b, "]}");
}

#endif

/* The publications and subscriptions pua keeps for other domains. */
static void outgoing_pub(const struct pua_pub_view *v, void *arg)
{
	struct walk *w = arg;

	item(w);
	ctl_json_kv_strs(w->b, "uri", v->uri, "event", v->event, "id", v->id,
			 "etag", v->etag, NULL);
	sd_buf_printf(w->b, ",\"expires\":%u}", v->expires_left);
}

static void outgoing_sub(const struct pua_state *s, unsigned left, void *arg)
{
	struct walk *w = arg;

	item(w);
	ctl_json_kv_strs(w->b, "presentity", s->presentity, "watcher",
			 s->watcher, "event", s->event, "state", s->sub_state,
			 NULL);
	sd_buf_printf(w->b, ",\"expires\":%u}", left);
}

/* presentities [URI]: ours with documents or watchers, then (without
 * URI) what we publish to other domains ("outgoing"). */
static void cmd_presentities(const struct ctl_req *req, struct sd_buf *b)
{
	char key[CONFIG_SIMPLED_MAX_URI_LEN];
	struct walk w = {b, 1, req->argc ? key : NULL};

	if (req->argc &&
	    user_key(req->argv[0], 1, key, sizeof(key), b)) {
		return;
	}
	sd_buf_str(b, "{\"presentities\":[");
#ifdef CONFIG_SIMPLED_PRESENCE
	pres_walk(presentity_one, &w);
#endif
	sd_buf_str(b, "],\"outgoing\":[");
	w.first = 1;
	if (!req->argc) {
		pua_pub_walk(outgoing_pub, &w);
	}
	sd_buf_str(b, "]}");
}

/* subscriptions: to presentities of ours, then ours to other domains. */
static void cmd_subscriptions(const struct ctl_req *req, struct sd_buf *b)
{
	struct walk w = {b, 1, NULL};

	(void)req;
	sd_buf_str(b, "{\"subscriptions\":[");
#ifdef CONFIG_SIMPLED_PRESENCE
	pres_walk_subs(NULL, sub_one, &w);
#endif
	sd_buf_str(b, "],\"outgoing\":[");
	w.first = 1;
	pua_sub_walk(outgoing_sub, &w);
	sd_buf_str(b, "]}");
}

#ifdef CONFIG_SIMPLED_IMC
static void room_one(const char *room, unsigned members, int private_room,
		     void *arg)
{
	struct walk *w = arg;

	item(w);
	ctl_json_kv_str(w->b, "room", room);
	sd_buf_printf(w->b, ",\"members\":%u,\"private\":%s}", members,
		      private_room ? "true" : "false");
}

static void cmd_rooms(const struct ctl_req *req, struct sd_buf *b)
{
	struct walk w = {b, 1, NULL};

	(void)req;
	sd_buf_str(b, "{\"rooms\":[");
	imc_walk_rooms(room_one, &w);
	sd_buf_str(b, "]}");
}

static void member_one(const char *user, const char *role, void *arg)
{
	struct walk *w = arg;

	item(w);
	ctl_json_kv_str(w->b, "user", user);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "role", role);
	sd_buf_add(w->b, "}", 1);
}

static void cmd_members(const struct ctl_req *req, struct sd_buf *b)
{
	struct walk w = {b, 1, NULL};
	const char *room = req->argv[0];
	char name[CONFIG_SIMPLED_MAX_URI_LEN];

	/* "lobby" or "lobby@conference.home.lan": the room's name. */
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(room, "@"),
		 !strncmp(room, "sip:", 4) ? room + 4 : room);
	sd_buf_str(b, "{\"members\":[");
	if (imc_walk_members(name, member_one, &w)) {
		error(b, "no such room");
		return;
	}
	sd_buf_str(b, "]}");
}
#endif

#ifdef CONFIG_SIMPLED_OFFLINE
static void purged(int err, void *arg)
{
	static char text[CONFIG_SIMPLED_MAX_URI_LEN * 2 + 64];
	struct pending *p = arg;
	struct sd_buf t;

	sd_buf_init(&t, text, sizeof(text));
	sd_buf_add(&t, "{", 1);
	if (err) {
		ctl_json_kv_str(&t, "error", "the store could not write it");
	} else {
		ctl_json_kv_str(&t, "user", p->name);
		sd_buf_add(&t, ",", 1);
		ctl_json_kv_num(&t, "purged", p->n);
	}
	sd_buf_add(&t, "}", 1);
	ctl_call_answer(&p->call, text, t.len);
}

/* purge USER: delete the messages stored for USER. */
static int cmd_purge(const struct ctl_req *req, struct sd_buf *b,
		     const struct ctl_call *call)
{
	struct pending *p = &pending[call->slot];
	int err;

	if (user_key(req->argv[0], 1, p->name, sizeof(p->name), b)) {
		return 0;
	}
	p->call = *call;
	LOG_INF("purge %s", p->name);
	err = offline_purge(p->name, &p->n, purged, p);
	if (err) {
		error(b, err == ENOENT ? "the store is not open" :
		      "the store could not delete them");
		return 0;
	}
	return CTL_PENDING;
}

/* cleanup: what has expired goes now (offline messages; presence
 * documents and subscriptions end on their own timers). */
static void cleaned(int err, void *arg)
{
	struct pending *p = arg;
	char text[96];
	int n = err ? snprintf(text, sizeof(text), "{\"error\":\"the store "
			       "could not write it\"}") :
		snprintf(text, sizeof(text), "{\"expired_messages\":%u}",
			 p->n);

	ctl_call_answer(&p->call, text, (size_t)n);
}

static int cmd_cleanup(const struct ctl_req *req, struct sd_buf *b,
		       const struct ctl_call *call)
{
	struct pending *p = &pending[call->slot];

	(void)req;
	p->call = *call;
	if (offline_cleanup(&p->n, cleaned, p)) {
		error(b, "the store is not open");
		return 0;
	}
	return CTL_PENDING;
}

/* One history entry: {"id":N,"from":"...","to":"...","sent":0|1,
 * "content_type":"...","body":"..."}. */
static int history_one(const struct store_msg *m, void *arg)
{
	static char body[CONFIG_SIMPLED_MAX_MSG_SIZE + 1];
	struct walk *w = arg;
	size_t n = m->blen < sizeof(body) - 1 ? m->blen : sizeof(body) - 1;

	memcpy(body, m->body, n);
	body[n] = '\0';
	sd_buf_str(w->b, w->first ? "{" : ",{");
	w->first = 0;
	sd_buf_printf(w->b, "\"id\":%llu", (unsigned long long)m->id);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "from", m->from);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "to", m->to);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_num(w->b, "arrival", (unsigned long)m->arrival);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_num(w->b, "sent",
			strstr(m->extra, OFFLINE_SENT_HDR ": ") != NULL);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "content_type", m->ctype);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "body", body);
	sd_buf_add(w->b, "}", 1);
	return w->b->overflow;
}

/* history USER [SINCE]: what the history service would send. */
static void cmd_history(const struct ctl_req *req, struct sd_buf *b)
{
	char user[CONFIG_SIMPLED_MAX_URI_LEN];
	struct walk w = {b, 1, NULL};
	uint64_t after = 0;

	if (user_key(req->argv[0], 1, user, sizeof(user), b)) {
		return;
	}
	if (req->argc > 1 && sd_pl_u64(sd_pl_str(req->argv[1]), &after)) {
		error(b, "SINCE must be a History-Id (a number)");
		return;
	}
	sd_buf_add(b, "{", 1);
	ctl_json_kv_str(b, "user", user);
	sd_buf_str(b, ",\"history\":[");
	if (offline_history(user, after, history_one, &w) == ENOENT) {
		b->len = 0;
		error(b, "the store is not open");
		return;
	}
	sd_buf_str(b, "]}");
}

static void cmd_offline(const struct ctl_req *req, struct sd_buf *b)
{
	char user[CONFIG_SIMPLED_MAX_URI_LEN];

	if (user_key(req->argv[0], 1, user, sizeof(user), b)) {
		return;
	}
	sd_buf_add(b, "{", 1);
	ctl_json_kv_str(b, "user", user);
	sd_buf_add(b, ",", 1);
	ctl_json_kv_num(b, "stored", offline_count(user));
	sd_buf_add(b, "}", 1);
}
#endif

/* ------------------------------------------- publish, subscribe, watch */

/* "." is pua_mi's "none". */
static const char *opt_arg(const char *s)
{
	return strcmp(s, ".") ? s : NULL;
}

/* A value going into a header of ours: no control character (no line
 * of its own). */
static int header_safe(const char *s)
{
	for (; s && *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

static int expires_arg(const char *s, unsigned *v, struct sd_buf *b)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*end || end == s || n < 0 || n > 0x7fffffff) {
		error(b, "EXPIRES must be a number of seconds");
		return EINVAL;
	}
	*v = (unsigned)n;
	return 0;
}

/* A presentity of another domain as pua names it, "sip:user@host".
 * user_key() saying ENOENT for it left an error in b: cleared here. */
static int remote_uri(const char *in, char *out, size_t size,
		      struct sd_buf *b)
{
	char key[CONFIG_SIMPLED_MAX_URI_LEN];

	b->len = 0;
	b->overflow = 0;
	if (user_key(in, 0, key, sizeof(key), b)) {
		return EINVAL;
	}
	if ((size_t)snprintf(out, size, "sip:%s", key) >= size) {
		error(b, "the URI is too long");
		return E2BIG;
	}
	return 0;
}

/* Why pua_publish() or pua_subscribe() sent nothing. */
static void pua_error(struct sd_buf *b, int err, const char *pool)
{
	char why[128];

	switch (err) {
	case ENOENT:
		error(b, "no outbound_proxy is configured: other domains are "
		      "reached through it");
		return;
	case EAGAIN:
		error(b, "busy: the outbound proxy's name is not resolved "
		      "yet");
		return;
	case EBUSY:
		error(b, "busy: a request for it is under way");
		return;
	case ENOSPC:
		snprintf(why, sizeof(why), "busy: every one of limits %s is "
			 "in use", pool);
		error(b, why);
		return;
	case ENOMEM:
		error(b, "busy: no client transaction is free");
		return;
	case EMSGSIZE:
		error(b, "the request would be too large (body, header "
		      "lines)");
		return;
	default:
		error(b, "a bad next hop, header line or name");
	}
}

/* The answer to publish and subscribe: the final code, the ETag
 * (publish), the Expires granted. */
static void pua_answer(struct sd_buf *b, int code, const char *reason,
		       const char *etag, unsigned expires)
{
	char why[96];

	sd_buf_add(b, "{", 1);
	if (code >= 300) {
		snprintf(why, sizeof(why), "%d %s", code, reason ? reason :
			 sip_reason(code));
		ctl_json_kv_str(b, "error", why);
		sd_buf_add(b, ",", 1);
	}
	ctl_json_kv_num(b, "code", (unsigned long)code);
	if (etag) {
		sd_buf_add(b, ",", 1);
		ctl_json_kv_str(b, "etag", etag);
	}
	sd_buf_add(b, ",", 1);
	ctl_json_kv_num(b, "expires", (unsigned long)expires);
	sd_buf_add(b, "}", 1);
}

static void remote_answered(const struct pua_result *r, void *arg)
{
	static char text[256];
	struct pending *p = arg;
	struct sd_buf b;

	sd_buf_init(&b, text, sizeof(text));
	pua_answer(&b, r->code, r->reason, r->etag, r->expires);
	ctl_call_answer(&p->call, text, b.len);
}

/* publish of a presentity of another domain: a PUBLISH over SIP. */
static int publish_remote(const struct ctl_req *req, struct sd_buf *b,
			  const struct ctl_call *call, unsigned expires)
{
	struct pending *p = &pending[call->slot];
	struct pua_pub_req q = {0};
	int err;

	if (remote_uri(req->argv[0], p->name, sizeof(p->name), b)) {
		return 0;
	}
	q.uri = p->name;
	q.event = req->argv[2];
	q.ctype = opt_arg(req->argv[3]);
	q.id = opt_arg(req->argv[4]);
	q.etag = opt_arg(req->argv[5]);
	q.proxy = req->argc == 9 ? opt_arg(req->argv[6]) : NULL;
	q.hdrs = opt_arg(req->argv[req->argc - 2]);
	q.body = opt_arg(req->argv[req->argc - 1]);
	q.expires = expires;
	if (!header_safe(q.event) || !header_safe(q.ctype) ||
	    !header_safe(q.etag)) {
		error(b, "EVENT, CTYPE and ETAG are single header values");
		return 0;
	}
	p->call = *call;
	err = pua_publish(&q, remote_answered, p);
	if (err) {
		pua_error(b, err, "remote_publications");
		return 0;
	}
	LOG_INF("publish %s (%s) over SIP, expires %u", p->name, q.event,
		expires);
	return CTL_PENDING;
}

#ifdef CONFIG_SIMPLED_PRESENCE
/* publish's series ids (pua_mi's "id"): the ETag of the document each
 * (presentity, id) published last, so that the next publish of the same
 * id replaces it. A small table; the oldest entry makes room. */
#define CTL_SERIES 64

static struct series {
	char aor[CONFIG_SIMPLED_MAX_URI_LEN];
	char id[64];
	char etag[17];
	uint32_t used;
} series[CTL_SERIES];
static uint32_t series_clock;

static struct series *series_find(const char *aor, const char *id,
				  int create)
{
	struct series *s, *old = &series[0];

	for (s = series; s < series + CTL_SERIES; s++) {
		if (s->aor[0] && !strcmp(s->aor, aor) && !strcmp(s->id, id)) {
			s->used = ++series_clock;
			return s;
		}
		if ((int32_t)(s->used - old->used) < 0) {
			old = s;
		}
	}
	if (!create) {
		return NULL;
	}
	memset(old, 0, sizeof(*old));
	snprintf(old->aor, sizeof(old->aor), "%s", aor);
	snprintf(old->id, sizeof(old->id), "%s", id);
	old->used = ++series_clock;
	return old;
}

/* The answer to a local publish into b; a series remembers its ETag. */
static void pub_answer(struct sd_buf *b, const struct pres_pub_result *r,
		       struct pending *p)
{
	if (r->code < 300 && p->id[0]) {
		/* Removed: the series starts a new document next time. */
		struct series *s = series_find(p->name, p->id, 1);

		snprintf(s->etag, sizeof(s->etag), "%s", r->etag);
	}
	pua_answer(b, r->code, r->reason, r->etag, (unsigned)r->expires);
}

static void published(const struct pres_pub_result *r, void *arg)
{
	static char text[256];
	struct pending *p = arg;
	struct sd_buf b;

	sd_buf_init(&b, text, sizeof(text));
	pub_answer(&b, r, p);
	ctl_call_answer(&p->call, text, b.len);
}

/* publish of a presentity of ours: stored as a PUBLISH would store it. */
static int publish_local(const struct ctl_req *req, struct sd_buf *b,
			 const struct ctl_call *call, const char *aor,
			 unsigned expires)
{
	const char *ctype = opt_arg(req->argv[3]), *id = opt_arg(req->argv[4]);
	const char *etag = opt_arg(req->argv[5]);
	const char *body = opt_arg(req->argv[req->argc - 1]);
	struct pending *p = &pending[call->slot];
	struct pres_pub_result now;
	int from_series = 0;
	int err;

	if (strcmp(req->argv[2], "presence")) {
		error(b, "only the event package presence can be published "
		      "here");
		return 0;
	}
	if (id && strlen(id) >= sizeof(p->id)) {
		error(b, "the id is too long");
		return 0;
	}
	if (id && !etag) {
		struct series *s = series_find(aor, id, 0);

		etag = s && s->etag[0] ? s->etag : NULL;
		from_series = etag != NULL;
	}
	p->call = *call;
	snprintf(p->name, sizeof(p->name), "%s", aor);
	snprintf(p->id, sizeof(p->id), "%s", id ? id : "");
	LOG_INF("publish %s%s%s, expires %u", aor, id ? " id " : "",
		id ? id : "", expires);
	err = pres_publish_local(aor, etag, (int)expires, ctype, body,
				 body ? strlen(body) : 0, "ctl", &now,
				 published, p);
	if (!err && now.code == 412 && from_series && body) {
		/* The series' document expired: it starts a new one. */
		err = pres_publish_local(aor, NULL, (int)expires, ctype, body,
					 strlen(body), "ctl", &now, published,
					 p);
	}
	if (err == EINPROGRESS) {
		return CTL_PENDING;
	}
	pub_answer(b, &now, p);
	return 0;
}
#endif

/* publish URI EXPIRES EVENT CTYPE ID ETAG [OUTBOUND_PROXY] EXTRA BODY:
 * pua_mi's pua_publish, 8 fields or 9 with the outbound proxy (which a
 * presentity of ours does not need). */
static int cmd_publish(const struct ctl_req *req, struct sd_buf *b,
		       const struct ctl_call *call)
{
	char key[CONFIG_SIMPLED_MAX_URI_LEN];
	unsigned expires;
	int err;

	if (expires_arg(req->argv[1], &expires, b)) {
		return 0;
	}
	if (opt_arg(req->argv[req->argc - 1]) && !opt_arg(req->argv[3])) {
		error(b, "a body needs a content type");
		return 0;
	}
	err = user_key(req->argv[0], 1, key, sizeof(key), b);
	if (err == ENOENT) {
		return publish_remote(req, b, call, expires);
	}
	if (err) {
		return 0;
	}
#ifdef CONFIG_SIMPLED_PRESENCE
	return publish_local(req, b, call, key, expires);
#else
	error(b, "this build has no presence (CONFIG_SIMPLED_PRESENCE): "
	      "only presentities of other domains can be published");
	return 0;
#endif
}

static void subscribed(const struct pua_result *r, void *arg)
{
	char text[160];
	struct pending *p = arg;
	struct sd_buf b;

	sd_buf_init(&b, text, sizeof(text));
	pua_answer(&b, r->code, r->reason, NULL, r->expires);
	ctl_call_answer(&p->call, text, b.len);
}

/* subscribe PRESENTITY WATCHER EVENT EXPIRES: pua_mi's pua_subscribe,
 * for a presentity of another domain on behalf of a user of ours; its
 * NOTIFYs are what `watch` then shows. EXPIRES 0 ends it. */
static int cmd_subscribe(const struct ctl_req *req, struct sd_buf *b,
			 const struct ctl_call *call)
{
	struct pending *p = &pending[call->slot];
	char key[CONFIG_SIMPLED_MAX_URI_LEN], watcher[sizeof(key) + 4];
	struct pua_sub_req q = {0};
	unsigned expires;
	int err;

	if (expires_arg(req->argv[3], &expires, b)) {
		return 0;
	}
	err = user_key(req->argv[0], 1, key, sizeof(key), b);
	if (!err) {
		error(b, "a presentity of ours needs no subscription: watch "
		      "follows it");
		return 0;
	}
	if (err != ENOENT ||
	    remote_uri(req->argv[0], p->name, sizeof(p->name), b) ||
	    user_key(req->argv[1], 1, key, sizeof(key), b)) {
		return 0;
	}
	snprintf(watcher, sizeof(watcher), "sip:%s", key);
	if (!header_safe(req->argv[2]) || strchr(req->argv[2], ' ')) {
		error(b, "EVENT is one event package name");
		return 0;
	}
	q.presentity = p->name;
	q.watcher = watcher;
	q.event = req->argv[2];
	q.expires = expires;
	p->call = *call;
	err = pua_subscribe(&q, subscribed, p);
	if (err) {
		if (err == ENOENT && !expires) {
			error(b, "no such subscription");
		} else {
			pua_error(b, err, "remote_subscriptions");
		}
		return 0;
	}
	LOG_INF("subscribe %s to %s (%s) over SIP, expires %u", watcher,
		p->name, q.event, expires);
	return CTL_PENDING;
}

/* What watch follows: "EVENT URI". */
static void watch_key(char *key, size_t size, const char *event,
		      const char *uri)
{
	snprintf(key, size, "%s %s", event, uri);
}

/* A state line of watch: {"presentity":"sip:...","event":"...",
 * ["subscription_state":"...",] "state":"<body>"}; first_key names the
 * presentity ("watching" on the first line). */
static size_t state_line(char *out, size_t size, const char *first_key,
			 const char *uri, const char *event,
			 const char *sub_state, const char *body)
{
	struct sd_buf b;

	sd_buf_init(&b, out, size);
	sd_buf_add(&b, "{", 1);
	ctl_json_kv_str(&b, first_key, uri);
	sd_buf_add(&b, ",", 1);
	ctl_json_kv_str(&b, "event", event);
	if (sub_state) {
		sd_buf_add(&b, ",", 1);
		ctl_json_kv_str(&b, "subscription_state", sub_state);
	}
	sd_buf_add(&b, ",", 1);
	ctl_json_kv_str(&b, "state", body);
	sd_buf_add(&b, "}", 1);
	return b.overflow ? 0 : b.len;
}

static char line[CONFIG_SIMPLED_CTL_MAX_ANSWER];

static size_t remote_line(const struct pua_state *st, const char *first_key)
{
	return state_line(line, sizeof(line), first_key, st->presentity,
			  st->event, st->sub_state, st->truncated ?
			  "(too large to keep)" : st->body);
}

static int on_remote_state(void *ev, void *arg)
{
	const struct pua_state *st = ev;
	char key[CONFIG_SIMPLED_MAX_URI_LEN + 40];
	size_t n;

	(void)arg;
	watch_key(key, sizeof(key), st->event, st->presentity);
	if (ctl_watching(key) && (n = remote_line(st, "presentity"))) {
		ctl_watch_send(key, line, n);
	}
	return 0;
}

#ifdef CONFIG_SIMPLED_PRESENCE
/* A presentity of ours: its state as an allowed watcher sees it. */
static size_t local_line(const char *aor, const char *event,
			 const char *first_key, int *unknown)
{
	static char body[8192];
	char uri[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	struct sd_buf p;

	sd_buf_init(&p, body, sizeof(body) - 1);
	*unknown = pres_state(aor, event, &p) != 0;
	if (*unknown) {
		return 0;
	}
	body[p.overflow ? 0 : p.len] = '\0';
	snprintf(uri, sizeof(uri), "sip:%s", aor);
	return state_line(line, sizeof(line), first_key, uri, event, NULL,
			  body);
}

static int on_state(void *ev, void *arg)
{
	const struct pres_change *ch = ev;
	char key[CONFIG_SIMPLED_MAX_URI_LEN + 40];
	size_t n;
	int unknown;

	(void)arg;
	watch_key(key, sizeof(key), ch->event, ch->aor);
	if (ctl_watching(key) &&
	    (n = local_line(ch->aor, ch->event, "presentity", &unknown))) {
		ctl_watch_send(key, line, n);
	}
	return 0;
}
#endif

/* watch URI [EVENT]: the state now, then a line per change, for as long
 * as the client stays. A presentity of ours is read here; one of another
 * domain is followed through its subscription (subscribe). */
static int cmd_watch(const struct ctl_req *req, struct sd_buf *b,
		     const struct ctl_call *call)
{
	const char *event = req->argc > 1 ? req->argv[1] : "presence";
	char name[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	char key[CONFIG_SIMPLED_MAX_URI_LEN + 40];
	struct pua_state st;
	size_t n;
	int err = user_key(req->argv[0], 1, name, sizeof(name), b);

	if (err == ENOENT) {
		if (remote_uri(req->argv[0], name, sizeof(name), b)) {
			return 0;
		}
		if (!pua_state_get(name, event, &st)) {
			error(b, "no subscription to it for that event: "
			      "subscribe makes one");
			return 0;
		}
		n = remote_line(&st, "watching");
	} else if (err) {
		return 0;
	} else {
#ifdef CONFIG_SIMPLED_PRESENCE
		int unknown;

		n = local_line(name, event, "watching", &unknown);
		if (unknown) {
			error(b, "no such event package here");
			return 0;
		}
#else
		error(b, "this build has no presence "
		      "(CONFIG_SIMPLED_PRESENCE)");
		return 0;
#endif
	}
	if (!n || n > b->size) {
		error(b, "the state is too large to show");
		return 0;
	}
	memcpy(b->p, line, n);
	b->len = n;
	watch_key(key, sizeof(key), event, name);
	ctl_call_watch(call, key);
	return 0;
}

#ifdef CONFIG_SIMPLED_PRESENCE
/* allow|block|polite-block PRESENTITY WATCHER: the presentity's rule,
 * answered once on disk. */
static void rule_stored(int err, void *arg)
{
	struct pending *p = arg;
	char text[200];
	int n;

	n = err ? snprintf(text, sizeof(text), "{\"error\":\"the store "
			   "could not write the rule\"}") :
	    snprintf(text, sizeof(text), "%s", p->text);
	ctl_call_answer(&p->call, text, (size_t)n);
}

static int cmd_rule(const struct ctl_req *req, struct sd_buf *b,
		    const struct ctl_call *call)
{
	char presentity[CONFIG_SIMPLED_MAX_URI_LEN];
	char watcher[CONFIG_SIMPLED_MAX_URI_LEN];
	struct pending *p = &pending[call->slot];
	struct sd_buf t;
	int err;

	if (user_key(req->argv[0], 1, presentity, sizeof(presentity), b) ||
	    user_key(req->argv[1], 0, watcher, sizeof(watcher), b)) {
		return 0;
	}
	sd_buf_init(&t, p->text, sizeof(p->text));
	sd_buf_add(&t, "{", 1);
	ctl_json_kv_strs(&t, "presentity", presentity, "watcher", watcher,
			 "decision", req->command, NULL);
	sd_buf_add(&t, "}", 1);
	if (t.overflow) {
		error(b, "the names are too long");
		return 0;
	}
	p->call = *call;
	err = pres_rule_set(presentity, watcher, req->command, rule_stored,
			    p);
	if (err) {
		error(b, "the store could not write the rule");
		return 0;
	}
	LOG_INF("%s %s for %s", req->command, watcher, presentity);
	return CTL_PENDING;
}
#endif

void ctl_cmd_open(void)
{
	pua_observe(on_remote_state, NULL);
#ifdef CONFIG_SIMPLED_PRESENCE
	pres_observe(on_state, NULL);
#endif
}

void ctl_cmd_close(void)
{
	pua_unobserve(on_remote_state, NULL);
#ifdef CONFIG_SIMPLED_PRESENCE
	pres_unobserve(on_state, NULL);
#endif
}

#ifdef CONFIG_SIMPLED_STORAGE
/* backup FILE: a consistent copy of the store, written while serving. */
static void cmd_backup(const struct ctl_req *req, struct sd_buf *b)
{
	char why[256];
	size_t bytes;

	LOG_INF("backup to %s", req->argv[0]);
	if (store_backup(req->argv[0], &bytes, why, sizeof(why))) {
		error(b, why);
		return;
	}
	sd_buf_add(b, "{", 1);
	ctl_json_kv_str(b, "backup", req->argv[0]);
	sd_buf_printf(b, ",\"bytes\":%zu}", bytes);
}
#endif

/* A command of a service this build does not have. */
#define OFF(sw) NULL, "this build has no " sw

/* reload: the configuration file read again. */
static void cmd_reload(const struct ctl_req *req, struct sd_buf *b)
{
	char restart[512], why[512];
	const char *p;

	(void)req;
	if (!ctl_view.reload ||
	    ctl_view.reload(restart, sizeof(restart), why, sizeof(why))) {
		error(b, ctl_view.reload ? why : "reload is not available");
		return;
	}
	sd_buf_str(b, "{\"reloaded\":true,\"restart_needed\":[");
	for (p = restart; *p;) {
		char one[128];
		size_t n = strcspn(p, " ");

		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		sd_buf_str(b, p == restart ? "" : ",");
		ctl_json_str(b, one);
		p += n;
		p += strspn(p, " ");
	}
	sd_buf_str(b, "]}");
}

static void cmd_help(const struct ctl_req *req, struct sd_buf *b);

static const struct ctl_cmd cmds[] = {
	{"help", 0, 0, "help", cmd_help, NULL, NULL},
	{"version", 0, 0, "version", cmd_version, NULL, NULL},
	{"stats", 0, 0, "stats", cmd_stats, NULL, NULL},
	{"config", 0, 0, "config", cmd_config, NULL, NULL},
	{"reload", 0, 0, "reload", cmd_reload, NULL, NULL},
#ifdef CONFIG_SIMPLED_STORAGE
	{"backup", 1, 1, "backup FILE", cmd_backup, NULL, NULL},
#else
	{"backup", 1, 1, "backup FILE",
	 OFF("store (no service that keeps state is built)"), NULL},
#endif
	{"registrations", 0, 1, "registrations [AOR]", cmd_registrations,
	 NULL, NULL},
	{"publish", 8, 9, "publish URI EXPIRES EVENT CTYPE ID ETAG "
	 "[OUTBOUND_PROXY] EXTRA_HEADERS BODY ('.': none)", NULL, NULL,
	 cmd_publish},
	{"subscribe", 4, 4, "subscribe PRESENTITY WATCHER EVENT EXPIRES",
	 NULL, NULL, cmd_subscribe},
	{"watch", 1, 2, "watch URI [EVENT]", NULL, NULL, cmd_watch},
	{"presentities", 0, 1, "presentities [URI]", cmd_presentities, NULL,
	 NULL},
	{"subscriptions", 0, 0, "subscriptions", cmd_subscriptions, NULL, NULL},
#ifdef CONFIG_SIMPLED_PRESENCE
	{"allow", 2, 2, "allow PRESENTITY WATCHER", NULL, NULL, cmd_rule},
	{"block", 2, 2, "block PRESENTITY WATCHER", NULL, NULL, cmd_rule},
	{"polite-block", 2, 2, "polite-block PRESENTITY WATCHER", NULL, NULL,
	 cmd_rule},
	{"watchers", 1, 1, "watchers URI", cmd_watchers, NULL, NULL},
#else
	{"allow", 2, 2, "allow PRESENTITY WATCHER",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"block", 2, 2, "block PRESENTITY WATCHER",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"polite-block", 2, 2, "polite-block PRESENTITY WATCHER",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"watchers", 1, 1, "watchers URI",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
#endif
#ifdef CONFIG_SIMPLED_IMC
	{"rooms", 0, 0, "rooms", cmd_rooms, NULL, NULL},
	{"members", 1, 1, "members ROOM", cmd_members, NULL, NULL},
#else
	{"rooms", 0, 0, "rooms", OFF("chat rooms (CONFIG_SIMPLED_IMC)"), NULL},
	{"members", 1, 1, "members ROOM",
	 OFF("chat rooms (CONFIG_SIMPLED_IMC)"), NULL},
#endif
#ifdef CONFIG_SIMPLED_OFFLINE
	{"offline", 1, 1, "offline USER", cmd_offline, NULL, NULL},
	{"history", 1, 2, "history USER [SINCE]", cmd_history, NULL, NULL},
	{"purge", 1, 1, "purge USER", NULL, NULL, cmd_purge},
	{"cleanup", 0, 0, "cleanup", NULL, NULL, cmd_cleanup},
#else
	{"cleanup", 0, 0, "cleanup",
	 OFF("offline messages (CONFIG_SIMPLED_OFFLINE)"), NULL},
	{"purge", 1, 1, "purge USER",
	 OFF("offline messages (CONFIG_SIMPLED_OFFLINE)"), NULL},
	{"offline", 1, 1, "offline USER",
	 OFF("offline messages (CONFIG_SIMPLED_OFFLINE)"), NULL},
	{"history", 1, 2, "history USER [SINCE]",
	 OFF("offline messages (CONFIG_SIMPLED_OFFLINE)"), NULL},
#endif
};

static void cmd_help(const struct ctl_req *req, struct sd_buf *b)
{
	size_t i;

	(void)req;
	sd_buf_str(b, "{\"commands\":[");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		sd_buf_str(b, i ? "," : "");
		ctl_json_str(b, cmds[i].usage);
	}
	sd_buf_str(b, "]}");
}

int ctl_cmd_run(const struct ctl_req *req, struct sd_buf *b,
		const struct ctl_call *call)
{
	char why[160];
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(req->command, cmds[i].name)) {
			continue;
		}
		if (req->argc < cmds[i].min_args ||
		    req->argc > cmds[i].max_args) {
			snprintf(why, sizeof(why), "usage: %s",
				 cmds[i].usage);
			error(b, why);
			return 0;
		}
		if (cmds[i].run_call) {
			return cmds[i].run_call(req, b, call);
		}
		if (!cmds[i].run) {
			error(b, cmds[i].off);
			return 0;
		}
		cmds[i].run(req, b);
		return 0;
	}
	snprintf(why, sizeof(why), "unknown command '%.64s' (help lists "
		 "them)", req->command);
	error(b, why);
	return 0;
}
