/** @file imc_room.c  Rooms and their members: the records, lookup,
 * lifetime, the history of a room, and their copies in LMDB (written as
 * they change, read back at start).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "imc"
#include "imc_priv.h"
#include "log.h"
#include "mem.h"
#include "store.h"

struct imc_room *imc_rooms;
static unsigned n_members;
static struct tally by_source = TALLY_INIT(&imc_source_pool);

unsigned imc_room_count(void)
{
	return HASH_COUNT(imc_rooms);
}

unsigned imc_member_count(void)
{
	return n_members;
}

unsigned imc_walk_rooms(void (*h)(const char *room, unsigned members,
				  int private_room, void *arg), void *arg)
{
	struct imc_room *r, *tmp;
	unsigned n = 0;

	HASH_ITER(hh, imc_rooms, r, tmp) {
		n++;
		h(r->name, r->n_members, r->private_room, arg);
	}
	return n;
}

int imc_walk_members(const char *room,
		     void (*h)(const char *user, const char *role, void *arg),
		     void *arg)
{
	struct imc_room *r = imc_room_find(room);
	struct imc_member *m;

	if (!r) {
		return ENOENT;
	}
	for (m = r->members; m; m = m->next) {
		h(m->user, imc_role_name(m->role), arg);
	}
	return 0;
}

/* Room names are case-insensitive: they are kept in lower case. */
static void name_lower(char *dst, size_t size, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++) {
		dst[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				name[i] + 32 : name[i]);
	}
	dst[i] = '\0';
}

struct imc_room *imc_room_find(const char *name)
{
	struct imc_room *r;
	char key[IMC_NAME_MAX];

	if (!imc_room_name_ok(name)) {
		return NULL; /* nor would a long one match its first 63 */
	}
	name_lower(key, sizeof(key), name);
	HASH_FIND_STR(imc_rooms, key, r);
	return r;
}

struct imc_member *imc_member_find(struct imc_room *r, const char *user)
{
	struct imc_member *m;

	for (m = r ? r->members : NULL; m; m = m->next) {
		if (!strcasecmp(m->user, user)) {
			return m;
		}
	}
	return NULL;
}

enum imc_role imc_role_of(struct imc_room *r, const char *user)
{
	struct imc_member *m = imc_member_find(r, user);

	return m ? m->role : IMC_NONE;
}

/* ---------------------------------------------------------- persistence */

/* Rooms are keyed by name with their private flag as value (then, from
 * schema 3, the source that created it); members by "room\x1fuser" with
 * their role. */
static void member_key(const struct imc_room *r, const struct imc_member *m,
		       char *key, size_t size)
{
	snprintf(key, size, "%s\x1f%s", r->name, m->user);
}

static void persist_member(struct imc_room *r, struct imc_member *m)
{
	char key[IMC_NAME_MAX + CONFIG_SIMPLED_MAX_URI_LEN + 2];
	unsigned char v = (unsigned char)m->role;

	member_key(r, m, key, sizeof(key));
	if (store_rec_put(STORE_IMC_MEMBER, key, &v, 1)) {
		LOG_WRN("cannot store member %s of %s", m->user, r->name);
	}
}

static void forget_member(struct imc_room *r, struct imc_member *m)
{
	char key[IMC_NAME_MAX + CONFIG_SIMPLED_MAX_URI_LEN + 2];

	member_key(r, m, key, sizeof(key));
	store_rec_del(STORE_IMC_MEMBER, key);
}

/* ------------------------------------------------------------ lifetime */

unsigned imc_rooms_of(const char *source)
{
	return tally_count(&by_source, source);
}

/* A room in imc_rooms only, counted for source (no cap: the caller
 * decided); NULL when a pool or the hash table is out of memory. A room
 * restored (!strict) whose source cannot be counted goes uncounted. */
static struct imc_room *room_add(const char *name, int private_room,
				 const char *source, int strict)
{
	struct imc_room *r = pool_get(&imc_room_pool);

	if (!r) {
		return NULL;
	}
	if (tally_get(&by_source, source, 0, &r->src) && strict) {
		pool_put(&imc_room_pool, r);
		return NULL;
	}
	name_lower(r->name, sizeof(r->name), name);
	r->private_room = private_room;
	SD_HASH_ADD_STR(imc_rooms, name, r, &imc_room_pool);
	return r;
}

