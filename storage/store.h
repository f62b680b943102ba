/** @file store.h  The only door to LMDB. One environment in state_dir,
 * named tables, a schema version checked at open, and a typed API per
 * record kind; no LMDB type leaves storage/.
 *
 * Errors: 0, ENOSPC (map full), EROFS (read-only), EIO (corrupt or other
 * LMDB failure), ENOENT (no such record), ENODEV (store not open),
 * EPROTO (schema mismatch at open).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "simpled_config.h"

struct mod;

/** Section `storage` of the UCI file. */
struct store_cfg {
	int map_size_kb;
	int commit_window_ms;	/**< group commit window; 0: end of the turn */
	int lazy_commit_ms;	/**< a group of lazy writes only (history):
				 * committed within this */
};

extern struct store_cfg store_cfg;
/** The storage module: section `storage` (opened by app/, not started). */
extern const struct mod store_mod;

/** Schema of the files this build writes; bumped on any layout change.
 * 3: offline messages, presence documents and rooms keep who caused them
 * (their per-source counts are rebuilt at start); schemas 1 and 2 are
 * read and taken over at open, a newer one is refused. A table added
 * alone is none: it is created at open, and a build without it leaves it
 * alone (room history STORE_IMC_HIST, devices STORE_DEVICE). */
#define STORE_SCHEMA 3

int store_open(const char *dir, size_t map_size);
/** Answer everyone waiting (store_flush), then close. */
void store_close(void);
int store_is_open(void);
/** Told once the writes made before store_when_durable() are on disk:
 * err 0, or the commit's error (answer 5xx: the write was undone). */
typedef void (store_durable_h)(int err, void *arg);
/**
 * Call h when every write so far is on disk: at once when no write is
 * waiting for its group commit, else after that commit (at the end of
 * the loop turn, or commit_window_ms after the group's first write),
 * with its result: on a failed commit every write of the group is undone
 * and h gets the error (answer 5xx). With
 * CONFIG_SIMPLED_STORE_MAX_WAITING callers already waiting, the group is
 * committed now.
 */
void store_when_durable(store_durable_h *h, void *arg);
/** Commit the open group now and tell everyone waiting.
 * @return the commit's error. */
int store_flush(void);
/** Tests: the next group commit fails with err (and is undone). */
void store_test_fail_commit(int err);
const char *store_strerror(int err);

/** An offline message. Strings are NUL-terminated. In callbacks the
 * pointers borrow LMDB's memory: valid during the callback only, and a
 * callback must not call into the store. */
struct store_msg {
	uint64_t id;		/**< assigned by store_msg_put, increasing */
	const char *owner;	/**< "user@domain" */
	const char *from;	/**< From header value as received */
	const char *to;		/**< To header value as received */
	const char *ctype;	/**< Content-Type as received, "" if none */
	const char *callid;	/**< "" unless kept (use_mode) */
	const char *extra;	/**< extra header lines, CRLF-terminated */
	/** who it counts against (sip_msg_source()); "" or NULL: nobody
	 * (messages the server made, or stored before schema 3) */
	const char *sender;
	const void *body;
	size_t blen;
	int64_t arrival;	/**< wall-clock seconds */
	int64_t expires;	/**< wall-clock seconds */
	int64_t send_at;	/**< reminder time, 0 when none */
	uint32_t tries;		/**< failed delivery attempts */
	/** store_msg_put(): nobody waits for it (a history entry): its
	 * group may be committed as late as lazy_commit_ms */
	int lazy;
};

typedef int (store_msg_h)(const struct store_msg *m, void *arg);

/** The most bytes From, To, Content-Type, Call-ID, extra lines and body of
 * one message may hold together (each string with its NUL): one that could
 * not be sent again whole is not kept (offline/ checks the whole request
 * that delivers it). */
#define STORE_MSG_MAX CONFIG_SIMPLED_MAX_MSG_SIZE

/** Store a message (into the open group; see store_when_durable()).
 * @return EMSGSIZE over STORE_MSG_MAX; EINVAL for an owner or sender
 * longer than CONFIG_SIMPLED_STORE_MAX_OWNER_LEN - 1.
 * @return 0 or an error above (ENOSPC also when store_owners,
 * store_messages or store_senders is full). */
int store_msg_put(struct store_msg *m);
/** Messages of owner in arrival order; h returning non-zero stops. */
int store_msg_list(const char *owner, store_msg_h *h, void *arg);
/** The same from the first with an id past after (ids only grow); those
 * before are not read (a history replay walks on from its marker). */
