/** @file sip_priv.h  Internals shared by the files of firmware/sip/. */
#ifndef SIP_PRIV_H
#define SIP_PRIV_H

#include "dns.h"
#include "sip.h"

#define MOD_DEF "sip.def"
#include "mod_decl.h"

/* How every overload (ENOMEM, ENOSPC, ENOBUFS) is answered: 503. */
#define SIP_OVERLOAD_REASON "Server Overloaded"
#define SIP_OVERLOAD_HDRS "Retry-After: 5\r\n"

/* sip_msg.c */
/**
 * Index and parse one message. On EBADMSG *why names the fault and *mp may
 * still hold the message when enough of it was read to answer it (with
 * (*mp)->fault: 400, 416 or 505).
 * @return 0, EBADMSG or ENOMEM (budget spent: answer 503).
 */
int sip_msg_parse(struct sip_msg **mp, const char *buf, size_t len,
		  const struct sip_flow *flow, const char **why);
/**
 * Index only the head of a message that will not be processed (over the
 * size limit, or not framable): start line and the header lines in buf,
 * which may end before the header section does. libosip2 never sees it.
 * @return 0 with *mp when it is a request whose Via, From, To, Call-ID
 * and CSeq were all read, so an answer can be addressed; else EBADMSG
 * (or ENOMEM) and *mp NULL.
 */
int sip_msg_parse_head(struct sip_msg **mp, const char *buf, size_t len,
		       const struct sip_flow *flow);
void sip_msg_free(struct sip_msg *m);
/** Where responses to m go (RFC 3261 18.2.2, RFC 3581): over its flow;
 * on UDP to the top Via's port unless it asked for rport; on TCP over its
 * connection, or once that is gone a new one to the top Via's port. */
void sip_response_flow(const struct sip_msg *m, struct sip_flow *f);
/** The full name of a header the layer knows ("Call-ID"). */
const char *sip_hdr_name(enum sip_hdr_id id);
/** Content-Length from a header block, for stream framing.
 * @return 0, ENOENT (none) or EBADMSG (not a number). */
int sip_frame_content_length(const char *hdrs, size_t len, uint32_t *cl);
/** ;name[=value] among the parameters in s: .p NULL when absent, .l 0 for
 * a parameter without value. */
struct sd_pl sip_param(struct sd_pl s, const char *name);
/** Length of the first comma-separated element of a header value. */
size_t sip_first_elem_len(struct sd_pl v);
/** The next comma-separated element of *v, as it stands (not trimmed);
 * *v moves past it and its comma. */
struct sd_pl sip_next_elem(struct sd_pl *v);

/* sip_build.c */
/** Write a response to req into b. totag: To-tag to add if absent. */
void sip_build_response(struct sd_buf *b, const struct sip_msg *req,
			int code, const char *reason, const char *totag,
			const char *hdrs, const char *ctype,
			const char *body, size_t blen);
/** max_breadth: the Max-Breadth to write, or -1 to copy the request's. */
void sip_build_relay(struct sd_buf *b, const struct sip_msg *req,
		     const char *ruri, const struct sip_flow *out,
		     const char *branch, int max_breadth,
		     const char *hdrs);

void sip_build_request(struct sd_buf *b, const struct sip_request *r,
		       const struct sip_flow *out, const char *branch);

/* sip_tp.c */
int sip_tp_open(const struct sip_cfg *cfg);
void sip_tp_close(void);
int sip_tp_send(const struct sip_flow *f, const char *buf, size_t len);
/** A flow with no TCP connection named yet; peer NULL leaves it zero (it
 * must not point into f). */
void sip_tp_flow(struct sip_flow *f, enum sip_tp_type tp, int lidx,
		 const struct port_addr *peer);
/** Index of the first listener of this transport and family, or -1. */
int sip_tp_listener(enum sip_tp_type tp, int family);
/** host[:port] and transport name we advertise for a flow. */
void sip_tp_sent_by(const struct sip_flow *f, char *buf, size_t size,
		    const char **tpname);
