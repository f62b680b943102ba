/** @file pres_pidf.c  The presence event package (RFC 3856): NOTIFYs carry
 * the presentity's documents merged into one PIDF (RFC 3863), or, without
 * documents, registration-driven presence: open while the user has a
 * registered contact.
 *
 * Merging: the children of each document's root go, as written, under
 * one <presence> root whose default namespace is PIDF's. Each document
 * keeps the namespaces it gave its names: a declaration of its root goes
 * on the aggregate's root when every document that declares its prefix
 * binds it alike (the first binding met is kept there), else onto each
 * top-level element of that document, and so does its default namespace
 * when it is not PIDF's. Nothing is renamed (a prefix in an attribute
 * value, as xsi:type uses, keeps its meaning) and no prefix of one
 * document can capture a name of another. Every document is checked again
 * as it is merged (it may come from a build that checked less), and goes
 * in whole or not at all.
 */
#include <string.h>

#define LOG_MODULE "pres"
#include "log.h"
#include "pres_priv.h"
#include "reg.h"

#define PIDF_NS "urn:ietf:params:xml:ns:pidf"
/* Declarations of document roots kept for the aggregate's root. */
#define HOIST_MAX 16
#define HOIST_LEN 200
/* Longest tuple id remembered to show closed. */
#define TUPLE_ID_MAX 63

static int pl_is(struct sd_pl pl, const char *s)
{
	return pl.l == strlen(s) && !memcmp(pl.p, s, pl.l);
}

/* Is t a start tag of PIDF's element local? */
static int pidf_el(const struct pres_xml_tag *t, const char *local)
{
	return !t->end && pl_is(pres_xml_local(t->name), local) &&
	       pres_xml_value_is(t->ns, PIDF_NS);
}

static void root_is_presence(const struct pres_xml_tag *t, void *arg)
{
	if (!t->depth && !t->end) {
		*(int *)arg = pidf_el(t, "presence");
	}
}

int pres_pidf_is(const char *doc, size_t len)
{
	const char *why;
	int is = 0;

	return !pres_xml_walk(doc, len, root_is_presence, &is, &why) && is;
}

static void basic_open(const struct pres_xml_tag *t, void *arg)
{
	const char *lt;
	struct sd_pl text;

	if (t->empty || !pidf_el(t, "basic")) {
		return;
	}
	lt = memchr(t->stop, '<', (size_t)(t->doc_end - t->stop));
	text = sd_pl_trim(sd_pl(t->stop, lt ? (size_t)(lt - t->stop) : 0));
	if (!sd_pl_casecmp(text, "open")) {
		*(int *)arg = 1;
	}
}

int pres_pidf_open(const char *doc, size_t len)
{
	const char *why;
	int open = 0;

	return !pres_xml_walk(doc, len, basic_open, &open, &why) && open;
}

/* Value of attribute name (no prefix) of a start tag, or an empty
 * slice. */
static struct sd_pl attr(struct sd_pl attrs, const char *name)
{
	struct sd_pl n, v;

	while (pres_xml_attr(&attrs, &n, &v, NULL)) {
		if (pl_is(n, name)) {
			return v;
		}
	}
	return sd_pl(NULL, 0);
}

static void tuple_id(const struct pres_xml_tag *t, void *arg)
{
	struct sd_buf *b = arg;
	struct sd_pl id;
	size_t i;

	if (t->depth != 1 || !pidf_el(t, "tuple")) {
		return;
	}
	/* Kept space-separated, and written back between double quotes
	 * (the value as written: its references stay references). */
	id = attr(t->attrs, "id");
	for (i = 0; i < id.l; i++) {
		if (strchr(" \t\r\n\"", id.p[i])) {
			return;
		}
	}
	if (id.l && id.l <= TUPLE_ID_MAX) {
		sd_buf_pl(b, id);
		sd_buf_str(b, " ");
	}
}

void pres_pidf_tuple_ids(const char *doc, size_t len, char *ids, size_t size)
{
	struct sd_buf b;
	size_t have = strlen(ids);
	const char *why;

	sd_buf_init(&b, ids + have, size - have);
	if (pres_xml_walk(doc, len, tuple_id, &b, &why) || b.overflow) {
		ids[have] = '\0'; /* keep the ids that fitted before */
	}
}

/* A declaration of a document root kept for the aggregate's root. */
struct hoist {
	char text[HOIST_LEN];	/* xmlns:p="v", as written */
	size_t name_len;	/* of xmlns:p */
	size_t value_off, value_len;
	int at_root;		/* written there */
};

