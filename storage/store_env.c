/** @file store_env.c  The LMDB environment: open and close, tables and
 * schema, space, and the durability policy that every writer shares (see
 * store.h). Adding a record kind: a table in store_priv.h and
 * table_names[], then typed functions in a file of their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#define LOG_MODULE "store"
#include "cfg.h"
#include "log.h"
#include "mod.h"
#include "store_priv.h"
#include "loop.h"
#include "port.h"
#include "tmr.h"

#define MOD_DEF "store.def"
#include "mod_decl.h"

static const char *const table_names[T__COUNT] = {
	"meta", "msg",
	"pres_doc", "pres_sub", "pres_rule", "imc_room", "imc_member",
	"imc_hist", "device",
};
/* Part of the map never filled by new records, so that deletes (which
 * copy pages on write) still work in a full store. */
#define STORE_HEADROOM_PCT 10
#define STORE_HEADROOM_MIN (8 * 4096)

MDB_env *store_env;
static size_t map_bytes;
MDB_dbi store_dbi[T__COUNT];

struct store_cfg store_cfg;
/* A 32-bit process maps the whole store into its 4 GiB address space,
 * beside its heap, stack and libraries, and map_size_kb * 1024 must fit a
 * size_t: there the ceiling is at most 1 GiB, whatever Kconfig allows (a
 * 4194304 KiB map wrapped to 0 bytes, and every MESSAGE to be stored was
 * answered 503; 3 GiB does not map). */
#if SIZE_MAX <= UINT32_MAX && CONFIG_SIMPLED_STORE_MAP_MAX_KB > 1048576
#define STORE_MAP_MAX_KB 1048576
#else
#define STORE_MAP_MAX_KB CONFIG_SIMPLED_STORE_MAP_MAX_KB
#endif

/* map_size_kb defaults to 16 MiB, or the ceiling when that is lower. */
#if CONFIG_SIMPLED_STORE_MAP_MAX_KB < 16384
#define STORE_MAP_DFLT CFG_NUM(CONFIG_SIMPLED_STORE_MAP_MAX_KB)
#else
#define STORE_MAP_DFLT "16384"
#endif

#define S struct store_cfg
static const struct cfg_opt store_opts[] = {
	CFG_INT_OPT(S, "map_size_kb", map_size_kb, 256, STORE_MAP_MAX_KB,
		    STORE_MAP_DFLT),
	CFG_INT_OPT(S, "commit_window_ms", commit_window_ms, 0, 1000, "2"),
	CFG_INT_OPT(S, "lazy_commit_ms", lazy_commit_ms, 0, 10000, "100"),
};
#undef S

static const struct cfg_sect store_sect =
	CFG_SECT("storage", store_opts, &store_cfg,
		 .restart = cfg_restart_all);

/*
 * Group commit. Every write joins the open group: one LMDB write
 * transaction, committed (with LMDB's synchronous commit: the data pages
 * and then the meta page are fsynced) at the end of the loop turn that
 * opened it, or commit_window_ms after its first write. Each write runs
 * in a child transaction of the group, so a write that fails leaves the
 * others intact. Reads while a group is open read through it and see its
 * writes. Whoever must not answer before its write is on disk waits in
 * `waiting` (store_when_durable()) for the group's commit. A group of
 * lazy writes only (STORE_TXN_LAZY: a history nobody waits for) is
 * committed lazy_commit_ms after its first write; any other write, or
 * anyone waiting, brings it back to the commit window.
 */
static MDB_txn *group;
static int group_lazy;
static unsigned group_writes;
static struct {
	store_durable_h *h;
	void *arg;
} waiting[CONFIG_SIMPLED_STORE_MAX_WAITING];
static unsigned n_waiting;
static struct tmr window_tmr;
static int fail_next_commit;

/* Commit times (the loop waits for them): a histogram of powers of two
 * of microseconds, logged at close. */
#define COMMIT_BUCKETS 24
static unsigned long commit_hist[COMMIT_BUCKETS];
static uint64_t commit_max_us;

/* Space in use (see pages_in_use()). */
static size_t used_committed;	/* bytes, as of the last commit */
static size_t used_group;	/* estimate of what the open group adds */
static size_t pages_in_use(void);
static void commit_report(void);

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

static int commit_now(void *ev, void *arg);

