/** @file pres_xml.c  Just enough XML for PIDF: a checker of XML 1.0 and
 * Namespaces in XML 1.0 well-formedness that walks a document tag by tag.
 *
 * No XML library: PUBLISH bodies are small and only their top-level
 * children are spliced (pres_pidf.c). What this accepts, every conforming
 * namespace-aware parser must accept too, so it is stricter than XML where
 * being exact would be costly: names are ASCII, the document is UTF-8 and
 * XML 1.0 (the aggregate says so), a DOCTYPE is refused outright (no
 * entity expansion). It is the parser's only gate; tests/host/fuzz/
 * fuzzes it (fuzz_pidf) and the aggregation built on it (fuzz_pidf_merge).
 */
#include <errno.h>
#include <string.h>

#include "pres_priv.h"

/* Deepest element nesting accepted. */
#define XML_MAX_DEPTH 64
/* Most attributes of one element, namespace declarations not counted
 * (aggregation adds declarations to elements, never attributes). */
#define XML_MAX_ATTRS 64

static const char xml_ns[] = "http://www.w3.org/XML/1998/namespace";
static const char xmlns_ns[] = "http://www.w3.org/2000/xmlns/";

/* Names are ASCII (XML allows more, but which more differs between
 * editions and parsers). ':' is a name character; qname() checks its
 * place. */
static int name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':';
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

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws(*p)) {
		p++;
	}
	return p;
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

static int pl_is(struct sd_pl pl, const char *s)
{
	return pl.l == strlen(s) && !memcmp(pl.p, s, pl.l);
}

static int pl_eq(struct sd_pl a, struct sd_pl b)
{
	return a.l == b.l && !memcmp(a.p, b.p, a.l);
}

/* Is c a Char of XML 1.0 (section 2.2)? */
static int xml_char(unsigned long c)
{
	return c == 0x9 || c == 0xa || c == 0xd ||
	       (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
	       (c >= 0x10000 && c <= 0x10ffff);
}

/* Decode the UTF-8 sequence at *p (strictly: no overlong forms, no
 * surrogates, nothing above U+10FFFF). @return the code point, or -1. */
static long utf8_next(const char **pp, const char *end)
{
	const unsigned char *p = (const unsigned char *)*pp;
	const unsigned char *e = (const unsigned char *)end;
	unsigned long c;
	unsigned n, i;

	if (*p < 0x80) {
		*pp += 1;
		return *p;
	}
	if (*p >= 0xc2 && *p <= 0xdf) {
		n = 1;
		c = *p & 0x1fu;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		n = 2;
		c = *p & 0x0fu;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 3;
		c = *p & 0x07u;
	} else {
		return -1;
	}
	if ((size_t)(e - p) <= n) {
		return -1;
	}
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return -1;
		}
		c = c << 6 | (p[i] & 0x3fu);
	}
	if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 3 && (c < 0x10000 || c > 0x10ffff))) {
		return -1;
	}
	*pp += n + 1;
	return (long)c;
}

int pres_utf8_valid(const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end) {
		if (utf8_next(&p, end) < 0) {
			return 0;
		}
	}
	return 1;
}

/* Every character of the document: UTF-8, and a Char of XML. */
static int chars_ok(const char *p, const char *end, const char **why)
{
	while (p < end) {
		long c = utf8_next(&p, end);

		if (c < 0) {
			*why = "XML: not valid UTF-8";
			return 0;
		}
		if (!c) {
			*why = "XML: NUL byte";
			return 0;
		}
		if (!xml_char((unsigned long)c)) {
			*why = "XML: character not allowed";
			return 0;
		}
	}
	return 1;
}

/*
 * A reference at p ('&'): one of the five predefined entities or a
 * character reference to a Char (no DTD, so no other entity exists).
 * @return the end of it (after ';'), or NULL with why set. *c: the
 * character it stands for.
 */
