/** @file store_msg.c  Offline messages (see store.h): one LMDB table keyed
 * by owner, NUL, and an 8-byte increasing id, so that an owner's messages
 * are adjacent and in arrival order, and a stored message touches one
 * tree. What the expiry purge and the reminders need (per owner: how many
 * messages, the earliest expiry and reminder) is kept in memory, rebuilt
 * from the table at open.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "store"
#include "log.h"
#include "sd_hash.h"
#include "store_priv.h"

#define MOD_DEF "store.def"
#include "mod_decl.h"

struct msg_rec {
	uint32_t version;
	uint32_t tries;
	int64_t arrival;
	int64_t expires;
	int64_t send_at;
	uint32_t len[6];	/* owner from to ctype callid extra, with NUL */
	uint32_t blen;
};

#define MSG_REC_V1 0x4d530001u
/* Longest owner in a key (LMDB keys are at most 511 bytes). */
#define MSG_OWNER_MAX 400
#define MSG_KEY_MAX (MSG_OWNER_MAX + 1 + 8)

/* An owner with waiting messages. The earliest times may be early (a
 * message went since): a walk that finds nothing sets them again. */
struct msg_owner {
	UT_hash_handle hh;
	unsigned count;
	int64_t first_expiry;
	int64_t first_due;	/* earliest reminder, 0 none */
	char name[MSG_OWNER_MAX + 1];
};

static struct msg_owner *owners;
static unsigned total;
static uint64_t next_id;

static int msg_decode(const MDB_val *k, const MDB_val *v,
		      struct store_msg *m)
{
	struct msg_rec r;
	const char *p;
	const char **f[6];
	size_t off;
	int i;

	if (k->mv_size < 10 || v->mv_size < sizeof(r)) {
		return EIO;
	}
	memcpy(&r, v->mv_data, sizeof(r));
	if (r.version != MSG_REC_V1) {
		return EIO;
	}
	f[0] = &m->owner;
	f[1] = &m->from;
	f[2] = &m->to;
	f[3] = &m->ctype;
	f[4] = &m->callid;
	f[5] = &m->extra;
	p = (const char *)v->mv_data;
	off = sizeof(r);
	for (i = 0; i < 6; i++) {
		if (!r.len[i] || off + r.len[i] > v->mv_size ||
		    p[off + r.len[i] - 1]) {
			return EIO;
		}
		*f[i] = p + off;
		off += r.len[i];
	}
	if (off + r.blen != v->mv_size) {
		return EIO;
	}
	m->id = store_get_be64((const uint8_t *)k->mv_data + k->mv_size - 8);
	m->body = p + off;
	m->blen = r.blen;
	m->arrival = r.arrival;
	m->expires = r.expires;
	m->send_at = r.send_at;
	m->tries = r.tries;
	return 0;
}

/* "owner NUL id" into key. @return its length, 0 when owner is too long.*/
static size_t msg_key(uint8_t *key, const char *owner, uint64_t id)
{
	size_t ol = strlen(owner);

	if (!ol || ol > MSG_OWNER_MAX) {
		return 0;
	}
	memcpy(key, owner, ol + 1);
	store_be64(key + ol + 1, id);
	return ol + 9;
}

/* ------------------------------------------------------------ the index */

static struct msg_owner *owner_find(const char *name)
{
	struct msg_owner *o;

	HASH_FIND_STR(owners, name, o);
	return o;
}

static void owner_note(struct msg_owner *o, int64_t expires,
		       int64_t send_at)
{
	if (!o->first_expiry || expires < o->first_expiry) {
		o->first_expiry = expires;
	}
	if (send_at && (!o->first_due || send_at < o->first_due)) {
		o->first_due = send_at;
	}
}

/* The index entry of name, made when missing. @return NULL when the pool
 * or the budget is spent. */
static struct msg_owner *owner_get(const char *name)
{
	struct msg_owner *o = owner_find(name);

	if (o) {
		return o;
	}
	o = pool_get(&store_owner_pool);
	if (!o) {
		LOG_WRN("no room to index another owner (store_owners)");
		return NULL;
	}
	snprintf(o->name, sizeof(o->name), "%s", name);
	sd_hash_oom = 0;
	HASH_ADD_STR(owners, name, o);
	if (sd_hash_oom) {
		pool_put(&store_owner_pool, o);
		return NULL;
	}
	return o;
}

static void owner_drop(struct msg_owner *o)
{
	HASH_DEL(owners, o);
	pool_put(&store_owner_pool, o);
}

