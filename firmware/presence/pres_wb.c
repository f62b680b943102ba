/** @file pres_wb.c  Write-back of subscriptions (subs_db_mode write-back):
 * the changed ones are written to LMDB every clean_period and at stop, and
 * those of the last run are restored at start.
 *
 * A record is an explicit encoding (version 3), so that it depends neither
 * on Kconfig sizes nor on the SIP layer's internals. Integers are
 * little-endian:
 *
 *   offset size
 *        0    1  format version: 3 (2 has no source)
 *        1    1  event package (enum pres_event)
 *        2    1  state (enum pres_sub_state)
 *        3    1  decision (enum pres_decision)
 *        4    1  transport: 0 UDP, 1 TCP
 *        5    1  address family of the peer: 4 or 6
 *        6    2  peer port
 *        8   16  peer IP (IPv4 in the first 4 bytes, the rest 0)
 *       24    4  our CSeq (NOTIFYs)
 *       28    4  the watcher's CSeq (SUBSCRIBEs)
 *       32    4  winfo document version
 *       36    8  expiry, wall-clock seconds (signed), in the store's
 *                frame (store_time_to_disk())
 *       44       nine strings, each a 2-byte length and its bytes (no
 *                NUL): Call-ID, remote tag, local tag, remote From,
 *                presentity URI, watcher AoR, contact URI, route set (its
 *                Route lines), and the source it counts against
 *                (sip_msg_source(); version 3 on)
 *
 * and nothing after. The key is "Call-ID|remote tag|local tag" and must
 * match the strings. The rest is recomputed: the presentity and the
 * expiry timer at restore, the flow from transport and peer at its first
 * use (sip_peer_flow() from pres_sub.c, as SIP opens its listeners after
 * the services start). No TCP connection outlives a restart: a TCP
 * watcher is reached by a new one.
 *
 * Version 1 records (struct pres_sub_rec_v1, a struct image: what builds
 * before version 2 wrote) are recognised by their exact size and tag and
 * migrated: restored, and written again as version 3 at the next flush;
 * version 2 records are restored as they are, counted against no source.
 * Anything else (another version, a truncated or malformed record) is
 * dropped and deleted, with one log line per start saying how many.
 *
 * Nothing in a record is trusted: an event package not built in, a state
 * or decision out of range or not one that a live subscription can have
 * (pending and undecided; active and allowed or polite-blocked; a
 * presentity-only package for another watcher), a transport or address
 * family unknown, a field with a control character (it would end a header
 * of the NOTIFY) or a route set not made of Route lines, a key already
 * restored: each drops the record. A record that does not fit (the pool
 * or the hash table full) is not restored either. What a watcher may see
 * is decided again from today's rules (pres_auth_decide()): a record
 * says what was allowed then, not now.
 */
#include <errno.h>
#include <string.h>

#define LOG_MODULE "pres"
#include "log.h"
#include "pool.h"
#include "pres_priv.h"
#include "wall.h"

#define WB_V2 2
#define WB_V3 3
/* Longer than any expiry granted (max_expires is at most 1000000 s). */
#define WB_MAX_LEFT 1000000

static struct tmr flush_tmr;

static int wb_on(void)
{
	return pres_cfg.subs_db_mode == PRES_SUBS_WRITE_BACK &&
	       store_is_open();
}

/* -------------------------------------------------------------- encode */

static void put_le(struct sd_buf *b, uint64_t v, unsigned n)
{
	unsigned char le[8];
	unsigned i;

	for (i = 0; i < n; i++) {
		le[i] = (unsigned char)(v >> (8 * i));
	}
	sd_buf_add(b, (const char *)le, n);
}

static void put_str(struct sd_buf *b, struct sd_pl s)
{
	if (s.l > 0xffff) {
		b->overflow = 1;
		return;
	}
	put_le(b, s.l, 2);
	sd_buf_add(b, s.p, s.l);
}

/* The remote tag: the middle of the key "callid|remote tag|local tag". */
static struct sd_pl remote_tag(const struct pres_sub *s)
{
	size_t kl = strlen(s->key), cl = pres_sub_key_callid_len(s);
	size_t ll = strlen(s->local_tag);

