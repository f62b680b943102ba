/** @file imc.c  Chat rooms: the manager and room URIs, command execution,
 * fan-out, history, offline members, and persistence in LMDB.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "imc"
#include "cfg.h"
#include "imc.h"
#include "log.h"
#include "mem.h"
#include "msg.h"
#include "reg.h"
#include "sd_hash.h"
#include "store.h"

#define MOD_DEF "imc.def"
#include "mod_decl.h"

/* Commands run, by kind (counters imc_cmd_<name>). */
unsigned long imc_stat_cmd[IMC__COUNT];

/* Bytes of one chunk of a long answer (member lists are split, never cut). */
#define IMC_CHUNK 1000

struct imc_member {
	struct imc_member *next;
	enum imc_role role;
	char user[CONFIG_SIMPLED_MAX_URI_LEN];	/* user@domain */
};

struct imc_room {
	UT_hash_handle hh;
	struct imc_member *members;
	unsigned n_members;
	int private_room;
	unsigned hist_head, hist_n;
	char *hist[CONFIG_SIMPLED_IMC_MAX_HISTORY > 0 ?
		   CONFIG_SIMPLED_IMC_MAX_HISTORY : 1];
	char name[IMC_NAME_MAX];
};

struct imc_cfg imc_cfg;
static struct imc_room *rooms;
static unsigned n_members;
static char text[CONFIG_SIMPLED_MAX_MSG_SIZE / 2];
static char fanout[CONFIG_SIMPLED_MAX_MSG_SIZE];

/* history_size defaults to 20, or the ceiling when that is lower. */
#if CONFIG_SIMPLED_IMC_MAX_HISTORY < 20
#define IMC_HISTORY_DFLT CFG_NUM(CONFIG_SIMPLED_IMC_MAX_HISTORY)
#else
#define IMC_HISTORY_DFLT "20"
#endif

#define I struct imc_cfg
static struct cfg_opt imc_opts[] = {
	CFG_STR_OPT(I, "manager", manager, "chat", NULL),
	CFG_STR_OPT(I, "rooms_domain", rooms_domain, "", NULL),
	CFG_STR_OPT(I, "imc_cmd_start_char", imc_cmd_start_char, "#", NULL),
	CFG_BOOL_OPT(I, "create_on_join", create_on_join, "1"),
	CFG_BOOL_OPT(I, "check_on_create", check_on_create, "0"),
	CFG_STR_OPT(I, "extra_hdrs", extra_hdrs, "", NULL),
	CFG_STR_OPT(I, "outbound_proxy", outbound_proxy, "", sip_proxy_check),
	CFG_BOOL_OPT(I, "offline_members", offline_members, "1"),
	CFG_INT_OPT(I, "history_size", history_size, 0,
		    CONFIG_SIMPLED_IMC_MAX_HISTORY, IMC_HISTORY_DFLT),
};
#undef I

static const struct cfg_sect imc_sect = {
	"imc", imc_opts, sizeof(imc_opts) / sizeof(imc_opts[0]), &imc_cfg,
	NULL
};

unsigned imc_room_count(void)
{
	return HASH_COUNT(rooms);
}

unsigned imc_member_count(void)
{
	return n_members;
}

static const char *rooms_domain(void)
{
	return imc_cfg.rooms_domain[0] ? imc_cfg.rooms_domain :
	       sip_cfg_domain();
}

static struct imc_room *room_find(const char *name)
{
	struct imc_room *r;
	char key[IMC_NAME_MAX];
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof(key); i++) {
		key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				name[i] + 32 : name[i]);
	}
	key[i] = '\0';
	HASH_FIND_STR(rooms, key, r);
	return r;
}

static struct imc_member *member_find(struct imc_room *r, const char *user)
{
	struct imc_member *m;

	for (m = r ? r->members : NULL; m; m = m->next) {
		if (!strcasecmp(m->user, user)) {
			return m;
		}
	}
	return NULL;
}

static enum imc_role role_of(struct imc_room *r, const char *user)
{
	struct imc_member *m = member_find(r, user);

	return m ? m->role : IMC_NONE;
}

/* ---------------------------------------------------------- persistence */

