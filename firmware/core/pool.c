/** @file pool.c  Fixed object pools with a free list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "cfg.h"
#include "pool.h"
#include "simpled_config.h"

struct pool {
	struct pool_info info;
	size_t esize;
	unsigned char *mem;
	void *free_list;
};

static const struct {
	const char *name;
	unsigned ceiling;
	unsigned dflt;
} pool_defs[POOL__COUNT] = {
#define POOL(id, name, ceiling, dflt) {name, ceiling, dflt},
#include "pools.def"
#undef POOL
};

static struct pool pools[POOL__COUNT];

unsigned pool_ceiling(enum pool_id id)
{
	return pool_defs[id].ceiling;
}

unsigned pool_default(enum pool_id id)
{
	unsigned d = pool_defs[id].dflt;

	return d < pool_defs[id].ceiling ? d : pool_defs[id].ceiling;
}

const char *pool_name(enum pool_id id)
{
	return pool_defs[id].name;
}

struct pool_cfg pool_cfg;

/* Option names are the pool names; each bounded by its Kconfig ceiling. */
static struct cfg_opt limit_opts[POOL__COUNT + 1];
static char limit_dflt[POOL__COUNT][12];
static char budget_max_dflt[12];

void pool_cfg_sect(struct cfg_sect *s)
{
	int i;

	for (i = 0; i < POOL__COUNT; i++) {
		struct cfg_opt *o = &limit_opts[i];

		snprintf(limit_dflt[i], sizeof(limit_dflt[i]), "%u",
			 pool_default((enum pool_id)i));
		o->name = pool_defs[i].name;
		o->type = CFG_INT;
		o->off = offsetof(struct pool_cfg, size) +
			 (size_t)i * sizeof(int);
		o->min = 1;
		o->max = pool_defs[i].ceiling;
		o->dflt = limit_dflt[i];
	}
	snprintf(budget_max_dflt, sizeof(budget_max_dflt), "%d",
		 CONFIG_SIMPLED_MEM_BUDGET_KB);
	limit_opts[POOL__COUNT].name = "mem_budget_kb";
	limit_opts[POOL__COUNT].type = CFG_INT;
	limit_opts[POOL__COUNT].off = offsetof(struct pool_cfg, mem_budget_kb);
	limit_opts[POOL__COUNT].min = 64;
	limit_opts[POOL__COUNT].max = CONFIG_SIMPLED_MEM_BUDGET_KB;
	limit_opts[POOL__COUNT].dflt = budget_max_dflt;
	s->type = "limits";
	s->opts = limit_opts;
	s->nopts = POOL__COUNT + 1;
	s->base = &pool_cfg;
}

int pool_setup(enum pool_id id, size_t elem_size)
{
	struct pool *p = &pools[id];
	unsigned count = pool_size(id);
	size_t esize, i;

	if (p->mem || count == 0 || count > pool_defs[id].ceiling) {
		return EINVAL;
	}
	/* Elements hold a free-list pointer when idle; keep them aligned. */
	esize = elem_size < sizeof(void *) ? sizeof(void *) : elem_size;
	esize = (esize + 15u) & ~(size_t)15u;
	p->mem = calloc(count, esize);
	if (!p->mem) {
		return ENOMEM;
	}
	memset(&p->info, 0, sizeof(p->info));
	p->info.name = pool_defs[id].name;
	p->info.ceiling = pool_defs[id].ceiling;
	p->info.size = count;
	p->esize = esize;
	p->free_list = NULL;
	for (i = count; i > 0; i--) {
		void **e = (void **)(p->mem + (i - 1) * esize);

		*e = p->free_list;
		p->free_list = e;
	}
	return 0;
}

unsigned pool_size(enum pool_id id)
{
	return pool_cfg.size[id] > 0 ? (unsigned)pool_cfg.size[id] :
	       pool_default(id);
}

unsigned pool_total(void)
{
	unsigned t = 0;
	int i;

	for (i = 0; i < POOL__COUNT; i++) {
		t += pool_size((enum pool_id)i);
	}
	return t;
}

void pool_teardown_all(void)
{
	int i;

	for (i = 0; i < POOL__COUNT; i++) {
		free(pools[i].mem);
		memset(&pools[i], 0, sizeof(pools[i]));
	}
}

void *pool_get(enum pool_id id)
{
	struct pool *p = &pools[id];
	void **e = p->free_list;

	if (!e) {
		p->info.fails++;
		return NULL;
	}
	p->free_list = *e;
	memset(e, 0, p->esize);
	p->info.used++;
	if (p->info.used > p->info.peak) {
		p->info.peak = p->info.used;
	}
	return e;
}

void pool_put(enum pool_id id, void *elem)
{
	struct pool *p = &pools[id];
	void **e = elem;

	if (!e) {
		return;
	}
	*e = p->free_list;
	p->free_list = e;
	p->info.used--;
}

const struct pool_info *pool_info(enum pool_id id)
{
	struct pool *p = &pools[id];

	p->info.name = pool_defs[id].name;
	p->info.ceiling = pool_defs[id].ceiling;
	return &p->info;
}
