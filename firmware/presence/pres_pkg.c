/** @file pres_pkg.c  The event packages built in: the table of their ops,
 * lookup by Event header, the Allow-Events list of a 489, and the hooks
 * every package may take (start, PUBLISH).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pres_priv.h"

/* Indexed by id; a package switched off in Kconfig leaves a hole, so it
 * is unknown (489) and not offered in Allow-Events. */
static const struct pres_pkg *const pkgs[PRES_EV__COUNT] = {
	[PRES_EV_PRESENCE] = &pres_pkg_presence,
	[PRES_EV_WINFO] = &pres_pkg_winfo,
#ifdef CONFIG_SIMPLED_OFFLINE
	[PRES_EV_MSGSUM] = &pres_pkg_mwi,	/* counts the offline store */
#endif
};

const struct pres_pkg *pres_pkg_of(unsigned ev)
{
	return ev < PRES_EV__COUNT ? pkgs[ev] : NULL;
}

const struct pres_pkg *pres_pkg_find(struct sd_pl ev)
{
	const char *semi = memchr(ev.p, ';', ev.l);
	unsigned i;

	if (semi) {
		ev.l = (size_t)(semi - ev.p); /* parameters (id=) ignored */
	}
	ev = sd_pl_trim(ev);
	for (i = 0; i < PRES_EV__COUNT; i++) {
		if (pkgs[i] && !sd_pl_casecmp(ev, pkgs[i]->name)) {
			return pkgs[i];
		}
	}
	return NULL;
}

const char *pres_pkg_allow_events(void)
{
	static char list[128];
	struct sd_buf b;
	unsigned i;

	if (list[0]) {
		return list;
	}
	sd_buf_init(&b, list, sizeof(list));
	for (i = 0; i < PRES_EV__COUNT; i++) {
		if (pkgs[i]) {
			sd_buf_printf(&b, "%s%s", b.len ? ", " : "",
				      pkgs[i]->name);
		}
	}
	return list;
}

int pres_pkgs_init(void)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < PRES_EV__COUNT && !err; i++) {
		if (pkgs[i] && pkgs[i]->init) {
			err = pkgs[i]->init();
		}
	}
	return err;
}

void pres_pkgs_published(const char *aor, int open)
{
	unsigned i;

	for (i = 0; i < PRES_EV__COUNT; i++) {
		if (pkgs[i] && pkgs[i]->published) {
			pkgs[i]->published(aor, open);
		}
	}
}

int pres_state(const char *aor, const char *event, struct sd_buf *b)
{
	/* A subscriber of the owner's that has just been told everything:
	 * what each package's body function reads. */
	static struct pres_sub s;
	static char uri[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	static char watcher[CONFIG_SIMPLED_MAX_URI_LEN], none[1];
	const struct pres_pkg *pkg = pres_pkg_find(sd_pl_str(event));

	if (!pkg) {
		return ENOENT;
	}
	memset(&s, 0, sizeof(s));
	s.pkg = pkg;
	s.ent = pres_entity_get(aor, 0);
	s.decision = PRES_ALLOW;
	s.state = PRES_SUB_ACTIVE;
	/* Not a subscription of the pool: its text is here. */
	snprintf(uri, sizeof(uri), "sip:%s", aor);
	snprintf(watcher, sizeof(watcher), "%s", aor);
	s.callid = s.key = s.local_tag = s.remote_from = s.contact =
		s.route = none;
	s.presentity_uri = uri;
	s.watcher = watcher;
	pkg->body(b, &s, NULL, NULL);
	return 0;
}
