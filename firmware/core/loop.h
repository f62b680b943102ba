/** @file loop.h  The one event loop: timers and socket events. */
#ifndef CORE_LOOP_H
#define CORE_LOOP_H

/** Signal handlers the loop calls from its own context. */
typedef void (loop_sig_h)(unsigned sigs);

/** Run one turn: wait at most max_wait_ms (negative: until an event). */
void loop_once(int max_wait_ms);
/** Run until SIGTERM (or SIGINT). */
void loop_run(loop_sig_h *on_hup);

#endif
