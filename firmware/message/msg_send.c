/** @file msg_send.c  MESSAGEs the server itself sends (chat rooms, copies
 * of what a user sent, notices): to every registered contact of a user,
 * to the next hop for other domains, and, when asked, per device through
 * the offline store for a user who cannot take it now (see msg_send()).
 */
#include <errno.h>
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

/* pre, s and ">" into buf[size] ("<sip:" user ">"), cut to fit. */
static void bracket(char *buf, size_t size, const char *pre, const char *s)
{
	struct sd_buf b;

	sd_buf_init(&b, buf, size);
	sd_buf_str(&b, pre);
	sd_buf_str(&b, s);
	sd_buf_str(&b, ">");
}

#ifdef CONFIG_SIMPLED_OFFLINE


/* ----------------------------------------------------- per-device plan */

struct plan {
	struct offline_copy *c;
	const char *user;
	const struct sip_flow *except;
	const char *except_dev;	/* the sender's device, or NULL */
	msg_live_h *live;
	void *arg;
	unsigned kept;
	/* Devices already served (one flow each, RFC 5626 5.3): the
	 * registrar's strings, valid during the walk. */
	const char *seen[MSG_MAX_BREADTH];
	unsigned n_seen;
};

/* Has device dev been served in this plan? Marks it when not. */
static int plan_seen(struct plan *p, const char *dev)
{
	unsigned i;

	for (i = 0; i < p->n_seen; i++) {
		if (!strcmp(p->seen[i], dev)) {
			return 1;
		}
	}
	if (p->n_seen < MSG_MAX_BREADTH) {
		p->seen[p->n_seen++] = dev;
	}
	return 0;
}

static void plan_contact(const struct reg_contact *ct, void *arg)
{
	struct plan *p = arg;
	const char *dev = ct->instance[0] &&
			  offline_device_known(p->user, ct->instance) ?
			  ct->instance : "";

	if (!ct->accepts_message ||
	    (p->except && msg_same_peer(ct->flow, p->except)) ||
	    (dev[0] && p->except_dev && !strcmp(dev, p->except_dev)) ||
	    (dev[0] && plan_seen(p, dev))) {
		return;
	}
	if (dev[0] && offline_device_waiting(p->user, dev)) {
		/* Behind what it still waits for: in order, from the
		 * store. */
		p->kept += !offline_keep(p->c, p->user, dev);
		return;
	}
	p->live(ct, dev, p->arg);
}

/* The binding at a flow (msg_device_at()). */
struct device_at {
	const struct sip_flow *flow;
	char *uri, *inst;
	size_t usize, isize;
	int found;
};

static void find_device(const struct reg_contact *ct, void *arg)
{
	struct device_at *d = arg;

	if (!d->found && msg_same_peer(ct->flow, d->flow)) {
		d->found = 1;
		sd_str_copy(d->uri, d->usize, ct->uri);
		sd_str_copy(d->inst, d->isize, ct->instance);
	}
}

int msg_device_at(const char *user, const struct sip_flow *flow, char *uri,
		  size_t usize, char *inst, size_t isize)
{
	struct device_at d = {flow, uri, inst, usize, isize, 0};

	uri[0] = inst[0] = '\0';
	reg_lookup(user, find_device, &d);
	return d.found ? 0 : ENOENT;
}

unsigned msg_devices(struct offline_copy *c, const char *user,
		     const struct sip_flow *except, msg_live_h *live,
		     void *arg)
{
	struct plan p;
	char uri[CONFIG_SIMPLED_MAX_URI_LEN];
	char inst[CONFIG_SIMPLED_MAX_INSTANCE_LEN] = "";

	if (except) {
		msg_device_at(user, except, uri, sizeof(uri), inst,
			      sizeof(inst));
	}
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.user = user;
	p.except = except;
	p.except_dev = inst[0] ? inst : NULL;
	p.live = live;
	p.arg = arg;
	reg_lookup(user, plan_contact, &p);
	return p.kept + offline_keep_away(c, user, inst[0] ? inst : NULL);
}

