/* base64 encoding (b64.h). */
#include <string.h>

#include "base/b64.h"
#include "base/mem.h"

char *b64_encode(const void *data, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *raw = data;
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	char *o = out;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)raw[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= raw[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

char *b64_basic_auth(const char *principal, const char *secret)
{
	char *raw = xasprintf("%s:%s", principal, secret);
	size_t n = strlen(raw);
	char *enc = b64_encode(raw, n);
	explicit_bzero(raw, n);
	free(raw);
	char *out = xasprintf("Basic %s", enc);
	explicit_bzero(enc, strlen(enc));
	free(enc);
	return out;
}
