/** @file store_rec.c  Keyed records for services that encode their own
 * values (see store.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "store"
#include "log.h"
#include "store_priv.h"

/* ---------------------------------------------------------- kv records */

static enum store_table kind_table(enum store_kind k)
{
	return (enum store_table)(T_PRES_DOC + (int)k);
}

/* A transaction on a valid kind's table. */
static int rec_begin(enum store_kind k, unsigned flags, MDB_txn **t)
{
	if (k >= STORE_KIND__COUNT) {
		return EINVAL;
	}
	return store_txn_begin(t, flags);
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
	/* A record may take twice its size in pages. */
	if (!store_has_room(2 * (vlen + mk.mv_size))) {
		return ENOSPC;
	}
	rc = store_txn_begin(&t, 0);
	if (rc) {
		return rc;
	}
	rc = store_map_err(mdb_put(t, store_dbi[kind_table(k)], &mk, &mv, 0));
	return store_txn_end(t, rc);
}

int store_rec_del(enum store_kind k, const char *key)
{
	MDB_txn *t;
	int rc;

	rc = rec_begin(k, 0, &t);
	if (rc) {
		return rc;
	}
	rc = store_del(t, kind_table(k), key, strlen(key));
	return store_txn_end(t, rc);
}

int store_rec_get(enum store_kind k, const char *key, void *buf,
		  size_t size, size_t *vlen)
{
	MDB_val mk = {strlen(key), (void *)key}, mv;
	MDB_txn *t;
	int rc;

	rc = rec_begin(k, MDB_RDONLY, &t);
	if (rc) {
		return rc;
	}
	rc = store_map_err(mdb_get(t, store_dbi[kind_table(k)], &mk, &mv));
	if (!rc && mv.mv_size > size) {
		rc = EMSGSIZE;
	}
	if (!rc) {
		memcpy(buf, mv.mv_data, mv.mv_size);
		*vlen = mv.mv_size;
	}
	store_txn_abort(t);
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
	rc = store_cursor_begin(kind_table(k), MDB_RDONLY, &t, &c);
	if (rc) {
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
	store_txn_abort(t);
	return 0;
}
