/** @file test_pres.c  The PIDF/XML checker and the authorization rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pres_priv.h"

#define PIDF "urn:ietf:params:xml:ns:pidf"
#define DM "urn:ietf:params:xml:ns:pidf:data-model"

static void test_xml_check(void **state)
{
	static const struct {
		const char *doc;
		const char *why; /* NULL: well formed */
	} cases[] = {
		{"<a/>", NULL},
		{"<?xml version=\"1.0\"?>\n<!-- c --><a x='1' y=\"2\">t<b/>"
		 "<![CDATA[<x>]]>&amp;</a>\n", NULL},
		{"", "XML: no root element"},
		{"<a>", "XML: unclosed element"},
		{"<a></b>", "XML: end tag does not match"},
		{"<a/><b/>", "XML: more than one root element"},
		{"text<a/>", "XML: text outside the root element"},
		{"<a x=1/>", "XML: attribute value not quoted"},
		{"<a x='<'/>", "XML: '<' in an attribute value"},
		{"<a><!-- x</a>", "XML: unterminated comment"},
		{"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
		 "XML: DOCTYPE and declarations are not accepted"},
		{"<a>&amp</a>", "XML: malformed entity reference"},
		{"<a xy/>", "XML: attribute without value"},
		{"<1a/>", "XML: malformed tag"},
		/* What XML 1.0 and Namespaces in XML refuse, which the
		 * checker took and the aggregate then carried to watchers
		 * whose parsers refused it. */
		{"<a>&foo;</a>", "XML: undefined entity"},
		{"<a>&#0;</a>", "XML: reference to a character not allowed"},
		{"<a>&#xD800;</a>",
		 "XML: reference to a character not allowed"},
		{"<a>&#X41;</a>", "XML: malformed character reference"},
		{"<a x='&'/>", "XML: malformed entity reference"},
		{"<a x='&foo;'/>", "XML: undefined entity"},
		{"<a x='1' x=\"2\"/>", "XML: duplicate attribute"},
		{"<p:a/>", "XML: unbound namespace prefix"},
		{"<a p:x='1'/>", "XML: unbound namespace prefix"},
		{"<a><b xmlns:p='u'/><p:c/></a>",
		 "XML: unbound namespace prefix"},
		{"<xmlns:a/>", "XML: unbound namespace prefix"},
		{"<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>",
		 "XML: duplicate attribute"},
		{"<a xmlns:p='u' xmlns:q='&#117;' p:x='1' q:x='2'/>",
		 "XML: duplicate attribute"},
		{"<a xmlns:p='u' xmlns:p='v'/>", "XML: duplicate attribute"},
		{"<a xmlns:p=''/>", "XML: a prefix cannot be undeclared"},
		{"<a xmlns:xml='urn:x'/>", "XML: reserved namespace name"},
		{"<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>",
		 "XML: reserved namespace name"},
		{"<a xmlns='http://www.w3.org/2000/xmlns/'/>",
		 "XML: reserved namespace name"},
		{"<a xmlns:xmlns='urn:x'/>",
		 "XML: the xmlns prefix cannot be declared"},
		{"<a xmlns='urn:x}'/>", "XML: namespace name is not a URI"},
		{"<a:b:c xmlns:a='u'/>", "XML: malformed qualified name"},
		{"<a xmlns:p='u' p:='1'/>", "XML: malformed qualified name"},
		{"<a xmlns:p='u'><p:1b/></a>", "XML: malformed qualified name"},
		{"<a xmlns:p='u' p:-x='1'/>", "XML: malformed qualified name"},
		{"<a xmlns:1p='u'/>", "XML: malformed qualified name"},
		{"<a><!-- a -- b --></a>", "XML: '--' in a comment"},
		{"<a><!-- a ---></a>", "XML: '--' in a comment"},
		{"<a>]]></a>", "XML: ']]>' in text"},
		{"<a>\x01</a>", "XML: character not allowed"},
		{"<a>\xef\xbf\xbe</a>", "XML: character not allowed"},
		{"<a>\xc0\x80</a>", "XML: not valid UTF-8"},
		{"<a>\xed\xa0\x80</a>", "XML: not valid UTF-8"},
		{"<a\xc3\xa9/>", "XML: names must be ASCII"},
		{"<a><?xml version='1.0'?></a>",
		 "XML: misplaced XML declaration"},
		{" <?xml version='1.0'?><a/>",
		 "XML: misplaced XML declaration"},
		{"<a><?XmL x?></a>", "XML: misplaced XML declaration"},
		{"<a><? pi?></a>", "XML: malformed processing instruction"},
		{"<a><?p:i?></a>", "XML: malformed processing instruction"},
		{"<?xml version='1.1'?><a/>", "XML: version is not 1.0"},
		{"<?xml version='1.0' encoding='ISO-8859-1'?><a/>",
		 "XML: encoding is not UTF-8"},
		{"<?xml version='1.0' standalone='maybe'?><a/>",
		 "XML: malformed XML declaration"},
		{"<?xml version='1.0'encoding='UTF-8'?><a/>",
		 "XML: malformed XML declaration"},
		{"<?xml encoding='UTF-8'?><a/>",
		 "XML: malformed XML declaration"},
		/* And what they allow. */
		{"\xef\xbb\xbf<?xml version = '1.0' encoding='utf-8' "
		 "standalone=\"yes\" ?><!-- c --><?pi x?><a xmlns:p='u'>"
		 "<p:b p:x='1' x='2' xml:lang='en'/><c xmlns:p='v' p:x='3'/>"
		 "&#x10FFFF;&#65;&lt;&gt;&amp;&apos;&quot;]]\xc3\xa9<?p-i?>"
		 "<![CDATA[]]]]><!----></a>\n<!-- d --><?pi y?>\n", NULL},
		{"<a xmlns='u'><b xmlns=''/></a>", NULL},
		{"<a xmlns:xml='http://www.w3.org/XML/1998/&#110;amespace'/>",
		 NULL},
		{"<a xmlns:p='u' xmlns:q='u' p:x='1' q:y='2'/>", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		int rc = pres_xml_check(cases[i].doc, strlen(cases[i].doc),
					&why);

		if (!cases[i].why) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, EBADMSG);
			assert_string_equal(why, cases[i].why);
		}
	}
}

