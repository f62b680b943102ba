/** @file port_sim.h  Test controls of the simulation port: a virtual
 * monotonic clock and an in-memory UDP network. Time moves only when
 * port_poll() has nothing to deliver, by the wait it was given, so a test of
 * a one-hour expiry runs in microseconds and always the same way.
 */
#ifndef PORT_SIM_H
#define PORT_SIM_H

#include <stdint.h>

#include "port.h"

/** Close every socket, drop queued datagrams, set the clock. */
void sim_reset(uint32_t now_ms);
/** Datagrams queued on watched sockets, i.e. work the loop still has. */
unsigned sim_pending(void);
/** Give the simulated host one more interface address (what a wildcard
 * listener answers on); sim_reset() forgets them all. */
void sim_local_addr(const struct port_addr *a);

#endif
