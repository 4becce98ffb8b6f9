/* A volume driver's HTTP answer, as the agent parses it (plugin-client.h): HTTP framing
 * (Content-Length, chunked, until EOF), then the JSON answer with its Err. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/plugin-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int eof = 0; eof < 2; eof++) {
		int status = 0;
		char *body = NULL;
		size_t blen = 0;
		if (plugin_http_parse((const char *)data, size, eof, &status, &body, &blen) == 0) {
			json_t *j = NULL;
			char err[256];
			plugin_answer_parse(status, body, blen, &j, err, sizeof(err));
			json_decref(j);
			free(body);
		}
	}
	return 0;
}
