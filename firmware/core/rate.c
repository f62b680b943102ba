/** @file rate.c  Events per source address within a window (rate.h). */
#include <errno.h>
#include <string.h>

#include "mem.h"
#include "rate.h"

static void key_of(const struct port_addr *a, uint8_t key[17])
{
	memset(key, 0, 17);
	key[0] = a->family;
	memcpy(key + 1, a->ip, a->family == PORT_AF_INET6 ? 8 : 4);
}

int rate_init(struct rate *r, unsigned n, uint32_t window_s, unsigned max)
{
	memset(r, 0, sizeof(*r));
	r->tab = mem_zalloc((size_t)n * sizeof(*r->tab));
	if (!r->tab) {
		return ENOMEM;
	}
	r->n = n;
	r->window_s = window_s;
	r->max = max;
	return 0;
}

void rate_free(struct rate *r)
{
	HASH_CLEAR(hh, r->by_key);
	mem_put(r->tab);
	memset(r, 0, sizeof(*r));
}

/* a's entry while its window runs, else NULL (an ended one is freed). */
static struct rate_ent *find(struct rate *r, const struct port_addr *a,
			     uint32_t now_s)
{
	struct rate_ent *e;
	uint8_t key[17];

	key_of(a, key);
	HASH_FIND(hh, r->by_key, key, sizeof(key), e);
	if (e && now_s - e->since_s >= r->window_s) {
		HASH_DEL(r->by_key, e);
		memset(e, 0, sizeof(*e));
		return NULL;
	}
	return e;
}

int rate_refused(struct rate *r, const struct port_addr *a, uint32_t now_s)
{
	struct rate_ent *e;

	if (!r->max || !r->tab) {
		return 0;
	}
	e = find(r, a, now_s);
	return e && e->count >= r->max;
}

void rate_count(struct rate *r, const struct port_addr *a, uint32_t now_s)
{
	struct rate_ent *e, *slot = NULL;
	unsigned i;

	if (!r->tab) {
		return;
	}
	e = find(r, a, now_s);
	if (!e) {
		for (i = 0; i < r->n; i++) {
			struct rate_ent *t = &r->tab[i];

			if (!t->count || now_s - t->since_s >= r->window_s) {
				slot = t;
				break;
			}
			if (!slot || t->count < slot->count ||
			    (t->count == slot->count &&
			     (int32_t)(t->since_s - slot->since_s) < 0)) {
				slot = t;
			}
		}
		if (slot->count) {
			HASH_DEL(r->by_key, slot);
		}
		memset(slot, 0, sizeof(*slot));
		key_of(a, slot->key);
		slot->since_s = now_s;
		sd_hash_oom = 0;
		HASH_ADD(hh, r->by_key, key, sizeof(slot->key), slot);
		if (sd_hash_oom) {
			memset(slot, 0, sizeof(*slot));
			return;
		}
		e = slot;
	}
	e->count++;
}
