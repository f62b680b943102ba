/** @file sip.h  The SIP layer as services see it: parsed requests inside
 * server transactions, replies, and client transactions for requests the
 * server sends. Services never touch sockets.
 *
 * Parsing uses libosip2 for the typed view (URIs, Contact, Via params) and
 * a raw header index of our own for everything written back out: simpled
 * never calls osip_message_to_str(), whose allocation-failure paths crash
 * libosip2 5.3.0 (see tests/host/data/osip-crashes).
 */
#ifndef SIP_H
#define SIP_H

#include <stddef.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "hook.h"
#include "mem.h"
#include "port.h"
#include "sd.h"
#include "simpled_config.h"

enum sip_tp_type {
	SIP_TP_UDP = 0,
	SIP_TP_TCP,
	SIP_TP_TLS,	/**< TCP with TLS on top (sips:, ;transport=tls) */
};

/** "udp", "tcp", "tls" (upper: "UDP", ... as a Via writes it). */
const char *sip_tp_name(enum sip_tp_type tp, int upper);

/** TCP and TLS: a connection, framing by Content-Length. */
static inline int sip_tp_stream(enum sip_tp_type tp)
{
	return tp != SIP_TP_UDP;
}

/** Where a message came from or goes to. For TCP and TLS, conn/gen name
 * the connection (gen detects a reused pool slot). */
struct sip_flow {
	enum sip_tp_type tp;
	int lidx;		/**< listener index (UDP socket owner) */
	int conn;		/**< TCP connection slot, -1 none */
	uint32_t gen;
	struct port_addr peer;
};

/** Headers the layer looks at; everything else is SIP_HDR_OTHER. */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,
	SIP_HDR_FROM,
	SIP_HDR_TO,
	SIP_HDR_CALL_ID,
	SIP_HDR_CSEQ,
	SIP_HDR_CONTACT,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_EXPIRES,
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
};

struct sip_hdr {
	enum sip_hdr_id id;
	struct sd_pl name;
	struct sd_pl value;	/**< without surrounding whitespace */
};

/** A received message. Slices point into buf, owned by the message. */
struct sip_msg {
	struct mem_arena arena;	/**< everything libosip2 allocated for it */
	/** libosip2's view of a request's method, Request-URI, From, To and
	 * Contact (sip_msg.c osip_view()); NULL for a response. */
	osip_message_t *osip;
	char *buf;
	size_t len;
	int is_request;
	struct sd_pl method, ruri, version;	/**< requests */
	int status;				/**< responses */
	struct sd_pl reason;
	unsigned nhdrs;
	struct sd_pl body;
	struct sip_flow flow;
	/* Essentials, filled by sip_msg_parse(). */
	struct sd_pl call_id;
	uint32_t cseq;
	struct sd_pl cseq_method;
	struct sd_pl branch;	/**< top Via branch parameter, may be empty */
	struct sd_pl sent_by;	/**< top Via host[:port] */
	uint16_t via_port;	/**< port of sent_by, 5060 when absent */
	int via_rport;		/**< top Via asks for rport (RFC 3581) */
	struct sd_pl to_tag;
	struct sd_pl from_tag;
	/** What answers a request refused by the parse: 400, or 416 for a
	 * Request-URI scheme we do not serve, 505 for another SIP version
	 * (0 until a fault is found). */
	int fault;
	/* The large fields last: a new message clears what comes before. */
	/** "user@domain" the request authenticated as (sip_authn.c), ""
	 * when it was not challenged (another domain's user, a method not
	 * challenged, open registration). */
	char auth_user[CONFIG_SIMPLED_MAX_URI_LEN];
	struct sip_hdr hdrs[CONFIG_SIMPLED_MAX_HEADERS];
};

/** First header with this id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m,
				  enum sip_hdr_id id);
/** First header with this name (case-insensitive, full names only). */
const struct sip_hdr *sip_msg_hdr_name(const struct sip_msg *m,
				       const char *name);

/** Room for what sip_msg_source() writes, with its NUL. */
#define SIP_SOURCE_LEN 48
/**
 * Who a request counts against for the per-source caps (stored messages,
 * subscriptions, documents, rooms): the one place that decides it. The
 * user it authenticated as ("alice@example.lan"; one longer than the
 * room as its start, '#' and a hash of it all), else the IP address it
 * came from ("10.0.0.3", "2001:db8::1"). size must be SIP_SOURCE_LEN.
 */
void sip_msg_source(const struct sip_msg *m, char *buf, size_t size);

struct sip_stx;

/** A service's entry point for one method. It must answer with
 * sip_reply(), now or later; the request lives until the final answer
 * and is freed by it (read what you need before answering). */
typedef void (sip_req_h)(struct sip_stx *st, const struct sip_msg *req);

/** Route requests of method (e.g. "MESSAGE") to h. */
int sip_route(const char *method, sip_req_h *h);