struct imc_room *imc_room_new(const char *name, int private_room,
			      const char *source)
{
	struct imc_room *r = room_add(name, private_room, source, 1);
	char v[1 + SIP_SOURCE_LEN];

	v[0] = (char)private_room;
	snprintf(v + 1, sizeof(v) - 1, "%s", source);
	if (r && store_is_open() &&
	    store_rec_put(STORE_IMC_ROOM, r->name, v, 1 + strlen(v + 1))) {
		LOG_WRN("cannot store room %s", r->name);
	}
	return r;
}

/* A member appended to r (member lists show the order people came in),
 * in memory only. */
static struct imc_member *member_link(struct imc_room *r, const char *user,
				      enum imc_role role)
{
	struct imc_member *m = pool_get(&imc_member_pool);

	if (!m) {
		return NULL;
	}
	snprintf(m->user, sizeof(m->user), "%s", user);
	m->role = role;
	if (!r->members) {
		r->members = m;
	} else {
		struct imc_member *t = r->members;

		while (t->next) {
			t = t->next;
		}
		t->next = m;
	}
	r->n_members++;
	n_members++;
	return m;
}

struct imc_member *imc_member_add(struct imc_room *r, const char *user,
				  enum imc_role role)
{
	struct imc_member *m = member_link(r, user, role);

	if (m && store_is_open()) {
		persist_member(r, m);
	}
	return m;
}

void imc_member_set_role(struct imc_room *r, struct imc_member *m,
			 enum imc_role role)
{
	m->role = role;
	persist_member(r, m);
}

