/** @file port_sim.h  Test controls of the simulation port: a virtual
 * monotonic clock and an in-memory UDP network. Time moves only when
 * port_poll() has nothing to deliver, by the wait it was given, so a test of
 * a one-hour expiry runs in microseconds and always the same way.
 */
#ifndef PORT_SIM_H
#define PORT_SIM_H

#include <stdint.h>

#include "port.h"

/** The wall clock after sim_reset() until sim_set_wall_s() moves it. */
#define SIM_WALL_DEFAULT_S 1767225600 /* 2026-01-01T00:00:00Z */

/** Close every socket, drop queued datagrams, set the millisecond clock.
 * The wall clock (and port_now_us()) run on: a daemon restart in a test
 * is not a clock step. */
void sim_reset(uint32_t now_ms);
/** Make the network unreliable from now on, for every datagram sent:
 * loss, duplication and reordering (each a percentage), decided by a
 * generator started from seed so that a run is always the same. All 0:
 * reliable again (sim_reset() does that too). */
void sim_impair(unsigned loss_pct, unsigned dup_pct, unsigned reorder_pct,
		uint32_t seed);
/** Set the wall clock (port_wall_s()) to s seconds since the epoch; it
 * moves on with the virtual time. */
void sim_set_wall_s(int64_t s);
/** A TCP connection from `from` (port 0: an ephemeral one) to a
 * listener at `to`: *sock is the client end (port_send, port_recv,
 * port_close), the server end waits for port_tcp_accept(). Streams are
 * reliable and always writable. @return 0 or ECONNREFUSED. */
int sim_tcp_connect(int *sock, const struct port_addr *from,
		    const struct port_addr *to);
/** Datagrams sent to `to` are refused by port_sendto() with err (the
 * system's answer for a host it has no route to, say); err 0 takes them
 * again. sim_reset() clears it. */
void sim_udp_refuse(const struct port_addr *to, int err);
/** Datagrams queued on watched sockets, i.e. work the loop still has. */
unsigned sim_pending(void);
/** The filesystem port_fs_kind() reports for every path (the state
 * directory): PORT_FS_DISK until set; sim_reset() does not change it. */
void sim_set_fs(enum port_fs kind);
/** Interface name has address a now (NULL: none), and the watcher of
 * port_if_watch() is told at once; sim_reset() keeps them. */
void sim_if_set(const char *name, const struct port_addr *a);
/** Give the simulated host one more interface address (what a wildcard
 * listener answers on); sim_reset() forgets them all. */
void sim_local_addr(const struct port_addr *a);

#endif