struct merge {
	struct sd_buf *b;
	struct hoist hoist[HOIST_MAX];
	unsigned n_hoist;
	/* The document at hand: */
	const char *copied;	/* written up to here */
	struct sd_pl root_attrs;
	struct sd_pl dflt;	/* its default namespace declaration when
				 * not PIDF's, else empty */
};

static struct sd_pl hoist_name(const struct hoist *h)
{
	return sd_pl(h->text, h->name_len);
}

static struct sd_pl hoist_value(const struct hoist *h)
{
	return sd_pl(h->text + h->value_off, h->value_len);
}

static struct hoist *hoisted(struct merge *m, struct sd_pl name)
{
	unsigned i;

	for (i = 0; i < m->n_hoist; i++) {
		struct sd_pl n = hoist_name(&m->hoist[i]);

		if (n.l == name.l && !memcmp(n.p, name.p, n.l)) {
			return &m->hoist[i];
		}
	}
	return NULL;
}

/* First pass: the prefixed declarations of the root, each prefix once. */
static void collect_decls(const struct pres_xml_tag *t, void *arg)
{
	struct merge *m = arg;
	struct sd_pl it = t->attrs, name, value, whole;

	if (t->depth || t->end) {
		return;
	}
	while (pres_xml_attr(&it, &name, &value, &whole)) {
		struct hoist *h;

		if (name.l <= 6 || memcmp(name.p, "xmlns:", 6) ||
		    hoisted(m, name) || m->n_hoist == HOIST_MAX ||
		    whole.l >= HOIST_LEN) {
			continue;
		}
		h = &m->hoist[m->n_hoist++];
		memcpy(h->text, whole.p, whole.l);
		h->text[whole.l] = '\0';
		h->name_len = name.l;
		h->value_off = (size_t)(value.p - whole.p);
		h->value_len = value.l;
		h->at_root = 0;
	}
}

static void collect_doc(const char *body, size_t len, void *arg)
{
	struct merge *m = arg;
	unsigned before = m->n_hoist;
	const char *why;

	if (pres_xml_walk(body, len, collect_decls, m, &why)) {
		m->n_hoist = before;
	}
}

/* Does the start tag declare this attribute itself? */
static int declares(struct sd_pl attrs, struct sd_pl decl)
{
	struct sd_pl name, value;

	while (pres_xml_attr(&attrs, &name, &value, NULL)) {
		if (name.l == decl.l && !memcmp(name.p, decl.p, decl.l)) {
			return 1;
		}
	}
	return 0;
}

static void copy_to(struct merge *m, const char *to)
{
	sd_buf_add(m->b, m->copied, (size_t)(to - m->copied));
	m->copied = to;
}

/* Second pass: the root's content as written, with the document's
 * namespace declarations that the aggregate's root lacks on every
 * top-level element. */
static void emit(const struct pres_xml_tag *t, void *arg)
{
	struct merge *m = arg;
	struct sd_pl it, name, value, whole;

	if (!t->depth && !t->end) {
		m->copied = t->stop;
		m->root_attrs = t->attrs;
		m->dflt = sd_pl_str("xmlns=\"\"");
		it = t->attrs;
		while (pres_xml_attr(&it, &name, &value, &whole)) {
			if (pl_is(name, "xmlns")) {
				m->dflt = pres_xml_value_is(value, PIDF_NS) ?
					  sd_pl(NULL, 0) : whole;
			}
		}
		return;
	}
	if (!m->copied || m->b->overflow) {
		return; /* the root was empty, or the document is too large */
	}
	if (!t->depth) { /* the root's end tag */
		copy_to(m, t->start);
		m->copied = NULL;
		return;
	}
	if (t->depth != 1 || t->end) {
		return;
	}
	copy_to(m, t->start + 1 + t->name.l);
	if (m->dflt.l && !declares(t->attrs, sd_pl("xmlns", 5))) {
		sd_buf_str(m->b, " ");
		sd_buf_pl(m->b, m->dflt);
	}
	it = m->root_attrs;
	while (pres_xml_attr(&it, &name, &value, &whole)) {
		const struct hoist *h;

		if (name.l <= 6 || memcmp(name.p, "xmlns:", 6) ||
		    declares(t->attrs, name)) {
			continue;
		}
		h = hoisted(m, name);
		if (h && h->at_root &&
		    pres_xml_values_eq(hoist_value(h), value)) {
			continue;
		}
		sd_buf_str(m->b, " ");
		sd_buf_pl(m->b, whole);
	}
}

