/** @file offline_dev.c  The devices each user registered (RFC 5626
 * +sip.instance) within device_memory, so that a device that is off, or
 * was off across a restart, gets from the store what came meanwhile.
 *
 * In memory: one entry per user (pool device_users) with up to
 * CONFIG_SIMPLED_MAX_DEVICES devices. On disk: STORE_DEVICE records
 * "user" US "<instance>" -> the 8-byte time it was last seen, in the
 * store's frame. A record is written when a device is first seen, when a
 * binding of it ends, and on a refresh only once device_memory / 10 has
 * passed since its last write: registration refreshes write nothing.
 * Devices without an instance are never remembered (each NAT rebinding
 * would become a device of its own).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "offline"
#include "log.h"
#include "offline_priv.h"
#include "reg.h"
#include "sd_hash.h"
#include "wall.h"

#define MOD_DEF "offline.def"
#include "mod_decl.h"

struct dev {
	int64_t seen;		/* wall s, last seen */
	int64_t written;	/* wall s of its last record, 0 none */
	char inst[CONFIG_SIMPLED_MAX_INSTANCE_LEN];
};

struct dev_user {
	UT_hash_handle hh;
	unsigned n;
	struct dev d[CONFIG_SIMPLED_MAX_DEVICES];
	char user[CONFIG_SIMPLED_MAX_URI_LEN];
};

static struct dev_user *users;

#define DEV_KEY_LEN (CONFIG_SIMPLED_MAX_URI_LEN + \
		     CONFIG_SIMPLED_MAX_INSTANCE_LEN + 1)

static int rec_key(char *key, const char *user, const char *inst)
{
	int n = snprintf(key, DEV_KEY_LEN, "%s%c%s", user, OFFLINE_DEV_SEP,
			 inst);

	return n < 0 || n >= DEV_KEY_LEN ? ENAMETOOLONG : 0;
}

static void dev_write(const struct dev_user *u, struct dev *d)
{
	char key[DEV_KEY_LEN];
	uint8_t v[8];
	int64_t t = store_time_to_disk(d->seen);
	int i;

	if (!store_is_open() || rec_key(key, u->user, d->inst)) {
		return;
	}
	for (i = 0; i < 8; i++) {
		v[i] = (uint8_t)((uint64_t)t >> (56 - 8 * i));
	}
	if (!store_rec_put(STORE_DEVICE, key, v, sizeof(v))) {
		d->written = d->seen;
	}
}

/* Forget device i of u: its record and the messages it was waiting for. */
static void dev_forget(struct dev_user *u, unsigned i)
{
	char key[DEV_KEY_LEN];
	unsigned dropped;

	if (!rec_key(key, u->user, u->d[i].inst)) {
		store_rec_del(STORE_DEVICE, key);
	}
	if (!offline_key(key, sizeof(key), u->user, u->d[i].inst, 0)) {
		dropped = offline_queue_drop(key);
		if (dropped) {
			LOG_INF("%u messages for a forgotten device of %s "
				"dropped", dropped, u->user);
		}
	}
	u->d[i] = u->d[--u->n];
	stat_inc(offline_stat_devices_forgotten);
}

static void user_free(struct dev_user *u)
{
	HASH_DEL(users, u);
	pool_put(&offline_dev_pool, u);
}

static struct dev_user *user_get(const char *user)
{
	struct dev_user *u;

	HASH_FIND_STR(users, user, u);
	if (u) {
		return u;
	}
	if (strlen(user) >= sizeof(u->user)) {
		return NULL;
	}
	u = pool_get(&offline_dev_pool);
	if (!u) {
		LOG_WRN("device of %s not remembered: device_users pool "
			"exhausted", user);
		return NULL;
	}
	u->n = 0;
	strcpy(u->user, user);
	SD_HASH_ADD_STR(users, user, u, &offline_dev_pool);
	return u;
}

static struct dev *dev_find(struct dev_user *u, const char *inst)
{
	unsigned i;

	for (i = 0; i < u->n; i++) {
		if (!strcmp(u->d[i].inst, inst)) {
			return &u->d[i];
		}
	}
	return NULL;
}

/* Bindings of a device now (reg_lookup()'s callback). */
struct bound {
	const char *inst;
	int taking_message;	/* only those that take MESSAGE */
	int found;
};

static void is_bound(const struct reg_contact *c, void *arg)
{
	struct bound *b = arg;

	b->found |= (!b->taking_message || c->accepts_message) &&
		    !strcmp(c->instance, b->inst);
}

int offline_device_bound(const char *user, const char *inst,
			 int taking_message)
{
	struct bound b = {inst, taking_message, 0};

	reg_lookup(user, is_bound, &b);
	return b.found;
}

static int dev_bound(const struct dev_user *u, const struct dev *d)
{
	return offline_device_bound(u->user, d->inst, 0);
}

/* Does device d of u have messages waiting (promised: never dropped to
 * make room)? */
