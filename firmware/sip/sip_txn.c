/** @file sip_txn.c  RFC 3261 transactions, our own state machines.
 *
 * Why not libosip2's osip_t FSMs: they allocate events and timers on
 * libosip2's heap behind our back, need a transport callback that receives
 * osip_message_t (and so osip_message_to_str(), which crashes under
 * allocation failure), and are driven by their own timer polling. The
 * non-INVITE machines are small; written here they draw from fixed pools,
 * run on core/tmr and resend the exact bytes first sent.
 *
 * Server: TRYING -> (final) COMPLETED -> Timer J (UDP 64*T1, TCP 0) -> gone;
 * INVITE (answered non-2xx only): COMPLETED resends on Timer G until ACK,
 * Timer H gives up, CONFIRMED lasts Timer I.
 * Client (non-INVITE): TRYING resends on Timer E (UDP), Timer F times out,
 * COMPLETED absorbs retransmitted responses for Timer K.
 */
#include <errno.h>
#include <string.h>

#define LOG_MODULE "txn"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "sd_hash.h"
#include "sip_priv.h"
#include "stat.h"
#include "tmr.h"

#define T1 CONFIG_SIMPLED_SIP_T1_MS
#define T2 CONFIG_SIMPLED_SIP_T2_MS
#define T4 CONFIG_SIMPLED_SIP_T4_MS
/* Bytes of a transaction key: branch, sent-by and method. */
#define STX_KEY_MAX 256

enum stx_state {
	STX_TRYING,
	STX_COMPLETED,
	STX_CONFIRMED,
};

struct sip_stx {
	UT_hash_handle hh;
	struct sip_stx *cprev, *cnext;	/* completed list, oldest first */
	char key[STX_KEY_MAX];
	struct sip_msg *req;	/* owned until the final response */
	char *resp;		/* last response, resent on retransmission */
	size_t resp_len;
	struct sip_flow dst;	/* where responses go */
	enum stx_state state;
	int invite;
	uint32_t interval;
	struct tmr tmr;		/* J, H or I */
	struct tmr tmr_g;
	int held;		/* final response built, not sent yet */
	char totag[11];
};

enum ctx_state {
	CTX_NEW,
	CTX_TRYING,
	CTX_COMPLETED,
};

struct sip_ctx {
	UT_hash_handle hh;
	struct sip_ctx *cprev, *cnext;	/* completed list, oldest first */
	char branch[32];
	char method[16];
	char *req;
	size_t len;
	struct sip_flow dst;
	char *alt;		/* UDP form of a large request tried on TCP */
	size_t alt_len;
	struct sip_flow alt_dst;
	enum ctx_state state;
	uint32_t interval;
	struct tmr tmr_e;	/* E, then K */
	struct tmr tmr_f;
	sip_resp_h *h;
	void *arg;
};

static struct sip_stx *stx_table;
static struct sip_ctx *ctx_table;
/* Told when a client transaction can be had again (sip_ctx_observe()). */
static struct hook_list ctx_observers;

/*
 * Completed transactions only absorb retransmissions (Timer J is 32 s on
 * UDP), so a server busy at R requests/s would need 32*R pool slots. When
 * a pool runs dry the oldest completed transaction is reclaimed instead of
 * refusing the new request: a retransmission arriving that late is rare
 * and the worst outcome is that it is processed again.
 */
struct done_list {
	void *head, *tail;
};
static struct done_list stx_done, ctx_done;

#define DONE_LINK(list, o)                                              \
	do {                                                            \
		(o)->cnext = NULL;                                      \
		(o)->cprev = (list).tail;                               \
		if ((o)->cprev) {                                       \
			(o)->cprev->cnext = (o);                        \
		} else {                                                \
			(list).head = (o);                              \
		}                                                       \
		(list).tail = (o);                                      \
	} while (0)

#define DONE_UNLINK(list, o)                                      \
	do {                                                            \
		if ((o)->cprev) {                                       \
			(o)->cprev->cnext = (o)->cnext;                 \
		} else if ((list).head == (o)) {                        \
			(list).head = (o)->cnext;                       \
		}                                                       \
		if ((o)->cnext) {                                       \
			(o)->cnext->cprev = (o)->cprev;                 \
		} else if ((list).tail == (o)) {                        \
			(list).tail = (o)->cprev;                       \
		}                                                       \
		(o)->cprev = (o)->cnext = NULL;                         \
	} while (0)
