/** @file msg.h  MESSAGE (RFC 3428) between users: stateful relay to every
 * registered contact of a local user in parallel; other domains go to the
 * outbound proxy.
 */
#ifndef MSG_H
#define MSG_H

#include "hook.h"
#include "sip.h"

struct mod;

/** A MESSAGE offered to the services that claim targets (hook.h). */
struct msg_in {
	struct sip_stx *st;
	const struct sip_msg *req;
};

/**
 * Let a service (presence commands, chat rooms) take MESSAGEs before any
 * relay: h gets a struct msg_in, and when the Request-URI is its own it
 * answers the request and returns 1; else 0. @return 0 or ENOSPC.
 */
int msg_claim(hook_h *h, void *arg);

/** A MESSAGE the server sends to a user (msg_send()). */
struct msg_out {
	const char *user;	/**< "user@domain" */
	const char *from_uri;	/**< sip:... of the sender (room, manager) */
	const char *ctype;	/**< Content-Type, NULL for none */
	const char *body;
	size_t blen;
	const char *hdrs;	/**< extra header lines ending in CRLF, or NULL */
	const char *outbound_proxy; /**< next hop for other domains, or NULL:
				     * the global one */
	int keep;		/**< a local user who cannot take it now gets
				 * it through the offline store (if built) */
	unsigned long *sent_stat;	/**< counts requests sent, or NULL */
	unsigned long *kept_stat;	/**< counts messages stored, or NULL */
};

/**
 * Deliver to every registered contact of a local user that accepts
 * MESSAGE, each in its own client transaction, or to the next hop for a
 * user of another domain. With keep, a local user without a contact, or
 * whose contacts all fail as unreachable (408, 480, 5xx) and none takes
 * it, gets it from the offline store later. Strings are copied.
 */
void msg_send(const struct msg_out *m);

/** The MESSAGE relay module (pool relays). */
extern const struct mod msg_mod;

#endif
