/** @file imc_exec.c  Running #commands: what each does to the rooms, who
 * is told, and the answer to the sender (a text set with imc_say(), sent
 * as MESSAGEs and in the final response by imc_answer()).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imc_priv.h"
#include "store.h"
#include "stat.h"

/* Bytes of one MESSAGE of a long answer, cut after a line; the answer's
 * 2xx carries the first. */
#define IMC_CHUNK (CONFIG_SIMPLED_MAX_MSG_SIZE / 4 < 1000 ? \
		   CONFIG_SIMPLED_MAX_MSG_SIZE / 4 : 1000)

/* The answer to the request being served: text not sent yet, and the
 * first part sent (the response's body). */
static struct {
	char sender[CONFIG_SIMPLED_MAX_URI_LEN];
	char from[CONFIG_SIMPLED_MAX_URI_LEN + 16];
	char text[CONFIG_SIMPLED_MAX_MSG_SIZE / 2];
	size_t len;
	char first[CONFIG_SIMPLED_MAX_MSG_SIZE / 2];
	size_t first_len;
	unsigned parts;		/* MESSAGEs sent */
} ans;

void imc_answer_begin(const char *sender, const char *from)
{
	snprintf(ans.sender, sizeof(ans.sender), "%s", sender);
	snprintf(ans.from, sizeof(ans.from), "%s", from);
	ans.text[0] = '\0';
	ans.len = 0;
	ans.first_len = 0;
	ans.parts = 0;
}

void imc_say(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ans.text, sizeof(ans.text), fmt, ap);
	va_end(ap);
	ans.len = n < 0 ? 0 : (size_t)n < sizeof(ans.text) ? (size_t)n :
		  sizeof(ans.text) - 1;
}

/* One MESSAGE of the answer: n bytes of the pending text. */
static void send_part(size_t n)
{
	if (!ans.parts) {
		memcpy(ans.first, ans.text, n);
		ans.first_len = n;
	}
	ans.parts++;
	imc_deliver(ans.sender, ans.from, "text/plain", ans.text, n, 0);
	memmove(ans.text, ans.text + n, ans.len - n);
	ans.len -= n;
	ans.text[ans.len] = '\0';
}

/* Send the pending text in parts of at most IMC_CHUNK bytes, each cut
 * after a line where there is one; all of it when all, else only whole
 * parts. */
static void send_parts(int all)
{
	while (ans.len > IMC_CHUNK || (all && ans.len)) {
		size_t n = ans.len > IMC_CHUNK ? IMC_CHUNK : ans.len;

		if (n < ans.len) {
			const char *nl = NULL, *p;

			for (p = ans.text + n; p > ans.text; p--) {
				if (p[-1] == '\n') {
					nl = p;
					break;
				}
			}
			if (nl) {
				n = (size_t)(nl - ans.text);
			}
		}
		send_part(n);
	}
}

void imc_add(const char *fmt, ...)
{
	char line[CONFIG_SIMPLED_MAX_URI_LEN + 256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
	}
	/* What is pending goes first when the line would not fit its part. */
	if (ans.len && ans.len + (size_t)n > IMC_CHUNK) {
		send_parts(1);
	}
	memcpy(ans.text + ans.len, line, (size_t)n);
	ans.len += (size_t)n;
	ans.text[ans.len] = '\0';
	send_parts(0);
}

/* The answer to a command: MESSAGEs to the sender's contacts (a long
 * text in parts, never cut mid-line nor left out) and the response,
 * whose body is the first part. */
void imc_answer(struct sip_stx *st, int code)
{
	char body[CONFIG_SIMPLED_MAX_MSG_SIZE / 2 + 80];
	size_t blen;

	send_parts(1);
	blen = ans.first_len;
	memcpy(body, ans.first, blen);
	if (ans.parts > 1) {
		int n = snprintf(body + blen, sizeof(body) - blen, "(%u more "
				 "parts of this answer come as MESSAGEs from "
				 "%s)\n",
				 ans.parts - 1, ans.from);

		blen += n > 0 && (size_t)n < sizeof(body) - blen ? (size_t)n
								  : 0;
	}
	if (code >= 300) {
		stat_inc(imc_stat_refused);
	}
	/* A command's room and member writes are on disk before its
	 * answer goes (at once when it wrote nothing). */
	sip_reply_hold(st, code, code == 200 ? NULL : "Command refused",
		       NULL, "text/plain", body, blen);
	store_when_durable(sip_reply_release, st);
}

