/** @file pres.c  Presence: configuration, presentities, what PUBLISH and
 * SUBSCRIBE share (expiry, sweeping stale records at start, the counts
 * per source), and the module's start and stop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "pres"
#include "cfg.h"
#include "log.h"
#include "pres_priv.h"

struct pres_cfg pres_cfg;
static struct pres_entity *entities;
struct tally pres_subs_by_source = TALLY_INIT(&pres_source_pool);
struct tally pres_docs_by_source = TALLY_INIT(&pres_source_pool);

static const char *const auth_names[] = {"allow_all", "same_domain",
					 "explicit", NULL};
static const char *const subs_mode_names[] = {"memory", "write-back", NULL};

#define P struct pres_cfg
#define P_INT(n, f, lo, hi, d) CFG_INT_OPT(P, n, f, lo, hi, d)
#define P_BOOL(n, f, d) CFG_BOOL_OPT(P, n, f, d)
#define P_LIST(n, f, cnt) CFG_LIST_OPT(P, n, f, cnt, NULL, NULL)

static const struct cfg_opt pres_opts[] = {
	P_INT("default_expires", default_expires, 1, 1000000, "3600"),
	P_INT("max_expires", max_expires, 1, 1000000, "3600"),
	P_INT("min_expires", min_expires, 0, 1000000, "0"),
	P_INT("min_expires_action", min_expires_action, 1, 2, "1"),
	P_INT("expires_offset", expires_offset, 0, 3600, "0"),
	P_INT("clean_period", clean_period, 1, 86400, "100"),
	P_BOOL("force_active", force_active, "0"),
	P_BOOL("force_dummy_presence", force_dummy_presence, "0"),
	P_BOOL("send_fast_notify", send_fast_notify, "1"),
	P_BOOL("timeout_rm_subs", timeout_rm_subs, "1"),
	P_INT("max_subscriptions_per_source", max_subscriptions_per_source, 0,
	      65536, "128"),
	P_INT("max_documents_per_source", max_documents_per_source, 0, 65536,
	      "32"),
	CFG_ENUM_OPT(P, "subs_db_mode", subs_db_mode, "write-back",
		     subs_mode_names),
	CFG_ENUM_OPT(P, "auth_policy", auth_policy, "same_domain", auth_names),
	CFG_STR_OPT(P, "server_address", server_address, "", NULL),
	CFG_STR_OPT(P, "command_user", command_user, "presence", NULL),
	P_LIST("allow", allow, n_allow),
	P_LIST("block", block, n_block),
};
#undef P
#undef P_INT
#undef P_BOOL
#undef P_LIST

/* The command user's name is reserved with the registrar at start; how
 * subscriptions are written back is set up then too. */
static const char *const pres_restart[] = {"command_user", "subs_db_mode",
					   NULL};

static const struct cfg_sect pres_sect =
	CFG_SECT("presence", pres_opts, &pres_cfg, .restart = pres_restart);

uint32_t pres_expires_bound(uint32_t e)
{
	if (e && e < (uint32_t)pres_cfg.min_expires) {
		e = (uint32_t)pres_cfg.min_expires;
	}
	if (e > (uint32_t)pres_cfg.max_expires) {
		e = (uint32_t)pres_cfg.max_expires;
	}
	return e;
}

int pres_expires(struct sip_stx *st, const struct sip_msg *req, int offset)
{
	uint32_t e = (uint32_t)pres_cfg.default_expires;
	char hdr[48];

	if (sip_hdr_u32(st, sip_msg_hdr(req, SIP_HDR_EXPIRES), "Expires",
			&e) == EBADMSG) {
		return -1;
	}
	if (e && e < (uint32_t)pres_cfg.min_expires &&
	    pres_cfg.min_expires_action == 1) {
		snprintf(hdr, sizeof(hdr), "Min-Expires: %d\r\n",
			 pres_cfg.min_expires);
		sip_reply(st, 423, NULL, hdr, NULL, NULL, 0);
		return -1;
	}
	e = pres_expires_bound(e);
	if (e > (uint32_t)offset) {
		e -= (uint32_t)offset;
	}
	return (int)e;
}