static void test_xml_nul_refused(void **state)
{
	static const char doc[] = "<a>\0</a>";
	const char *why;

	(void)state;
	assert_int_equal(pres_xml_check(doc, sizeof(doc) - 1, &why), EBADMSG);
	assert_string_equal(why, "XML: NUL byte");
}

static void test_deep_nesting_refused(void **state)
{
	char doc[2048];
	size_t n = 0;
	int i;
	const char *why;

	(void)state;
	for (i = 0; i < 100; i++) {
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<a>");
	}
	for (i = 0; i < 100; i++) {
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</a>");
	}
	assert_int_equal(pres_xml_check(doc, n, &why), EBADMSG);
	assert_string_equal(why, "XML: nested too deep");
}

/* An empty value may be a slice with no pointer at all (an absent
 * attribute, an empty namespace): compared without arithmetic on NULL
 * (UBSan: "applying zero offset to null pointer", found by fuzz_recv). */
static void test_values_eq_empty(void **state)
{
	(void)state;
	assert_true(pres_xml_values_eq(sd_pl(NULL, 0), sd_pl(NULL, 0)));
	assert_true(pres_xml_values_eq(sd_pl(NULL, 0), sd_pl("", 0)));
	assert_false(pres_xml_values_eq(sd_pl(NULL, 0), sd_pl("a", 1)));
	assert_false(pres_xml_values_eq(sd_pl("a", 1), sd_pl(NULL, 0)));
}

static void test_pidf_helpers(void **state)
{
	const char *d = "<p:presence xmlns:p='urn:ietf:params:xml:ns:pidf'>"
			"<p:tuple id='a1'><p:status><p:basic> open </p:basic>"
			"</p:status></p:tuple><p:tuple id=\"b2\"/></p:presence>";
	char ids[64] = "";

	(void)state;
	assert_true(pres_pidf_is(d, strlen(d)));
	assert_true(pres_pidf_open(d, strlen(d)));
	assert_false(pres_pidf_is("<note/>", 7));
	assert_false(pres_pidf_open("<presence><basic>closed</basic>"
				    "</presence>", 41));
	pres_pidf_tuple_ids(d, strlen(d), ids, sizeof(ids));
	assert_string_equal(ids, "a1 b2 ");
}

static int is(const char *doc)
{
	return pres_pidf_is(doc, strlen(doc));
}

static int open_(const char *doc)
{
	return pres_pidf_open(doc, strlen(doc));
}

/* The helpers read elements, in PIDF's namespace: not what a comment or
 * CDATA section holds, not another namespace's presence or tuple. */
