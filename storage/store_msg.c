/** @file store_msg.c  The offline-message table and its owner, expiry
 * and reminder indexes (see store.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "store"
#include "log.h"
#include "store_priv.h"

static uint64_t next_id;

int store_msg_load(void)
{
	MDB_txn *t;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = store_cursor_begin(T_MSG, MDB_RDONLY, &t, &c);

	if (rc) {
		return rc;
	}
	next_id = 1;
	if (!mdb_cursor_get(c, &k, &v, MDB_LAST) && k.mv_size == 8) {
		next_id = store_get_be64(k.mv_data) + 1;
	}
	mdb_cursor_close(c);
	store_txn_abort(t);
	return 0;
}

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
	m->id = store_get_be64(k->mv_data);
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
	store_be64(ok + ol + 1, m->id);
	*okl = ol + 9;
	store_be64(ek, store_time_key(m->expires));
	store_be64(ek + 8, m->id);
	store_be64(sk, store_time_key(m->send_at));
	store_be64(sk + 8, m->id);
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
	if (!store_has_room(2 * total)) {
		return ENOSPC;
	}
	rc = store_txn_begin(&t, 0);
	if (rc) {
		return rc;
	}
	m->id = next_id;
	store_be64(key, m->id);
	rc = index_keys(m, ok, &okl, ek, sk);
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	/* Reserve the record in place and write it there. */
	v.mv_size = total;
	rc = store_map_err(mdb_put(t, store_dbi[T_MSG], &k, &v, MDB_RESERVE));
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
		rc = store_put(t, T_MSG_OWNER, ok, okl, "", 0);
	} else if (rc == ENOSPC) {
		LOG_WRN("store full (map_size_kb %d)", store_cfg.map_size_kb);
	}
	if (!rc) {
		rc = store_put(t, T_MSG_EXP, ek, 16, "", 0);
	}
	if (!rc && m->send_at) {
		rc = store_put(t, T_MSG_SEND, sk, 16, "", 0);
	}
	rc = store_txn_end(t, rc);
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

	store_be64(key, m->id);
	if (!rc) {
		rc = store_del(t, T_MSG_OWNER, ok, okl);
	}
	if (!rc) {
		rc = store_del(t, T_MSG_EXP, ek, 16);
	}
	if (!rc && m->send_at) {
		rc = store_del(t, T_MSG_SEND, sk, 16);
	}
	if (!rc) {
		rc = store_del(t, T_MSG, key, 8);
	}
	return rc;
}

static int msg_read(MDB_txn *t, uint64_t id, struct store_msg *m,
		    MDB_val *v)
{
	uint8_t key[8];
	MDB_val k = {8, key};
	int rc;

	store_be64(key, id);
	rc = mdb_get(t, store_dbi[T_MSG], &k, v);
	if (rc) {
		return store_map_err(rc);
	}
	return msg_decode(&k, v, m);
}

int store_msg_del(uint64_t id)
{
	struct store_msg m;
	MDB_txn *t;
	MDB_val v;
	int rc = store_txn_begin(&t, 0);

	if (rc) {
		return rc;
	}
	rc = msg_read(t, id, &m, &v);
	if (!rc) {
		rc = msg_del_in(t, &m);
	}
	return store_txn_end(t, rc);
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
	int rc = store_txn_begin(&t, 0);

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
			store_be64(sk, store_time_key(m.send_at));
			store_be64(sk + 8, id);
			rc = store_del(t, T_MSG_SEND, sk, 16);
		}
		if (!rc && send_at && send_at != m.send_at) {
			store_be64(sk, store_time_key(send_at));
			store_be64(sk + 8, id);
			rc = store_put(t, T_MSG_SEND, sk, 16, "", 0);
		}
		r.tries = tries;
		r.send_at = send_at;
		memcpy(copy, &r, sizeof(r));
		store_be64(key, id);
		if (!rc) {
			rc = store_put(t, T_MSG, key, 8, copy, v.mv_size);
		}
	}
	return store_txn_end(t, rc);
}

int store_msg_list(const char *owner, store_msg_h *h, void *arg)
{
	size_t ol = strlen(owner);
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val k, v;
	int rc = store_cursor_begin(T_MSG_OWNER, MDB_RDONLY, &t, &c);
	int op = MDB_SET_RANGE;

	if (rc) {
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
		if (msg_read(t, store_get_be64((uint8_t *)k.mv_data + ol + 1), &m,
			     &mv)) {
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

	if (store_txn_begin(&t, MDB_RDONLY)) {
		return 0;
	}
	if (!mdb_stat(t, store_dbi[T_MSG], &st)) {
		n = (unsigned)st.ms_entries;
	}
	store_txn_abort(t);
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
	rc = store_cursor_begin(tb, delete_msgs ? 0 : MDB_RDONLY, &t, &c);
	if (rc) {
		return rc;
	}
	while (found < max &&
	       !mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op)) {
		op = MDB_NEXT;
		if (k.mv_size != 16 ||
		    store_get_be64(k.mv_data) > store_time_key(now)) {
			break;
		}
		ids[found++] = store_get_be64((uint8_t *)k.mv_data + 8);
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
		store_txn_abort(t);
		return rc;
	}
	return store_txn_end(t, rc);
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

	if (store_cursor_begin(T_MSG_SEND, MDB_RDONLY, &t, &c)) {
		return 0;
	}
	if (!mdb_cursor_get(c, &k, &v, MDB_FIRST) && k.mv_size == 16) {
		when = (int64_t)(store_get_be64(k.mv_data) ^
				 (UINT64_C(1) << 63));
	}
	mdb_cursor_close(c);
	store_txn_abort(t);
	return when;
}

/* ---------------------------------------------------------- kv records */
