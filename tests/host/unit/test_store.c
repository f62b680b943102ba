/** @file test_store.c  storage/: open, schema, full map, durability. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h> /* the test pokes the files behind the store's back */

#include "mem.h"
#include "store.h"

static char dir[512];

static void fresh_dir(const char *name)
{
	char f[600];

	store_close(); /* a failed test may have left it open */
	mem_set_budget(1u << 20); /* the index of waiting messages is hashed */
	snprintf(dir, sizeof(dir), "%s/store-%s-%d", getenv("TMPDIR"), name,
		 (int)getpid());
	mkdir(dir, 0700);
	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/lock.mdb", dir);
	unlink(f);
}

static uint64_t put_from(const char *sender, const char *owner,
			 const char *body, int64_t expires, int64_t send_at,
			 int expect)
{
	struct store_msg m;

	memset(&m, 0, sizeof(m));
	m.sender = sender;
	m.owner = owner;
	m.from = "<sip:bob@example.test>;tag=1";
	m.to = "<sip:alice@example.test>";
	m.ctype = "text/plain";
	m.body = body;
	m.blen = strlen(body);
	m.arrival = 1000;
	m.expires = expires;
	m.send_at = send_at;
	assert_int_equal(store_msg_put(&m), expect);
	return m.id;
}

static uint64_t put(const char *owner, const char *body, int64_t expires,
		    int64_t send_at, int expect)
{
	return put_from(NULL, owner, body, expires, send_at, expect);
}

struct seen {
	char bodies[8][64];
	unsigned n;
};

static int collect(const struct store_msg *m, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->bodies[s->n], sizeof(s->bodies[0]), "%.*s",
			 (int)m->blen, (const char *)m->body);
		s->n++;
	}
	return 0;
}

static void test_records_round_trip(void **state)
{
	struct seen s = {0};
	uint64_t a, b, c;

	(void)state;
	fresh_dir("rt");
	assert_int_equal(store_open(dir, 1u << 20), 0);
	a = put("alice@example.test", "one", 5000, 0, 0);
	b = put("bob@example.test", "other", 5000, 0, 0);
	c = put("alice@example.test", "two", 5000, 0, 0);
	assert_true(a < b && b < c);
	assert_int_equal(store_msg_count("alice@example.test"), 2);
	/* A prefix of another owner's name is another owner. */
	assert_int_equal(store_msg_count("alice@example.tes"), 0);
	store_msg_list("alice@example.test", collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.bodies[0], "one");
	assert_string_equal(s.bodies[1], "two");
	assert_int_equal(store_msg_del("alice@example.test", a), 0);
	assert_int_equal(store_msg_del("alice@example.test", a), ENOENT);
	assert_int_equal(store_msg_total(), 2);
	/* Ids keep increasing across a reopen. */
	store_close();
	assert_int_equal(store_open(dir, 1u << 20), 0);
	assert_true(put("carol@example.test", "x", 5000, 0, 0) > c);
	assert_int_equal(store_msg_total(), 3);
	store_close();
}

