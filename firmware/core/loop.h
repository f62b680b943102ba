/** @file loop.h  The one event loop: timers and socket events. */
#ifndef CORE_LOOP_H
#define CORE_LOOP_H

/** Signal handlers the loop calls from its own context. */
typedef void (loop_sig_h)(unsigned sigs);

#include "hook.h"

/** Run h at the end of every turn, after sockets and timers (storage
 * commits what the turn wrote). h gets ev NULL and returns 0.
 * @return 0 or ENOSPC. */
int loop_idle_add(hook_h *h, void *arg);
/** Remove what loop_idle_add() added. */
void loop_idle_del(hook_h *h, void *arg);

/** Run one turn: wait at most max_wait_ms (negative: until an event). */
void loop_once(int max_wait_ms);
/** Run until SIGTERM (or SIGINT). */
void loop_run(loop_sig_h *on_hup);

#endif