struct pres_entity *pres_entity_get(const char *key, int create)
{
	struct pres_entity *e;

	HASH_FIND_STR(entities, key, e);
	if (e || !create) {
		return e;
	}
	e = pool_get(&pres_entity_pool);
	if (!e) {
		return NULL;
	}
	snprintf(e->key, sizeof(e->key), "%s", key);
	SD_HASH_ADD_STR(entities, key, e, &pres_entity_pool);
	return e;
}

unsigned pres_walk(void (*h)(const char *aor, unsigned docs,
			     unsigned subs, void *arg), void *arg)
{
	struct pres_entity *e, *tmp;
	unsigned n = 0;

	HASH_ITER(hh, entities, e, tmp) {
		const struct pres_sub *s;
		unsigned subs = 0;

		for (s = e->subs; s; s = s->next) {
			subs += !s->zombie;
		}
		if (e->n_docs || subs) {
			n++;
			h(e->key, e->n_docs, subs, arg);
		}
	}
	return n;
}

/* Free e when nothing refers to it any more. */
void pres_entity_put(struct pres_entity *e)
{
	if (e && !e->docs && !e->subs && !e->dirty_events) {
		HASH_DEL(entities, e);
		pool_put(&pres_entity_pool, e);
	}
}

/* Records of the last run are swept in batches: a walk must not write. */
#define SWEEP_BATCH 32
#define SWEEP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SWEEP_KEY_LEN \
	SWEEP_MAX(SWEEP_MAX(PRES_KEY_LEN, PRES_DOC_KEY_LEN), PRES_RULE_KEY_LEN)

struct sweep {
	pres_stale_h *stale;
	unsigned n;
	char keys[SWEEP_BATCH][SWEEP_KEY_LEN];
};

static int sweep_one(const char *key, const void *val, size_t vlen,
		     void *arg)
{
	struct sweep *sw = arg;

	if (strlen(key) < sizeof(sw->keys[0]) && sw->stale(key, val, vlen)) {
		strcpy(sw->keys[sw->n++], key);
	}
	return sw->n == SWEEP_BATCH;
}

void pres_store_sweep(enum store_kind k, pres_stale_h *stale)
{
	static struct sweep sw;
	unsigned i;
	int err = 0;

	sw.stale = stale;
	do {
		sw.n = 0;
		store_rec_walk(k, "", sweep_one, &sw);
		for (i = 0; i < sw.n && !err; i++) {
			err = store_rec_del(k, sw.keys[i]);
		}
	} while (sw.n == SWEEP_BATCH && !err);
}

static int pres_start(void)
{
	int err = pool_setup(&pres_entity_pool, sizeof(struct pres_entity));

	if (!err) {
		err = pool_setup(&pres_source_pool, sizeof(struct tally_ent));
	}
	if (!err) {
		err = pres_publish_init();
	}
	if (!err) {
		err = pres_sub_init();
	}
	if (!err) {
		err = pres_auth_init(); /* its rules checked before restore */
	}
	if (!err) {
		err = pres_wb_init();
	}
	if (!err) {
		err = pres_pkgs_init();
	}
	return err;
}

static void pres_stop(void)
{
	struct pres_entity *e, *tmp;

	pres_wb_close();
	pres_sub_close();
	pres_publish_close();
	HASH_ITER(hh, entities, e, tmp) {
		HASH_DEL(entities, e);
		pool_put(&pres_entity_pool, e);
	}
}

#define MOD_DEF "pres.def"
#define MOD_VAR pres_mod
#define MOD_NAME "presence"
#define MOD_SECT &pres_sect
#define MOD_START pres_start
#define MOD_STOP pres_stop
#include "mod_def.h"
