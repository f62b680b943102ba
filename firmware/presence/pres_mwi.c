/** @file pres_mwi.c  The message-summary event package (RFC 3842) over the
 * offline store: the number of messages waiting for the presentity, told
 * again whenever it changes. Also where presence meets offline delivery: a
 * PUBLISH saying open delivers the waiting messages at once. Built only
 * with CONFIG_SIMPLED_OFFLINE (firmware/CMakeLists.txt).
 */
#include "offline.h"
#include "pres_priv.h"

static void mwi_body(struct sd_buf *b, struct pres_sub *s,
		     const struct pres_sub *changed, const char *what)
{
	const char *aor = s->presentity_uri + 4;
	unsigned n = offline_count(aor);

	(void)changed;
	(void)what;
	sd_buf_printf(b, "Messages-Waiting: %s\r\nMessage-Account: %s\r\n"
		      "Text-Message: %u/0\r\n", n ? "yes" : "no",
		      s->presentity_uri, n);
}

static int on_offline_change(void *ev, void *arg)
{
	const struct offline_change *ch = ev;
	struct pres_entity *e = pres_entity_get(ch->owner, 0);

	(void)arg;
	if (e) {
		pres_notify_all(e, PRES_EV_MSGSUM);
	} else { /* no SIP watcher: only ctl's watch may follow it */
		pres_observers_tell(ch->owner, PRES_EV_MSGSUM);
	}
	return 0;
}

static int mwi_init(void)
{
	return offline_observe(on_offline_change, NULL);
}

static void mwi_published(const char *aor, int open)
{
	if (open) {
		offline_kick(aor);
	}
}

const struct pres_pkg pres_pkg_mwi = {
	.name = "message-summary",
	.ctype = "application/simple-message-summary",
	.ev = PRES_EV_MSGSUM,
	.owner_only = 1,
	.body = mwi_body,
	.init = mwi_init,
	.published = mwi_published,
};
