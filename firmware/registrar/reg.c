/** @file reg.c  REGISTER (RFC 3261 10.3) over fixed pools. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "reg"
#include "cfg.h"
#include "log.h"
#include "mem.h"
#include "reg.h"
#include "sd_hash.h"
#include "strs.h"
#include "tmr.h"

#define MOD_DEF "reg.def"
#include "mod_decl.h"

/* Contacts one REGISTER may carry; more are refused with 403. */
#define REG_MAX_PER_REQUEST 16

struct reg_aor;

/* What names a binding: its instance-id and reg-id when the contact
 * has a +sip.instance (RFC 5626 section 6, RFC 5627), else its URI as
 * RFC 3261 19.1.4 compares it. */
struct reg_binding {
	struct reg_binding *next;
	struct reg_aor *aor;
	struct tmr tmr;
	uint32_t cseq;
	int q;			/* q * 1000, -1 when not given */
	int accepts_message;
	uint32_t reg_id;	/* RFC 5626 flow; 0: none, or no instance */
	uint32_t uri_hash;	/* of the URI parts 19.1.4 needs equal */
	struct sip_flow flow;
	/* In reg_strs (a binding costs what its text holds): */
	char *uri;
	char *callid;
	/* "<urn:...>" as the contact gave it inside its quotes; "" none */
	char *instance;
};

struct reg_aor {
	UT_hash_handle hh;
	struct reg_binding *bindings;
	unsigned n;
	char *key;		/* in reg_strs */
};

/* The text of AoRs and bindings, sized for both pools full of the
 * longest text (reg_start()). */
static struct strs reg_strs;

struct reg_cfg reg_cfg;
static struct reg_aor *aors;
static struct hook_list observers;

/* Names services answer themselves (reg_reserve()). */
static struct {
	char user[REG_RESERVED_LEN];
	const char *service;
} reserved[REG_MAX_RESERVED];
static unsigned n_reserved;

int reg_reserve(const char *user, const char *service)
{
	const char *owner = reg_reserved(user);

	if (!user[0] || strlen(user) >= REG_RESERVED_LEN) {
		return EINVAL;
	}
	if (owner) {
		return strcmp(owner, service) ? EEXIST : 0;
	}
	if (n_reserved == REG_MAX_RESERVED) {
		return ENOSPC;
	}
	strcpy(reserved[n_reserved].user, user);
	reserved[n_reserved].service = service;
	n_reserved++;
	return 0;
}

const char *reg_reserved(const char *user)
{
	unsigned i;

	for (i = 0; i < n_reserved; i++) {
		if (!strcasecmp(reserved[i].user, user)) {
			return reserved[i].service;
		}
	}
	return NULL;
}

int reg_service_uri(const osip_uri_t *u, const char *user)
{
	return u && u->username && u->host && user[0] &&
	       !strcasecmp(u->username, user) &&
	       sip_is_local_host(sd_pl_str(u->host));
}

int reg_observe(hook_h *h, void *arg)
{
	return hook_add(&observers, h, arg);
}

static void contact_view(const struct reg_binding *b, struct reg_contact *c);

static void tell(enum reg_event ev, const char *aor,
		 const struct reg_binding *b)
{
	struct reg_contact c;
	struct reg_change ch = {ev, aor, &c};

	contact_view(b, &c);
	hook_run(&observers, &ch);
}
static unsigned n_bindings;

#define R struct reg_cfg
static const struct cfg_opt reg_opts[] = {
	CFG_INT_OPT(R, "min_expires", min_expires, 0, REG_EXPIRES_CAP, "60"),
	CFG_INT_OPT(R, "max_expires", max_expires, 0, REG_EXPIRES_CAP, "0"),
	CFG_INT_OPT(R, "default_expires", default_expires, 1, REG_EXPIRES_CAP,
		    "3600"),
	CFG_INT_OPT(R, "max_contacts", max_contacts, 0,
		    CONFIG_SIMPLED_MAX_BINDINGS, "0"),
};
#undef R

static const struct cfg_sect reg_sect =
	CFG_SECT("registrar", reg_opts, &reg_cfg);

unsigned reg_binding_count(void)
{
	return n_bindings;
}

/* "user@domain"; domains compare without case, user parts with
 * (RFC 3261 19.1.4), so only the domain is lower-cased. */
