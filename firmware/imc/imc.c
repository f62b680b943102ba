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
	CFG_INT_OPT(I, "max_members", max_members, 0,
		    CONFIG_SIMPLED_MAX_ROOM_MEMBERS, "100"),
	CFG_INT_OPT(I, "max_rooms_per_source", max_rooms_per_source, 0,
		    CONFIG_SIMPLED_MAX_ROOMS, "8"),
};
#undef I

static const struct cfg_sect imc_sect = {
	"imc", imc_opts, sizeof(imc_opts) / sizeof(imc_opts[0]), &imc_cfg,
	NULL
};

const char *imc_rooms_domain(void)
{
	return imc_cfg.rooms_domain[0] ? imc_cfg.rooms_domain :
	       sip_cfg_domain();
}

void imc_room_uri(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "sip:%s@%s", name, imc_rooms_domain());
}

/* ------------------------------------------------------------- delivery */

void imc_deliver(const char *user, const char *from_uri, const char *ctype,
		 const char *body, size_t blen, int keep)
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

/* Is the Request-URI the manager (in any served domain)? */
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
	       imc_room_find(u->username) != NULL;
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
	char src[SIP_SOURCE_LEN];
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
		imc_room_uri(room, from, sizeof(from));
	} else {
		snprintf(from, sizeof(from), "sip:%s@%s", imc_cfg.manager,
			 sip_cfg_domain());
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
			imc_answer(st, sender, from, room ? 404 : 400);
			return;
		}
		relay_to_room(st, req, r, sender);
		return;
	}
	if (imc_cmd_parse(body.p + 1, body.l - 1, &c, &why)) {
		imc_say("%s.", why);
		imc_answer(st, sender, from, 400);
		return;
	}
	sip_msg_source(req, src, sizeof(src));
	code = imc_exec(&c, sender, src, room);
	imc_answer(st, sender, from, code);
}

/* MESSAGEs to the manager or a room are ours. */
static const struct msg_claim imc_claim = {is_imc_uri, on_imc};

/* ------------------------------------------------------------- startup */

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