static void persist_member(struct imc_room *r, struct imc_member *m)
{
	char key[IMC_NAME_MAX + CONFIG_SIMPLED_MAX_URI_LEN + 2];
	unsigned char v = (unsigned char)m->role;

	snprintf(key, sizeof(key), "%s\x1f%s", r->name, m->user);
	if (store_rec_put(STORE_IMC_MEMBER, key, &v, 1)) {
		LOG_WRN("cannot store member %s of %s", m->user, r->name);
	}
}

static void forget_member(struct imc_room *r, struct imc_member *m)
{
	char key[IMC_NAME_MAX + CONFIG_SIMPLED_MAX_URI_LEN + 2];

	snprintf(key, sizeof(key), "%s\x1f%s", r->name, m->user);
	store_rec_del(STORE_IMC_MEMBER, key);
}

/* ------------------------------------------------------------ lifetime */

static struct imc_room *room_new(const char *name, int private_room)
{
	struct imc_room *r = pool_get(&imc_room_pool);
	unsigned char v = (unsigned char)private_room;
	size_t i;

	if (!r) {
		return NULL;
	}
	for (i = 0; name[i] && i + 1 < sizeof(r->name); i++) {
		r->name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				    name[i] + 32 : name[i]);
	}
	r->private_room = private_room;
	sd_hash_oom = 0;
	HASH_ADD_STR(rooms, name, r);
	if (sd_hash_oom) {
		pool_put(&imc_room_pool, r);
		return NULL;
	}
	if (store_is_open() && store_rec_put(STORE_IMC_ROOM, r->name, &v, 1)) {
		LOG_WRN("cannot store room %s", r->name);
	}
	return r;
}

static struct imc_member *member_add(struct imc_room *r, const char *user,
				     enum imc_role role, int persist)
{
	struct imc_member *m = pool_get(&imc_member_pool);

	if (!m) {
		return NULL;
	}
	snprintf(m->user, sizeof(m->user), "%s", user);
	m->role = role;
	/* Append: member lists show the order people came in. */
	if (!r->members) {
		r->members = m;
	} else {
		struct imc_member *t = r->members;

		while (t->next) {
			t = t->next;
		}
		t->next = m;
	}
	r->n_members++;
	n_members++;
	if (persist && store_is_open()) {
		persist_member(r, m);
	}
	return m;
}

