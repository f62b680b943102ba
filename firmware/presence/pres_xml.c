/** @file pres_xml.c  Just enough XML for PIDF: a well-formedness check,
 * the root element and its content, tuple ids and basic status, and the
 * aggregation of several documents into one.
 *
 * No XML library: PUBLISH bodies are small, only their top-level children
 * are spliced, and a DOCTYPE (entity expansion) is refused outright. The
 * checker is the parser's only gate; tests/host/fuzz/ fuzzes it.
 */
#include <errno.h>
#include <string.h>

#include "pres_priv.h"
#include "reg.h"

/* Deepest element nesting accepted. */
#define XML_MAX_DEPTH 64

static int name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':' || (unsigned char)c >= 0x80;
}

static int name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.';
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *find(const char *p, const char *end, const char *s)
{
	size_t l = strlen(s);

	for (; p + l <= end; p++) {
		if (!memcmp(p, s, l)) {
			return p;
		}
	}
	return NULL;
}

/* Parse a start tag at p ('<' already seen, p at the name). Sets name and
 * the end of the tag; *empty for "/>". */
static const char *start_tag(const char *p, const char *end,
			     struct sd_pl *name, struct sd_pl *attrs,
			     int *empty, const char **why)
{
	const char *n = p;

	if (p >= end || !name_start(*p)) {
		*why = "XML: malformed tag";
		return NULL;
	}
	while (p < end && name_char(*p)) {
		p++;
	}
	*name = sd_pl(n, (size_t)(p - n));
	attrs->p = p;
	for (;;) {
		char q;

		while (p < end && is_ws(*p)) {
			p++;
		}
		if (p >= end) {
			*why = "XML: unterminated tag";
			return NULL;
		}
		if (*p == '>' || (*p == '/' && p + 1 < end && p[1] == '>')) {
			break;
		}
		if (p == attrs->p || !is_ws(p[-1]) || !name_start(*p)) {
			*why = "XML: malformed attribute";
			return NULL;
		}
		while (p < end && name_char(*p)) {
			p++;
		}
		while (p < end && is_ws(*p)) {
			p++;
		}
		if (p >= end || *p != '=') {
			*why = "XML: attribute without value";
			return NULL;
		}
		p++;
		while (p < end && is_ws(*p)) {
			p++;
		}
		if (p >= end || (*p != '"' && *p != '\'')) {
			*why = "XML: attribute value not quoted";
			return NULL;
		}
		q = *p++;
		while (p < end && *p != q) {
			if (*p == '<') {
				*why = "XML: '<' in an attribute value";
				return NULL;
			}
			p++;
		}
		if (p >= end) {
			*why = "XML: unterminated attribute value";
			return NULL;
		}
		p++;
	}
	attrs->l = (size_t)(p - attrs->p);
	*empty = *p == '/';
	return p + (*empty ? 2 : 1);
}

int pres_xml_check(const char *doc, size_t len, const char **why)
{
	struct sd_pl stack[XML_MAX_DEPTH];
	const char *p = doc, *end = doc + len, *q;
	unsigned depth = 0, roots = 0;

	*why = NULL;
	while (p < end) {
		if (*p != '<') {
			if (!depth && !is_ws(*p)) {
				*why = "XML: text outside the root element";
				return EBADMSG;
			}
			if (*p == '&') {
				q = memchr(p, ';', (size_t)(end - p));
				if (!q || q - p > 12 || q == p + 1) {
					*why = "XML: malformed entity reference";
					return EBADMSG;
				}
			}
			p++;
			continue;
		}
		if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
			q = find(p + 4, end, "-->");
			if (!q) {
				*why = "XML: unterminated comment";
				return EBADMSG;
			}
			p = q + 3;
		} else if (end - p >= 2 && p[1] == '?') {
			q = find(p + 2, end, "?>");
			if (!q) {
				*why = "XML: unterminated processing instruction";
				return EBADMSG;
			}
			p = q + 2;
		} else if (end - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
			if (!depth) {
				*why = "XML: CDATA outside the root element";
				return EBADMSG;
			}
			q = find(p + 9, end, "]]>");
			if (!q) {
				*why = "XML: unterminated CDATA";
				return EBADMSG;
			}
			p = q + 3;
		} else if (end - p >= 2 && p[1] == '!') {
			*why = "XML: DOCTYPE and declarations are not accepted";
			return EBADMSG;
		} else if (end - p >= 2 && p[1] == '/') {
			const char *n = p + 2;

			q = n;
			while (q < end && name_char(*q)) {
				q++;
			}
			if (!depth || (size_t)(q - n) != stack[depth - 1].l ||
			    memcmp(n, stack[depth - 1].p, (size_t)(q - n))) {
				*why = "XML: end tag does not match";
				return EBADMSG;
			}
			while (q < end && is_ws(*q)) {
				q++;
			}
			if (q >= end || *q != '>') {
				*why = "XML: malformed end tag";
				return EBADMSG;
			}
			depth--;
			p = q + 1;
		} else {
			struct sd_pl name, attrs;
			int empty;

			q = start_tag(p + 1, end, &name, &attrs, &empty, why);
			if (!q) {
				return EBADMSG;
			}
			if (!depth && roots++) {
				*why = "XML: more than one root element";
				return EBADMSG;
			}
			if (!empty) {
				if (depth == XML_MAX_DEPTH) {
					*why = "XML: nested too deep";
					return EBADMSG;
				}
				stack[depth++] = name;
			}
			p = q;
		}
	}
	if (depth) {
		*why = "XML: unclosed element";
		return EBADMSG;
	}
	if (!roots) {
		*why = "XML: no root element";
		return EBADMSG;
	}
	return 0;
}