/* ------------------------------------------------------------ fan-out */

/*
 * One message to a local user's devices: sent to each contact that
 * takes it now, kept for each device that is away, has a backlog or turns
 * out unreachable (408, 480, 5xx); with keep_any, kept for whichever
 * device comes first when contacts without an instance were all
 * unreachable and nothing else took or kept it. Lives in the budget;
 * every live one is on a list so that msg_stop() can free what never got
 * answers.
 */
struct fanout;

struct fan_branch {
	struct fanout *f;
	char inst[CONFIG_SIMPLED_MAX_INSTANCE_LEN];
};

struct fanout {
	struct fanout *prev, *next;
	struct offline_copy *c;
	unsigned pending;
	unsigned n, cap;	/* branches used, room */
	int delivered;
	int unreachable;
	int keep_any;
	unsigned kept;
	const struct msg_out *m;	/* during msg_fan() only */
	const char *hdrs;		/* during msg_fan() only */
	unsigned long *kept_stat;
	char user[CONFIG_SIMPLED_MAX_URI_LEN];
	struct fan_branch br[];
};

static struct fanout *fanouts;

static void fan_free(struct fanout *f)
{
	if (f->prev) {
		f->prev->next = f->next;
	} else {
		fanouts = f->next;
	}
	if (f->next) {
		f->next->prev = f->prev;
	}
	offline_copy_put(f->c);
	mem_put(f);
}

static void fan_done(struct fanout *f)
{
	if (f->keep_any && !f->delivered && f->unreachable && !f->kept) {
		f->kept += !offline_keep(f->c, f->user, NULL);
	}
	if (f->kept && f->kept_stat) {
		stat_inc(*f->kept_stat);
	}
	fan_free(f);
}

static void on_fan_answer(int code, const struct sip_msg *resp, void *arg)
{
	struct fan_branch *b = arg;
	struct fanout *f = b->f;

	(void)resp;
	if (code >= 200 && code < 300) {
		f->delivered = 1;
	} else if (msg_unreachable(code)) {
		if (b->inst[0]) {
			f->kept += !offline_keep(f->c, f->user, b->inst);
		} else {
			f->unreachable = 1;
		}
	}
	if (!--f->pending) {
		fan_done(f);
	}
}

static void fan_live(const struct reg_contact *ct, const char *dev,
		     void *arg)
{
	struct fanout *f = arg;
	const struct msg_out *m = f->m;
	struct offline_copy *c = f->c;
	struct fan_branch *b;
	struct sip_request r;

	if (f->n == f->cap) {
		/* More contacts than requests: a device still gets it. */
		if (dev[0]) {
			f->kept += !offline_keep(c, f->user, dev);
		}
		return;
	}
	b = &f->br[f->n];
	b->f = f;
	sd_str_copy(b->inst, sizeof(b->inst), dev);
	memset(&r, 0, sizeof(r));
	r.method = "MESSAGE";
	r.ruri = ct->uri;
	r.from = c->from;
	r.to = c->to;
	r.hdrs = f->hdrs;
	r.ctype = c->ctype[0] ? c->ctype : NULL;
	r.body = c->body;
	r.blen = c->blen;
	f->pending++;
	if (!sip_request_send(&r, ct->flow, on_fan_answer, b)) {
		f->n++;
		if (m && m->sent_stat) {
			stat_inc(*m->sent_stat);
		}
	} else {
		f->pending--;
		if (b->inst[0]) {
			f->kept += !offline_keep(c, f->user, b->inst);
		}
	}
}