int store_msg_list_after(const char *owner, uint64_t after, store_msg_h *h,
			 void *arg);
int store_msg_del(const char *owner, uint64_t id);
/** Delete the oldest messages of owner so that keep remain, in one lazy
 * write (a history kept to its length). @return 0 or the store's error;
 * *n how many went. */
int store_msg_trim(const char *owner, unsigned keep, unsigned *n);
/** Set the failed-try count and the reminder time (0: none). */
int store_msg_update(const char *owner, uint64_t id, uint32_t tries,
		     int64_t send_at);
/** Messages of owner. */
unsigned store_msg_count(const char *owner);
/** The oldest message of the owners pick() says yes to (e.g. the
 * histories that give way to waiting messages): its owner into owner
 * (size CONFIG_SIMPLED_STORE_MAX_OWNER_LEN) and its id.
 * @return 0 or ENOENT (none). */
int store_msg_oldest(int (*pick)(const char *owner), char *owner,
		     uint64_t *id);
/** Messages stored with this sender (O(1): counted in memory, again at
 * open). */
unsigned store_msg_sender_count(const char *sender);
/** Messages in the store. */
unsigned store_msg_total(void);
/** Messages expired at now, at most max (bounded work); h sees each
 * before it is deleted. @return 0 or error; *n how many went. */
int store_msg_expire(int64_t now, unsigned max, store_msg_h *h, void *arg,
		     unsigned *n);
/** Reminders due at now, earliest first, at most max. */
int store_msg_due(int64_t now, unsigned max, store_msg_h *h, void *arg);
/** Earliest reminder time, or 0 when none. */
int64_t store_msg_next_due(void);
/**
 * Keyed records for services that encode their own values (presence
 * documents, subscriptions, authorization rules). Keys are strings; a
 * prefix walk visits keys in byte order. Values are at most
 * STORE_REC_MAX bytes.
 */
enum store_kind {
	STORE_PRES_DOC,		/**< "presentity\x1fetag" -> document */
	STORE_PRES_SUB,		/**< dialog id -> subscription */
	STORE_PRES_RULE,	/**< "presentity\x1fwatcher" -> decision */
	STORE_IMC_ROOM,		/**< room name -> flags */
	STORE_IMC_MEMBER,	/**< "room\x1fuser" -> role */
	STORE_IMC_HIST,		/**< "room\x1fslot" (3 digits) -> 8-byte
				 * big-endian sequence number, text */
	STORE_DEVICE,		/**< "user\x1f<instance>" -> last seen */
	STORE_KIND__COUNT
};

#define STORE_REC_MAX (CONFIG_SIMPLED_MAX_MSG_SIZE + 1024)

typedef int (store_rec_h)(const char *key, const void *val, size_t vlen,
			  void *arg);

int store_rec_put(enum store_kind k, const char *key, const void *val,
		  size_t vlen);
int store_rec_del(enum store_kind k, const char *key);
/** Copy a record's value into buf. @return 0, ENOENT, EMSGSIZE. */
int store_rec_get(enum store_kind k, const char *key, void *buf,
		  size_t size, size_t *vlen);
/** Records whose key starts with prefix ("" for all); h non-zero stops. */
int store_rec_walk(enum store_kind k, const char *prefix, store_rec_h *h,
		   void *arg);

/**
 * Wall-clock times in records a service encodes itself (a document's or
 * a subscription's expiry) are written as store_time_to_disk(t) and read
 * back through store_time_from_disk(): the store keeps its times in a
 * frame of its own that every wall-clock step (core/wall.h) moves at once,
 * so that each keeps what it had left. Offline messages' times are kept
 * so by the store itself.
 */
int64_t store_time_to_disk(int64_t t);
int64_t store_time_from_disk(int64_t t);

/**
 * Write a consistent copy of the store to path (absolute), for `ctl
 * backup`: the open group committed first, then LMDB's compacting copy
 * into path.part, synced and renamed over path, mode 0600. The loop waits
 * while it copies. Restored by putting it in place of a stopped daemon's
 * <state_dir>/data.mdb.
 * @return 0 with *bytes, or an errno with why.
 */
int store_backup(const char *path, size_t *bytes, char *why, size_t whylen);

/** Bytes the environment's data file uses (pages in use). */
size_t store_bytes_used(void);
/** How full the map is, in percent (what is kept best-effort, such as
 * history, stops writing past a bound). */
unsigned store_fill_pct(void);

#endif
