/** @file tmr.h  Timers on the port's 32-bit millisecond clock. A timer is
 * embedded in its owner; tmr_cancel() is safe on an idle timer. The list is
 * kept sorted; inserts scan from the tail, where timers of equal duration
 * land, so the common case is O(1).
 */
#ifndef CORE_TMR_H
#define CORE_TMR_H

#include <stdint.h>

typedef void (tmr_h)(void *arg);

struct tmr {
	struct tmr *prev, *next;
	uint32_t when;
	tmr_h *h;
	void *arg;
	int active;
};

/** a is earlier than b, across the 2^32 ms wrap. */
static inline int tmr_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/** Arm (or re-arm) t to fire in ms milliseconds. ms <= 2^31-1. */
void tmr_start(struct tmr *t, uint32_t ms, tmr_h *h, void *arg);
void tmr_cancel(struct tmr *t);
/** Milliseconds until the next timer, or -1 when none is armed. */
int tmr_next_ms(void);
/** Run the handlers of every timer that is due. */
void tmr_expire(void);
unsigned tmr_count(void);

#endif
