/** @file pres.h  Presence (Kamailio presence + presence_xml): PUBLISH
 * with ETags (RFC 3903), SUBSCRIBE/NOTIFY as notifier (RFC 6665, 3856),
 * presence.winfo (RFC 3857/3858), message-summary (RFC 3842) from the
 * offline store, PIDF aggregation and watcher authorization. Documents and
 * authorization decisions live in LMDB; subscriptions in memory or written
 * back to LMDB.
 */
#ifndef PRES_H
#define PRES_H

#include <stddef.h>

#include "hook.h"
#include "sd.h"
#include "simpled_config.h"

struct mod;

enum pres_auth_policy {
	PRES_AUTH_ALLOW_ALL = 0,
	PRES_AUTH_SAME_DOMAIN,
	PRES_AUTH_EXPLICIT,
};

enum pres_subs_db_mode {
	PRES_SUBS_MEMORY = 0,
	PRES_SUBS_WRITE_BACK,
};

#define PRES_MAX_RULES 16

/** Section `presence`; names and defaults follow Kamailio's presence. */
struct pres_cfg {
	int default_expires;
	int max_expires;
	int min_expires;
	int min_expires_action;	/**< 1: 423 + Min-Expires, 2: raise */
	int expires_offset;	/**< s shaved off what we grant */
	int clean_period;	/**< s between write-back flushes */
	int force_active;	/**< accept every watcher */
	int force_dummy_presence; /**< closed/open dummy PIDF when no doc */
	int send_fast_notify;	/**< NOTIFY right after the 200 */
	int timeout_rm_subs;	/**< drop a subscription when it expires */
	int max_subscriptions_per_source;	/**< 0: no cap */
	int max_documents_per_source;		/**< 0: no cap */
	int subs_db_mode;
	int auth_policy;
	char server_address[CONFIG_SIMPLED_MAX_STR];
	char command_user[64];	/**< user part taking allow/block MESSAGEs */
	char allow[PRES_MAX_RULES][CONFIG_SIMPLED_MAX_STR];
	unsigned n_allow;
	char block[PRES_MAX_RULES][CONFIG_SIMPLED_MAX_STR];
	unsigned n_block;
};

extern struct pres_cfg pres_cfg;
/** The presence module (section `presence`, pools presentities,
 * pres_docs, subscriptions, pres_sources). */
extern const struct mod pres_mod;

/** What ctl shows of one subscription; valid during the call. */
struct pres_sub_view {
	const char *presentity;		/**< "sip:alice@home.lan" */
	const char *watcher;		/**< "bob@home.lan" */
	const char *event;		/**< "presence", "presence.winfo" */
	const char *state;		/**< "pending", "active" */
	const char *decision;		/**< "undecided", "allow", ... */
	const char *contact;		/**< where its NOTIFYs go */
	uint32_t expires_s;		/**< seconds left */
};
/** h for each presentity (documents published or watchers): its
 * address and how many of each. @return how many. */
unsigned pres_walk(void (*h)(const char *aor, unsigned docs,
			     unsigned subs, void *arg), void *arg);
/** h for each live subscription, of presentity aor only when not NULL.
 * @return how many. */
unsigned pres_walk_subs(const char *aor,
			void (*h)(const struct pres_sub_view *v, void *arg),
			void *arg);

/** The outcome of a PUBLISH: 200 with the document's ETag and Expires
 * (ETag "" and Expires 0 when it was removed), else the refusal. */
struct pres_pub_result {
	int code;
	const char *reason;	/**< NULL: the code's own */
	char etag[17];
	int expires;
};
typedef void (pres_pub_h)(const struct pres_pub_result *r, void *arg);
/**
 * Publish for a presentity of ours as a PUBLISH would (ctl): etag NULL
 * for a new document, expires -1 for the default (bounded as for SIP; 0
 * removes the document etag names), body NULL for a refresh or removal.
 * source is what the per-source cap counts.
 * @return 0 with a refusal in *now (h is not called), or EINPROGRESS:
 * it was done, and h gets the outcome once it is on disk.
 */
int pres_publish_local(const char *aor, const char *etag, int expires,
		       const char *ctype, const char *body, size_t blen,
		       const char *source, struct pres_pub_result *now,
		       pres_pub_h *h, void *arg);

/** What pres_observe() handlers get: the state of one event package of
 * aor ("alice@home.lan") changed, when its watchers are told (coalesced
 * as their NOTIFYs are). */
struct pres_change {
	const char *aor;
	const char *event;	/**< "presence", "presence.winfo", ... */
};
/** Observe states (ctl's watch). @return 0 or ENOSPC. */
int pres_observe(hook_h *h, void *arg);
void pres_unobserve(hook_h *h, void *arg);
/** The state of aor in the event package named event, as the NOTIFY
 * body of a subscriber its owner allowed would carry it (presence: the
 * PIDF of every document merged, or the registration-driven state),
 * into b. @return 0, or ENOENT (no such package in this build). */
int pres_state(const char *aor, const char *event, struct sd_buf *b);
/** Set the rule of presentity for watcher (both "user@domain") as the
 * presentity's own "allow"/"block"/"polite-block" MESSAGE would, for its
 * subscriptions too; h gets the store's result once it is on disk.
 * @return 0, EINVAL (another decision) or a store error (h not
 * called). */
int pres_rule_set(const char *presentity, const char *watcher,
		  const char *decision, void (*h)(int err, void *arg),
		  void *arg);

/** Subscriptions alive (tests, ctl). */
unsigned pres_sub_count(void);
/** Published documents alive. */
unsigned pres_doc_count(void);

#endif