static unsigned n_stx, n_ctx;
static char txbuf[CONFIG_SIMPLED_MAX_MSG_SIZE + 1];
static size_t tx_len;

/* A pool slot; when the pool is dry, end the oldest completed transaction
 * (end frees it) and take its slot. */
static void *txn_get(struct pool *pool, struct done_list *done,
		     tmr_h *end)
{
	void *o = pool_get(pool);

	if (!o && done->head) {
		end(done->head);
		stat_inc(sip_stat_txn_reclaimed);
		o = pool_get(pool);
	}
	return o;
}

/* The next retransmission interval: doubled, at most T2. */
static uint32_t backoff(uint32_t interval)
{
	return interval * 2 < T2 ? interval * 2 : T2;
}

unsigned sip_txn_count(void)
{
	return n_stx + n_ctx;
}

/* What every branch of this process starts with: z9hG4bK and hex
 * characters of a seed drawn at start. */
#define BRANCH_SEED_LEN 8
#define BRANCH_MARK_LEN (7 + BRANCH_SEED_LEN)
/* A branch of ours: the mark, then random hex characters. */
#define BRANCH_LEN (BRANCH_MARK_LEN + 12)
_Static_assert(BRANCH_LEN < sizeof(((struct sip_ctx *)0)->branch),
	       "a branch fits its transaction");
static char branch_mark[BRANCH_MARK_LEN + 1] = "z9hG4bK";

int sip_txn_sent_by_us(const struct sip_msg *m)
{
	unsigned i;

	for (i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		if (h->id == SIP_HDR_VIA &&
		    memmem(h->value.p, h->value.l, branch_mark,
			   BRANCH_MARK_LEN)) {
			return 1;
		}
	}
	return 0;
}

int sip_txn_init(void)
{
	int err = pool_setup(&sip_stx_pool, sizeof(struct sip_stx));

	sd_rand_hex(branch_mark + 7, BRANCH_SEED_LEN);
	if (!err) {
		err = pool_setup(&sip_ctx_pool, sizeof(struct sip_ctx));
	}
	return err;
}

/* ---------------------------------------------------------------- server */

static void stx_free(struct sip_stx *st)
{
	if (st->state != STX_TRYING) {
		DONE_UNLINK(stx_done, st);
	} else {
		sip_name_unwait(NULL, st); /* not answered: may wait */
	}
	tmr_cancel(&st->tmr);
	tmr_cancel(&st->tmr_g);
	HASH_DEL(stx_table, st);
	sip_msg_free(st->req);
	mem_put(st->resp);
	n_stx--;
	pool_put(&sip_stx_pool, st);
}

/* The transaction key: branch, sent-by and method (RFC 3261 17.2.3), or
 * for an RFC 2543 peer the Call-ID, CSeq and From tag. Its parts are as
 * long as the peer made them: a key longer than STX_KEY_MAX is kept as
 * its hash (sd_key_fit), so retransmissions still match. */
static void stx_key(char *key, const struct sip_msg *m)
{
	static char whole[CONFIG_SIMPLED_MAX_MSG_SIZE + 32];
	struct sd_pl method = m->method;
	struct sd_buf b;

	if (!sd_pl_casecmp(method, "ACK")) {
		method = sd_pl("INVITE", 6);
	}
	sd_buf_init(&b, whole, sizeof(whole));
	if (m->branch.l > 7 && !strncmp(m->branch.p, "z9hG4bK", 7)) {
		sd_buf_pl(&b, m->branch);
		sd_buf_str(&b, "|");
		sd_buf_pl(&b, m->sent_by);
	} else {
		/* RFC 2543 peer: no magic cookie (RFC 3261 17.2.3). */
		sd_buf_pl(&b, m->call_id);
		sd_buf_str(&b, "|");
		sd_buf_uint(&b, m->cseq);
		sd_buf_str(&b, "|");
		sd_buf_pl(&b, m->from_tag);
	}
	sd_buf_str(&b, "|");
	sd_buf_pl(&b, method);
	/* The parts are slices of one message, so whole holds them. */
	sd_key_fit(key, STX_KEY_MAX, sd_pl(b.p, b.len));
}

static void stx_end(void *arg)
{
	stx_free(arg);
}

