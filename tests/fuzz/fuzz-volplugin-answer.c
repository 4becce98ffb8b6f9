/* A volume driver's answer, as the agent reads it (plugin-client.h): the JSON body with its
 * Err, under the HTTP status it came with (the HTTP framing is libcurl's). The first byte
 * picks the status; the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/plugin-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = { 200, 500, 404, 201, 204, 302, 400, 999 };
	if (size < 1)
		return 0;
	int status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	/* a private NUL-terminated copy, as the client hands over */
	size_t n = size - 1;
	char *body = malloc(n + 1);
	if (!body)
		return 0;
	memcpy(body, data + 1, n);
	body[n] = '\0';
	for (size_t errlen = 1; errlen <= 256; errlen += 255) {
		json_t *j = NULL;
		char *err = malloc(errlen);
		if (!err)
			break;
		int r = plugin_answer_parse(status, body, n, &j, err, errlen);
		if ((r == 0) != (j != NULL) || (r < 0 && strlen(err) >= errlen))
			abort();
		json_decref(j);
		free(err);
	}
	free(body);
	return 0;
}
