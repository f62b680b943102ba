/** @file pres_publish.c  PUBLISH (RFC 3903) for event presence.
 *
 * A document's ETag is its id (10 hex) plus a generation (6 hex). The id
 * keys the body in LMDB; a refresh only moves the generation and the
 * expiry in memory, so it writes nothing to disk. After a restart the
 * generation is unknown, and the first conditional request naming the id
 * is accepted and fixes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "pres"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "pres_priv.h"
#include "reg.h"
#include "stat.h"
#include "store.h"
#include "wall.h"


struct doc_ext {
	uint32_t gen;
	int gen_known;
	struct tally_ent *src;	/* in pres_docs_by_source, or NULL */
};

/* Document metadata kept beside struct pres_doc (same pool element). */
struct doc_slot {
	struct pres_doc d;
	struct doc_ext x;
};

static struct pres_doc *docs_by_id;	/* hh keyed by the id part */
static unsigned n_docs;
static char rec[STORE_REC_MAX];

unsigned pres_doc_count(void)
{
	return n_docs;
}

static struct doc_ext *ext(struct pres_doc *d)
{
	return &((struct doc_slot *)d)->x;
}

static void doc_key(const struct pres_doc *d, char *key, size_t size)
{
	snprintf(key, size, "%s\x1f%.*s", d->ent->key, PRES_DOC_ID_LEN,
		 d->etag);
}

static void set_etag(struct pres_doc *d)
{
	snprintf(d->etag + PRES_DOC_ID_LEN,
		 sizeof(d->etag) - PRES_DOC_ID_LEN, "%06x",
		 ext(d)->gen & 0xffffffu);
}

/* Record: int64 expiry (store_time_to_disk() of the wall time), content
 * type (then, from schema 3, \x1f and the source the document counts
 * against), NUL, body. */
static int doc_write(struct pres_doc *d, int64_t until, struct sd_pl body)
{
	char key[PRES_DOC_KEY_LEN];
	const struct tally_ent *src = ext(d)->src;
	int64_t expires = store_time_to_disk(until);
	size_t tl;

	tl = (size_t)snprintf(rec + 8, sizeof(rec) - 8, "%s%s%s",
			      PRES_PIDF_TYPE, src ? "\x1f" : "",
			      src ? src->key : "") + 1;
	if (8 + tl + body.l > sizeof(rec)) {
		return EMSGSIZE;
	}
	memcpy(rec, &expires, 8);
	memcpy(rec + 8 + tl, body.p, body.l);
	doc_key(d, key, sizeof(key));
	return store_rec_put(STORE_PRES_DOC, key, rec, 8 + tl + body.l);
}

/* The body of d from LMDB, in rec until the next read. @return 0 or
 * ENOENT (no such record, or a malformed one). */
static int doc_read(const struct pres_doc *d, const char **body,
		    size_t *len)
{
	char key[PRES_DOC_KEY_LEN];
	size_t vl, tl;

	doc_key(d, key, sizeof(key));
	if (store_rec_get(STORE_PRES_DOC, key, rec, sizeof(rec) - 1, &vl) ||
	    vl < 9) {
		return ENOENT;
	}
	rec[vl] = '\0';
	tl = strlen(rec + 8) + 1;
	if (8 + tl > vl) {
		return ENOENT;
	}
	*body = rec + 8 + tl;
	*len = vl - 8 - tl;
	return 0;
}

void pres_docs_walk(const struct pres_entity *e, pres_doc_h *h, void *arg)
{
	struct pres_doc *d;
	const char *body;
	size_t len;

	for (d = e->docs; d; d = d->next) {
		if (!doc_read(d, &body, &len)) {
			h(body, len, arg);
		}
	}
}

static void remember_closed(struct pres_doc *d)
{
	const char *body;
	size_t len;

	if (!doc_read(d, &body, &len)) {
		pres_pidf_tuple_ids(body, len, d->ent->closed_ids,
				    sizeof(d->ent->closed_ids));
	}
}

