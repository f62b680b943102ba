/** @file stat.c  Counter storage and names. */
#include <string.h>

#include "stat.h"

unsigned long stat_values[STAT__COUNT];

static const char *const stat_names[STAT__COUNT] = {
#define STAT(id, name) name,
#include "stats.def"
#undef STAT
};

const char *stat_name(enum stat_id id)
{
	return stat_names[id];
}

void stat_reset(void)
{
	memset(stat_values, 0, sizeof(stat_values));
}