static void help(void)
{
	char c = imc_cfg.imc_cmd_start_char[0];

	imc_say("Commands (in a MESSAGE to the room, or to the manager naming "
		"the room):\n"
		"%ccreate [room] [private]  %cjoin [room]  "
		"%cinvite <user> [room]\n"
		"%cadd <user> [room]  %caccept [room]  %creject [room]\n"
		"%cremove <user> [room]  %cleave [room]  %cdestroy [room]\n"
		"%cmembers [room]  %crooms  %cmodify <user> owner|admin|member "
		"[room]  %chelp", c, c, c, c, c, c, c, c, c, c, c, c, c);
}

/* Owners of r (the last one may not leave or step down). */
static unsigned owner_count(const struct imc_room *r)
{
	const struct imc_member *m;
	unsigned n = 0;

	for (m = r->members; m; m = m->next) {
		n += m->role == IMC_OWNER;
	}
	return n;
}

/* user takes role in r: m is their invitation, or NULL for a newcomer.
 * @return 0, or with the answer set 403 when r has max_members (what one
 * message to it may cause is bounded by that), 503 when the pool is dry.*/
static int admit(struct imc_room *r, struct imc_member *m, const char *user,
		 enum imc_role role)
{
	if (m) {
		imc_member_set_role(r, m, role);
		return 0;
	}
	if (imc_cfg.max_members &&
	    r->n_members >= (unsigned)imc_cfg.max_members) {
		imc_say("Room %s is full (%d members).", r->name,
			imc_cfg.max_members);
		return 403;
	}
	if (!imc_member_add(r, user, role)) {
		imc_say("No room for another member right now.");
		return 503;
	}
	return 0;
}

static int run_create(struct imc_room **rp, const char *room, int priv,
		      const char *sender, const char *source)
{
	struct imc_room *r = *rp;
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];

	int code;

	if (r) {
		if (imc_cfg.check_on_create) {
			imc_say("Room %s already exists.", room);
			return 409;
		}
		return 0; /* join it instead */
	}
	code = imc_name_free(room);
	if (code) {
		return code;
	}
	if (imc_cfg.max_rooms_per_source &&
	    imc_rooms_of(source) >= (unsigned)imc_cfg.max_rooms_per_source) {
		imc_say("You have created %d rooms from your address, the "
			"most allowed; destroy one first.",
			imc_cfg.max_rooms_per_source);
		return 403;
	}
	r = imc_room_new(room, priv, source);
	if (!r || !imc_member_add(r, sender, IMC_OWNER)) {
		if (r) {
			imc_room_destroy(r);
		}
		imc_say("No room for another chat room right now.");
		return 503;
	}
	*rp = r;
	imc_room_uri(r->name, uri, sizeof(uri));
	imc_say("Room %s created (%s); its address is %s.", r->name,
		priv ? "private" : "public", uri);
	return 200;
}

static int run_join(struct imc_room *r, const char *sender)
{
	struct imc_member *m = imc_member_find(r, sender);
	char note[1024];
	int code;

	if (m && m->role >= IMC_MEMBER) {
		imc_say("You are already in %s.", r->name);
		return 200;
	}
	if (!m && r->private_room) {
		snprintf(note, sizeof(note), "%s asked to join the private "
			 "room %s.", sender, r->name);
		imc_tell_owners(r, note);
		imc_say("Room %s is private: joining is by invitation (its "
			"owners were told you asked).", r->name);
		return 403;
	}
	code = admit(r, m, sender, IMC_MEMBER);
	if (code) {
		return code;
	}
	snprintf(note, sizeof(note), "%s joined %s.", sender, r->name);
	imc_announce(r, sender, note);
	imc_history_replay(r, sender);
	imc_say("You joined %s (%u members).", r->name, r->n_members);
	return 200;
}

