/** @file wall.c  Wall-clock steps (see wall.h).
 *
 * The clock is an anchor (wall seconds at a monotonic instant) moved on
 * by the monotonic clock. At every check the port's clock is compared
 * with it: within WALL_STEP_S the anchor follows the port (slewing and
 * rounding are absorbed, never summed up); beyond it, the owners of
 * stored times are told the step before the anchor moves, so that no
 * caller ever mixes a time read before the step with one read after it.
 */
#define LOG_MODULE "wall"
#include "log.h"
#include "port.h"
#include "wall.h"

static int64_t anchor_s;	/* wall seconds at anchor_us */
static uint64_t anchor_us;	/* monotonic */
static int anchored;		/* else the next call anchors */
static int synced = 1;
static struct hook_list observers;

/* The anchor moved on to the monotonic instant now_us. */
static int64_t counted(uint64_t now_us)
{
	return anchor_s + (int64_t)((now_us - anchor_us) / 1000000u);
}

static void anchor(int64_t s, uint64_t now_us)
{
	anchor_s = s;
	anchor_us = now_us;
	anchored = 1;
}

/* Anchored on the port's clock, synchronized, when nothing is yet. */
static void start(void)
{
	if (!anchored) {
		anchor(port_wall_s(), port_now_us());
		synced = 1;
	}
}

void wall_reset(void)
{
	anchored = 0;
	start();
	hook_clear(&observers);
	wall_floor(WALL_MIN_S);
}

int64_t wall_now(void)
{
	int64_t c, w;

	start();
	c = counted(port_now_us());
	w = port_wall_s();

	if (!synced || w - c > WALL_STEP_S || c - w > WALL_STEP_S) {
		return c; /* not synchronized, or a step not yet told */
	}
	return w;
}

static void step(int64_t delta, int64_t w, uint64_t now_us)
{
	struct wall_step ev = {delta, synced};

	LOG_WRN("wall clock stepped %+lld s%s", (long long)delta,
		synced ? "" : ": synchronized now");
	hook_run(&observers, &ev);
	anchor(w, now_us);
	synced = 1;
}

void wall_check(void)
{
	uint64_t now_us;
	int64_t w, d;

	start();
	now_us = port_now_us();
	w = port_wall_s();
	d = w - counted(now_us);

	if (!synced) {
		/* Counting from the floor until the port's clock passes. */
		if (d >= 0) {
			step(d, w, now_us);
		}
		return;
	}
	if (d > WALL_STEP_S || d < -WALL_STEP_S) {
		step(d, w, now_us);
		return;
	}
	anchor(w, now_us);
}

void wall_floor(int64_t t)
{
	int64_t now = wall_now();

	if (t <= now) {
		return;
	}
	LOG_WRN("wall clock %lld is before the newest stored time %lld: "
		"not synchronized, counting from there",
		(long long)now, (long long)t);
	anchor(t, port_now_us());
	synced = 0;
}

int wall_synced(void)
{
	return synced;
}

int wall_observe(hook_h *h, void *arg)
{
	return hook_add(&observers, h, arg);
}

void wall_unobserve(hook_h *h, void *arg)
{
	hook_del(&observers, h, arg);
}
