/** @file store_env.c  The LMDB environment: open and close, tables and
 * schema, space, and the durability policy that every writer shares (see
 * store.h). Adding a record kind: a table in store_priv.h and
 * table_names[], then typed functions in a file of their own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#define LOG_MODULE "store"
#include "cfg.h"
#include "log.h"
#include "mod.h"
#include "store_priv.h"
#include "tmr.h"

static const char *const table_names[T__COUNT] = {
	"meta", "msg", "msg_owner", "msg_exp", "msg_send",
	"pres_doc", "pres_sub", "pres_rule", "imc_room", "imc_member",
};

/* Part of the map never filled by new records, so that deletes (which
 * copy pages on write) still work in a full store. */
#define STORE_HEADROOM_PCT 10
#define STORE_HEADROOM_MIN (8 * 4096)

MDB_env *store_env;
static size_t map_bytes;
MDB_dbi store_dbi[T__COUNT];
static enum store_durability durab;
static unsigned unsynced;

static const char *const durab_names[] = {"sync", "batch", NULL};

struct store_cfg store_cfg;
/* map_size_kb defaults to 16 MiB, or the ceiling when that is lower. */
#if CONFIG_SIMPLED_STORE_MAP_MAX_KB < 16384
#define STORE_MAP_DFLT CFG_NUM(CONFIG_SIMPLED_STORE_MAP_MAX_KB)
#else
#define STORE_MAP_DFLT "16384"
#endif

#define S struct store_cfg
static const struct cfg_opt store_opts[] = {
	CFG_INT_OPT(S, "map_size_kb", map_size_kb, 256,
		    CONFIG_SIMPLED_STORE_MAP_MAX_KB, STORE_MAP_DFLT),
	CFG_ENUM_OPT(S, "durability", durability, "sync", durab_names),
	CFG_INT_OPT(S, "batch_ms", batch_ms, 1, 10000, "50"),
};
#undef S

static const struct cfg_sect store_sect = {
	"storage", store_opts, sizeof(store_opts) / sizeof(store_opts[0]),
	&store_cfg, NULL
};

/* Callers waiting for their writes to be durable (batch mode). */
static struct {
	store_durable_h *h;
	void *arg;
} waiting[CONFIG_SIMPLED_STORE_MAX_WAITING];
static unsigned n_waiting;
static struct tmr sync_tmr;

int store_map_err(int rc)
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
	return store_env != NULL;
}

int store_txn_begin(MDB_txn **t, unsigned flags)
{
	if (!store_env) {
		return ENODEV;
	}
	return store_map_err(mdb_txn_begin(store_env, NULL, flags, t));
}

int store_cursor_begin(enum store_table tb, unsigned flags, MDB_txn **t,
		       MDB_cursor **c)
{
	int rc = store_txn_begin(t, flags);

	if (rc) {
		return rc;
	}
	rc = store_map_err(mdb_cursor_open(*t, store_dbi[tb], c));
	if (rc) {
		mdb_txn_abort(*t);
	}
	return rc;
}

/* Commit when rc is 0, abort otherwise; the LMDB error is mapped. */
static void sync_fire(void *arg)
{
	(void)arg;
	store_flush();
}

int store_txn_end(MDB_txn *t, int rc)
{
	if (rc) {
		mdb_txn_abort(t);
		return rc;
	}
	rc = mdb_txn_commit(t);
	if (rc) {
		LOG_ERR("commit failed: %s", mdb_strerror(rc));
		return store_map_err(rc);
	}
	if (durab == STORE_BATCH) {
		/* Batch mode: this commit reaches the disk with the next
		 * group sync, at most batch_ms from now. */
		unsynced++;
		if (!tmr_active(&sync_tmr)) {
			tmr_start(&sync_tmr, (uint32_t)store_cfg.batch_ms,
				  sync_fire, NULL);
		}
	}
	return 0;
}

int store_put(MDB_txn *t, enum store_table tb, const void *k, size_t kl,
	       const void *v, size_t vl)
{
	MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
	int rc = mdb_put(t, store_dbi[tb], &key, &val, 0);

	if (rc) {
		if (rc == MDB_MAP_FULL) {
			LOG_WRN("store full (map_size_kb %d)",
				store_cfg.map_size_kb);
		}
		return store_map_err(rc);
	}
	return 0;
}

int store_del(MDB_txn *t, enum store_table tb, const void *k, size_t kl)
{
	MDB_val key = {kl, (void *)k};
	int rc = mdb_del(t, store_dbi[tb], &key, NULL);

	return rc == MDB_NOTFOUND ? 0 : store_map_err(rc);
}

void store_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

