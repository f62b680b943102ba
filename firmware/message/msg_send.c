/** @file msg_send.c  MESSAGEs the server itself sends (chat rooms,
 * notices): to every registered contact of a user, to the next hop for
 * other domains, and, when asked, into the offline store for a user who
 * cannot take it now (see msg_send()).
 */
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "msg_priv.h"
#include "reg.h"
#include "sip.h"
#include "stat.h"
#ifdef CONFIG_SIMPLED_OFFLINE
#include "offline.h"
#endif

/* Into the offline store when it is built in; else the message is lost
 * for a user who cannot take it, as with any unreachable UA. */
static void keep(const char *user, const char *from, const char *to,
		 const char *ctype, const char *body, size_t blen,
		 unsigned long *kept_stat)
{
#ifdef CONFIG_SIMPLED_OFFLINE
	if (!offline_put(user, from, to, ctype, body, blen) && kept_stat) {
		stat_inc(*kept_stat);
	}
#else
	(void)user;
	(void)from;
	(void)to;
	(void)ctype;
	(void)body;
	(void)blen;
	(void)kept_stat;
#endif
}

struct deliver {
	const struct msg_out *m;
	const char *from;	/* m's users as name-addrs */
	const char *to;
	unsigned sent;
	struct fallback *fb;	/* offline fallback, or NULL */
};

/*
 * A room message to a member's contacts that may still go to the offline
 * store: if no contact takes it and one was unreachable (408, 480, 5xx),
 * it is stored once the last answer is in. Lives in the budget; every live
 * one is on a list so that msg_stop() can free what never got answers.
 */
struct fallback {
	struct fallback *prev, *next;
	unsigned pending;
	int delivered;
	int unreachable;
	size_t blen;
	char user[CONFIG_SIMPLED_MAX_URI_LEN];
	char from[CONFIG_SIMPLED_MAX_URI_LEN + 8];
	char ctype[128];
	unsigned long *kept_stat;
	char body[];
};

static struct fallback *fallbacks;

/* pre, s and ">" into buf[size] ("<sip:" user ">"), cut to fit. */
static void bracket(char *buf, size_t size, const char *pre, const char *s)
{
	struct sd_buf b;

	sd_buf_init(&b, buf, size);
	sd_buf_str(&b, pre);
	sd_buf_str(&b, s);
	sd_buf_str(&b, ">");
}

static void fallback_free(struct fallback *fb)
{
	if (fb->prev) {
		fb->prev->next = fb->next;
	} else {
		fallbacks = fb->next;
	}
	if (fb->next) {
		fb->next->prev = fb->prev;
	}
	mem_put(fb);
}

static void fallback_done(struct fallback *fb)
{
	char to[CONFIG_SIMPLED_MAX_URI_LEN + 8];

	if (!fb->delivered && fb->unreachable) {
		bracket(to, sizeof(to), "<sip:", fb->user);
		keep(fb->user, fb->from, to, fb->ctype, fb->body, fb->blen,
		     fb->kept_stat);
	}
	fallback_free(fb);
}

static void on_member_answer(int code, const struct sip_msg *resp, void *arg)
{
	struct fallback *fb = arg;

	(void)resp;
	if (code >= 200 && code < 300) {
		fb->delivered = 1;
	} else if (msg_unreachable(code)) {
		fb->unreachable = 1;
	}
	if (!--fb->pending) {
		fallback_done(fb);
	}
}

static struct fallback *fallback_new(const char *user, const char *from,
				     const char *ctype, const char *body,
				     size_t blen)
{
	struct fallback *fb = mem_alloc(sizeof(*fb) + blen);

	if (!fb) {
		return NULL; /* no fallback under memory pressure */
	}
	memset(fb, 0, sizeof(*fb));
	sd_str_copy(fb->user, sizeof(fb->user), user);
	sd_str_copy(fb->from, sizeof(fb->from), from);
	sd_str_copy(fb->ctype, sizeof(fb->ctype), ctype ? ctype : "");
	memcpy(fb->body, body, blen);
	fb->blen = blen;
	fb->next = fallbacks;
	if (fallbacks) {
		fallbacks->prev = fb;
	}
	fallbacks = fb;
	return fb;
}

static void send_to_contact(const struct reg_contact *c, void *arg)
{
	struct deliver *d = arg;
	struct sip_request r;

	if (!c->accepts_message || d->sent >= MSG_MAX_BREADTH) {
		return;
	}
	memset(&r, 0, sizeof(r));
	r.method = "MESSAGE";
	r.ruri = c->uri;
	r.from = d->from;
	r.to = d->to;
	r.hdrs = d->m->hdrs;
	r.ctype = d->m->ctype;
	r.body = d->m->body;
	r.blen = d->m->blen;
	if (d->fb) {
		d->fb->pending++;
	}
	if (!sip_request_send(&r, c->flow, d->fb ? on_member_answer : NULL,
			      d->fb)) {
		d->sent++;
		if (d->m->sent_stat) {
			stat_inc(*d->m->sent_stat);
		}
	} else if (d->fb) {
		d->fb->pending--;
	}
}

void msg_send(const struct msg_out *m)
{
	const char *user = m->user;
	char from[CONFIG_SIMPLED_MAX_URI_LEN + 8];
	char to[CONFIG_SIMPLED_MAX_URI_LEN + 8];
	struct deliver d;
	struct sip_flow f;

	bracket(from, sizeof(from), "<", m->from_uri);
	bracket(to, sizeof(to), "<sip:", user);
	memset(&d, 0, sizeof(d));
	d.m = m;
	d.from = from;
	d.to = to;
	if (m->keep && reg_lookup(user, NULL, NULL)) {
		d.fb = fallback_new(user, from, m->ctype, m->body, m->blen);
		if (d.fb) {
			d.fb->kept_stat = m->kept_stat;
		}
	}
	reg_lookup(user, send_to_contact, &d);
	if (d.fb && !d.fb->pending) {
		fallback_free(d.fb); /* no request left: nothing to wait for */
		d.fb = NULL;
	}
	if (d.sent) {
		return;
	}
	/* Not ours to look up: the next hop knows the user. */
	if (!sip_local_domain(sd_pl_str(strchr(user, '@') ?
					strchr(user, '@') + 1 : ""))) {
		struct reg_contact c = {0};
		char ruri[CONFIG_SIMPLED_MAX_URI_LEN + 8];

		if ((m->outbound_proxy && m->outbound_proxy[0] &&
		     !sip_uri_flow(m->outbound_proxy, &f)) ||
		    !sip_proxy_flow(&f)) {
			snprintf(ruri, sizeof(ruri), "sip:%s", user);
			c.uri = ruri;
			c.flow = &f;
			c.accepts_message = 1;
			send_to_contact(&c, &d);
		}
		return;
	}
	if (m->keep) {
		keep(user, from, to, m->ctype, m->body, m->blen, m->kept_stat);
	}
}

void msg_send_stop(void)
{
	while (fallbacks) {
		fallback_free(fallbacks);
	}
}