static const char *reference(const char *p, const char *end,
			     unsigned long *c, const char **why)
{
	static const struct {
		const char *name;
		char c;
	} pre[] = {
		{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"apos;", '\''},
		{"quot;", '"'},
	};
	size_t i;

	p++;
	if (p < end && *p == '#') {
		int hex = p + 1 < end && p[1] == 'x';
		unsigned long v = 0;
		const char *d = p + 1 + hex;

		for (p = d; p < end && *p != ';'; p++) {
			unsigned dv;

			if (*p >= '0' && *p <= '9') {
				dv = (unsigned)(*p - '0');
			} else if (hex && *p >= 'a' && *p <= 'f') {
				dv = (unsigned)(*p - 'a' + 10);
			} else if (hex && *p >= 'A' && *p <= 'F') {
				dv = (unsigned)(*p - 'A' + 10);
			} else {
				break;
			}
			v = v * (hex ? 16 : 10) + dv;
			if (v > 0x10ffff) {
				v = 0x110000; /* stays too large */
			}
		}
		if (p == d || p >= end || *p != ';') {
			*why = "XML: malformed character reference";
			return NULL;
		}
		if (!xml_char(v)) {
			*why = "XML: reference to a character not allowed";
			return NULL;
		}
		*c = v;
		return p + 1;
	}
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		size_t l = strlen(pre[i].name);

		if ((size_t)(end - p) >= l && !memcmp(p, pre[i].name, l)) {
			*c = (unsigned char)pre[i].c;
			return p + l;
		}
	}
	for (i = 0; p + i < end && name_char(p[i]); i++) {
	}
	*why = i && name_start(*p) && p + i < end && p[i] == ';' ?
	       "XML: undefined entity" : "XML: malformed entity reference";
	return NULL;
}

/*
 * The next character of an attribute value as a parser reports it
 * (XML 1.0 3.3.3): references replaced, a line end (CR LF, CR, LF) and a
 * tab as one space. The value was checked. @return -1 at its end.
 */
static long value_next(const char **pp, const char *end)
{
	const char *p = *pp, *why;
	unsigned long c;

	if (p >= end) {
		return -1;
	}
	if (*p == '&') {
		*pp = reference(p, end, &c, &why);
		if (!*pp) { /* not a checked value */
			*pp = end;
			return -2;
		}
		return (long)c;
	}
	if (*p == '\r' && p + 1 < end && p[1] == '\n') {
		*pp = p + 2;
		return ' ';
	}
	if (is_ws(*p)) {
		*pp = p + 1;
		return ' ';
	}
	return utf8_next(pp, end);
}

int pres_xml_values_eq(struct sd_pl a, struct sd_pl b)
{
	/* An empty slice may have no pointer: no arithmetic on NULL. */
	const char *pa = a.p ? a.p : "", *pb = b.p ? b.p : "";
	const char *ea = pa + a.l, *eb = pb + b.l;
	long ca, cb;

	do {
		ca = value_next(&pa, ea);
		cb = value_next(&pb, eb);
	} while (ca == cb && ca >= 0);
	return ca == cb;
}

int pres_xml_value_is(struct sd_pl raw, const char *s)
{
	return pres_xml_values_eq(raw, sd_pl_str(s));
}

struct sd_pl pres_xml_local(struct sd_pl qname)
{
	const char *c = memchr(qname.p, ':', qname.l);

	return c ? sd_pl(c + 1, qname.l - (size_t)(c + 1 - qname.p)) : qname;
}

/* The prefix of a qualified name ("" for none). */
static struct sd_pl prefix_of(struct sd_pl qname)
{
	const char *c = memchr(qname.p, ':', qname.l);

	return sd_pl(qname.p, c ? (size_t)(c - qname.p) : 0);
}

/* A QName of Namespaces in XML (n is a name): at most one ':', not
 * first, and what follows it starts as a name does. */
static int qname(struct sd_pl n)
{
	const char *c = memchr(n.p, ':', n.l);

	return !c || (c > n.p && c < n.p + n.l - 1 && name_start(c[1]) &&
		      !memchr(c + 1, ':', n.l - (size_t)(c + 1 - n.p)));
}

