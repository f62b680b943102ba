/** @file fuzz_uci.c  libFuzzer: the UCI parser with the daemon's tables. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[512];

	if (!text) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	app_configure(NULL, text, err, sizeof(err));
	free(text);
	return 0;
}
