/** @file pres_priv.h  Internals shared by the files of presence/. */
#ifndef PRES_PRIV_H
#define PRES_PRIV_H

#include <stdint.h>

#include "pres.h"
#include "sd_hash.h"
#include "sip.h"
#include "tmr.h"

#define MOD_DEF "pres.def"
#include "mod_decl.h"

#define PRES_ETAG_LEN 16
#define PRES_TAG_LEN 64
#define PRES_KEY_LEN (CONFIG_SIMPLED_MAX_CALLID_LEN + 2 * PRES_TAG_LEN + 4)
/* Closed tuple ids remembered per presentity after a document goes. */
#define PRES_CLOSED_IDS 256

enum pres_event {
	PRES_EV_PRESENCE = 0,
	PRES_EV_WINFO,
	PRES_EV_MSGSUM,
	PRES_EV__COUNT
};

struct pres_sub;

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
	enum pres_event event;
	enum pres_sub_state state;
	enum pres_decision decision;
	uint32_t local_cseq;
	uint32_t remote_cseq;
	uint32_t version;		/* winfo document version */
	int64_t expires_at;		/* wall clock, for write-back */
	unsigned inflight;		/* NOTIFYs awaiting an answer */
	int zombie;			/* removed, freed when inflight is 0 */
	int dirty;			/* write-back pending */
	struct sip_flow flow;
	char key[PRES_KEY_LEN];		/* callid|remote tag|local tag */
	char callid[CONFIG_SIMPLED_MAX_CALLID_LEN];
	char local_tag[PRES_TAG_LEN];
	char remote_from[CONFIG_SIMPLED_MAX_URI_LEN + PRES_TAG_LEN + 8];
	char presentity_uri[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	char watcher[CONFIG_SIMPLED_MAX_URI_LEN];	/* watcher AoR */
	char contact[CONFIG_SIMPLED_MAX_URI_LEN];	/* remote target */
	char route[CONFIG_SIMPLED_MAX_ROUTE_LEN + 1];	/* Route lines */
};

/* pres.c */
struct pres_entity *pres_entity_get(const char *key, int create);
void pres_entity_put(struct pres_entity *e);
int pres_event_from_pl(struct sd_pl ev);
/** Expiry granted to a PUBLISH or SUBSCRIBE (default, min with its
 * action, max, minus offset), or -1 after answering 400/423. */
int pres_expires(struct sip_stx *st, const struct sip_msg *req,
		 int offset);
const char *pres_event_name(enum pres_event ev);

/* pres_xml.c */
/** Well-formed XML with a single root? @return 0 or EBADMSG (why set). */
int pres_xml_check(const char *doc, size_t len, const char **why);
/** Is doc a PIDF document (root element "presence")? */
int pres_pidf_is(const char *doc, size_t len);
/** Does doc say <basic>open</basic> somewhere? */
int pres_pidf_open(const char *doc, size_t len);
/** Append the tuple ids of doc to ids (space-separated). */
void pres_pidf_tuple_ids(const char *doc, size_t len, char *ids,
			 size_t size);
/** The aggregate PIDF of entity into b. */
void pres_pidf_aggregate(struct sd_buf *b, struct pres_entity *e,
			 const char *entity_uri, int polite_block);

/* pres_publish.c */
int pres_publish_init(void);
void pres_publish_close(void);
/** Walk the document bodies of a presentity. */
typedef void (pres_doc_h)(const char *body, size_t len, void *arg);
void pres_docs_walk(const struct pres_entity *e, pres_doc_h *h, void *arg);

/* pres_sub.c */
int pres_sub_init(void);
void pres_sub_close(void);
/** Something the watchers of e for ev should see changed. */
void pres_notify_all(struct pres_entity *e, enum pres_event ev);
/** A watcher's authorization changed; tell it and winfo watchers. */
void pres_sub_decide(struct pres_entity *e, const char *watcher,
		     enum pres_decision d);

/* pres_auth.c */
int pres_auth_init(void);
enum pres_decision pres_auth_decide(const char *presentity,
				    const char *watcher);
int pres_auth_set(const char *presentity, const char *watcher,
		  enum pres_decision d);

#endif
