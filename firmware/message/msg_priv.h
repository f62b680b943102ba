/** @file msg_priv.h  Internals shared by the files of message/. */
#ifndef MSG_PRIV_H
#define MSG_PRIV_H

/* Max-Breadth of a request that has none (RFC 5393 4), and the most
 * contacts one message the server sends (msg_send()) goes to. */
#define MSG_MAX_BREADTH 60

/* A final answer that means the user could not be reached (no answer,
 * unavailable, a server failure), not that they declined: the message is
 * kept for later. */
static inline int msg_unreachable(int code)
{
	return code == 408 || code == 480 || code / 100 == 5;
}

/* msg_send.c: free what is still waiting for answers (at stop). */
void msg_send_stop(void);

#endif