/**
 * Send the final (or, for code < 200, a provisional) response.
 * @param hdrs extra header lines, each ending in CRLF, or NULL
 * @param ctype Content-Type of body, or NULL for none
 * @return 0 or errno. After a final response st must not be used again.
 */
int sip_reply(struct sip_stx *st, int code, const char *reason,
	      const char *hdrs, const char *ctype, const char *body,
	      size_t blen);
/**
 * A final response that may go out only once something else is done
 * (e.g. the write it reports is on disk): built now, held in the
 * transaction, sent by sip_reply_release(). Retransmissions of the
 * request get nothing meanwhile. Without memory to hold it, the writes
 * are made durable at once (sip_cfg.commit_now) and it is sent now.
 * @return 0 or EINVAL.
 */
int sip_reply_hold(struct sip_stx *st, int code, const char *reason,
		   const char *hdrs, const char *ctype, const char *body,
		   size_t blen);
/** Send the held response (err 0), or 500 "Not Stored" instead; shaped
 * as storage's durable callback, arg the transaction. */
void sip_reply_release(int err, void *arg);
/** Reply with the reason's standard text and our errno mapping. */
int sip_reply_errno(struct sip_stx *st, int err);
/** A numeric header of a request: ENOENT when h is NULL, 0 with *v, or
 * EBADMSG after answering "400 Malformed <name> header". */
int sip_hdr_u32(struct sip_stx *st, const struct sip_hdr *h,
		const char *name, uint32_t *v);
/** The To-tag this transaction's responses carry (dialog local tag). */
const char *sip_stx_totag(const struct sip_stx *st);

/** Our Contact URI for a flow: sip:<its listener's sent-by>, with
 * ;transport=tcp over TCP. (presence/ gives its server_address instead
 * when one is set.) */
void sip_local_contact(const struct sip_flow *f, char *buf, size_t size);

/** Called once per client transaction with its final response, or with
 * resp NULL and code 408 (timeout) or 503 (transport error). */
typedef void (sip_resp_h)(int code, const struct sip_msg *resp, void *arg);

/** The first served domain (the one listen IPs stand for). */
const char *sip_cfg_domain(void);

/**
 * Would a request sent to a come back to us (loop prevention, in the
 * spirit of RFC 5393)? Yes when its port is one of our listen ports and
 * its IP that listener's address, any loopback address (127.0.0.0/8,
 * ::1), or, for a listener on 0.0.0.0 or ::, any address of the host.
 * IPv4-mapped IPv6 addresses count as the IPv4 address.
 * @return 1 or 0.
 */
int sip_is_own_address(const struct port_addr *a);

/** The reason phrase of a status code ("Not Found"). */
const char *sip_reason(int code);

/** Served-domain test, used by services (domain lists come from cfg). */
int sip_is_local_host(struct sd_pl host);
/** The served domain a local host stands for (listen IPs map to the
 * first domain). */
const char *sip_local_domain(struct sd_pl host);

/**
 * Where to send requests for a registered contact: the Contact URI's host
 * and port, over the transport its ;transport= names (sips: is TLS),
 * reusing the registering TCP or TLS connection while it lives. A host
 * name is resolved as RFC 3263 says (sip_names.c: cached for its TTL);
 * one that has no address, or with no name server, is reached where the
 * request came from (src).
 * @return 0; EINPROGRESS while the name is being resolved (*out holds
 * src's flow meanwhile: sip_contact_wait() tells when it is done);
 * EINVAL, EPROTONOSUPPORT or EAFNOSUPPORT when it cannot be reached.
 */
int sip_contact_flow(const osip_uri_t *u, const struct sip_flow *src,
		     struct sip_flow *out);
/** Call h(arg) once the host name of u, being resolved (EINPROGRESS from
 * sip_contact_flow()), is. @return 0, or ENOENT (already resolved) or
 * ENOMEM (too many waiting): ask sip_contact_flow() again at once. */
int sip_contact_wait(const osip_uri_t *u, void (*h)(void *arg), void *arg);
/** Forget what sip_contact_wait() was asked for h with arg (a server
 * transaction ended without an answer forgets its own). */
void sip_contact_unwait(void (*h)(void *arg), void *arg);
/** The request of a server transaction (until its final answer). */
const struct sip_msg *sip_stx_request(const struct sip_stx *st);

/** A flow to peer over tp from one of our listeners of its address
 * family, with no connection: a TCP one reuses a connection open to peer
 * or makes a new one (e.g. a dialog restored after a restart). peer may
 * point into out. @return 0 or EAFNOSUPPORT (no such listener). */
int sip_peer_flow(enum sip_tp_type tp, const struct port_addr *peer,
		  struct sip_flow *out);

/** Write a URI (scheme:user@host:port;params) from libosip2's view, its
 * user part and parameters as sip_uri_canon() writes them.
 * @return 0 or ENAMETOOLONG / EINVAL. */