static void member_del(struct imc_room *r, struct imc_member *m)
{
	struct imc_member **pp;

	for (pp = &r->members; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	forget_member(r, m);
	r->n_members--;
	n_members--;
	pool_put(&imc_member_pool, m);
}

static void room_free(struct imc_room *r, int drop_from_store)
{
	unsigned i;

	while (r->members) {
		struct imc_member *m = r->members;

		r->members = m->next;
		if (drop_from_store) {
			forget_member(r, m);
		}
		n_members--;
		pool_put(&imc_member_pool, m);
	}
	for (i = 0; i < CONFIG_SIMPLED_IMC_MAX_HISTORY; i++) {
		mem_free(r->hist[i]);
	}
	if (drop_from_store) {
		store_rec_del(STORE_IMC_ROOM, r->name);
	}
	HASH_DEL(rooms, r);
	pool_put(&imc_room_pool, r);
}

/* ------------------------------------------------------------- delivery */

/* One MESSAGE from the room (or manager) to user; keep: a member that
 * cannot take it now gets it through the offline store. */
static void deliver(const char *user, const char *from_uri,
		    const char *ctype, const char *body, size_t blen,
		    int keep)
{
	struct msg_out m;

	memset(&m, 0, sizeof(m));
	m.user = user;
	m.from_uri = from_uri;
	m.ctype = ctype;
	m.body = body;
	m.blen = blen;
	m.hdrs = imc_cfg.extra_hdrs[0] ? imc_cfg.extra_hdrs : NULL;
	m.outbound_proxy = imc_cfg.outbound_proxy;
	m.keep = keep && imc_cfg.offline_members;
	m.sent_stat = &imc_stat_deliveries;
	m.kept_stat = &imc_stat_offline;
	msg_send(&m);
}

static void room_uri(const struct imc_room *r, char *buf, size_t size)
{
	snprintf(buf, size, "sip:%s@%s", r->name, rooms_domain());
}

/* Tell every member (but skip, and those only invited) some text. */
static void announce(struct imc_room *r, const char *skip, const char *msg)
{
	char from[CONFIG_SIMPLED_MAX_URI_LEN];
	struct imc_member *m;

	room_uri(r, from, sizeof(from));
	for (m = r->members; m; m = m->next) {
		if (m->role >= IMC_MEMBER && (!skip || strcasecmp(m->user,
								  skip))) {
			deliver(m->user, from, "text/plain", msg, strlen(msg),
				1);
		}
	}
}

static void tell_owners(struct imc_room *r, const char *msg)
{
	char from[CONFIG_SIMPLED_MAX_URI_LEN];
	struct imc_member *m;

	room_uri(r, from, sizeof(from));
	for (m = r->members; m; m = m->next) {
		if (m->role == IMC_OWNER) {
			deliver(m->user, from, "text/plain", msg, strlen(msg),
				1);
		}
	}
}

static void history_add(struct imc_room *r, const char *body, size_t len)
{
	unsigned cap = (unsigned)imc_cfg.history_size, slot;

	if (!cap) {
		return;
	}
	slot = (r->hist_head + r->hist_n) % cap;
	if (r->hist_n == cap) {
		slot = r->hist_head;
		r->hist_head = (r->hist_head + 1) % cap;
	} else {
		r->hist_n++;
	}
	mem_free(r->hist[slot]);
	/* Under memory pressure history is the first thing to go. */
	r->hist[slot] = mem_strndup(body, len);
}

static void history_replay(struct imc_room *r, const char *user)
{
	char from[CONFIG_SIMPLED_MAX_URI_LEN];
	unsigned i, cap = (unsigned)imc_cfg.history_size;

	room_uri(r, from, sizeof(from));
	for (i = 0; cap && i < r->hist_n; i++) {
		const char *h = r->hist[(r->hist_head + i) % cap];

		if (h) {
			deliver(user, from, "text/plain", h, strlen(h), 0);
		}
	}
}

/* ------------------------------------------------------------- commands */

/* The answer to a command: a MESSAGE to the sender's contacts (long
 * texts in chunks, never cut) and, as far as it fits, the 200's body. */
static void answer(struct sip_stx *st, const char *sender, const char *from,
		   int code)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		size_t n = len - off > IMC_CHUNK ? IMC_CHUNK : len - off;

		/* Split after a line when possible. */
		if (off + n < len) {
			const char *nl = memchr(text + off + n / 2, '\n',
						n - n / 2);

			if (nl) {
				n = (size_t)(nl - (text + off)) + 1;
			}
		}
		deliver(sender, from, "text/plain", text + off, n, 0);
		off += n;
	}
	if (code >= 300) {
		stat_inc(imc_stat_refused);
	}
	sip_reply(st, code, code == 200 ? NULL : "Command refused", NULL,
		  "text/plain", text, len > IMC_CHUNK ? IMC_CHUNK : len);
}

#define SAY(...) snprintf(text, sizeof(text), __VA_ARGS__)

static void help(void)
{
	char c = imc_cfg.imc_cmd_start_char[0];

	SAY("Commands (in a MESSAGE to the room, or to the manager naming "
	    "the room):\n"
	    "%ccreate [room] [private]  %cjoin [room]  %cinvite <user> [room]\n"
	    "%cadd <user> [room]  %caccept [room]  %creject [room]\n"
	    "%cremove <user> [room]  %cleave [room]  %cdestroy [room]\n"
	    "%cmembers [room]  %crooms  %cmodify <user> owner|admin|member "
	    "[room]  %chelp", c, c, c, c, c, c, c, c, c, c, c, c, c);
}

/* "sip:u@d", "u@d" or "u" (then in the sender's domain) as user@domain. */
static int normalize_user(const char *arg, const char *sender, char *out,
			  size_t size)
{
	const char *dom = strchr(sender, '@');
	int n;

	if (!strncasecmp(arg, "sip:", 4)) {
		arg += 4;
	}
	if (!*arg || strchr(arg, ' ') || strchr(arg, '<')) {
		return EINVAL;
	}
	n = strchr(arg, '@') ? snprintf(out, size, "%s", arg) :
	    snprintf(out, size, "%s%s", arg, dom ? dom : "");
	return n < 0 || (size_t)n >= size ? EINVAL : 0;
}

static int run_create(struct imc_room **rp, const char *room, int priv,
		      const char *sender)
{
	struct imc_room *r = *rp;

	if (r) {
		if (imc_cfg.check_on_create) {
			SAY("Room %s already exists.", room);
			return 409;
		}
		return 0; /* join it instead */
	}
	r = room_new(room, priv);
	if (!r || !member_add(r, sender, IMC_OWNER, 1)) {
		if (r) {
			room_free(r, 1);
		}
		SAY("No room for another chat room right now.");
		return 503;
	}
	*rp = r;
	SAY("Room %s created (%s); its address is sip:%s@%s.", r->name,
	    priv ? "private" : "public", r->name, rooms_domain());
	return 200;
}