/** A flow from the listener whose sent-by is the longest (the widest Via
 * a request of ours gets); listener 0 when there is none. */
void sip_tp_widest_flow(struct sip_flow *f);
/** The transport of listener lidx. */
enum sip_tp_type sip_tp_listener_type(int lidx);
/** Pick a UDP listener for a destination of this family. */
int sip_tp_udp_flow(struct sip_flow *f, const struct port_addr *dst);
/** Is addr one of our listen addresses (IP only)? */
int sip_tp_is_local_ip(struct sd_pl host);

/* sip_tcp.c */
int sip_tp_tcp_init(void);
/** Close every TCP connection. */
void sip_tp_tcp_close(void);
/** port_ev_h of a TCP listening socket; arg is the listener index. */
void sip_tp_tcp_accept(int sock, unsigned ev, void *arg);
/** Send over the flow's connection while it lives, else over one to the
 * same peer, else over a new one (output queued until it connects). */
int sip_tp_tcp_send(const struct sip_flow *f, const char *buf, size_t len);

/* sip_addr.c */
/** A transport address: what a listen spec, the outbound proxy or a
 * registered contact names. */
struct sip_addr {
	enum sip_tp_type tp;
	struct port_addr addr;
};

/* sip_addr_parse() flags */
#define SIP_ADDR_PORT0 0x1	/* port 0 allowed (a listener picks one) */
#define SIP_ADDR_TP_LOWER 0x2	/* "udp"/"tcp" in lower case only */

/* What sip_addr_parse() found wrong. It looks at every part, so that each
 * form can name the first fault in the order its own syntax reads. */
#define SIP_ADDR_BAD_TP 0x1	/* transport neither udp nor tcp */
#define SIP_ADDR_BAD_PORT 0x2	/* not 1..65535 (0..65535 with PORT0) */
#define SIP_ADDR_LONG_HOST 0x4	/* longer than any IP literal */
#define SIP_ADDR_NOT_IP 0x8	/* not an IP literal: empty, or a name */

/**
 * The one parser of transport + IP literal + port, the parts as the
 * caller's syntax split them (a part with .p NULL is absent).
 * @param tp "udp" or "tcp", any case unless SIP_ADDR_TP_LOWER; absent: UDP
 * @param host IPv4, or IPv6 with or without brackets
 * @param port decimal; absent: 5060
 * @param faults set to the SIP_ADDR_* faults found, 0 when none
 * @return 0, or EINVAL when *faults is not 0 (then *a is undefined)
 */
int sip_addr_parse(struct sip_addr *a, struct sd_pl tp, struct sd_pl host,
		   struct sd_pl port, unsigned flags, unsigned *faults);
/** A next hop's flow: UDP from a listener of its family (EAFNOSUPPORT
 * when none), TCP over whatever connection sending finds or opens. */
int sip_addr_flow(const struct sip_addr *a, struct sip_flow *f);
/** Parse a listen spec; on EINVAL why says what is wrong with it. */
int sip_listen_parse(const char *spec, struct sip_addr *a, char *ifname,
		     size_t ifsize, char *why, size_t whylen);
/** Parse "sip:IP[:port][;transport=udp|tcp]"; EINVAL with why. */
/** "sip:NAME[:PORT][;transport=T]" with a host name: NAME into name, the
 * transport and port (0 when none is given) into a. @return 0 or EINVAL
 * (an IP literal, or malformed). */
int sip_proxy_name(const char *uri, struct sip_addr *a, char *name,
		   size_t size);
int sip_proxy_parse(const char *uri, struct sip_addr *a, char *why,
		    size_t whylen);

