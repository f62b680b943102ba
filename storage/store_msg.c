/** @file store_msg.c  Offline messages (see store.h).
 *
 * On disk: one LMDB table keyed by an 8-byte increasing id. New messages
 * always go to the right end of the tree, so a group of stored messages
 * dirties a few adjacent pages whoever they are for (a table keyed by
 * owner wrote about ten times more per message with 100 owners).
 *
 * In memory: an index rebuilt from the table at open, one entry per
 * waiting message (pool store_messages) on its owner's list in arrival
 * order (pool store_owners), with the expiry and reminder time, and how
 * many each sender has (pool store_senders), so that counts, quotas, the
 * expiry purge and the reminders never read the disk.
 *
 * Times on disk and in the index are in the store's frame
 * (store_clock.c): the API speaks wall-clock seconds and converts.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "store"
#include "log.h"
#include "sd_hash.h"
#include "store_priv.h"
#include "tally.h"
#include "wall.h"

#define MOD_DEF "store.def"
#include "mod_decl.h"

/* A record: this head, the string lengths and the body's, the strings
 * (each with its NUL), the body. */
struct msg_head {
	uint32_t version;
	uint32_t tries;
	int64_t arrival;
	int64_t expires;
	int64_t send_at;
};

/* The fields of a record, in their order. */
enum {
	F_OWNER, F_FROM, F_TO, F_CTYPE, F_CALLID, F_EXTRA,
	F_SENDER,	/* version 2 on */
	F__COUNT
};

/* Version 2 (schema 3 on): the sender is kept, so that its count can be
 * rebuilt at open. */
struct msg_rec {
	struct msg_head h;
	uint32_t len[F__COUNT];
	uint32_t blen;
};

/* Version 1 (schemas 1 and 2): no sender. */
struct msg_rec_v1 {
	struct msg_head h;
	uint32_t len[F_SENDER];
	uint32_t blen;
};

#define MSG_REC_V1 0x4d530001u
#define MSG_REC_V2 0x4d530002u

/* A waiting message, on its owner's list; times as on disk. */
struct msg_entry {
	struct msg_entry *next;
	uint64_t id;
	int64_t expires;
	int64_t send_at;	/* reminder, 0 none */
	struct tally_ent *sender;	/* its count in senders, or NULL */
};

/* An owner with waiting messages, oldest first. */
struct msg_owner {
	UT_hash_handle hh;
	struct msg_entry *head, *tail;
	unsigned count;
	unsigned reminders;	/* entries with a send_at */
	char name[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
};

static struct msg_owner *owners;
static struct tally senders = TALLY_INIT(&store_sender_pool);
static unsigned total;
static unsigned reminders;	/* of all owners: the due scans skip work */
static uint64_t next_id;
/* Ids below this may have been given (meta record ID_KEY, written a block
 * ahead in the write that reaches it): a restart never gives an id again,
 * even once every message that had one is gone (History-Id markers). */
static uint64_t id_reserved;
#define ID_KEY "msg_next_id"
#define ID_BLOCK 4096

static int msg_decode(const MDB_val *k, const MDB_val *v,
		      struct store_msg *m)
{
	struct msg_rec r;
	struct msg_rec_v1 r1;
	const char *p;
	const char **f[F__COUNT];
	size_t off;
	int i, n = F__COUNT;

	if (k->mv_size != 8 || v->mv_size < sizeof(r.h)) {
		return EIO;
	}
	memcpy(&r.h, v->mv_data, sizeof(r.h));
	if (r.h.version == MSG_REC_V2 && v->mv_size >= sizeof(r)) {
		memcpy(&r, v->mv_data, sizeof(r));
		off = sizeof(r);
	} else if (r.h.version == MSG_REC_V1 && v->mv_size >= sizeof(r1)) {
		memcpy(&r1, v->mv_data, sizeof(r1));
		memcpy(r.len, r1.len, sizeof(r1.len));
		r.blen = r1.blen;
		off = sizeof(r1);
		n = F_SENDER;
		m->sender = "";
	} else {
		return EIO;
	}
	f[F_OWNER] = &m->owner;
	f[F_FROM] = &m->from;
	f[F_TO] = &m->to;
	f[F_CTYPE] = &m->ctype;
	f[F_CALLID] = &m->callid;
	f[F_EXTRA] = &m->extra;
	f[F_SENDER] = &m->sender;
	p = (const char *)v->mv_data;
	for (i = 0; i < n; i++) {
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
	m->arrival = store_time_from_disk(r.h.arrival);
	m->expires = store_time_from_disk(r.h.expires);
	m->send_at = store_remind_from_disk(r.h.send_at);
	m->tries = r.h.tries;
	return 0;
}

/* ------------------------------------------------------------ the index */

static struct msg_owner *owner_find(const char *name)
{
	struct msg_owner *o;

