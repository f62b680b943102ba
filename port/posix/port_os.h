/** @file port_os.h  What port_os.c gives the network backends of a Linux
 * host (port_posix.c, port/lwip/port_lwip.c), whose sockets both take
 * the system's socket addresses. */
#ifndef PORT_OS_H
#define PORT_OS_H

#include <sys/socket.h>

#include "port.h"

socklen_t port_os_to_sockaddr(struct sockaddr_storage *ss,
			      const struct port_addr *a);
void port_os_from_sockaddr(struct port_addr *a,
			   const struct sockaddr_storage *ss);

#endif
