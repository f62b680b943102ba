/** @file msg.c  MESSAGE relay with parallel forking (RFC 3261 16.7). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "msg"
#include "log.h"
#ifdef CONFIG_SIMPLED_OFFLINE
#include "offline.h"
#endif
#include "msg.h"
#include "reg.h"
#include "sip.h"
#include "msg_priv.h"
#include "sip_auth.h"

#define MOD_DEF "msg.def"
#include "mod_decl.h"

struct msg_relay;

/* A branch: the device it went to ("" none), to keep a copy for it when
 * it turns out unreachable. */
struct relay_branch {
	struct msg_relay *r;
	char inst[CONFIG_SIMPLED_MAX_INSTANCE_LEN];
};

/* A relayed MESSAGE: one server transaction, up to MAX_FORKS branches. */
struct msg_relay {
	struct sip_stx *st;
	const struct sip_msg *req;
	unsigned started;
	unsigned pending;
	int answered;
	unsigned forks;		/* branches allowed (Max-Breadth) */
	unsigned breadth;	/* Max-Breadth each branch carries */
	int best;		/* best final code so far, 0 none */
	char reason[64];
	char aor[CONFIG_SIMPLED_MAX_URI_LEN];	/* local target, "" proxied */
	struct sip_flow proxy;	/* proxied: where it went */
	int upstream_tried;	/* proxied: asked again with our account */
#ifdef CONFIG_SIMPLED_OFFLINE
	struct offline_copy *copy;	/* local target: history, devices */
	unsigned kept;		/* copies kept for its devices */
	unsigned wrote;		/* copies kept for the sender's devices */
#endif
	struct relay_branch br[CONFIG_SIMPLED_MAX_FORKS];
};

static struct hook_list claims;

/* A MESSAGE offered to the claims (the hook's event). */
struct msg_in {
	struct sip_stx *st;
	const struct sip_msg *req;
};

static int claim_run(void *ev, void *arg)
{
	const struct msg_claim *c = arg;
	const struct msg_in *in = ev;

	if (!c->match(in->req->osip->req_uri)) {
		return 0;
	}
	c->h(in->st, in->req);
	return 1;
}

int msg_claim(const struct msg_claim *c)
{
	return hook_add(&claims, claim_run, (void *)c);
}

/* Rank of a final response for choosing among branches: lower wins.
 * 6xx ends the search, then 2xx; after that the lowest class wins
 * (RFC 3261 16.7 step 6). */
static int rank(int code)
{
	if (code >= 600) {
		return 0;
	}
	if (code < 300) {
		return 1;
	}
	return code / 100;
}

/* A local user none of whose devices can take the message now: it is
 * kept for whichever comes first when the offline store is built in
 * (the store answers), else 480. */
static void keep_or_480(struct msg_relay *r)
{
#ifdef CONFIG_SIMPLED_OFFLINE
	offline_store_copy(r->st, r->req, r->copy, r->aor);
#else
	sip_reply(r->st, 480, "User not online", NULL, NULL, NULL, 0);
#endif
}

static void relay_free(struct msg_relay *r)
{
#ifdef CONFIG_SIMPLED_OFFLINE
	offline_copy_put(r->copy);
#endif
	pool_put(&msg_relay_pool, r);
}

/* 200 or 202 to the sender: once the copies kept for its devices are on
 * disk (a promise, as msilo's 202). The history entry is no promise: it
 * goes with the same group commit, but a 200 for a device that took the
 * message does not wait for it. */
static void answer_written(struct msg_relay *r, int code, const char *reason)
{
#ifdef CONFIG_SIMPLED_OFFLINE
	if (r->kept || r->wrote) {
		sip_reply_hold(r->st, code, reason, NULL, NULL, NULL, 0);
		store_when_durable(sip_reply_release, r->st);
		return;
	}
#endif
	sip_reply(r->st, code, reason, NULL, NULL, NULL, 0);
}

static unsigned relay_kept(const struct msg_relay *r)
{
#ifdef CONFIG_SIMPLED_OFFLINE
	return r->kept;
#else
	(void)r;
	return 0;
#endif
}

