/* The ZooKeeper store's key <-> znode names (store-zk-int.h) over arbitrary bytes: any key
 * maps to two legal znode names (only [A-Za-z0-9_:@%-] after their b/k tag) that decode
 * back to exactly the key, and decoding a name from ZooKeeper (another tool may have put
 * anything there) never misbehaves. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "store/store-zk-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int legal(const char *name)
{
	for (const char *p = name; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == ':' || c == '@' || c == '-' || c == '%'))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	/* A name as ZooKeeper may list it. */
	struct strbuf any = STRBUF_INIT;
	(void)zk_dec_append(&any, s);
	strbuf_release(&any);

	if (*s) {
		char *path = zk_key_path("/r/kv", s);
		char *bucket = zk_bucket_path("/r/kv", s);
		const char *b = path + strlen("/r/kv/");
		const char *k = strchr(b, '/');
		if (strncmp(path, "/r/kv/b", 7) != 0 || !k || k[1] != 'k' || strchr(k + 1, '/') ||
		    strncmp(path, bucket, strlen(bucket)) != 0 || path[strlen(bucket)] != '/')
			abort();
		char *bname = strndup(b + 1, (size_t)(k - b - 1));
		if (!bname || !legal(bname) || !legal(k + 2))
			abort();
		struct strbuf back = STRBUF_INIT;
		if (zk_dec_append(&back, bname) < 0 || zk_dec_append(&back, k + 2) < 0 ||
		    strcmp(strbuf_str(&back), s) != 0)
			abort();
		strbuf_release(&back);
		free(bname);
		free(bucket);
		free(path);
	}
	free(s);
	return 0;
}
