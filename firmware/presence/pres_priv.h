/** @file pres_priv.h  Internals shared by the files of presence/. */
#ifndef PRES_PRIV_H
#define PRES_PRIV_H

#include <stdint.h>

#include "pres.h"
#include "sd_hash.h"
#include "sip.h"
#include "store.h"
#include "tally.h"
#include "tmr.h"

#define MOD_DEF "pres.def"
#include "mod_decl.h"

#define PRES_ETAG_LEN 16
/* The ETag's first part: the document's id (its LMDB key after "aor\x1f"). */
#define PRES_DOC_ID_LEN 10
#define PRES_DOC_KEY_LEN (CONFIG_SIMPLED_MAX_URI_LEN + PRES_DOC_ID_LEN + 2)
#define PRES_TAG_LEN 64
#define PRES_KEY_LEN (CONFIG_SIMPLED_MAX_CALLID_LEN + 2 * PRES_TAG_LEN + 4)
/* An authorization rule's key: "presentity\x1fwatcher". */
#define PRES_RULE_KEY_LEN (2 * CONFIG_SIMPLED_MAX_URI_LEN + 2)
/* Closed tuple ids remembered per presentity after a document goes. */
#define PRES_CLOSED_IDS 256
#define PRES_PIDF_TYPE "application/pidf+xml"

/* Event package ids: a bit each in dirty_events, and written to LMDB with
 * every subscription (pres_wb.c), so values are never reused. */
enum pres_event {
	PRES_EV_PRESENCE = 0,
	PRES_EV_WINFO,
	PRES_EV_MSGSUM,
	PRES_EV__COUNT
};

struct pres_sub;

/*
 * One event package (RFC 6665 4.4.2; Kamailio's pres_ev_t): what
 * SUBSCRIBE and NOTIFY need to serve it. One file defines each; the table
 * in pres_pkg.c lists those built in, and only those are accepted and
 * named in Allow-Events.
 */
struct pres_pkg {
	const char *name;	/* Event header token */
	const char *ctype;	/* Content-Type of NOTIFY bodies */
	enum pres_event ev;
	/* Only the presentity itself may subscribe: no authorization, and
	 * not a watcher that presence.winfo lists. */
	int owner_only;
	/* The NOTIFY body of s. changed and what: see pres_sub_notify(). */
	void (*body)(struct sd_buf *b, struct pres_sub *s,
		     const struct pres_sub *changed, const char *what);
	/* Optional. Watcher w of the presentity of s came, went or was
	 * decided on; what is its winfo event ("subscribe", "timeout"...). */
	void (*watcher_changed)(struct pres_sub *s, const struct pres_sub *w,
				const char *what);
	/* Optional, at start: observe what changes the package's state. */
	int (*init)(void);
	/* Optional: aor published a document; open: it says
	 * <basic>open</basic>. */
	void (*published)(const char *aor, int open);
};

extern const struct pres_pkg pres_pkg_presence;	/* pres_pidf.c */
extern const struct pres_pkg pres_pkg_winfo;	/* pres_winfo.c */
extern const struct pres_pkg pres_pkg_mwi;	/* pres_mwi.c (offline) */

/* A presentity (user@domain) with documents or watchers. */
struct pres_entity {
	UT_hash_handle hh;
	struct pres_doc *docs;
	struct pres_sub *subs;
	unsigned n_docs;
	struct pres_entity *next_dirty;	/* coalesced NOTIFYs, see below */
	unsigned dirty_events;		/* bit per enum pres_event */
	char closed_ids[PRES_CLOSED_IDS];	/* "id1 id2 " of gone docs */
	char key[CONFIG_SIMPLED_MAX_URI_LEN];
};

/* One published document (a device), identified by its ETag. Its body is
 * in LMDB; expiry is kept here. */
struct pres_doc {
	UT_hash_handle hh;
	struct pres_doc *next;		/* in its entity */
	struct pres_entity *ent;
	struct tmr tmr;
	char etag[PRES_ETAG_LEN + 1];
};

enum pres_sub_state {
	PRES_SUB_PENDING,
	PRES_SUB_ACTIVE,
	PRES_SUB_TERMINATED,
};

enum pres_decision {
	PRES_UNDECIDED = 0,
	PRES_ALLOW,
	PRES_BLOCK,
	PRES_POLITE_BLOCK,
};