static int dev_waiting(const struct dev_user *u, const struct dev *d)
{
	char key[CONFIG_SIMPLED_STORE_MAX_OWNER_LEN];

	return !offline_key(key, sizeof(key), u->user, d->inst, 0) &&
	       store_msg_count(key) > 0;
}

/* Room for one more device of u: the one seen longest ago without a
 * binding now and with nothing waiting goes. @return 0 or ENOSPC. */
static int dev_room(struct dev_user *u)
{
	unsigned i, old = u->n;

	if (u->n < CONFIG_SIMPLED_MAX_DEVICES) {
		return 0;
	}
	for (i = 0; i < u->n; i++) {
		if (!dev_bound(u, &u->d[i]) && !dev_waiting(u, &u->d[i]) &&
		    (old == u->n || u->d[i].seen < u->d[old].seen)) {
			old = i;
		}
	}
	if (old == u->n) {
		return ENOSPC;
	}
	dev_forget(u, old);
	return 0;
}

void offline_dev_seen(const char *user, const char *inst, int ended)
{
	int64_t now = wall_now(), every = offline_cfg.device_memory / 10;
	struct dev_user *u;
	struct dev *d;

	if (!inst[0] || !offline_cfg.device_memory ||
	    strlen(inst) >= sizeof(d->inst)) {
		return;
	}
	u = user_get(user);
	if (!u) {
		return;
	}
	d = dev_find(u, inst);
	if (!d) {
		if (dev_room(u)) {
			LOG_WRN("a device of %s not remembered: %d devices "
				"registered or waiting for messages", user,
				CONFIG_SIMPLED_MAX_DEVICES);
			if (!u->n) {
				user_free(u);
			}
			return;
		}
		d = &u->d[u->n++];
		memset(d, 0, sizeof(*d));
		strcpy(d->inst, inst);
		stat_inc(offline_stat_devices_new);
	}
	d->seen = now;
	if (ended || !d->written || now - d->written >= every) {
		dev_write(u, d);
	}
}

int offline_device_known(const char *user, const char *inst)
{
	struct dev_user *u;

	HASH_FIND_STR(users, user, u);
	return u && inst[0] && dev_find(u, inst) != NULL;
}

void offline_dev_each(const char *user,
		      int (*h)(const char *inst, void *arg), void *arg)
{
	struct dev_user *u;
	unsigned i;

	HASH_FIND_STR(users, user, u);
	for (i = 0; u && i < u->n; i++) {
		if (h(u->d[i].inst, arg)) {
			return;
		}
	}
}

void offline_dev_sweep(void)
{
	int64_t now = wall_now();
	struct dev_user *u, *tmp;
	unsigned i;

	HASH_ITER(hh, users, u, tmp) {
		for (i = u->n; i-- > 0;) {
			if (now - u->d[i].seen >= offline_cfg.device_memory &&
			    !dev_bound(u, &u->d[i])) {
				LOG_INF("device %s of %s forgotten",
					u->d[i].inst, u->user);
				dev_forget(u, i);
			}
		}
		if (!u->n) {
			user_free(u);
		}
	}
}

static int restore(const char *key, const void *val, size_t vlen, void *arg)
{
	const char *sep = strchr(key, OFFLINE_DEV_SEP);
	char user[CONFIG_SIMPLED_MAX_URI_LEN];
	const uint8_t *v = val;
	struct dev_user *u;
	struct dev *d;
	uint64_t t = 0;
	int i;

	(void)arg;
	if (!sep || vlen != 8 || (size_t)(sep - key) >= sizeof(user) ||
	    strlen(sep + 1) >= sizeof(d->inst) || !sep[1]) {
		return 0;
	}
	memcpy(user, key, (size_t)(sep - key));
	user[sep - key] = '\0';
	u = user_get(user);
	if (!u || dev_find(u, sep + 1) ||
	    u->n == CONFIG_SIMPLED_MAX_DEVICES) {
		return 0;
	}
	for (i = 0; i < 8; i++) {
		t = t << 8 | v[i];
	}
	d = &u->d[u->n++];
	memset(d, 0, sizeof(*d));
	strcpy(d->inst, sep + 1);
	d->seen = d->written = store_time_from_disk((int64_t)t);
	return 0;
}

int offline_dev_start(void)
{
	int err = pool_setup(&offline_dev_pool, sizeof(struct dev_user));

	if (err || !store_is_open()) {
		return err;
	}
	store_rec_walk(STORE_DEVICE, "", restore, NULL);
	if (HASH_COUNT(users)) {
		LOG_INF("devices of %u users remembered",
			HASH_COUNT(users));
	}
	/* Those forgotten while the daemon was down go now. */
	offline_dev_sweep();
	return 0;
}

void offline_dev_stop(void)
{
	struct dev_user *u, *tmp;

	HASH_ITER(hh, users, u, tmp) {
		user_free(u);
	}
}
