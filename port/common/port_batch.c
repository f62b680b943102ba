/** @file port_batch.c  port_recv_batch() and port_send_batch() one
 * datagram at a time, for a backend without batch calls (port/sim,
 * port/lwip). */
#include <errno.h>

#include "port.h"

int port_recv_batch(int sock, struct port_dgram *d, unsigned n,
		    unsigned *got)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < n; i++) {
		d[i].len = d[i].size;
		err = port_recvfrom(sock, d[i].buf, &d[i].len, &d[i].peer);
		if (err && err != EMSGSIZE) {
			break;
		}
		d[i].truncated = err == EMSGSIZE;
		err = 0;
	}
	*got = i;
	return i ? 0 : err ? err : EAGAIN;
}

int port_send_batch(int sock, const struct port_dgram *d, unsigned n,
		    unsigned *sent)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < n; i++) {
		err = port_sendto(sock, d[i].buf, d[i].len, &d[i].peer);
		if (err) {
			break;
		}
	}
	*sent = i;
	return i ? 0 : err;
}
