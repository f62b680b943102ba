/** @file offline.h  Offline messages (Kamailio msilo): MESSAGEs for users
 * who cannot take them are stored in LMDB, answered 202 only once
 * durable, and delivered when the user registers a contact that accepts
 * MESSAGE, in arrival order, with retries, expiry, reminders and quotas;
 * a copy per device (+sip.instance) for the devices that are away, and
 * each user's history (README: Delivery to every device).
 */
#ifndef OFFLINE_H
#define OFFLINE_H

#include "hook.h"
#include "sip.h"
#include "store.h"

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
	int device_memory;	/**< s a device is remembered (7 days); 0:
				 * none (msilo's model) */
	int sent_copies;	/**< copies of sent messages to the sender's
				 * other devices */
	int user_history;	/**< messages kept per user (100); 0: none */
	int history_expire;	/**< s a history entry is kept (30 days) */
	char history_user[CONFIG_SIMPLED_MAX_STR];	/**< its service */
};

/** Header marking a copy of what the user sent from another device. */
#define OFFLINE_SENT_HDR "Sent-Copy"
/** Header giving a message's place in its user's history (the marker of
 * "since <id>"). */
#define OFFLINE_HIST_HDR "History-Id"


extern struct offline_cfg offline_cfg;
/** The offline module (section `offline`, pool dumps). */
extern const struct mod offline_mod;


/**
 * Store req for whichever of owner's devices comes first and answer it:
 * 202 once durable, or the reason it could not be stored (a reminder,
 * Send-Time: kept until its time; not in the history). Takes over the
 * answer of st.
 */
void offline_store(struct sip_stx *st, const struct sip_msg *req,
		   const char *owner);

/**
 * A message as it is kept for a user's devices and history: its fields
 * and body in one block of the memory budget, shared by reference by
 * whatever waits to keep it (a relay's branches, a room's sends).
 */
struct offline_copy {
	unsigned refs;
	uint64_t hist_id;	/**< its entry in the user's history, 0 none */
	int64_t expires;	/**< wall s; 0: not to be kept (Expires: 0) */
	int sent;		/**< a copy of what the user sent */
	int counted;		/**< one kept copy counts for its sender */
	const char *from, *to, *ctype, *callid, *extra, *sender;
	const char *body;
	size_t blen;
	char text[];
};

/** A copy of req, counted for its sender (sip_msg_source()).
 * @return NULL without memory. */
struct offline_copy *offline_copy_req(const struct sip_msg *req);
/** A copy of a message the server sends (rooms), counted for nobody;
 * extra: header lines (CRLF-ended) it carries, or NULL. */
struct offline_copy *offline_copy_new(const char *from, const char *to,
				      const char *ctype, const char *extra,
				      const char *body, size_t blen);
/** Drop a reference (NULL: nothing). */
void offline_copy_put(struct offline_copy *c);
/** The header lines a copy is delivered with (OFFLINE_HIST_HDR, and
 * OFFLINE_SENT_HDR for a sent one; with_extra: and the lines kept from
 * the request), CRLF-ended, into buf. @return buf. */
const char *offline_copy_hdrs(const struct offline_copy *c, int with_extra,
			      char *buf, size_t size);

/** Is inst a remembered device of user (device_memory)? Only those get
 * copies of their own; other contacts are reached while registered. */
int offline_device_known(const char *user, const char *inst);
/** Does device inst of user have messages waiting? Then a new one must
 * wait behind them, not go to it directly. */
int offline_device_waiting(const char *user, const char *inst);
/** Keep c for device inst of user (NULL or "": whichever device takes
 * it first). @return 0, EDQUOT (the queue is full), EUSERS (its sender's
 * quota), EMSGSIZE, ENOSPC, ENOENT (not to be kept) or the store's
 * error. */
int offline_keep(struct offline_copy *c, const char *user, const char *inst);
/** Keep c for every remembered device of user without a binding that
 * takes MESSAGE now, except device except (NULL: none). @return how many
 * copies were kept. */
unsigned offline_keep_away(struct offline_copy *c, const char *user,
			   const char *except);
/** Add c to user's history (sets c->hist_id). @return its id, 0 when
 * there is no history. */
uint64_t offline_history_add(struct offline_copy *c, const char *user);
/** Send user's history entries after id `after`, oldest first, one at a
 * time, as MESSAGEs to ruri over flow, beginning in the next loop turn (a
 * replay for user under way takes the new marker instead). @return how
 * many will be sent, or -errno (ENOENT: no store; EBUSY, ENOSPC: replays
 * or dumps all taken). */
int offline_history_replay(const char *user, uint64_t after,
			   const char *ruri, const struct sip_flow *flow);
/** h for each of user's history entries after `after`, oldest first. */
int offline_history(const char *user, uint64_t after, store_msg_h *h,
		    void *arg);

/** Keep c for whichever of owner's devices comes first and answer st:
 * 202 once durable, or why it could not be kept (req: the request, for
 * the sender notice). */
void offline_store_copy(struct sip_stx *st, const struct sip_msg *req,
			struct offline_copy *c, const char *owner);

/** Messages waiting for user (message-summary, ctl): the most any one
 * of their devices waits for. */
unsigned offline_count(const char *owner);
/** Remove every stored message whose expiry has passed now, not at the
 * next clean_period (ctl cleanup); *n says how many, h as for
 * offline_purge(). @return 0 or ENOENT (no store; h not called). */
int offline_cleanup(unsigned *n, void (*h)(int err, void *arg), void *arg);
/** Delete every message waiting for owner and their devices (ctl); *n says how many, and
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