static int owner_rescan_one(const struct store_msg *m, void *arg)
{
	struct msg_owner *o = arg;

	owner_note(o, m->expires, m->send_at);
	return 0;
}

static int store_msg_walk(const char *owner, store_msg_h *h, void *arg);

/* Set the owner's earliest times again from its messages. */
static void owner_rescan(struct msg_owner *o)
{
	o->first_expiry = 0;
	o->first_due = 0;
	store_msg_walk(o->name, owner_rescan_one, o);
}

/* One message of the owner is gone. */
static void owner_less(const char *name)
{
	struct msg_owner *o = owner_find(name);

	if (o) {
		total--;
		if (!--o->count) {
			owner_drop(o);
		}
	}
}

/* Rebuild the index and the next id from the table. */
static int index_load(void)
{
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val k, v;
	int rc = store_cursor_begin(T_MSG, MDB_RDONLY, &t, &c);

	if (rc) {
		return rc;
	}
	while (!rc && !mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct store_msg m;
		struct msg_owner *o;

		if (msg_decode(&k, &v, &m)) {
			LOG_WRN("unreadable message record skipped");
			continue;
		}
		o = owner_get(m.owner);
		if (!o) {
			rc = ENOSPC;
			break;
		}
		o->count++;
		total++;
		owner_note(o, m.expires, m.send_at);
		if (m.id >= next_id) {
			next_id = m.id + 1;
		}
	}
	mdb_cursor_close(c);
	store_txn_abort(t);
	return rc;
}

int store_msg_open(void)
{
	int rc = pool_setup(&store_owner_pool, sizeof(struct msg_owner));

	if (rc) {
		return rc;
	}
	owners = NULL;
	total = 0;
	next_id = 1;
	rc = index_load();
	if (rc) {
		LOG_ERR("cannot index the waiting messages: %s",
			store_strerror(rc));
		store_msg_close();
	}
	return rc;
}

static void index_drop(void)
{
	struct msg_owner *o, *tmp;

	HASH_ITER(hh, owners, o, tmp) {
		owner_drop(o);
	}
	total = 0;
}

void store_msg_close(void)
{
	index_drop();
	pool_release(&store_owner_pool);
}

void store_msg_reindex(void)
{
	index_drop();
	if (index_load()) {
		LOG_ERR("cannot index the waiting messages again");
	}
}

/* ------------------------------------------------------------ messages */

int store_msg_put(struct store_msg *m)
{
	const char *fields[6] = {m->owner, m->from, m->to,
				 m->ctype ? m->ctype : "",
				 m->callid ? m->callid : "",
				 m->extra ? m->extra : ""};
	struct msg_rec r;
	struct msg_owner *o;
	uint8_t key[MSG_KEY_MAX];
	size_t total_len = sizeof(r), off, kl;
	MDB_txn *t;
	MDB_val k, v;
	int rc, i;

	if (!store_env) {
		return ENODEV;
	}
	memset(&r, 0, sizeof(r));
	r.version = MSG_REC_V1;
	r.tries = m->tries;
	r.arrival = m->arrival;
	r.expires = m->expires;
	r.send_at = m->send_at;
	r.blen = (uint32_t)m->blen;
	for (i = 0; i < 6; i++) {
		size_t l = strlen(fields[i]) + 1;

		if (l > CONFIG_SIMPLED_STORE_MAX_FIELD) {
			return EINVAL;
		}
		r.len[i] = (uint32_t)l;
		total_len += l;
	}
	total_len += m->blen;
	kl = msg_key(key, m->owner, next_id);
	if (m->blen > CONFIG_SIMPLED_MAX_MSG_SIZE || !kl) {
		return EINVAL;
	}
	if (!store_has_room(2 * (total_len + kl))) {
		return ENOSPC;
	}
	o = owner_get(m->owner);
	if (!o) {
		return ENOSPC;
	}
	rc = store_txn_begin(&t, 0);
	if (!rc) {
		/* Reserve the record in place and write it there. */
		k.mv_size = kl;
		k.mv_data = key;
		v.mv_size = total_len;
		rc = store_map_err(mdb_put(t, store_dbi[T_MSG], &k, &v,
					   MDB_RESERVE));
		if (!rc) {
			char *p = v.mv_data;

			memcpy(p, &r, sizeof(r));
			off = sizeof(r);
			for (i = 0; i < 6; i++) {
				memcpy(p + off, fields[i], r.len[i]);
				off += r.len[i];
			}
			if (m->blen) {
				memcpy(p + off, m->body, m->blen);
			}
		}
		rc = store_txn_end(t, rc);
	}
	if (rc) {
		if (!o->count) {
			owner_drop(o);
		}
		return rc;
	}
	m->id = next_id++;
	o->count++;
	total++;
	owner_note(o, m->expires, m->send_at);
	return 0;
}