static void window_fire(void *arg)
{
	(void)arg;
	store_flush();
}

/* The open group is lazy no more: committed within the window (or at
 * the end of the turn without one). */
static void group_hurry(void)
{
	if (!group_lazy) {
		return;
	}
	group_lazy = 0;
	tmr_cancel(&window_tmr);
	if (store_cfg.commit_window_ms > 0) {
		tmr_start(&window_tmr, (uint32_t)store_cfg.commit_window_ms,
			  window_fire, NULL);
	}
}

/* The open group, begun on first use (lazy: by a lazy write). */
static int group_get(MDB_txn **g, int lazy)
{
	if (!group) {
		int rc = mdb_txn_begin(store_env, NULL, 0, &group);
		int ms;

		if (rc) {
			group = NULL;
			LOG_ERR("cannot begin a write: %s", mdb_strerror(rc));
			return store_map_err(rc);
		}
		group_writes = 0;
		group_lazy = lazy &&
			     store_cfg.lazy_commit_ms > store_cfg.commit_window_ms;
		ms = group_lazy ? store_cfg.lazy_commit_ms :
		     store_cfg.commit_window_ms;
		if (ms > 0) {
			tmr_start(&window_tmr, (uint32_t)ms, window_fire,
				  NULL);
		}
	} else if (!lazy) {
		group_hurry();
	}
	*g = group;
	return 0;
}

int store_txn_begin(MDB_txn **t, unsigned flags)
{
	MDB_txn *g = NULL;
	int rc;

	if (!store_env) {
		return ENODEV;
	}
	if (flags & MDB_RDONLY) {
		if (group) {
			*t = group; /* see the group's own writes */
			return 0;
		}
		return store_map_err(mdb_txn_begin(store_env, NULL, flags, t));
	}
	rc = group_get(&g, (flags & STORE_TXN_LAZY) != 0);
	if (rc) {
		return rc;
	}
	return store_map_err(mdb_txn_begin(store_env, g, 0, t));
}

void store_txn_abort(MDB_txn *t)
{
	if (t != group) {
		mdb_txn_abort(t);
	}
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
		store_txn_abort(*t);
	}
	return rc;
}