	if (kl < cl + ll + 2) {
		return sd_pl(s->key, 0);
	}
	return sd_pl(s->key + cl + 1, kl - cl - ll - 2);
}

static void encode(struct sd_buf *b, const struct pres_sub *s)
{
	const struct port_addr *a = &s->flow.peer;
	unsigned char ip[16] = {0};

	put_le(b, WB_V3, 1);
	put_le(b, s->pkg->ev, 1);
	put_le(b, s->state, 1);
	put_le(b, s->decision, 1);
	put_le(b, s->flow.tp, 1);
	put_le(b, a->family, 1);
	put_le(b, a->port, 2);
	memcpy(ip, a->ip, a->family == PORT_AF_INET6 ? 16 : 4);
	sd_buf_add(b, (const char *)ip, sizeof(ip));
	put_le(b, s->local_cseq, 4);
	put_le(b, s->remote_cseq, 4);
	put_le(b, s->version, 4);
	put_le(b, (uint64_t)store_time_to_disk(wall_now() + pres_sub_left(s)),
	       8);
	put_str(b, sd_pl_str(s->callid));
	put_str(b, remote_tag(s));
	put_str(b, sd_pl_str(s->local_tag));
	put_str(b, sd_pl_str(s->remote_from));
	put_str(b, sd_pl_str(s->presentity_uri));
	put_str(b, sd_pl_str(s->watcher));
	put_str(b, sd_pl_str(s->contact));
	put_str(b, sd_pl_str(s->route));
	put_str(b, sd_pl_str(s->src ? s->src->key : ""));
}

static void flush_one(struct pres_sub *s, void *arg)
{
	static char rec[STORE_REC_MAX];
	struct sd_buf b;

	(void)arg;
	if (!s->dirty) {
		return;
	}
	sd_buf_init(&b, rec, sizeof(rec));
	encode(&b, s);
	if (!b.overflow &&
	    !store_rec_put(STORE_PRES_SUB, s->key, rec, b.len)) {
		s->dirty = 0;
	}
}

static void flush_fire(void *arg)
{
	(void)arg;
	pres_subs_walk(flush_one, NULL);
	tmr_start(&flush_tmr, (uint32_t)pres_cfg.clean_period * 1000u,
		  flush_fire, NULL);
}

/* -------------------------------------------------------------- decode */

struct wb_in {
	const unsigned char *p;
	size_t left;
	int bad;
};

static const unsigned char *take(struct wb_in *in, size_t n)
{
	const unsigned char *p = in->p;

	if (in->bad || n > in->left) {
		in->bad = 1;
		return NULL;
	}
	in->p += n;
	in->left -= n;
	return p;
}

static uint64_t get_le(struct wb_in *in, unsigned n)
{
	const unsigned char *p = take(in, n);
	uint64_t v = 0;

	while (p && n--) {
		v = v << 8 | p[n];
	}
	return v;
}

/* A string into buf of size bytes (with its NUL); none inside. */
static void get_str(struct wb_in *in, char *buf, size_t size)
{
	size_t l = (size_t)get_le(in, 2);
	const unsigned char *p = take(in, l);

	buf[0] = '\0';
	if (!p || l >= size || memchr(p, '\0', l)) {
		in->bad = 1;
		return;
	}
	memcpy(buf, p, l);
	buf[l] = '\0';
}

/* Is p non-empty, without control characters (and without spaces
 * unless spaces)? */
static int plain(const char *p, int spaces)
{
	if (!*p) {
		return 0;
	}
	for (; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f ||
		    (*p == ' ' && !spaces)) {
			return 0;
		}
	}
	return 1;
}

/* A route set as route_set() in pres_sub.c writes it: "Route: " lines. */
static int route_ok(const char *r)
{
	while (*r) {
		const char *eol = strstr(r, "\r\n"), *p;

		if (!eol || strncmp(r, "Route: ", 7) || eol == r + 7) {
			return 0;
		}
		for (p = r + 7; p < eol; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				return 0;
			}
		}
		r = eol + 2;
	}
	return 1;
}

