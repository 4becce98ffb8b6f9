/* Fuzz target: Mesos Resource JSON (what a framework sends in ACCEPT) into berth's resources,
 * and back: whatever parses must format and parse to the same resources. Also base64. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/mesos-resources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (in) {
		struct resources r = RESOURCES_INIT, back = RESOURCES_INIT;
		char err[256];
		if (mesos_resources_from_json(in, &r, err, sizeof(err)) == 0) {
			json_t *out = mesos_resources_to_json(&r, NULL, false);
			if (!out || mesos_resources_from_json(out, &back, err, sizeof(err)) != 0 ||
			    !resources_contains(&r, &back) || !resources_contains(&back, &r))
				abort();
			json_decref(out);
		}
		resources_release(&r);
		resources_release(&back);
		json_decref(in);
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	unsigned char buf[4096];
	(void)mesos_b64_decode(text, buf, sizeof(buf));
	free(text);
	return 0;
}