int store_txn_end(MDB_txn *t, int rc)
{
	if (rc) {
		mdb_txn_abort(t);
		return rc;
	}
	rc = mdb_txn_commit(t); /* into the group: no disk I/O yet */
	if (rc) {
		LOG_ERR("write failed: %s", mdb_strerror(rc));
		return store_map_err(rc);
	}
	group_writes++;
	stat_inc(store_stat_writes);
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

/* The schema this store was written with; a new store gets ours, an
 * older one is migrated (in the open group, committed by the caller). */
static int check_schema(void)
{
	MDB_txn *t;
	MDB_val k = {6, "schema"}, v;
	uint32_t schema = STORE_SCHEMA, found;
	unsigned moved;
	int rc = store_txn_begin(&t, 0);

	if (rc) {
		return rc;
	}
	rc = mdb_get(t, store_dbi[T_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = store_put(t, T_META, "schema", 6, &schema, sizeof(schema));
		return store_txn_end(t, rc);
	}
	if (rc || v.mv_size != sizeof(found)) {
		store_txn_abort(t);
		return EIO;
	}
	memcpy(&found, v.mv_data, sizeof(found));
	if (found == STORE_SCHEMA) {
		store_txn_abort(t);
		return 0;
	}
	if (found != 1 && found != 2) {
		store_txn_abort(t);
		LOG_ERR("store has schema %u, this build reads schema %u",
			found, STORE_SCHEMA);
		return EPROTO;
	}
	rc = store_msg_migrate(t, &moved);
	if (!rc) {
		rc = store_put(t, T_META, "schema", 6, &schema, sizeof(schema));
	}
	rc = store_txn_end(t, rc);
	if (!rc) {
		LOG_INF("store migrated from schema %u to %u: %u waiting "
			"messages kept", found, STORE_SCHEMA, moved);
	}
	return rc;
}


int store_open(const char *dir, size_t map_size)
{
	MDB_txn *t;
	int rc, i;

	if (store_env) {
		return EALREADY;
	}
	rc = mdb_env_create(&store_env);
	if (!rc) {
		rc = mdb_env_set_maxdbs(store_env,
					T__COUNT + STORE_V1_TABLES);
	}
	if (!rc) {
		rc = mdb_env_set_mapsize(store_env, map_size);
	}
	if (!rc) {
		/* No MDB_NOSYNC nor MDB_NOMETASYNC: a commit is on disk
		 * when mdb_txn_commit() returns. */
		rc = mdb_env_open(store_env, dir, 0, 0600);
	}
	if (rc) {
		LOG_ERR("cannot open store in %s: %s%s", dir, mdb_strerror(rc),
			rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ?
			" (LMDB files follow the word size and byte order: "
			"one made on another kind of device cannot be read "
			"here; move data.mdb aside)" : "");
		mdb_env_close(store_env);
		store_env = NULL;
		return store_map_err(rc);
	}
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
		rc = store_flush();
	}
	if (!rc) {
		used_group = 0;
		used_committed = pages_in_use();
		rc = store_clock_open();
	}
	if (!rc) {
		rc = store_msg_open();
	}
	if (!rc) {
		rc = loop_idle_add(commit_now, NULL);
	}
	if (rc) {
		LOG_ERR("store in %s unusable: %s", dir, store_strerror(rc));
		store_clock_close();
		if (group) {
			mdb_txn_abort(group);
			group = NULL;
		}
		mdb_env_close(store_env);
		store_env = NULL;
		return rc;
	}
	LOG_INF("store %s open (%zu KiB map, commit window %d ms)", dir,
		map_size / 1024, store_cfg.commit_window_ms);
	return 0;
}

void store_close(void)
{
	store_flush();
	if (!store_env) {
		return;
	}
	loop_idle_del(commit_now, NULL);
	commit_report();
	store_msg_close();
	store_clock_close();
	mdb_env_close(store_env);
	store_env = NULL;
}

static void commit_took(uint64_t us)
{
	unsigned b = 0;

	while (b + 1 < COMMIT_BUCKETS && (UINT64_C(1) << b) < us) {
		b++;
	}
	commit_hist[b]++;
	if (us > commit_max_us) {
		commit_max_us = us;
	}
}

/* The commit time under which a share (per mille) of commits stayed. */
static uint64_t commit_quantile(unsigned long n, unsigned permille)
{
	unsigned long want = (n * permille + 999) / 1000, seen = 0;
	unsigned b;

	for (b = 0; b < COMMIT_BUCKETS; b++) {
		seen += commit_hist[b];
		if (seen >= want) {
			return UINT64_C(1) << b;
		}
	}
	return commit_max_us;
}

static void commit_report(void)
{
	unsigned long n = 0;
	unsigned b;

	for (b = 0; b < COMMIT_BUCKETS; b++) {
		n += commit_hist[b];
	}
	if (n) {
		LOG_INF("%lu commits of %lu writes; commit time p50 <= %llu "
			"us, p99 <= %llu us, max %llu us", n,
			store_stat_writes,
			(unsigned long long)commit_quantile(n, 500),
			(unsigned long long)commit_quantile(n, 990),
			(unsigned long long)commit_max_us);
	}
	memset(commit_hist, 0, sizeof(commit_hist));
	commit_max_us = 0;
}

int store_flush(void)
{
	unsigned i, n = n_waiting;
	int err = 0;

	tmr_cancel(&window_tmr);
	if (group) {
		uint64_t t0 = port_now_us();

		if (fail_next_commit) {
			err = fail_next_commit;
			fail_next_commit = 0;
			mdb_txn_abort(group);
		} else {
			err = store_map_err(mdb_txn_commit(group));
		}
		commit_took(port_now_us() - t0);
		group = NULL;
		group_lazy = 0;
		used_group = 0;
		used_committed = pages_in_use();
		stat_inc(store_stat_commits);
		if (err) {
			store_msg_reindex();
			stat_inc(store_stat_commit_failures);
			LOG_ERR("commit of %u writes failed: %s", group_writes,
				store_strerror(err));
		}
	}
	n_waiting = 0;
	for (i = 0; i < n; i++) {
		waiting[i].h(err, waiting[i].arg);
	}
	return err;
}

/* End of a loop turn: without a window, what the turn wrote is
 * committed now. */
static int commit_now(void *ev, void *arg)
{
	(void)ev;
	(void)arg;
	if (group && store_cfg.commit_window_ms == 0 && !group_lazy) {
		store_flush();
	}
	return 0;
}

void store_when_durable(store_durable_h *h, void *arg)
{
	if (!store_env) {
		h(ENODEV, arg);
		return;
	}
	if (!group) {
		h(0, arg); /* every write so far is committed */
		return;
	}
	if (n_waiting == CONFIG_SIMPLED_STORE_MAX_WAITING) {
		/* No room to wait: commit now for everyone. */
		h(store_flush(), arg);
		return;
	}
	waiting[n_waiting].h = h;
	waiting[n_waiting].arg = arg;
	n_waiting++;
	group_hurry();
}

void store_test_fail_commit(int err)
{
	fail_next_commit = err;
}

/*
 * Space in use: the pages up to LMDB's high-water mark less the pages on
 * its free list (FREE_DBI, as `mdb_stat -f` reads it: each record holds a
 * count of page numbers, then the numbers). Deleted records go back to
 * the free list, so a store that was full takes writes again. Walked
 * after a commit once the high-water mark nears the map's end (before,
 * that mark bounds the use well enough); writes in the open group are
 * added as they are made.
 */

static size_t pages_in_use(void)
{
	MDB_envinfo info;
	MDB_stat st;
	MDB_txn *t;
	MDB_cursor *c;
	MDB_val k, v;
	size_t free_pages = 0, last;

	if (mdb_env_info(store_env, &info) || mdb_env_stat(store_env, &st)) {
		return 0;
	}
	last = info.me_last_pgno + 1;
	if (last * st.ms_psize < map_bytes / 100 * (100 - 2 *
						     STORE_HEADROOM_PCT)) {
		/* Far from full: the high-water mark is bound enough. */
		return last * (size_t)st.ms_psize;
	}
	if (!mdb_txn_begin(store_env, NULL, MDB_RDONLY, &t)) {
		if (!mdb_cursor_open(t, 0 /* FREE_DBI */, &c)) {
			while (!mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
				size_t n;

				if (v.mv_size >= sizeof(n)) {
					memcpy(&n, v.mv_data, sizeof(n));
					free_pages += n;
				}
			}
			mdb_cursor_close(c);
		}
		mdb_txn_abort(t);
	}
	return (free_pages < last ? last - free_pages : 0) *
	       (size_t)st.ms_psize;
}

int store_backup(const char *path, size_t *bytes, char *why, size_t whylen)
{
	char tmp[4096];
	struct stat st;
	int fd, rc;

	if (!store_env) {
		snprintf(why, whylen, "the store is not open");
		return ENODEV;
	}
	if (path[0] != '/' ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.part", path) >=
	    sizeof(tmp)) {
		snprintf(why, whylen, "name the backup by its absolute path");
		return EINVAL;
	}
	/* What was acknowledged is in it: the open group goes first. */
	store_flush();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		rc = errno;
		snprintf(why, whylen, "%s: %s", tmp, strerror(rc));
		return rc;
	}
	/* Compacted: free pages left out, so the copy is what is used. */
	rc = mdb_env_copyfd2(store_env, fd, MDB_CP_COMPACT);
	if (!rc && fsync(fd)) {
		rc = errno;
	}
	if (!rc && fstat(fd, &st)) {
		rc = errno;
	}
	if (close(fd) && !rc) {
		rc = errno;
	}
	if (!rc && rename(tmp, path)) {
		rc = errno;
	}
	if (rc) {
		snprintf(why, whylen, "%s: %s", path, rc > 0 ? strerror(rc) :
			 mdb_strerror(rc));
		unlink(tmp);
		return rc > 0 ? rc : EIO;
	}
	*bytes = (size_t)st.st_size;
	LOG_INF("backup of the store written to %s (%zu bytes)", path,
		*bytes);
	return 0;
}

size_t store_bytes_used(void)
{
	return store_env ? used_committed + used_group : 0;
}

unsigned store_fill_pct(void)
{
	return store_env && map_bytes ?
	       (unsigned)(store_bytes_used() / (map_bytes / 100 + 1)) : 0;
}

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
	used_group += bytes;
	return 1;
}

#define MOD_DEF "store.def"
#define MOD_VAR store_mod
#define MOD_NAME "storage"
#define MOD_SECT &store_sect
#define MOD_START NULL
#define MOD_STOP NULL
#include "mod_def.h"
