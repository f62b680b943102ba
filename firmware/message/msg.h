/** @file msg.h  MESSAGE (RFC 3428) between users: stateful relay to every
 * registered contact of a local user in parallel; other domains go to the
 * outbound proxy.
 */
#ifndef MSG_H
#define MSG_H

#include "sip.h"

struct mod;

/** Does this service take a MESSAGE for this Request-URI? */
typedef int (msg_match_h)(const osip_uri_t *ruri);

/** A claim on MESSAGE targets (owned by the service, lives as long). */
struct msg_claim {
	msg_match_h *match;
	sip_req_h *h;		/**< takes (answers) the MESSAGE */
};

/**
 * Let a service (presence commands, chat rooms) take the MESSAGEs whose
 * Request-URI it matches, before any relay; claims are tried in the order
 * made (a hook each, see hook.h). @return 0 or ENOSPC.
 */
int msg_claim(const struct msg_claim *c);

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