/* sip_core.c */
void sip_core_recv(const char *buf, size_t len, const struct sip_flow *f);
/** A message that cannot be taken as it is (513 over the size limit: a
 * stream's header section, or the first CONFIG_SIMPLED_MAX_MSG_SIZE
 * bytes of a datagram; 400 for a stream whose Content-Length is missing
 * or cannot frame the body): code when what is here addresses it, else
 * dropped and counted. */
void sip_core_refuse_head(const char *hdrs, size_t len,
			  const struct sip_flow *f, int code,
			  const char *reason);
/** Answer a message we hold no transaction for (overload, 400, 513). */
void sip_reply_stateless(const struct sip_msg *req, int code,
			 const char *reason, const char *hdrs);

/* sip_frame.c */
enum sip_frame_what {
	SIP_FRAME_MORE,		/**< a message has not fully arrived */
	SIP_FRAME_MESSAGE,	/**< a whole message: len bytes after lead */
	SIP_FRAME_REFUSE,	/**< answer code from the head (hlen bytes
				 * after lead), drop it and skip bytes */
	SIP_FRAME_CLOSE,	/**< answer code (when set) from the head,
				 * then close: the stream cannot go on */
};

struct sip_frame {
	enum sip_frame_what what;
	size_t lead;		/**< CR/LF keep-alive bytes first */
	unsigned pings;		/**< CRLF CRLF pings among them: a pong each */
	size_t hlen;		/**< the header section, with its empty line */
	size_t len;		/**< MESSAGE: the message */
	size_t skip;		/**< REFUSE: body bytes to drop after the head */
	int code;
	const char *reason;
};

/** What the len bytes at buf (a stream's unread input) hold next. */
void sip_frame_next(const char *buf, size_t len, struct sip_frame *f);

/* sip_txn.c */
/* A request for UDP longer than this goes over TCP first (RFC 3261
 * 18.1.1: 200 bytes under a 1500-byte MTU). */
#define SIP_UDP_MAX_REQ 1300
int sip_txn_init(void);
/**
 * A request we sent could not reach dst: buf holds its start as the
 * network returned it (UDP: from an ICMP unreachable). The client
 * transaction whose branch is in buf and whose destination is dst ends
 * now with 503; nothing else is touched.
 */
void sip_txn_unreachable(const char *buf, size_t len, enum sip_tp_type tp,
			 const struct port_addr *dst);
/** A TCP connection to peer failed (refused, reset): every transaction
 * waiting for an answer from it ends now with 503. */
void sip_txn_peer_failed(const struct port_addr *peer);
/** Does a Via of request m carry a branch this process made? */
int sip_txn_sent_by_us(const struct sip_msg *m);
void sip_txn_close(void);
/** Find the server transaction of a request or create one.
 * @return 0 new (in *stp), EALREADY retransmission handled, ENOMEM. */
int sip_stx_receive(struct sip_stx **stp, struct sip_msg *req);
/** Take ownership of the request for the transaction's life. */
void sip_ctx_receive(struct sip_msg *resp);
extern const struct sip_cfg *sip_cfg;

/* sip_authn.c: who sent m. @return 0 to go on (m->auth_user set when it
 * authenticated), or 1 when it was answered (challenged or refused). */
int sip_authn_check(struct sip_stx *st, struct sip_msg *m);
/** Is the realm of this credential (a header value) a served domain? A
 * malformed one counts as ours too: it is not passed on either. */
int sip_authn_realm_ours(struct sd_pl value);

/* sip_resolve.c: one RFC 3263 resolution of a host name. */
#define SIP_RESOLVE_TTL_MAX_S 86400
struct sip_resolve;
/** The end of a resolution: err 0 with addr (its port set) and the
 * smallest TTL of the chain, or err with why in words. */
typedef void (sip_resolve_h)(struct sip_resolve *r, int err,
			     const char *why, const struct port_addr *addr,
			     uint32_t ttl);
