/** @file hook.c  Hook lists (see hook.h). */
#include <errno.h>
#include <string.h>

#include "hook.h"

int hook_add(struct hook_list *l, hook_h *h, void *arg)
{
	if (l->n == HOOK_MAX) {
		return ENOSPC;
	}
	l->e[l->n].h = h;
	l->e[l->n].arg = arg;
	l->n++;
	return 0;
}

int hook_run(const struct hook_list *l, void *ev)
{
	unsigned i;
	int rc;

	for (i = 0; i < l->n; i++) {
		rc = l->e[i].h(ev, l->e[i].arg);
		if (rc) {
			return rc;
		}
	}
	return 0;
}

void hook_del(struct hook_list *l, hook_h *h, void *arg)
{
	unsigned i;

	for (i = 0; i < l->n; i++) {
		if (l->e[i].h == h && l->e[i].arg == arg) {
			/* Keep the order: it is the order of claims. */
			memmove(&l->e[i], &l->e[i + 1],
				(l->n - i - 1) * sizeof(l->e[0]));
			l->n--;
			return;
		}
	}
}

void hook_clear(struct hook_list *l)
{
	l->n = 0;
}