static int run_join(struct imc_room *r, const char *sender)
{
	struct imc_member *m = member_find(r, sender);
	char note[1024];

	if (m && m->role >= IMC_MEMBER) {
		SAY("You are already in %s.", r->name);
		return 200;
	}
	if (!m && r->private_room) {
		snprintf(note, sizeof(note), "%s asked to join the private "
			 "room %s.", sender, r->name);
		tell_owners(r, note);
		SAY("Room %s is private: joining is by invitation (its owners "
		    "were told you asked).", r->name);
		return 403;
	}
	if (m) {
		m->role = IMC_MEMBER; /* an invitation, taken by joining */
		persist_member(r, m);
	} else if (!member_add(r, sender, IMC_MEMBER, 1)) {
		SAY("Room %s is full.", r->name);
		return 503;
	}
	snprintf(note, sizeof(note), "%s joined %s.", sender, r->name);
	announce(r, sender, note);
	history_replay(r, sender);
	SAY("You joined %s (%u members).", r->name, r->n_members);
	return 200;
}

static int run_members(struct imc_room *r)
{
	struct imc_member *m;
	struct sd_buf b;

	sd_buf_init(&b, text, sizeof(text));
	sd_buf_printf(&b, "%s has %u members:\n", r->name, r->n_members);
	for (m = r->members; m; m = m->next) {
		sd_buf_printf(&b, "%s (%s)\n", m->user, imc_role_name(m->role));
	}
	if (b.overflow) {
		SAY("%s has %u members; too many to list in one answer.",
		    r->name, r->n_members);
	}
	return 200;
}

static int run_rooms(const char *sender)
{
	struct imc_room *r, *tmp;
	struct sd_buf b;
	unsigned n = 0;

	sd_buf_init(&b, text, sizeof(text));
	sd_buf_str(&b, "Rooms:\n");
	HASH_ITER(hh, rooms, r, tmp) {
		if (r->private_room && role_of(r, sender) < IMC_MEMBER) {
			continue; /* private rooms only to their members */
		}
		sd_buf_printf(&b, "%s%s (%u members)\n", r->name,
			      r->private_room ? " [private]" : "",
			      r->n_members);
		n++;
	}
	if (!n) {
		SAY("No rooms yet; %ccreate one.",
		    imc_cfg.imc_cmd_start_char[0]);
	}
	return 200;
}

static int run_leave(struct imc_room *r, const char *sender)
{
	struct imc_member *me = member_find(r, sender), *m, *heir = NULL;
	unsigned owners = 0;
	char note[1024];

	for (m = r->members; m; m = m->next) {
		owners += m->role == IMC_OWNER;
		if (!heir && m->role == IMC_ADMIN) {
			heir = m;
		}
	}
	if (me->role == IMC_OWNER && owners == 1) {
		if (!heir) {
			SAY("You are the last owner of %s: make someone owner "
			    "(%cmodify) or %cdestroy the room.", r->name,
			    imc_cfg.imc_cmd_start_char[0],
			    imc_cfg.imc_cmd_start_char[0]);
			return 403;
		}
		heir->role = IMC_OWNER;
		persist_member(r, heir);
		snprintf(note, sizeof(note), "%s is now owner of %s.",
			 heir->user, r->name);
		announce(r, sender, note);
	}
	member_del(r, me);
	snprintf(note, sizeof(note), "%s left %s.", sender, r->name);
	announce(r, NULL, note);
	SAY("You left %s.", r->name);
	return 200;
}

