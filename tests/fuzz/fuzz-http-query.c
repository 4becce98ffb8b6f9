/* Fuzz target: the HTTP helpers that read untrusted request bytes — the query-string
 * parser (http_query_parse) and the JSON body parser (http_json_parse). Every input goes
 * through both; the query parser sees it up to the first NUL, as a URI would carry it. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	json_t *q = NULL;
	int r = http_query_parse(s, &q);
	assert(r == 0 || r == -E2BIG);
	if (r == 0) {
		/* Every key maps to a non-empty array of strings. */
		const char *k;
		json_t *arr;
		json_object_foreach(q, k, arr) {
			assert(*k);
			assert(json_is_array(arr) && json_array_size(arr) > 0);
			for (size_t i = 0; i < json_array_size(arr); i++)
				assert(json_is_string(json_array_get(arr, i)));
		}
	} else {
		assert(q == NULL);
	}
	json_decref(q);

	char err[160];
	json_t *j = NULL;
	r = http_json_parse((const char *)data, size, &j, err, sizeof(err));
	assert((r == 0) == (j != NULL));
	assert(r == 0 || (r == -EINVAL && memchr(err, '\0', sizeof(err))));
	json_decref(j);
	free(s);
	return 0;
}
