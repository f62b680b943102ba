/** @file pool.h  Fixed object pools. A pool is declared by the module that
 * owns it, in that module's X-macro table (see mod.h), with a Kconfig
 * ceiling and a default; its runtime size is the option of UCI section
 * `limits` named after it. Elements are carved at start-up only;
 * pool_get() returns NULL when the pool is empty, and the caller answers
 * 503.
 */
#ifndef CORE_POOL_H
#define CORE_POOL_H

#include <stddef.h>

struct pool_info {
	const char *name;
	unsigned ceiling;	/**< Kconfig compile-time maximum */
	unsigned size;		/**< runtime count (UCI) */
	unsigned used;
	unsigned peak;
	unsigned long fails;	/**< pool_get() on an empty pool */
};

/** A pool. Only name, ceiling and dflt are the owner's; the rest is
 * pool.c's. */
struct pool {
	const char *name;	/**< `limits` option and name in stats */
	unsigned ceiling;	/**< Kconfig compile-time maximum */
	unsigned dflt;		/**< runtime size when `limits` names none */
	int cfg_size;		/**< from `limits`; 0: dflt */
	struct pool_info info;
	size_t esize;
	unsigned char *mem;
	void *free_list;	/* elements given back */
	unsigned fresh;		/* elements ever taken: the rest untouched */
};

#define POOL_INIT(name, ceiling, dflt) {name, ceiling, dflt, 0, {0}, 0, \
					NULL, NULL, 0}

/** Carve the pool with its configured size (start-up only).
 * @return 0, EINVAL (already set up) or ENOMEM. */
int pool_setup(struct pool *p, size_t elem_size);
/** Release the pool's memory; its use counts stay readable so that a
 * test can assert, after shutdown, that nothing was left taken. */
void pool_release(struct pool *p);
/** Configured runtime size (UCI, else the default, within the ceiling). */
unsigned pool_size(const struct pool *p);
/** @return a zeroed element or NULL when the pool is exhausted. */
void *pool_get(struct pool *p);
void pool_put(struct pool *p, void *elem);
const struct pool_info *pool_info(struct pool *p);

#endif