/* A state and decision that a live subscription can have. */
static int state_ok(const struct pres_pkg *pkg, unsigned state,
		    unsigned decision)
{
	if (pkg->owner_only) {
		return state == PRES_SUB_ACTIVE && decision == PRES_ALLOW;
	}
	if (state == PRES_SUB_PENDING) {
		return decision == PRES_UNDECIDED;
	}
	return state == PRES_SUB_ACTIVE &&
	       (decision == PRES_ALLOW || decision == PRES_POLITE_BLOCK);
}

/* The fields both versions check, and the flow: tp and peer only, bound
 * to a listener at its first use (SIP opens them after the services
 * start). @return 0 or EBADMSG. */
static int decoded(struct pres_sub *s, unsigned ev, unsigned state,
		   unsigned decision, unsigned tp, const struct port_addr *peer)
{
	const char *aor = s->presentity_uri + 4;

	s->pkg = pres_pkg_of(ev);
	if (!s->pkg || state > PRES_SUB_TERMINATED ||
	    decision > PRES_POLITE_BLOCK || tp > SIP_TP_TLS ||
	    (peer->family != PORT_AF_INET && peer->family != PORT_AF_INET6) ||
	    strncmp(s->presentity_uri, "sip:", 4) ||
	    !state_ok(s->pkg, state, decision) ||
	    !plain(aor, 0) || !strchr(aor, '@') ||
	    !plain(s->watcher, 0) || !strchr(s->watcher, '@') ||
	    (s->pkg->owner_only && strcmp(s->watcher, aor)) ||
	    !plain(s->callid, 0) || !plain(s->local_tag, 0) ||
	    strchr(s->local_tag, '|') || !plain(s->remote_from, 1) ||
	    !plain(s->contact, 0) || !route_ok(s->route)) {
		return EBADMSG;
	}
	s->state = (enum pres_sub_state)state;
	s->decision = (enum pres_decision)decision;
	memset(&s->flow, 0, sizeof(s->flow));
	s->flow.tp = (enum sip_tp_type)tp;
	s->flow.lidx = -1;
	s->flow.conn = -1;
	s->flow.peer = *peer;
	s->unbound = 1;
	return 0;
}

/* Versions 2 and 3; *until: the expiry as written (before
 * store_time_from_disk()); src gets the source ("" in version 2). */
static int decode_v2(struct pres_sub *s, const char *key, const void *val,
		     size_t vlen, int64_t *until, char *src, size_t src_size)
{
	struct wb_in in = {val, vlen, 0};
	static char cid[CONFIG_SIMPLED_MAX_MSG_SIZE];
	static struct pres_sub_text t;
	char rtag[PRES_TAG_LEN];
	unsigned ev, state, decision, tp, version;
	const unsigned char *ip;
	struct port_addr peer;

	memset(&peer, 0, sizeof(peer));
	version = (unsigned)get_le(&in, 1);
	if (version != WB_V2 && version != WB_V3) {
		return EBADMSG;
	}
	ev = (unsigned)get_le(&in, 1);
	state = (unsigned)get_le(&in, 1);
	decision = (unsigned)get_le(&in, 1);
	tp = (unsigned)get_le(&in, 1);
	peer.family = (uint8_t)get_le(&in, 1);
	peer.port = (uint16_t)get_le(&in, 2);
	ip = take(&in, sizeof(peer.ip));
	if (ip) {
		memcpy(peer.ip, ip, sizeof(peer.ip));
	}
	s->local_cseq = (uint32_t)get_le(&in, 4);
	s->remote_cseq = (uint32_t)get_le(&in, 4);
	s->version = (uint32_t)get_le(&in, 4);
	*until = (int64_t)get_le(&in, 8);
	get_str(&in, cid, sizeof(cid));
	get_str(&in, rtag, sizeof(rtag));
	get_str(&in, t.local_tag, sizeof(t.local_tag));
	get_str(&in, t.remote_from, sizeof(t.remote_from));
	get_str(&in, t.presentity_uri, sizeof(t.presentity_uri));
	get_str(&in, t.watcher, sizeof(t.watcher));
	get_str(&in, t.contact, sizeof(t.contact));
	get_str(&in, t.route, sizeof(t.route));
	src[0] = '\0';
	if (version == WB_V3) {
		get_str(&in, src, src_size);
	}
	if (in.bad || in.left ||
	    pres_sub_key(t.key, sizeof(t.key), sd_pl_str(cid),
			 sd_pl_str(rtag), t.local_tag)) {
		return EBADMSG;
	}
	if (strcmp(t.key, key)) {
		/* A Call-ID too long to be its own key was hashed with the
		 * seed of an earlier run: the record is written again under
		 * today's key and the old one swept. */
		if (strlen(cid) < CONFIG_SIMPLED_MAX_CALLID_LEN) {
			return EBADMSG;
		}
		s->dirty = 1;
	}
	if (pres_sub_set_callid(s, sd_pl_str(cid)) ||
	    pres_sub_set_text(s, &t)) {
		return ENOMEM;
	}
	return decoded(s, ev, state, decision, tp, &peer);
}