/* A subscription dialog where we are the notifier. */
struct pres_sub {
	UT_hash_handle hh;		/* by key */
	struct pres_sub *next;		/* in its entity */
	struct pres_entity *ent;
	struct tmr tmr;
	const struct pres_pkg *pkg;
	enum pres_sub_state state;
	enum pres_decision decision;
	uint32_t local_cseq;
	uint32_t remote_cseq;
	uint32_t version;		/* winfo document version */
	unsigned inflight;		/* NOTIFYs awaiting an answer */
	/* Removed: freed when inflight is 0 and it owes nothing. */
	int zombie;
	/* Owes a NOTIFY that found no client transaction: on the queue of
	 * pres_sub.c (owed_prev/owed_next), one place per subscription, so
	 * bounded by the pool. A live one gets its state as it is when the
	 * NOTIFY can go; a zombie its final NOTIFY, owed_reason. */
	int owed;
	const char *owed_reason;
	struct pres_sub *owed_prev, *owed_next;
	int dirty;			/* write-back pending */
	/* Restored before SIP opened its listeners: flow has only tp and
	 * peer, and is bound to a listener at its first use. */
	int unbound;
	struct tally_ent *src;		/* in pres_subs_by_source, or NULL */
	struct sip_flow flow;
	/* The Call-ID, repeated whole in every NOTIFY: in pres_strs, or
	 * from the memory budget when longer (pres_sub_set_callid()). */
	char *callid;
	/* Its text, in pres_strs ("" until set; pres_sub_set_text()): a
	 * subscription costs what its text holds. */
	char *key;			/* callid|remote tag|local tag */
	char *local_tag;
	char *remote_from;
	char *presentity_uri;
	char *watcher;			/* watcher AoR */
	char *contact;			/* remote target */
	char *route;			/* Route lines */
};

/* The text of a subscription as it is written or read back, each field
 * as long as it may be; pres_sub_set_text() keeps it. */
struct pres_sub_text {
	char key[PRES_KEY_LEN];
	char local_tag[PRES_TAG_LEN];
	char remote_from[CONFIG_SIMPLED_MAX_URI_LEN + PRES_TAG_LEN + 8];
	char presentity_uri[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	char watcher[CONFIG_SIMPLED_MAX_URI_LEN];
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];
	char route[CONFIG_SIMPLED_MAX_ROUTE_LEN + 1];
};

/*
 * Version 1 of a written-back subscription, as the builds before version 2
 * wrote it: an image of this struct in host byte order, sized by Kconfig
 * (so recognised by its exact size and tag). Frozen here so that the
 * records can be migrated (pres_wb.c); the flow is struct sip_flow of
 * those builds, of which only tp and peer are read.
 */
#define PRES_SUB_REC_V1 0x50530001u
struct pres_sub_rec_v1 {
	uint32_t version;		/* PRES_SUB_REC_V1 */
	uint32_t event, state, decision;
	uint32_t local_cseq, remote_cseq, winfo_version;
	int64_t expires_at;
	struct {
		int32_t tp;		/* enum sip_tp_type */
		int32_t lidx, conn;
		uint32_t gen;
		struct {
			uint8_t family;
			uint16_t port;
			uint8_t ip[16];
		} peer;
	} flow;
	char callid[CONFIG_SIMPLED_MAX_CALLID_LEN];
	char local_tag[PRES_TAG_LEN];
	char remote_from[CONFIG_SIMPLED_MAX_URI_LEN + PRES_TAG_LEN + 8];
	char presentity_uri[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	char watcher[CONFIG_SIMPLED_MAX_URI_LEN];
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];
	char route[CONFIG_SIMPLED_MAX_ROUTE_LEN + 1];
};

/* pres.c */
/** Subscriptions and documents per source (sip_msg_source()), for
 * max_subscriptions_per_source and max_documents_per_source; counted in
 * and out with the subscription or document, again at restore. */
extern struct tally pres_subs_by_source, pres_docs_by_source;
/* Records keep the tally's key as the source: it must be the whole one. */
_Static_assert(SIP_SOURCE_LEN <= TALLY_KEY_LEN, "a source is kept whole");
struct pres_entity *pres_entity_get(const char *key, int create);
void pres_entity_put(struct pres_entity *e);
/** e within min_expires (0 stays 0) and max_expires. */
uint32_t pres_expires_bound(uint32_t e);
/** Expiry granted to a PUBLISH or SUBSCRIBE (default, min with its
 * action, max, minus offset), or -1 after answering 400/423. */
int pres_expires(struct sip_stx *st, const struct sip_msg *req,
		 int offset);
