/** @file dns.h  A small stub resolver on the port's UDP: A, AAAA and SRV
 * queries to the configured name servers, answered through the event loop
 * (never blocking it), with retries and a timeout. No cache of its own:
 * whoever asks keeps the answer for its TTL (the outbound proxy, sip/).
 */
#ifndef CORE_DNS_H
#define CORE_DNS_H

#include <stdint.h>

#include "port.h"

#define DNS_NAME_MAX 254	/**< a name, dotted, without the root dot */
#define DNS_MAX_RR 8		/**< records of one answer handed on */
#define DNS_MAX_SERVERS 3
#define DNS_MAX_QUERIES 8	/**< queries in flight at once */

enum dns_type {
	DNS_A = 1,
	DNS_AAAA = 28,
	DNS_SRV = 33,
};

/** One record of an answer: an address (A, AAAA) or a service (SRV). */
struct dns_rr {
	enum dns_type type;
	uint32_t ttl;			/**< seconds */
	struct port_addr addr;		/**< A, AAAA (port 0) */
	uint16_t prio, weight, port;	/**< SRV */
	char target[DNS_NAME_MAX + 1];	/**< SRV */
};

/** The answer to a query: err 0 with n records (n 0: the name has none
 * of that type, or does not exist), or ETIMEDOUT, EPROTO (a malformed or
 * failed answer). */
typedef void (dns_h)(int err, const struct dns_rr *rr, unsigned n,
		     void *arg);

/** Use these servers (port 0: 53; at most DNS_MAX_SERVERS); with n 0
 * nothing can be resolved. Each query opens a socket of its own. @return
 * 0. */
int dns_open(const struct port_addr *servers, unsigned n);
void dns_close(void);
/** The name servers of a resolv.conf text ("nameserver IP" lines).
 * @return how many were found (at most max). */
unsigned dns_parse_resolv_conf(const char *text, struct port_addr *out,
			       unsigned max);
/** Ask for the records of type t of name; h is called once, later (never
 * from within this call). @return 0, ENAMETOOLONG, EBUSY (too many in
 * flight) or ENOTCONN (no server). */
int dns_query(const char *name, enum dns_type t, dns_h *h, void *arg);
/** Forget the queries of h with arg: it will not be called. */
void dns_cancel(dns_h *h, void *arg);

#endif