static int aor_print(const char *user, const char *dom, char *buf,
		     size_t size)
{
	size_t ul, dl = strlen(dom), n;

	if (!user || !user[0]) {
		return EINVAL;
	}
	if (sip_uri_canon(user, buf, size)) {
		return ENAMETOOLONG;
	}
	ul = strlen(buf);
	if (ul + 1 + dl >= size) {
		return ENAMETOOLONG;
	}
	buf[ul] = '@';
	memcpy(buf + ul + 1, dom, dl + 1);
	for (n = ul + 1; buf[n]; n++) {
		if (buf[n] >= 'A' && buf[n] <= 'Z') {
			buf[n] = (char)(buf[n] + 32);
		}
	}
	return 0;
}

int reg_aor_key(const osip_uri_t *u, char *buf, size_t size)
{
	const char *dom;

	if (!u || !u->host) {
		return EINVAL;
	}
	dom = sip_local_domain(sd_pl_str(u->host));
	if (!dom) {
		return ENOENT;
	}
	if (!u->username || !u->username[0]) {
		return EINVAL;
	}
	return aor_print(u->username, dom, buf, size);
}

int reg_uri_aor(const osip_uri_t *u, char *buf, size_t size)
{
	int err = reg_aor_key(u, buf, size);

	if (err != ENOENT) {
		return err;
	}
	return aor_print(u->username, u->host, buf, size);
}

static void binding_unlink(struct reg_binding *b)
{
	struct reg_aor *a = b->aor;
	struct reg_binding **pp;

	for (pp = &a->bindings; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	a->n--;
	tmr_cancel(&b->tmr);
	pool_put(&reg_binding_pool, b);
	n_bindings--;
	if (!a->bindings) {
		HASH_DEL(aors, a);
		strs_put(&reg_strs, a->key);
		pool_put(&reg_aor_pool, a);
	}
}

/* The text of a binding gone (a copy taken before binding_unlink(), once
 * the observers were told). */
static void binding_forget(struct reg_binding *gone)
{
	strs_put(&reg_strs, gone->uri);
	strs_put(&reg_strs, gone->callid);
	strs_put(&reg_strs, gone->instance);
}

static void binding_expired(void *arg)
{
	struct reg_binding *b = arg;
	struct reg_binding gone = *b;
	char aor[CONFIG_SIMPLED_MAX_URI_LEN];

	LOG_DBG("binding %s of %s expired", b->uri, b->aor->key);
	stat_inc(reg_stat_bindings_expired);

	strcpy(aor, b->aor->key);
	binding_unlink(b);
	tell(REG_EXPIRED, aor, &gone);
	binding_forget(&gone);
}

static uint32_t binding_left_s(const struct reg_binding *b)
{
	int ms = (int)(b->tmr.when - port_now_ms());

	return ms <= 0 ? 0 : (uint32_t)((ms + 999) / 1000);
}

static void contact_view(const struct reg_binding *b, struct reg_contact *c)
{
	c->uri = b->uri;
	c->flow = &b->flow;
	c->expires_s = b->tmr.pos ? binding_left_s(b) : 0;
	c->accepts_message = b->accepts_message;
	c->instance = b->instance ? b->instance : "";
}

unsigned reg_lookup(const char *aor, reg_contact_h *h, void *arg)
{
	struct reg_aor *a;
	struct reg_binding *b, *next;
	unsigned n = 0;

	HASH_FIND_STR(aors, aor, a);
	if (!a) {
		return 0;
	}
	for (b = a->bindings; b; b = next) {
		struct reg_contact c;

		next = b->next;
		contact_view(b, &c);
		n++;
		if (h) {
			h(&c, arg);
		}
	}
	return n;
}

unsigned reg_walk(void (*h)(const char *aor, void *arg), void *arg)
{
	struct reg_aor *a, *tmp;
	unsigned n = 0;

	HASH_ITER(hh, aors, a, tmp) {
		n++;
		h(a->key, arg);
	}
	return n;
}

/* One Contact of a REGISTER, checked before anything changes. url is
 * the request's, borrowed for the handler. */
struct reg_contact_req {
	int accepts_message;
	const osip_uri_t *url;
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];
	char instance[CONFIG_SIMPLED_MAX_INSTANCE_LEN];
	uint32_t reg_id;
	uint32_t uri_hash;
	struct sip_flow flow;
	uint32_t expires;
	int q;
	struct reg_binding *existing;
	struct reg_binding *fresh;
	/* Text taken in pass 2 for the binding (uri, Call-ID, instance);
	 * NULL: it keeps its own. */
	char *taken[3];
};

