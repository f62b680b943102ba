/** @file sd_hash.h  uthash drawing from the bounded allocator. Include
 * this instead of <uthash.h>. After HASH_ADD*, check sd_hash_oom: when set,
 * the item was not added (the bucket table could not be allocated).
 */
#ifndef CORE_SD_HASH_H
#define CORE_SD_HASH_H

#include "mem.h"

extern int sd_hash_oom;

#define uthash_malloc(sz) mem_alloc(sz)
#define uthash_free(ptr, sz) mem_put(ptr)
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (sd_hash_oom = 1)

#include <uthash.h>

#include "pool.h"

/* HASH_ADD_STR / HASH_ADD of an object taken from pool: when the bucket
 * table cannot be allocated the object goes back to its pool and obj is
 * NULL afterwards. */
#define SD_HASH_ADD_STR(head, field, obj, pool)                        \
	SD_HASH_ADD(hh, head, field, strlen((obj)->field), obj, pool)
/* The same for a key the object points to (keyptr) rather than holds. */
#define SD_HASH_ADD_KEYPTR(hh, head, keyptr, len, obj, pool)           \
	do {                                                           \
		sd_hash_oom = 0;                                       \
		HASH_ADD_KEYPTR(hh, head, keyptr, len, obj);           \
		if (sd_hash_oom) {                                     \
			pool_put(pool, obj);                           \
			(obj) = NULL;                                  \
		}                                                      \
	} while (0)
#define SD_HASH_ADD(hh, head, field, len, obj, pool)                   \
	SD_HASH_ADD_KEYPTR(hh, head, &((obj)->field), len, obj, pool)

#endif