int pres_xml_attr(struct sd_pl *it, struct sd_pl *name, struct sd_pl *value,
		  struct sd_pl *whole)
{
	const char *p = it->p, *end = it->p + it->l, *n, *q;

	p = skip_ws(p, end);
	if (p >= end || !name_start(*p)) {
		return 0;
	}
	for (n = p; p < end && name_char(*p); p++) {
	}
	*name = sd_pl(n, (size_t)(p - n));
	p = skip_ws(p, end);
	if (p >= end || *p != '=') {
		return 0;
	}
	p = skip_ws(p + 1, end);
	if (p >= end || (*p != '"' && *p != '\'')) {
		return 0;
	}
	q = memchr(p + 1, *p, (size_t)(end - p - 1));
	if (!q) {
		return 0;
	}
	*value = sd_pl(p + 1, (size_t)(q - p - 1));
	if (whole) {
		*whole = sd_pl(n, (size_t)(q + 1 - n));
	}
	*it = sd_pl(q + 1, (size_t)(end - q - 1));
	return 1;
}

/* Is this attribute name a namespace declaration ("xmlns", "xmlns:p")? */
static int is_decl(struct sd_pl name)
{
	return pl_is(name, "xmlns") ||
	       (name.l > 6 && !memcmp(name.p, "xmlns:", 6));
}

/* An open element, for end tags and namespace scope. */
struct open_el {
	struct sd_pl name;
	struct sd_pl attrs;
};

struct walker {
	struct open_el stack[XML_MAX_DEPTH];
	unsigned depth;		/* open elements */
};

/*
 * The namespace prefix is bound to in scope of the innermost open element
 * (the element at hand is pushed before its names are resolved): the raw
 * value of its declaration. pfx "" is the default namespace. @return 0,
 * or -1 when not bound. An empty *ns: no namespace (xmlns="").
 */
static int lookup(const struct walker *w, struct sd_pl pfx, struct sd_pl *ns)
{
	unsigned d;

	if (pl_is(pfx, "xml")) {
		*ns = sd_pl_str(xml_ns);
		return 0;
	}
	for (d = w->depth; d-- > 0;) {
		struct sd_pl it = w->stack[d].attrs, name, value;

		while (pres_xml_attr(&it, &name, &value, NULL)) {
			if (pfx.l ? name.l == pfx.l + 6 &&
				    !memcmp(name.p, "xmlns:", 6) &&
				    !memcmp(name.p + 6, pfx.p, pfx.l) :
				    pl_is(name, "xmlns")) {
				*ns = value;
				return 0;
			}
		}
	}
	if (!pfx.l) {
		*ns = sd_pl(NULL, 0);
		return 0;
	}
	return -1;
}

/* The value of an attribute: no '<', references well formed. */
static int value_ok(struct sd_pl v, const char **why)
{
	const char *p = v.p, *end = v.p + v.l;
	unsigned long c;

	for (; p < end; p++) {
		if (*p == '<') {
			*why = "XML: '<' in an attribute value";
			return 0;
		}
		if (*p == '&') {
			p = reference(p, end, &c, why);
			if (!p) {
				return 0;
			}
			p--;
		}
	}
	return 1;
}

/* Only the characters of a URI (RFC 3986 2): a parser may refuse others
 * in a namespace name (expat those it joins names with, Python's '}'). */
static int uri_chars(struct sd_pl value)
{
	const char *p = value.p, *end = value.p + value.l;
	long c;

	while ((c = value_next(&p, end)) != -1) {
		if (c <= 0x20 || c > 0x7e ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      strchr("-._~:/?#[]@!$&'()*+,;=%", (int)c))) {
			return 0;
		}
	}
	return 1;
}