int store_msg_del(const char *owner, uint64_t id)
{
	uint8_t key[MSG_KEY_MAX];
	size_t kl = msg_key(key, owner, id);
	MDB_val k = {kl, key};
	MDB_txn *t;
	int rc;

	if (!kl) {
		return EINVAL;
	}
	rc = store_txn_begin(&t, 0);
	if (rc) {
		return rc;
	}
	rc = mdb_del(t, store_dbi[T_MSG], &k, NULL);
	if (rc == MDB_NOTFOUND) {
		store_txn_abort(t);
		return ENOENT;
	}
	rc = store_txn_end(t, store_map_err(rc));
	if (!rc) {
		owner_less(owner);
	}
	return rc;
}

int store_msg_update(const char *owner, uint64_t id, uint32_t tries,
		     int64_t send_at)
{
	uint8_t key[MSG_KEY_MAX];
	size_t kl = msg_key(key, owner, id);
	MDB_val k = {kl, key}, v;
	struct msg_rec r;
	struct msg_owner *o;
	MDB_txn *t;
	/* LMDB's pages are read-only: records are rewritten from a copy. */
	static char copy[sizeof(struct msg_rec) + CONFIG_SIMPLED_MAX_MSG_SIZE +
			 6 * CONFIG_SIMPLED_STORE_MAX_FIELD];
	int rc;

	if (!kl) {
		return EINVAL;
	}
	rc = store_txn_begin(&t, 0);
	if (rc) {
		return rc;
	}
	rc = store_map_err(mdb_get(t, store_dbi[T_MSG], &k, &v));
	if (!rc && (v.mv_size > sizeof(copy) || v.mv_size < sizeof(r))) {
		rc = EIO;
	}
	if (!rc) {
		memcpy(copy, v.mv_data, v.mv_size);
		memcpy(&r, copy, sizeof(r));
		r.tries = tries;
		r.send_at = send_at;
		memcpy(copy, &r, sizeof(r));
		rc = store_put(t, T_MSG, key, kl, copy, v.mv_size);
	}
	rc = store_txn_end(t, rc);
	o = owner_find(owner);
	if (!rc && o) {
		owner_rescan(o);
	}
	return rc;
}

int store_msg_list(const char *owner, store_msg_h *h, void *arg)
{
	return store_msg_walk(owner, h, arg);
}

static int store_msg_walk(const char *owner, store_msg_h *h, void *arg)
{
	size_t ol = strlen(owner);
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val k, v;
	int rc = store_cursor_begin(T_MSG, MDB_RDONLY, &t, &c);
	int op = MDB_SET_RANGE;

	if (rc) {
		return rc;
	}
	k.mv_size = ol + 1;
	k.mv_data = (void *)owner; /* owner NUL sorts before owner NUL id */
	while (!mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op)) {
		struct store_msg m;

		op = MDB_NEXT;
		if (k.mv_size != ol + 9 || memcmp(k.mv_data, owner, ol + 1)) {
			break;
		}
		if (msg_decode(&k, &v, &m)) {
			continue;
		}
		if (h(&m, arg)) {
			break;
		}
	}
	mdb_cursor_close(c);
	store_txn_abort(t);
	return 0;
}

unsigned store_msg_count(const char *owner)
{
	struct msg_owner *o = owner_find(owner);

	return o ? o->count : 0;
}

unsigned store_msg_total(void)
{
	return total;
}

/* ------------------------------------------------ expiry and reminders */

/* Owners whose earliest expiry (purge) or reminder (due) is at now. */
struct sweep {
	int64_t now;
	int purge;
	unsigned max;
	unsigned done;
	store_msg_h *h;
	void *arg;
	/* Of the owner being walked: */
	struct msg_owner *o;
	int64_t first_expiry, first_due;
	uint64_t gone[64];
	unsigned n_gone;
};

