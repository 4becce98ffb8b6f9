/* httpc_url_parse over arbitrary bytes (a --master URL or $BERTH_MASTER is user input), and
 * httpc_url_join over whatever it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/httpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct httpc_url u;
	if (httpc_url_parse(s, &u) == 0) {
		char *joined = httpc_url_join(&u, "/v2/apps");
		/* what join makes parses again to the same host and port */
		struct httpc_url v;
		size_t n = strlen(joined) - strlen("/v2/apps");
		joined[n] = '\0';
		if (httpc_url_parse(joined, &v) != 0 || strcmp(u.host, v.host) != 0 ||
		    u.port != v.port || u.https != v.https || strcmp(u.prefix, v.prefix) != 0)
			abort();
		httpc_url_release(&v);
		free(joined);
		httpc_url_release(&u);
	}
	free(s);
	return 0;
}
