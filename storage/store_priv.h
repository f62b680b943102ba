/** @file store_priv.h  Internals shared by the files of storage/: the
 * environment, the tables and the transaction helpers. Only storage/
 * includes lmdb.h.
 */
#ifndef STORE_PRIV_H
#define STORE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store.h"

enum store_table {
	T_META,
	T_MSG,		/* id -> message record */
	T_PRES_DOC,	/* store_kind records, in enum store_kind order */
	T_PRES_SUB,
	T_PRES_RULE,
	T_IMC_ROOM,
	T_IMC_MEMBER,
	T_IMC_HIST,
	T_DEVICE,
	T__COUNT
};

extern MDB_env *store_env;
extern MDB_dbi store_dbi[T__COUNT];

/** LMDB error to our errno (see store.h). */
int store_map_err(int rc);
/** A read (flags MDB_RDONLY: through the open group, if any) or a write
 * (a child transaction of the group, which is begun if needed). */
int store_txn_begin(MDB_txn **t, unsigned flags);
/** A flag of store_txn_begin(): a write nobody waits for (committed
 * within lazy_commit_ms, store.h). */
#define STORE_TXN_LAZY 0x40000000u
/** A transaction and a cursor on table tb; on error nothing stays open.
 * Close with mdb_cursor_close() then end or abort the transaction. */
int store_cursor_begin(enum store_table tb, unsigned flags, MDB_txn **t,
		       MDB_cursor **c);
/** End a write: into the group when rc is 0 (on disk with the group's
 * commit), else undone alone. */
int store_txn_end(MDB_txn *t, int rc);
/** End a read (or undo a write) begun with store_txn_begin(). */
void store_txn_abort(MDB_txn *t);
int store_put(MDB_txn *t, enum store_table tb, const void *k, size_t kl,
	      const void *v, size_t vl);
int store_del(MDB_txn *t, enum store_table tb, const void *k, size_t kl);
/** May a new record of about bytes still be written? The last part of
 * the map is kept for deletes, which copy pages on write. */
int store_has_room(size_t bytes);

void store_be64(uint8_t *p, uint64_t v);
uint64_t store_get_be64(const uint8_t *p);

/* store_clock.c: the offsets of the times on disk, read at open (before
 * the index is built) and watched for steps until close; reminder times
 * have their own (see store_clock.c). */
int store_clock_open(void);
void store_clock_close(void);
int64_t store_remind_to_disk(int64_t t);
int64_t store_remind_from_disk(int64_t t);

/* store_msg.c: the in-memory index of waiting messages, built at open
 * and dropped at close; keeping the messages of schemas 1 and 2 (in
 * transaction t). */
int store_msg_open(void);
void store_msg_close(void);
/* After a failed commit: the index again from what is on disk. */
void store_msg_reindex(void);
/* Schema 1's index tables, dropped by the migration. */
#define STORE_V1_TABLES 3
int store_msg_migrate(MDB_txn *t, unsigned *kept);

#endif
