/** @file pres_winfo.c  The presence.winfo event package (RFC 3857/3858):
 * the presentity's own view of who watches its presence. The first NOTIFY
 * lists every watcher (state "full"); each later one names the watcher
 * that came, went or was decided on ("partial").
 */
#include "pres_priv.h"

static void xml_escaped(struct sd_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sd_buf_str(b, "&amp;"); break;
		case '<': sd_buf_str(b, "&lt;"); break;
		case '>': sd_buf_str(b, "&gt;"); break;
		case '"': sd_buf_str(b, "&quot;"); break;
		default: sd_buf_add(b, s, 1); break;
		}
	}
}

static const char *winfo_status(const struct pres_sub *w)
{
	if (w->zombie || w->state == PRES_SUB_TERMINATED) {
		return "terminated";
	}
	return w->state == PRES_SUB_PENDING ? "pending" : "active";
}

static void winfo_watcher(struct sd_buf *b, const struct pres_sub *w,
			  const char *event)
{
	sd_buf_printf(b, "<watcher id=\"%.12s\" event=\"%s\" status=\"%s\">"
		      "sip:", w->local_tag, event, winfo_status(w));
	xml_escaped(b, w->watcher);
	sd_buf_str(b, "</watcher>\n");
}

/* RFC 3858: the full list, or only `changed` (partial). */
static void winfo_body(struct sd_buf *b, struct pres_sub *s,
		       const struct pres_sub *changed, const char *what)
{
	const struct pres_sub *w;

	sd_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<watcherinfo"
		      " xmlns=\"urn:ietf:params:xml:ns:watcherinfo\""
		      " version=\"%u\" state=\"%s\">\n"
		      "<watcher-list resource=\"", s->version++,
		      changed ? "partial" : "full");
	xml_escaped(b, s->presentity_uri);
	sd_buf_str(b, "\" package=\"presence\">\n");
	if (changed) {
		winfo_watcher(b, changed, what);
	} else {
		for (w = s->ent ? s->ent->subs : NULL; w; w = w->next) {
			if (w->pkg == &pres_pkg_presence) {
				winfo_watcher(b, w, "subscribe");
			}
		}
	}
	sd_buf_str(b, "</watcher-list>\n</watcherinfo>\n");
}

/* The list is of the presence package's watchers only. */
static void winfo_watcher_changed(struct pres_sub *s,
				  const struct pres_sub *w, const char *what)
{
	if (w->pkg == &pres_pkg_presence) {
		pres_sub_notify(s, NULL, w, what);
	}
}

const struct pres_pkg pres_pkg_winfo = {
	.name = "presence.winfo",
	.ctype = "application/watcherinfo+xml",
	.ev = PRES_EV_WINFO,
	.owner_only = 1,
	.body = winfo_body,
	.watcher_changed = winfo_watcher_changed,
};