static void test_pidf_helpers_read_elements(void **state)
{
	char ids[PRES_CLOSED_IDS] = "";
	const char *d = "<presence xmlns='" PIDF "'><!-- <tuple id='c1'/> "
			"<basic>open</basic> --><tuple id='t1'><x:tuple "
			"xmlns:x='urn:x' id='n1'/><note><![CDATA[<tuple id='"
			"c2'/><basic>open</basic>]]></note></tuple>"
			"<x:tuple xmlns:x='urn:x' id='x1'/><tuple id='q\"1'/>"
			"<tuple id='&amp;'/></presence>";

	(void)state;
	assert_true(is("<presence xmlns='" PIDF "'/>"));
	assert_true(is("<p:presence xmlns:p='" PIDF "'/>"));
	assert_false(is("<presence/>"));
	assert_false(is("<x:presence xmlns:x='urn:x' xmlns='" PIDF "'/>"));
	assert_false(is("<Presence xmlns='" PIDF "'/>"));
	assert_false(is("<presence xmlns='" PIDF "'><a:b/></presence>"));
	assert_true(is(d));
	assert_false(open_(d));
	assert_true(open_("<p:presence xmlns:p='" PIDF "'><p:tuple id='t'>"
			  "<p:status><p:basic>open</p:basic></p:status>"
			  "</p:tuple></p:presence>"));
	assert_false(open_("<presence xmlns='" PIDF "'><x:basic "
			   "xmlns:x='urn:x'>open</x:basic></presence>"));
	pres_pidf_tuple_ids(d, strlen(d), ids, sizeof(ids));
	assert_string_equal(ids, "t1 &amp; ");
}

struct docs {
	const char *const *p;
	unsigned n;
};

static void each(const void *src, pres_doc_h *h, void *arg)
{
	const struct docs *d = src;
	unsigned i;

	for (i = 0; i < d->n; i++) {
		h(d->p[i], strlen(d->p[i]), arg);
	}
}

static char out[8192];

static const char *merge(const char *const *docs, unsigned n,
			 const char *closed, size_t size)
{
	struct docs d = {docs, n};
	struct sd_buf b;
	const char *why = NULL;

	sd_buf_init(&b, out, size);
	pres_pidf_merge(&b, "sip:a@x", each, &d, closed, -1);
	assert_false(b.overflow);
	if (pres_xml_check(out, b.len, &why) || !pres_pidf_is(out, b.len)) {
		fprintf(stderr, "%s\n%s\n", why ? why : "not PIDF", out);
		fail();
	}
	return out;
}

/*
 * Each document keeps its namespaces: a root's declaration goes on the
 * aggregate's root (first binding of a prefix there) or, when another
 * binding of the prefix is there, onto each top-level element; so does a
 * default namespace that is not PIDF's.
 */
static void test_merge_namespaces(void **state)
{
	static const char *const docs[] = {
		"<presence xmlns='" PIDF "' xmlns:dm='" DM "' xmlns:r='urn:r'>"
		"<dm:person id='p1'><r:x/></dm:person></presence>",
		"<presence xmlns='" PIDF "' xmlns:dm='urn:other' "
		"xmlns:d='" DM "'><tuple id='t2'/><dm:x dm:a='1' d:a='2'/>"
		"<d:device xmlns:dm='urn:own' id='d'/></presence>",
		"<p:presence xmlns:p='" PIDF "' xmlns='urn:dflt' "
		"xmlns:r='urn:r'><p:tuple id='t3'><e/></p:tuple><r:y/>"
		"<p:note xmlns=''/></p:presence>",
		"<p:presence xmlns:p='" PIDF "'><p:tuple id='t4'/>"
		"</p:presence>",
	};
	const char *m;

	(void)state;
	m = merge(docs, 4, "c1 c2 ", sizeof(out));
	assert_non_null(strstr(m, "<presence xmlns=\"" PIDF "\" "
			       "entity=\"sip:a@x\" xmlns:dm='" DM "' "
			       "xmlns:r='urn:r' xmlns:d='" DM "' "
			       "xmlns:p='" PIDF "'>\n"));
	assert_non_null(strstr(m, "<dm:person id='p1'><r:x/></dm:person>"));
	assert_non_null(strstr(m, "<tuple xmlns:dm='urn:other' id='t2'/>"));
	assert_non_null(strstr(m, "<dm:x xmlns:dm='urn:other' dm:a='1' "));
	assert_non_null(strstr(m, "<d:device xmlns:dm='urn:own' id='d'/>"));
	assert_non_null(strstr(m, "<p:tuple xmlns='urn:dflt' id='t3'><e/>"));
	assert_non_null(strstr(m, "<r:y xmlns='urn:dflt'/>"));
	assert_non_null(strstr(m, "<p:note xmlns=''/>"));
	assert_non_null(strstr(m, "<p:tuple xmlns=\"\" id='t4'/>"));
	assert_non_null(strstr(m, "<tuple id=\"c2\"><status><basic>closed"));
}