/* Undo what was written to b since len, overflow included. */
static void rollback(struct sd_buf *b, size_t len)
{
	b->len = len;
	b->overflow = 0;
	b->p[len] = '\0';
}

static void emit_doc(const char *body, size_t len, void *arg)
{
	struct merge *m = arg;
	size_t before = m->b->len;
	const char *why;

	m->copied = NULL;
	if (pres_xml_walk(body, len, emit, m, &why) ||
	    (sd_buf_str(m->b, "\n"), m->b->overflow)) {
		LOG_DBG("a document left out of the aggregate: %s",
			why ? why : "too large");
		rollback(m->b, before);
	}
}

static void basic_tuple(struct sd_buf *b, const char *id, int open)
{
	size_t before = b->len;

	sd_buf_printf(b, "<tuple id=\"%s\"><status><basic>%s</basic>"
		      "</status></tuple>\n", id, open ? "open" : "closed");
	if (b->overflow) {
		rollback(b, before);
	}
}

/* A URI in a double-quoted attribute value: XML's specials as
 * references, bytes no URI has as %XX. */
static void uri_attr(struct sd_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': sd_buf_str(b, "&amp;"); break;
		case '<': sd_buf_str(b, "&lt;"); break;
		case '>': sd_buf_str(b, "&gt;"); break;
		case '"': sd_buf_str(b, "&quot;"); break;
		default:
			if (c <= 0x20 || c >= 0x7f) {
				sd_buf_printf(b, "%%%02X", c);
			} else {
				sd_buf_add(b, s, 1);
			}
			break;
		}
	}
}

void pres_pidf_merge(struct sd_buf *b, const char *entity_uri,
		     pres_docs_fn *docs, const void *src,
		     const char *closed_ids, int basic)
{
	static struct merge m;
	static const char end_tag[] = "</presence>\n";
	size_t root_max = b->size / 4, reserve = sizeof(end_tag);
	const char *p;
	unsigned i;

	memset(&m, 0, sizeof(m));
	m.b = b;
	if (docs) {
		docs(src, collect_doc, &m);
	}
	sd_buf_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<presence xmlns=\"" PIDF_NS "\" entity=\"");
	uri_attr(b, entity_uri);
	sd_buf_str(b, "\"");
	for (i = 0; i < m.n_hoist; i++) {
		struct hoist *h = &m.hoist[i];

		if (b->len + strlen(h->text) < root_max) {
			sd_buf_str(b, " ");
			sd_buf_str(b, h->text);
			h->at_root = 1;
		}
	}
	sd_buf_str(b, ">\n");
	if (b->overflow || b->size - b->len <= reserve) {
		b->overflow = 1;
		return;
	}
	/* What follows goes in whole or not at all; the end tag always
	 * fits. */
	b->size -= reserve;
	if (docs) {
		docs(src, emit_doc, &m);
	}
	/* Tuples of removed or expired documents show as closed once. */
	for (p = closed_ids ? closed_ids : ""; *p;) {
		const char *sp = strchr(p, ' ');
		char id[TUPLE_ID_MAX + 1];
		size_t l = sp ? (size_t)(sp - p) : strlen(p);

		if (l && l < sizeof(id)) {
			memcpy(id, p, l);
			id[l] = '\0';
			basic_tuple(b, id, 0);
		}
		p += l + (sp ? 1 : 0);
	}
	if (basic >= 0) {
		basic_tuple(b, "simpled", basic);
	}
	b->size += reserve;
	sd_buf_str(b, end_tag);
}

static int has_binding(const char *aor)
{
	return reg_lookup(aor, NULL, NULL) > 0;
}

static void entity_docs(const void *src, pres_doc_h *h, void *arg)
{
	pres_docs_walk(src, h, arg);
}

void pres_pidf_aggregate(struct sd_buf *b, struct pres_entity *e,
			 const char *entity_uri, int polite_block)
{
	const char *aor;

	if (polite_block) {
		pres_pidf_merge(b, entity_uri, NULL, NULL, NULL, 0);
	} else if (e && e->n_docs) {
		pres_pidf_merge(b, entity_uri, entity_docs, e, e->closed_ids,
				-1);
	} else {
		/* Registration-driven presence: no document, so the state
		 * is whether the user has a binding (or a dummy open one). */
		aor = strncmp(entity_uri, "sip:", 4) ? entity_uri :
		      entity_uri + 4;
		pres_pidf_merge(b, entity_uri, NULL, NULL,
				e ? e->closed_ids : NULL,
				pres_cfg.force_dummy_presence ||
				has_binding(aor));
	}
}

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