/* A namespace declaration's own rules (Namespaces in XML 1.0, 3). */
static int decl_ok(struct sd_pl name, struct sd_pl value, const char **why)
{
	int is_xml_ns = pres_xml_value_is(value, xml_ns);

	if (!uri_chars(value)) {
		*why = "XML: namespace name is not a URI";
		return 0;
	}

	if (name.l == 5) { /* xmlns */
		if (is_xml_ns || pres_xml_value_is(value, xmlns_ns)) {
			*why = "XML: reserved namespace name";
			return 0;
		}
		return 1;
	}
	name = sd_pl(name.p + 6, name.l - 6);
	if (pl_is(name, "xmlns")) {
		*why = "XML: the xmlns prefix cannot be declared";
		return 0;
	}
	if (pl_is(name, "xml") != is_xml_ns ||
	    pres_xml_value_is(value, xmlns_ns)) {
		*why = "XML: reserved namespace name";
		return 0;
	}
	if (!value.l) {
		*why = "XML: a prefix cannot be undeclared";
		return 0;
	}
	return 1;
}

/*
 * The attributes of a start tag, its element at the top of w's stack:
 * each well formed and once (by name, and by namespace and local name),
 * declarations by their rules, every prefix bound.
 */
static int attrs_ok(struct walker *w, struct sd_pl attrs, const char **why)
{
	struct sd_pl it = attrs, name, value, it2, name2, value2;
	/* The prefixed attributes so far: local name, namespace. */
	struct sd_pl local[XML_MAX_ATTRS], ns[XML_MAX_ATTRS];
	unsigned n_attrs = 0, n_prefixed = 0, i;

	while (pres_xml_attr(&it, &name, &value, NULL)) {
		struct sd_pl pfx = prefix_of(name);

		if (!qname(name)) {
			*why = "XML: malformed qualified name";
			return 0;
		}
		if (!value_ok(value, why)) {
			return 0;
		}
		/* Once each by name: the attributes before this one. */
		it2 = attrs;
		while (pres_xml_attr(&it2, &name2, &value2, NULL) &&
		       name2.p != name.p) {
			if (pl_eq(name, name2)) {
				*why = "XML: duplicate attribute";
				return 0;
			}
		}
		if (is_decl(name)) {
			if (!decl_ok(name, value, why)) {
				return 0;
			}
			continue;
		}
		if (++n_attrs > XML_MAX_ATTRS) {
			*why = "XML: too many attributes";
			return 0;
		}
		if (!pfx.l) {
			continue;
		}
		if (lookup(w, pfx, &ns[n_prefixed])) {
			*why = "XML: unbound namespace prefix";
			return 0;
		}
		local[n_prefixed] = pres_xml_local(name);
		/* And once by namespace and local name. */
		for (i = 0; i < n_prefixed; i++) {
			if (pl_eq(local[i], local[n_prefixed]) &&
			    pres_xml_values_eq(ns[i], ns[n_prefixed])) {
				*why = "XML: duplicate attribute";
				return 0;
			}
		}
		n_prefixed++;
	}
	return 1;
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

		p = skip_ws(p, end);
		if (p >= end) {
			*why = "XML: unterminated tag";
			return NULL;
		}
		if (*p == '>' || (*p == '/' && p + 1 < end && p[1] == '>')) {
			break;
		}
		if (p == attrs->p || !is_ws(p[-1]) || !name_start(*p)) {
			*why = (unsigned char)*p >= 0x80 ?
			       "XML: names must be ASCII" :
			       "XML: malformed attribute";
			return NULL;
		}
		while (p < end && name_char(*p)) {
			p++;
		}
		p = skip_ws(p, end);
		if (p >= end || *p != '=') {
			*why = "XML: attribute without value";
			return NULL;
		}
		p = skip_ws(p + 1, end);
		if (p >= end || (*p != '"' && *p != '\'')) {
			*why = "XML: attribute value not quoted";
			return NULL;
		}
		q = *p++;
		p = memchr(p, q, (size_t)(end - p));
		if (!p) {
			*why = "XML: unterminated attribute value";
			return NULL;
		}
		p++;
	}
	attrs->l = (size_t)(p - attrs->p);
	*empty = *p == '/';
	return p + (*empty ? 2 : 1);
}