/* A URI part as it compares (escapes of unreserved characters decoded,
 * sip_uri_canon()); as given when that would not fit. */
static const char *canon(const char *s, char *buf, size_t size)
{
	return s && !sip_uri_canon(s, buf, size) ? buf : s;
}

/* Both absent, or both there and equal (with or without case). */
static int part_eq(const char *x, const char *y, int nocase)
{
	char bx[CONFIG_SIMPLED_MAX_URI_LEN], by[CONFIG_SIMPLED_MAX_URI_LEN];

	if (!x || !y) {
		return x == y;
	}
	x = canon(x, bx, sizeof(bx));
	y = canon(y, by, sizeof(by));
	return nocase ? !strcasecmp(x, y) : !strcmp(x, y);
}

/* The port as a number; -1 when the URI has none (19.1.4: an omitted
 * port is not 5060). */
static long uri_port(const osip_uri_t *u)
{
	return u->port && u->port[0] ? strtol(u->port, NULL, 10) : -1;
}

static const osip_uri_param_t *uri_param(const osip_uri_t *u,
					  const char *name)
{
	const osip_uri_param_t *p;
	int pos;

	for (pos = 0; !osip_list_eol(&u->url_params, pos); pos++) {
		p = osip_list_get(&u->url_params, pos);
		if (p->gname && !strcasecmp(p->gname, name)) {
			return p;
		}
	}
	return NULL;
}

/* Each uri-parameter of x matches y's, or y has none of that name and
 * it is not one of those that count when only one URI has them. */
static int uri_params_cover(const osip_uri_t *x, const osip_uri_t *y)
{
	static const char *const always[] = {"transport", "user", "ttl",
					     "method", "maddr"};
	const osip_uri_param_t *p, *q;
	unsigned i;
	int pos;

	for (pos = 0; !osip_list_eol(&x->url_params, pos); pos++) {
		p = osip_list_get(&x->url_params, pos);
		if (!p->gname) {
			continue;
		}
		q = uri_param(y, p->gname);
		if (q) {
			if (!part_eq(p->gvalue ? p->gvalue : "",
				     q->gvalue ? q->gvalue : "", 1)) {
				return 0;
			}
			continue;
		}
		for (i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
			if (!strcasecmp(p->gname, always[i])) {
				return 0;
			}
		}
	}
	return 1;
}

/*
 * RFC 3261 19.1.4 on libosip2's view (still escaped: parts compare as
 * sip_uri_canon() writes them): scheme and host without case, user and
 * password with, the port as given (omitted is not 5060), parameters as
 * uri_params_cover() says.
 * URI headers are not kept with a binding (sip_uri_print() drops them),
 * so they are not compared.
 */
static int uri_eq(const osip_uri_t *x, const osip_uri_t *y)
{
	return part_eq(x->scheme, y->scheme, 1) &&
	       part_eq(x->username, y->username, 0) &&
	       part_eq(x->password, y->password, 0) &&
	       part_eq(x->host, y->host, 1) && uri_port(x) == uri_port(y) &&
	       uri_params_cover(x, y) && uri_params_cover(y, x);
}

static uint32_t hash_part(uint32_t h, const char *s, int nocase)
{
	char buf[CONFIG_SIMPLED_MAX_URI_LEN];

	s = canon(s, buf, sizeof(buf));
	/* FNV-1a; an absent part hashes apart from an empty one. */
	h = (h ^ (s ? 1u : 2u)) * 16777619u;
	for (; s && *s; s++) {
		h = (h ^ (uint8_t)(nocase ? tolower((unsigned char)*s) : *s)) *
		    16777619u;
	}
	return h;
}

/* Equal URIs (uri_eq()) hash equal: only stored bindings whose hash
 * matches are parsed again to compare. */
static uint32_t uri_hash(const osip_uri_t *u)
{
	uint32_t h = 2166136261u;

	h = hash_part(h, u->scheme, 1);
	h = hash_part(h, u->username, 0);
	h = hash_part(h, u->password, 0);
	h = hash_part(h, u->host, 1);
	return (h ^ (uint32_t)uri_port(u)) * 16777619u;
}

/* The value without its "<" ">" (RFC 5626: "<" instance-val ">"). */
static struct sd_pl instance_val(const char *s)
{
	size_t l = strlen(s);

	if (l >= 2 && s[0] == '<' && s[l - 1] == '>') {
		return sd_pl(s + 1, l - 2);
	}
	return sd_pl(s, l);
}

