/** @file fuzz_daemon.h  The whole daemon in-process on port/sim for the
 * fuzz targets that drive it with datagrams (fuzz_recv, fuzz_imc). */
#ifndef FUZZ_DAEMON_H
#define FUZZ_DAEMON_H

#include <stddef.h>
#include <stdint.h>

/** Start it once (domain example.test on 10.0.0.1:5060, open
 * registration, a 4 MB store under $TMPDIR) with extra UCI lines; a
 * client socket on 10.0.0.2. Aborts when it cannot start. */
void fuzz_daemon_start(const char *name, const char *extra_cfg);
/** Send a datagram from the client to the daemon. */
void fuzz_daemon_send(const void *data, size_t len);
/** Run the loop until nothing is left to do now; with ms, let that much
 * virtual time pass too. What comes back to the client is dropped. */
void fuzz_daemon_run(uint32_t ms);
/** Has fuzz_daemon_start() run? */
int fuzz_daemon_started(void);

#endif
