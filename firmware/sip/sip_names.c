/** @file sip_names.c  Host names in contacts: a bounded cache of what
 * they resolve to (sip_resolve.c, RFC 3263), kept for the answer's TTL
 * (at least SIP_NAME_TTL_MIN_S), and the requests waiting for a name
 * being resolved. A name that has no address is remembered as such for
 * SIP_NAME_NEG_S, and its contact is reached where its request came from,
 * as before names were resolved.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "sip"
#include "log.h"
#include "sip_priv.h"
#include "stat.h"

#define SIP_NAME_TTL_MIN_S 30
#define SIP_NAME_NEG_S 30

enum name_state { NAME_FREE, NAME_PENDING, NAME_OK, NAME_NONE };

struct name {
	struct sip_resolve res;		/* host, tp, port: the key */
	enum name_state state;
	struct port_addr addr;
	uint32_t until_s;		/* OK, NONE: kept until then */
	uint32_t used_s;		/* for eviction: the oldest goes */
};

struct waiter {
	struct name *n;
	void (*h)(void *arg);
	void *arg;
};

static struct name names[CONFIG_SIMPLED_MAX_CONTACT_NAMES];
static struct waiter waiters[CONFIG_SIMPLED_MAX_CONTACT_NAMES];
static int open_;

static void wake(struct name *n)
{
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_MAX_CONTACT_NAMES; i++) {
		struct waiter w = waiters[i];

		if (w.n == n) {
			memset(&waiters[i], 0, sizeof(waiters[i]));
			w.h(w.arg); /* may wait again, on another slot */
		}
	}
}

static void resolved(struct sip_resolve *r, int err, const char *why,
		     const struct port_addr *addr, uint32_t ttl)
{
	struct name *n = (struct name *)r; /* res is its first member */

	if (err) {
		LOG_DBG("contact host %s: %s; reached where its requests "
			"come from", r->host, why);
		n->state = NAME_NONE;
		n->until_s = sip_now_s() + SIP_NAME_NEG_S;
	} else {
		n->state = NAME_OK;
		n->addr = *addr;
		n->until_s = sip_now_s() +
			     (ttl < SIP_NAME_TTL_MIN_S ? SIP_NAME_TTL_MIN_S :
			      ttl);
	}
	wake(n);
}

static int same(const struct name *n, const char *host,
		enum sip_tp_type tp, uint16_t port)
{
	return n->state != NAME_FREE && n->res.tp == tp &&
	       n->res.port == port && !strcasecmp(n->res.host, host);
}

/* The entry of host, or a slot for it: a free one, else the least
 * recently used that is not being resolved. NULL when all are. */
static struct name *slot(const char *host, enum sip_tp_type tp,
			 uint16_t port)
{
	struct name *victim = NULL;
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_MAX_CONTACT_NAMES; i++) {
		struct name *n = &names[i];

		if (same(n, host, tp, port)) {
			return n;
		}
		if (n->state == NAME_FREE) {
			if (!victim || victim->state != NAME_FREE) {
				victim = n;
			}
		} else if (n->state != NAME_PENDING &&
			   (!victim || (victim->state != NAME_FREE &&
					(int32_t)(n->used_s - victim->used_s) <
					0))) {
			victim = n;
		}
	}
	if (victim) {
		memset(victim, 0, sizeof(*victim));
	}
	return victim;
}

int sip_name_lookup(const char *host, enum sip_tp_type tp, uint16_t port,
		    struct port_addr *addr)
{
	struct name *n;
	uint32_t now = sip_now_s();

	if (!open_ || strlen(host) > DNS_NAME_MAX) {
		return ENOENT;
	}
	n = slot(host, tp, port);
	if (!n) {
		return ENOENT; /* every entry is being resolved */
	}
	n->used_s = now;
	if ((n->state == NAME_OK || n->state == NAME_NONE) &&
	    (int32_t)(n->until_s - now) <= 0) {
		n->state = NAME_FREE; /* stale: asked again */
	}
	switch (n->state) {
	case NAME_OK:
		*addr = n->addr;
		return 0;
	case NAME_NONE:
		return ENOENT;
	case NAME_PENDING:
		return EINPROGRESS;
	case NAME_FREE:
		break;
	}
	memset(&n->res, 0, sizeof(n->res));
	strcpy(n->res.host, host);
	n->res.tp = tp;
	n->res.port = port;
	n->res.done = resolved;
	n->state = NAME_PENDING;
	sip_resolve_start(&n->res); /* may end at once */
	if (n->state == NAME_OK) {
		*addr = n->addr;
		return 0;
	}
	return n->state == NAME_PENDING ? EINPROGRESS : ENOENT;
}

int sip_name_wait(const char *host, enum sip_tp_type tp, uint16_t port,
		  void (*h)(void *arg), void *arg)
{
	unsigned i, w = CONFIG_SIMPLED_MAX_CONTACT_NAMES;

	for (i = 0; i < CONFIG_SIMPLED_MAX_CONTACT_NAMES; i++) {
		if (!waiters[i].n) {
			w = i;
		}
	}
	for (i = 0; i < CONFIG_SIMPLED_MAX_CONTACT_NAMES; i++) {
		if (names[i].state == NAME_PENDING &&
		    same(&names[i], host, tp, port)) {
			if (w == CONFIG_SIMPLED_MAX_CONTACT_NAMES) {
				return ENOMEM;
			}
			waiters[w] = (struct waiter){&names[i], h, arg};
			return 0;
		}
	}
	return ENOENT; /* not being resolved (any more) */
}

void sip_name_unwait(void (*h)(void *arg), void *arg)
{
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_MAX_CONTACT_NAMES; i++) {
		if ((!h || waiters[i].h == h) && waiters[i].arg == arg) {
			memset(&waiters[i], 0, sizeof(waiters[i]));
		}
	}
}

void sip_names_open(int have_dns)
{
	unsigned i;

	/* Only what a run before this one (tests restart in one process)
	 * used is cleared: a table never written stays untouched zero
	 * pages. */
	for (i = 0; i < CONFIG_SIMPLED_MAX_CONTACT_NAMES; i++) {
		if (names[i].state != NAME_FREE) {
			memset(&names[i], 0, sizeof(names[i]));
		}
		if (waiters[i].h) {
			memset(&waiters[i], 0, sizeof(waiters[i]));
		}
	}
	open_ = have_dns;
}

void sip_names_close(void)
{
	unsigned i;

	for (i = 0; i < CONFIG_SIMPLED_MAX_CONTACT_NAMES; i++) {
		if (names[i].state == NAME_PENDING) {
			sip_resolve_cancel(&names[i].res);
		}
	}
	sip_names_open(0);
}
