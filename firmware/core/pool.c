/** @file pool.c  Fixed object pools with a free list. The elements are
 * reserved at start (port_reserve(): zero pages, resident only once
 * written) and an element is first written when it is first taken: those never taken
 * cost no resident memory, so idle memory follows use while the ceiling
 * and the 503 past it stay exactly as configured. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "port.h"

unsigned pool_size(const struct pool *p)
{
	unsigned d = p->cfg_size > 0 ? (unsigned)p->cfg_size : p->dflt;

	return d < p->ceiling ? d : p->ceiling;
}

int pool_setup(struct pool *p, size_t elem_size)
{
	unsigned count = pool_size(p);
	size_t esize;

	if (p->mem || count == 0) {
		return EINVAL;
	}
	/* Elements hold a free-list pointer when idle; keep them aligned. */
	esize = elem_size < sizeof(void *) ? sizeof(void *) : elem_size;
	esize = (esize + 15u) & ~(size_t)15u;
	p->mem = port_reserve((size_t)count * esize);
	if (!p->mem) {
		return ENOMEM;
	}
	memset(&p->info, 0, sizeof(p->info));
	p->info.name = p->name;
	p->info.ceiling = p->ceiling;
	p->info.size = count;
	p->esize = esize;
	p->free_list = NULL;
	p->fresh = 0;
	return 0;
}

void pool_release(struct pool *p)
{
	port_unreserve(p->mem, (size_t)p->info.size * p->esize);
	p->mem = NULL;
	p->free_list = NULL;
	p->fresh = 0;
	p->esize = 0;
}

void *pool_get(struct pool *p)
{
	void **e = p->free_list;

	if (e) {
		p->free_list = *e;
		memset(e, 0, p->esize);
	} else if (p->fresh < p->info.size) {
		/* Never taken: still zero as calloc gave it. */
		e = (void **)(p->mem + (size_t)p->fresh++ * p->esize);
	} else {
		p->info.fails++;
		return NULL;
	}
	p->info.used++;
	if (p->info.used > p->info.peak) {
		p->info.peak = p->info.used;
	}
	return e;
}

void pool_put(struct pool *p, void *elem)
{
	void **e = elem;

	if (!e) {
		return;
	}
	*e = p->free_list;
	p->free_list = e;
	p->info.used--;
}

const struct pool_info *pool_info(struct pool *p)
{
	p->info.name = p->name;
	p->info.ceiling = p->ceiling;
	return &p->info;
}
