/* Feeds arbitrary bytes to the RecordIO decoder, whole and split in two. */
#include <stddef.h>
#include <stdint.h>

#include "net/recordio.h"

static int count(const char *data, size_t len, void *ctx)
{
	size_t *n = ctx;
	if (len == 0 || !data)
		__builtin_trap();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recordio_decoder d;
	size_t n1 = 0, n2 = 0;

	recordio_decoder_init(&d, 4096);
	int r1 = recordio_decoder_feed(&d, data, size, count, &n1);
	recordio_decoder_release(&d);

	recordio_decoder_init(&d, 4096);
	size_t cut = size / 2;
	int r2 = recordio_decoder_feed(&d, data, cut, count, &n2);
	if (r2 == 0)
		r2 = recordio_decoder_feed(&d, data + cut, size - cut, count, &n2);
	recordio_decoder_release(&d);
	/* Chunk boundaries must not change the outcome. */
	if (r1 != r2 || n1 != n2)
		__builtin_trap();
	return 0;
}