unsigned msg_fan(struct offline_copy *c, const char *user,
		 const struct sip_flow *except, int keep_any,
		 const struct msg_out *m)
{
	static char hdrs[CONFIG_SIMPLED_MAX_MSG_SIZE];
	unsigned n = reg_lookup(user, NULL, NULL), kept;
	struct fanout *f;

	if (n > MSG_MAX_BREADTH) {
		n = MSG_MAX_BREADTH;
	}
	f = mem_alloc(sizeof(*f) + n * sizeof(f->br[0]));
	if (!f) {
		/* Under memory pressure: the store still keeps it. */
		kept = offline_keep_away(c, user, NULL);
		if (keep_any && !kept) {
			kept = !offline_keep(c, user, NULL);
		}
		if (kept && m && m->kept_stat) {
			stat_inc(*m->kept_stat);
		}
		return kept;
	}
	memset(f, 0, sizeof(*f));
	f->c = c;
	c->refs++;
	f->cap = n;
	f->keep_any = keep_any;
	f->m = m;
	f->kept_stat = m ? m->kept_stat : NULL;
	f->hdrs = offline_copy_hdrs(c, 1, hdrs, sizeof(hdrs));
	sd_str_copy(f->user, sizeof(f->user), user);
	f->next = fanouts;
	if (fanouts) {
		fanouts->prev = f;
	}
	fanouts = f;
	f->pending = 1; /* ours while the branches start */
	f->kept += msg_devices(c, user, except, fan_live, f);
	kept = f->kept;
	f->m = NULL;
	f->hdrs = NULL;
	if (!f->n && !f->kept) {
		f->unreachable = 1; /* no contact at all: as msilo */
	}
	if (!--f->pending) {
		fan_done(f);
	}
	return kept;
}

#endif /* CONFIG_SIMPLED_OFFLINE */

/* ----------------------------------------------------------- live only */

struct deliver {
	const struct msg_out *m;
	const char *from;	/* m's users as name-addrs */
	const char *to;
	unsigned sent;
};

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
	if (!sip_request_send(&r, c->flow, NULL, NULL)) {
		d->sent++;
		if (d->m->sent_stat) {
			stat_inc(*d->m->sent_stat);
		}
	}
}

void msg_send(const struct msg_out *m)
{
	const char *user = m->user;
	char from[CONFIG_SIMPLED_MAX_URI_LEN + 8];
	char to[CONFIG_SIMPLED_MAX_URI_LEN + 8];
	struct deliver d;
	struct sip_flow f;
	int local = sip_local_domain(sd_pl_str(strchr(user, '@') ?
					       strchr(user, '@') + 1 :
					       "")) != NULL;

	bracket(from, sizeof(from), "<", m->from_uri);
	bracket(to, sizeof(to), "<sip:", user);
#ifdef CONFIG_SIMPLED_OFFLINE
	if (m->keep && local) {
		struct offline_copy *c = offline_copy_new(from, to, m->ctype,
							  m->hdrs, m->body,
							  m->blen);

		if (c) {
			msg_fan(c, user, NULL, 1, m);
			offline_copy_put(c);
		}
		return;
	}
#endif
	memset(&d, 0, sizeof(d));
	d.m = m;
	d.from = from;
	d.to = to;
	reg_lookup(user, send_to_contact, &d);
	if (d.sent || local) {
		return;
	}
	/* Not ours to look up: the next hop knows the user. */
	if ((m->outbound_proxy && m->outbound_proxy[0] &&
	     !sip_uri_flow(m->outbound_proxy, &f)) || !sip_proxy_flow(&f)) {
		struct reg_contact c = {0};
		char ruri[CONFIG_SIMPLED_MAX_URI_LEN + 8];

		snprintf(ruri, sizeof(ruri), "sip:%s", user);
		c.uri = ruri;
		c.flow = &f;
		c.accepts_message = 1;
		send_to_contact(&c, &d);
	}
}

void msg_send_stop(void)
{
#ifdef CONFIG_SIMPLED_OFFLINE
	while (fanouts) {
		fan_free(fanouts);
	}
#endif
}
