/* Fuzz target: arbitrary JSON text as a Marathon app definition, then everything built
 * from a valid one (merge, env, task name, label selectors). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json/verr.h"
#include "model/app.h"
#include "model/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!in)
		return 0;
	struct verr err = VERR_INIT;
	struct app *a = NULL;
	int rc = app_parse(in, "/group", &err, &a);
	if (rc == 0) {
		if (verr_any(&err))
			abort();
		/* A normalized definition is itself valid and normalizes to itself. */
		struct app *b = NULL;
		if (app_parse(a->json, "/", &err, &b) != 0)
			abort();
		if (app_config_differs(a, b))
			abort();
		app_free(b);
		char name[APP_MAX_ID_LEN + 1];
		app_task_name(a->id, name);
		app_set_version(a, 1700000000000000ull, true, NULL);
		uint32_t ports[4] = { 31000, 31001, 31002, 31003 };
		size_t np = a->nports < 4 ? a->nports : 4;
		json_decref(task_env_build(a, "host", ports, np, "t.instance-x._app.1"));
		json_decref(app_merge(a->json, in));
		(void)app_label_selector_match("a,b==c,d in (e,f)", a->labels);
		app_free(a);
	} else if (!verr_any(&err)) {
		abort();
	}
	if (json_is_string(in))
		(void)app_label_selector_match(json_string_value(in), NULL);
	verr_release(&err);
	json_decref(in);
	return 0;
}
