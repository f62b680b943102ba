/** @file ctl.h  Management (pua_mi's role, SPEC F): a local stream socket
 * served by the event loop, one JSON object per line each way, and the
 * same binary as its client (`simpled ctl COMMAND ARGS...`).
 *
 * Request:  {"command": "stats", "args": ["..."]}
 * Answer:   one JSON object; {"error": "why"} when it failed.
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>

#include "mod.h"

/** What the daemon tells ctl of itself (app/ is above ctl/). */
struct ctl_view {
	const char *state_dir;
	const char *version;
	const char *features;	/**< " registrar message ..." */
	/** reload: app_reload(). */
	int (*reload)(char *restart, size_t rsize, char *err, size_t errlen);
};

/** Section `ctl`: socket, max_clients. */
extern const struct mod ctl_mod;

/** Open the control socket (after the SIP layer). A port without local
 * sockets (port/sim) runs without one. @return 0 or an errno. */
int ctl_open(const struct ctl_view *v);
void ctl_close(void);
/** The socket path of the loaded configuration: `option socket`, else
 * STATE_DIR/ctl.sock. */
void ctl_socket_path(const char *state_dir, char *buf, size_t size);

/** The client: send the command (argv: COMMAND ARGS...) to the socket at
 * path and print the answer, pretty or as one line. @return the exit
 * status: 0, 1 when the daemon answered an error, 2 when it could not be
 * asked. */
int ctl_client(const char *path, int argc, char **argv, int pretty);

#endif
