/** @file mod.c  The table of modules: their sections, the `limits`
 * section built from their pools, start and stop in order, counters by
 * name (see mod.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "mem.h"
#include "mod.h"
#include "pool.h"
#include "simpled_config.h"
#include "stat.h"

static const struct mod *mods[MOD_MAX];
static unsigned n_mods, n_started;

/* Section `limits`: one option per pool of every module (sizes in
 * limit_val, in the order of limit_pool), then mem_budget_kb, then the
 * options of modules that are not built. */
#define LIMIT_OPTS (MOD_MAX_POOLS + 1 + MOD_MAX_POOLS)
static struct cfg_opt limit_opts[LIMIT_OPTS];
static struct pool *limit_pool[MOD_MAX_POOLS];
static unsigned n_limit_pools;
static int limit_val[MOD_MAX_POOLS + 1];
static char limit_dflt[MOD_MAX_POOLS + 1][12];

unsigned long stat_overload;

int mod_register(const struct mod *m)
{
	unsigned i;

	for (i = 0; i < n_mods; i++) {
		if (mods[i] == m || !strcmp(mods[i]->name, m->name)) {
			return EEXIST;
		}
	}
	if (n_mods == MOD_MAX) {
		return ENOSPC;
	}
	mods[n_mods++] = m;
	return 0;
}

void mod_reset(void)
{
	n_mods = 0;
	n_started = 0;
}

static void add_opt(unsigned *n, const char *name, unsigned idx, long min,
		    long max, long dflt, const char *off_switch)
{
	struct cfg_opt *o = &limit_opts[(*n)++];

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->type = CFG_INT;
	o->off_switch = off_switch;
	if (off_switch) {
		return;
	}
	snprintf(limit_dflt[idx], sizeof(limit_dflt[idx]), "%ld", dflt);
	o->off = (size_t)idx * sizeof(int);
	o->min = min;
	o->max = max;
	o->dflt = limit_dflt[idx];
}

/* The `limits` section from the registered pools. */
static int limits_sect(struct cfg_sect *s, char *err, size_t errlen)
{
	unsigned i, j, n = 0;

	n_limit_pools = 0;
	for (i = 0; i < n_mods; i++) {
		for (j = 0; mods[i]->pools && mods[i]->pools[j]; j++) {
			struct pool *p = mods[i]->pools[j];

			if (n_limit_pools == MOD_MAX_POOLS) {
				snprintf(err, errlen, "more than %d pools",
					 MOD_MAX_POOLS);
				return ENOSPC;
			}
			limit_pool[n_limit_pools] = p;
			add_opt(&n, p->name, n_limit_pools, 1, p->ceiling,
				p->dflt < p->ceiling ? p->dflt : p->ceiling,
				NULL);
			n_limit_pools++;
		}
	}
	add_opt(&n, "mem_budget_kb", MOD_MAX_POOLS, 64,
		CONFIG_SIMPLED_MEM_BUDGET_KB, CONFIG_SIMPLED_MEM_BUDGET_KB,
		NULL);
	for (i = 0; i < n_mods; i++) {
		for (j = 0; mods[i]->off_pools && mods[i]->off_pools[j] &&
			    n < LIMIT_OPTS; j++) {
			add_opt(&n, mods[i]->off_pools[j], 0, 0, 0, 0,
				mods[i]->off_switch);
		}
	}
	memset(s, 0, sizeof(*s));
	s->type = "limits";
	s->opts = limit_opts;
	s->nopts = n;
	s->base = limit_val;
	s->size = sizeof(limit_val);
	s->restart = cfg_restart_all; /* pools are carved at start */
	return 0;
}

/* The sections of the last mod_configure(). */
static struct cfg_sect sects[MOD_MAX + 1];
static size_t n_sects;

void mod_sects_walk(mod_sect_h *h, void *arg)
{
	size_t i;

	for (i = 0; i < n_sects; i++) {
		h(&sects[i], arg);
	}
}

int mod_configure(const char *path, const char *text, char *err,
		  size_t errlen)
{
	struct cfg_sect *s = sects;
	size_t n = 0;
	unsigned i;
	int rc;

	for (i = 0; i < n_mods; i++) {
		if (mods[i]->sect) {
			s[n++] = *mods[i]->sect;
		} else if (mods[i]->off_sect) {
			memset(&s[n], 0, sizeof(s[n]));
			s[n].type = mods[i]->off_sect;
			s[n++].off_switch = mods[i]->off_switch;
		}
	}
	rc = limits_sect(&s[n++], err, errlen);
	n_sects = n;
	if (rc) {
		return rc;
	}
	rc = cfg_defaults(s, n, err, errlen);
	if (rc) {
		return rc;
	}
	if (text) {
		rc = cfg_parse("(text)", text, s, n, err, errlen);
	} else if (path) {
		rc = cfg_load_file(path, s, n, err, errlen);
	}
	if (rc) {
		return rc;
	}
	for (i = 0; i < n_limit_pools; i++) {
		limit_pool[i]->cfg_size = limit_val[i];
	}
	return 0;
}

/* Bytes a section fills: its struct, or all its instances. */
static size_t sect_bytes(const struct cfg_sect *s)
{
	return s->max ? s->max * s->stride : s->size;
}

/* Bytes of option o's field (a list with its count beside). */
static size_t opt_bytes(const struct cfg_opt *o)
{
	switch (o->type) {
	case CFG_STR:
		return o->size;
	case CFG_LIST:
		return o->size * (size_t)o->max;
	default:
		return sizeof(int);
	}
}

static int needs_restart(const struct cfg_sect *s, const char *name)
{
	const char *const *r;

	for (r = s->restart; r && *r; r++) {
		if (!strcmp(*r, "*") || !strcmp(*r, name)) {
			return 1;
		}
	}
	return 0;
}