static void stx_resend(struct sip_stx *st)
{
	if (st->resp && !st->held) {
		sip_tp_send(&st->dst, st->resp, st->resp_len);
		stat_inc(sip_stat_tx_retrans);
	}
}

static void stx_timer_g(void *arg)
{
	struct sip_stx *st = arg;

	stx_resend(st);
	st->interval = backoff(st->interval);
	tmr_start(&st->tmr_g, st->interval, stx_timer_g, st);
}

/* RFC 3261 18.2.2 with RFC 3581: UDP answers go to the source address;
 * to the source port only when the client asked for rport. */
int sip_stx_receive(struct sip_stx **stp, struct sip_msg *req)
{
	struct sip_stx *st;
	char key[STX_KEY_MAX];

	*stp = NULL;
	stx_key(key, req);
	HASH_FIND_STR(stx_table, key, st);
	if (!sd_pl_casecmp(req->method, "ACK")) {
		if (st && st->invite && st->state == STX_COMPLETED) {
			tmr_cancel(&st->tmr_g);
			st->state = STX_CONFIRMED;
			tmr_start(&st->tmr, req->flow.tp == SIP_TP_UDP ?
				  T4 : 0, stx_end, st);
		}
		sip_msg_free(req);
		return EALREADY;
	}
	if (st) {
		stat_inc(sip_stat_rx_retrans);
		if (st->state == STX_COMPLETED || st->resp) {
			stx_resend(st);
		}
		sip_msg_free(req);
		return EALREADY;
	}
	st = txn_get(&sip_stx_pool, &stx_done, stx_end);
	if (!st) {
		return ENOMEM;
	}
	memcpy(st->key, key, sizeof(key));
	SD_HASH_ADD_STR(stx_table, key, st, &sip_stx_pool);
	if (!st) {
		return ENOMEM;
	}
	n_stx++;
	st->req = req;
	st->state = STX_TRYING;
	st->invite = !sd_pl_casecmp(req->method, "INVITE");
	sip_response_flow(req, &st->dst);
	sd_rand_hex(st->totag, sizeof(st->totag) - 1);
	*stp = st;
	return 0;
}

const char *sip_stx_totag(const struct sip_stx *st)
{
	return st->totag;
}

/* Write the response into st->resp (500 when it would not fit). When the
 * budget is spent st->resp stays NULL and the bytes are in txbuf (tx_len)
 * until the next response is built. @return the code written. */
static int stx_build(struct sip_stx *st, int code, const char *reason,
		     const char *hdrs, const char *ctype, const char *body,
		     size_t blen)
{
	struct sd_buf b;

	sd_buf_init(&b, txbuf, sizeof(txbuf));
	sip_build_response(&b, st->req, code, reason, st->totag, hdrs, ctype,
			   body, blen);
	if (b.overflow) {
		/* Too big to send: say so instead. */
		LOG_WRN("response %d too large, answering 500", code);
		sd_buf_init(&b, txbuf, sizeof(txbuf));
		sip_build_response(&b, st->req, 500, "Response Too Large",
				   st->totag, NULL, NULL, NULL, 0);
		code = 500;
	}
	mem_put(st->resp);
	st->resp = mem_strndup(b.p, b.len);
	st->resp_len = st->resp ? b.len : 0;
	tx_len = b.len;
	return code;
}

/* Send what stx_build() wrote; a final response ends the request. */
static int stx_send(struct sip_stx *st, int final)
{
	/* Without memory to keep it, answer once from the scratch buffer. */
	int err = st->resp ? sip_tp_send(&st->dst, st->resp, st->resp_len) :
		  sip_tp_send(&st->dst, txbuf, tx_len);

	stat_inc(sip_stat_tx_responses);
	if (!final) {
		return err;
	}
	/* Final: the request is no longer needed. */
	sip_msg_free(st->req);
	st->req = NULL;
	st->held = 0;
	st->state = STX_COMPLETED;
	DONE_LINK(stx_done, st);
	if (st->invite) {
		if (st->dst.tp == SIP_TP_UDP) {
			st->interval = T1;
			tmr_start(&st->tmr_g, T1, stx_timer_g, st);
		}
		tmr_start(&st->tmr, 64 * T1, stx_end, st);
	} else {
		tmr_start(&st->tmr, st->dst.tp == SIP_TP_UDP ? 64 * T1 : 0,
			  stx_end, st);
	}
	return err;
}