int sip_uri_print(const osip_uri_t *u, char *buf, size_t size);
/** A URI part of libosip2's view (user, parameter name or value: still
 * escaped) in the form that compares (RFC 3261 19.1.4): escapes of
 * unreserved characters decoded, the others kept in upper case, so
 * "%61lice" is "alice" and "bob%00evil" is not "bob".
 * @return 0 or ENAMETOOLONG. */
int sip_uri_canon(const char *user, char *buf, size_t size);

/** Relay a request as a stateful proxy would (RFC 3261 16.6): new
 * Request-URI, our Via on top, Max-Forwards decremented, the Route
 * entries naming us removed and the rest of the route set kept.
 * @param ruri the new Request-URI, or NULL to keep the request's.
 * @param max_breadth the branch's Max-Breadth (RFC 5393), or -1 to keep
 * the request's.
 * @param hdrs header lines (each ending in CRLF) added, or NULL: our own
 * credentials for the next hop (sip_upstream_answer()).
 * @return 0, EMSGSIZE, ENOMEM or a transport error. */
int sip_relay(const struct sip_msg *req, const char *ruri,
	      const struct sip_flow *dst, int max_breadth, const char *hdrs,
	      sip_resp_h *h, void *arg);

/** A request simpled originates (UAC), e.g. a stored message. */
struct sip_request {
	const char *method;
	const char *ruri;
	const char *from;	/**< From header value */
	const char *to;		/**< To header value */
	const char *call_id;	/**< NULL: a fresh one */
	uint32_t cseq;
	const char *hdrs;	/**< extra header lines ending in CRLF, or NULL */
	const char *ctype;	/**< NULL: no body */
	const char *body;
	size_t blen;
};

/** Would r fit the largest request we send (CONFIG_SIMPLED_MAX_MSG_SIZE)
 * whichever listener it left from (the longest Via we write)?
 * @return 0 or EMSGSIZE. */
int sip_request_fits(const struct sip_request *r);
/** Send r to dst in a client transaction; h gets the final answer.
 * @return 0, EMSGSIZE, ENOMEM or a transport error (h not called). */
int sip_request_send(const struct sip_request *r, const struct sip_flow *dst,
		     sip_resp_h *h, void *arg);

/**
 * Tell h (ev NULL) whenever a client transaction got its final answer,
 * failed or ended: one may be had again, so a request refused ENOMEM
 * for want of one can be tried anew. h runs where requests may be sent,
 * once per transaction; handlers that send many should defer to a timer.
 * @return 0 or ENOSPC.
 */
int sip_ctx_observe(hook_h *h, void *arg);
void sip_ctx_unobserve(hook_h *h, void *arg);
/** Can a client transaction be had now (one free, or a completed one to
 * reclaim)? When not, sip_request_send() says ENOMEM. */
int sip_ctx_available(void);

/** The Allow header value for this build. */
const char *sip_allow(void);

/** Run-time settings of the SIP layer (from the `simpled` section). */
struct sip_cfg {
	const char (*domain)[CONFIG_SIMPLED_MAX_STR];
	unsigned n_domain;
	const char (*listen)[CONFIG_SIMPLED_MAX_STR];
	unsigned n_listen;
	const char *outbound_proxy;	/**< "" or sip:IP[:port][;transport=] */
	int open_registration;	/**< nobody is challenged, anyone is a user */
	int resolve_contacts;	/**< contact host names by DNS, else source */
	size_t udp_rcvbuf;	/**< UDP receive buffer to ask for; 0: the
				 * kernel's default */
	const struct port_addr *dns_servers;	/**< for a named proxy */
	unsigned n_dns_servers;
	/** Make every write so far durable now (storage's store_flush):
	 * what a held answer does when no memory is left to hold it. NULL
	 * without a store. @return 0 or the commit's error. */
	int (*commit_now)(void);
};

/** Is open registration on (no accounts, nothing challenged)? */
int sip_open_registration(void);

/** Check a listen spec ("udp:ADDR:PORT", "tcp:[::1]:5060"). */
int sip_listen_check(const char *spec, char *why, size_t whylen);
/** Check an outbound proxy URI. */
int sip_proxy_check(const char *uri, char *why, size_t whylen);
/** Check the global outbound proxy, whose host may also be a name. */
int sip_outbound_proxy_check(const char *uri, char *why, size_t whylen);
/** The outbound proxy as a flow; ENOENT when none is configured, EAGAIN
 * while its name is not resolved yet. */
int sip_proxy_flow(struct sip_flow *f);
/** A flow for "sip:IP[:port][;transport=udp|tcp]" (a next hop). */
int sip_uri_flow(const char *uri, struct sip_flow *f);

/** The SIP layer's pools and counters; app/ opens it with sip_init(). */
extern const struct mod sip_mod;

/** Open listeners; closes everything on failure. cfg must outlive sip. */
int sip_init(const struct sip_cfg *cfg);
void sip_close(void);
/** Transactions alive (tests assert zero at the end). */
unsigned sip_txn_count(void);

#endif