static struct sd_pl local_name(struct sd_pl n)
{
	const char *c = memchr(n.p, ':', n.l);

	return c ? sd_pl(c + 1, n.l - (size_t)(c + 1 - n.p)) : n;
}

/* Root element of a checked document: its attributes and content. */
static int root_of(const char *doc, size_t len, struct sd_pl *name,
		   struct sd_pl *attrs, struct sd_pl *content)
{
	const char *p = doc, *end = doc + len, *q, *close;
	const char *why;
	int empty;

	for (;;) {
		p = memchr(p, '<', (size_t)(end - p));
		if (!p || end - p < 2) {
			return EBADMSG;
		}
		if (p[1] == '?' || p[1] == '!') {
			q = find(p + 2, end, p[1] == '?' ? "?>" : "-->");
			if (!q) {
				return EBADMSG;
			}
			p = q + 2;
			continue;
		}
		break;
	}
	q = start_tag(p + 1, end, name, attrs, &empty, &why);
	if (!q) {
		return EBADMSG;
	}
	if (empty) {
		*content = sd_pl(q, 0);
		return 0;
	}
	/* The last end tag of a well-formed document closes the root. */
	for (close = end - 2; close >= q; close--) {
		if (close[0] == '<' && close[1] == '/') {
			break;
		}
	}
	if (close < q) {
		return EBADMSG;
	}
	*content = sd_pl(q, (size_t)(close - q));
	return 0;
}

int pres_pidf_is(const char *doc, size_t len)
{
	struct sd_pl name, attrs, content;

	return !root_of(doc, len, &name, &attrs, &content) &&
	       !sd_pl_casecmp(local_name(name), "presence");
}

/* Call h for every start tag in s with its local name and attributes. */
typedef int (tag_h)(struct sd_pl lname, struct sd_pl attrs, const char *after,
		    const char *end, void *arg);

static void each_tag(const char *doc, size_t len, tag_h *h, void *arg)
{
	const char *p = doc, *end = doc + len;

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		struct sd_pl name, attrs;
		const char *why, *q;
		int empty;

		p++;
		if (p >= end || !name_start(*p)) {
			continue;
		}
		q = start_tag(p, end, &name, &attrs, &empty, &why);
		if (!q) {
			return;
		}
		if (h(local_name(name), attrs, q, end, arg)) {
			return;
		}
		p = q;
	}
}

static int basic_open(struct sd_pl lname, struct sd_pl attrs,
		      const char *after, const char *end, void *arg)
{
	struct sd_pl text;
	const char *lt;

	(void)attrs;
	if (sd_pl_casecmp(lname, "basic")) {
		return 0;
	}
	lt = memchr(after, '<', (size_t)(end - after));
	text = sd_pl_trim(sd_pl(after, lt ? (size_t)(lt - after) : 0));
	if (!sd_pl_casecmp(text, "open")) {
		*(int *)arg = 1;
		return 1;
	}
	return 0;
}

int pres_pidf_open(const char *doc, size_t len)
{
	int open = 0;

	each_tag(doc, len, basic_open, &open);
	return open;
}

/* Value of attribute name in attrs, or an empty slice. */
static struct sd_pl attr(struct sd_pl attrs, const char *name)
{
	size_t nl = strlen(name);
	const char *p = attrs.p, *end = attrs.p + attrs.l;

	while (p < end) {
		const char *n, *q;
		char quote;

		while (p < end && is_ws(*p)) {
			p++;
		}
		n = p;
		while (p < end && *p != '=' && !is_ws(*p)) {
			p++;
		}
		q = memchr(p, '=', (size_t)(end - p));
		if (!q) {
			break;
		}
		q++;
		while (q < end && is_ws(*q)) {
			q++;
		}
		if (q >= end) {
			break;
		}
		quote = *q++;
		p = memchr(q, quote, (size_t)(end - q));
		if (!p) {
			break;
		}
		if ((size_t)(p - n) >= nl && !memcmp(n, name, nl) &&
		    (n[nl] == '=' || is_ws(n[nl]))) {
			return sd_pl(q, (size_t)(p - q));
		}
		p++;
	}
	return sd_pl(NULL, 0);
}