/* Check the arguments of an answer and build it; *code becomes the code
 * written (500 for one too large). @return 0 or EINVAL. */
static int reply_build(struct sip_stx *st, int *code, int lowest,
		       const char *reason, const char *hdrs,
		       const char *ctype, const char *body, size_t blen)
{
	if (!st || !st->req || *code < lowest || *code > 699) {
		return EINVAL;
	}
	*code = stx_build(st, *code, reason, hdrs, ctype, body, blen);
	return 0;
}

int sip_reply(struct sip_stx *st, int code, const char *reason,
	      const char *hdrs, const char *ctype, const char *body,
	      size_t blen)
{
	int err = reply_build(st, &code, 100, reason, hdrs, ctype, body, blen);

	return err ? err : stx_send(st, code >= 200);
}

int sip_reply_hold(struct sip_stx *st, int code, const char *reason,
		   const char *hdrs, const char *ctype, const char *body,
		   size_t blen)
{
	int err = reply_build(st, &code, 200, reason, hdrs, ctype, body, blen);

	if (err) {
		return err;
	}
	if (!st->resp) {
		/* No memory to hold it: the write goes to disk now, then the
		 * answer is written again (the commit's callbacks may have
		 * used the scratch buffer) and sent. A 5xx here would be
		 * wrong: the write stands and would be delivered. */
		err = sip_cfg && sip_cfg->commit_now ? sip_cfg->commit_now() :
						       EIO;
		if (err) {
			return sip_reply(st, 500, "Not Stored", NULL, NULL,
					 NULL, 0);
		}
		stx_build(st, code, reason, hdrs, ctype, body, blen);
		return stx_send(st, 1);
	}
	st->held = 1;
	return 0;
}

void sip_reply_release(int err, void *arg)
{
	struct sip_stx *st = arg;

	if (!st->held) {
		return;
	}
	if (err) {
		st->held = 0;
		sip_reply(st, 500, "Not Stored", NULL, NULL, NULL, 0);
		return;
	}
	stx_send(st, 1);
}

int sip_reply_errno(struct sip_stx *st, int err)
{
	switch (err) {
	case 0:
		return sip_reply(st, 200, NULL, NULL, NULL, NULL, 0);
	case ENOMEM:
	case ENOSPC:
	case ENOBUFS:
		stat_inc(stat_overload);
		return sip_reply(st, 503, SIP_OVERLOAD_REASON,
				 SIP_OVERLOAD_HDRS, NULL, NULL, 0);
	case EBADMSG:
	case EINVAL:
		return sip_reply(st, 400, NULL, NULL, NULL, NULL, 0);
	case ENOENT:
		return sip_reply(st, 404, NULL, NULL, NULL, NULL, 0);
	case EPERM:
	case EACCES:
		return sip_reply(st, 403, NULL, NULL, NULL, NULL, 0);
	default:
		return sip_reply(st, 500, NULL, NULL, NULL, NULL, 0);
	}
}

/* ---------------------------------------------------------------- client */

static void ctx_free(struct sip_ctx *ctx)
{
	if (!ctx) {
		return;
	}
	if (ctx->state == CTX_COMPLETED) {
		DONE_UNLINK(ctx_done, ctx);
	}
	tmr_cancel(&ctx->tmr_e);
	tmr_cancel(&ctx->tmr_f);
	if (ctx->state != CTX_NEW) {
		HASH_DEL(ctx_table, ctx);
	}
	mem_put(ctx->req);
	mem_put(ctx->alt);
	n_ctx--;
	pool_put(&sip_ctx_pool, ctx);
}

static void ctx_end(void *arg)
{
	ctx_free(arg);
}

int sip_ctx_observe(hook_h *h, void *arg)
{
	return hook_add(&ctx_observers, h, arg);
}

void sip_ctx_unobserve(hook_h *h, void *arg)
{
	hook_del(&ctx_observers, h, arg);
}

int sip_ctx_available(void)
{
	const struct pool_info *pi = pool_info(&sip_ctx_pool);

	return pi->used < pi->size || ctx_done.head != NULL;
}

/* Timer K: a completed transaction goes, and so does its memory. */
static void ctx_timer_k(void *arg)
{
	ctx_free(arg);
	hook_run(&ctx_observers, NULL);
}

