/* The CLI's HTTP response parser and chunked decoder over arbitrary bytes (whatever answers
 * at --master is untrusted). The first byte picks the mode. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cli/http-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	/* a private copy, so that a read past n is caught by the sanitizers */
	char *buf = malloc(n ? n : 1);
	if (!buf)
		return 0;
	if (n)
		memcpy(buf, p, n);
	if (mode & 1) {
		struct strbuf sb = STRBUF_INIT;
		(void)http_chunked_decode(buf, n, 4096, &sb);
		strbuf_release(&sb);
	} else {
		struct http_response r;
		if (http_response_parse(buf, n, (mode & 2) != 0, 4096, &r) == 0)
			http_response_release(&r);
		/* URLs come from Location headers too */
		char *s = malloc(n + 1);
		if (s) {
			memcpy(s, buf, n);
			s[n] = '\0';
			struct http_url u;
			if (http_url_parse(s, &u) == 0)
				http_url_release(&u);
			free(s);
		}
	}
	free(buf);
	return 0;
}
