/** @file imc_priv.h  Internals shared by the files of imc/: the room and
 * member records (imc_room.c), delivery from a room (imc.c) and command
 * execution (imc_exec.c).
 */
#ifndef IMC_PRIV_H
#define IMC_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "imc.h"
#include "sd_hash.h"
#include "sip.h"
#include "tally.h"

#define MOD_DEF "imc.def"
#include "mod_decl.h"

/* Commands run, by kind (counters imc_cmd_<name>); defined in imc.c. */
extern unsigned long imc_stat_cmd[IMC__COUNT];

struct imc_member {
	struct imc_member *next;
	enum imc_role role;
	char user[CONFIG_SIMPLED_MAX_URI_LEN];	/* user@domain */
};

/* One text of a room's history (in the memory budget). */
struct imc_hist {
	uint64_t seq;		/* order of arrival in its room */
	size_t len;
	char text[];
};

#define IMC_HIST_SLOTS (CONFIG_SIMPLED_IMC_MAX_HISTORY > 0 ? \
			CONFIG_SIMPLED_IMC_MAX_HISTORY : 1)

/* A room; its members are listed in the order they came in. */
struct imc_room {
	UT_hash_handle hh;		/* in imc_rooms, by name */
	struct imc_member *members;
	unsigned n_members;
	int private_room;
	struct tally_ent *src;		/* who created it, or NULL */
	/* Ring of history_size texts: slot i is also record "name\x1fi" of
	 * STORE_IMC_HIST; a slot may be NULL under memory pressure. */
	unsigned hist_head, hist_n;
	uint64_t hist_seq;		/* of the next text */
	struct imc_hist *hist[IMC_HIST_SLOTS];
	char name[IMC_NAME_MAX];	/* in lower case */
};

/* imc_room.c */
/** Every room, by name. Owned by imc_room.c; others only read it. */
extern struct imc_room *imc_rooms;
/** The room called name (any case), or NULL. */
struct imc_room *imc_room_find(const char *name);
/** The member user (user@domain, any case) of r, or NULL; r may be NULL. */
struct imc_member *imc_member_find(struct imc_room *r, const char *user);
/** The role of user in r: IMC_NONE when not in it; r may be NULL. */
enum imc_role imc_role_of(struct imc_room *r, const char *user);
/** A new empty room, also written to LMDB, counted against the source
 * that created it (sip_msg_source()). @return NULL when a pool or the
 * memory budget is exhausted. */
struct imc_room *imc_room_new(const char *name, int private_room,
			      const char *source);
/** Rooms that source created and that still exist. */
unsigned imc_rooms_of(const char *source);
/** Free r with its members and history, and drop it from LMDB. */
void imc_room_destroy(struct imc_room *r);
/** A new member of r at the end of its list, also written to LMDB.
 * @return NULL when the member pool is exhausted. */
struct imc_member *imc_member_add(struct imc_room *r, const char *user,
				  enum imc_role role);
/** Give m another role and write it to LMDB. */
void imc_member_set_role(struct imc_room *r, struct imc_member *m,
			 enum imc_role role);
/** Take m out of r, free it and drop it from LMDB. */
void imc_member_del(struct imc_room *r, struct imc_member *m);
/** Keep a text sent to r for those who join later (history_size), in
 * memory and in LMDB. */
void imc_history_add(struct imc_room *r, const char *body, size_t len);
/** Send the history of r to user, oldest first. */
void imc_history_replay(struct imc_room *r, const char *user);
/** Read the rooms, members and histories back from LMDB (at start). */
void imc_room_restore(void);
/** Free every room, leaving LMDB as it is (at stop). */
void imc_room_close_all(void);

/* imc.c */
/** The domain rooms live in: rooms_domain, or conference.<first served
 * domain> (lower case). */
const char *imc_rooms_domain(void);
/** Do rooms share their domain with users (rooms_domain is served)? */
int imc_rooms_shared(void);
/** The URI of the room called name: sip:<name>@<rooms domain>. */
void imc_room_uri(const char *name, char *buf, size_t size);
/**
 * May a new room be called name? The one place that decides (see
 * imc.c). @return 0, or 403 with the answer said.
 */
int imc_name_free(const char *name);
/**
 * One MESSAGE from a room (or the manager) to user, with the extra
 * headers and next hop of section imc. keep: a member who cannot take it
 * now gets it through the offline store (when offline_members is on).
 */
void imc_deliver(const char *user, const char *from_uri, const char *ctype,
		 const char *body, size_t blen, int keep);
/** Tell every member of r but skip (NULL: none) some text. */
void imc_announce(struct imc_room *r, const char *skip, const char *msg);
/** Tell the owners of r some text. */
void imc_tell_owners(struct imc_room *r, const char *msg);

/* imc_exec.c */
/** Start the answer to a request of sender: it comes from from (the room
 * or the manager). Both are copied. */
void imc_answer_begin(const char *sender, const char *from);
/** Set the answer text (printf format; replaces what was not sent yet).*/
void imc_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Add a line to the answer; a long answer goes out in several
 * MESSAGEs, each cut after a line, as it grows. */
void imc_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/**
 * Send what is left of the answer to the sender as MESSAGEs and answer
 * the request with code, the body being the first part of the answer.
 */
void imc_answer(struct sip_stx *st, int code);
/**
 * Run command c for sender, who sent it from source (what a room it
 * creates counts against); uri_room is the room the request was sent to,
 * NULL for the manager. The answer text is set.
 * @return the status code to answer with.
 */
int imc_exec(const struct imc_cmd *c, const char *sender,
	     const char *source, const char *uri_room);

#endif
