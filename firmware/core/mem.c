/** @file mem.c  Bounded allocator with arenas (see mem.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_port.h>

#define LOG_MODULE "mem"
#include "log.h"
#include "mem.h"

struct mem_hdr {
	struct mem_hdr *prev, *next;
	struct mem_arena *arena;
	size_t size;
	/* Keep the payload aligned for any type. */
	max_align_t align[];
};

/* What is read in front of any block, carved or not: the end of struct
 * mem_hdr, which is all a carved block has. MEM_CARVED in size marks one. */
struct mem_tail {
	struct mem_arena *arena;
	size_t size;
};

_Static_assert(offsetof(struct mem_hdr, align) - offsetof(struct mem_hdr, arena)
		       == sizeof(struct mem_tail) &&
	       offsetof(struct mem_tail, size) ==
		       offsetof(struct mem_hdr, size) -
			       offsetof(struct mem_hdr, arena),
	       "struct mem_tail is the end of struct mem_hdr");

#define MEM_CARVED ((size_t)1 << (sizeof(size_t) * 8 - 1))
#define MEM_ALIGN (_Alignof(max_align_t))

static size_t budget;
static size_t used;
static size_t peak;
static unsigned long fails;
static unsigned long blocks;
static unsigned long fail_countdown;
static struct mem_arena global_arena;
static struct mem_arena *cur = &global_arena;

void mem_set_budget(size_t b)
{
	budget = b;
	peak = used;
}

static void link_hdr(struct mem_hdr *h, struct mem_arena *a)
{
	h->arena = a;
	h->prev = NULL;
	h->next = a->head;
	if (a->head) {
		a->head->prev = h;
	}
	a->head = h;
	a->bytes += h->size;
}

static void unlink_hdr(struct mem_hdr *h)
{
	struct mem_arena *a = h->arena;

	if (h->prev) {
		h->prev->next = h->next;
	} else {
		a->head = h->next;
	}
	if (h->next) {
		h->next->prev = h->prev;
	}
	a->bytes -= h->size;
}

static int injected_failure(void)
{
	if (fail_countdown && --fail_countdown == 0) {
		return 1;
	}
	return 0;
}

static void refused(struct mem_arena *a)
{
	fails++;
	a->failed++;
}

/* A block of its own, linked to a (failures are injected by callers). */
static void *block(struct mem_arena *a, size_t n, int zero)
{
	struct mem_hdr *h;
	size_t total = sizeof(*h) + n;

	if (used > budget || total > budget - used) {
		refused(a);
		return NULL;
	}
	/* calloc: a large block is mapped zero pages, resident only once
	 * written (a nonce table of 128 KB costs what it holds). */
	h = zero ? calloc(1, total) : malloc(total);
	if (!h) {
		refused(a);
		return NULL;
	}
	h->size = total;
	link_hdr(h, a);
	used += total;
	blocks++;
	if (used > peak) {
		peak = used;
	}
	return h->align;
}

static char *align_up(char *p)
{
	return (char *)(((uintptr_t)p + MEM_ALIGN - 1) &
			~(uintptr_t)(MEM_ALIGN - 1));
}

/* A block carved from a bump arena's chunk, a new chunk when it is full. */
static void *carve(struct mem_arena *a, size_t n, int zero)
{
	struct mem_tail *t;
	char *p = a->pos ? align_up(a->pos + sizeof(*t)) : NULL;

	if (!p || p > a->lim || n > (size_t)(a->lim - p)) {
		size_t need = sizeof(*t) + MEM_ALIGN + n;
		size_t size = need > a->chunk ? need : a->chunk;
		char *c = block(a, size, 0);

		if (!c) {
			return NULL;
		}
		a->pos = c;
		a->lim = c + size;
		p = align_up(a->pos + sizeof(*t));
	}
	t = (struct mem_tail *)(void *)p - 1;
	t->arena = a;
	t->size = n | MEM_CARVED;
	a->pos = p + n;
	if (zero) {
		memset(p, 0, n);
	}
	return p;
}

static void *alloc(size_t n, int zero)
{
	if (injected_failure()) {
		refused(cur);
		return NULL;
	}
	return cur->chunk ? carve(cur, n, zero) : block(cur, n, zero);
}

