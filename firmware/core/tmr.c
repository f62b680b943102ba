/** @file tmr.c  Timer heap (see tmr.h). */
#include <errno.h>
#include <stdlib.h>

#define LOG_MODULE "tmr"
#include "log.h"
#include "port.h"
#include "tmr.h"

/* Serves until tmr_init() sizes the real heap (unit tests, start-up). */
#define TMR_BUILTIN_CAP 64

static struct tmr *builtin[TMR_BUILTIN_CAP];
static struct tmr **heap = builtin;
static unsigned cap = TMR_BUILTIN_CAP;
static unsigned n;
static uint32_t seq;

int tmr_init(unsigned c)
{
	struct tmr **h;
	unsigned i;

	if (c < n) {
		return EINVAL;
	}
	h = calloc(c ? c : 1, sizeof(*h));
	if (!h) {
		return ENOMEM;
	}
	for (i = 0; i < n; i++) {
		h[i] = heap[i];
	}
	tmr_release();
	heap = h;
	cap = c;
	return 0;
}

void tmr_release(void)
{
	if (heap != builtin) {
		free(heap);
		heap = builtin;
		cap = TMR_BUILTIN_CAP;
	}
}

static int earlier(const struct tmr *a, const struct tmr *b)
{
	if (a->when != b->when) {
		return tmr_before(a->when, b->when);
	}
	return (int32_t)(a->seq - b->seq) < 0;
}

static void place(unsigned i, struct tmr *t)
{
	heap[i] = t;
	t->pos = i + 1;
}

static void sift_up(unsigned i)
{
	struct tmr *t = heap[i];

	while (i > 0) {
		unsigned p = (i - 1) / 2;

		if (!earlier(t, heap[p])) {
			break;
		}
		place(i, heap[p]);
		i = p;
	}
	place(i, t);
}

static void sift_down(unsigned i)
{
	struct tmr *t = heap[i];

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= n) {
			break;
		}
		if (c + 1 < n && earlier(heap[c + 1], heap[c])) {
			c++;
		}
		if (!earlier(heap[c], t)) {
			break;
		}
		place(i, heap[c]);
		i = c;
	}
	place(i, t);
}

void tmr_cancel(struct tmr *t)
{
	unsigned i;
	struct tmr *last;

	if (!t || !t->pos) {
		return;
	}
	i = t->pos - 1;
	t->pos = 0;
	last = heap[--n];
	if (i == n) {
		return;
	}
	heap[i] = last;
	last->pos = i + 1;
	if (i > 0 && earlier(last, heap[(i - 1) / 2])) {
		sift_up(i);
	} else {
		sift_down(i);
	}
}

int tmr_start(struct tmr *t, uint32_t ms, tmr_h *h, void *arg)
{
	tmr_cancel(t);
	if (n == cap) {
		LOG_ERR("timer heap full (%u): sizing bug", cap);
		return ENOSPC;
	}
	if (ms > INT32_MAX) {
		ms = INT32_MAX;
	}
	t->when = port_now_ms() + ms;
	t->seq = seq++;
	t->h = h;
	t->arg = arg;
	heap[n] = t;
	t->pos = ++n;
	sift_up(n - 1);
	return 0;
}

int tmr_next_ms(void)
{
	uint32_t now = port_now_ms();

	if (!n) {
		return -1;
	}
	if (!tmr_before(now, heap[0]->when)) {
		return 0;
	}
	return (int)(heap[0]->when - now);
}

void tmr_expire(void)
{
	uint32_t now = port_now_ms();

	while (n && !tmr_before(now, heap[0]->when)) {
		struct tmr *t = heap[0];

		tmr_cancel(t);
		t->h(t->arg);
	}
}

unsigned tmr_count(void)
{
	return n;
}