static int run_on_user(struct imc_room *r, const struct imc_cmd *c,
		       const char *sender, enum imc_role my_role)
{
	char user[CONFIG_SIMPLED_MAX_URI_LEN], note[1024], ruri[512];
	struct imc_member *t;

	if (normalize_user(c->user, sender, user, sizeof(user))) {
		SAY("'%s' is not a user (use user, user@domain or "
		    "sip:user@domain).", c->user);
		return 400;
	}
	t = member_find(r, user);
	room_uri(r, ruri, sizeof(ruri));
	switch (c->kind) {
	case IMC_INVITE:
	case IMC_ADD:
		if (t && (t->role >= IMC_MEMBER || c->kind == IMC_INVITE)) {
			SAY("%s is already %s %s.", user, t->role ==
			    IMC_INVITED ? "invited to" : "in", r->name);
			return 409;
		}
		if (t) {
			t->role = IMC_MEMBER;
			persist_member(r, t);
		} else if (!member_add(r, user, c->kind == IMC_INVITE ?
				       IMC_INVITED : IMC_MEMBER, 1)) {
			SAY("Room %s is full.", r->name);
			return 503;
		}
		if (c->kind == IMC_INVITE) {
			snprintf(note, sizeof(note), "%s invites you to %s. "
				 "Send %caccept or %creject to %s.", sender,
				 r->name, imc_cfg.imc_cmd_start_char[0],
				 imc_cfg.imc_cmd_start_char[0], ruri);
			deliver(user, ruri, "text/plain", note, strlen(note),
				1);
			SAY("%s is invited to %s.", user, r->name);
		} else {
			snprintf(note, sizeof(note), "%s added %s to %s.",
				 sender, user, r->name);
			announce(r, sender, note);
			history_replay(r, user);
			SAY("%s is now a member of %s.", user, r->name);
		}
		return 200;
	case IMC_REMOVE:
		if (!t) {
			SAY("%s is not in %s.", user, r->name);
			return 404;
		}
		if (!strcasecmp(user, sender) ||
		    (t->role >= my_role && my_role != IMC_OWNER)) {
			SAY("You may not remove %s from %s.", user, r->name);
			return 403;
		}
		member_del(r, t);
		snprintf(note, sizeof(note), "You were removed from %s by %s.",
			 r->name, sender);
		deliver(user, ruri, "text/plain", note, strlen(note), 1);
		snprintf(note, sizeof(note), "%s removed %s from %s.", sender,
			 user, r->name);
		announce(r, sender, note);
		SAY("%s was removed from %s.", user, r->name);
		return 200;
	case IMC_MODIFY:
		if (!t || t->role < IMC_MEMBER) {
			SAY("%s is not a member of %s.", user, r->name);
			return 404;
		}
		if (my_role != IMC_OWNER &&
		    (c->role == IMC_OWNER || t->role >= my_role)) {
			SAY("Only an owner may do that.");
			return 403;
		}
		if (t->role == IMC_OWNER && c->role != IMC_OWNER) {
			struct imc_member *m;
			unsigned owners = 0;

			for (m = r->members; m; m = m->next) {
				owners += m->role == IMC_OWNER;
			}
			if (owners == 1) {
				SAY("%s is the last owner of %s.", user,
				    r->name);
				return 403;
			}
		}
		t->role = c->role;
		persist_member(r, t);
		snprintf(note, sizeof(note), "%s is now %s of %s.", user,
			 imc_role_name(c->role), r->name);
		announce(r, NULL, note);
		SAY("%s", note);
		return 200;
	default:
		return 500;
	}
}

static int run_command(const struct imc_cmd *c, const char *sender,
		       const char *uri_room)
{
	const char *name = c->room[0] ? c->room : uri_room;
	struct imc_room *r;
	enum imc_role role;
	char note[1024];
	int code;

	stat_inc(imc_stat_cmd[c->kind]);
	if (c->kind == IMC_HELP) {
		help();
		return 200;
	}
	if (c->kind == IMC_ROOMS) {
		return run_rooms(sender);
	}
	if (!name || !name[0]) {
		SAY("Which room? Name it: %c%s <room>.",
		    imc_cfg.imc_cmd_start_char[0], imc_cmd_name(c->kind));
		return 400;
	}
	r = room_find(name);
	if (c->kind == IMC_CREATE) {
		code = run_create(&r, name, c->private_room, sender);
		if (code) {
			return code;
		}
		return run_join(r, sender);
	}
	if (!r) {
		if (c->kind == IMC_JOIN && imc_cfg.create_on_join) {
			code = run_create(&r, name, 0, sender);
			return code;
		}
		SAY("No such room: %s.", name);
		return 404;
	}
	role = role_of(r, sender);
	if (c->kind == IMC_JOIN) {
		return run_join(r, sender);
	}
	if (!imc_cmd_allowed(role, c->kind)) {
		if (role == IMC_NONE) {
			SAY("You are not a member of %s.", r->name);
		} else {
			SAY("As %s of %s you may not %s.", imc_role_name(role),
			    r->name, imc_cmd_name(c->kind));
		}
		return 403;
	}
	switch (c->kind) {
	case IMC_ACCEPT:
		return run_join(r, sender);
	case IMC_REJECT:
		member_del(r, member_find(r, sender));
		snprintf(note, sizeof(note), "%s declined the invitation to "
			 "%s.", sender, r->name);
		tell_owners(r, note);
		SAY("You declined %s.", r->name);
		return 200;
	case IMC_LEAVE:
		return run_leave(r, sender);
	case IMC_DESTROY:
		snprintf(note, sizeof(note), "Room %s was destroyed by %s.",
			 r->name, sender);
		announce(r, sender, note);
		SAY("Room %s destroyed.", r->name);
		room_free(r, 1);
		return 200;
	case IMC_MEMBERS:
		return run_members(r);
	default:
		return run_on_user(r, c, sender, role);
	}
}