static int is_v1(const void *val, size_t vlen)
{
	uint32_t tag;

	if (vlen != sizeof(struct pres_sub_rec_v1)) {
		return 0;
	}
	memcpy(&tag, val, sizeof(tag));
	return tag == PRES_SUB_REC_V1;
}

/* A NUL-terminated string of a version 1 record into buf. */
static int v1_str(char *buf, size_t size, const char *src, size_t ssize)
{
	const char *nul = memchr(src, '\0', ssize);

	if (!nul || (size_t)(nul - src) >= size) {
		return EBADMSG;
	}
	memcpy(buf, src, (size_t)(nul - src) + 1);
	return 0;
}

#define V1_STR(f) v1_str(t.f, sizeof(t.f), r.f, sizeof(r.f))

/* Is key "callid|remote tag|local tag" of this Call-ID and local tag
 * (version 1 had no parts)? */
static int v1_key_fits(const char *callid, const char *local_tag,
		       const char *key)
{
	size_t kl = strlen(key), cl = strlen(callid);
	size_t ll = strlen(local_tag);

	return kl < PRES_KEY_LEN && kl >= cl + ll + 2 &&
	       !strncmp(key, callid, cl) && key[cl] == '|' &&
	       key[kl - ll - 1] == '|' && !strcmp(key + kl - ll, local_tag);
}

static int decode_v1(struct pres_sub *s, const char *key, const void *val,
		     int64_t *until)
{
	static struct pres_sub_rec_v1 r; /* LMDB values are not aligned */
	static struct pres_sub_text t;
	char cid[sizeof(r.callid)];
	struct port_addr peer;

	memcpy(&r, val, sizeof(r));
	if (v1_str(cid, sizeof(cid), r.callid, sizeof(r.callid)) ||
	    V1_STR(local_tag) || V1_STR(remote_from) ||
	    V1_STR(presentity_uri) || V1_STR(watcher) || V1_STR(contact) ||
	    V1_STR(route) || !v1_key_fits(cid, t.local_tag, key) ||
	    r.flow.tp < 0) {
		return EBADMSG;
	}
	strcpy(t.key, key);
	if (pres_sub_set_callid(s, sd_pl_str(cid)) ||
	    pres_sub_set_text(s, &t)) {
		return ENOMEM;
	}
	s->dirty = 1; /* written again as version 3 */
	s->local_cseq = r.local_cseq;
	s->remote_cseq = r.remote_cseq;
	s->version = r.winfo_version;
	*until = r.expires_at;
	memset(&peer, 0, sizeof(peer));
	peer.family = r.flow.peer.family;
	peer.port = r.flow.peer.port;
	memcpy(peer.ip, r.flow.peer.ip, sizeof(peer.ip));
	return decoded(s, r.event, r.state, r.decision, (unsigned)r.flow.tp,
		       &peer);
}

/* ------------------------------------------------------------- restore */

struct wb_restore {
	unsigned restored, migrated;
	unsigned dropped;	/* unknown version or malformed */
	unsigned failed;	/* no room */
	unsigned blocked;	/* blocked by today's rules */
	unsigned uncounted;	/* no room to count its source */
};

