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
#include "reg.h"
#include "sip.h"
#include "stat.h"

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
		      "\"peak\":%zu,\"fails\":%lu}}", mem_budget(), mem_used(),
		      mem_peak(), mem_fails());
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

static void cmd_presentities(const struct ctl_req *req, struct sd_buf *b)
{
	char key[CONFIG_SIMPLED_MAX_URI_LEN];
	struct walk w = {b, 1, req->argc ? key : NULL};

	if (req->argc &&
	    user_key(req->argv[0], 1, key, sizeof(key), b)) {
		return;
	}
	sd_buf_str(b, "{\"presentities\":[");
	pres_walk(presentity_one, &w);
	sd_buf_str(b, "]}");
}

static void sub_one(const struct pres_sub_view *v, void *arg)
{
	struct walk *w = arg;

	item(w);
	ctl_json_kv_str(w->b, "presentity", v->presentity);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "watcher", v->watcher);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "event", v->event);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "state", v->state);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "decision", v->decision);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_str(w->b, "contact", v->contact);
	sd_buf_add(w->b, ",", 1);
	ctl_json_kv_num(w->b, "expires", v->expires_s);
	sd_buf_add(w->b, "}", 1);
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

static void cmd_subscriptions(const struct ctl_req *req, struct sd_buf *b)
{
	struct walk w = {b, 1, NULL};

	(void)req;
	sd_buf_str(b, "{\"subscriptions\":[");
	pres_walk_subs(NULL, sub_one, &w);
	sd_buf_str(b, "]}");
}
#endif

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
static struct purge_pending {
	struct ctl_call call;
	char user[CONFIG_SIMPLED_MAX_URI_LEN];
	unsigned n;
} purge_pending[CONFIG_SIMPLED_CTL_MAX_CLIENTS];

