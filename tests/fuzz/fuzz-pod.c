/* Fuzz target: arbitrary JSON text as a Marathon pod definition (model/pod.h). A valid one
 * normalises to a definition that is itself valid and normalises to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json/verr.h"
#include "model/app.h"
#include "model/pod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!in)
		return 0;
	struct verr err = VERR_INIT;
	json_t *out = NULL;
	if (pod_parse(in, "/group", &err, &out) == 0) {
		if (verr_any(&err))
			abort();
		json_t *again = NULL;
		if (pod_parse(out, "/", &err, &again) != 0 || !json_equal(out, again) ||
		    pod_config_differs(out, again))
			abort();
		if (pod_instances(out) < 0 || pod_instances(out) > POD_MAX_INSTANCES)
			abort();
		const char *id = json_string_value(json_object_get(out, "id"));
		char safe[APP_MAX_ID_LEN + 1];
		if (!id || strlen(id) > APP_MAX_ID_LEN)
			abort();
		pod_safe_id(id, safe);
		if (strchr(safe, '/'))
			abort();
		json_decref(again);
		json_decref(out);
	} else if (!verr_any(&err)) {
		abort();
	}
	verr_release(&err);
	json_decref(in);
	return 0;
}