/* Reserve a client transaction and its branch (for the Via). */
static int ctx_alloc(struct sip_ctx **ctxp, sip_resp_h *h, void *arg)
{
	struct sip_ctx *ctx = txn_get(&sip_ctx_pool, &ctx_done, ctx_end);

	if (!ctx) {
		return ENOMEM;
	}
	/* z9hG4bK, this process's seed, then random: a request that comes
	 * back with one of these in a Via is one we sent (a loop). */
	memcpy(ctx->branch, branch_mark, BRANCH_MARK_LEN);
	sd_rand_hex(ctx->branch + BRANCH_MARK_LEN,
		    BRANCH_LEN - BRANCH_MARK_LEN);
	ctx->h = h;
	ctx->arg = arg;
	ctx->state = CTX_NEW;
	n_ctx++;
	*ctxp = ctx;
	return 0;
}

static void ctx_report(struct sip_ctx *ctx, int code,
		       const struct sip_msg *resp)
{
	sip_resp_h *h = ctx->h;

	ctx->h = NULL;
	if (h) {
		h(code, resp, ctx->arg);
	}
}

static void ctx_timer_e(void *arg)
{
	struct sip_ctx *ctx = arg;

	sip_tp_send(&ctx->dst, ctx->req, ctx->len);
	stat_inc(sip_stat_tx_retrans);
	ctx->interval = backoff(ctx->interval);
	tmr_start(&ctx->tmr_e, ctx->interval, ctx_timer_e, ctx);
}

static void ctx_arm(struct sip_ctx *ctx);
static int ctx_fallback(struct sip_ctx *ctx);

/* End a transaction that got no final answer with code: freed before
 * the callback, which may start a new request. */
static void ctx_fail(struct sip_ctx *ctx, int code)
{
	sip_resp_h *h = ctx->h;
	void *h_arg = ctx->arg;

	ctx_free(ctx);
	if (h) {
		h(code, NULL, h_arg);
	}
	hook_run(&ctx_observers, NULL);
}

static void ctx_timer_f(void *arg)
{
	stat_inc(sip_stat_client_timeouts);
	ctx_fail(arg, 408);
}

void sip_txn_unreachable(const char *buf, size_t len, enum sip_tp_type tp,
			 const struct port_addr *dst)
{
	const char *b = memmem(buf, len, ";branch=", 8);
	char branch[sizeof(((struct sip_ctx *)0)->branch)];
	struct sip_ctx *ctx;
	size_t n = 0;

	if (!b) {
		return;
	}
	b += 8;
	while (b + n < buf + len && n + 1 < sizeof(branch) &&
	       b[n] != ';' && b[n] != '\r' && b[n] != ',' && b[n] != ' ') {
		branch[n] = b[n];
		n++;
	}
	branch[n] = '\0';
	HASH_FIND_STR(ctx_table, branch, ctx);
	if (ctx && ctx->state == CTX_TRYING && ctx->dst.tp == tp &&
	    sd_addr_eq(&ctx->dst.peer, dst)) {
		stat_inc(sip_stat_unreachable);
		ctx_fail(ctx, 503);
	}
}

static int waits_on_peer(const struct sip_ctx *ctx,
			 const struct port_addr *peer)
{
	return ctx && ctx->state == CTX_TRYING && sip_tp_stream(ctx->dst.tp) &&
	       sd_addr_eq(&ctx->dst.peer, peer);
}

void sip_txn_peer_failed(const struct port_addr *peer)
{
	/* Names first: the callbacks may start requests (to this peer too)
	 * and change the table; those wait for their own connection. */
	static char doomed[64][sizeof(((struct sip_ctx *)0)->branch)];
	struct sip_ctx *ctx, *tmp;
	unsigned n = 0, i;

	HASH_ITER(hh, ctx_table, ctx, tmp) {
		if (n < 64 && waits_on_peer(ctx, peer)) {
			memcpy(doomed[n++], ctx->branch, sizeof(doomed[0]));
		}
	}
	for (i = 0; i < n; i++) {
		HASH_FIND_STR(ctx_table, doomed[i], ctx);
		if (!waits_on_peer(ctx, peer)) {
			continue;
		}
		/* A large request tried on TCP goes over UDP instead. */
		if (ctx->alt && !ctx_fallback(ctx)) {
			ctx_arm(ctx);
			continue;
		}
		stat_inc(sip_stat_unreachable);
		ctx_fail(ctx, 503);
	}
}