static void doc_free(struct pres_doc *d, int drop_from_store)
{
	struct pres_entity *e = d->ent;
	struct pres_doc **pp;
	char key[PRES_DOC_KEY_LEN];

	if (drop_from_store) {
		remember_closed(d);
		doc_key(d, key, sizeof(key));
		store_rec_del(STORE_PRES_DOC, key);
	}
	tmr_cancel(&d->tmr);
	for (pp = &e->docs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	e->n_docs--;
	tally_put(&pres_docs_by_source, ext(d)->src);
	HASH_DEL(docs_by_id, d);
	n_docs--;
	pool_put(&pres_doc_pool, d);
}

static void doc_expired(void *arg)
{
	struct pres_doc *d = arg;
	struct pres_entity *e = d->ent;

	stat_inc(pres_stat_pub_expired);
	doc_free(d, 1);
	pres_notify_all(e, PRES_EV_PRESENCE);
	pres_entity_put(e);
}

static struct pres_doc *doc_new(struct pres_entity *e, const char *id)
{
	struct pres_doc *d = pool_get(&pres_doc_pool);

	if (!d) {
		return NULL;
	}
	if (id) {
		memcpy(d->etag, id, PRES_DOC_ID_LEN);
	} else {
		sd_rand_hex(d->etag, PRES_DOC_ID_LEN);
	}
	d->etag[PRES_DOC_ID_LEN] = '\0';
	SD_HASH_ADD(hh, docs_by_id, etag, PRES_DOC_ID_LEN, d, &pres_doc_pool);
	if (!d) {
		return NULL;
	}
	d->ent = e;
	d->next = e->docs;
	e->docs = d;
	e->n_docs++;
	n_docs++;
	return d;
}

/* Content-Type and body checks; answers and returns non-zero on error. */
/* What is wrong with a body of this content type, or NULL; *code the
 * answer (400, or 415 for another type). */
static const char *body_fault(struct sd_pl ctype, struct sd_pl body,
			      int *code)
{
	const char *why;

	*code = 400;
	if (!ctype.p) {
		return "Body without Content-Type";
	}
	if (memchr(ctype.p, ';', ctype.l)) {
		ctype.l = (size_t)((const char *)memchr(ctype.p, ';',
							ctype.l) - ctype.p);
	}
	if (sd_pl_casecmp(sd_pl_trim(ctype), PRES_PIDF_TYPE)) {
		*code = 415;
		return "Unsupported Media Type";
	}
	/* Said apart from the XML checker's faults: the aggregate watchers
	 * get is labelled UTF-8, and a NUL ends the text of any C reader on
	 * the way. */
	if (memchr(body.p, '\0', body.l)) {
		return "Body holds a NUL byte";
	}
	if (!pres_utf8_valid(body.p, body.l)) {
		return "Body is not valid UTF-8";
	}
	if (pres_xml_check(body.p, body.l, &why)) {
		return why;
	}
	if (!pres_pidf_is(body.p, body.l)) {
		return "Body is not a PIDF document";
	}
	return NULL;
}

/* One PUBLISH as SIP and ctl give it, already addressed to a presentity
 * of ours by whoever may publish it. */
struct pub_in {
	const char *aor;
	struct sd_pl if_match;	/* .p NULL: none */
	int expires;		/* within the bounds (pres_expires()) */
	struct sd_pl ctype;	/* .p NULL: none */
	struct sd_pl body;	/* .l 0: a refresh or a removal */
	const char *source;	/* what the per-source cap counts */
};

/* Apply in: the answer into res (200 with the ETag and Expires, else the
 * refusal); watchers are told of a change. */
static void publish(const struct pub_in *in, struct pres_pub_result *res)
{
	struct pres_entity *e;
	struct pres_doc *d = NULL;
	struct tally_ent *counted;
	const char *why;
	int err, refresh, open;
	int64_t until;

	memset(res, 0, sizeof(*res));
	res->code = 200;
	if (in->if_match.p) {
		if (in->if_match.l != PRES_ETAG_LEN) {
			res->code = 412;
			return;
		}
		HASH_FIND(hh, docs_by_id, in->if_match.p, PRES_DOC_ID_LEN, d);
		if (!d || strcmp(d->ent->key, in->aor) ||
		    (ext(d)->gen_known &&
		     strncmp(d->etag, in->if_match.p, PRES_ETAG_LEN))) {
			res->code = 412;
			return;
		}
	} else if (!in->body.l) {
		res->code = 400;
		res->reason = "PUBLISH without body needs SIP-If-Match";
		return;
	} else if (!in->expires) {
		res->code = 400;
		res->reason = "Initial PUBLISH with Expires: 0";
		return;
	}
	if (in->body.l &&
	    (why = body_fault(in->ctype, in->body, &res->code))) {
		res->reason = why;
		return;
	}
	res->code = 200;
	if (d && !in->expires) {
		/* Remove: watchers see its tuples closed. */
		e = d->ent;
		doc_free(d, 1);
		stat_inc(pres_stat_pub_removed);
		pres_notify_all(e, PRES_EV_PRESENCE);
		pres_entity_put(e);
		return;
	}
	until = wall_now() + in->expires;
	if (!d) {
		err = tally_get(&pres_docs_by_source, in->source,
				(unsigned)pres_cfg.max_documents_per_source,
				&counted);
		if (err == EDQUOT) {
			res->code = 403;
			res->reason = "Too many documents from this source";
			return;
		}
		e = err ? NULL : pres_entity_get(in->aor, 1);
		d = e ? doc_new(e, NULL) : NULL;
		if (!d) {
			tally_put(&pres_docs_by_source, counted);
			pres_entity_put(e);
			res->code = 503;
			return;
		}
		ext(d)->gen = 0;
		ext(d)->src = counted;
	}
	e = d->ent;
	if (in->body.l) {
		err = doc_write(d, until, in->body);
		if (err) {
			if (!in->if_match.p) {
				doc_free(d, 0);
				pres_entity_put(e);
			}
			/* Too large for a record: the sender's; else ours. */
			res->code = err == EMSGSIZE ? 400 : 503;
			res->reason = err == EMSGSIZE ?
				      "Body too large to store" : NULL;
			return;
		}
	}
	ext(d)->gen++;
	ext(d)->gen_known = 1;
	set_etag(d);
	tmr_start(&d->tmr, (uint32_t)in->expires * 1000u, doc_expired, d);
	memcpy(res->etag, d->etag, sizeof(res->etag));
	res->expires = in->expires;
	refresh = !in->body.l;
	if (refresh) {
		stat_inc(pres_stat_pub_refreshed);
		return; /* a refresh changes nothing watchers see */
	}
	open = pres_pidf_open(in->body.p, in->body.l);
	stat_inc(pres_stat_published);
	pres_notify_all(e, PRES_EV_PRESENCE);
	pres_pkgs_published(in->aor, open);
}

static void on_publish(struct sip_stx *st, const struct sip_msg *req)
{
	const struct sip_hdr *ev = sip_msg_hdr_name(req, "Event");
	const struct sip_hdr *im = sip_msg_hdr_name(req, "SIP-If-Match");
	const struct sip_hdr *ct = sip_msg_hdr(req, SIP_HDR_CONTENT_TYPE);
	char aor[CONFIG_SIMPLED_MAX_URI_LEN], src[SIP_SOURCE_LEN];
	char hdrs[96];
	struct pres_pub_result res;
	struct pub_in in;
	int err;

	err = reg_aor_key(req->osip->req_uri, aor, sizeof(aor));
	if (err) {
		sip_reply(st, 404, err == ENOENT ? "Domain not served here" :
			  "No user in Request-URI", NULL, NULL, NULL, 0);
		return;
	}
	if (!pres_is_self(req, aor)) {
		sip_reply(st, 403, "Only the presentity may publish its state",
			  NULL, NULL, NULL, 0);
		return;
	}
	if (!ev || pres_pkg_find(ev->value) != &pres_pkg_presence) {
		sip_reply(st, 489, "Bad Event", "Allow-Events: presence\r\n",
			  NULL, NULL, 0);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.aor = aor;
	in.expires = pres_expires(st, req, 0);
	if (in.expires < 0) {
		return;
	}
	if (im) {
		in.if_match = im->value;
	}
	if (ct) {
		in.ctype = ct->value;
	}
	in.body = req->body;
	sip_msg_source(req, src, sizeof(src));
	in.source = src;
	/* req is gone once the final answer is sent: publish() reads it
	 * before. */
	publish(&in, &res);
	if (res.code == 200) {
		/* 200 once the document's write (or removal) is on disk; a
		 * refresh writes nothing and is answered at once unless
		 * others' writes wait. */
		if (res.etag[0]) {
			snprintf(hdrs, sizeof(hdrs), "SIP-ETag: %s\r\n"
				 "Expires: %d\r\n", res.etag, res.expires);
		} else {
			snprintf(hdrs, sizeof(hdrs), "Expires: 0\r\n");
		}
		sip_reply_hold(st, 200, NULL, hdrs, NULL, NULL, 0);
		store_when_durable(sip_reply_release, st);
	} else if (res.code == 503) {
		sip_reply_errno(st, ENOSPC);
	} else {
		sip_reply(st, res.code, res.reason, res.code == 415 ?
			  "Accept: " PRES_PIDF_TYPE "\r\n" : NULL, NULL,
			  NULL, 0);
	}
}

/* ctl's PUBLISH waits for the disk like a SIP one. */
struct pub_wait {
	struct pres_pub_result res;
	pres_pub_h *h;
	void *arg;
};

static void pub_durable(int err, void *arg)
{
	struct pub_wait *w = arg;

	if (err) {
		memset(&w->res, 0, sizeof(w->res));
		w->res.code = 500;
		w->res.reason = "The store could not write it";
	}
	w->h(&w->res, w->arg);
	mem_put(w);
}

int pres_publish_local(const char *aor, const char *etag, int expires,
		       const char *ctype, const char *body, size_t blen,
		       const char *source, struct pres_pub_result *now,
		       pres_pub_h *h, void *arg)
{
	struct pub_wait *w = mem_zalloc(sizeof(*w));
	struct pub_in in;

	if (!w) {
		memset(now, 0, sizeof(*now));
		now->code = 503;
		return 0;
	}
	memset(&in, 0, sizeof(in));
	in.aor = aor;
	in.expires = (int)pres_expires_bound(expires < 0 ?
			(uint32_t)pres_cfg.default_expires : (uint32_t)expires);
	in.if_match = etag ? sd_pl_str(etag) : sd_pl(NULL, 0);
	in.ctype = ctype ? sd_pl_str(ctype) : sd_pl(NULL, 0);
	in.body = sd_pl(body, blen);
	in.source = source;
	publish(&in, &w->res);
	w->h = h;
	w->arg = arg;
	if (w->res.code != 200) {
		*now = w->res;
		mem_put(w);
		return 0;
	}
	store_when_durable(pub_durable, w);
	return EINPROGRESS;
}

/* The source a document record names (after \x1f in its content type),
 * "" when none (written before schema 3). */
static void doc_source(const void *val, size_t vlen, char *buf, size_t size)
{
	const char *t = (const char *)val + 8;
	const char *nul = memchr(t, '\0', vlen - 8);
	const char *us = nul ? memchr(t, '\x1f', (size_t)(nul - t)) : NULL;
	size_t l = us ? (size_t)(nul - us - 1) : 0;

	if (l >= size) {
		l = 0;
	}
	memcpy(buf, us ? us + 1 : "", l);
	buf[l] = '\0';
}

/* Bring the documents of the last run back. */
static int restore_doc(const char *key, const void *val, size_t vlen,
		       void *arg)
{
	const char *sep = strchr(key, '\x1f');
	struct pres_entity *e;
	struct pres_doc *d;
	char aor[CONFIG_SIMPLED_MAX_URI_LEN], src[SIP_SOURCE_LEN];
	int64_t until, now = wall_now();
	unsigned *uncounted = arg;

	if (!sep || strlen(sep + 1) != PRES_DOC_ID_LEN || vlen < 9 ||
	    (size_t)(sep - key) >= sizeof(aor)) {
		return 0;
	}
	memcpy(&until, val, 8);
	until = store_time_from_disk(until);
	if (until <= now) {
		return 0; /* expired while we were down: dropped below */
	}
	memcpy(aor, key, (size_t)(sep - key));
	aor[sep - key] = '\0';
	e = pres_entity_get(aor, 1);
	d = e ? doc_new(e, sep + 1) : NULL;
	if (!d) {
		LOG_WRN("cannot restore document %s: pool exhausted", key);
		return 0;
	}
	ext(d)->gen = 1;
	ext(d)->gen_known = 0;
	/* Counted again (no cap: it was taken), unless pres_sources is
	 * too small now. */
	doc_source(val, vlen, src, sizeof(src));
	*uncounted += tally_get(&pres_docs_by_source, src, 0,
				&ext(d)->src) != 0;
	set_etag(d);
	tmr_start(&d->tmr, (uint32_t)((until - now) * 1000), doc_expired, d);
	return 0;
}

/* Expired while we were down. */
static int doc_stale(const char *key, const void *val, size_t vlen)
{
	int64_t until;

	(void)key;
	if (vlen < 8) {
		return 0;
	}
	memcpy(&until, val, 8);
	return store_time_from_disk(until) <= wall_now();
}

int pres_publish_init(void)
{
	int err = pool_setup(&pres_doc_pool, sizeof(struct doc_slot));
	unsigned uncounted = 0;

	if (err) {
		return err;
	}
	if (store_is_open()) {
		store_rec_walk(STORE_PRES_DOC, "", restore_doc, &uncounted);
		pres_store_sweep(STORE_PRES_DOC, doc_stale);
		if (n_docs) {
			LOG_INF("%u presence documents restored", n_docs);
		}
		if (uncounted) {
			LOG_WRN("%u documents restored without counting "
				"their source: raise pres_sources", uncounted);
		}
	}
	return sip_route("PUBLISH", on_publish);
}

void pres_publish_close(void)
{
	struct pres_doc *d, *tmp;

	HASH_ITER(hh, docs_by_id, d, tmp) {
		doc_free(d, 0);
	}
}