/* Long lists go out in several MESSAGEs (imc_add()), never cut. */
static int run_members(struct imc_room *r)
{
	struct imc_member *m;

	imc_say("%s has %u members:\n", r->name, r->n_members);
	for (m = r->members; m; m = m->next) {
		imc_add("%s (%s)\n", m->user, imc_role_name(m->role));
	}
	return 200;
}

static int run_rooms(const char *sender)
{
	struct imc_room *r, *tmp;
	unsigned n = 0;

	imc_say("Rooms:\n");
	HASH_ITER(hh, imc_rooms, r, tmp) {
		if (r->private_room && imc_role_of(r, sender) < IMC_MEMBER) {
			continue; /* private rooms only to their members */
		}
		imc_add("%s%s (%u members)\n", r->name,
			r->private_room ? " [private]" : "", r->n_members);
		n++;
	}
	if (!n) {
		imc_say("No rooms yet; %ccreate one.",
			imc_cfg.imc_cmd_start_char[0]);
	}
	return 200;
}

static int run_leave(struct imc_room *r, const char *sender)
{
	struct imc_member *me = imc_member_find(r, sender), *heir;
	char note[1024];

	if (me->role == IMC_OWNER && owner_count(r) == 1) {
		/* The first admin takes the room over. */
		for (heir = r->members; heir; heir = heir->next) {
			if (heir->role == IMC_ADMIN) {
				break;
			}
		}
		if (!heir) {
			imc_say("You are the last owner of %s: make someone "
				"owner (%cmodify) or %cdestroy the room.",
				r->name, imc_cfg.imc_cmd_start_char[0],
				imc_cfg.imc_cmd_start_char[0]);
			return 403;
		}
		imc_member_set_role(r, heir, IMC_OWNER);
		snprintf(note, sizeof(note), "%s is now owner of %s.",
			 heir->user, r->name);
		imc_announce(r, sender, note);
	}
	imc_member_del(r, me);
	snprintf(note, sizeof(note), "%s left %s.", sender, r->name);
	imc_announce(r, NULL, note);
	imc_say("You left %s.", r->name);
	return 200;
}