static int sweep_one(const struct store_msg *m, void *arg)
{
	struct sweep *s = arg;
	int hit = s->purge ? m->expires <= s->now :
		  m->send_at && m->send_at <= s->now;

	if (hit && s->done < s->max) {
		s->done++;
		if (s->h) {
			s->h(m, s->arg);
		}
		if (s->purge) {
			s->gone[s->n_gone++] = m->id;
			return 0;
		}
	}
	/* What stays sets the owner's earliest times again. */
	if (!s->first_expiry || m->expires < s->first_expiry) {
		s->first_expiry = m->expires;
	}
	if (m->send_at && (!s->first_due || m->send_at < s->first_due)) {
		s->first_due = m->send_at;
	}
	return 0;
}

static int sweep(struct sweep *s)
{
	struct msg_owner *o, *tmp;
	unsigned i;
	int rc = 0;

	if (s->max > 64) {
		s->max = 64;
	}
	HASH_ITER(hh, owners, o, tmp) {
		int64_t first = s->purge ? o->first_expiry : o->first_due;
		char name[MSG_OWNER_MAX + 1];

		if (s->done >= s->max) {
			break;
		}
		if (!first || first > s->now) {
			continue;
		}
		s->first_expiry = 0;
		s->first_due = 0;
		s->n_gone = 0;
		rc = store_msg_list(o->name, sweep_one, s);
		o->first_expiry = s->first_expiry;
		o->first_due = s->first_due;
		/* Deleting may free o: work on a copy of its name. */
		snprintf(name, sizeof(name), "%s", o->name);
		for (i = 0; !rc && i < s->n_gone; i++) {
			rc = store_msg_del(name, s->gone[i]);
		}
		if (rc) {
			break;
		}
	}
	return rc;
}

int store_msg_expire(int64_t now, unsigned max, store_msg_h *h, void *arg,
		     unsigned *n)
{
	struct sweep s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.now = now;
	s.purge = 1;
	s.max = max;
	s.h = h;
	s.arg = arg;
	rc = sweep(&s);
	if (n) {
		*n = rc ? 0 : s.done;
	}
	return rc;
}

int store_msg_due(int64_t now, unsigned max, store_msg_h *h, void *arg)
{
	struct sweep s;

	memset(&s, 0, sizeof(s));
	s.now = now;
	s.max = max;
	s.h = h;
	s.arg = arg;
	return sweep(&s);
}

int64_t store_msg_next_due(void)
{
	struct msg_owner *o, *tmp;
	int64_t when = 0;

	HASH_ITER(hh, owners, o, tmp) {
		if (o->first_due && (!when || o->first_due < when)) {
			when = o->first_due;
		}
	}
	return when;
}

/* --------------------------------------------------------- schema 1 */

/* Schema 1 kept messages by id in "msg" with three index tables; copy
 * them into the owner-keyed table and drop the old tables. Runs inside
 * the open group (one transaction with the new schema number). */
int store_msg_migrate_v1(MDB_txn *t, unsigned *moved)
{
	static const char *const old[] = {"msg", "msg_owner", "msg_exp",
					  "msg_send"};
	MDB_dbi dbi[4];
	MDB_cursor *c;
	MDB_val k, v;
	unsigned i;
	int rc;

	*moved = 0;
	for (i = 0; i < 4; i++) {
		rc = mdb_dbi_open(t, old[i], 0, &dbi[i]);
		if (rc) {
			return rc == MDB_NOTFOUND ? 0 : store_map_err(rc);
		}
	}
	rc = store_map_err(mdb_cursor_open(t, dbi[0], &c));
	while (!rc && !mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t key[MSG_KEY_MAX];
		struct msg_rec r;
		size_t kl;

		/* The record starts with the owner, right after its header. */
		if (k.mv_size != 8 || v.mv_size < sizeof(r)) {
			continue;
		}
		memcpy(&r, v.mv_data, sizeof(r));
		if (r.version != MSG_REC_V1 || !r.len[0] ||
		    sizeof(r) + r.len[0] > v.mv_size ||
		    ((const char *)v.mv_data)[sizeof(r) + r.len[0] - 1]) {
			continue;
		}
		kl = msg_key(key, (const char *)v.mv_data + sizeof(r),
			     store_get_be64(k.mv_data));
		if (kl) {
			rc = store_put(t, T_MSG, key, kl, v.mv_data,
				       v.mv_size);
			(*moved)++;
		}
	}
	mdb_cursor_close(c);
	for (i = 0; !rc && i < 4; i++) {
		rc = store_map_err(mdb_drop(t, dbi[i], 1));
	}
	return rc;
}
