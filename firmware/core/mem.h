/** @file mem.h  The bounded allocator. Every byte lent at run time to
 * libosip2, uthash and message buffers comes from one budget; when it is
 * spent, mem_alloc() returns NULL and the caller answers 503.
 *
 * Arenas: every allocation is linked to the arena that was current when it
 * was made. A parsed SIP message owns an arena, so whatever libosip2 forgets
 * to free (see tests/host/data/osip-crashes) is released with the message.
 *
 * A bump arena (mem_arena_bump()) carves its blocks one after the other
 * from chunks and gives nothing back before mem_arena_release(): for the
 * many small blocks libosip2 makes while it parses a message, which all go
 * together with it. mem_put() of a carved block does nothing.
 */
#ifndef CORE_MEM_H
#define CORE_MEM_H

#include <stddef.h>

struct mem_hdr;

struct mem_arena {
	struct mem_hdr *head;	/**< allocations still live */
	size_t bytes;		/**< bytes charged to this arena */
	unsigned failed;	/**< allocations refused while current */
	/* Bump mode: where the next block is carved and where the chunk
	 * ends; chunk is the size of the next chunk (0: not a bump arena). */
	char *pos, *lim;
	size_t chunk;
};

/** Set the budget in bytes. Allocations must all be freed before. */
void mem_set_budget(size_t budget);
/** @return NULL when the budget is spent (counted in mem_fails()). */
void *mem_alloc(size_t n);
void *mem_zalloc(size_t n);
/** Give p back (NULL: nothing). Not "mem_free" nor "mem_init": lwIP
 * has those, and a port to it links both (tests/host/unit/
 * test_port_lwip.c). */
void mem_put(void *p);
char *mem_strndup(const char *s, size_t n);

/** Make a the current arena; returns the previous one for mem_arena_leave.*/
struct mem_arena *mem_arena_enter(struct mem_arena *a);
void mem_arena_leave(struct mem_arena *prev);
/** Free what is still live in a. @return the number of blocks freed
 * (a bump arena's chunks among them). */
unsigned mem_arena_release(struct mem_arena *a);
/** Make a a bump arena: blocks carved first from [first, first + size)
 * (memory the caller owns and keeps until the release; may be NULL),
 * then from chunks of at least chunk bytes taken from the budget. */
void mem_arena_bump(struct mem_arena *a, void *first, size_t size,
		    size_t chunk);

size_t mem_budget(void);
size_t mem_used(void);
size_t mem_peak(void);
unsigned long mem_fails(void);
unsigned long mem_blocks(void);

/** Route libosip2's allocations through the budget and its trace to log. */
void mem_osip_install(void);

/** Tests: make the n-th next allocation fail once (0 disables). */
void mem_fail_nth(unsigned long n);

#endif
