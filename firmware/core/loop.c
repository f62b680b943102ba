/** @file loop.c  Event loop: sleep = min(next timer, caller's limit). */
#include "loop.h"
#include "port.h"
#include "tmr.h"
#include "wall.h"

static struct hook_list idle;

int loop_idle_add(hook_h *h, void *arg)
{
	return hook_add(&idle, h, arg);
}

void loop_idle_del(hook_h *h, void *arg)
{
	hook_del(&idle, h, arg);
}

void loop_once(int max_wait_ms)
{
	int wait;

	/* A wall-clock step is taken before anything of the turn reads the
	 * clock, and again after the wait (handlers ran on the old frame). */
	wall_check();
	wait = tmr_next_ms();
	if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms)) {
		wait = max_wait_ms;
	}
	port_poll(wait);
	wall_check();
	tmr_expire();
	hook_run(&idle, NULL);
}

void loop_run(loop_sig_h *on_hup)
{
	for (;;) {
		unsigned sigs;

		loop_once(-1);
		sigs = port_signals_take();
		if (sigs & PORT_SIG_TERM) {
			break;
		}
		if ((sigs & PORT_SIG_HUP) && on_hup) {
			on_hup(sigs);
		}
	}
}
