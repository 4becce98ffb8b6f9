/* The plain-HTTP port's redirect target (src/server/plain-http.c) from an untrusted Host
 * header and URI: the input is "HOST\nURI". The Location starts with https://, its
 * authority is a plain host and our port, and it never exceeds its buffer. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/plain-http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	char *uri = strchr(s, '\n');
	if (uri)
		*uri++ = '\0';
	char out[1024];
	if (plain_http_location(s, "fallback", 8443, uri, out, sizeof(out)) == 0) {
		/* the authority is a plain name or address and the port ours: nothing of the
		 * header (a path, user info, a control byte) reaches past it */
		assert(!strncmp(out, "https://", 8));
		const char *auth = out + 8, *slash = strchr(auth, '/');
		assert(slash);
		for (const char *c = auth; c < slash; c++)
			assert(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789.-_[]:", *c) && *c);
		assert(slash - auth >= 5 && !strncmp(slash - 5, ":8443", 5));
	}
	free(s);
	return 0;
}
