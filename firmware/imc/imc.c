/** @file imc.c  The chat room module: section `imc`, the MESSAGEs it
 * claims (to the manager or a room: a #command, or text for the members),
 * delivery from a room, and start and stop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "imc"
#include "cfg.h"
#include "imc_priv.h"
#include "log.h"
#include "msg.h"
#include "reg.h"

unsigned long imc_stat_cmd[IMC__COUNT];

struct imc_cfg imc_cfg;
static char fanout[CONFIG_SIMPLED_MAX_MSG_SIZE];
/* The extra_hdr lines, each ending in CRLF ("" when none). */
static char extra_hdrs[IMC_MAX_EXTRA_HDRS * (CONFIG_SIMPLED_MAX_STR + 2) +
		       1];
/* imc_rooms_domain(), lower case; when users share it (it is served),
 * the served domain it stands for, lower case, as in their AoRs. */
static char rooms_domain[CONFIG_SIMPLED_MAX_STR + 16];
static char users_domain[CONFIG_SIMPLED_MAX_STR];
static int rooms_shared;
static int rooms_ready;

/* history_size defaults to 20, or the ceiling when that is lower. */
#if CONFIG_SIMPLED_IMC_MAX_HISTORY < 20
#define IMC_HISTORY_DFLT CFG_NUM(CONFIG_SIMPLED_IMC_MAX_HISTORY)
#else
#define IMC_HISTORY_DFLT "20"
#endif

static int is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("-.!%*_+`'~", c));
}

/* Headers simpled writes itself in the MESSAGEs a room sends (full and
 * compact forms): an extra_hdr may not add a second one. */
static const char *const own_hdrs[] = {
	"Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq",
	"Content-Length", "l", "Content-Type", "c", "Max-Forwards",
	"Contact", "m", "Route", "Record-Route", "Date", NULL,
};

/* list extra_hdr 'Name: value': one header line (RFC 3261 25.1). */
static int extra_hdr_check(const char *v, char *why, size_t whylen)
{
	const char *p = v, *val;
	size_t nl, i;

	while (is_tchar(*p)) {
		p++;
	}
	nl = (size_t)(p - v);
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	if (!nl || *p != ':') {
		snprintf(why, whylen, "extra_hdr '%s': not a header line "
			 "'Name: value' (the name a token)", v);
		return EINVAL;
	}
	for (val = p + 1; *val == ' ' || *val == '\t'; val++) {
	}
	if (!*val) {
		snprintf(why, whylen, "extra_hdr '%s': no value", v);
		return EINVAL;
	}
	for (p = val; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			snprintf(why, whylen, "extra_hdr '%.*s': a control "
				 "character (CR, LF, ...) in the value",
				 (int)nl, v);
			return EINVAL;
		}
		if (*p == 0x7f) {
			snprintf(why, whylen, "extra_hdr '%.*s': DEL in the "
				 "value", (int)nl, v);
			return EINVAL;
		}
	}
	for (i = 0; own_hdrs[i]; i++) {
		if (strlen(own_hdrs[i]) == nl &&
		    !strncasecmp(v, own_hdrs[i], nl)) {
			snprintf(why, whylen, "extra_hdr '%s': simpled writes "
				 "%s itself", v, own_hdrs[i]);
			return EINVAL;
		}
	}
	return 0;
}

static int rooms_domain_check(const char *v, char *why, size_t whylen)
{
	const char *p;

	for (p = v; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) {
			snprintf(why, whylen, "rooms_domain '%s': only "
				 "letters, digits, '-' and '.'", v);
			return EINVAL;
		}
	}
	return 0;
}

#define I struct imc_cfg
static struct cfg_opt imc_opts[] = {
	CFG_STR_OPT(I, "manager", manager, "chat", NULL),
	CFG_STR_OPT(I, "rooms_domain", rooms_domain, "", rooms_domain_check),
	CFG_STR_OPT(I, "imc_cmd_start_char", imc_cmd_start_char, "#", NULL),
	CFG_BOOL_OPT(I, "create_on_join", create_on_join, "1"),
	CFG_BOOL_OPT(I, "check_on_create", check_on_create, "0"),
	CFG_LIST_OPT(I, "extra_hdr", extra_hdr, n_extra_hdr, NULL,
		     extra_hdr_check),
	CFG_STR_OPT(I, "outbound_proxy", outbound_proxy, "", sip_proxy_check),
	CFG_BOOL_OPT(I, "offline_members", offline_members, "1"),
	CFG_INT_OPT(I, "history_size", history_size, 0,
		    CONFIG_SIMPLED_IMC_MAX_HISTORY, IMC_HISTORY_DFLT),
	CFG_INT_OPT(I, "max_members", max_members, 0,
		    CONFIG_SIMPLED_MAX_ROOM_MEMBERS, "100"),
	CFG_INT_OPT(I, "max_rooms_per_source", max_rooms_per_source, 0,
		    CONFIG_SIMPLED_MAX_ROOMS, "8"),
};
#undef I

