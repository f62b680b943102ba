/** @file port_lwip.h  What the lwIP backend adds to port.h: the board
 * (here, the test) brings an interface up before the daemon binds. */
#ifndef PORT_LWIP_H
#define PORT_LWIP_H

/** After port_init(): an lwIP interface with IPv4 address ip (a /24),
 * whose own address loops back; the default route. @return 0, EINVAL
 * or ENODEV. */
int port_lwip_netif_up(const char *ip);

#endif
