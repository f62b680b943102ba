/** @file tally.h  Counts per key, for per-source caps (SPEC section I): how
 * many stored messages, subscriptions, documents or rooms each source
 * has, so that no single one can fill a pool. O(1) to count one in, out
 * or look one up; an entry (from the owner's fixed pool, in a hash by
 * key) lives while its count is above zero. Several tallies may share a
 * pool. Counts live in memory: the owner counts again what it restores at
 * start.
 */
#ifndef CORE_TALLY_H
#define CORE_TALLY_H

#include "sd_hash.h"

/** A key kept whole up to TALLY_KEY_LEN - 1 bytes (an IP address is at
 * most 45); a longer one is kept as its sd_key_fit() hash. */
#define TALLY_KEY_LEN 48

/** One key's count; the pool element of a tally. */
struct tally_ent {
	UT_hash_handle hh;
	unsigned n;
	char key[TALLY_KEY_LEN];
};

struct tally {
	struct pool *pool;	/**< set up by the owner (tally_ent sized) */
	struct tally_ent *head;
};

#define TALLY_INIT(pool) {pool, NULL}

/**
 * Count one more for key, unless it has max already (0: no cap). Key ""
 * is nobody: not counted, *ep NULL, 0.
 * @return 0 with *ep its entry (give it to tally_put()), EDQUOT at the
 * cap, ENOSPC when the pool or the memory budget is spent.
 */
int tally_get(struct tally *t, const char *key, unsigned max,
	      struct tally_ent **ep);
/** One less for e (NULL: nothing); the entry goes at zero. */
void tally_put(struct tally *t, struct tally_ent *e);
/** The count of key. */
unsigned tally_count(const struct tally *t, const char *key);
/** Forget every count (at stop: the owner drops what it counted). */
void tally_clear(struct tally *t);

#endif