/* The manager's name is reserved with the registrar at start; the
 * history rings are as long as history_size was then. */
static const char *const imc_restart[] = {"manager", "history_size", NULL};
static int imc_reload(char *why, size_t whylen);

static const struct cfg_sect imc_sect =
	CFG_SECT("imc", imc_opts, &imc_cfg, .restart = imc_restart,
		 .reload = imc_reload);

static void lower(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z') {
			*s = (char)(*s + 32);
		}
	}
}

/* The served domains are known once SIP is up, after the modules start:
 * the rooms domain is worked out at its first use. */
static void rooms_setup(void)
{
	const char *d;

	if (rooms_ready) {
		return;
	}
	if (imc_cfg.rooms_domain[0]) {
		snprintf(rooms_domain, sizeof(rooms_domain), "%s",
			 imc_cfg.rooms_domain);
	} else {
		snprintf(rooms_domain, sizeof(rooms_domain), "conference.%s",
			 sip_cfg_domain());
	}
	lower(rooms_domain);
	d = sip_local_domain(sd_pl_str(rooms_domain));
	rooms_shared = d != NULL;
	snprintf(users_domain, sizeof(users_domain), "%s", d ? d : "");
	lower(users_domain);
	rooms_ready = 1;
}

const char *imc_rooms_domain(void)
{
	rooms_setup();
	return rooms_domain;
}

int imc_rooms_shared(void)
{
	rooms_setup();
	return rooms_shared;
}

void imc_room_uri(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "sip:%s@%s", name, imc_rooms_domain());
}

/* ------------------------------------------------------------- names */

/* In a rooms domain shared with users: is user (a user part as it
 * compares) a user there? Today: one with a registered contact. */
static int is_user(const char *user)
{
	char aor[CONFIG_SIMPLED_MAX_URI_LEN];
	int n;

	if (!imc_rooms_shared()) {
		return 0;
	}
	n = snprintf(aor, sizeof(aor), "%s@%s", user, users_domain);
	return n > 0 && (size_t)n < sizeof(aor) && reg_lookup(aor, NULL, NULL);
}

/*
 * The one place that decides whether a room may take a name. Never a
 * name the daemon answers itself (the table of reserved names, see
 * reg_reserve()); and where rooms share a served domain with users,
 * never a user's name, so that a room cannot take a user's messages.
 * Users are those with a registered contact today; when accounts exist,
 * the configured ones belong here too.
 */
int imc_name_free(const char *name)
{
	char low[IMC_NAME_MAX];
	const char *service = reg_reserved(name);

	if (service) {
		imc_say("The name %s is reserved for %s; choose another.",
			name, service);
		return 403;
	}
	snprintf(low, sizeof(low), "%s", name);
	lower(low);
	if (is_user(name) || is_user(low)) {
		imc_say("%s is a user of %s; a room may not take a user's "
			"name. Choose another.", name, imc_rooms_domain());
		return 403;
	}
	return 0;
}

/* ------------------------------------------------------------- delivery */

void imc_deliver(const char *user, const char *from_uri, const char *ctype,
		 const char *body, size_t blen, int keep)
{
	const char *at = strrchr(user, '@');
	struct msg_out m;

	/* A room's address is nobody to tell: it would come back here. */
	if (at && !imc_rooms_shared() && !strcasecmp(at + 1, rooms_domain)) {
		return;
	}
	memset(&m, 0, sizeof(m));
	m.user = user;
	m.from_uri = from_uri;
	m.ctype = ctype;
	m.body = body;
	m.blen = blen;
	m.hdrs = extra_hdrs[0] ? extra_hdrs : NULL;
	m.outbound_proxy = imc_cfg.outbound_proxy;
	m.keep = keep && imc_cfg.offline_members;
	m.sent_stat = &imc_stat_deliveries;
	m.kept_stat = &imc_stat_offline;
	msg_send(&m);
}