static void purged(int err, void *arg)
{
	static char text[CONFIG_SIMPLED_MAX_URI_LEN * 2 + 64];
	struct purge_pending *p = arg;
	struct sd_buf t;

	sd_buf_init(&t, text, sizeof(text));
	sd_buf_add(&t, "{", 1);
	if (err) {
		ctl_json_kv_str(&t, "error", "the store could not write it");
	} else {
		ctl_json_kv_str(&t, "user", p->user);
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
	struct purge_pending *p = &purge_pending[call->slot];
	int err;

	if (user_key(req->argv[0], 1, p->user, sizeof(p->user), b)) {
		return 0;
	}
	p->call = *call;
	LOG_INF("purge %s", p->user);
	err = offline_purge(p->user, &p->n, purged, p);
	if (err) {
		error(b, err == ENOENT ? "the store is not open" :
		      "the store could not delete them");
		return 0;
	}
	return CTL_PENDING;
}

/* cleanup: what has expired goes now (offline messages; presence
 * documents and subscriptions end on their own timers). */
static struct cleanup_pending {
	struct ctl_call call;
	unsigned n;
} cleanup_pending[CONFIG_SIMPLED_CTL_MAX_CLIENTS];

static void cleaned(int err, void *arg)
{
	struct cleanup_pending *p = arg;
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
	struct cleanup_pending *p = &cleanup_pending[call->slot];

	(void)req;
	p->call = *call;
	if (offline_cleanup(&p->n, cleaned, p)) {
		error(b, "the store is not open");
		return 0;
	}
	return CTL_PENDING;
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

/* A publish waiting for the disk: one per client at most. */
static struct pub_pending {
	struct ctl_call call;
	char aor[CONFIG_SIMPLED_MAX_URI_LEN];
	char id[64];
} pub_pending[CONFIG_SIMPLED_CTL_MAX_CLIENTS];

/* The answer to a publish into b. */
static void pub_answer(struct sd_buf *b, const struct pres_pub_result *r,
		       struct pub_pending *p)
{
	char why[96];

	sd_buf_add(b, "{", 1);
	if (r->code >= 300) {
		snprintf(why, sizeof(why), "%d %s", r->code, r->reason ?
			 r->reason : sip_reason(r->code));
		ctl_json_kv_str(b, "error", why);
		sd_buf_add(b, ",", 1);
	} else if (p->id[0]) {
		/* Removed: the series starts a new document next time. */
		struct series *s = series_find(p->aor, p->id, 1);

		snprintf(s->etag, sizeof(s->etag), "%s", r->etag);
	}
	ctl_json_kv_num(b, "code", (unsigned long)r->code);
	sd_buf_add(b, ",", 1);
	ctl_json_kv_str(b, "etag", r->etag);
	sd_buf_add(b, ",", 1);
	ctl_json_kv_num(b, "expires", (unsigned long)r->expires);
	sd_buf_add(b, "}", 1);
}

static void published(const struct pres_pub_result *r, void *arg)
{
	static char text[256];
	struct pub_pending *p = arg;
	struct sd_buf b;

	sd_buf_init(&b, text, sizeof(text));
	pub_answer(&b, r, p);
	ctl_call_answer(&p->call, text, b.len);
}

/* "." is pua_mi's "none". */
static const char *opt_arg(const char *s)
{
	return strcmp(s, ".") ? s : NULL;
}

/* publish URI EXPIRES EVENT CTYPE ID ETAG [OUTBOUND_PROXY] EXTRA BODY:
 * pua_mi's pua_publish, 8 fields or 9 with the outbound proxy. A
 * presentity of ours is stored as a PUBLISH would store it. */
static int cmd_publish(const struct ctl_req *req, struct sd_buf *b,
		       const struct ctl_call *call)
{
	const char *uri = req->argv[0], *event = req->argv[2];
	const char *ctype = opt_arg(req->argv[3]), *id = opt_arg(req->argv[4]);
	const char *etag = opt_arg(req->argv[5]);
	const char *body = opt_arg(req->argv[req->argc - 1]);
	struct pub_pending *p = &pub_pending[call->slot];
	struct pres_pub_result now;
	char key[CONFIG_SIMPLED_MAX_URI_LEN];
	const char *aor;
	int from_series = 0;
	char *end;
	long expires = strtol(req->argv[1], &end, 10);
	int err;

	if (*end || end == req->argv[1] || expires < 0 ||
	    expires > 0x7fffffff) {
		error(b, "EXPIRES must be a number of seconds");
		return 0;
	}
	if (strcmp(event, "presence")) {
		error(b, "only the event package presence can be published");
		return 0;
	}
	err = user_key(uri, 1, key, sizeof(key), b);
	if (err == ENOENT) {
		error(b, "publishing for another domain (over SIP) is not "
		      "built yet");
	}
	if (err) {
		return 0;
	}
	aor = key;
	if (body && !ctype) {
		error(b, "a body needs a content type");
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
	snprintf(p->aor, sizeof(p->aor), "%s", aor);
	snprintf(p->id, sizeof(p->id), "%s", id ? id : "");
	LOG_INF("publish %s%s%s, expires %ld", aor, id ? " id " : "",
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

#ifdef CONFIG_SIMPLED_PRESENCE
/* One state line for watch: {"presentity":"sip:...","state":"<pidf>"}. */
static size_t state_line(char *out, size_t size, const char *aor,
			 const char *first_key)
{
	static char pidf[8192];
	char uri[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	struct sd_buf b, p;

	sd_buf_init(&p, pidf, sizeof(pidf) - 1);
	pres_state(aor, &p);
	pidf[p.overflow ? 0 : p.len] = '\0';
	snprintf(uri, sizeof(uri), "sip:%s", aor);
	sd_buf_init(&b, out, size);
	sd_buf_add(&b, "{", 1);
	ctl_json_kv_str(&b, first_key, uri);
	sd_buf_add(&b, ",", 1);
	ctl_json_kv_str(&b, "state", pidf);
	sd_buf_add(&b, "}", 1);
	return b.overflow ? 0 : b.len;
}

static int on_state(void *ev, void *arg)
{
	static char line[CONFIG_SIMPLED_CTL_MAX_ANSWER];
	const char *aor = ev;
	size_t n;

	(void)arg;
	if (ctl_watching(aor) &&
	    (n = state_line(line, sizeof(line), aor, "presentity"))) {
		ctl_watch_send(aor, line, n);
	}
	return 0;
}

/* watch URI [EVENT]: the state now, then a line per change, for as long
 * as the client stays. */
static int cmd_watch(const struct ctl_req *req, struct sd_buf *b,
		     const struct ctl_call *call)
{
	char aor[CONFIG_SIMPLED_MAX_URI_LEN];

	if (req->argc > 1 && strcmp(req->argv[1], "presence")) {
		error(b, "only the event package presence can be watched");
		return 0;
	}
	if (user_key(req->argv[0], 1, aor, sizeof(aor), b)) {
		return 0;
	}
	b->len = state_line(b->p, b->size, aor, "watching");
	if (!b->len) {
		error(b, "the state is too large to show");
		return 0;
	}
	ctl_call_watch(call, aor);
	return 0;
}

/* allow|block|polite-block PRESENTITY WATCHER: the presentity's rule,
 * answered once on disk. */
struct rule_pending {
	struct ctl_call call;
	char text[160];
};
static struct rule_pending rule_pending[CONFIG_SIMPLED_CTL_MAX_CLIENTS];

static void rule_stored(int err, void *arg)
{
	struct rule_pending *p = arg;
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
	struct rule_pending *p = &rule_pending[call->slot];
	struct sd_buf t;
	int err;

	if (user_key(req->argv[0], 1, presentity, sizeof(presentity), b) ||
	    user_key(req->argv[1], 0, watcher, sizeof(watcher), b)) {
		return 0;
	}
	sd_buf_init(&t, p->text, sizeof(p->text));
	sd_buf_add(&t, "{", 1);
	ctl_json_kv_str(&t, "presentity", presentity);
	sd_buf_add(&t, ",", 1);
	ctl_json_kv_str(&t, "watcher", watcher);
	sd_buf_add(&t, ",", 1);
	ctl_json_kv_str(&t, "decision", req->command);
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
#ifdef CONFIG_SIMPLED_PRESENCE
	pres_observe(on_state, NULL);
#endif
}

void ctl_cmd_close(void)
{
#ifdef CONFIG_SIMPLED_PRESENCE
	pres_unobserve(on_state, NULL);
#endif
}

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
	{"registrations", 0, 1, "registrations [AOR]", cmd_registrations,
	 NULL, NULL},
#ifdef CONFIG_SIMPLED_PRESENCE
	{"publish", 8, 9, "publish URI EXPIRES EVENT CTYPE ID ETAG "
	 "[OUTBOUND_PROXY] EXTRA_HEADERS BODY ('.': none)", NULL, NULL,
	 cmd_publish},
	{"watch", 1, 2, "watch URI [presence]", NULL, NULL, cmd_watch},
	{"allow", 2, 2, "allow PRESENTITY WATCHER", NULL, NULL, cmd_rule},
	{"block", 2, 2, "block PRESENTITY WATCHER", NULL, NULL, cmd_rule},
	{"polite-block", 2, 2, "polite-block PRESENTITY WATCHER", NULL, NULL,
	 cmd_rule},
	{"presentities", 0, 1, "presentities [URI]", cmd_presentities, NULL,
	 NULL},
	{"watchers", 1, 1, "watchers URI", cmd_watchers, NULL, NULL},
	{"subscriptions", 0, 0, "subscriptions", cmd_subscriptions, NULL, NULL},
#else
	{"publish", 8, 9, "publish URI EXPIRES EVENT CTYPE ID ETAG "
	 "[OUTBOUND_PROXY] EXTRA_HEADERS BODY ('.': none)",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"watch", 1, 2, "watch URI [presence]",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"allow", 2, 2, "allow PRESENTITY WATCHER",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"block", 2, 2, "block PRESENTITY WATCHER",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"polite-block", 2, 2, "polite-block PRESENTITY WATCHER",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"presentities", 0, 1, "presentities [URI]",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"watchers", 1, 1, "watchers URI",
	 OFF("presence (CONFIG_SIMPLED_PRESENCE)"), NULL},
	{"subscriptions", 0, 0, "subscriptions",
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
	{"purge", 1, 1, "purge USER", NULL, NULL, cmd_purge},
	{"cleanup", 0, 0, "cleanup", NULL, NULL, cmd_cleanup},
#else
	{"cleanup", 0, 0, "cleanup",
	 OFF("offline messages (CONFIG_SIMPLED_OFFLINE)"), NULL},
	{"purge", 1, 1, "purge USER",
	 OFF("offline messages (CONFIG_SIMPLED_OFFLINE)"), NULL},
	{"offline", 1, 1, "offline USER",
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