static void relay_answer(struct msg_relay *r)
{
	int code = r->best ? r->best : 480;

	if (r->answered) {
		return;
	}
	r->answered = 1;
	if (code >= 200 && code < 300) {
		stat_inc(msg_stat_delivered);
		answer_written(r, code, r->reason[0] ? r->reason : NULL);
	} else if (relay_kept(r)) {
		/* No device took it now; those that are away or failed get
		 * it from the store. */
		stat_inc(msg_stat_kept);
		answer_written(r, 202, NULL);
	} else if (r->aor[0] && msg_unreachable(code)) {
		/* Every contact of a local user failed as if unreachable
		 * (or there was none): kept for later (msilo). A decline
		 * (4xx but 408/480, 6xx) is the user's answer and goes back
		 * as it is. */
		stat_inc(msg_stat_failed);
		keep_or_480(r);
	} else {
		stat_inc(msg_stat_failed);
		/* A branch's 503 means that branch is overloaded, not us. */
		if (code == 503) {
			code = 500;
			snprintf(r->reason, sizeof(r->reason),
				 "Contact Unavailable");
		}
		sip_reply(r->st, code, r->reason[0] ? r->reason : NULL, NULL,
			  NULL, NULL, 0);
	}
	r->st = NULL;
	r->req = NULL;
}

static void on_branch_final(int code, const struct sip_msg *resp, void *arg);

/* A MESSAGE relayed to the outbound proxy was challenged (401/407): ask
 * again once with our `config upstream` account. @return 1 when a new
 * branch went out. */
static int upstream_retry(struct msg_relay *r, int code,
			  const struct sip_msg *resp)
{
	char hdr[1024], uri[CONFIG_SIMPLED_MAX_URI_LEN];

	if (r->aor[0] || r->upstream_tried || !resp ||
	    (code != 401 && code != 407) ||
	    sd_pl_copy(r->req->ruri, uri, sizeof(uri)) ||
	    sip_upstream_answer(resp, "MESSAGE", uri, 0, hdr, sizeof(hdr))) {
		return 0;
	}
	r->upstream_tried = 1;
	r->pending++;
	if (sip_relay(r->req, NULL, &r->proxy, (int)r->breadth, hdr,
		      on_branch_final, &r->br[0])) {
		r->pending--;
		return 0;
	}
	stat_inc(msg_stat_upstream_auth);
	return 1;
}

static void on_branch_final(int code, const struct sip_msg *resp, void *arg)
{
	struct relay_branch *b = arg;
	struct msg_relay *r = b->r;

	if (upstream_retry(r, code, resp)) {
		r->pending--; /* the new branch stands for this one */
		return;
	}
#ifdef CONFIG_SIMPLED_OFFLINE
	/* A device that cannot be reached now gets it from the store when
	 * it is back (also after the sender had its 200 from another). */
	if (b->inst[0] && r->copy && msg_unreachable(code)) {
		r->kept += !offline_keep(r->copy, r->aor, b->inst);
	}
#endif
	if (!r->best || rank(code) < rank(r->best)) {
		r->best = code;
		r->reason[0] = '\0';
		if (resp && resp->reason.l) {
			size_t l = resp->reason.l < sizeof(r->reason) - 1 ?
				   resp->reason.l : sizeof(r->reason) - 1;

			memcpy(r->reason, resp->reason.p, l);
			r->reason[l] = '\0';
		}
	}
	r->pending--;
	if (code >= 200 && code < 300) {
		relay_answer(r);
	}
	if (!r->pending) {
		relay_answer(r);
		relay_free(r);
	}
}

/* Start a branch to the device inst ("" none); counted first so a
 * synchronous failure cannot end the relay early. */
static void branch_send(struct msg_relay *r, const char *ruri,
			const struct sip_flow *dst, const char *inst)
{
	struct relay_branch *b = &r->br[r->started];
	char hdrs[64];
	int err;

	b->r = r;
	sd_str_copy(b->inst, sizeof(b->inst), inst);
	hdrs[0] = '\0';
#ifdef CONFIG_SIMPLED_OFFLINE
	if (r->copy) {
		offline_copy_hdrs(r->copy, 0, hdrs, sizeof(hdrs));
	}
#endif
	r->started++;
	r->pending++;
	err = sip_relay(r->req, ruri, dst, (int)r->breadth,
			hdrs[0] ? hdrs : NULL, on_branch_final, b);
	if (!err) {
		return;
	}
	LOG_DBG("branch to %s could not be sent: %s", ruri ? ruri : "proxy",
		strerror(err));
	if (err == ENOMEM || err == EMSGSIZE) {
		r->pending--; /* ours, not the contact's: 503 if all are */
	} else {
		/* The contact cannot be reached (a TLS client whose
		 * connection is gone, no listener of its family): as if it
		 * had answered 503. The relay's own reference keeps it. */
		on_branch_final(503, NULL, b);
	}
}

#ifdef CONFIG_SIMPLED_OFFLINE
static void fork_to(const struct reg_contact *c, const char *dev, void *arg)
{
	struct msg_relay *r = arg;

	if (r->started < r->forks) {
		branch_send(r, c->uri, c->flow, dev);
	} else if (dev[0]) {
		/* Past Max-Breadth or the fork limit: a device still gets
		 * it, from the store. */
		r->kept += !offline_keep(r->copy, r->aor, dev);
	}
}
#else
static void fork_to(const struct reg_contact *c, void *arg)
{
	struct msg_relay *r = arg;

	if (r->started < r->forks && c->accepts_message) {
		branch_send(r, c->uri, c->flow, "");
	}
}
#endif