static int restore_one(const char *key, const void *val, size_t vlen,
		       void *arg)
{
	struct wb_restore *rs = arg;
	struct pres_sub *s = pres_sub_new();
	struct pres_entity *e = NULL;
	int v1 = is_v1(val, vlen), err;
	int64_t until = 0, left;
	char src[SIP_SOURCE_LEN] = "";

	if (!s) {
		rs->failed++;
		return 0;
	}
	err = v1 ? decode_v1(s, key, val, &until) :
		   decode_v2(s, key, val, vlen, &until, src, sizeof(src));
	left = store_time_from_disk(until) - wall_now();
	if (!err && left > WB_MAX_LEFT) {
		err = EBADMSG;
	}
	if (err == ENOMEM) {
		rs->failed++;
		goto out;
	}
	if (err) {
		rs->dropped++;
		goto out;
	}
	if (left <= 0) {
		goto out; /* expired while we were down */
	}
	if (pres_sub_find(s->key)) {
		rs->dropped++; /* a second record for one dialog */
		goto out;
	}
	e = pres_entity_get(s->presentity_uri + 4, 1);
	if (!e || pres_sub_link(s, e)) {
		rs->failed++;
		goto out;
	}
	/* Counted again (no cap: it was taken); uncounted when the pool
	 * pres_sources is too small now. */
	rs->uncounted += tally_get(&pres_subs_by_source, src, 0, &s->src) != 0;
	pres_sub_arm(s, (uint32_t)left);
	rs->restored++;
	rs->migrated += (unsigned)v1;
	return 0;

out:
	pres_entity_put(e);
	pres_sub_free(s);
	return 0;
}

/* Decide again on a restored watcher (not during the walk: a rule is
 * read in a transaction of its own): today's rules say what it may see.
 * Blocked now, it goes (its refresh will be answered 481). */
static void redecide(struct pres_sub *s, void *arg)
{
	struct wb_restore *rs = arg;
	enum pres_decision d;

	if (s->pkg->owner_only) {
		return;
	}
	d = pres_auth_decide(s->presentity_uri + 4, s->watcher);
	if (d == s->decision) {
		return;
	}
	if (d == PRES_BLOCK) {
		rs->blocked++;
		rs->restored--;
		pres_sub_drop(s);
		return;
	}
	s->decision = d;
	s->state = d == PRES_UNDECIDED ? PRES_SUB_PENDING : PRES_SUB_ACTIVE;
	s->dirty = 1;
}

/* Records not restored (expired, dropped) go after the walk. */
static int sub_stale(const char *key, const void *val, size_t vlen)
{
	(void)val;
	(void)vlen;
	return !pres_sub_find(key);
}

int pres_wb_init(void)
{
	struct wb_restore rs;

	if (!wb_on()) {
		return 0;
	}
	memset(&rs, 0, sizeof(rs));
	store_rec_walk(STORE_PRES_SUB, "", restore_one, &rs);
	pres_subs_walk(redecide, &rs);
	pres_store_sweep(STORE_PRES_SUB, sub_stale);
	pres_subs_walk(flush_one, NULL); /* migrated and re-keyed ones */
	if (rs.dropped) {
		LOG_WRN("%u subscription records dropped: unknown version or "
			"malformed", rs.dropped);
	}
	if (rs.failed) {
		LOG_WRN("%u subscriptions not restored: no room",
			rs.failed);
	}
	if (rs.blocked) {
		LOG_INF("%u subscriptions not restored: the watcher is "
			"blocked now", rs.blocked);
	}
	if (rs.uncounted) {
		LOG_WRN("%u subscriptions restored without counting their "
			"source: raise pres_sources", rs.uncounted);
	}
	if (rs.migrated) {
		LOG_INF("%u subscriptions restored, %u of them migrated from "
			"the version 1 layout", rs.restored, rs.migrated);
	} else if (rs.restored) {
		LOG_INF("%u subscriptions restored", rs.restored);
	}
	tmr_start(&flush_tmr, (uint32_t)pres_cfg.clean_period * 1000u,
		  flush_fire, NULL);
	return 0;
}

void pres_wb_close(void)
{
	tmr_cancel(&flush_tmr);
	if (wb_on()) {
		pres_subs_walk(flush_one, NULL);
	}
}

void pres_wb_forget(const struct pres_sub *s)
{
	if (wb_on()) {
		store_rec_del(STORE_PRES_SUB, s->key);
	}
}
