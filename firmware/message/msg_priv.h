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

#ifdef CONFIG_SIMPLED_OFFLINE
#include "msg.h"
#include "offline.h"
#include "reg.h"

/* Two flows that reach the same peer the same way (a user's device that
 * sent a request, and its binding). */
static inline int msg_same_peer(const struct sip_flow *a,
				const struct sip_flow *b)
{
	return a->tp == b->tp && sd_addr_eq(&a->peer, &b->peer);
}

/* The contact URI and the instance ("" none) of user's binding at flow
 * (the device a request came from). @return 0 or ENOENT. */
int msg_device_at(const char *user, const struct sip_flow *flow, char *uri,
		  size_t usize, char *inst, size_t isize);

/* A contact a message goes to now (msg_devices()); dev: its device (a
 * remembered +sip.instance), "" when it is none. */
typedef void (msg_live_h)(const struct reg_contact *ct, const char *dev,
			  void *arg);

/* Per-device delivery of c to local user: live(ct, dev, arg) for each
 * contact that takes MESSAGE and whose device has nothing waiting, one
 * contact per device (its other flows are left out); a copy kept for
 * each device that has (behind the rest, in order) and for each
 * remembered device without a binding now. The contact at except (the
 * device that sent it) and all of its device's are left out. @return how
 * many copies were kept. */
unsigned msg_devices(struct offline_copy *c, const char *user,
		     const struct sip_flow *except, msg_live_h *live,
		     void *arg);

/* c to every device of local user but the one at except, as requests of
 * ours (m: stats and nothing else, or NULL), each unreachable device
 * getting it from the store later; keep_any: when contacts without an
 * instance were all unreachable (or there were none) and nothing was
 * kept, kept for whichever device comes first. Takes its own reference
 * on c. @return the copies kept before it returns (their write is in the
 * open group). */
unsigned msg_fan(struct offline_copy *c, const char *user,
		 const struct sip_flow *except, int keep_any,
		 const struct msg_out *m);
#endif

#endif
