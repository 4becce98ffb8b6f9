/* Fuzz target: http_inm_matches and http_accepts_gzip over untrusted If-None-Match and
 * Accept-Encoding values. A list that ends with the tag, or its -gz form, must match;
 * blanks around the list must not change the answer; no input reads out of bounds. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http-cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	static const char tag[] = "\"0123456789abcdef-4981e\"";
	bool m = http_inm_matches(s, tag);
	size_t n = strlen(s) + sizeof(tag) + 16;
	char *t = malloc(n);
	snprintf(t, n, "  %s  ", s);
	assert(http_inm_matches(t, tag) == m || strchr(s, ',') || strchr(s, '\t'));
	snprintf(t, n, "%s, %s", s, tag);
	assert(http_inm_matches(t, tag));
	snprintf(t, n, "%s, W/\"0123456789abcdef-4981e-gz\"", s);
	assert(http_inm_matches(t, tag));
	(void)http_accepts_gzip(s);
	snprintf(t, n, "%s, gzip", s);
	(void)http_accepts_gzip(t);
	assert(http_accepts_gzip("gzip") && !http_accepts_gzip("gzip;q=0") &&
	       !http_accepts_gzip(NULL) && http_accepts_gzip("br, gzip;q=0.5"));
	free(t);
	free(s);
	return 0;
}
