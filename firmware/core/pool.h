/** @file pool.h  Fixed object pools. The list of pools is core/pools.def;
 * each pool's ceiling is a Kconfig symbol and its runtime size a UCI option
 * of section `limits`. Elements are carved at start-up only; pool_get()
 * returns NULL when the pool is empty, and the caller answers 503.
 */
#ifndef CORE_POOL_H
#define CORE_POOL_H

#include <stddef.h>

enum pool_id {
#define POOL(id, name, ceiling, dflt) POOL_##id,
#include "pools.def"
#undef POOL
	POOL__COUNT
};

struct pool_info {
	const char *name;
	unsigned ceiling;	/**< Kconfig compile-time maximum */
	unsigned size;		/**< runtime count (UCI) */
	unsigned used;
	unsigned peak;
	unsigned long fails;	/**< pool_get() on an empty pool */
};

/** Ceiling and default runtime size of each pool, from pools.def. */
unsigned pool_ceiling(enum pool_id id);
unsigned pool_default(enum pool_id id);
const char *pool_name(enum pool_id id);

/** Runtime sizes, from section `limits` of the UCI file. */
struct pool_cfg {
	int size[POOL__COUNT];
	int mem_budget_kb;
};
extern struct pool_cfg pool_cfg;
/** The policy table of section `limits`. */
struct cfg_sect;
void pool_cfg_sect(struct cfg_sect *s);

/** Carve the pool with its configured size (start-up only).
 * @return 0, EINVAL (already set up) or ENOMEM. */
int pool_setup(enum pool_id id, size_t elem_size);
/** Configured runtime size of a pool (UCI, else its default). */
unsigned pool_size(enum pool_id id);
/** Sum of the configured sizes of all pools (objects that may exist). */
unsigned pool_total(void);
/** Release every pool; used at shutdown and between tests. */
void pool_teardown_all(void);
/** @return a zeroed element or NULL when the pool is exhausted. */
void *pool_get(enum pool_id id);
void pool_put(enum pool_id id, void *elem);
const struct pool_info *pool_info(enum pool_id id);

#endif
