/* The CLI's event-stream parser over arbitrary bytes, fed in pieces whose size comes from
 * the first byte (a stream arrives in arbitrary reads; libcurl removes the chunked framing
 * before sse.c sees the body). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(const char *type, const char *d, size_t len, void *ctx)
{
	(void)ctx;
	/* touch every byte so the sanitizers see a bad length */
	volatile size_t sum = strlen(type);
	for (size_t i = 0; i < len; i++)
		sum += (unsigned char)d[i];
	(void)sum;
	return d[len] == '\0' ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	size_t step = (mode & 0x3f) + 1;
	size_t n = size - 1;
	char *buf = malloc(n ? n : 1);
	if (!buf)
		return 0;
	if (n)
		memcpy(buf, data + 1, n);

	struct sse_parser p;
	sse_init(&p, 256); /* small, so the size bound is exercised */
	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		if (sse_feed(&p, buf + i, k, on_event, NULL) != 0)
			abort();
	}
	sse_release(&p);
	free(buf);
	return 0;
}