/* The RFC 3261 timers of a request just sent: E (UDP) and F. */
static void ctx_arm(struct sip_ctx *ctx)
{
	tmr_cancel(&ctx->tmr_e);
	if (ctx->dst.tp == SIP_TP_UDP) {
		ctx->interval = T1;
		tmr_start(&ctx->tmr_e, T1, ctx_timer_e, ctx);
	}
	tmr_start(&ctx->tmr_f, 64 * T1, ctx_timer_f, ctx);
}

/* TCP could not carry a large request: send its UDP form instead, as
 * the same transaction (RFC 3261 18.1.1). @return 0 or the UDP error. */
static int ctx_fallback(struct sip_ctx *ctx)
{
	int err;

	mem_put(ctx->req);
	ctx->req = ctx->alt;
	ctx->len = ctx->alt_len;
	ctx->dst = ctx->alt_dst;
	ctx->alt = NULL;
	err = sip_tp_send(&ctx->dst, ctx->req, ctx->len);
	if (!err) {
		stat_inc(sip_stat_tcp_fallbacks);
	}
	return err;
}

/* Send buf (len bytes, copied) to dst and run the RFC 3261 timers. On
 * error the transaction is freed and h is not called. */
static int ctx_send(struct sip_ctx *ctx, const struct sip_flow *dst,
		    const char *method, const char *buf, size_t len)
{
	int err;

	if (!ctx || ctx->state != CTX_NEW || strlen(method) >=
	    sizeof(ctx->method)) {
		return EINVAL;
	}
	ctx->req = mem_strndup(buf, len);
	if (!ctx->req) {
		ctx_free(ctx);
		return ENOMEM;
	}
	ctx->len = len;
	ctx->dst = *dst;
	strcpy(ctx->method, method);
	sd_hash_oom = 0;
	HASH_ADD_STR(ctx_table, branch, ctx);
	if (sd_hash_oom) {
		ctx->state = CTX_NEW;
		ctx_free(ctx);
		return ENOMEM;
	}
	ctx->state = CTX_TRYING;
	err = sip_tp_send(dst, buf, len);
	if (err && ctx->alt) {
		err = ctx_fallback(ctx);
	}
	if (err) {
		ctx_free(ctx);
		return err;
	}
	stat_inc(sip_stat_tx_requests);
	ctx_arm(ctx);
	return 0;
}

/* Writes a request for flow out with branch (its Via says out). */
typedef void (build_h)(struct sd_buf *b, const struct sip_flow *out,
		       const char *branch, const void *arg);

struct relay_build {
	const struct sip_msg *req;
	const char *ruri;
	int max_breadth;
	const char *hdrs;
};

static void build_relay(struct sd_buf *b, const struct sip_flow *out,
			const char *branch, const void *arg)
{
	const struct relay_build *rb = arg;

	sip_build_relay(b, rb->req, rb->ruri, out, branch, rb->max_breadth,
			rb->hdrs);
}

static void build_request(struct sd_buf *b, const struct sip_flow *out,
			  const char *branch, const void *arg)
{
	sip_build_request(b, arg, out, branch);
}

/* Write the request for dst and send it in ctx; ctx is freed when it
 * does not fit or cannot leave. A request for UDP longer than
 * SIP_UDP_MAX_REQ goes over TCP to the same address when we listen on
 * TCP there, its UDP form kept for a refusal (RFC 3261 18.1.1). */
static int ctx_build_send(struct sip_ctx *ctx, const struct sip_flow *dst,
			  const char *method, build_h *build, const void *arg)
{
	struct sip_flow tcp;
	struct sd_buf b;

	sd_buf_init(&b, txbuf, sizeof(txbuf));
	build(&b, dst, ctx->branch, arg);
	if (b.overflow) {
		ctx_free(ctx);
		return EMSGSIZE;
	}
	if (dst->tp == SIP_TP_UDP && b.len > SIP_UDP_MAX_REQ &&
	    !sip_peer_flow(SIP_TP_TCP, &dst->peer, &tcp)) {
		ctx->alt = mem_strndup(b.p, b.len);
		ctx->alt_len = b.len;
		ctx->alt_dst = *dst;
		sd_buf_init(&b, txbuf, sizeof(txbuf));
		build(&b, &tcp, ctx->branch, arg);
		if (ctx->alt && !b.overflow) {
			return ctx_send(ctx, &tcp, method, b.p, b.len);
		}
		mem_put(ctx->alt); /* no memory for two forms: UDP only */
		ctx->alt = NULL;
		sd_buf_init(&b, txbuf, sizeof(txbuf));
		build(&b, dst, ctx->branch, arg);
	}
	return ctx_send(ctx, dst, method, b.p, b.len);
}