/* Times are stored offset so that negative values still sort. */
uint64_t store_time_key(int64_t t)
{
	return (uint64_t)t ^ (UINT64_C(1) << 63);
}

static int check_schema(void)
{
	MDB_txn *t;
	MDB_val k = {6, "schema"}, v;
	uint32_t schema = STORE_SCHEMA;
	int rc = store_txn_begin(&t, 0);

	if (rc) {
		return rc;
	}
	rc = mdb_get(t, store_dbi[T_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = store_put(t, T_META, "schema", 6, &schema, sizeof(schema));
		return store_txn_end(t, rc);
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


int store_open(const char *dir, size_t map_size,
	       enum store_durability durability)
{
	unsigned flags = durability == STORE_BATCH ? MDB_NOSYNC : 0;
	MDB_txn *t;
	int rc, i;

	if (store_env) {
		return EALREADY;
	}
	rc = mdb_env_create(&store_env);
	if (!rc) {
		rc = mdb_env_set_maxdbs(store_env, T__COUNT);
	}
	if (!rc) {
		rc = mdb_env_set_mapsize(store_env, map_size);
	}
	if (!rc) {
		rc = mdb_env_open(store_env, dir, flags, 0600);
	}
	if (rc) {
		LOG_ERR("cannot open store in %s: %s", dir, mdb_strerror(rc));
		mdb_env_close(store_env);
		store_env = NULL;
		return store_map_err(rc);
	}
	durab = durability;
	unsynced = 0;
	map_bytes = map_size;
	rc = store_map_err(mdb_txn_begin(store_env, NULL, 0, &t));
	for (i = 0; !rc && i < T__COUNT; i++) {
		rc = store_map_err(mdb_dbi_open(t, table_names[i],
						MDB_CREATE, &store_dbi[i]));
	}
	if (!rc) {
		rc = store_map_err(mdb_txn_commit(t));
	} else {
		mdb_txn_abort(t);
	}
	if (!rc) {
		rc = check_schema();
	}
	if (!rc) {
		rc = store_msg_load();
	}
	if (rc) {
		LOG_ERR("store in %s unusable: %s", dir, store_strerror(rc));
		mdb_env_close(store_env);
		store_env = NULL;
		return rc;
	}
	LOG_INF("store %s open (%zu KiB map, %s)", dir, map_size / 1024,
		durability == STORE_BATCH ? "batch" : "sync");
	return 0;
}

void store_close(void)
{
	store_flush();
	tmr_cancel(&sync_tmr);
	if (!store_env) {
		return;
	}
	mdb_env_close(store_env);
	store_env = NULL;
}

int store_flush(void)
{
	unsigned i, n = n_waiting;
	int err = store_env ? store_sync() : ENODEV;

	tmr_cancel(&sync_tmr);
	n_waiting = 0;
	for (i = 0; i < n; i++) {
		waiting[i].h(err, waiting[i].arg);
	}
	return err;
}

void store_when_durable(store_durable_h *h, void *arg)
{
	if (!store_env) {
		h(ENODEV, arg);
		return;
	}
	if (!unsynced) {
		h(0, arg);
		return;
	}
	if (n_waiting == CONFIG_SIMPLED_STORE_MAX_WAITING) {
		/* No room to wait: sync now for everyone. */
		store_flush();
		h(0, arg);
		return;
	}
	waiting[n_waiting].h = h;
	waiting[n_waiting].arg = arg;
	n_waiting++;
}

int store_sync(void)
{
	int rc;

	if (!store_env) {
		return ENODEV;
	}
	if (!unsynced) {
		return 0;
	}
	rc = mdb_env_sync(store_env, 1);
	if (rc) {
		LOG_ERR("sync failed: %s", mdb_strerror(rc));
		return store_map_err(rc);
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

	if (!store_env || mdb_env_info(store_env, &info) ||
	    mdb_env_stat(store_env, &st)) {
		return 0;
	}
	return (info.me_last_pgno + 1) * (size_t)st.ms_psize;
}

/* ------------------------------------------------------ offline messages */

int store_has_room(size_t bytes)
{
	size_t room = map_bytes / 100 * STORE_HEADROOM_PCT;

	if (!store_env) {
		return 1;
	}
	if (room < STORE_HEADROOM_MIN) {
		room = STORE_HEADROOM_MIN;
	}
	if (store_bytes_used() + bytes + room > map_bytes) {
		LOG_WRN("store full (map_size_kb %zu)", map_bytes / 1024);
		return 0;
	}
	return 1;
}

#define MOD_DEF "store.def"
#define MOD_VAR store_mod
#define MOD_NAME "storage"
#define MOD_SECT &store_sect
#define MOD_START NULL
#define MOD_STOP NULL
#include "mod_def.h"
