/** @file strs.h  A bounded string arena. An object that keeps text (a
 * contact URI, a Call-ID, a route set) points into its module's arena
 * instead of holding fixed-size arrays sized for the longest text, so it
 * costs what its text holds.
 *
 * Strings are immutable copies, carved in size classes from memory that
 * is reserved at the arena's size and becomes resident as it is used
 * (port_reserve(), like a pool); a freed slot is reused for a string of
 * its class, or of a smaller one when its own class has none and nothing
 * is left to carve. When the arena is spent, strs_dup() returns NULL and
 * the caller answers 503, as for an empty pool. The owner sizes the arena
 * with strs_room() for every string its pools can hold at once: a class
 * is carved anew only when all its slots are taken, so however strings
 * of different lengths come and go, the slots carved of a class never
 * outnumber those strings, and the pool, not the arena, runs out first.
 */
#ifndef CORE_STRS_H
#define CORE_STRS_H

#include <stddef.h>

/** Longest string an arena keeps (its NUL not counted). */
#define STRS_MAX_LEN 4094
#define STRS_CLASSES 17

struct strs {
	const char *name;	/**< in logs */
	char *mem;
	size_t size;		/**< bytes reserved */
	size_t top;		/**< bytes ever carved: the rest untouched */
	size_t used;		/**< bytes in the slots of live strings */
	size_t peak;
	unsigned long fails;	/**< strs_dup() refused */
	char *free[STRS_CLASSES];	/* slots given back, per class */
};

/** What to reserve for one string of at most len characters, however
 * long the strings that come and go in its place: a slot of each class
 * up to its own (about three times its slot; address space only). 0 when
 * len > STRS_MAX_LEN. */
size_t strs_room(size_t len);
/** The slot a string of len characters takes. */
size_t strs_slot(size_t len);
/** Is s one of a's strings (the empty one too)? */
int strs_owns(const struct strs *a, const char *s);
/** Reserve size bytes for the arena (start-up). @return 0 or ENOMEM. */
int strs_setup(struct strs *a, const char *name, size_t size);
void strs_release(struct strs *a);
/** A copy of s[0..n) (cut at a NUL), or NULL when the arena is spent or
 * n > STRS_MAX_LEN. The empty string takes no room. */
char *strs_dupn(struct strs *a, const char *s, size_t n);
char *strs_dup(struct strs *a, const char *s);
/** Give back a string of a (NULL: nothing). */
void strs_put(struct strs *a, char *s);
/** *sp becomes a copy of s and its old string is given back; when they
 * are equal nothing changes. @return 0, or ENOMEM leaving *sp as it was.*/
int strs_set(struct strs *a, char **sp, const char *s);
/**
 * An object's n strings changed together, in two steps so that nothing
 * changes unless all fit: strs_take() copies want[i] into taken[i] where
 * it differs from *cur[i] (cur[i] NULL: no string yet), NULL where equal;
 * all or none (ENOMEM, every taken[i] NULL). strs_swap() then puts each
 * taken string in its place and gives the old one back; strs_untake()
 * gives back what was taken instead.
 */
int strs_take(struct strs *a, char **const cur[], const char *const want[],
	      char *taken[], unsigned n);
void strs_swap(struct strs *a, char **const cur[], char *taken[], unsigned n);
void strs_untake(struct strs *a, char *taken[], unsigned n);

#endif
