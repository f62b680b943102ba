/** @file pres_pidf.c  The presence event package (RFC 3856): NOTIFYs carry
 * the presentity's documents merged into one PIDF (pres_xml.c), or,
 * without documents, registration-driven presence: open while the user
 * has a registered contact.
 */
#include "pres_priv.h"
#include "reg.h"

static void pidf_body(struct sd_buf *b, struct pres_sub *s,
		      const struct pres_sub *changed, const char *what)
{
	(void)changed;
	(void)what;
	pres_pidf_aggregate(b, s->ent, s->presentity_uri,
			    s->decision == PRES_POLITE_BLOCK);
}

static int on_reg_change(void *ev, void *arg)
{
	const struct reg_change *ch = ev;
	struct pres_entity *e = pres_entity_get(ch->aor, 0);
	unsigned n;

	(void)arg;
	if (!e || e->n_docs) {
		return 0; /* published state wins over registration state */
	}
	/* First binding, or the last one gone: the dummy state flips. */
	n = reg_lookup(ch->aor, NULL, NULL);
	if ((ch->ev == REG_ADDED && n == 1) ||
	    ((ch->ev == REG_REMOVED || ch->ev == REG_EXPIRED) && n == 0)) {
		pres_notify_all(e, PRES_EV_PRESENCE);
	}
	return 0;
}

static int pidf_init(void)
{
	return reg_observe(on_reg_change, NULL);
}

const struct pres_pkg pres_pkg_presence = {
	.name = "presence",
	.ctype = PRES_PIDF_TYPE,
	.ev = PRES_EV_PRESENCE,
	.owner_only = 0,
	.body = pidf_body,
	.init = pidf_init,
};
