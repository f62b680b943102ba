/** @file strs.c  Bounded string arena (see strs.h). A slot is one byte
 * naming its class, then the string and its NUL; a free slot holds the
 * next free one of its class after that byte. */
#include <errno.h>
#include <string.h>

#include "port.h"
#include "strs.h"

#define LOG_MODULE "strs"
#include "log.h"

/* Slot sizes, header byte included: steps of about 1.5x, so a string
 * wastes at most a third of its slot. */
static const unsigned short class_size[STRS_CLASSES] = {
	16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536,
	2048, 3072, 4096,
};

/* The empty string, shared: it takes no slot. */
static char empty[1];

static int class_of(size_t len)
{
	int c;

	for (c = 0; c < STRS_CLASSES; c++) {
		if (len + 2 <= class_size[c]) {
			return c;
		}
	}
	return -1;
}

size_t strs_slot(size_t len)
{
	int c = class_of(len);

	return c < 0 ? 0 : class_size[c];
}

size_t strs_room(size_t len)
{
	int c = class_of(len), k;
	size_t n = 0;

	for (k = 0; k <= c; k++) {
		n += class_size[k];
	}
	return n;
}

int strs_owns(const struct strs *a, const char *s)
{
	return s == empty ||
	       (a->mem && s > a->mem && s < a->mem + a->top);
}

int strs_setup(struct strs *a, const char *name, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->name = name;
	if (!size) {
		return 0;
	}
	a->mem = port_reserve(size);
	if (!a->mem) {
		return ENOMEM;
	}
	a->size = size;
	return 0;
}

void strs_release(struct strs *a)
{
	if (a->mem) {
		port_unreserve(a->mem, a->size);
	}
	a->mem = NULL;
	a->size = a->top = 0;
	memset(a->free, 0, sizeof(a->free));
}

/* A free slot of class c or, when it has none and the untouched end is
 * too short, of a larger class. */
static char *slot(struct strs *a, int c)
{
	char *s;
	int k;

	if (!a->free[c] && a->size - a->top >= class_size[c]) {
		s = a->mem + a->top;
		a->top += class_size[c];
		s[0] = (char)c;
		return s;
	}
	for (k = c; k < STRS_CLASSES; k++) {
		s = a->free[k];
		if (s) {
			memcpy(&a->free[k], s + 1, sizeof(char *));
			return s;
		}
	}
	return NULL;
}

char *strs_dupn(struct strs *a, const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n);
	char *sl;
	int c;

	n = nul ? (size_t)(nul - s) : n;
	if (!n) {
		return empty;
	}
	c = class_of(n);
	sl = c < 0 ? NULL : slot(a, c);
	if (!sl) {
		if (!a->fails++) {
			LOG_WRN("%s: arena of %zu bytes spent (answering 503)",
				a->name, a->size);
		}
		return NULL;
	}
	a->used += class_size[(unsigned char)sl[0]];
	if (a->used > a->peak) {
		a->peak = a->used;
	}
	memcpy(sl + 1, s, n);
	sl[1 + n] = '\0';
	return sl + 1;
}

char *strs_dup(struct strs *a, const char *s)
{
	return strs_dupn(a, s, strlen(s));
}

void strs_put(struct strs *a, char *s)
{
	char *sl;
	int c;

	if (!s || s == empty) {
		return;
	}
	sl = s - 1;
	c = (unsigned char)sl[0];
	a->used -= class_size[c];
	memcpy(sl + 1, &a->free[c], sizeof(char *));
	a->free[c] = sl;
}

int strs_set(struct strs *a, char **sp, const char *s)
{
	char *n;

	if (*sp && !strcmp(*sp, s)) {
		return 0;
	}
	n = strs_dup(a, s);
	if (!n) {
		return ENOMEM;
	}
	strs_put(a, *sp);
	*sp = n;
	return 0;
}

int strs_take(struct strs *a, char **const cur[], const char *const want[],
	      char *taken[], unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		taken[i] = NULL;
		if ((!cur[i] || !*cur[i] || strcmp(*cur[i], want[i])) &&
		    !(taken[i] = strs_dup(a, want[i]))) {
			strs_untake(a, taken, i);
			return ENOMEM;
		}
	}
	return 0;
}

void strs_swap(struct strs *a, char **const cur[], char *taken[], unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (taken[i]) {
			strs_put(a, *cur[i]);
			*cur[i] = taken[i];
			taken[i] = NULL;
		}
	}
}

void strs_untake(struct strs *a, char *taken[], unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		strs_put(a, taken[i]);
		taken[i] = NULL;
	}
}
