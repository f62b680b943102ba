/** @file mod_def.h  Defines the pools and counters of a module's X-macro
 * table and the module itself (see mod.h). In exactly one file of the
 * module:
 *   #define MOD_DEF "reg.def"
 *   #define MOD_VAR reg_mod
 *   #define MOD_NAME "registrar"
 *   #define MOD_SECT &reg_sect        (or NULL)
 *   #define MOD_START reg_start       (or NULL)
 *   #define MOD_STOP reg_stop         (or NULL)
 *   #include "mod_def.h"
 */
#include "mod.h"
#include "pool.h"
#include "stat.h"

#define POOL(var, name, ceiling, dflt) \
	struct pool var = POOL_INIT(name, ceiling, dflt);
#define STAT(var, name) unsigned long var;
#define STAT_AT(lvalue, name)
#include MOD_DEF
#undef POOL
#undef STAT
#undef STAT_AT

static struct pool *const mod_def_pools[] = {
#define POOL(var, name, ceiling, dflt) &var,
#define STAT(var, name)
#define STAT_AT(lvalue, name)
#include MOD_DEF
#undef POOL
#undef STAT
#undef STAT_AT
	NULL
};

static const struct stat_def mod_def_stats[] = {
#define POOL(var, name, ceiling, dflt)
#define STAT(var, name) {name, &var},
#define STAT_AT(lvalue, name) {name, &(lvalue)},
#include MOD_DEF
#undef POOL
#undef STAT
#undef STAT_AT
	{NULL, NULL}
};

const struct mod MOD_VAR = {MOD_NAME, mod_def_pools, mod_def_stats,
			    MOD_SECT, MOD_START, MOD_STOP, NULL, NULL, NULL};

#undef MOD_DEF
#undef MOD_VAR
#undef MOD_NAME
#undef MOD_SECT
#undef MOD_START
#undef MOD_STOP
