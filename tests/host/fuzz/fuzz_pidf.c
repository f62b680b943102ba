/** @file fuzz_pidf.c  libFuzzer: the XML checker and, on what it accepts,
 * the PIDF helpers that then walk the document. */
#include <stddef.h>
#include <stdint.h>

#include "pres_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *doc = (const char *)data;
	const char *why;
	char ids[PRES_CLOSED_IDS] = "";

	if (pres_xml_check(doc, size, &why) == 0) {
		pres_pidf_is(doc, size);
		pres_pidf_open(doc, size);
		pres_pidf_tuple_ids(doc, size, ids, sizeof(ids));
	}
	return 0;
}