/*
 * Instance-ids are URNs, equal when lexically equivalent (RFC 8141):
 * "urn" and the namespace id without case, the hex digits of %-escapes
 * without case, and a uuid (RFC 4122) without case at all. Anything
 * that is not a URN compares byte for byte.
 */
static int instance_eq(const char *xs, const char *ys)
{
	struct sd_pl x = instance_val(xs), y = instance_val(ys);
	size_t i, nid = 0, esc = 0;
	int uuid = 0;

	if (x.l != y.l) {
		return 0;
	}
	if (x.l > 4 && !strncasecmp(x.p, "urn:", 4) &&
	    !strncasecmp(y.p, "urn:", 4)) {
		for (nid = 4; nid < x.l && x.p[nid] != ':'; nid++) {
		}
		uuid = nid == 8 && !strncasecmp(x.p + 4, "uuid", 4);
	}
	for (i = 0; i < x.l; i++) {
		int fold = i < nid || uuid || esc;

		if (esc) {
			esc--;
		} else if (nid && x.p[i] == '%') {
			esc = 2;
		}
		if (fold ? tolower((unsigned char)x.p[i]) !=
			   tolower((unsigned char)y.p[i]) :
			   x.p[i] != y.p[i]) {
			return 0;
		}
	}
	return 1;
}

/* RFC 5626, when either contact has a +sip.instance: one binding per
 * instance and reg-id, never the same as a contact without one. */
static int instance_same(const char *xi, uint32_t xr, const char *yi,
			 uint32_t yr)
{
	return xi[0] && yi[0] && xr == yr && instance_eq(xi, yi);
}

/* Is the stored binding b the request's contact x? ENOMEM when its URI
 * could not be parsed again within the budget. */
static int binding_is(const struct reg_binding *b,
		      const struct reg_contact_req *x, int *err)
{
	struct mem_arena ar = {0}, *prev;
	osip_uri_t *u = NULL;
	int eq = 0;

	if (x->instance[0] || b->instance[0]) {
		return instance_same(x->instance, x->reg_id, b->instance,
				     b->reg_id);
	}
	if (b->uri_hash != x->uri_hash) {
		return 0;
	}
	if (!strcmp(b->uri, x->uri)) {
		return 1;
	}
	/* What libosip2 forgets to free goes with the arena. */
	prev = mem_arena_enter(&ar);
	if (!osip_uri_init(&u) && !osip_uri_parse(u, b->uri)) {
		eq = uri_eq(x->url, u);
	}
	osip_uri_free(u);
	mem_arena_leave(prev);
	mem_arena_release(&ar);
	if (ar.failed) {
		*err = ENOMEM;
	}
	return eq;
}

static int binding_find(struct reg_aor *a, const struct reg_contact_req *x,
			struct reg_binding **bp)
{
	struct reg_binding *b;
	int err = 0;

	*bp = NULL;
	for (b = a ? a->bindings : NULL; b && !err; b = b->next) {
		if (binding_is(b, x, &err)) {
			*bp = b;
			return 0;
		}
	}
	return err;
}

/* Two contacts of one request that name the same binding. */
static int contact_same(const struct reg_contact_req *x,
			const struct reg_contact_req *y)
{
	if (x->existing && x->existing == y->existing) {
		return 1;
	}
	if (x->instance[0] || y->instance[0]) {
		return instance_same(x->instance, x->reg_id, y->instance,
				     y->reg_id);
	}
	return uri_eq(x->url, y->url);
}

static void reply_ok(struct sip_stx *st, struct reg_aor *a)
{
	char hdrs[CONFIG_SIMPLED_MAX_MSG_SIZE / 2];
	struct reg_binding *x;
	struct sd_buf b;

	sd_buf_init(&b, hdrs, sizeof(hdrs));
	for (x = a ? a->bindings : NULL; x; x = x->next) {
		sd_buf_str(&b, "Contact: <");
		sd_buf_str(&b, x->uri);
		sd_buf_str(&b, ">;expires=");
		sd_buf_uint(&b, binding_left_s(x));
		if (x->instance[0]) {
			sd_buf_str(&b, ";+sip.instance=\"");
			sd_buf_str(&b, x->instance);
			sd_buf_str(&b, "\"");
		}
		if (x->reg_id) {
			sd_buf_str(&b, ";reg-id=");
			sd_buf_uint(&b, x->reg_id);
		}
		sd_buf_str(&b, "\r\n");
	}
	/* A binding list too long for one response: answer without it
	 * rather than a truncated one. The bindings stand. */
	sip_reply(st, 200, NULL, b.overflow ? NULL : hdrs, NULL, NULL, 0);
}