/* Unlink m from r and free it; forget: drop it from LMDB too. */
static void member_drop(struct imc_room *r, struct imc_member *m, int forget)
{
	struct imc_member **pp;

	for (pp = &r->members; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	if (forget) {
		forget_member(r, m);
	}
	r->n_members--;
	n_members--;
	pool_put(&imc_member_pool, m);
}

void imc_member_del(struct imc_room *r, struct imc_member *m)
{
	member_drop(r, m, 1);
}

/* History records: "room\x1fNNN", NNN the slot in the ring. */
#define HIST_KEY_LEN (IMC_NAME_MAX + 16)

static void hist_key(const struct imc_room *r, unsigned slot, char *key,
		     size_t size)
{
	snprintf(key, size, "%.*s\x1f%03u", IMC_NAME_MAX - 1, r->name,
		 slot % 1000);
}

static void room_free(struct imc_room *r, int forget)
{
	char key[HIST_KEY_LEN];
	unsigned i, cap = (unsigned)imc_cfg.history_size;

	while (r->members) {
		member_drop(r, r->members, forget);
	}
	/* The ring's slots are its records (imc_room_restore() sweeps
	 * any other). */
	for (i = 0; forget && cap && i < r->hist_n; i++) {
		hist_key(r, (r->hist_head + i) % cap, key, sizeof(key));
		store_rec_del(STORE_IMC_HIST, key);
	}
	for (i = 0; i < IMC_HIST_SLOTS; i++) {
		mem_put(r->hist[i]);
	}
	if (forget) {
		store_rec_del(STORE_IMC_ROOM, r->name);
	}
	tally_put(&by_source, r->src);
	HASH_DEL(imc_rooms, r);
	pool_put(&imc_room_pool, r);
}

void imc_room_destroy(struct imc_room *r)
{
	room_free(r, 1);
}

void imc_room_close_all(void)
{
	struct imc_room *r, *tmp;

	HASH_ITER(hh, imc_rooms, r, tmp) {
		room_free(r, 0);
	}
}

/* ------------------------------------------------------------- history */

static struct imc_hist *hist_new(uint64_t seq, const void *text, size_t len)
{
	/* Under memory pressure history is the first thing to go. */
	struct imc_hist *h = mem_alloc(sizeof(*h) + len + 1);

	if (h) {
		h->seq = seq;
		h->len = len;
		memcpy(h->text, text, len);
		h->text[len] = '\0';
	}
	return h;
}

/* Write slot of r's ring (the text at seq) to LMDB; best effort: a
 * history that cannot be kept is not worth refusing the message for. */
static void hist_persist(struct imc_room *r, unsigned slot, uint64_t seq,
			 const char *text, size_t len)
{
	static unsigned char rec[8 + CONFIG_SIMPLED_MAX_MSG_SIZE];
	char key[HIST_KEY_LEN];
	int i;

	if (!store_is_open() || len > sizeof(rec) - 8) {
		return;
	}
	for (i = 0; i < 8; i++) {
		rec[i] = (unsigned char)(seq >> (56 - 8 * i));
	}
	memcpy(rec + 8, text, len);
	hist_key(r, slot, key, sizeof(key));
	if (store_rec_put(STORE_IMC_HIST, key, rec, 8 + len)) {
		LOG_DBG("cannot store the history of %s", r->name);
	}
}

void imc_history_add(struct imc_room *r, const char *body, size_t len)
{
	unsigned cap = (unsigned)imc_cfg.history_size, slot;

	if (!cap) {
		return;
	}
	slot = (r->hist_head + r->hist_n) % cap;
	if (r->hist_n == cap) {
		slot = r->hist_head;
		r->hist_head = (r->hist_head + 1) % cap;
	} else {
		r->hist_n++;
	}
	mem_put(r->hist[slot]);
	r->hist[slot] = hist_new(r->hist_seq, body, len);
	hist_persist(r, slot, r->hist_seq, body, len);
	r->hist_seq++;
}

void imc_history_replay(struct imc_room *r, const char *user)
{
	char from[CONFIG_SIMPLED_MAX_URI_LEN];
	unsigned i, cap = (unsigned)imc_cfg.history_size;

	imc_room_uri(r->name, from, sizeof(from));
	for (i = 0; cap && i < r->hist_n; i++) {
		const struct imc_hist *h = r->hist[(r->hist_head + i) % cap];

		if (h) {
			imc_deliver(user, from, "text/plain", h->text, h->len,
				    0);
		}
	}
}

/* ------------------------------------------------------------- restore */

static int restore_room(const char *key, const void *val, size_t vlen,
			void *arg)
{
	char src[SIP_SOURCE_LEN] = "";

	(void)arg;
	if (!imc_room_name_ok(key) || imc_room_find(key)) {
		return 0;
	}
	if (vlen > 1 && vlen - 1 < sizeof(src)) {
		memcpy(src, (const char *)val + 1, vlen - 1);
		src[vlen - 1] = '\0';
	}
	/* Out of memory: stop the walk. */
	return !room_add(key, vlen && *(const unsigned char *)val, src, 0);
}

static int restore_member(const char *key, const void *val, size_t vlen,
			  void *arg)
{
	const char *sep = strchr(key, '\x1f');
	char name[IMC_NAME_MAX];
	struct imc_room *r;
	unsigned char role;

	(void)arg;
	if (!sep || vlen != 1 || (size_t)(sep - key) >= sizeof(name)) {
		return 0;
	}
	memcpy(name, key, (size_t)(sep - key));
	name[sep - key] = '\0';
	r = imc_room_find(name);
	role = *(const unsigned char *)val;
	if (r && role >= IMC_INVITED && role <= IMC_OWNER) {
		member_link(r, sep + 1, (enum imc_role)role);
	}
	return 0;
}

/* "room\x1fNNN": the room's name into name, the slot into *slot. */
static struct imc_room *hist_room(const char *key, unsigned *slot)
{
	const char *sep = strchr(key, '\x1f');
	char name[IMC_NAME_MAX];
	size_t l = sep ? (size_t)(sep - key) : 0;

	if (!sep || l >= sizeof(name) || strlen(sep + 1) != 3 ||
	    sep[1] < '0' || sep[1] > '9' || sep[2] < '0' || sep[2] > '9' ||
	    sep[3] < '0' || sep[3] > '9') {
		return NULL;
	}
	memcpy(name, key, l);
	name[l] = '\0';
	*slot = (unsigned)(sep[1] - '0') * 100 + (unsigned)(sep[2] - '0') * 10 +
		(unsigned)(sep[3] - '0');
	return imc_room_find(name);
}

static int restore_hist(const char *key, const void *val, size_t vlen,
			void *arg)
{
	const unsigned char *v = val;
	struct imc_room *r;
	uint64_t seq = 0;
	unsigned slot;
	int i;

	(void)arg;
	r = hist_room(key, &slot);
	if (!r || slot >= IMC_HIST_SLOTS || vlen < 8 || r->hist[slot]) {
		return 0; /* swept below */
	}
	for (i = 0; i < 8; i++) {
		seq = seq << 8 | v[i];
	}
	r->hist[slot] = hist_new(seq, v + 8, vlen - 8);
	return 0;
}

static int hist_older(const struct imc_hist *a, const struct imc_hist *b)
{
	return a->seq < b->seq;
}

/*
 * The history read back into r->hist[] by slot becomes the ring. Kept in
 * place when it is one under this history_size (the usual case: nothing
 * is written); else (history_size changed) the newest history_size texts
 * are laid out again from slot 0 and written so.
 */
static void hist_settle(struct imc_room *r)
{
	struct imc_hist *e[IMC_HIST_SLOTS];
	unsigned cap = (unsigned)imc_cfg.history_size, n = 0, i, j, head = 0;
	int ring = 1;

	for (i = 0; i < IMC_HIST_SLOTS; i++) {
		if (r->hist[i]) {
			if (i >= cap) {
				ring = 0;
			}
			if (!n || hist_older(r->hist[i], r->hist[head])) {
				head = i;
			}
			n++;
		}
	}
	if (!n) {
		return;
	}
	for (i = 0; ring && i < n; i++) {
		struct imc_hist *h = r->hist[(head + i) % cap];

		ring = h && (!i || hist_older(r->hist[(head + i - 1) % cap],
					      h));
	}
	if (ring) {
		r->hist_head = head;
		r->hist_n = n;
		r->hist_seq = r->hist[(head + n - 1) % cap]->seq + 1;
		return;
	}
	/* Oldest first, then the newest cap of them from slot 0. */
	n = 0;
	for (i = 0; i < IMC_HIST_SLOTS; i++) {
		if (r->hist[i]) {
			struct imc_hist *h = r->hist[i];

			for (j = n; j > 0 && hist_older(h, e[j - 1]); j--) {
				e[j] = e[j - 1];
			}
			e[j] = h;
			n++;
			r->hist[i] = NULL;
		}
	}
	r->hist_seq = e[n - 1]->seq + 1;
	for (i = 0; i + cap < n; i++) {
		mem_put(e[i]);
	}
	r->hist_head = 0;
	r->hist_n = n - i;
	for (j = 0; i < n; i++, j++) {
		r->hist[j] = e[i];
		hist_persist(r, j, e[i]->seq, e[i]->text, e[i]->len);
	}
}

/* Records of STORE_IMC_HIST that are no slot of a ring: swept in batches
 * (a walk must not write). */
#define SWEEP_BATCH 32

struct sweep {
	unsigned n;
	char keys[SWEEP_BATCH][HIST_KEY_LEN];
};

static int hist_stale(const char *key, const void *val, size_t vlen,
		      void *arg)
{
	struct sweep *sw = arg;
	unsigned slot, cap = (unsigned)imc_cfg.history_size;
	struct imc_room *r = hist_room(key, &slot);

	(void)val;
	(void)vlen;
	if (strlen(key) >= sizeof(sw->keys[0])) {
		return 0; /* no key of ours is that long, nor can be deleted */
	}
	if (!r || slot >= cap || (slot + cap - r->hist_head) % cap >=
	    r->hist_n) {
		strcpy(sw->keys[sw->n++], key);
	}
	return sw->n == SWEEP_BATCH;
}

static void hist_sweep(void)
{
	static struct sweep sw;
	unsigned i;
	int err = 0;

	do {
		sw.n = 0;
		store_rec_walk(STORE_IMC_HIST, "", hist_stale, &sw);
		for (i = 0; i < sw.n && !err; i++) {
			err = store_rec_del(STORE_IMC_HIST, sw.keys[i]);
		}
	} while (sw.n == SWEEP_BATCH && !err);
}

void imc_room_restore(void)
{
	struct imc_room *r, *tmp;
	unsigned texts = 0;

	if (!store_is_open()) {
		return;
	}
	store_rec_walk(STORE_IMC_ROOM, "", restore_room, NULL);
	store_rec_walk(STORE_IMC_MEMBER, "", restore_member, NULL);
	store_rec_walk(STORE_IMC_HIST, "", restore_hist, NULL);
	HASH_ITER(hh, imc_rooms, r, tmp) {
		hist_settle(r);
		texts += r->hist_n;
	}
	hist_sweep();
	if (HASH_COUNT(imc_rooms)) {
		LOG_INF("%u rooms, %u members, %u history texts restored",
			HASH_COUNT(imc_rooms), n_members, texts);
	}
}
