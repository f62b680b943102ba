/** @file fuzz_pidf_merge.c  libFuzzer property: whatever documents the
 * checker accepts, their aggregate (pres_pidf_merge()) is a PIDF document
 * the checker accepts too; abort() otherwise.
 *
 * The input is split at NUL bytes (which no accepted document holds):
 * the first part is the entity URI, the next ones documents, of which the
 * last stands for one removed (its tuples show closed) when there are
 * more than two. The aggregate is made twice: in a buffer as large as a
 * NOTIFY body and in a small one (documents left out whole), and the
 * first is merged again with the documents, as a document itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pres_priv.h"

#define MAX_DOCS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct docs {
	const char *p[MAX_DOCS + 1];
	size_t l[MAX_DOCS + 1];
	unsigned n;
};

static void each(const void *src, pres_doc_h *h, void *arg)
{
	const struct docs *d = src;
	unsigned i;

	for (i = 0; i < d->n; i++) {
		h(d->p[i], d->l[i], arg);
	}
}

static void must_pass(const struct sd_buf *b, const char *what)
{
	const char *why;

	if (b->overflow) {
		return; /* not even the root fitted: nothing is sent */
	}
	if (pres_xml_check(b->p, b->len, &why) || !pres_pidf_is(b->p, b->len) ||
	    strlen(b->p) != b->len) {
		fprintf(stderr, "%s aggregate refused: %s\n%s\n", what,
			why ? why : "not PIDF", b->p);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[CONFIG_SIMPLED_MAX_MSG_SIZE];
	static char again[CONFIG_SIMPLED_MAX_MSG_SIZE];
	static char small[700];
	const char *p = (const char *)data, *end = p + size, *z, *why;
	char uri[CONFIG_SIMPLED_MAX_URI_LEN + 4];
	char closed[PRES_CLOSED_IDS] = "";
	struct docs d = {.n = 0};
	struct sd_buf b;
	size_t ul;

	z = memchr(p, '\0', size);
	ul = z ? (size_t)(z - p) : size;
	if (ul >= sizeof(uri)) {
		ul = sizeof(uri) - 1;
	}
	memcpy(uri, p, ul);
	uri[ul] = '\0';
	p = z ? z + 1 : end;
	while (p < end && d.n < MAX_DOCS) {
		z = memchr(p, '\0', (size_t)(end - p));
		d.p[d.n] = p;
		d.l[d.n] = z ? (size_t)(z - p) : (size_t)(end - p);
		/* Only what PUBLISH would take is ever stored. */
		if (!pres_xml_check(d.p[d.n], d.l[d.n], &why) &&
		    pres_pidf_is(d.p[d.n], d.l[d.n])) {
			d.n++;
		}
		p = z ? z + 1 : end;
	}
	if (d.n > 2) {
		d.n--;
		pres_pidf_tuple_ids(d.p[d.n], d.l[d.n], closed,
				    sizeof(closed));
	}
	sd_buf_init(&b, out, sizeof(out));
	pres_pidf_merge(&b, uri, each, &d, closed, d.n ? -1 : 1);
	must_pass(&b, "full");
	if (!b.overflow && d.n < MAX_DOCS) {
		d.p[d.n] = out;
		d.l[d.n] = b.len;
		d.n++;
		sd_buf_init(&b, again, sizeof(again));
		pres_pidf_merge(&b, uri, each, &d, NULL, -1);
		must_pass(&b, "second");
		d.n--;
	}
	sd_buf_init(&b, small, sizeof(small));
	pres_pidf_merge(&b, uri, each, &d, closed, 0);
	must_pass(&b, "small");
	return 0;
}