	HASH_FIND_STR(owners, name, o);
	return o;
}

/* The owner's entry, made when missing. @return NULL when a pool or the
 * budget is spent. */
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
	SD_HASH_ADD_STR(owners, name, o, &store_owner_pool);
	return o;
}

static void owner_drop(struct msg_owner *o)
{
	HASH_DEL(owners, o);
	pool_put(&store_owner_pool, o);
}

/* Count a reminder in (delta 1) or out (-1) of o; no send_at, none. */
static void reminder_count(struct msg_owner *o, int64_t send_at, int delta)
{
	if (send_at) {
		o->reminders += (unsigned)delta;
		reminders += (unsigned)delta;
	}
}

/* Index a message at the end of its owner's list (ids only grow), counted
 * for its sender. A sender that cannot be counted (pool store_senders
 * full) fails it, unless uncounted is given: then it is indexed without
 * its sender's count, and counted there (at open: the messages are kept).
 * @return 0 or ENOSPC (a pool is full). */
static int index_add(const struct store_msg *m, uint64_t id,
		     unsigned *uncounted)
{
	struct msg_owner *o = owner_get(m->owner);
	struct msg_entry *e;

	if (!o) {
		return ENOSPC;
	}
	e = pool_get(&store_msg_pool);
	if (!e) {
		LOG_WRN("no room to index another message (store_messages)");
	} else if (tally_get(&senders, m->sender ? m->sender : "", 0,
			     &e->sender)) {
		if (uncounted) {
			++*uncounted;
		} else {
			LOG_WRN("no room to count another sender "
				"(store_senders)");
			pool_put(&store_msg_pool, e);
			e = NULL;
		}
	}
	if (!e) {
		if (!o->count) {
			owner_drop(o);
		}
		return ENOSPC;
	}
	e->id = id;
	/* The index keeps the store's frame, as the records do. */
	e->expires = store_time_to_disk(m->expires);
	e->send_at = store_remind_to_disk(m->send_at);
	reminder_count(o, e->send_at, 1);
	if (o->tail) {
		o->tail->next = e;
	} else {
		o->head = e;
	}
	o->tail = e;
	o->count++;
	total++;
	return 0;
}

/* The entry of id in o's list, and the one before it (NULL: head). */
static struct msg_entry *entry_find(struct msg_owner *o, uint64_t id,
				    struct msg_entry **prev)
{
	struct msg_entry *e;

