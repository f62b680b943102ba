/** @file wall.h  The daemon's wall clock: port_wall_s() watched for steps.
 *
 * Deadlines of running things are timers on the monotonic clock; only
 * what is written to disk (a stored message's arrival, expiry and
 * reminder time, a presence document's or subscription's expiry) is in
 * wall-clock seconds. A router without a real-time clock starts with a
 * wrong wall clock and NTP steps it later, so the clock here
 *
 * - is the port's wall clock, checked against the monotonic clock at
 *   every loop turn (wall_check()): a jump of more than WALL_STEP_S from
 *   what the monotonic clock says has passed is a step, and the owners of
 *   times on disk are told (wall_observe()) so that each of those times
 *   keeps what it had left;
 * - is not synchronized while it is earlier than WALL_MIN_S or than the
 *   newest time the state on disk knows (wall_floor(): the newest stored
 *   arrival). It then
 *   counts from that time on the monotonic clock, never earlier than the
 *   truth, until the port's clock passes it, which is told as a step of
 *   a clock that was not synchronized.
 *
 * Code that needs the wall time calls wall_now(), never port_wall_s().
 */
#ifndef CORE_WALL_H
#define CORE_WALL_H

#include <stdint.h>

#include "hook.h"

/** A jump of the wall clock up to this far (NTP slewing, a turn's
 * rounding) is not a step. */
#define WALL_STEP_S 60

/** No clock this daemon runs on reads earlier (2025-01-01T00:00:00Z): a
 * router that starts at 1970 is not synchronized from the start. */
#define WALL_MIN_S 1735689600

/** The event of wall_observe() handlers. */
struct wall_step {
	int64_t delta;	/**< seconds the clock moved beyond the monotonic */
	int synced;	/**< the clock was synchronized before the step: the
			 * step moved a good clock (else it is the clock
			 * being set right, see wall.h) */
};

/** Start again from the port's clock, no observers, the floor
 * WALL_MIN_S (start-up). */
void wall_reset(void);
/** Wall-clock seconds since the epoch, as this turn knows them: a step
 * not yet taken by wall_check() is not seen. */
int64_t wall_now(void);
/** Look for a step; the loop calls it at every turn. */
void wall_check(void);
/** The state on disk knows of time t: until the clock passes it, it is
 * not synchronized (and wall_now() counts from t). */
void wall_floor(int64_t t);
/** Is the clock synchronized (see wall.h)? */
int wall_synced(void);
/** Call h with a struct wall_step at every step. @return 0 or ENOSPC. */
int wall_observe(hook_h *h, void *arg);
void wall_unobserve(hook_h *h, void *arg);

#endif