/* ---------------------------------------------------------- MESSAGE in */

/* Room part of a Request-URI, or NULL when it is the manager. */
static int is_manager(const osip_uri_t *u)
{
	return u->username && !strcasecmp(u->username, imc_cfg.manager) &&
	       sip_is_local_host(sd_pl_str(u->host));
}

static int is_imc_uri(const osip_uri_t *u)
{
	if (!u || !u->host || !u->username) {
		return 0;
	}
	if (is_manager(u)) {
		return 1;
	}
	if (imc_cfg.rooms_domain[0]) {
		return !strcasecmp(u->host, imc_cfg.rooms_domain);
	}
	/* Rooms share the served domain: a room name shadows a user. */
	return sip_is_local_host(sd_pl_str(u->host)) &&
	       room_find(u->username) != NULL;
}

static int sender_of(const struct sip_msg *req, char *buf, size_t size)
{
	return req->osip->from ? reg_uri_aor(req->osip->from->url, buf, size)
			       : EINVAL;
}

static void relay_to_room(struct sip_stx *st, const struct sip_msg *req,
			  struct imc_room *r, const char *sender)
{
	const struct sip_hdr *ct = sip_msg_hdr(req, SIP_HDR_CONTENT_TYPE);
	char ctype[128] = "text/plain", from[CONFIG_SIMPLED_MAX_URI_LEN];
	const char *body = req->body.p;
	size_t blen = req->body.l;
	struct imc_member *m;
	const char *at = strchr(sender, '@');

	if (role_of(r, sender) < IMC_MEMBER) {
		SAY("You are not a member of %s; %cjoin it first.", r->name,
		    imc_cfg.imc_cmd_start_char[0]);
		stat_inc(imc_stat_refused);
		sip_reply(st, 403, "Not a member of this room", NULL,
			  "text/plain", text, strlen(text));
		return;
	}
	if (ct && sd_pl_copy(ct->value, ctype, sizeof(ctype))) {
		sip_reply(st, 400, "Content-Type too long", NULL, NULL, NULL,
			  0);
		return;
	}
	/* Text is prefixed with its sender; other types go as they are. */
	if (!strncasecmp(ctype, "text/", 5)) {
		int n = snprintf(fanout, sizeof(fanout), "[%.*s]: ",
				 (int)(at ? at - sender : (long)strlen(sender)),
				 sender);

		if ((size_t)n + blen > sizeof(fanout)) {
			sip_reply(st, 513, NULL, NULL, NULL, NULL, 0);
			return;
		}
		memcpy(fanout + n, body, blen);
		body = fanout;
		blen += (size_t)n;
		history_add(r, body, blen);
	}
	room_uri(r, from, sizeof(from));
	for (m = r->members; m; m = m->next) {
		if (m->role >= IMC_MEMBER && strcasecmp(m->user, sender)) {
			deliver(m->user, from, ctype, body, blen, 1);
		}
	}
	stat_inc(imc_stat_relayed);
	sip_reply(st, 200, NULL, NULL, NULL, NULL, 0);
}

