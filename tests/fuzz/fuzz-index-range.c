/* Fuzz target: instance index lists ("3..5", "0,2,7..9"; model/index-range.h): whatever
 * the bytes, the answer is sorted, duplicate-free, bounded and within the largest index. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/index-range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	unsigned *v;
	size_t n;
	char err[256];
	int r = index_range_parse(text, 5000, &v, &n, err, sizeof(err));
	if (r == 0) {
		if (!n || n > 5000 || !v)
			abort();
		for (size_t i = 0; i < n; i++)
			if (v[i] > INDEX_RANGE_MAX_INDEX || (i && v[i - 1] >= v[i]))
				abort();
	} else if ((r != -EINVAL && r != -E2BIG) || v || n || !err[0]) {
		abort();
	}
	free(v);
	free(text);
	return 0;
}
