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
 * SUBSCRIBE only with presence/. */
#ifdef CONFIG_SIMPLED_OFFLINE
#define H_KEPT 202
#else
#define H_KEPT 480
#endif
#ifdef CONFIG_SIMPLED_PRESENCE
#define H_ALLOW "REGISTER, MESSAGE, PUBLISH, SUBSCRIBE, OPTIONS"
#else
#define H_ALLOW "REGISTER, MESSAGE, OPTIONS"
#endif

/* The daemon listens on 10.0.0.1:5060; clients live on 10.0.0.2.. */
#define H_SERVER "10.0.0.1"
#define H_DOMAIN "example.test"

/** Start the daemon with the config text appended to a base that sets
 * domain, listen and state_dir. Fails the test on error. */
void h_start(const char *extra_cfg);
/** Stop and start again on the same state (restart, virtual time on). */
void h_restart(const char *extra_cfg);
const char *h_state_dir(void);
/** Stop it and assert pools, budget and timers are back to zero. */
void h_stop(void);

/** A client socket on 10.0.0.<n>:5060. */
int h_client(int n);
/** Send text (LF line ends become CRLF) to the daemon. */
void h_send(int sock, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Run the loop for ms of virtual time (and until no work is pending). */
void h_run(uint32_t ms);
/** Next datagram for sock into a static buffer, or NULL. */
const char *h_recv(int sock);
/** Drop everything queued for sock. @return how many were dropped. */
unsigned h_drain(int sock);
/** Status code of a response text, or 0 for a request. */
int h_status(const char *msg);
/** Value of the first header name (case-insensitive) into a static
 * buffer, or NULL. */
const char *h_hdr(const char *msg, const char *name);
/** How many header lines of this name the message has. */
unsigned h_hdr_count(const char *msg, const char *name);
/** Send a request and return the response's status after running. */
int h_request(int sock, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** A new unique branch/Call-ID token. */
const char *h_token(void);
/** Send a MESSAGE from bob at client n to `to` (user@host) with extra
 * header lines (each ending in LF) and a text/plain body. */
void h_message(int sock, int n, const char *to, const char *token,
	       const char *extra, const char *body);
/** Answer a request a client received with the given status. */
void h_answer(int sock, const char *req, int code);
/** Body of a message (after the blank line), or "". */
const char *h_body(const char *msg);
/** REGISTER user at client n with expires; returns the status. */
int h_register(int sock, int n, const char *user, int expires);

#endif
