/** @file msg.h  MESSAGE (RFC 3428) between users: stateful relay to every
 * registered contact of a local user in parallel; other domains go to the
 * outbound proxy.
 */
#ifndef MSG_H
#define MSG_H

#include "sip.h"

/** Does this service take a MESSAGE for this Request-URI? */
typedef int (msg_match_h)(const osip_uri_t *ruri, void *arg);

/**
 * Let a service (presence commands, chat rooms) take MESSAGEs whose
 * Request-URI it claims, before any relay. At most MSG_MAX_CLAIMS.
 */
int msg_claim(msg_match_h *match, sip_req_h *h, void *arg);
#define MSG_MAX_CLAIMS 4

int msg_init(void);
void msg_close(void);

#endif
