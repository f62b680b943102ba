/** @file harness.h  Runs the whole daemon in-process on port/sim and plays
 * SIP clients on the in-memory network, on virtual time.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "port.h"
#include "simpled_config.h"

/* What a build without a service answers instead: a MESSAGE nobody can
 * take now is kept (202) only with offline/, and Allow names PUBLISH and
 * SUBSCRIBE only with presence/, NOTIFY only with ctl/ (pua/). */
#ifdef CONFIG_SIMPLED_OFFLINE
#define H_KEPT 202
#else
#define H_KEPT 480
#endif
#ifdef CONFIG_SIMPLED_PRESENCE
#define H_ALLOW_PRES "PUBLISH, SUBSCRIBE, "
#else
#define H_ALLOW_PRES ""
#endif
#ifdef CONFIG_SIMPLED_CTL
#define H_ALLOW_PUA "NOTIFY, " /* for ctl subscribe's subscriptions */
#else
#define H_ALLOW_PUA ""
#endif
#define H_ALLOW "REGISTER, MESSAGE, " H_ALLOW_PRES H_ALLOW_PUA "OPTIONS"

/* The daemon listens on 10.0.0.1:5060; clients live on 10.0.0.2.. */
#define H_SERVER "10.0.0.1"
#define H_DOMAIN "example.test"

/** Start the daemon with the config text appended to a base that sets
 * domain, listen and state_dir. Fails the test on error. */
void h_start(const char *extra_cfg);
/** The same, but a start-up that fails is returned (non-zero), not
 * failed; nothing is left running then. */
int h_start_err(const char *extra_cfg);
/** Stop and start again on the same state (restart, virtual time on). */
void h_restart(const char *extra_cfg);
/** The same with the wall clock set to wall_s while the daemon is down,
 * where no step can be seen. */
void h_restart_wall(int64_t wall_s, const char *extra_cfg);
/** Start on a copy of a data.mdb (a store written by another build). */
void h_start_with_store(const char *extra_cfg, const char *data_mdb);
const char *h_state_dir(void);
/** Stop it and assert pools, budget and timers are back to zero. */
void h_stop(void);

