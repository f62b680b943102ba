/** @file port_nolocal.c  Local (AF_UNIX) sockets for a backend that has
 * none (port/sim, port/lwip): ENOSYS, and the daemon runs without its
 * control socket (`simpled ctl`). */
#include <errno.h>

#include "port.h"

int port_local_listen(int *sock, const char *path, unsigned mode)
{
	(void)sock;
	(void)path;
	(void)mode;
	return ENOSYS;
}

int port_local_accept(int lsock, int *sock)
{
	(void)lsock;
	(void)sock;
	return ENOSYS;
}

int port_local_connect(int *sock, const char *path, unsigned timeout_ms)
{
	(void)sock;
	(void)path;
	(void)timeout_ms;
	return ENOSYS;
}