static int tuple_id(struct sd_pl lname, struct sd_pl attrs, const char *after,
		    const char *end, void *arg)
{
	struct sd_buf *b = arg;
	struct sd_pl id;

	(void)after;
	(void)end;
	if (sd_pl_casecmp(lname, "tuple")) {
		return 0;
	}
	id = attr(attrs, "id");
	if (id.l && !memchr(id.p, ' ', id.l) && !memchr(id.p, '"', id.l)) {
		sd_buf_pl(b, id);
		sd_buf_str(b, " ");
	}
	return 0;
}

void pres_pidf_tuple_ids(const char *doc, size_t len, char *ids, size_t size)
{
	struct sd_buf b;
	size_t have = strlen(ids);

	sd_buf_init(&b, ids + have, size - have);
	each_tag(doc, len, tuple_id, &b);
	if (b.overflow) {
		ids[have] = '\0'; /* keep the ids that fitted before */
	}
}

struct agg {
	struct sd_buf decls;
	struct sd_buf content;
};

/* Namespace declarations of a root, minus the default one, each once. */
static void take_decls(struct sd_buf *d, struct sd_pl attrs)
{
	const char *p = attrs.p, *end = attrs.p + attrs.l;

	while (p < end) {
		const char *n, *q, *v;
		char quote;

		while (p < end && is_ws(*p)) {
			p++;
		}
		n = p;
		q = memchr(p, '=', (size_t)(end - p));
		if (!q) {
			return;
		}
		v = q + 1;
		while (v < end && is_ws(*v)) {
			v++;
		}
		if (v >= end) {
			return;
		}
		quote = *v;
		p = memchr(v + 1, quote, (size_t)(end - v - 1));
		if (!p) {
			return;
		}
		p++;
		if (q - n > 6 && !memcmp(n, "xmlns:", 6)) {
			struct sd_pl decl = sd_pl(n, (size_t)(p - n));
			char prefix[80];
			size_t pl = (size_t)(q - n);

			if (pl + 1 < sizeof(prefix)) {
				memcpy(prefix, n, pl);
				prefix[pl] = '=';
				prefix[pl + 1] = '\0';
				if (!strstr(d->p, prefix)) {
					sd_buf_str(d, " ");
					sd_buf_pl(d, decl);
				}
			}
		}
	}
}

static void agg_doc(const char *body, size_t len, void *arg)
{
	struct agg *a = arg;
	struct sd_pl name, attrs, content;

	if (root_of(body, len, &name, &attrs, &content)) {
		return;
	}
	take_decls(&a->decls, attrs);
	sd_buf_pl(&a->content, content);
}

static int has_binding(const char *aor)
{
	return reg_lookup(aor, NULL, NULL) > 0;
}

static void basic_tuple(struct sd_buf *b, const char *id, int open)
{
	sd_buf_printf(b, "<tuple id=\"%s\"><status><basic>%s</basic>"
		      "</status></tuple>\n", id, open ? "open" : "closed");
}

void pres_pidf_aggregate(struct sd_buf *b, struct pres_entity *e,
			 const char *entity_uri, int polite_block)
{
	static char decls[1024];
	static char content[CONFIG_SIMPLED_MAX_MSG_SIZE];
	struct agg a;
	const char *p;

	sd_buf_init(&a.decls, decls, sizeof(decls));
	sd_buf_init(&a.content, content, sizeof(content));
	if (!polite_block && e && e->n_docs) {
		pres_docs_walk(e, agg_doc, &a);
	}
	/* Tuples of removed or expired documents show as closed once. */
	for (p = e && !polite_block ? e->closed_ids : ""; *p;) {
		const char *sp = strchr(p, ' ');
		char id[64];
		size_t l = sp ? (size_t)(sp - p) : strlen(p);

		if (l && l < sizeof(id)) {
			memcpy(id, p, l);
			id[l] = '\0';
			basic_tuple(&a.content, id, 0);
		}
		p += l + (sp ? 1 : 0);
	}
	if (polite_block) {
		basic_tuple(&a.content, "simpled", 0);
	} else if (!e || !e->n_docs) {
		/* Registration-driven presence: no document, so the state
		 * is whether the user has a binding (or a dummy open one). */
		const char *aor = strncmp(entity_uri, "sip:", 4) ?
				  entity_uri : entity_uri + 4;

		basic_tuple(&a.content, "simpled",
			    pres_cfg.force_dummy_presence || has_binding(aor));
	}
	sd_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"%s "
		      "entity=\"%s\">\n", decls, entity_uri);
	sd_buf_str(b, content);
	sd_buf_str(b, "</presence>\n");
}