static void test_expiry_and_reminders(void **state)
{
	struct seen s = {0};
	unsigned n = 0;
	uint64_t r;

	(void)state;
	fresh_dir("exp");
	assert_int_equal(store_open(dir, 1u << 20), 0);
	put("a@x", "old", 100, 0, 0);
	put("a@x", "new", 9000, 0, 0);
	r = put("a@x", "later", 9000, 500, 0);
	assert_int_equal(store_msg_expire(99, 64, collect, &s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_msg_expire(100, 64, collect, &s, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(s.bodies[0], "old");
	assert_int_equal(store_msg_count("a@x"), 2);
	assert_int_equal(store_msg_next_due(), 500);
	memset(&s, 0, sizeof(s));
	store_msg_due(499, 64, collect, &s);
	assert_int_equal(s.n, 0);
	store_msg_due(500, 64, collect, &s);
	assert_int_equal(s.n, 1);
	/* Clearing the send time takes it out of the reminder index. */
	assert_int_equal(store_msg_update("a@x", r, 2, 0), 0);
	assert_int_equal(store_msg_next_due(), 0);
	memset(&s, 0, sizeof(s));
	store_msg_due(500, 64, collect, &s);
	assert_int_equal(s.n, 0);
	/* Setting one puts it back; another owner's is found beside it;
	 * a deleted message's is gone. */
	assert_int_equal(store_msg_update("a@x", r, 3, 700), 0);
	put("b@x", "b's", 9000, 600, 0);
	assert_int_equal(store_msg_next_due(), 600);
	store_msg_due(700, 64, collect, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(store_msg_del("a@x", r), 0);
	assert_int_equal(store_msg_next_due(), 600);
	store_close();
	assert_int_equal(store_open(dir, 1u << 20), 0);
	assert_int_equal(store_msg_next_due(), 600);
	store_close();
}

static void test_schema_mismatch(void **state)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi meta;
	uint32_t wrong = STORE_SCHEMA + 1;
	MDB_val k = {6, "schema"}, v = {sizeof(wrong), &wrong};

	(void)state;
	fresh_dir("schema");
	assert_int_equal(store_open(dir, 1u << 20), 0);
	store_close();
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "meta", 0, &meta), 0);
	assert_int_equal(mdb_put(t, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(t), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(dir, 1u << 20), EPROTO);
	assert_false(store_is_open());
	assert_int_equal(store_msg_count("a@x"), 0);
	assert_int_equal(put("a@x", "x", 1, 0, ENODEV), 0);
}

/* Schema 1, as simpled wrote it before the owner-keyed table: records
 * by 8-byte id in "msg", indexes by owner, expiry and reminder time. */
struct v1_rec {
	uint32_t version;
	uint32_t tries;
	int64_t arrival;
	int64_t expires;
	int64_t send_at;
	uint32_t len[6];
	uint32_t blen;
};

static void be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void v1_put(MDB_txn *t, MDB_dbi *dbi, uint64_t id,
		   const char *owner, const char *body, int64_t send_at)
{
	const char *f[6] = {owner, "<sip:bob@x>;tag=1", "<sip:a@x>",
			    "text/plain", "", ""};
	char rec[1024];
	uint8_t key[8], ok[128], tk[16];
	struct v1_rec r = {0x4d530001u, 0, 1000, 9999, send_at, {0}, 0};
	size_t off = sizeof(r), ol = strlen(owner);
	MDB_val k = {8, key}, v = {0, rec}, e = {0, ""};
	int i;

	for (i = 0; i < 6; i++) {
		r.len[i] = (uint32_t)strlen(f[i]) + 1;
		memcpy(rec + off, f[i], r.len[i]);
		off += r.len[i];
	}
	r.blen = (uint32_t)strlen(body);
	memcpy(rec + off, body, r.blen);
	memcpy(rec, &r, sizeof(r));
	v.mv_size = off + r.blen;
	be64(key, id);
	assert_int_equal(mdb_put(t, dbi[0], &k, &v, 0), 0);
	memcpy(ok, owner, ol + 1);
	be64(ok + ol + 1, id);
	k.mv_size = ol + 9;
	k.mv_data = ok;
	assert_int_equal(mdb_put(t, dbi[1], &k, &e, 0), 0);
	be64(tk, (uint64_t)9999 ^ (UINT64_C(1) << 63));
	be64(tk + 8, id);
	k.mv_size = 16;
	k.mv_data = tk;
	assert_int_equal(mdb_put(t, dbi[2], &k, &e, 0), 0);
}

/* Each message counts for its sender, whatever its owner, until it is
 * deleted or expires; the counts are rebuilt at open. */
/* Ids are never given twice, even after a restart that finds none of
 * the messages that had them (a History-Id "since" marker must not
 * match a new message); and a trim keeps the newest. */
static void test_ids_never_reused(void **state)
{
	uint64_t a, b, c;
	unsigned n;
	struct seen s;

	(void)state;
	fresh_dir("ids");
	assert_int_equal(store_open(dir, 1u << 20), 0);
	a = put("a@x", "1", 9000, 0, 0);
	b = put("a@x", "2", 9000, 0, 0);
	assert_true(b > a);
	assert_int_equal(store_msg_trim("a@x", 1, &n), 0);
	assert_int_equal(n, 1);
	memset(&s, 0, sizeof(s));
	store_msg_list("a@x", collect, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.bodies[0], "2");
	assert_int_equal(store_msg_del("a@x", b), 0);
	assert_int_equal(store_flush(), 0);
	store_close();
	assert_int_equal(store_open(dir, 1u << 20), 0);
	assert_int_equal(store_msg_total(), 0);
	c = put("a@x", "3", 9000, 0, 0);
	assert_true(c > b);
	/* Listed from past a marker: only what came after it. */
	put("a@x", "4", 9000, 0, 0);
	memset(&s, 0, sizeof(s));
	store_msg_list_after("a@x", c, collect, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.bodies[0], "4");
	store_close();
}

static void test_sender_counts(void **state)
{
	uint64_t a;
	unsigned n;

	(void)state;
	fresh_dir("senders");
	assert_int_equal(store_open(dir, 1u << 20), 0);
	a = put_from("10.0.0.3", "a@x", "1", 9000, 0, 0);
	put_from("10.0.0.3", "b@x", "2", 100, 0, 0);
	put_from("10.0.0.3", "a@x", "3", 9000, 0, 0);
	put_from("10.0.0.4", "a@x", "4", 9000, 0, 0);
	put_from("", "a@x", "5", 9000, 0, 0); /* nobody's */
	assert_int_equal(store_msg_sender_count("10.0.0.3"), 3);
	assert_int_equal(store_msg_sender_count("10.0.0.4"), 1);
	assert_int_equal(store_msg_sender_count(""), 0);
	assert_int_equal(store_msg_del("a@x", a), 0);
	assert_int_equal(store_msg_sender_count("10.0.0.3"), 2);
	assert_int_equal(store_msg_update("b@x", a + 1, 1, 0), 0);
	store_close();
	assert_int_equal(store_open(dir, 1u << 20), 0);
	assert_int_equal(store_msg_sender_count("10.0.0.3"), 2);
	assert_int_equal(store_msg_sender_count("10.0.0.4"), 1);
	assert_int_equal(store_msg_expire(100, 64, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_msg_sender_count("10.0.0.3"), 1);
	assert_int_equal(store_msg_count("a@x"), 3);
	store_close();
}

/* A store of an earlier layout is migrated at open: every waiting message
 * is kept, in order, and new ids follow the old ones. Schema 1 had index
 * tables (dropped), schema 2 the same records without them; both wrote
 * records of version 1, which count against no sender. */
static void migrate_from(uint32_t schema)
{
	static const char *const names[] = {"msg", "msg_owner", "msg_exp",
					    "msg_send"};
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi meta, dbi[4];
	MDB_val k = {6, "schema"}, v = {sizeof(schema), &schema};
	struct seen s = {0};
	int i;

	fresh_dir(schema == 1 ? "v1" : "v2");
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "meta", MDB_CREATE, &meta), 0);
	assert_int_equal(mdb_put(t, meta, &k, &v, 0), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(mdb_dbi_open(t, names[i], MDB_CREATE,
					      &dbi[i]), 0);
	}
	v1_put(t, dbi, 7, "carol@x", "c1", 0);
	v1_put(t, dbi, 8, "dave@x", "d1", 0);
	v1_put(t, dbi, 9, "carol@x", "c2", 0);
	assert_int_equal(mdb_txn_commit(t), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(dir, 1u << 20), 0);
	assert_int_equal(store_msg_total(), 3);
	assert_int_equal(store_msg_count("carol@x"), 2);
	store_msg_list("carol@x", collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.bodies[0], "c1");
	assert_string_equal(s.bodies[1], "c2");
	assert_int_equal(store_msg_sender_count(""), 0);
	assert_true(put_from("10.0.0.3", "dave@x", "d2", 9999, 0, 0) > 9);
	assert_int_equal(store_msg_update("dave@x", 8, 1, 0), 0);
	assert_int_equal(store_msg_del("carol@x", 7), 0);
	store_close();
	/* Migrated once: a second open finds schema 3 and the same data. */
	assert_int_equal(store_open(dir, 1u << 20), 0);
	assert_int_equal(store_msg_total(), 3);
	assert_int_equal(store_msg_count("dave@x"), 2);
	assert_int_equal(store_msg_sender_count("10.0.0.3"), 1);
	memset(&s, 0, sizeof(s));
	store_msg_list("dave@x", collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.bodies[0], "d1");
	assert_string_equal(s.bodies[1], "d2");
	store_close();
}

static void test_migrates_schema1(void **state)
{
	(void)state;
	migrate_from(1);
}

static void test_migrates_schema2(void **state)
{
	(void)state;
	migrate_from(2);
}

static void test_corrupt_file(void **state)
{
	char f[600];
	FILE *fp;
	int i;

	(void)state;
	fresh_dir("corrupt");
	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	fp = fopen(f, "wb");
	assert_non_null(fp);
	for (i = 0; i < 16384; i++) {
		fputc(i * 7, fp);
	}
	fclose(fp);
	assert_int_equal(store_open(dir, 1u << 20), EIO);
	assert_false(store_is_open());
}

static void test_full_map(void **state)
{
	char body[4000];
	unsigned stored = 0;
	uint64_t ids[100], id;
	int i, rc = 0;

	(void)state;
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	fresh_dir("full");
	assert_int_equal(store_open(dir, 256 * 1024), 0);
	for (i = 0; i < 100; i++) {
		struct store_msg m;

		memset(&m, 0, sizeof(m));
		m.owner = "a@x";
		m.from = m.to = "<sip:a@x>";
		m.ctype = "text/plain";
		m.body = body;
		m.blen = strlen(body);
		m.expires = 9999;
		rc = store_msg_put(&m);
		if (rc) {
			break;
		}
		ids[stored++] = m.id;
	}
	assert_int_equal(rc, ENOSPC);
	assert_true(stored > 0);
	/* Nothing half-stored; reads work; space comes back on delete. */
	assert_int_equal(store_msg_count("a@x"), stored);
	for (i = 0; i < (int)stored && i < 4; i++) {
		assert_int_equal(store_msg_del("a@x", ids[i]), 0);
	}
	id = put("a@x", "small", 9999, 0, 0);
	assert_true(id > ids[0]);
	store_close();
}

static void told(int err, void *arg)
{
	int *out = arg;

	*out = err;
}

/* Writes join the open group; whoever waits hears of the commit. */
static void test_group_commit(void **state)
{
	int a = -1, b = -1, c = -1;

	(void)state;
	fresh_dir("group");
	assert_int_equal(store_open(dir, 1u << 20), 0);
	store_when_durable(told, &a);
	assert_int_equal(a, 0); /* nothing waiting: at once */
	put("a@x", "g1", 9999, 0, 0);
	put("a@x", "g2", 9999, 0, 0);
	store_when_durable(told, &b);
	assert_int_equal(b, -1); /* not before the commit */
	assert_int_equal(store_msg_count("a@x"), 2); /* reads see the group */
	assert_int_equal(store_flush(), 0);
	assert_int_equal(b, 0);
	/* A failed commit undoes its group and says so. */
	put("a@x", "g3", 9999, 0, 0);
	store_when_durable(told, &c);
	store_test_fail_commit(EIO);
	assert_int_equal(store_flush(), EIO);
	assert_int_equal(c, EIO);
	assert_int_equal(store_msg_count("a@x"), 2);
	store_close();
	assert_int_equal(store_open(dir, 1u << 20), 0);
	assert_int_equal(store_msg_count("a@x"), 2);
	store_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_round_trip),
		cmocka_unit_test(test_expiry_and_reminders),
		cmocka_unit_test(test_schema_mismatch),
		cmocka_unit_test(test_migrates_schema1),
		cmocka_unit_test(test_migrates_schema2),
		cmocka_unit_test(test_sender_counts),
		cmocka_unit_test(test_ids_never_reused),
		cmocka_unit_test(test_corrupt_file),
		cmocka_unit_test(test_full_map),
		cmocka_unit_test(test_group_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