/* Documents go in whole or not at all: one that does not fit, or that
 * the checker refuses, is left out and the others still go. */
static void test_merge_whole_documents(void **state)
{
	static char big[3000];
	const char *docs[3];
	const char *m;
	size_t l;

	(void)state;
	l = (size_t)snprintf(big, sizeof(big), "<presence xmlns='" PIDF
			     "'><tuple id='big'><note>");
	memset(big + l, 'x', sizeof(big) - l - 40);
	strcpy(big + sizeof(big) - 40, "</note></tuple></presence>");
	docs[0] = "<presence xmlns='" PIDF "'><tuple id='a'/></presence>";
	docs[1] = big;
	docs[2] = "<presence xmlns='" PIDF "'><tuple id='&bad;'/><p:x/>"
		  "</presence>";
	m = merge(docs, 3, "c1 ", 1024);
	assert_non_null(strstr(m, "<tuple id='a'/>"));
	assert_null(strstr(m, "big"));
	assert_null(strstr(m, "bad"));
	assert_non_null(strstr(m, "<tuple id=\"c1\">"));
	m = merge(docs, 3, NULL, sizeof(out));
	assert_non_null(strstr(m, "<tuple id='big'>"));
}

/* The entity URI is escaped (XML's specials) and bytes no URI holds are
 * %XX. */
static void test_merge_entity(void **state)
{
	struct sd_buf b;
	const char *why;

	(void)state;
	sd_buf_init(&b, out, sizeof(out));
	pres_pidf_merge(&b, "sip:a&b\"<c>\x01\xff@x", NULL, NULL, NULL, 1);
	assert_int_equal(pres_xml_check(out, b.len, &why), 0);
	assert_non_null(strstr(out, "entity=\"sip:a&amp;b&quot;&lt;c&gt;"
			       "%01%FF@x\""));
	assert_non_null(strstr(out, "<tuple id=\"simpled\"><status><basic>"
			       "open</basic>"));
}

static void test_auth_policies(void **state)
{
	(void)state;
	memset(&pres_cfg, 0, sizeof(pres_cfg));
	pres_cfg.auth_policy = PRES_AUTH_ALLOW_ALL;
	assert_int_equal(pres_auth_decide("a@x", "b@y"), PRES_ALLOW);
	pres_cfg.auth_policy = PRES_AUTH_SAME_DOMAIN;
	assert_int_equal(pres_auth_decide("a@x", "b@x"), PRES_ALLOW);
	assert_int_equal(pres_auth_decide("a@x", "b@X"), PRES_ALLOW);
	assert_int_equal(pres_auth_decide("a@x", "b@y"), PRES_UNDECIDED);
	pres_cfg.auth_policy = PRES_AUTH_EXPLICIT;
	assert_int_equal(pres_auth_decide("a@x", "b@x"), PRES_UNDECIDED);
	/* Everyone may watch themselves. */
	assert_int_equal(pres_auth_decide("a@x", "a@x"), PRES_ALLOW);
	/* Lists: a user, or a whole domain; block wins over allow. */
	strcpy(pres_cfg.allow[0], "sip:b@x");
	strcpy(pres_cfg.allow[1], "@y");
	pres_cfg.n_allow = 2;
	strcpy(pres_cfg.block[0], "evil@y");
	pres_cfg.n_block = 1;
	assert_int_equal(pres_auth_decide("a@x", "b@x"), PRES_ALLOW);
	assert_int_equal(pres_auth_decide("a@x", "c@y"), PRES_ALLOW);
	assert_int_equal(pres_auth_decide("a@x", "evil@y"), PRES_BLOCK);
	assert_int_equal(pres_auth_decide("a@x", "c@z"), PRES_UNDECIDED);
	pres_cfg.force_active = 1;
	assert_int_equal(pres_auth_decide("a@x", "c@z"), PRES_ALLOW);
	assert_int_equal(pres_auth_decide("a@x", "evil@y"), PRES_BLOCK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_check),
		cmocka_unit_test(test_xml_nul_refused),
		cmocka_unit_test(test_deep_nesting_refused),
		cmocka_unit_test(test_values_eq_empty),
		cmocka_unit_test(test_pidf_helpers),
		cmocka_unit_test(test_pidf_helpers_read_elements),
		cmocka_unit_test(test_merge_namespaces),
		cmocka_unit_test(test_merge_whole_documents),
		cmocka_unit_test(test_merge_entity),
		cmocka_unit_test(test_auth_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