/* A body from r to each member of at least min_role but skip (NULL:
 * none); those who cannot take it now get it through the offline store. */
static void fan_out(struct imc_room *r, enum imc_role min_role,
		    const char *skip, const char *ctype, const char *body,
		    size_t blen)
{
	char from[CONFIG_SIMPLED_MAX_URI_LEN];
	struct imc_member *m;

	imc_room_uri(r->name, from, sizeof(from));
	for (m = r->members; m; m = m->next) {
		if (m->role >= min_role &&
		    (!skip || strcasecmp(m->user, skip))) {
			imc_deliver(m->user, from, ctype, body, blen, 1);
		}
	}
}

void imc_announce(struct imc_room *r, const char *skip, const char *msg)
{
	fan_out(r, IMC_MEMBER, skip, "text/plain", msg, strlen(msg));
}

void imc_tell_owners(struct imc_room *r, const char *msg)
{
	fan_out(r, IMC_OWNER, NULL, "text/plain", msg, strlen(msg));
}

/* ---------------------------------------------------------- MESSAGE in */

/* Is host the rooms domain? In a shared one, also an address that
 * stands for it (a listen IP for the first domain). */
static int is_rooms_host(const char *host)
{
	const char *d;

	if (!imc_rooms_shared()) {
		return !strcasecmp(host, rooms_domain);
	}
	d = sip_local_domain(sd_pl_str(host));
	return d && !strcasecmp(d, users_domain);
}

/* The user part of a Request-URI as it compares ("%63hat" is "chat"),
 * or "" when too long. */
static const char *ruri_user(const osip_uri_t *u, char *buf, size_t size)
{
	return sip_uri_canon(u->username, buf, size) ? "" : buf;
}

/* Is the Request-URI the manager (in any served domain, or the rooms
 * domain)? */
static int is_manager(const osip_uri_t *u)
{
	char user[CONFIG_SIMPLED_MAX_URI_LEN];

	return !strcasecmp(ruri_user(u, user, sizeof(user)), imc_cfg.manager)
	       && (sip_is_local_host(sd_pl_str(u->host)) ||
		   is_rooms_host(u->host));
}

/*
 * Ours: the manager, and every address of a rooms domain of its own
 * (a room, or 404 "No such room"). In a domain shared with users only
 * an existing room, and never the name of a user: a room never takes a
 * user's messages.
 */
static int is_imc_uri(const osip_uri_t *u)
{
	char user[CONFIG_SIMPLED_MAX_URI_LEN];
	const char *name;

	if (!u || !u->host || !u->username) {
		return 0;
	}
	if (is_manager(u)) {
		return 1;
	}
	if (!is_rooms_host(u->host)) {
		return 0;
	}
	if (!imc_rooms_shared()) {
		return 1;
	}
	name = ruri_user(u, user, sizeof(user));
	return imc_room_find(name) && !is_user(name);
}

static int sender_of(const struct sip_msg *req, char *buf, size_t size)
{
	return req->osip->from ? reg_uri_aor(req->osip->from->url, buf, size)
			       : EINVAL;
}

/* Not a command: the body goes to the other members of r. */
static void relay_to_room(struct sip_stx *st, const struct sip_msg *req,
			  struct imc_room *r, const char *sender)
{
	const struct sip_hdr *ct = sip_msg_hdr(req, SIP_HDR_CONTENT_TYPE);
	char ctype[128] = "text/plain", why[128];
	const char *body = req->body.p;
	size_t blen = req->body.l;
	const char *at = strchr(sender, '@');

	if (imc_role_of(r, sender) < IMC_MEMBER) {
		snprintf(why, sizeof(why), "You are not a member of %s; %cjoin "
			 "it first.", r->name, imc_cfg.imc_cmd_start_char[0]);
		stat_inc(imc_stat_refused);
		sip_reply(st, 403, "Not a member of this room", NULL,
			  "text/plain", why, strlen(why));
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
		imc_history_add(r, body, blen);
	}
	fan_out(r, IMC_MEMBER, sender, ctype, body, blen);
	stat_inc(imc_stat_relayed);
	sip_reply(st, 200, NULL, NULL, NULL, NULL, 0);
}