/** A client socket on 10.0.0.<n>:5060. */
int h_client(int n);
/** Send text (LF line ends become CRLF) to the daemon. */
void h_send(int sock, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Send text as h_send(), run 10 ms, and return h_wait()'s datagram. */
const char *h_send_wait(int sock, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Run the loop for ms of virtual time (and until no work is pending). */
void h_run(uint32_t ms);
/** Next datagram for sock into a static buffer, or NULL. */
const char *h_recv(int sock);
/** Run 10 ms (time for one answer), then h_recv(). */
const char *h_wait(int sock);
/** Drop everything queued for sock. @return how many were dropped. */
unsigned h_drain(int sock);
/** The final status (>= 200) among what is queued for sock, all of it
 * read; 0 when none came. */
int h_final(int sock);

/**
 * One exchange under allocation failure (see h_oom_sweep()): send the
 * request of try n (the same bytes again when retry is set, as a UDP
 * client retransmits), let the far side answer whatever reached it, and
 * return h_final() of the sender.
 */
typedef int (h_exchange_h)(int n, int retry);

/** After exchange n, with allocations working again: undo what it set up
 * (e.g. end its subscription), so that the sweep does not fill a pool. */
typedef void (h_settle_h)(int n);

/**
 * Fail the n-th allocation of one exchange, for n = 1, 2, ... until an
 * exchange makes fewer than n. Each must end with a final status in ok
 * (0-terminated): a silent one is retried once, and silence again fails
 * the test, as does a status not in ok. settle (may be NULL) runs after
 * each. @return how many exchanges had an allocation fail (the caller
 * asserts it saw enough).
 */
unsigned h_oom_sweep(h_exchange_h *x, h_settle_h *settle, const int *ok);

/**
 * The credentials answering the n-th (from 0) challenge of a 401 or 407
 * response: an "Authorization: Digest ..." line (Proxy-Authorization for
 * a 407) ending in LF, with qop=auth, nonce count nc and the account
 * user's password, for a request of method to uri. Static buffer.
 */
const char *h_digest(const char *resp, unsigned n, const char *user,
		     const char *password, const char *method,
		     const char *uri, unsigned nc);

/** Status code of a response text, or 0 for a request. */
int h_status(const char *msg);
/** Value of the first header name (case-insensitive) into a static
 * buffer, or NULL. */
const char *h_hdr(const char *msg, const char *name);
/** How many header lines of this name the message has. */
unsigned h_hdr_count(const char *msg, const char *name);
/** A new unique branch/Call-ID token. */
const char *h_token(void);

/** An ordinary request from the client on 10.0.0.<n>, for h_request().
 * Written as a designated initializer: a field left NULL or 0 takes its
 * default. A user without '@' is a user at H_DOMAIN. The strings are
 * borrowed for the call only. */
struct h_req {
	const char *method;	/**< "REGISTER", "MESSAGE", ... (required) */
	int n;			/**< client number: Via 10.0.0.<n>:5060 */
	const char *from;	/**< From user (required) */
	const char *to;		/**< To user; default the From user */
	const char *ruri;	/**< default sip:<to>; REGISTER: sip:<its
				 * host> */
	const char *from_tag;	/**< default a fresh token */
	const char *to_tag;	/**< in a dialog; default no tag on To */
	const char *call_id;	/**< default a fresh token */
	const char *branch;	/**< after z9hG4bK; default a fresh token */
	unsigned cseq;		/**< default 1 */
	int rport;		/**< nonzero: ;rport on the Via */
	const char *event;	/**< Event header; default none */
	const char *contact;	/**< Contact header value; default none */
	const char *hdrs;	/**< more header lines, each ending in LF */
	const char *ctype;	/**< default text/plain when there is a body */
	const char *body;	/**< default none; Content-Length counts it */
};

/** Send the request with Max-Forwards: 70 (LF line ends of the head
 * become CRLF; the body goes as it is). */
void h_request(int sock, const struct h_req *r);
/** h_request(), then h_wait(): the next datagram for sock, or NULL. */
const char *h_request_wait(int sock, const struct h_req *r);

/** A TCP connection from client n (10.0.0.<n>, an ephemeral port) to
 * the server's TCP listener (start with H_TCP in the config). */
int h_tcp_client(int n);
/** Write text (LF line ends of the head become CRLF, as h_send()). */
void h_tcp_send(int sock, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Run the loop 10 ms, then the next whole message the server sent on
 * the connection (framed by Content-Length), or NULL. */
const char *h_tcp_recv(int sock);
/** Bytes the server sent that are not a message yet (e.g. a pong). */
const char *h_tcp_pending(void);
/** Has the server closed the connection? */
int h_tcp_closed(int sock);

/* The config line that adds the server's TCP listener. */
#define H_TCP "config simpled 'main'\n\tlist listen 'tcp:" H_SERVER ":5060'\n"

/** Send a MESSAGE from bob at client n to `to` (user@host) with extra
 * header lines (each ending in LF) and a text/plain body. */
void h_message(int sock, int n, const char *to, const char *token,
	       const char *extra, const char *body);
/** Answer a request a client received with the given status. */
void h_answer(int sock, const char *req, int code);
/** The same with header lines (LF-ended) added: "SIP-ETag: x\n". */
void h_answer_hdrs(int sock, const char *req, int code, const char *hdrs);
/** The same on a TCP connection of h_tcp_client(). */
void h_answer_tcp(int sock, const char *req, int code);
/** Body of a message (after the blank line), or "". */
const char *h_body(const char *msg);
/** REGISTER user at client n with expires; returns the status. */
int h_register(int sock, int n, const char *user, int expires);

#endif