static int run_on_user(struct imc_room *r, const struct imc_cmd *c,
		       const char *sender, enum imc_role my_role)
{
	char user[CONFIG_SIMPLED_MAX_URI_LEN], note[1024], ruri[512];
	const char *dom = strchr(sender, '@'), *why, *at;
	struct imc_member *t;
	int code;

	if (imc_user_norm(c->user, dom ? dom + 1 : "", user, sizeof(user),
			  &why)) {
		imc_say("'%s' is not a user: %s (use user, user@domain or "
			"sip:user@domain).", c->user, why);
		return 400;
	}
	at = strrchr(user, '@');
	if (!imc_rooms_shared() && !strcmp(at + 1, imc_rooms_domain())) {
		imc_say("%s is a room's address, not a user.", user);
		return 400;
	}
	t = imc_member_find(r, user);
	imc_room_uri(r->name, ruri, sizeof(ruri));
	switch (c->kind) {
	case IMC_INVITE:
	case IMC_ADD:
		if (t && (t->role >= IMC_MEMBER || c->kind == IMC_INVITE)) {
			imc_say("%s is already %s %s.", user, t->role ==
				IMC_INVITED ? "invited to" : "in", r->name);
			return 409;
		}
		/* Here t is NULL or an invitation, which #add takes. */
		code = admit(r, t, user, c->kind == IMC_INVITE ? IMC_INVITED :
			     IMC_MEMBER);
		if (code) {
			return code;
		}
		if (c->kind == IMC_INVITE) {
			snprintf(note, sizeof(note), "%s invites you to %s. "
				 "Send %caccept or %creject to %s.", sender,
				 r->name, imc_cfg.imc_cmd_start_char[0],
				 imc_cfg.imc_cmd_start_char[0], ruri);
			imc_deliver(user, ruri, "text/plain", note,
				    strlen(note), 1);
			imc_say("%s is invited to %s.", user, r->name);
		} else {
			snprintf(note, sizeof(note), "%s added %s to %s.",
				 sender, user, r->name);
			imc_announce(r, sender, note);
			imc_history_replay(r, user);
			imc_say("%s is now a member of %s.", user, r->name);
		}
		return 200;
	case IMC_REMOVE:
		if (!t) {
			imc_say("%s is not in %s.", user, r->name);
			return 404;
		}
		if (!strcasecmp(user, sender) ||
		    (t->role >= my_role && my_role != IMC_OWNER)) {
			imc_say("You may not remove %s from %s.", user,
				r->name);
			return 403;
		}
		imc_member_del(r, t);
		snprintf(note, sizeof(note), "You were removed from %s by %s.",
			 r->name, sender);
		imc_deliver(user, ruri, "text/plain", note, strlen(note), 1);
		snprintf(note, sizeof(note), "%s removed %s from %s.", sender,
			 user, r->name);
		imc_announce(r, sender, note);
		imc_say("%s was removed from %s.", user, r->name);
		return 200;
	case IMC_MODIFY:
		if (!t || t->role < IMC_MEMBER) {
			imc_say("%s is not a member of %s.", user, r->name);
			return 404;
		}
		if (my_role != IMC_OWNER &&
		    (c->role == IMC_OWNER || t->role >= my_role)) {
			imc_say("Only an owner may do that.");
			return 403;
		}
		if (t->role == IMC_OWNER && c->role != IMC_OWNER &&
		    owner_count(r) == 1) {
			imc_say("%s is the last owner of %s.", user, r->name);
			return 403;
		}
		imc_member_set_role(r, t, c->role);
		snprintf(note, sizeof(note), "%s is now %s of %s.", user,
			 imc_role_name(c->role), r->name);
		imc_announce(r, NULL, note);
		imc_say("%s", note);
		return 200;
	default:
		return 500;
	}
}

int imc_exec(const struct imc_cmd *c, const char *sender,
	     const char *source, const char *uri_room)
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
		imc_say("Which room? Name it: %c%s <room>.",
			imc_cfg.imc_cmd_start_char[0], imc_cmd_name(c->kind));
		return 400;
	}
	r = imc_room_find(name);
	if (c->kind == IMC_CREATE) {
		code = run_create(&r, name, c->private_room, sender, source);
		if (code) {
			return code;
		}
		return run_join(r, sender);
	}
	if (!r) {
		if (c->kind == IMC_JOIN && imc_cfg.create_on_join) {
			return run_create(&r, name, 0, sender, source);
		}
		imc_say("No such room: %s.", name);
		return 404;
	}
	role = imc_role_of(r, sender);
	if (c->kind == IMC_JOIN) {
		return run_join(r, sender);
	}
	if (!imc_cmd_allowed(role, c->kind)) {
		if (role == IMC_NONE) {
			imc_say("You are not a member of %s.", r->name);
		} else {
			imc_say("As %s of %s you may not %s.",
				imc_role_name(role), r->name,
				imc_cmd_name(c->kind));
		}
		return 403;
	}
	switch (c->kind) {
	case IMC_ACCEPT:
		return run_join(r, sender);
	case IMC_REJECT:
		imc_member_del(r, imc_member_find(r, sender));
		snprintf(note, sizeof(note), "%s declined the invitation to "
			 "%s.", sender, r->name);
		imc_tell_owners(r, note);
		imc_say("You declined %s.", r->name);
		return 200;
	case IMC_LEAVE:
		return run_leave(r, sender);
	case IMC_DESTROY:
		snprintf(note, sizeof(note), "Room %s was destroyed by %s.",
			 r->name, sender);
		imc_announce(r, sender, note);
		imc_say("Room %s destroyed.", r->name);
		imc_room_destroy(r);
		return 200;
	case IMC_MEMBERS:
		return run_members(r);
	default:
		return run_on_user(r, c, sender, role);
	}
}