static void on_imc(struct sip_stx *st, const struct sip_msg *req)
{
	const osip_uri_t *u = req->osip->req_uri;
	char sender[CONFIG_SIMPLED_MAX_URI_LEN], from[512];
	char room_buf[CONFIG_SIMPLED_MAX_URI_LEN], src[SIP_SOURCE_LEN];
	const char *room = is_manager(u) ? NULL :
			   ruri_user(u, room_buf, sizeof(room_buf));
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
	if (room && imc_room_name_ok(room)) {
		imc_room_uri(room, from, sizeof(from));
	} else {
		snprintf(from, sizeof(from), "sip:%s@%s", imc_cfg.manager,
			 sip_cfg_domain());
	}
	imc_answer_begin(sender, from);
	/* A room's name from the Request-URI obeys the rules of #create. */
	if (room && !imc_room_name_ok(room)) {
		imc_say("Bad room name in the address: 1 to %d letters, "
			"digits, '.', '_' or '-'.", IMC_NAME_MAX - 1);
		imc_answer(st, 400);
		return;
	}
	if (!body.l || body.p[0] != imc_cfg.imc_cmd_start_char[0]) {
		struct imc_room *r = room ? imc_room_find(room) : NULL;

		if (!r) {
			if (room) {
				imc_say("No such room: %s.", room);
			} else {
				imc_say("Send commands starting with %c (try "
					"%chelp).",
					imc_cfg.imc_cmd_start_char[0],
					imc_cfg.imc_cmd_start_char[0]);
			}
			imc_answer(st, room ? 404 : 400);
			return;
		}
		relay_to_room(st, req, r, sender);
		return;
	}
	if (imc_cmd_parse(body.p + 1, body.l - 1, &c, &why)) {
		imc_say("%s.", why);
		imc_answer(st, 400);
		return;
	}
	sip_msg_source(req, src, sizeof(src));
	code = imc_exec(&c, sender, src, room);
	imc_answer(st, code);
}

/* MESSAGEs to the manager or a room are ours. */
static const struct msg_claim imc_claim = {is_imc_uri, on_imc};

/* ------------------------------------------------------------- startup */

static void hdrs_build(void)
{
	struct sd_buf b;
	unsigned i;

	sd_buf_init(&b, extra_hdrs, sizeof(extra_hdrs));
	for (i = 0; i < imc_cfg.n_extra_hdr; i++) {
		sd_buf_printf(&b, "%s\r\n", imc_cfg.extra_hdr[i]);
	}
}

/* What start derives from the options, again. */
static int imc_reload(char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	if (!imc_cfg.imc_cmd_start_char[0]) {
		strcpy(imc_cfg.imc_cmd_start_char, "#");
	}
	hdrs_build();
	rooms_ready = 0; /* the rooms' domain is found again */
	return 0;
}

static int imc_start(void)
{
	int err = pool_setup(&imc_room_pool, sizeof(struct imc_room));

	if (!err) {
		err = pool_setup(&imc_member_pool, sizeof(struct imc_member));
	}
	if (!err) {
		err = pool_setup(&imc_source_pool, sizeof(struct tally_ent));
	}
	if (err) {
		return err;
	}
	if (!imc_cfg.imc_cmd_start_char[0]) {
		strcpy(imc_cfg.imc_cmd_start_char, "#");
	}
	rooms_ready = 0;
	hdrs_build();
	/* No user may register as the manager, and no room take its name. */
	err = imc_cfg.manager[0] ? reg_reserve(imc_cfg.manager, "chat rooms")
				 : 0;
	if (err) {
		LOG_ERR("manager '%s' cannot be reserved: %s", imc_cfg.manager,
			err == EEXIST ? "another service answers it" :
			"table full");
		return err;
	}
	imc_room_restore();
	return msg_claim(&imc_claim);
}

static void imc_stop(void)
{
	/* sip_close() will drop their transactions without answers. */
	imc_room_close_all();
}

#define MOD_DEF "imc.def"
#define MOD_VAR imc_mod
#define MOD_NAME "imc"
#define MOD_SECT &imc_sect
#define MOD_START imc_start
#define MOD_STOP imc_stop
#include "mod_def.h"