/* Character data: references well formed, no "]]>". */
static const char *text(const char *p, const char *end, const char **why)
{
	unsigned long c;

	while (p < end && *p != '<') {
		if (*p == '&') {
			p = reference(p, end, &c, why);
			if (!p) {
				return NULL;
			}
			continue;
		}
		if (*p == ']' && end - p >= 3 && !memcmp(p, "]]>", 3)) {
			*why = "XML: ']]>' in text";
			return NULL;
		}
		p++;
	}
	return p;
}

/* S? '=' S? and a quoted value, in the XML declaration. */
static const char *decl_value(const char *p, const char *end,
			      struct sd_pl *v)
{
	const char *q;

	p = skip_ws(p, end);
	if (p >= end || *p != '=') {
		return NULL;
	}
	p = skip_ws(p + 1, end);
	if (p >= end || (*p != '"' && *p != '\'')) {
		return NULL;
	}
	q = memchr(p + 1, *p, (size_t)(end - p - 1));
	if (!q) {
		return NULL;
	}
	*v = sd_pl(p + 1, (size_t)(q - p - 1));
	return q + 1;
}

static const char *word(const char *p, const char *end, const char *w)
{
	size_t l = strlen(w);

	return (size_t)(end - p) >= l && !memcmp(p, w, l) ? p + l : NULL;
}

/*
 * The XML declaration at p ("<?xml" and a blank): version 1.0, encoding
 * UTF-8 when named (the aggregate is labelled UTF-8: a document in
 * another encoding would be mislabelled), standalone yes or no.
 * @return the end of it, or NULL with why set.
 */
static const char *xml_decl(const char *p, const char *end, const char **why)
{
	struct sd_pl v;
	const char *q, *r;

	*why = "XML: malformed XML declaration";
	p = skip_ws(p + 5, end);
	if (!(p = word(p, end, "version")) ||
	    !(p = decl_value(p, end, &v))) {
		return NULL;
	}
	if (!pl_is(v, "1.0")) {
		*why = "XML: version is not 1.0";
		return NULL;
	}
	q = skip_ws(p, end);
	if (q > p && (r = word(q, end, "encoding")) != NULL) {
		if (!(p = decl_value(r, end, &v))) {
			return NULL;
		}
		if (sd_pl_casecmp(v, "UTF-8")) {
			*why = "XML: encoding is not UTF-8";
			return NULL;
		}
		q = skip_ws(p, end);
	}
	if (q > p && (r = word(q, end, "standalone")) != NULL) {
		if (!(p = decl_value(r, end, &v)) ||
		    (!pl_is(v, "yes") && !pl_is(v, "no"))) {
			return NULL;
		}
		q = skip_ws(p, end);
	}
	if (!word(q, end, "?>")) {
		return NULL;
	}
	*why = NULL;
	return q + 2;
}

/* A processing instruction at p ("<?"); at_start: where the XML
 * declaration may be. */
static const char *pi(const char *p, const char *end, int at_start,
		      const char **why)
{
	const char *n = p + 2, *q = n;

	while (q < end && name_char(*q)) {
		q++;
	}
	if (q == n || !name_start(*n) || memchr(n, ':', (size_t)(q - n)) ||
	    q >= end || (!is_ws(*q) && !word(q, end, "?>"))) {
		*why = "XML: malformed processing instruction";
		return NULL;
	}
	if (q - n == 3 && (n[0] | 0x20) == 'x' && (n[1] | 0x20) == 'm' &&
	    (n[2] | 0x20) == 'l') {
		if (at_start && !memcmp(n, "xml", 3) && q < end &&
		    is_ws(*q)) {
			return xml_decl(p, end, why);
		}
		*why = "XML: misplaced XML declaration";
		return NULL;
	}
	q = find(q, end, "?>");
	if (!q) {
		*why = "XML: unterminated processing instruction";
		return NULL;
	}
	return q + 2;
}

/* A comment at p ("<!--"): no "--" in it. */
static const char *comment(const char *p, const char *end, const char **why)
{
	const char *q = find(p + 4, end, "--");

	if (!q || q + 2 >= end) {
		*why = "XML: unterminated comment";
		return NULL;
	}
	if (q[2] != '>') {
		*why = "XML: '--' in a comment";
		return NULL;
	}
	return q + 3;
}

