/** @file store.c  LMDB environment, tables, schema, durability, and the
 * offline-message table (see store.h). Adding a record kind: a new entry
 * in tables[], its key encoding, and typed functions beside store_msg_*.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#define LOG_MODULE "store"
#include "cfg.h"
#include "log.h"
#include "store.h"

enum store_table {
	T_META,
	T_MSG,		/* id -> record */
	T_MSG_OWNER,	/* owner NUL id -> "" (per-owner order, counts) */
	T_MSG_EXP,	/* expires id -> "" */
	T_MSG_SEND,	/* send_at id -> "" (reminders) */
	T_PRES_DOC,	/* store_kind records, in enum store_kind order */
	T_PRES_SUB,
	T_PRES_RULE,
	T_IMC_ROOM,
	T_IMC_MEMBER,
	T__COUNT
};

static const char *const table_names[T__COUNT] = {
	"meta", "msg", "msg_owner", "msg_exp", "msg_send",
	"pres_doc", "pres_sub", "pres_rule", "imc_room", "imc_member",
};

/* Part of the map never filled by new records, so that deletes (which
 * copy pages on write) still work in a full store. */
#define STORE_HEADROOM_PCT 10
#define STORE_HEADROOM_MIN (8 * 4096)

static MDB_env *env;
static size_t map_bytes;
static MDB_dbi dbi[T__COUNT];
static enum store_durability durab;
static unsigned unsynced;
static uint64_t next_id;

static const char *const durab_names[] = {"sync", "batch", NULL};

struct store_cfg store_cfg;
static char map_dflt[16];

#define S struct store_cfg
static struct cfg_opt store_opts[] = {
	CFG_INT_OPT(S, "map_size_kb", map_size_kb, 256,
		    CONFIG_SIMPLED_STORE_MAP_MAX_KB, map_dflt),
	CFG_ENUM_OPT(S, "durability", durability, "sync", durab_names),
	CFG_INT_OPT(S, "batch_ms", batch_ms, 1, 10000, "50"),
};
#undef S

void store_cfg_sect(struct cfg_sect *s)
{
	int d = CONFIG_SIMPLED_STORE_MAP_MAX_KB < 16384 ?
		CONFIG_SIMPLED_STORE_MAP_MAX_KB : 16384;

	snprintf(map_dflt, sizeof(map_dflt), "%d", d);
	s->type = "storage";
	s->opts = store_opts;
	s->nopts = sizeof(store_opts) / sizeof(store_opts[0]);
	s->base = &store_cfg;
}

static int map_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case ENOSPC:
		return ENOSPC;
	case MDB_NOTFOUND:
		return ENOENT;
	case EACCES:
	case EROFS:
	case EPERM:
		return EROFS;
	default:
		return EIO;
	}
}

const char *store_strerror(int err)
{
	switch (err) {
	case ENOSPC: return "store full";
	case EROFS: return "store read-only";
	case EIO: return "store corrupt or failing";
	case ENODEV: return "store not open";
	case EPROTO: return "store schema mismatch";
	case ENOENT: return "no such record";
	default: return strerror(err);
	}
}

int store_is_open(void)
{
	return env != NULL;
}

static int txn_begin(MDB_txn **t, unsigned flags)
{
	if (!env) {
		return ENODEV;
	}
	return map_err(mdb_txn_begin(env, NULL, flags, t));
}

/* Commit when rc is 0, abort otherwise; the LMDB error is mapped. */
static int txn_end(MDB_txn *t, int rc)
{
	if (rc) {
		mdb_txn_abort(t);
		return rc;
	}
	rc = mdb_txn_commit(t);
	if (rc) {
		LOG_ERR("commit failed: %s", mdb_strerror(rc));
		return map_err(rc);
	}
	if (durab == STORE_BATCH) {
		unsynced++;
	}
	return 0;
}

static int put(MDB_txn *t, enum store_table tb, const void *k, size_t kl,
	       const void *v, size_t vl)
{
	MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
	int rc = mdb_put(t, dbi[tb], &key, &val, 0);

	if (rc) {
		if (rc == MDB_MAP_FULL) {
			LOG_WRN("store full (map_size_kb %d)",
				store_cfg.map_size_kb);
		}
		return map_err(rc);
	}
	return 0;
}

