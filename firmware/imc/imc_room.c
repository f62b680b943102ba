/** @file imc_room.c  Rooms and their members: the records, lookup,
 * lifetime, the history of a room, and their copies in LMDB (written as
 * they change, read back at start).
 */
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

static void room_free(struct imc_room *r, int forget)
{
	unsigned i;

	while (r->members) {
		member_drop(r, r->members, forget);
	}
	for (i = 0; i < CONFIG_SIMPLED_IMC_MAX_HISTORY; i++) {
		mem_free(r->hist[i]);
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
	mem_free(r->hist[slot]);
	/* Under memory pressure history is the first thing to go. */
	r->hist[slot] = mem_strndup(body, len);
}

void imc_history_replay(struct imc_room *r, const char *user)
{
	char from[CONFIG_SIMPLED_MAX_URI_LEN];
	unsigned i, cap = (unsigned)imc_cfg.history_size;

	imc_room_uri(r->name, from, sizeof(from));
	for (i = 0; cap && i < r->hist_n; i++) {
		const char *h = r->hist[(r->hist_head + i) % cap];

		if (h) {
			imc_deliver(user, from, "text/plain", h, strlen(h), 0);
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

void imc_room_restore(void)
{
	if (!store_is_open()) {
		return;
	}
	store_rec_walk(STORE_IMC_ROOM, "", restore_room, NULL);
	store_rec_walk(STORE_IMC_MEMBER, "", restore_member, NULL);
	if (HASH_COUNT(imc_rooms)) {
		LOG_INF("%u rooms, %u members restored", HASH_COUNT(imc_rooms),
			n_members);
	}
}