/* An end tag at p ("</"), which must close the innermost element. */
static const char *end_tag(struct walker *w, const char *p, const char *end,
			   const char **why)
{
	const char *n = p + 2, *q = n;
	struct sd_pl top;

	while (q < end && name_char(*q)) {
		q++;
	}
	top = w->depth ? w->stack[w->depth - 1].name : sd_pl(NULL, 0);
	if (!w->depth || !pl_eq(sd_pl(n, (size_t)(q - n)), top)) {
		*why = "XML: end tag does not match";
		return NULL;
	}
	q = skip_ws(q, end);
	if (q >= end || *q != '>') {
		*why = "XML: malformed end tag";
		return NULL;
	}
	return q + 1;
}

int pres_xml_walk(const char *doc, size_t len, pres_xml_h *h, void *arg,
		  const char **why)
{
	struct walker w;
	const char *p = doc, *end = doc + len, *q, *body = doc;
	unsigned roots = 0;

	*why = NULL;
	w.depth = 0;
	if (!chars_ok(doc, end, why)) {
		return EBADMSG;
	}
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
		p = body = doc + 3; /* a byte order mark */
	}
	while (p < end) {
		struct pres_xml_tag t;

		if (*p != '<') {
			if (w.depth) {
				q = text(p, end, why);
				if (!q) {
					return EBADMSG;
				}
				p = q;
			} else if (!is_ws(*p)) {
				*why = "XML: text outside the root element";
				return EBADMSG;
			} else {
				p++;
			}
			continue;
		}
		memset(&t, 0, sizeof(t));
		t.start = p;
		if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
			q = comment(p, end, why);
		} else if (end - p >= 2 && p[1] == '?') {
			q = pi(p, end, p == body, why);
		} else if (end - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
			if (!w.depth) {
				*why = "XML: CDATA outside the root element";
				return EBADMSG;
			}
			q = find(p + 9, end, "]]>");
			if (!q) {
				*why = "XML: unterminated CDATA";
				return EBADMSG;
			}
			q += 3;
		} else if (end - p >= 2 && p[1] == '!') {
			*why = "XML: DOCTYPE and declarations are not accepted";
			return EBADMSG;
		} else if (end - p >= 2 && p[1] == '/') {
			q = end_tag(&w, p, end, why);
			if (q) {
				t.end = 1;
				t.depth = --w.depth;
				t.name = w.stack[w.depth].name;
			}
		} else {
			q = start_tag(p + 1, end, &t.name, &t.attrs, &t.empty,
				      why);
			if (!q) {
				return EBADMSG;
			}
			if (!w.depth && roots++) {
				*why = "XML: more than one root element";
				return EBADMSG;
			}
			if (w.depth == XML_MAX_DEPTH) {
				*why = "XML: nested too deep";
				return EBADMSG;
			}
			if (!qname(t.name)) {
				*why = "XML: malformed qualified name";
				return EBADMSG;
			}
			t.depth = w.depth;
			w.stack[w.depth].name = t.name;
			w.stack[w.depth].attrs = t.attrs;
			w.depth++;
			if (!attrs_ok(&w, t.attrs, why)) {
				return EBADMSG;
			}
			if (lookup(&w, prefix_of(t.name), &t.ns) ||
			    pl_is(prefix_of(t.name), "xmlns")) {
				*why = "XML: unbound namespace prefix";
				return EBADMSG;
			}
			if (t.empty) {
				w.depth--;
			}
		}
		if (!q) {
			return EBADMSG;
		}
		t.stop = q;
		t.doc_end = end;
		if (h && t.name.l) {
			h(&t, arg);
		}
		p = q;
	}
	if (w.depth) {
		*why = "XML: unclosed element";
		return EBADMSG;
	}
	if (!roots) {
		*why = "XML: no root element";
		return EBADMSG;
	}
	return 0;
}

int pres_xml_check(const char *doc, size_t len, const char **why)
{
	return pres_xml_walk(doc, len, NULL, NULL, why);
}
