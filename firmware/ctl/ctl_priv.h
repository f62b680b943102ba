/** @file ctl_priv.h  Internals shared by the files of firmware/ctl/. */
#ifndef CTL_PRIV_H
#define CTL_PRIV_H

#include <stdint.h>

#include "ctl.h"
#include "sd.h"
#include "simpled_config.h"

#define CTL_MAX_ARGS 16

/** A parsed request; its strings live in strings[]. */
struct ctl_req {
	const char *command;
	const char *argv[CTL_MAX_ARGS];
	unsigned argc;
	char strings[CONFIG_SIMPLED_CTL_MAX_REQUEST];
};

/* ctl_json.c */
/** Parse one request line. @return 0, or EINVAL/E2BIG with why. */
int ctl_json_request(const char *text, size_t len, struct ctl_req *req,
		     const char **why);
/** s as a JSON string (quoted, escaped). */
void ctl_json_str(struct sd_buf *b, const char *s);
void ctl_json_kv_str(struct sd_buf *b, const char *key, const char *v);
/** "key":"value" pairs, comma-separated, until a NULL key. */
void ctl_json_kv_strs(struct sd_buf *b, const char *key, ...);
void ctl_json_kv_num(struct sd_buf *b, const char *key, unsigned long v);

/* ctl.c: a command that answers later holds its call. */
struct ctl_call {
	unsigned slot;		/* the client */
	uint32_t gen;		/* which connection in that slot */
};
/** The answer of a call that was pending (one JSON object, no newline);
 * dropped when its client has gone. */
void ctl_call_answer(const struct ctl_call *call, const char *text,
		     size_t len);

/** The client of call follows key from now on (watch). */
void ctl_call_watch(const struct ctl_call *call, const char *key);
/** Does any client follow key? */
int ctl_watching(const char *key);
/** text (one JSON object, no newline) to every client following key. */
void ctl_watch_send(const char *key, const char *text, size_t len);

/* ctl_cmd.c */
/** Start and stop following the services for watch. */
void ctl_cmd_open(void);
void ctl_cmd_close(void);
#define CTL_PENDING 1
/** Run req, writing its answer (one JSON object, no newline) into b.
 * @return 0, or CTL_PENDING when it answers later through
 * ctl_call_answer() (b is unused then). */
int ctl_cmd_run(const struct ctl_req *req, struct sd_buf *b,
		const struct ctl_call *call);
/** ctl.c: what the daemon said of itself at ctl_open(). */
extern struct ctl_view ctl_view;

#endif
