/* Fuzz target: ui_etag_listed over untrusted If-None-Match values. The input is the header
 * value; it is checked against every embedded asset's ETag. A list that is exactly an ETag,
 * or that ETag after other items, must match; the answer must not depend on blanks around
 * the items. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui-assets.h"
#include "ui/ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	for (unsigned i = 0; i < ui_assets_n; i++) {
		const char *etag = ui_assets[i].etag;
		bool m = ui_etag_listed(s, etag);
		size_t n = strlen(s) + strlen(etag) + 8;
		char *t = malloc(n);
		snprintf(t, n, " %s , ", s);
		assert(ui_etag_listed(t, etag) == m || strchr(s, ','));
		snprintf(t, n, "%s, %s", s, etag);
		assert(ui_etag_listed(t, etag));
		free(t);
	}
	free(s);
	return 0;
}