/* Expiry asked for one contact, clamped to our bounds. */
static int contact_expires(osip_contact_t *c, int have_hdr, uint32_t hdr_e,
			   uint32_t *e)
{
	osip_generic_param_t *p = NULL;

	if (osip_contact_param_get_byname(c, "expires", &p) == 0 && p &&
	    p->gvalue) {
		if (sd_pl_u32(sd_pl_str(p->gvalue), e)) {
			return EBADMSG;
		}
	} else if (have_hdr) {
		*e = hdr_e;
	} else {
		*e = (uint32_t)reg_cfg.default_expires;
	}
	if (reg_cfg.max_expires && *e > (uint32_t)reg_cfg.max_expires) {
		*e = (uint32_t)reg_cfg.max_expires;
	}
	if (*e > REG_EXPIRES_CAP) {
		*e = REG_EXPIRES_CAP;
	}
	return 0;
}

/* RFC 3840 methods parameter, else the REGISTER's Allow, else yes. */
static int accepts_message(osip_contact_t *c, const struct sip_msg *req)
{
	osip_generic_param_t *p = NULL;
	int saw_allow = 0;
	unsigned i;

	if (osip_contact_param_get_byname(c, "methods", &p) == 0 && p) {
		return p->gvalue && strcasestr(p->gvalue, "MESSAGE") != NULL;
	}
	/* Several Allow lines may split the list: any naming MESSAGE. */
	for (i = 0; i < req->nhdrs; i++) {
		char v[256];

		if (sd_pl_casecmp(req->hdrs[i].name, "Allow")) {
			continue;
		}
		saw_allow = 1;
		if (!sd_pl_copy(req->hdrs[i].value, v, sizeof(v)) &&
		    strcasestr(v, "MESSAGE")) {
			return 1;
		}
	}
	return !saw_allow;
}

static int contact_q(osip_contact_t *c)
{
	osip_generic_param_t *p = NULL;
	double q;

	if (osip_contact_param_get_byname(c, "q", &p) || !p || !p->gvalue) {
		return -1;
	}
	q = strtod(p->gvalue, NULL);
	if (q < 0 || q > 1) {
		return -1;
	}
	return (int)(q * 1000 + 0.5);
}

/*
 * The contact's +sip.instance (RFC 5626 4.1: a quoted "<" URN ">") into
 * buf, "" when it has none, and its reg-id (1 to 2^31-1), which counts
 * only with an instance. The value is written back in our 200, so it may
 * hold only characters a URN may.
 * @return 0, EBADMSG (with *why) or ENAMETOOLONG.
 */
static int contact_instance(osip_contact_t *c, char *buf, size_t size,
			    uint32_t *reg_id, const char **why)
{
	osip_generic_param_t *p = NULL;
	struct sd_pl v;
	size_t i;

	buf[0] = '\0';
	*reg_id = 0;
	if (osip_contact_param_get_byname(c, "+sip.instance", &p) || !p) {
		return 0;
	}
	*why = "Malformed +sip.instance parameter";
	v = sd_pl_str(p->gvalue ? p->gvalue : "");
	if (v.l >= 2 && v.p[0] == '"' && v.p[v.l - 1] == '"') {
		v = sd_pl(v.p + 1, v.l - 2);
	}
	for (i = 0; i < v.l; i++) {
		if (v.p[i] <= ' ' || v.p[i] > '~' || v.p[i] == '"' ||
		    v.p[i] == '\\') {
			return EBADMSG;
		}
	}
	if (sd_pl_copy(v, buf, size)) {
		return ENAMETOOLONG;
	}
	if (!instance_val(buf).l) {
		return EBADMSG;
	}
	p = NULL;
	if (osip_contact_param_get_byname(c, "reg-id", &p) || !p) {
		return 0;
	}
	*why = "Malformed reg-id parameter";
	if (!p->gvalue || sd_pl_u32(sd_pl_str(p->gvalue), reg_id) ||
	    *reg_id == 0 || *reg_id > 0x7fffffffu) {
		return EBADMSG;
	}
	return 0;
}

/* A REGISTER for a name a service answers (key "user@domain"):
 * @return 1 after answering 403 with the reason. */
