/** @file stat.h  Counters, listed once in stats.def so names cannot drift.*/
#ifndef CORE_STAT_H
#define CORE_STAT_H

enum stat_id {
#define STAT(id, name) STAT_##id,
#include "stats.def"
#undef STAT
	STAT__COUNT
};

extern unsigned long stat_values[STAT__COUNT];

static inline void stat_inc(enum stat_id id)
{
	stat_values[id]++;
}

static inline unsigned long stat_get(enum stat_id id)
{
	return stat_values[id];
}

const char *stat_name(enum stat_id id);
void stat_reset(void);

#endif