struct sip_resolve {
	/* Set by the owner: */
	char host[DNS_NAME_MAX + 1];
	enum sip_tp_type tp;	/* which SRV: _sip._udp, _sip._tcp, _sips */
	uint16_t port;		/* 0: none in the URI (SRV first) */
	sip_resolve_h *done;
	/* The resolution's own: */
	char target[DNS_NAME_MAX + 1];	/* what A/AAAA is asked of */
	uint16_t tport;			/* of the target */
	uint32_t ttl;
	int asked_aaaa;
	struct dns_rr srv[DNS_MAX_RR];	/* targets not tried yet */
	unsigned n_srv;
};
/** Resolve r->host; r->done is called once, later, or at once when no
 * query could be sent. */
void sip_resolve_start(struct sip_resolve *r);
/** Stop: r->done will not be called. */
void sip_resolve_cancel(struct sip_resolve *r);

/* sip_names.c: contact host names (see sip_contact_flow()). */
void sip_names_open(int have_dns);
void sip_names_close(void);
/** The address of host for tp (port 0: none in the URI, SRV first).
 * @return 0, EINPROGRESS (resolving), or ENOENT (it has none, or the
 * cache is all in use). */
int sip_name_lookup(const char *host, enum sip_tp_type tp, uint16_t port,
		    struct port_addr *addr);
/** h(arg) once host, being resolved, is. @return 0, ENOENT, ENOMEM. */
int sip_name_wait(const char *host, enum sip_tp_type tp, uint16_t port,
		  void (*h)(void *arg), void *arg);
/** Forget the waits of h (any h when NULL) with arg. */
void sip_name_unwait(void (*h)(void *arg), void *arg);

/* sip_proxy.c: the outbound proxy, resolved when it is a name. */
int sip_proxy_open(const struct sip_cfg *cfg);
void sip_proxy_close(void);

/* sip_crypto.c: TLS on a connection's socket. All of mbedTLS is there. */
struct sip_tls;
/** Was TLS built in (CONFIG_SIMPLED_TLS)? */
int sip_tls_built(void);
/** Are a certificate and its key loaded (a TLS listener can serve)? */
int sip_tls_ready(void);
/** Bytes mbedTLS holds now (all connections, certificates, contexts). */
size_t sip_tls_memory(void);
/** May peer begin one more TLS handshake (`handshake_limit` per minute
 * per address)? Counts it. @return 0 or EBUSY. */
int sip_tls_admit(const struct port_addr *peer);
/** The server side of TLS on an accepted socket. @return NULL when the
 * memory TLS may take (`memory_kb`) is spent, or TLS is not ready. */
struct sip_tls *sip_tls_accept(int sock);
void sip_tls_free(struct sip_tls *t);
/** Go on with the handshake. @return 0 once it is done, EAGAIN to wait
 * for the socket (sip_tls_wants() says whether to write), EPROTO when it
 * failed, ECONNRESET when the peer closed. */
int sip_tls_handshake(struct sip_tls *t);
/** As port_recv()/port_send() on the socket, through TLS. *got 0: the
 * peer closed. EAGAIN: sip_tls_wants() says for what. */
int sip_tls_recv(struct sip_tls *t, char *buf, size_t len, size_t *got);
int sip_tls_send(struct sip_tls *t, const char *buf, size_t len,
		 size_t *sent);
/** Send what mbedTLS holds of its own (an alert). @return 0, EAGAIN or
 * an error. */
int sip_tls_flush(struct sip_tls *t);
/** Bytes decrypted and not read yet (the socket may have none). */
size_t sip_tls_pending(const struct sip_tls *t);
/** PORT_EV_WRITE when the last call waits for the socket to take
 * output, else 0. */
unsigned sip_tls_wants(const struct sip_tls *t);

/* sip_auth.c: seconds on the monotonic clock (nonce times, failure
 * windows), and n bytes as lower-case hex into hex[2n + 1]. */
uint32_t sip_now_s(void);
void sip_hex(const uint8_t *b, size_t n, char *hex);

#endif