/* What a reload keeps of each section to put it back. */
struct sect_snap {
	char *copy;
	unsigned count;
};

static void restore(const struct sect_snap *snap, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (snap[i].copy) {
			memcpy(sects[i].base, snap[i].copy,
			       sect_bytes(&sects[i]));
			if (sects[i].count) {
				*sects[i].count = snap[i].count;
			}
		}
	}
}

int mod_reload(const char *path, char *err, size_t errlen,
	       mod_restart_h *note, void *arg)
{
	struct sect_snap snap[MOD_MAX + 1];
	char scratch[256];
	size_t i, n = n_sects, k, failed = 0;
	int rc = 0;

	memset(snap, 0, sizeof(snap));
	for (i = 0; i < n && !rc; i++) {
		size_t bytes = sect_bytes(&sects[i]);

		if (sects[i].off_switch || !bytes) {
			continue;
		}
		snap[i].copy = mem_alloc(bytes);
		if (!snap[i].copy) {
			snprintf(err, errlen, "no memory to reload");
			rc = ENOMEM;
			break;
		}
		memcpy(snap[i].copy, sects[i].base, bytes);
		snap[i].count = sects[i].count ? *sects[i].count : 0;
	}
	if (!rc) {
		rc = mod_configure(path, NULL, err, errlen);
	}
	for (i = 0; i < n && !rc; i++) {
		struct cfg_sect *s = &sects[i];

		if (!snap[i].copy || s->max) {
			continue;
		}
		for (k = 0; k < s->nopts; k++) {
			const struct cfg_opt *o = &s->opts[k];
			char *now = (char *)s->base + o->off;
			const char *was = snap[i].copy + o->off;
			size_t cnt = o->type == CFG_LIST ? sizeof(unsigned) : 0;

			if (o->off_switch || !needs_restart(s, o->name) ||
			    (!memcmp(now, was, opt_bytes(o)) &&
			     (!cnt || !memcmp((char *)s->base + o->cnt_off,
					      snap[i].copy + o->cnt_off,
					      cnt)))) {
				continue;
			}
			memcpy(now, was, opt_bytes(o));
			if (cnt) {
				memcpy((char *)s->base + o->cnt_off,
				       snap[i].copy + o->cnt_off, cnt);
			}
			note(s->type, o->name, arg);
		}
	}
	for (i = 0; !rc && i < n; i++) {
		if (sects[i].reload && !sects[i].off_switch) {
			rc = sects[i].reload(err, errlen);
			failed = i;
		}
	}
	if (rc) {
		/* Nothing changes: a file with an error, or a section that
		 * could not take its new values (a certificate that does
		 * not load); the hooks that ran take the old ones again. */
		restore(snap, n);
		for (i = 0; i < failed && i < n; i++) {
			if (sects[i].reload && !sects[i].off_switch) {
				(void)sects[i].reload(scratch,
						      sizeof(scratch));
			}
		}
	}
	for (i = 0; i < n_limit_pools; i++) {
		limit_pool[i]->cfg_size = limit_val[i];
	}
	for (i = 0; i < n; i++) {
		mem_put(snap[i].copy);
	}
	return rc;
}

size_t mod_mem_budget(void)
{
	return (size_t)limit_val[MOD_MAX_POOLS] * 1024u;
}

unsigned mod_pool_total(void)
{
	unsigned i, t = 0;

	for (i = 0; i < n_limit_pools; i++) {
		t += pool_size(limit_pool[i]);
	}
	return t;
}

struct pool *mod_pool_at(unsigned i)
{
	return i < n_limit_pools ? limit_pool[i] : NULL;
}

struct pool *mod_pool(const char *name)
{
	unsigned i;

	for (i = 0; i < n_limit_pools; i++) {
		if (!strcmp(limit_pool[i]->name, name)) {
			return limit_pool[i];
		}
	}
	return NULL;
}

unsigned mod_pools_used(void)
{
	unsigned i, t = 0;

	for (i = 0; i < n_limit_pools; i++) {
		t += pool_info(limit_pool[i])->used;
	}
	return t;
}

int mod_start(void)
{
	int err;

	for (n_started = 0; n_started < n_mods; n_started++) {
		const struct mod *m = mods[n_started];

		err = m->start ? m->start() : 0;
		if (err) {
			mod_stop();
			return err;
		}
	}
	return 0;
}

void mod_stop(void)
{
	while (n_started) {
		const struct mod *m = mods[--n_started];

		if (m->stop) {
			m->stop();
		}
	}
}

void mod_release(void)
{
	unsigned i;

	for (i = 0; i < n_limit_pools; i++) {
		pool_release(limit_pool[i]);
	}
}

void mod_stats_walk(mod_stat_h *h, void *arg)
{
	static const struct stat_def core_stats[] = {
		{"overload_503", &stat_overload},
		{NULL, NULL},
	};
	unsigned i;

	h(core_stats, arg);
	for (i = 0; i < n_mods; i++) {
		if (mods[i]->stats) {
			h(mods[i]->stats, arg);
		}
	}
}

struct stat_find {
	const char *name;
	unsigned long v;
};

static void find_one(const struct stat_def *s, void *arg)
{
	struct stat_find *f = arg;

	for (; s->name; s++) {
		if (f->name && !strcmp(s->name, f->name)) {
			f->v = *s->v;
		} else if (!f->name) {
			*s->v = 0;
		}
	}
}

unsigned long stat_value(const char *name)
{
	struct stat_find f = {name, 0};

	mod_stats_walk(find_one, &f);
	return f.v;
}

void stat_reset(void)
{
	struct stat_find f = {NULL, 0};

	mod_stats_walk(find_one, &f);
}
