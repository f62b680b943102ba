/** @file mod.h  Modules register with core what they own: their pools,
 * their counters, their UCI section, and how they start and stop. Core
 * knows no module by name; it builds the `limits` section from the
 * registered pools and serves counters by name.
 *
 * A module lists its pools and counters in one X-macro table in its own
 * folder (`<mod>.def`) with rows
 *   POOL(var, "limits option", Kconfig ceiling, default)
 *   STAT(var, "counter name")
 *   STAT_AT(lvalue, "counter name")   (a counter the module defines)
 * Its headers declare them with MOD_DEF "<mod>.def" and mod_decl.h; one of
 * its files defines them and the `struct mod` with mod_def.h.
 *
 * A module that is switched off in Kconfig is registered with
 * MOD_ABSENT: its section and its `limits` options are then refused with
 * "not built in" and the switch to turn on.
 */
#ifndef CORE_MOD_H
#define CORE_MOD_H

#include <stddef.h>

struct cfg_sect;
struct pool;
struct stat_def;

struct mod {
	const char *name;
	struct pool *const *pools;	/**< NULL-terminated, or NULL */
	const struct stat_def *stats;	/**< ends at a NULL name, or NULL */
	const struct cfg_sect *sect;	/**< its UCI section, or NULL */
	int (*start)(void);		/**< carve pools, route methods */
	void (*stop)(void);
	/* A module not built in: */
	const char *off_switch;		/**< the Kconfig symbol that is off */
	const char *off_sect;		/**< its section type, or NULL */
	const char *const *off_pools;	/**< its `limits` options, NULL end */
};

/* pools: its `limits` option names, NULL-terminated. */
#define MOD_ABSENT(var, modname, sw, sectname, pools)                   \
	static const struct mod var = {modname, NULL, NULL, NULL, NULL,  \
				       NULL, sw, sectname, pools}

/** Most modules, and most pools over all modules. */
#define MOD_MAX 16
#define MOD_MAX_POOLS 32

/** Register m (before mod_configure; order is start order).
 * @return 0, EEXIST or ENOSPC. */
int mod_register(const struct mod *m);
/** Forget every module (the daemon registers again on each start). */
void mod_reset(void);

/**
 * Load configuration into the registered sections and the `limits`
 * section: built-in defaults, then the file at path (NULL: defaults
 * only), or text when given (tests).
 * @return 0 or EINVAL with "file:line: reason" in err.
 */
int mod_configure(const char *path, const char *text, char *err,
		  size_t errlen);
/** Told of an option a reload could not change. */
typedef void (mod_restart_h)(const char *sect, const char *opt, void *arg);
/**
 * Live reload: read the file at path again into every section. What a
 * section's .restart names keeps its value (note is told of each that
 * differs); then each section's .reload runs. A file with an error, or
 * a .reload that refuses its new values (a certificate that does not
 * load), changes nothing. @return 0, or an errno with "file:line:
 * reason" (or the .reload's reason) in err.
 */
int mod_reload(const char *path, char *err, size_t errlen,
	       mod_restart_h *note, void *arg);
/** The memory budget from `limits` (bytes). */
size_t mod_mem_budget(void);
/** Objects that all pools together may hold (sizes the timer heap). */
unsigned mod_pool_total(void);
/** The i-th pool of section `limits` (registration order), NULL past
 * the last; the pool named name, or NULL. */
struct pool *mod_pool_at(unsigned i);
struct pool *mod_pool(const char *name);
/** Pool elements taken right now over all modules (tests: 0 at end). */
unsigned mod_pools_used(void);

/** Start every module in registration order; on failure the ones
 * started are stopped again. */
int mod_start(void);
/** Stop the started modules in reverse order. */
void mod_stop(void);
/** Release every pool (after the SIP layer, whose transactions live in
 * pools too, has closed). */
void mod_release(void);

/** Call h for each registered module's counters. */
typedef void (mod_stat_h)(const struct stat_def *s, void *arg);
void mod_stats_walk(mod_stat_h *h, void *arg);

/** Every section the last mod_configure() filled (`limits` too), with the
 * values it loaded; those of modules left out have off_switch set and no
 * options, and options of `limits` for their pools have it set too. */
typedef void (mod_sect_h)(const struct cfg_sect *s, void *arg);
void mod_sects_walk(mod_sect_h *h, void *arg);

#endif
