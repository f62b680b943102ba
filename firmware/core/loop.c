/** @file loop.c  Event loop: sleep = min(next timer, caller's limit). */
#include "loop.h"
#include "port.h"
#include "tmr.h"

void loop_once(int max_wait_ms)
{
	int wait = tmr_next_ms();

	if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms)) {
		wait = max_wait_ms;
	}
	port_poll(wait);
	tmr_expire();
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
