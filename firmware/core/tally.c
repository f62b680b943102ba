/** @file tally.c  Counts per key (see tally.h). */
#include <errno.h>
#include <string.h>

#include "sd.h"
#include "tally.h"

static struct tally_ent *find(const struct tally *t, const char *key)
{
	struct tally_ent *e;
	char k[TALLY_KEY_LEN];

	sd_key_fit(k, sizeof(k), sd_pl_str(key));
	HASH_FIND_STR(t->head, k, e);
	return e;
}

int tally_get(struct tally *t, const char *key, unsigned max,
	      struct tally_ent **ep)
{
	struct tally_ent *e;

	*ep = NULL;
	if (!key[0]) {
		return 0;
	}
	e = find(t, key);
	if (e && max && e->n >= max) {
		return EDQUOT;
	}
	if (!e) {
		e = pool_get(t->pool);
		if (!e) {
			return ENOSPC;
		}
		sd_key_fit(e->key, sizeof(e->key), sd_pl_str(key));
		SD_HASH_ADD_STR(t->head, key, e, t->pool);
		if (!e) {
			return ENOSPC;
		}
	}
	e->n++;
	*ep = e;
	return 0;
}

void tally_put(struct tally *t, struct tally_ent *e)
{
	if (e && !--e->n) {
		HASH_DEL(t->head, e);
		pool_put(t->pool, e);
	}
}

unsigned tally_count(const struct tally *t, const char *key)
{
	const struct tally_ent *e = key[0] ? find(t, key) : NULL;

	return e ? e->n : 0;
}

void tally_clear(struct tally *t)
{
	struct tally_ent *e, *tmp;

	HASH_ITER(hh, t->head, e, tmp) {
		HASH_DEL(t->head, e);
		pool_put(t->pool, e);
	}
}