/** Is a stored record stale (to be deleted at start)? */
typedef int (pres_stale_h)(const char *key, const void *val, size_t vlen);
/** Delete the records of kind k that stale says are stale. */
void pres_store_sweep(enum store_kind k, pres_stale_h *stale);

/* pres_pkg.c */
/** The package named by an Event header value (parameters ignored), or
 * NULL when none such is built in. */
const struct pres_pkg *pres_pkg_find(struct sd_pl ev);
/** The package with this id, or NULL when it is not built in. */
const struct pres_pkg *pres_pkg_of(unsigned ev);
/* Tell pres_observe()'s handlers that ev of aor changed (pres_sub.c). */
void pres_observers_tell(const char *aor, enum pres_event ev);
/** "presence, presence.winfo, ...": the packages built in. */
const char *pres_pkg_allow_events(void);
/** Start every package (its init). */
int pres_pkgs_init(void);
/** Tell every package that aor published a document. */
void pres_pkgs_published(const char *aor, int open);

/* pres_xml.c */
/* A tag met by pres_xml_walk(), checked before it is reported (a start
 * tag with its attributes and namespaces). */
struct pres_xml_tag {
	unsigned depth;		/* 0: the root element */
	int end;		/* an end tag, </name> */
	int empty;		/* an empty-element tag, <name/> */
	const char *start;	/* its '<' */
	const char *stop;	/* just after its '>' */
	const char *doc_end;	/* the end of the document */
	struct sd_pl name;	/* its qualified name */
	/* Start tags: the text between the name and '>' or "/>" (see
	 * pres_xml_attr()), and the element's namespace name as written
	 * (see pres_xml_value_is(); empty: none). */
	struct sd_pl attrs;
	struct sd_pl ns;
};
typedef void (pres_xml_h)(const struct pres_xml_tag *t, void *arg);
/**
 * Check doc: XML 1.0 and Namespaces in XML, well formed, UTF-8, one root,
 * no DOCTYPE, ASCII names. h (may be NULL) is called on every start and
 * end tag once it is checked, also when a later part of doc fails.
 * @return 0 or EBADMSG (why set).
 */
int pres_xml_walk(const char *doc, size_t len, pres_xml_h *h, void *arg,
		  const char **why);
/** pres_xml_walk() without a handler. */
int pres_xml_check(const char *doc, size_t len, const char **why);
/** The next attribute of a checked start tag's attrs (it advances):
 * name, value between its quotes, and whole (name to closing quote; may
 * be NULL). @return 1, or 0 after the last one. */
int pres_xml_attr(struct sd_pl *it, struct sd_pl *name, struct sd_pl *value,
		  struct sd_pl *whole);
/** Are two checked attribute values the same once a parser normalised
 * them (references replaced, blanks as spaces)? */
int pres_xml_values_eq(struct sd_pl a, struct sd_pl b);
/** Is the checked attribute value raw the string s once normalised? */
int pres_xml_value_is(struct sd_pl raw, const char *s);
/** The local part of a qualified name. */
struct sd_pl pres_xml_local(struct sd_pl qname);
/** Is p valid UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF)? */
int pres_utf8_valid(const char *p, size_t len);

/* pres_publish.c */
int pres_publish_init(void);
void pres_publish_close(void);
/** Walk the document bodies of a presentity. */
typedef void (pres_doc_h)(const char *body, size_t len, void *arg);
void pres_docs_walk(const struct pres_entity *e, pres_doc_h *h, void *arg);

/* pres_pidf.c */
/** Is doc a checked PIDF document (root element presence in PIDF's
 * namespace)? */
int pres_pidf_is(const char *doc, size_t len);
/** Does doc say <basic>open</basic> somewhere? */
int pres_pidf_open(const char *doc, size_t len);
/** Append the ids of the tuples of doc to ids (space-separated). */
void pres_pidf_tuple_ids(const char *doc, size_t len, char *ids,
			 size_t size);
/** A source of documents: calls h on each of src. */
typedef void (pres_docs_fn)(const void *src, pres_doc_h *h, void *arg);
/**
 * The aggregate PIDF for entity_uri into b: the documents docs gives of
 * src (NULL: none), each checked and in whole or not at all; a closed
 * tuple for each id of closed_ids ("id1 id2 ", may be NULL); with basic
 * 0 or 1 a tuple "simpled", closed or open (-1: none). b overflows only
 * when not even the root fits.
 */
