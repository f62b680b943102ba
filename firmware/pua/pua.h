/** @file pua.h  Presence for another domain on behalf of local programs
 * (what Kamailio's pua does for pua_mi): PUBLISH (RFC 3903) and SUBSCRIBE
 * (RFC 6665) sent over SIP to the outbound proxy, refreshed before they
 * expire until they are ended, answered with our `config upstream`
 * account when the other side challenges. Kept in memory only: a restart
 * forgets them (the programs that drive them publish again).
 */
#ifndef PUA_H
#define PUA_H

#include "hook.h"
#include "simpled_config.h"

struct mod;
extern const struct mod pua_mod;

/** What the far end said to a PUBLISH or SUBSCRIBE. */
struct pua_result {
	int code;		/**< final status; 408 timeout, 503 no route */
	const char *reason;	/**< NULL: the code's usual phrase */
	const char *etag;	/**< PUBLISH: the SIP-ETag, "" when none */
	unsigned expires;	/**< granted, 0 when ended or refused */
};
typedef void (pua_h)(const struct pua_result *r, void *arg);

/** A publication: (uri, event, id) names it, so a later one with the
 * same names modifies it (SIP-If-Match its ETag). */
struct pua_pub_req {
	const char *uri;	/**< "sip:user@host" */
	const char *event;	/**< "presence" */
	const char *id;		/**< NULL or "": the publication of uri */
	const char *etag;	/**< NULL: the one we hold, if any */
	const char *ctype;	/**< NULL with body NULL: a refresh */
	const char *body;
	const char *hdrs;	/**< extra header lines ending CRLF, or NULL */
	const char *proxy;	/**< NULL: the outbound proxy, else a next
				 * hop "sip:IP[:port][;transport=]" */
	unsigned expires;	/**< 0 removes it */
};

/**
 * Send a PUBLISH; h gets the final answer. The publication is refreshed
 * before it expires while it stands.
 * @return 0 (h will be called), ENOENT (no outbound proxy), EAGAIN (its
 * name not resolved yet), EBUSY (one of these names is under way), ENOSPC
 * (pool full), EINVAL (a bad next hop), EMSGSIZE, ENOMEM.
 */
int pua_publish(const struct pua_pub_req *p, pua_h *h, void *arg);

/** A subscription: (presentity, watcher, event) names it. */
struct pua_sub_req {
	const char *presentity;	/**< "sip:bob@other.net" */
	const char *watcher;	/**< "sip:alice@home.lan" */
	const char *event;
	const char *proxy;	/**< as in struct pua_pub_req */
	unsigned expires;	/**< 0 ends it */
};

/** Send a SUBSCRIBE (initial, refresh or, expires 0, the end); h gets the
 * final answer. Errors as pua_publish(). */
int pua_subscribe(const struct pua_sub_req *s, pua_h *h, void *arg);

/** A subscription's state, as its last NOTIFY told it. */
struct pua_state {
	const char *presentity;
	const char *watcher;
	const char *event;
	const char *sub_state;	/**< Subscription-State, "" before one */
	const char *body;	/**< "" before a NOTIFY with one */
	const char *ctype;
	int truncated;		/**< the body was too large to keep */
};

/** Observe NOTIFYs: h gets a const struct pua_state * for each.
 * @return 0 or ENOSPC. */
int pua_observe(hook_h *h, void *arg);
void pua_unobserve(hook_h *h, void *arg);

/** The last state of a subscription to presentity for event (any
 * watcher's), or NULL when there is none. */
const struct pua_state *pua_state_get(const char *presentity,
				      const char *event,
				      struct pua_state *out);

/** A publication as listed. */
struct pua_pub_view {
	const char *uri, *event, *id, *etag;
	unsigned expires_left;	/**< s until it expires */
};
void pua_pub_walk(void (*h)(const struct pua_pub_view *v, void *arg),
		  void *arg);
/** Every subscription as its state, with the seconds left. */
void pua_sub_walk(void (*h)(const struct pua_state *s, unsigned left,
			    void *arg),
		  void *arg);

#endif
