/** @file test_pres.c  The PIDF/XML checker and the authorization rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "pres_priv.h"

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
		cmocka_unit_test(test_deep_nesting_refused),
		cmocka_unit_test(test_pidf_helpers),
		cmocka_unit_test(test_auth_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