void pres_pidf_merge(struct sd_buf *b, const char *entity_uri,
		     pres_docs_fn *docs, const void *src,
		     const char *closed_ids, int basic);
/** The aggregate PIDF of entity into b. */
void pres_pidf_aggregate(struct sd_buf *b, struct pres_entity *e,
			 const char *entity_uri, int polite_block);

/* pres_sub.c */
int pres_sub_init(void);
void pres_sub_close(void);
/** Something the watchers of e for ev should see changed. */
void pres_notify_all(struct pres_entity *e, enum pres_event ev);
/** The presentity decided on a watcher; tell its subscriptions to the
 * presentity and the winfo watchers (a block ends them). */
void pres_sub_decide(const char *presentity, const char *watcher,
		     enum pres_decision d);
/** May s see the presentity's state (allowed, or polite-blocked: a
 * neutral document)? Never a watcher pending, blocked or undecided. */
int pres_sub_sees_state(const struct pres_sub *s);
/**
 * Send s its current state. reason: NULL for active/pending, else the
 * subscription ends with this reason ("" for none; a string that lives
 * on, as a NOTIFY that must wait keeps it). changed and what: for winfo,
 * the watcher whose state changed and its event (a partial document), or
 * NULL for the full list. A NOTIFY that finds no client transaction
 * waits (the subscription owes one) and goes when one frees up, with the
 * state as it is then (winfo: the full list).
 */
void pres_sub_notify(struct pres_sub *s, const char *reason,
		     const struct pres_sub *changed, const char *what);
/** A zeroed subscription from pool pres_subs, or NULL. */
struct pres_sub *pres_sub_new(void);
/** Give s back to the pool with what it holds. */
void pres_sub_free(struct pres_sub *s);
/** Keep callid in s. @return 0, ENOMEM (budget spent). */
int pres_sub_set_callid(struct pres_sub *s, struct sd_pl callid);
/** s keeps the text of t (s's key only while s is not linked). @return 0,
 * or ENOMEM with s unchanged. */
int pres_sub_set_text(struct pres_sub *s, const struct pres_sub_text *t);
/** Keep s's remote target. @return 0 or ENOMEM (the old one stays). */
int pres_sub_set_contact(struct pres_sub *s, const char *contact);
/** The dialog key "callid|remote tag|local tag", a Call-ID longer than
 * CONFIG_SIMPLED_MAX_CALLID_LEN - 1 as its sd_key_fit() hash (which
 * differs from one run to the next). @return 0 or ENAMETOOLONG. */
int pres_sub_key(char *key, size_t size, struct sd_pl callid,
		 struct sd_pl remote_tag, const char *local_tag);
/** Length of the Call-ID part of the key of s. */
size_t pres_sub_key_callid_len(const struct pres_sub *s);
struct pres_sub *pres_sub_find(const char *key);
/** Index s (key set) and link it to e. @return 0 or ENOMEM. */
int pres_sub_link(struct pres_sub *s, struct pres_entity *e);
/** End s without a word to anyone (a restored one no longer allowed). */
void pres_sub_drop(struct pres_sub *s);
/** (Re)start the expiry of s, expires s from now. */
void pres_sub_arm(struct pres_sub *s, uint32_t expires);
/** Seconds until s expires, rounded up: its timer runs on the monotonic
 * clock, which no wall-clock step moves. */
static inline int64_t pres_sub_left(const struct pres_sub *s)
{
	return tmr_active(&s->tmr) ?
	       (tmr_left_ms(&s->tmr, port_now_ms()) + 999u) / 1000u : 0;
}
typedef void (pres_sub_h)(struct pres_sub *s, void *arg);
void pres_subs_walk(pres_sub_h *h, void *arg);

/* pres_wb.c */
/** Restore the written-back subscriptions and start the flushes. */
int pres_wb_init(void);
/** Write back what changed and stop. */
void pres_wb_close(void);
/** s is gone: so is its record. */
void pres_wb_forget(const struct pres_sub *s);

/* pres_auth.c */
int pres_auth_init(void);
/** Is the sender of req the local user aor ("user@domain")? The user it
 * authenticated as; when it was not challenged (challenge_publish or
 * challenge_subscribe 0), its From; under open registration anyone is. */
int pres_is_self(const struct sip_msg *req, const char *aor);
enum pres_decision pres_auth_decide(const char *presentity,
				    const char *watcher);
int pres_auth_set(const char *presentity, const char *watcher,
		  enum pres_decision d);

#endif
