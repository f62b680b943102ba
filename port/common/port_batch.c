/** @file port_batch.c  port_recv_batch() one datagram at a time, for a
 * backend without a batch receive (port/sim, port/lwip). */
#include <errno.h>

#include "port.h"

int port_recv_batch(int sock, struct port_dgram *d, unsigned n,
		    unsigned *got)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < n; i++) {
		d[i].len = d[i].size;
		err = port_recvfrom(sock, d[i].buf, &d[i].len, &d[i].src);
		if (err && err != EMSGSIZE) {
			break;
		}
		d[i].truncated = err == EMSGSIZE;
		err = 0;
	}
	*got = i;
	return i ? 0 : err ? err : EAGAIN;
}