void *mem_alloc(size_t n)
{
	return alloc(n, 0);
}

void *mem_zalloc(size_t n)
{
	return alloc(n, 1);
}

static struct mem_hdr *hdr_of(void *p)
{
	return (struct mem_hdr *)((char *)p - offsetof(struct mem_hdr, align));
}

static const struct mem_tail *tail_of(const void *p)
{
	return (const struct mem_tail *)p - 1;
}

void mem_put(void *p)
{
	struct mem_hdr *h;

	if (!p || tail_of(p)->size & MEM_CARVED) {
		return; /* a carved block goes with its arena */
	}
	h = hdr_of(p);
	unlink_hdr(h);
	used -= h->size;
	blocks--;
	free(h);
}

char *mem_strndup(const char *s, size_t n)
{
	char *d = mem_alloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/*
 * libosip2 5.3.0 dereferences a NULL osip_realloc() result inside
 * osip_message_to_str() and its helpers. simpled never calls those (it
 * writes messages itself, sip/sip_build.c), and this hook never refuses
 * to grow a block of its own for budget reasons: it is charged, possibly
 * past the budget, which makes the next mem_alloc() fail instead. A
 * carved block is carved anew, which can fail like any allocation (the
 * parse calls libosip2 makes do not grow blocks).
 */
static void *osip_realloc_hook(void *p, size_t n)
{
	struct mem_hdr *h, *nh;
	struct mem_arena *a;
	size_t total = sizeof(*h) + n;

	if (!p) {
		return mem_alloc(n);
	}
	if (tail_of(p)->size & MEM_CARVED) {
		/* Carved anew in the same arena; the old block stays there. */
		size_t old = tail_of(p)->size & ~MEM_CARVED;
		struct mem_arena *was = mem_arena_enter(tail_of(p)->arena);
		void *q = mem_alloc(n);

		mem_arena_leave(was);
		if (q) {
			memcpy(q, p, old < n ? old : n);
		}
		return q;
	}
	h = hdr_of(p);
	a = h->arena;
	unlink_hdr(h);
	used -= h->size;
	nh = realloc(h, total);
	if (!nh) {
		/* Old block is intact: charge it back and report failure. */
		link_hdr(h, a);
		used += h->size;
		fails++;
		return NULL;
	}
	nh->size = total;
	link_hdr(nh, a);
	used += total;
	if (used > peak) {
		peak = used;
	}
	return nh->align;
}

static void *osip_malloc_hook(size_t n)
{
	return mem_alloc(n);
}

static void osip_free_hook(void *p)
{
	mem_put(p);
}

static void osip_trace_hook(const char *fi, int li, osip_trace_level_t level,
			    const char *fmt, va_list ap)
{
	char line[256];

	(void)level;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\r\n")] = '\0';
	LOG_DBG("osip %s:%d: %s", fi, li, line);
}

void mem_osip_install(void)
{
	osip_set_allocators(osip_malloc_hook, osip_realloc_hook,
			    osip_free_hook);
	/* Debian's libosip2 traces to stdout unless given a function. */
	osip_trace_initialize_func(END_TRACE_LEVEL, osip_trace_hook);
}

struct mem_arena *mem_arena_enter(struct mem_arena *a)
{
	struct mem_arena *prev = cur;

	cur = a ? a : &global_arena;
	return prev;
}

void mem_arena_leave(struct mem_arena *prev)
{
	cur = prev ? prev : &global_arena;
}

unsigned mem_arena_release(struct mem_arena *a)
{
	unsigned n = 0;

	while (a->head) {
		mem_put(a->head->align);
		n++;
	}
	a->pos = a->lim = NULL;
	return n;
}

void mem_arena_bump(struct mem_arena *a, void *first, size_t size,
		    size_t chunk)
{
	a->pos = first;
	a->lim = first ? (char *)first + size : NULL;
	a->chunk = chunk ? chunk : 1;
}

size_t mem_budget(void)
{
	return budget;
}

size_t mem_used(void)
{
	return used;
}

size_t mem_peak(void)
{
	return peak;
}

unsigned long mem_fails(void)
{
	return fails;
}

unsigned long mem_blocks(void)
{
	return blocks;
}

void mem_fail_nth(unsigned long n)
{
	fail_countdown = n;
}
