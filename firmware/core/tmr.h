/** @file tmr.h  Timers on the port's 32-bit millisecond clock, kept in a
 * binary min-heap: O(log n) start and cancel whatever the mix of
 * durations (a sorted list degraded to O(n) at a few thousand requests per
 * second, with 500 ms and 32 s timers interleaved). A timer is embedded in
 * its owner; tmr_cancel() is safe on an idle timer. Equal deadlines fire in
 * the order they were armed.
 */
#ifndef CORE_TMR_H
#define CORE_TMR_H

#include <stdint.h>

typedef void (tmr_h)(void *arg);

struct tmr {
	uint32_t when;
	uint32_t seq;		/* arming order, breaks ties */
	unsigned pos;		/* heap index + 1; 0 when idle */
	tmr_h *h;
	void *arg;
};

/** a is earlier than b, across the 2^32 ms wrap. */
static inline int tmr_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline int tmr_active(const struct tmr *t)
{
	return t->pos != 0;
}

/** Milliseconds until an armed t fires (0 when due), on now_ms. */
static inline uint32_t tmr_left_ms(const struct tmr *t, uint32_t now_ms)
{
	return tmr_before(now_ms, t->when) ? t->when - now_ms : 0;
}

/**
 * Size the heap for at most cap armed timers (start-up only; the daemon
 * derives cap from its pools, each of whose objects embeds at most two
 * timers). Until called, a small built-in heap serves.
 * @return 0 or ENOMEM.
 */
int tmr_init(unsigned cap);
void tmr_release(void);

/** Arm (or re-arm) t to fire in ms milliseconds. ms <= 2^31-1.
 * @return 0, or ENOSPC when the heap is full (a sizing bug: logged). */
int tmr_start(struct tmr *t, uint32_t ms, tmr_h *h, void *arg);
void tmr_cancel(struct tmr *t);
/** Milliseconds until the next timer, or -1 when none is armed. */
int tmr_next_ms(void);
/** Run the handlers of every timer that is due. */
void tmr_expire(void);
unsigned tmr_count(void);

#endif
