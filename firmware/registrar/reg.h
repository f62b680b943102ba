/** @file reg.h  The registrar: REGISTER, bindings per address of record,
 * expiry on timers, and reg_lookup(), the only way to find contacts.
 */
#ifndef REG_H
#define REG_H

#include <stdint.h>

#include "hook.h"
#include "sip.h"

struct mod;

/** Section `registrar` of the UCI file. */
struct reg_cfg {
	int min_expires;	/**< s; shorter non-zero asks get 423 */
	int max_expires;	/**< s; longer asks are cut; 0 = REG_EXPIRES_CAP */
	int default_expires;	/**< s; when the request names none */
	int max_contacts;	/**< per AoR; 0 = bounded by the pool only */
};

/* Longest binding kept when max_expires is 0 (s), so that the expiry fits
 * the 32-bit millisecond timers with room to spare. */
#define REG_EXPIRES_CAP 1000000

extern struct reg_cfg reg_cfg;
/** The registrar module (section `registrar`, pools aors, bindings). */
extern const struct mod reg_mod;

/** What reg_lookup() shows of one binding; valid during the callback. */
struct reg_contact {
	const char *uri;		/**< Contact URI as registered */
	const struct sip_flow *flow;	/**< where to send to reach it */
	uint32_t expires_s;		/**< seconds left */
	int accepts_message;		/**< methods/Allow admit MESSAGE */
	/** the device: +sip.instance ("<urn:...>", RFC 5626), "" none */
	const char *instance;
};

enum reg_event {
	REG_ADDED,
	REG_REFRESHED,
	REG_REMOVED,
	REG_EXPIRED,
};

/** The event observers get (hook.h): after a REGISTER was answered, once
 * per binding it touched, and when a binding expires. Valid during the
 * call only. */
struct reg_change {
	enum reg_event ev;
	const char *aor;
	const struct reg_contact *c;
};

/** Observe binding changes: h gets a struct reg_change and returns 0.
 * @return 0 or ENOSPC (HOOK_MAX observers). */
int reg_observe(hook_h *h, void *arg);

typedef void (reg_contact_h)(const struct reg_contact *c, void *arg);


/**
 * The AoR key "user@domain" of a URI in a served domain.
 * @return 0, ENOENT (not our domain) or EINVAL (no user part).
 */
int reg_aor_key(const osip_uri_t *u, char *buf, size_t size);

/**
 * "user@domain" for any URI: reg_aor_key() for a served domain, else the
 * URI's own user and host (host lower-cased). Watchers and chat members
 * may come from other domains.
 */
int reg_uri_aor(const osip_uri_t *u, char *buf, size_t size);

/** Call h for every current binding of aor. @return the count. */
unsigned reg_lookup(const char *aor, reg_contact_h *h, void *arg);
/** h for every address of record with a binding (it must not change the
 * registrar). @return how many. */
unsigned reg_walk(void (*h)(const char *aor, void *arg), void *arg);

/** Bindings alive (tests). */
unsigned reg_binding_count(void);

/* ------------------------------------------------------ reserved names */

/** Most names services may reserve. */
#define REG_MAX_RESERVED 8
/** Longest reserved name (bytes, with the NUL). */
#define REG_RESERVED_LEN 64

/**
 * The one table of user names the daemon answers itself (the chat room
 * manager, presence's command user, any later service address). A
 * service adds its names when it starts; the table is emptied when the
 * registrar stops. In every served domain a REGISTER for a reserved name
 * is refused (403 "Name reserved for <service>"), and no chat room may
 * take one. Names compare without case (the services match them so).
 * @param service what answers it, for the reason ("chat rooms").
 * @return 0 (also when service already holds it), EINVAL (empty or
 * longer than REG_RESERVED_LEN - 1), EEXIST (another service holds it),
 * ENOSPC (REG_MAX_RESERVED names already).
 */
int reg_reserve(const char *user, const char *service);
/** The service that reserved the user name (any case), or NULL. */
const char *reg_reserved(const char *user);
/** Is u the service name user (any case) in a served domain? (The
 * MESSAGEs a service takes, msg_claim().) */
int reg_service_uri(const osip_uri_t *u, const char *user);

#endif