static int refuse_reserved(struct sip_stx *st, const char *key)
{
	const char *at = strrchr(key, '@'), *service;
	char user[REG_RESERVED_LEN], reason[128];

	if (!at || (size_t)(at - key) >= sizeof(user)) {
		return 0; /* longer than any reserved name */
	}
	memcpy(user, key, (size_t)(at - key));
	user[at - key] = '\0';
	service = reg_reserved(user);
	if (!service) {
		return 0;
	}
	snprintf(reason, sizeof(reason), "Name reserved for %s", service);
	sip_reply(st, 403, reason, NULL, NULL, NULL, 0);
	return 1;
}

static void on_register(struct sip_stx *st, const struct sip_msg *req);

/* A REGISTER whose contact names a host being resolved waits for it and
 * is then read again from the start (nothing was changed before). */
static void reg_resume(void *arg)
{
	struct sip_stx *st = arg;

	on_register(st, sip_stx_request(st));
}

/* Pass 2: the text contact x sets on its binding, where it differs.
 * @return 0 or ENOMEM (nothing taken). */
static int take_text(struct reg_contact_req *x, const char *callid)
{
	struct reg_binding *b = x->existing;
	char **const cur[] = {b ? &b->uri : NULL, b ? &b->callid : NULL,
			      b ? &b->instance : NULL};
	const char *const want[] = {x->uri, callid, x->instance};

	return strs_take(&reg_strs, cur, want, x->taken, 3);
}

/* Undo pass 2 for x: its text and its fresh binding go back. */
static void give_back(struct reg_contact_req *x)
{
	strs_untake(&reg_strs, x->taken, 3);
	if (x->fresh) {
		pool_put(&reg_binding_pool, x->fresh);
		x->fresh = NULL;
	}
}

/* Pass 3: the binding takes the text taken for it. */
static void set_text(struct reg_binding *b, struct reg_contact_req *x)
{
	char **const cur[] = {&b->uri, &b->callid, &b->instance};

	strs_swap(&reg_strs, cur, x->taken, 3);
}

