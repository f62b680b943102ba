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

static void *alloc(size_t n, int zero)
{
	struct mem_hdr *h;
	size_t total = sizeof(*h) + n;

	if (injected_failure() || used > budget ||
	    total > budget - used) {
		fails++;
		cur->failed++;
		return NULL;
	}
	/* calloc: a large block is mapped zero pages, resident only once
	 * written (a nonce table of 128 KB costs what it holds). */
	h = zero ? calloc(1, total) : malloc(total);
	if (!h) {
		fails++;
		cur->failed++;
		return NULL;
	}
	h->size = total;
	link_hdr(h, cur);
	used += total;
	blocks++;
	if (used > peak) {
		peak = used;
	}
	return h->align;
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

void mem_put(void *p)
{
	struct mem_hdr *h;

	if (!p) {
		return;
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
 * writes messages itself, sip/sip_build.c), and this hook still never
 * refuses for budget reasons: a grown block is charged, possibly past the
 * budget, which makes the next mem_alloc() fail instead.
 */
static void *osip_realloc_hook(void *p, size_t n)
{
	struct mem_hdr *h, *nh;
	struct mem_arena *a;
	size_t total = sizeof(*h) + n;

	if (!p) {
		void *q = mem_alloc(n);

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
	return n;
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
