/** @file stat.h  Counters. Each module lists its counters in its own
 * X-macro table (see mod.h) and registers them with core; a counter is a
 * plain `unsigned long` named by the table, incremented with stat_inc().
 * Names are what `ctl stats` prints.
 */
#ifndef CORE_STAT_H
#define CORE_STAT_H

struct stat_def {
	const char *name;
	unsigned long *v;
};

#define stat_inc(v) ((void)((v)++))

/** Requests refused with 503 because a pool, the memory budget or the
 * store ran out (core's own counter, "overload_503"). */
extern unsigned long stat_overload;

/** A counter's value by name, over core's and every registered module's;
 * 0 for an unknown name. */
unsigned long stat_value(const char *name);
/** Zero every counter (tests, between runs). */
void stat_reset(void);

#endif