static void on_register(struct sip_stx *st, const struct sip_msg *req)
{
	static struct reg_contact_req ch[REG_MAX_PER_REQUEST];
	osip_message_t *om = req->osip;
	const struct sip_hdr *ch_hdr;
	char key[CONFIG_SIMPLED_MAX_URI_LEN];
	char callid[CONFIG_SIMPLED_MAX_CALLID_LEN];
	struct reg_aor *a;
	uint32_t hdr_e = 0;
	int have_hdr = 0, star = 0, err, pos;
	unsigned n = 0, i, need = 0, after;
	const char *why = NULL;
	char mhdr[64];

	if (!sip_is_local_host(sd_pl_str(om->req_uri->host))) {
		sip_reply(st, 403, "Domain not served here", NULL, NULL, NULL,
			  0);
		return;
	}
	err = reg_aor_key(om->to ? om->to->url : NULL, key, sizeof(key));
	if (err == ENOENT) {
		sip_reply(st, 403, "Domain not served here", NULL, NULL, NULL,
			  0);
		return;
	}
	if (err) {
		sip_reply(st, 400, err == EINVAL ? "To has no user part" :
			  "To URI too long", NULL, NULL, NULL, 0);
		return;
	}
	if (refuse_reserved(st, key)) {
		return;
	}
	/* Only compared, never sent: a long Call-ID is kept as its hash. */
	sd_key_fit(callid, sizeof(callid), req->call_id);
	err = sip_hdr_u32(st, sip_msg_hdr(req, SIP_HDR_EXPIRES), "Expires",
			  &hdr_e);
	if (err == EBADMSG) {
		return;
	}
	have_hdr = !err;
	HASH_FIND_STR(aors, key, a);

	/* Contact: * removes every binding, only with Expires: 0. */
	ch_hdr = sip_msg_hdr(req, SIP_HDR_CONTACT);
	if (ch_hdr && ch_hdr->value.l == 1 && ch_hdr->value.p[0] == '*') {
		if (!have_hdr || hdr_e != 0 ||
		    osip_list_size(&om->contacts) > 1) {
			sip_reply(st, 400, "Contact * needs Expires: 0 and no "
				  "other contact", NULL, NULL, NULL, 0);
			return;
		}
		star = 1;
	}
	if (star) {
		struct reg_binding *b;

		/* RFC 3261 10.3 step 6: one binding out of order aborts the
		 * whole update, so check them all before removing any. */
		for (b = a ? a->bindings : NULL; b; b = b->next) {
			if (!strcmp(b->callid, callid) &&
			    req->cseq <= b->cseq) {
				sip_reply(st, 400, "CSeq out of order", NULL,
					  NULL, NULL, 0);
				return;
			}
		}
		while (a && (b = a->bindings)) {
			int last = a->n == 1;
			struct reg_binding gone = *b;

			stat_inc(reg_stat_bindings_removed);
			binding_unlink(b);
			tell(REG_REMOVED, key, &gone);
			binding_forget(&gone);
			if (last) {
				a = NULL;
			}
		}
		reply_ok(st, NULL);
		return;
	}

	/* Pass 1: read and check every contact; change nothing yet. */
	for (pos = 0; !osip_list_eol(&om->contacts, pos); pos++) {
		osip_contact_t *c = osip_list_get(&om->contacts, pos);
		struct reg_contact_req *x;

		if (n == REG_MAX_PER_REQUEST) {
			sip_reply(st, 403, "Too many contacts in one request",
				  NULL, NULL, NULL, 0);
			return;
		}
		x = &ch[n++];
		memset(x, 0, sizeof(*x));
		if (!c || !c->url) {
			sip_reply(st, 400, "Malformed Contact header", NULL,
				  NULL, NULL, 0);
			return;
		}
		err = sip_uri_print(c->url, x->uri, sizeof(x->uri));
		if (err) {
			sip_reply(st, 400, err == ENAMETOOLONG ?
				  "Contact URI too long" :
				  "Malformed Contact URI", NULL, NULL, NULL, 0);
			return;
		}
		err = contact_instance(c, x->instance, sizeof(x->instance),
				       &x->reg_id, &why);
		if (err) {
			sip_reply(st, 400, err == ENAMETOOLONG ?
				  "+sip.instance too long" : why, NULL, NULL,
				  NULL, 0);
			return;
		}
		x->url = c->url;
		x->uri_hash = uri_hash(c->url);
		err = sip_contact_flow(c->url, &req->flow, &x->flow);
		if (err == EINPROGRESS &&
		    !sip_contact_wait(c->url, reg_resume, st)) {
			return; /* read again once the name is resolved */
		}
		if (err && err != EINPROGRESS) {
			sip_reply(st, 400, "Contact URI cannot be reached",
				  NULL, NULL, NULL, 0);
			return;
		}
		/* A MESSAGE relayed there would come back to us. */
		if (sip_is_own_address(&x->flow.peer)) {
			sip_reply(st, 403, "Contact points at this server",
				  NULL, NULL, NULL, 0);
			return;
		}
		if (contact_expires(c, have_hdr, hdr_e, &x->expires)) {
			sip_reply(st, 400, "Malformed expires parameter", NULL,
				  NULL, NULL, 0);
			return;
		}
		if (x->expires && x->expires < (uint32_t)reg_cfg.min_expires) {
			snprintf(mhdr, sizeof(mhdr), "Min-Expires: %d\r\n",
				 reg_cfg.min_expires);
			sip_reply(st, 423, NULL, mhdr, NULL, NULL, 0);
			return;
		}
		x->q = contact_q(c);
		x->accepts_message = accepts_message(c, req);
		if (binding_find(a, x, &x->existing)) {
			sip_reply_errno(st, ENOMEM);
			return;
		}
		if (x->existing && !strcmp(x->existing->callid, callid) &&
		    req->cseq <= x->existing->cseq) {
			sip_reply(st, 400, "CSeq out of order", NULL, NULL,
				  NULL, 0);
			return;
		}
		for (i = 0; i + 1 < n; i++) {
			if (contact_same(&ch[i], x)) {
				sip_reply(st, 400, "Contact listed twice", NULL,
					  NULL, NULL, 0);
				return;
			}
		}
		if (!x->existing && x->expires) {
			need++;
		}
	}
	after = (a ? a->n : 0) + need;
	for (i = 0; i < n; i++) {
		if (ch[i].existing && !ch[i].expires) {
			after--;
		}
	}
	if (reg_cfg.max_contacts && after > (unsigned)reg_cfg.max_contacts) {
		sip_reply(st, 403, "Too many registered contacts", NULL, NULL,
			  NULL, 0);
		return;
	}

	/* Pass 2: reserve everything that can run out, or change nothing. */
	if (need && !a) {
		a = pool_get(&reg_aor_pool);
		if (!a) {
			sip_reply_errno(st, ENOMEM);
			return;
		}
		char *k = strs_dup(&reg_strs, key);

		if (!k) {
			pool_put(&reg_aor_pool, a);
			sip_reply_errno(st, ENOMEM);
			return;
		}
		a->key = k;
		SD_HASH_ADD_KEYPTR(hh, aors, k, strlen(k), a, &reg_aor_pool);
		if (!a) {
			strs_put(&reg_strs, k);
			sip_reply_errno(st, ENOMEM);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		if (!ch[i].expires) {
			continue;
		}
		if (take_text(&ch[i], callid) ||
		    (!ch[i].existing &&
		     !(ch[i].fresh = pool_get(&reg_binding_pool)))) {
			for (i++; i-- > 0;) {
				give_back(&ch[i]);
			}
			if (!a->bindings) {
				HASH_DEL(aors, a);
				strs_put(&reg_strs, a->key);
				pool_put(&reg_aor_pool, a);
			}
			sip_reply_errno(st, ENOMEM);
			return;
		}
	}

	/* Pass 3: apply; additions first so the AoR cannot vanish under
	 * them when a removal takes its last old binding. */
	for (i = 0; i < n; i++) {
		struct reg_binding *b = ch[i].existing;

		if (!ch[i].expires) {
			continue;
		}
		if (!b) {
			b = ch[i].fresh;
			b->aor = a;
			b->next = a->bindings;
			a->bindings = b;
			a->n++;
			n_bindings++;
			stat_inc(reg_stat_bindings_added);
		}
		/* A binding found by instance or by 19.1.4 takes the
		 * contact as now registered (a new address after a NAT
		 * rebinding). */
		set_text(b, &ch[i]);
		b->reg_id = ch[i].reg_id;
		b->uri_hash = ch[i].uri_hash;
		b->cseq = req->cseq;
		b->q = ch[i].q;
		b->flow = ch[i].flow;
		b->accepts_message = ch[i].accepts_message;
		tmr_start(&b->tmr, ch[i].expires * 1000u, binding_expired, b);
	}
	for (i = 0; i < n; i++) {
		if (!ch[i].expires && ch[i].existing) {
			int last = a->n == 1;
			struct reg_binding gone = *ch[i].existing;

			stat_inc(reg_stat_bindings_removed);
			binding_unlink(ch[i].existing);
			tell(REG_REMOVED, key, &gone);
			binding_forget(&gone);
			if (last) {
				a = NULL;
			}
		}
	}
	reply_ok(st, a);
	/* Observers act after the 200 is on its way (offline delivery). */
	for (i = 0; i < n; i++) {
		if (ch[i].expires) {
			tell(ch[i].existing ? REG_REFRESHED : REG_ADDED, key,
			     ch[i].existing ? ch[i].existing : ch[i].fresh);
		}
	}
}

static int reg_start(void)
{
	int err = pool_setup(&reg_aor_pool, sizeof(struct reg_aor));
	size_t uri = strs_room(CONFIG_SIMPLED_MAX_URI_LEN - 1);

	if (!err) {
		err = pool_setup(&reg_binding_pool, sizeof(struct reg_binding));
	}
	/* Room for both pools full of the longest text: the pools, not
	 * the arena, run out first; only what is used becomes resident. */
	if (!err) {
		err = strs_setup(&reg_strs, "registrar text",
				 pool_size(&reg_aor_pool) * uri +
				 pool_size(&reg_binding_pool) *
				 (uri +
				  strs_room(CONFIG_SIMPLED_MAX_CALLID_LEN - 1) +
				  strs_room(CONFIG_SIMPLED_MAX_INSTANCE_LEN - 1)));
	}
	if (!err) {
		err = sip_route("REGISTER", on_register);
	}
	return err;
}

static void reg_stop(void)
{
	hook_clear(&observers);
	struct reg_aor *a, *tmp;

	n_reserved = 0;

	HASH_ITER(hh, aors, a, tmp) {
		while (a->bindings) {
			struct reg_binding *b = a->bindings;

			a->bindings = b->next;
			tmr_cancel(&b->tmr);
			binding_forget(b);
			pool_put(&reg_binding_pool, b);
			n_bindings--;
		}
		HASH_DEL(aors, a);
		strs_put(&reg_strs, a->key);
		pool_put(&reg_aor_pool, a);
	}
	strs_release(&reg_strs);
}

#define MOD_DEF "reg.def"
#define MOD_VAR reg_mod
#define MOD_NAME "registrar"
#define MOD_SECT &reg_sect
#define MOD_START reg_start
#define MOD_STOP reg_stop
#include "mod_def.h"
