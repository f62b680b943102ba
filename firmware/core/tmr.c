/** @file tmr.c  Sorted timer list (see tmr.h). */
#include <stddef.h>

#include "port.h"
#include "tmr.h"

static struct tmr *head, *tail;
static unsigned count;

void tmr_cancel(struct tmr *t)
{
	if (!t || !t->active) {
		return;
	}
	if (t->prev) {
		t->prev->next = t->next;
	} else {
		head = t->next;
	}
	if (t->next) {
		t->next->prev = t->prev;
	} else {
		tail = t->prev;
	}
	t->prev = t->next = NULL;
	t->active = 0;
	count--;
}

void tmr_start(struct tmr *t, uint32_t ms, tmr_h *h, void *arg)
{
	struct tmr *p;

	tmr_cancel(t);
	if (ms > INT32_MAX) {
		ms = INT32_MAX;
	}
	t->when = port_now_ms() + ms;
	t->h = h;
	t->arg = arg;
	t->active = 1;
	count++;
	/* Find the last timer that fires no later than t. */
	for (p = tail; p && tmr_before(t->when, p->when); p = p->prev) {
	}
	t->prev = p;
	if (p) {
		t->next = p->next;
		p->next = t;
	} else {
		t->next = head;
		head = t;
	}
	if (t->next) {
		t->next->prev = t;
	} else {
		tail = t;
	}
}

int tmr_next_ms(void)
{
	uint32_t now = port_now_ms();

	if (!head) {
		return -1;
	}
	if (!tmr_before(now, head->when)) {
		return 0;
	}
	return (int)(head->when - now);
}

void tmr_expire(void)
{
	uint32_t now = port_now_ms();

	while (head && !tmr_before(now, head->when)) {
		struct tmr *t = head;

		tmr_cancel(t);
		t->h(t->arg);
	}
}

unsigned tmr_count(void)
{
	return count;
}