static void on_imc(struct sip_stx *st, const struct sip_msg *req)
{
	const osip_uri_t *u = req->osip->req_uri;
	char sender[CONFIG_SIMPLED_MAX_URI_LEN], from[512];
	const char *room = is_manager(u) ? NULL : u->username;
	struct sd_pl body = req->body;
	struct imc_cmd c;
	const char *why;
	int code;

	if (sender_of(req, sender, sizeof(sender))) {
		sip_reply(st, 400, "From has no user", NULL, NULL, NULL, 0);
		return;
	}
	while (body.l && (body.p[0] == ' ' || body.p[0] == '\t' ||
			  body.p[0] == '\r' || body.p[0] == '\n')) {
		body.p++;
		body.l--;
	}
	if (room) {
		snprintf(from, sizeof(from), "sip:%s@%s", room, rooms_domain());
	} else {
		snprintf(from, sizeof(from), "sip:%s@%s", imc_cfg.manager,
			 sip_cfg_domain());
	}
	if (!body.l || body.p[0] != imc_cfg.imc_cmd_start_char[0]) {
		struct imc_room *r = room ? room_find(room) : NULL;

		if (!r) {
			if (room) {
				SAY("No such room: %s.", room);
			} else {
				SAY("Send commands starting with %c (try "
				    "%chelp).", imc_cfg.imc_cmd_start_char[0],
				    imc_cfg.imc_cmd_start_char[0]);
			}
			answer(st, sender, from, room ? 404 : 400);
			return;
		}
		relay_to_room(st, req, r, sender);
		return;
	}
	if (imc_cmd_parse(body.p + 1, body.l - 1, &c, &why)) {
		SAY("%s.", why);
		answer(st, sender, from, 400);
		return;
	}
	code = run_command(&c, sender, room);
	answer(st, sender, from, code);
}

/* ------------------------------------------------------------- startup */

static int restore_room(const char *key, const void *val, size_t vlen,
			void *arg)
{
	struct imc_room *r;

	(void)arg;
	if (!imc_room_name_ok(key) || room_find(key)) {
		return 0;
	}
	r = pool_get(&imc_room_pool);
	if (!r) {
		return 1;
	}
	snprintf(r->name, sizeof(r->name), "%s", key);
	r->private_room = vlen == 1 && *(const unsigned char *)val;
	HASH_ADD_STR(rooms, name, r);
	return 0;
}

static int restore_member(const char *key, const void *val, size_t vlen,
			  void *arg)
{
	const char *sep = strchr(key, '\x1f');
	char name[IMC_NAME_MAX];
	struct imc_room *r;
	unsigned char role;

	(void)arg;
	if (!sep || vlen != 1 || (size_t)(sep - key) >= sizeof(name)) {
		return 0;
	}
	memcpy(name, key, (size_t)(sep - key));
	name[sep - key] = '\0';
	r = room_find(name);
	role = *(const unsigned char *)val;
	if (r && role >= IMC_INVITED && role <= IMC_OWNER) {
		member_add(r, sep + 1, (enum imc_role)role, 0);
	}
	return 0;
}

/* MESSAGEs to the manager or a room are ours (see msg_claim). */
static int claim_imc(void *ev, void *arg)
{
	const struct msg_in *in = ev;

	(void)arg;
	if (!is_imc_uri(in->req->osip->req_uri)) {
		return 0;
	}
	on_imc(in->st, in->req);
	return 1;
}

static int imc_start(void)
{
	int err = pool_setup(&imc_room_pool, sizeof(struct imc_room));

	if (!err) {
		err = pool_setup(&imc_member_pool, sizeof(struct imc_member));
	}
	if (err) {
		return err;
	}
	if (!imc_cfg.imc_cmd_start_char[0]) {
		strcpy(imc_cfg.imc_cmd_start_char, "#");
	}
	if (store_is_open()) {
		store_rec_walk(STORE_IMC_ROOM, "", restore_room, NULL);
		store_rec_walk(STORE_IMC_MEMBER, "", restore_member, NULL);
		if (HASH_COUNT(rooms)) {
			LOG_INF("%u rooms, %u members restored",
				HASH_COUNT(rooms), n_members);
		}
	}
	return msg_claim(claim_imc, NULL);
}

static void imc_stop(void)
{
	struct imc_room *r, *tmp;

	/* sip_close() will drop their transactions without answers. */
	HASH_ITER(hh, rooms, r, tmp) {
		room_free(r, 0);
	}
}

#define MOD_DEF "imc.def"
#define MOD_VAR imc_mod
#define MOD_NAME "imc"
#define MOD_SECT &imc_sect
#define MOD_START imc_start
#define MOD_STOP imc_stop
#include "mod_def.h"
