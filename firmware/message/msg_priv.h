/** @file msg_priv.h  Internals shared by the files of message/. */
#ifndef MSG_PRIV_H
#define MSG_PRIV_H

/* msg_send.c: free what is still waiting for answers (at stop). */
void msg_send_stop(void);

#endif