/* A relay holds one reference of its own while branches start. */
static struct msg_relay *relay_new(struct sip_stx *st,
				   const struct sip_msg *req)
{
	struct msg_relay *r = pool_get(&msg_relay_pool);

	if (!r) {
		sip_reply_errno(st, ENOMEM);
		return NULL;
	}
	memset(r, 0, offsetof(struct msg_relay, br));
	r->st = st;
	r->req = req;
	r->pending = 1;
	stat_inc(msg_stat_relayed);
	return r;
}

static void relay_release(struct msg_relay *r)
{
	if (--r->pending) {
		return;
	}
	if (!r->best && r->started && !relay_kept(r)) {
		/* No branch could be started: pool or transport trouble. */
		r->answered = 1;
		stat_inc(msg_stat_failed);
		sip_reply_errno(r->st, ENOMEM);
	} else {
		relay_answer(r);
	}
	relay_free(r);
}

#ifdef CONFIG_SIMPLED_OFFLINE
/* What an authenticated local user sends to another goes to their own
 * other devices too (sent_copies), marked, and into their history. */
static unsigned sent_copies(const struct sip_msg *req, const char *aor)
{
	struct offline_copy *c;
	unsigned kept;

	if (!offline_cfg.sent_copies || !req->auth_user[0] ||
	    !strcmp(req->auth_user, aor)) {
		return 0;
	}
	c = offline_copy_req(req);
	if (!c) {
		return 0; /* the message itself still goes */
	}
	c->sent = 1;
	c->counted = 1; /* the sender's own devices: no per-source quota */
	offline_history_add(c, req->auth_user);
	kept = msg_fan(c, req->auth_user, &req->flow, 0, NULL);
	offline_copy_put(c);
	stat_inc(msg_stat_sent_copies);
	return kept;
}
#endif

#ifdef CONFIG_SIMPLED_OFFLINE
/* --------------------------------------------------- history service */

static int is_history_uri(const osip_uri_t *u)
{
	return offline_cfg.user_history &&
	       reg_service_uri(u, offline_cfg.history_user);
}

/* "since <id>" (RFC 3428 text/plain body) from an authenticated user:
 * their history after that entry, as MESSAGEs to the device that asked,
 * after the 200. */
static void on_history(struct sip_stx *st, const struct sip_msg *req)
{
	struct sd_pl body = sd_pl_trim(req->body), id = {0};
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];
	char inst[CONFIG_SIMPLED_MAX_INSTANCE_LEN];
	char why[64];
	uint64_t after = 0;
	int n;

	if (!req->auth_user[0]) {
		sip_reply(st, 403, "History needs an authenticated account",
			  NULL, NULL, NULL, 0);
		return;
	}
	if (body.l >= 5 && !strncasecmp(body.p, "since", 5)) {
		id = sd_pl_trim(sd_pl(body.p + 5, body.l - 5));
	}
	if (body.l < 5 || strncasecmp(body.p, "since", 5) ||
	    (body.l > 5 && body.p[5] != ' ' && body.p[5] != '\t') ||
	    (id.l && sd_pl_u64(id, &after))) {
		sip_reply(st, 400, "Body must be: since <History-Id>", NULL,
			  NULL, NULL, 0);
		return;
	}
	if (msg_device_at(req->auth_user, &req->flow, uri, sizeof(uri), inst,
			  sizeof(inst)) &&
	    (!req->osip->from || !req->osip->from->url ||
	     sip_uri_print(req->osip->from->url, uri, sizeof(uri)))) {
		sip_reply(st, 400, "No address to send the history to", NULL,
			  NULL, NULL, 0);
		return;
	}
	/* The replay begins in the next turn, after this answer. */
	n = offline_history_replay(req->auth_user, after, uri, &req->flow);
	if (n == -ENOENT) {
		sip_reply(st, 500, "Message store unavailable", NULL, NULL,
			  NULL, 0);
		return;
	}
	if (n < 0) {
		stat_inc(stat_overload);
		sip_reply(st, 503, "History replays busy", "Retry-After: 10\r\n",
			  NULL, NULL, 0);
		return;
	}
	snprintf(why, sizeof(why), "%d messages follow", n);
	sip_reply(st, 200, why, NULL, NULL, NULL, 0);
	stat_inc(msg_stat_history_asked);
}

static const struct msg_claim history_claim = {is_history_uri, on_history};
#endif