int sip_relay(const struct sip_msg *req, const char *ruri,
	      const struct sip_flow *dst, int max_breadth, const char *hdrs,
	      sip_resp_h *h, void *arg)
{
	struct sip_ctx *ctx;
	struct relay_build rb;
	char method[16];
	char uri[CONFIG_SIMPLED_MAX_MSG_SIZE / 4];
	int err;

	if (sd_pl_copy(req->method, method, sizeof(method))) {
		return EINVAL;
	}
	if (!ruri) {
		if (sd_pl_copy(req->ruri, uri, sizeof(uri))) {
			return EMSGSIZE;
		}
		ruri = uri;
	}
	err = ctx_alloc(&ctx, h, arg);
	if (err) {
		return err;
	}
	rb.req = req;
	rb.ruri = ruri;
	rb.max_breadth = max_breadth;
	rb.hdrs = hdrs;
	return ctx_build_send(ctx, dst, method, build_relay, &rb);
}

int sip_request_fits(const struct sip_request *r)
{
	char branch[BRANCH_LEN + 1];
	struct sip_flow out;
	struct sd_buf b;

	memset(branch, 'b', BRANCH_LEN);
	branch[BRANCH_LEN] = '\0';
	sip_tp_widest_flow(&out);
	/* Written where ctx_build_send() writes it, to know whether it
	 * would be written whole. */
	sd_buf_init(&b, txbuf, sizeof(txbuf));
	build_request(&b, &out, branch, r);
	return b.overflow ? EMSGSIZE : 0;
}

int sip_request_send(const struct sip_request *r, const struct sip_flow *dst,
		     sip_resp_h *h, void *arg)
{
	struct sip_ctx *ctx;
	int err;

	if (!r || !r->method || !r->ruri || !r->from || !r->to) {
		return EINVAL;
	}
	err = ctx_alloc(&ctx, h, arg);
	if (err) {
		return err;
	}
	return ctx_build_send(ctx, dst, r->method, build_request, r);
}

void sip_ctx_receive(struct sip_msg *resp)
{
	struct sip_ctx *ctx;
	char branch[sizeof(ctx->branch)];

	if (sd_pl_copy(resp->branch, branch, sizeof(branch))) {
		goto out;
	}
	HASH_FIND_STR(ctx_table, branch, ctx);
	if (!ctx || sd_pl_casecmp(resp->cseq_method, ctx->method)) {
		stat_inc(sip_stat_rx_dropped);
		goto out;
	}
	if (ctx->state != CTX_TRYING) {
		goto out; /* retransmitted final response: absorbed */
	}
	if (resp->status < 200) {
		/* Proceeding: keep resending, but at T2 (17.1.2.2). */
		if (tmr_active(&ctx->tmr_e)) {
			ctx->interval = T2;
		}
		goto out;
	}
	tmr_cancel(&ctx->tmr_e);
	tmr_cancel(&ctx->tmr_f);
	ctx->state = CTX_COMPLETED;
	DONE_LINK(ctx_done, ctx);
	tmr_start(&ctx->tmr_e, ctx->dst.tp == SIP_TP_UDP ? T4 : 0,
		  ctx_timer_k, ctx);
	/* Last: a request the callback starts with the pool dry may reclaim
	 * this completed slot, so nothing here touches ctx afterwards. The
	 * slot can be reclaimed now: whoever waits for one is told. */
	ctx_report(ctx, resp->status, resp);
	hook_run(&ctx_observers, NULL);
out:
	sip_msg_free(resp);
}

const struct sip_msg *sip_stx_request(const struct sip_stx *st)
{
	return st->req;
}

void sip_txn_close(void)
{
	struct sip_stx *st, *st_tmp;
	struct sip_ctx *ctx, *ctx_tmp;

	HASH_ITER(hh, stx_table, st, st_tmp) {
		stx_free(st);
	}
	HASH_ITER(hh, ctx_table, ctx, ctx_tmp) {
		ctx->h = NULL;
		ctx_free(ctx);
	}
	hook_clear(&ctx_observers);
}
