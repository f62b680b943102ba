/** @file msg.h  MESSAGE (RFC 3428) between users: stateful relay to every
 * registered contact of a local user in parallel; other domains go to the
 * outbound proxy.
 */
#ifndef MSG_H
#define MSG_H

int msg_init(void);
void msg_close(void);

#endif