static void on_message(struct sip_stx *st, const struct sip_msg *req)
{
	const osip_uri_t *u = req->osip->req_uri;
	struct msg_relay *r;
	struct sip_flow proxy;
	char aor[CONFIG_SIMPLED_MAX_URI_LEN];
	struct msg_in in = {st, req};
	uint32_t breadth = MSG_MAX_BREADTH;
	unsigned n = 1; /* bindings of a local user; a proxied one: 1 */
	int err;

	if (hook_run(&claims, &in)) {
		return; /* a service took it */
	}
	err = reg_aor_key(u, aor, sizeof(aor));
	if (err == EINVAL) {
		sip_reply(st, 404, "No user in Request-URI", NULL, NULL, NULL,
			  0);
		return;
	}
	if (err && err != ENOENT) {
		sip_reply(st, 414, "Request-URI Too Long", NULL, NULL, NULL, 0);
		return;
	}
	/* Without open registration only the accounts exist, and only
	 * they may send to other domains (no open relay). */
	if (!err && !sip_user_exists(aor)) {
		sip_reply(st, 404, "No such user", NULL, NULL, NULL, 0);
		return;
	}
	if (err == ENOENT && !sip_open_registration() && !req->auth_user[0]) {
		sip_reply(st, 403, "Relaying to other domains needs an account",
			  NULL, NULL, NULL, 0);
		return;
	}
#ifdef CONFIG_SIMPLED_OFFLINE
	/* A reminder (Send-Time) is stored even for a user online now. */
	if (!err && sip_msg_hdr_name(req, "Send-Time")) {
		offline_store(st, req, aor);
		return;
	}
#endif
	if (!err && !(n = reg_lookup(aor, NULL, NULL))) {
		stat_inc(msg_stat_no_binding);
	}
	if (err == ENOENT) {
		int perr = sip_proxy_flow(&proxy);

		if (perr == EAGAIN) {
			sip_reply(st, 503, "Outbound proxy not resolved yet",
				  "Retry-After: 30\r\n", NULL, NULL, 0);
			return;
		}
		if (perr) {
			sip_reply(st, 404, "Domain not served here", NULL,
				  NULL, NULL, 0);
			return;
		}
	}
	/* RFC 5393: the branches share the request's Max-Breadth (60 when
	 * it has none); none may be sent with 0. */
	if (n > CONFIG_SIMPLED_MAX_FORKS) {
		n = CONFIG_SIMPLED_MAX_FORKS;
	}
	if (sip_hdr_u32(st, sip_msg_hdr_name(req, "Max-Breadth"),
			"Max-Breadth", &breadth) == EBADMSG) {
		return;
	}
	if (breadth == 0 && n) {
		sip_reply(st, 440, NULL, NULL, NULL, NULL, 0);
		return;
	}
	r = relay_new(st, req);
	if (!r) {
		return;
	}
	r->forks = n < breadth ? n : breadth;
	r->breadth = r->forks ? breadth / r->forks : breadth;
#ifdef CONFIG_SIMPLED_OFFLINE
	if (!err) {
		r->copy = offline_copy_req(req);
		if (!r->copy) {
			r->answered = 1;
			sip_reply_errno(st, ENOMEM);
			relay_release(r);
			return;
		}
		offline_history_add(r->copy, aor);
	}
	/* The answer waits for the copies kept for the sender's devices
	 * too. */
	r->wrote = sent_copies(req, err ? "" : aor);
#endif
	if (!err) {
		strcpy(r->aor, aor); /* the same size */
#ifdef CONFIG_SIMPLED_OFFLINE
		r->kept = msg_devices(r->copy, aor, NULL, fork_to, r);
#else
		reg_lookup(aor, fork_to, r);
#endif
	} else {
		stat_inc(msg_stat_proxied);
		r->proxy = proxy;
		branch_send(r, NULL, &proxy, "");
	}
	relay_release(r);
}

static int msg_start(void)
{
	int err = pool_setup(&msg_relay_pool, sizeof(struct msg_relay));

	if (!err) {
		err = sip_route("MESSAGE", on_message);
	}
#ifdef CONFIG_SIMPLED_OFFLINE
	if (!err) {
		err = msg_claim(&history_claim);
	}
#endif
	return err;
}

static void msg_stop(void)
{
	msg_send_stop();
	/* Relays are owned by their transactions' callbacks; sip_close()
	 * silenced those, so the pool is simply released with the rest. */
	hook_clear(&claims);
}

#define MOD_DEF "msg.def"
#define MOD_VAR msg_mod
#define MOD_NAME "message"
#define MOD_SECT NULL
#define MOD_START msg_start
#define MOD_STOP msg_stop
#include "mod_def.h"
