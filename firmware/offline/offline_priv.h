/** @file offline_priv.h  Internals shared by the files of offline/.
 *
 * The message table holds three kinds of queue for a user, told apart by
 * their owner key:
 *  - "user": for whichever device takes a MESSAGE first (msilo's model,
 *    for users whose devices name no +sip.instance);
 *  - "user" US "<16 hex digits>": for one device, the digits a hash of its
 *    +sip.instance (a short key that does not change across restarts);
 *  - "user" RS: the user's history (the last user_history messages).
 */
#ifndef OFFLINE_PRIV_H
#define OFFLINE_PRIV_H

#include <stdint.h>

#include "offline.h"
#include "store.h"

#define OFFLINE_DEV_SEP '\x1f'
#define OFFLINE_HIST_SEP '\x1e'

/** The queue key of user's device inst ("" or NULL: any device), or of
 * user's history (hist). @return 0 or ENAMETOOLONG. */
int offline_key(char *buf, size_t size, const char *user, const char *inst,
		int hist);
/** The user a queue key belongs to, into buf. */
void offline_key_user(const char *key, char *buf, size_t size);

/** Delete every message of queue key. @return how many. */
unsigned offline_queue_drop(const char *key);

/* offline_dev.c: the devices users registered (see there). */
int offline_dev_start(void);
void offline_dev_stop(void);
/** A binding of user with instance inst was added or refreshed (ended
 * 0) or ended (1). */
void offline_dev_seen(const char *user, const char *inst, int ended);
/** Forget devices not seen for device_memory (tick). */
void offline_dev_sweep(void);
/** Has device inst of user a binding now (taking_message: one that takes
 * MESSAGE)? */
int offline_device_bound(const char *user, const char *inst,
			 int taking_message);
/** h for each device user has remembered; h non-zero stops. */
void offline_dev_each(const char *user,
		      int (*h)(const char *inst, void *arg), void *arg);

#endif
