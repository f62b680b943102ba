/** @file offline.h  Offline messages (Kamailio msilo): MESSAGEs for users
 * who cannot take them are stored in LMDB, answered 202 only once
 * durable, and delivered when the user registers a contact that accepts
 * MESSAGE, in arrival order, with retries, expiry, reminders and quotas.
 */
#ifndef OFFLINE_H
#define OFFLINE_H

#include "hook.h"
#include "sip.h"

struct mod;

/** Section `offline`; names and defaults follow msilo. */
struct offline_cfg {
	int expire_time;	/**< s a message is kept (259200) */
	int check_time;		/**< s between timer runs (60) */
	int clean_period;	/**< purge every check_time*clean_period s (5) */
	int max_messages;	/**< per owner (100); 0 = no limit */
	int max_messages_per_source;	/**< stored by one source (50); 0 =
					 * no limit */
	int max_send_ahead;	/**< s a Send-Time may be ahead (30 days) */
	int add_date;		/**< prefix text/plain bodies with the date */
	int use_mode;		/**< keep the original Call-ID */
	int use_contact;	/**< sender notice to the Contact, not From */
	int max_tries;		/**< delivery attempts before giving up (5) */
	int retry_interval;	/**< s before the first retry; doubles (30) */
	char from_address[CONFIG_SIMPLED_MAX_STR];	/**< notice From */
	char offline_message[CONFIG_SIMPLED_MAX_STR];	/**< notice text */
	char content_type_hdr[CONFIG_SIMPLED_MAX_STR];	/**< notice type */
};

extern struct offline_cfg offline_cfg;
/** The offline module (section `offline`, pool dumps). */
extern const struct mod offline_mod;


/**
 * Store req for owner and answer it: 202 once durable, or the reason it
 * could not be stored. Takes over the answer of st.
 */
void offline_store(struct sip_stx *st, const struct sip_msg *req,
		   const char *owner);

/** Store a message the server itself sends (chat room fan-out to an
 * offline member), within the owner's quota (no sender's: it counts
 * against nobody). @return 0, EDQUOT, EMSGSIZE (it would not fit once
 * written for delivery) or the store's error. */
int offline_put(const char *owner, const char *from, const char *to,
		const char *ctype, const char *body, size_t blen);

/** Messages waiting for owner (message-summary, ctl). */
unsigned offline_count(const char *owner);
/** Remove every stored message whose expiry has passed now, not at the
 * next clean_period (ctl cleanup); *n says how many, h as for
 * offline_purge(). @return 0 or ENOENT (no store; h not called). */
int offline_cleanup(unsigned *n, void (*h)(int err, void *arg), void *arg);
/** Delete every message waiting for owner (ctl); *n says how many, and
 * h gets the store's result once that is on disk. @return 0, or ENOENT
 * (no store) or a store error (h not called). */
int offline_purge(const char *owner, unsigned *n,
		  void (*h)(int err, void *arg), void *arg);

/** The event observers get (hook.h) when the number of messages
 * waiting for owner changed. */
struct offline_change {
	const char *owner;
};

/** Observe waiting-message counts: h gets a struct offline_change and
 * returns 0. @return 0 or ENOSPC. */
int offline_observe(hook_h *h, void *arg);

/** Deliver owner's waiting messages now if a contact takes them (e.g.
 * the owner published an open status). */
void offline_kick(const char *owner);

#endif