static int del(MDB_txn *t, enum store_table tb, const void *k, size_t kl)
{
	MDB_val key = {kl, (void *)k};
	int rc = mdb_del(t, dbi[tb], &key, NULL);

	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

static void be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

/* Times are stored offset so that negative values still sort. */
static uint64_t time_key(int64_t t)
{
	return (uint64_t)t ^ (UINT64_C(1) << 63);
}

static int check_schema(void)
{
	MDB_txn *t;
	MDB_val k = {6, "schema"}, v;
	uint32_t schema = STORE_SCHEMA;
	int rc = txn_begin(&t, 0);

	if (rc) {
		return rc;
	}
	rc = mdb_get(t, dbi[T_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = put(t, T_META, "schema", 6, &schema, sizeof(schema));
		return txn_end(t, rc);
	}
	if (rc || v.mv_size != sizeof(schema)) {
		mdb_txn_abort(t);
		return EIO;
	}
	memcpy(&schema, v.mv_data, sizeof(schema));
	mdb_txn_abort(t);
	if (schema != STORE_SCHEMA) {
		LOG_ERR("store has schema %u, this build reads schema %u",
			schema, STORE_SCHEMA);
		return EPROTO;
	}
	return 0;
}

static int load_next_id(void)
{
	MDB_txn *t;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = txn_begin(&t, MDB_RDONLY);

	if (rc) {
		return rc;
	}
	next_id = 1;
	rc = mdb_cursor_open(t, dbi[T_MSG], &c);
	if (!rc) {
		if (!mdb_cursor_get(c, &k, &v, MDB_LAST) && k.mv_size == 8) {
			next_id = get_be64(k.mv_data) + 1;
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(t);
	return map_err(rc);
}

int store_open(const char *dir, size_t map_size,
	       enum store_durability durability)
{
	unsigned flags = durability == STORE_BATCH ? MDB_NOSYNC : 0;
	MDB_txn *t;
	int rc, i;

	if (env) {
		return EALREADY;
	}
	rc = mdb_env_create(&env);
	if (!rc) {
		rc = mdb_env_set_maxdbs(env, T__COUNT);
	}
	if (!rc) {
		rc = mdb_env_set_mapsize(env, map_size);
	}
	if (!rc) {
		rc = mdb_env_open(env, dir, flags, 0600);
	}
	if (rc) {
		LOG_ERR("cannot open store in %s: %s", dir, mdb_strerror(rc));
		mdb_env_close(env);
		env = NULL;
		return map_err(rc);
	}
	durab = durability;
	unsynced = 0;
	map_bytes = map_size;
	rc = map_err(mdb_txn_begin(env, NULL, 0, &t));
	for (i = 0; !rc && i < T__COUNT; i++) {
		rc = map_err(mdb_dbi_open(t, table_names[i], MDB_CREATE,
					  &dbi[i]));
	}
	if (!rc) {
		rc = map_err(mdb_txn_commit(t));
	} else {
		mdb_txn_abort(t);
	}
	if (!rc) {
		rc = check_schema();
	}
	if (!rc) {
		rc = load_next_id();
	}
	if (rc) {
		LOG_ERR("store in %s unusable: %s", dir, store_strerror(rc));
		mdb_env_close(env);
		env = NULL;
		return rc;
	}
	LOG_INF("store %s open (%zu KiB map, %s)", dir, map_size / 1024,
		durability == STORE_BATCH ? "batch" : "sync");
	return 0;
}

void store_close(void)
{
	if (!env) {
		return;
	}
	store_sync();
	mdb_env_close(env);
	env = NULL;
}

int store_sync(void)
{
	int rc;

	if (!env) {
		return ENODEV;
	}
	if (!unsynced) {
		return 0;
	}
	rc = mdb_env_sync(env, 1);
	if (rc) {
		LOG_ERR("sync failed: %s", mdb_strerror(rc));
		return map_err(rc);
	}
	unsynced = 0;
	return 0;
}

unsigned store_unsynced(void)
{
	return unsynced;
}

size_t store_bytes_used(void)
{
	MDB_envinfo info;
	MDB_stat st;

	if (!env || mdb_env_info(env, &info) || mdb_env_stat(env, &st)) {
		return 0;
	}
	return (info.me_last_pgno + 1) * (size_t)st.ms_psize;
}

/* ------------------------------------------------------ offline messages */

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

static int msg_decode(const MDB_val *k, const MDB_val *v,
		      struct store_msg *m)
{
	struct msg_rec r;
	const char *p;
	const char **f[6];
	size_t off;
	int i;

	if (k->mv_size != 8 || v->mv_size < sizeof(r)) {
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
	m->id = get_be64(k->mv_data);
	m->body = p + off;
	m->blen = r.blen;
	m->arrival = r.arrival;
	m->expires = r.expires;
	m->send_at = r.send_at;
	m->tries = r.tries;
	return 0;
}

static int index_keys(const struct store_msg *m, uint8_t *ok, size_t *okl,
		      uint8_t *ek, uint8_t *sk)
{
	size_t ol = strlen(m->owner);

	if (ol + 9 > *okl) {
		return EINVAL;
	}
	memcpy(ok, m->owner, ol);
	ok[ol] = 0;
	be64(ok + ol + 1, m->id);
	*okl = ol + 9;
	be64(ek, time_key(m->expires));
	be64(ek + 8, m->id);
	be64(sk, time_key(m->send_at));
	be64(sk + 8, m->id);
	return 0;
}

int store_msg_put(struct store_msg *m)
{
	const char *fields[6] = {m->owner, m->from, m->to,
				 m->ctype ? m->ctype : "",
				 m->callid ? m->callid : "",
				 m->extra ? m->extra : ""};
	struct msg_rec r;
	uint8_t key[8], ok[CONFIG_SIMPLED_STORE_MAX_FIELD + 9], ek[16], sk[16];
	size_t total = sizeof(r), okl = sizeof(ok), off;
	MDB_txn *t;
	MDB_val k = {8, key}, v;
	int rc, i;

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
		total += l;
	}
	total += m->blen;
	if (m->blen > CONFIG_SIMPLED_MAX_MSG_SIZE) {
		return EINVAL;
	}
	if (env) {
		size_t room = map_bytes / 100 * STORE_HEADROOM_PCT;

		if (room < STORE_HEADROOM_MIN) {
			room = STORE_HEADROOM_MIN;
		}
		/* A record may take twice its size in pages and indexes. */
		if (store_bytes_used() + 2 * total + room > map_bytes) {
			LOG_WRN("store full (map_size_kb %zu)",
				map_bytes / 1024);
			return ENOSPC;
		}
	}
	rc = txn_begin(&t, 0);
	if (rc) {
		return rc;
	}
	m->id = next_id;
	be64(key, m->id);
	rc = index_keys(m, ok, &okl, ek, sk);
	if (rc) {
		mdb_txn_abort(t);
		return rc;
	}
	/* Reserve the record in place and write it there. */
	v.mv_size = total;
	rc = map_err(mdb_put(t, dbi[T_MSG], &k, &v, MDB_RESERVE));
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
		rc = put(t, T_MSG_OWNER, ok, okl, "", 0);
	} else if (rc == ENOSPC) {
		LOG_WRN("store full (map_size_kb %d)", store_cfg.map_size_kb);
	}
	if (!rc) {
		rc = put(t, T_MSG_EXP, ek, 16, "", 0);
	}
	if (!rc && m->send_at) {
		rc = put(t, T_MSG_SEND, sk, 16, "", 0);
	}
	rc = txn_end(t, rc);
	if (!rc) {
		next_id++;
	}
	return rc;
}

static int msg_del_in(MDB_txn *t, const struct store_msg *m)
{
	uint8_t key[8], ok[CONFIG_SIMPLED_STORE_MAX_FIELD + 9], ek[16], sk[16];
	size_t okl = sizeof(ok);
	int rc = index_keys(m, ok, &okl, ek, sk);

	be64(key, m->id);
	if (!rc) {
		rc = del(t, T_MSG_OWNER, ok, okl);
	}
	if (!rc) {
		rc = del(t, T_MSG_EXP, ek, 16);
	}
	if (!rc && m->send_at) {
		rc = del(t, T_MSG_SEND, sk, 16);
	}
	if (!rc) {
		rc = del(t, T_MSG, key, 8);
	}
	return rc;
}

static int msg_read(MDB_txn *t, uint64_t id, struct store_msg *m,
		    MDB_val *v)
{
	uint8_t key[8];
	MDB_val k = {8, key};
	int rc;

	be64(key, id);
	rc = mdb_get(t, dbi[T_MSG], &k, v);
	if (rc) {
		return map_err(rc);
	}
	return msg_decode(&k, v, m);
}

int store_msg_del(uint64_t id)
{
	struct store_msg m;
	MDB_txn *t;
	MDB_val v;
	int rc = txn_begin(&t, 0);

	if (rc) {
		return rc;
	}
	rc = msg_read(t, id, &m, &v);
	if (!rc) {
		rc = msg_del_in(t, &m);
	}
	return txn_end(t, rc);
}

int store_msg_update(uint64_t id, uint32_t tries, int64_t send_at)
{
	struct store_msg m;
	struct msg_rec r;
	uint8_t key[8], sk[16];
	MDB_txn *t;
	MDB_val v;
	/* LMDB's pages are read-only: records are rewritten from a copy. */
	static char copy[sizeof(struct msg_rec) + CONFIG_SIMPLED_MAX_MSG_SIZE +
			 6 * CONFIG_SIMPLED_STORE_MAX_FIELD];
	int rc = txn_begin(&t, 0);

	if (rc) {
		return rc;
	}
	rc = msg_read(t, id, &m, &v);
	if (!rc && v.mv_size > sizeof(copy)) {
		rc = EIO;
	}
	if (!rc) {
		memcpy(copy, v.mv_data, v.mv_size);
		memcpy(&r, copy, sizeof(r));
		if (m.send_at && m.send_at != send_at) {
			be64(sk, time_key(m.send_at));
			be64(sk + 8, id);
			rc = del(t, T_MSG_SEND, sk, 16);
		}
		if (!rc && send_at && send_at != m.send_at) {
			be64(sk, time_key(send_at));
			be64(sk + 8, id);
			rc = put(t, T_MSG_SEND, sk, 16, "", 0);
		}
		r.tries = tries;
		r.send_at = send_at;
		memcpy(copy, &r, sizeof(r));
		be64(key, id);
		if (!rc) {
			rc = put(t, T_MSG, key, 8, copy, v.mv_size);
		}
	}
	return txn_end(t, rc);
}

int store_msg_list(const char *owner, store_msg_h *h, void *arg)
{
	size_t ol = strlen(owner);
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val k, v;
	int rc = txn_begin(&t, MDB_RDONLY), op = MDB_SET_RANGE;

	if (rc) {
		return rc;
	}
	rc = map_err(mdb_cursor_open(t, dbi[T_MSG_OWNER], &c));
	if (rc) {
		mdb_txn_abort(t);
		return rc;
	}
	k.mv_size = ol + 1;
	k.mv_data = (void *)owner; /* owner NUL sorts before owner NUL id */
	while (!mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op)) {
		struct store_msg m;
		MDB_val mv;

		op = MDB_NEXT;
		if (k.mv_size != ol + 9 || memcmp(k.mv_data, owner, ol + 1)) {
			break;
		}
		if (msg_read(t, get_be64((uint8_t *)k.mv_data + ol + 1), &m,
			     &mv)) {
			continue;
		}
		if (h(&m, arg)) {
			break;
		}
	}
	mdb_cursor_close(c);
	mdb_txn_abort(t);
	return 0;
}

static int count_one(const struct store_msg *m, void *arg)
{
	(void)m;
	(*(unsigned *)arg)++;
	return 0;
}

unsigned store_msg_count(const char *owner)
{
	unsigned n = 0;

	store_msg_list(owner, count_one, &n);
	return n;
}

unsigned store_msg_total(void)
{
	MDB_txn *t;
	MDB_stat st;
	unsigned n = 0;

	if (txn_begin(&t, MDB_RDONLY)) {
		return 0;
	}
	if (!mdb_stat(t, dbi[T_MSG], &st)) {
		n = (unsigned)st.ms_entries;
	}
	mdb_txn_abort(t);
	return n;
}

/* Walk an index of (time, id) keys up to now; delete when del is set. */
static int walk_time_index(enum store_table tb, int64_t now, unsigned max,
			   int delete_msgs, store_msg_h *h, void *arg,
			   unsigned *n)
{
	uint64_t ids[64];
	unsigned found = 0, i;
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val k, v;
	int rc, op = MDB_FIRST;

	if (max > 64) {
		max = 64;
	}
	rc = txn_begin(&t, delete_msgs ? 0 : MDB_RDONLY);
	if (rc) {
		return rc;
	}
	rc = map_err(mdb_cursor_open(t, dbi[tb], &c));
	if (rc) {
		mdb_txn_abort(t);
		return rc;
	}
	while (found < max &&
	       !mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op)) {
		op = MDB_NEXT;
		if (k.mv_size != 16 ||
		    get_be64(k.mv_data) > time_key(now)) {
			break;
		}
		ids[found++] = get_be64((uint8_t *)k.mv_data + 8);
	}
	mdb_cursor_close(c);
	for (i = 0; !rc && i < found; i++) {
		struct store_msg m;
		MDB_val mv;

		if (msg_read(t, ids[i], &m, &mv)) {
			continue;
		}
		if (h) {
			h(&m, arg);
		}
		if (delete_msgs) {
			rc = msg_del_in(t, &m);
		}
	}
	if (n) {
		*n = rc ? 0 : found;
	}
	if (!delete_msgs || (!rc && !found)) {
		mdb_txn_abort(t);
		return rc;
	}
	return txn_end(t, rc);
}

int store_msg_expire(int64_t now, unsigned max, store_msg_h *h, void *arg,
		     unsigned *n)
{
	return walk_time_index(T_MSG_EXP, now, max, 1, h, arg, n);
}

int store_msg_due(int64_t now, unsigned max, store_msg_h *h, void *arg)
{
	return walk_time_index(T_MSG_SEND, now, max, 0, h, arg, NULL);
}

int64_t store_msg_next_due(void)
{
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val k, v;
	int64_t when = 0;

	if (txn_begin(&t, MDB_RDONLY)) {
		return 0;
	}
	if (!mdb_cursor_open(t, dbi[T_MSG_SEND], &c)) {
		if (!mdb_cursor_get(c, &k, &v, MDB_FIRST) && k.mv_size == 16) {
			when = (int64_t)(get_be64(k.mv_data) ^
					 (UINT64_C(1) << 63));
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(t);
	return when;
}

/* ---------------------------------------------------------- kv records */

static MDB_dbi kind_dbi(enum store_kind k)
{
	return dbi[T_PRES_DOC + (int)k];
}

int store_rec_put(enum store_kind k, const char *key, const void *val,
		  size_t vlen)
{
	MDB_val mk = {strlen(key), (void *)key}, mv = {vlen, (void *)val};
	MDB_txn *t;
	int rc;

	if (k >= STORE_KIND__COUNT || !mk.mv_size || vlen > STORE_REC_MAX) {
		return EINVAL;
	}
	if (env && store_bytes_used() + 2 * (vlen + mk.mv_size) +
	    map_bytes / 100 * STORE_HEADROOM_PCT > map_bytes) {
		LOG_WRN("store full (map_size_kb %zu)", map_bytes / 1024);
		return ENOSPC;
	}
	rc = txn_begin(&t, 0);
	if (rc) {
		return rc;
	}
	rc = map_err(mdb_put(t, kind_dbi(k), &mk, &mv, 0));
	return txn_end(t, rc);
}

int store_rec_del(enum store_kind k, const char *key)
{
	MDB_txn *t;
	int rc;

	if (k >= STORE_KIND__COUNT) {
		return EINVAL;
	}
	rc = txn_begin(&t, 0);
	if (rc) {
		return rc;
	}
	rc = del(t, (enum store_table)(T_PRES_DOC + (int)k), key, strlen(key));
	return txn_end(t, rc);
}

int store_rec_get(enum store_kind k, const char *key, void *buf,
		  size_t size, size_t *vlen)
{
	MDB_val mk = {strlen(key), (void *)key}, mv;
	MDB_txn *t;
	int rc;

	if (k >= STORE_KIND__COUNT) {
		return EINVAL;
	}
	rc = txn_begin(&t, MDB_RDONLY);
	if (rc) {
		return rc;
	}
	rc = map_err(mdb_get(t, kind_dbi(k), &mk, &mv));
	if (!rc && mv.mv_size > size) {
		rc = EMSGSIZE;
	}
	if (!rc) {
		memcpy(buf, mv.mv_data, mv.mv_size);
		*vlen = mv.mv_size;
	}
	mdb_txn_abort(t);
	return rc;
}

int store_rec_walk(enum store_kind k, const char *prefix, store_rec_h *h,
		   void *arg)
{
	static char key[1024];
	size_t pl = strlen(prefix);
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val mk = {pl, (void *)prefix}, mv;
	MDB_cursor_op op = pl ? MDB_SET_RANGE : MDB_FIRST;
	int rc;

	if (k >= STORE_KIND__COUNT) {
		return EINVAL;
	}
	rc = txn_begin(&t, MDB_RDONLY);
	if (rc) {
		return rc;
	}
	rc = map_err(mdb_cursor_open(t, kind_dbi(k), &c));
	if (rc) {
		mdb_txn_abort(t);
		return rc;
	}
	while (!mdb_cursor_get(c, &mk, &mv, op)) {
		op = MDB_NEXT;
		if (mk.mv_size < pl || memcmp(mk.mv_data, prefix, pl)) {
			break;
		}
		if (mk.mv_size >= sizeof(key)) {
			continue;
		}
		memcpy(key, mk.mv_data, mk.mv_size);
		key[mk.mv_size] = '\0';
		if (h(key, mv.mv_data, mv.mv_size, arg)) {
			break;
		}
	}
	mdb_cursor_close(c);
	mdb_txn_abort(t);
	return 0;
}
