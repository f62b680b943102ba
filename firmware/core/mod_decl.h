/** @file mod_decl.h  Declares the pools and counters of a module's
 * X-macro table (see mod.h). Include with MOD_DEF set to the table:
 *   #define MOD_DEF "reg.def"
 *   #include "mod_decl.h"
 */
#include "pool.h"
#include "stat.h"

#define POOL(var, name, ceiling, dflt) extern struct pool var;
#define STAT(var, name) extern unsigned long var;
#define STAT_AT(lvalue, name)
#include MOD_DEF
#undef POOL
#undef STAT
#undef STAT_AT
#undef MOD_DEF
