/** @file msg.c  MESSAGE relay with parallel forking (RFC 3261 16.7). */
#include <errno.h>
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

/* A local user that cannot take the message now: it is kept for later
 * when the offline store is built in (the store answers), else 480. */
static void keep_or_480(struct sip_stx *st, const struct sip_msg *req,
			const char *aor)
{
#ifdef CONFIG_SIMPLED_OFFLINE
	offline_store(st, req, aor);
#else
	(void)req;
	(void)aor;
	sip_reply(st, 480, "User not online", NULL, NULL, NULL, 0);
#endif
}

static void relay_free(struct msg_relay *r)
{
	pool_put(&msg_relay_pool, r);
}

static void relay_answer(struct msg_relay *r)
{
	int code = r->best ? r->best : 480;

	if (r->answered) {
		return;
	}
	r->answered = 1;
	/* Every contact of a local user failed as if unreachable: keep the
	 * message for later (msilo). A decline (4xx but 408/480, 6xx) is
	 * the user's answer and goes back as it is. */
	if (r->aor[0] && msg_unreachable(code)) {
		stat_inc(msg_stat_failed);
		keep_or_480(r->st, r->req, r->aor);
		r->st = NULL;
		r->req = NULL;
		return;
	}
	/* A branch's 503 means that branch is overloaded, not us. */
	if (code == 503) {
		code = 500;
		snprintf(r->reason, sizeof(r->reason), "Contact Unavailable");
	}
	stat_inc(*(code < 300 ? &msg_stat_delivered : &msg_stat_failed));
	sip_reply(r->st, code, r->reason[0] ? r->reason : NULL, NULL, NULL,
		  NULL, 0);
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
		      on_branch_final, r)) {
		r->pending--;
		return 0;
	}
	stat_inc(msg_stat_upstream_auth);
	return 1;
}

static void on_branch_final(int code, const struct sip_msg *resp, void *arg)
{
	struct msg_relay *r = arg;

	if (upstream_retry(r, code, resp)) {
		r->pending--; /* the new branch stands for this one */
		return;
	}
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

/* Start a branch; counted first so a synchronous failure cannot end
 * the relay early. */
static void branch_send(struct msg_relay *r, const char *ruri,
			const struct sip_flow *dst)
{
	int err;

	r->started++;
	r->pending++;
	err = sip_relay(r->req, ruri, dst, (int)r->breadth, NULL,
			on_branch_final, r);
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
		on_branch_final(503, NULL, r);
	}
}

static void fork_to(const struct reg_contact *c, void *arg)
{
	struct msg_relay *r = arg;

	if (r->started < r->forks) {
		branch_send(r, c->uri, c->flow);
	}
}

/* A relay holds one reference of its own while branches start. */
static struct msg_relay *relay_new(struct sip_stx *st,
				   const struct sip_msg *req)
{
	struct msg_relay *r = pool_get(&msg_relay_pool);

	if (!r) {
		sip_reply_errno(st, ENOMEM);
		return NULL;
	}
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
	if (!r->best) {
		/* No branch could be started: pool or transport trouble. */
		r->answered = 1;
		stat_inc(msg_stat_failed);
		sip_reply_errno(r->st, ENOMEM);
	} else {
		relay_answer(r);
	}
	relay_free(r);
}

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
		keep_or_480(st, req, aor);
		return;
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
	if (breadth == 0) {
		sip_reply(st, 440, NULL, NULL, NULL, NULL, 0);
		return;
	}
	r = relay_new(st, req);
	if (!r) {
		return;
	}
	r->forks = n < breadth ? n : breadth;
	r->breadth = breadth / r->forks;
	if (!err) {
		strcpy(r->aor, aor); /* the same size */
		reg_lookup(aor, fork_to, r);
	} else {
		stat_inc(msg_stat_proxied);
		r->proxy = proxy;
		branch_send(r, NULL, &proxy);
	}
	relay_release(r);
}

static int msg_start(void)
{
	int err = pool_setup(&msg_relay_pool, sizeof(struct msg_relay));

	if (!err) {
		err = sip_route("MESSAGE", on_message);
	}
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