	*prev = NULL;
	for (e = o->head; e && e->id != id; e = e->next) {
		*prev = e;
	}
	return e;
}

static void index_del(struct msg_owner *o, struct msg_entry *e,
		      struct msg_entry *prev)
{
	if (prev) {
		prev->next = e->next;
	} else {
		o->head = e->next;
	}
	if (o->tail == e) {
		o->tail = prev;
	}
	reminder_count(o, e->send_at, -1);
	tally_put(&senders, e->sender);
	pool_put(&store_msg_pool, e);
	total--;
	if (!--o->count) {
		owner_drop(o);
	}
}

static void index_drop(void)
{
	struct msg_owner *o, *tmp;

	HASH_ITER(hh, owners, o, tmp) {
		while (o->head) {
			struct msg_entry *e = o->head;

			o->head = e->next;
			pool_put(&store_msg_pool, e);
		}
		owner_drop(o);
	}
	tally_clear(&senders);
	total = 0;
	reminders = 0;
}

/* Rebuild the index and the next id from the table (in id order, so
 * every owner's list is in arrival order). *newest: the latest arrival
 * (0 when none). */
static int index_load(int64_t *newest)
{
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val k, v;
	unsigned uncounted = 0;
	int rc = store_cursor_begin(T_MSG, MDB_RDONLY, &t, &c);

	*newest = 0;
	if (rc) {
		return rc;
	}
	while (!rc && !mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct store_msg m;

		if (msg_decode(&k, &v, &m)) {
			LOG_WRN("unreadable message record skipped");
			continue;
		}
		rc = index_add(&m, m.id, &uncounted);
		if (m.arrival > *newest) {
			*newest = m.arrival;
		}
		if (m.id >= next_id) {
			next_id = m.id + 1;
		}
	}
	mdb_cursor_close(c);
	k.mv_size = sizeof(ID_KEY) - 1;
	k.mv_data = ID_KEY;
	id_reserved = 0;
	if (!mdb_get(t, store_dbi[T_META], &k, &v) && v.mv_size == 8) {
		id_reserved = store_get_be64(v.mv_data);
		if (id_reserved > next_id) {
			next_id = id_reserved;
		}
	}
	store_txn_abort(t);
	if (uncounted) {
		LOG_WRN("%u waiting messages not counted for their sender: "
			"raise store_senders", uncounted);
	}
	return rc;
}

int store_msg_open(void)
{
	int64_t newest;
	int rc = pool_setup(&store_owner_pool, sizeof(struct msg_owner));

	if (!rc) {
		rc = pool_setup(&store_msg_pool, sizeof(struct msg_entry));
	}
	if (!rc) {
		rc = pool_setup(&store_sender_pool, sizeof(struct tally_ent));
	}
	if (rc) {
		store_msg_close();
		return rc;
	}
	owners = NULL;
	total = 0;
	next_id = 1;
	rc = index_load(&newest);
	if (rc) {
		LOG_ERR("cannot index the waiting messages (%s): raise "
			"store_owners or store_messages", store_strerror(rc));
		store_msg_close();
		return rc;
	}
	/* A clock earlier than a message's arrival is not set yet. */
	wall_floor(newest);
	return 0;
}

void store_msg_close(void)
{
	index_drop();
	pool_release(&store_owner_pool);
	pool_release(&store_msg_pool);
	pool_release(&store_sender_pool);
}

void store_msg_reindex(void)
{
	int64_t newest;

	index_drop();
	if (index_load(&newest)) {
		LOG_ERR("cannot index the waiting messages again");
	}
}

/* ------------------------------------------------------------ messages */

int store_msg_put(struct store_msg *m)
{
	const char *fields[F__COUNT] = {m->owner, m->from, m->to,
					m->ctype ? m->ctype : "",
					m->callid ? m->callid : "",
					m->extra ? m->extra : "",
					m->sender ? m->sender : ""};
	struct msg_rec r;
	uint8_t key[8], ahead[8];
	size_t total_len = sizeof(r), off;
	MDB_txn *t;
	MDB_val k = {8, key}, v;
	int rc, i;

	if (!store_env) {
		return ENODEV;
	}
	memset(&r, 0, sizeof(r));
	r.h.version = MSG_REC_V2;
	r.h.tries = m->tries;
	r.h.arrival = store_time_to_disk(m->arrival);
	r.h.expires = store_time_to_disk(m->expires);
	r.h.send_at = store_remind_to_disk(m->send_at);
	r.blen = (uint32_t)m->blen;
	if (!m->owner[0] ||
	    strlen(m->owner) >= CONFIG_SIMPLED_STORE_MAX_OWNER_LEN ||
	    strlen(fields[F_SENDER]) >= CONFIG_SIMPLED_STORE_MAX_OWNER_LEN) {
		return EINVAL;
	}
	for (i = 0; i < F__COUNT; i++) {
		size_t l = strlen(fields[i]) + 1;

		r.len[i] = (uint32_t)l;
		total_len += l;
	}
	/* What is sent again (all but owner and sender) is bounded. */
	if (m->blen > STORE_MSG_MAX ||
	    total_len - sizeof(r) - r.len[F_OWNER] - r.len[F_SENDER] +
	    m->blen > STORE_MSG_MAX) {
		return EMSGSIZE;
	}
	total_len += m->blen;
	if (!store_has_room(2 * total_len)) {
		return ENOSPC;
	}
	rc = index_add(m, next_id, NULL);
	if (rc) {
		return rc;
	}
	store_be64(key, next_id);
	rc = store_txn_begin(&t, m->lazy ? STORE_TXN_LAZY : 0);
	if (!rc) {
		/* Reserve the record in place and write it there. */
		v.mv_size = total_len;
		rc = store_map_err(mdb_put(t, store_dbi[T_MSG], &k, &v,
					   MDB_RESERVE));
		if (!rc) {
			char *p = v.mv_data;

			memcpy(p, &r, sizeof(r));
			off = sizeof(r);
			for (i = 0; i < F__COUNT; i++) {
				memcpy(p + off, fields[i], r.len[i]);
				off += r.len[i];
			}
			if (m->blen) {
				memcpy(p + off, m->body, m->blen);
			}
		}
		/* After the reserved space is written: the next put may
		 * move it. */
		if (!rc && next_id >= id_reserved) {
			store_be64(ahead, next_id + ID_BLOCK);
			rc = store_put(t, T_META, ID_KEY, sizeof(ID_KEY) - 1,
				       ahead, 8);
		}
		rc = store_txn_end(t, rc);
	}
	if (rc) {
		struct msg_owner *o = owner_find(m->owner);
		struct msg_entry *prev, *e = entry_find(o, next_id, &prev);

		index_del(o, e, prev);
		return rc;
	}
	if (next_id >= id_reserved) {
		id_reserved = next_id + ID_BLOCK;
	}
	m->id = next_id++;
	return 0;
}

/* A write to the record of a waiting message: its index entry (and the
 * one before it), its key, and the write begun. @return 0, ENOENT (not
 * waiting) or the store's error. */
struct msg_change {
	struct msg_owner *o;
	struct msg_entry *e, *prev;
	uint8_t key[8];
	MDB_txn *t;
};

static int change_begin(struct msg_change *c, const char *owner,
			uint64_t id)
{
	c->o = owner_find(owner);
	c->e = c->o ? entry_find(c->o, id, &c->prev) : NULL;
	if (!c->e) {
		return ENOENT;
	}
	store_be64(c->key, id);
	return store_txn_begin(&c->t, 0);
}

int store_msg_del(const char *owner, uint64_t id)
{
	struct msg_change c;
	int rc = change_begin(&c, owner, id);

	if (rc) {
		return rc;
	}
	rc = store_txn_end(c.t, store_del(c.t, T_MSG, c.key, 8));
	if (!rc) {
		index_del(c.o, c.e, c.prev);
	}
	return rc;
}

int store_msg_trim(const char *owner, unsigned keep, unsigned *n)
{
	struct msg_owner *o = owner_find(owner);
	struct msg_entry *e;
	uint8_t key[8];
	unsigned i, drop;
	MDB_txn *t;
	int rc;

	*n = 0;
	if (!o || o->count <= keep) {
		return 0;
	}
	drop = o->count - keep;
	rc = store_txn_begin(&t, STORE_TXN_LAZY);
	if (rc) {
		return rc;
	}
	for (i = 0, e = o->head; !rc && i < drop; i++, e = e->next) {
		store_be64(key, e->id);
		rc = store_del(t, T_MSG, key, 8);
	}
	rc = store_txn_end(t, rc);
	if (rc) {
		return rc;
	}
	/* The owner goes with its last entry: nothing of o after that. */
	for (i = 0; i < drop; i++) {
		index_del(o, o->head, NULL);
	}
	*n = drop;
	return 0;
}

int store_msg_update(const char *owner, uint64_t id, uint32_t tries,
		     int64_t send_at)
{
	struct msg_change c;
	MDB_val k = {8, c.key}, v;
	struct msg_head h;
	/* LMDB's pages are read-only: records are rewritten from a copy
	 * (of either version: both start with the head); owner and sender
	 * are each at most CONFIG_SIMPLED_STORE_MAX_OWNER_LEN. */
	static char copy[sizeof(struct msg_rec) + STORE_MSG_MAX +
			 2 * CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
	int rc = change_begin(&c, owner, id);

	if (rc) {
		return rc;
	}
	rc = store_map_err(mdb_get(c.t, store_dbi[T_MSG], &k, &v));
	if (!rc && (v.mv_size > sizeof(copy) || v.mv_size < sizeof(h))) {
		rc = EIO;
	}
	if (!rc) {
		memcpy(copy, v.mv_data, v.mv_size);
		memcpy(&h, copy, sizeof(h));
		h.tries = tries;
		h.send_at = store_remind_to_disk(send_at);
		memcpy(copy, &h, sizeof(h));
		rc = store_put(c.t, T_MSG, c.key, 8, copy, v.mv_size);
	}
	rc = store_txn_end(c.t, rc);
	if (!rc) {
		reminder_count(c.o, c.e->send_at, -1);
		reminder_count(c.o, h.send_at, 1);
		c.e->send_at = h.send_at;
	}
	return rc;
}

/* Read entry e's record and hand it to h. @return h's answer (0 when the
 * record cannot be read). */
static int visit(MDB_txn *t, const struct msg_entry *e, store_msg_h *h,
		 void *arg)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	struct store_msg m;

	store_be64(key, e->id);
	if (mdb_get(t, store_dbi[T_MSG], &k, &v) || msg_decode(&k, &v, &m)) {
		return 0;
	}
	return h(&m, arg);
}

int store_msg_list_after(const char *owner, uint64_t after, store_msg_h *h,
			 void *arg)
{
	struct msg_owner *o = owner_find(owner);
	struct msg_entry *e;
	MDB_txn *t;
	int rc;

	/* Those up to after are passed over in the index, not read. */
	for (e = o ? o->head : NULL; e && e->id <= after; e = e->next) {
	}
	if (!e) {
		return 0;
	}
	rc = store_txn_begin(&t, MDB_RDONLY);
	if (rc) {
		return rc;
	}
	for (; e && !visit(t, e, h, arg); e = e->next) {
	}
	store_txn_abort(t);
	return 0;
}

int store_msg_list(const char *owner, store_msg_h *h, void *arg)
{
	return store_msg_list_after(owner, 0, h, arg);
}

unsigned store_msg_count(const char *owner)
{
	struct msg_owner *o = owner_find(owner);

	return o ? o->count : 0;
}

int store_msg_oldest(int (*pick)(const char *owner), char *owner,
		     uint64_t *id)
{
	struct msg_owner *o, *tmp, *best = NULL;

	HASH_ITER(hh, owners, o, tmp) {
		if (pick(o->name) && (!best || o->head->id < best->head->id)) {
			best = o;
		}
	}
	if (!best) {
		return ENOENT;
	}
	strcpy(owner, best->name); /* the same size */
	*id = best->head->id;
	return 0;
}

unsigned store_msg_sender_count(const char *sender)
{
	return tally_count(&senders, sender);
}

unsigned store_msg_total(void)
{
	return total;
}

/* ------------------------------------------------ expiry and reminders */

int store_msg_expire(int64_t now, unsigned max, store_msg_h *h, void *arg,
		     unsigned *n)
{
	struct msg_owner *o, *tmp;
	struct gone {
		char owner[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];
		uint64_t id;
	};
	static struct gone gone[64];
	unsigned found = 0, i;
	MDB_txn *t;
	int rc = 0;

	if (max > 64) {
		max = 64;
	}
	now = store_time_to_disk(now);
	if (h) {
		rc = store_txn_begin(&t, MDB_RDONLY);
		if (rc) {
			return rc;
		}
	}
	HASH_ITER(hh, owners, o, tmp) {
		struct msg_entry *e;

		for (e = o->head; e && found < max; e = e->next) {
			if (e->expires > now) {
				continue;
			}
			if (h) {
				visit(t, e, h, arg);
			}
			snprintf(gone[found].owner, sizeof(gone[0].owner), "%s",
				 o->name);
			gone[found++].id = e->id;
		}
	}
	if (h) {
		store_txn_abort(t);
	}
	for (i = 0; !rc && i < found; i++) {
		rc = store_msg_del(gone[i].owner, gone[i].id);
	}
	if (n) {
		*n = rc ? 0 : found;
	}
	return rc;
}

int store_msg_due(int64_t now, unsigned max, store_msg_h *h, void *arg)
{
	struct msg_owner *o, *tmp;
	unsigned found = 0;
	MDB_txn *t;
	int rc;

	if (!reminders) {
		return 0;
	}
	now = store_remind_to_disk(now);
	rc = store_txn_begin(&t, MDB_RDONLY);
	if (rc) {
		return rc;
	}
	HASH_ITER(hh, owners, o, tmp) {
		struct msg_entry *e;

		if (!o->reminders) {
			continue;
		}
		for (e = o->head; e && found < max; e = e->next) {
			if (e->send_at && e->send_at <= now) {
				visit(t, e, h, arg);
				found++;
			}
		}
	}
	store_txn_abort(t);
	return 0;
}

int64_t store_msg_next_due(void)
{
	struct msg_owner *o, *tmp;
	int64_t when = 0;

	if (!reminders) {
		return 0;
	}
	HASH_ITER(hh, owners, o, tmp) {
		struct msg_entry *e;

		if (!o->reminders) {
			continue;
		}
		for (e = o->head; e; e = e->next) {
			if (e->send_at && (!when || e->send_at < when)) {
				when = e->send_at;
			}
		}
	}
	return store_remind_from_disk(when);
}

/* ---------------------------------------------------- schemas 1 and 2 */

int store_msg_migrate(MDB_txn *t, unsigned *kept)
{
	static const char *const old[STORE_V1_TABLES] = {
		"msg_owner", "msg_exp", "msg_send"};
	MDB_dbi dbi;
	MDB_stat st;
	unsigned i;
	int rc;

	/* Schemas 1 and 2 have records of version 1 (read as they are)
	 * under the same keys; schema 1 had three index tables on disk too,
	 * which the index in memory replaces. */
	for (i = 0; i < STORE_V1_TABLES; i++) {
		rc = mdb_dbi_open(t, old[i], 0, &dbi);
		if (rc == MDB_NOTFOUND) {
			continue;
		}
		rc = store_map_err(rc ? rc : mdb_drop(t, dbi, 1));
		if (rc) {
			return rc;
		}
	}
	*kept = mdb_stat(t, store_dbi[T_MSG], &st) ? 0 :
		(unsigned)st.ms_entries;
	return 0;
}
