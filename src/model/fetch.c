/* Marathon's and Chronos's fetch lists in the agent's LAUNCH form (fetch.h). */
#include "model/fetch.h"

json_t *fetch_spec(const json_t *fetch, const json_t *uris)
{
	json_t *out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(fetch, i, e) {
		const char *uri = json_string_value(json_object_get(e, "uri"));
		if (!uri)
			continue;
		json_t *ex = json_object_get(e, "extract");
		json_t *o = json_pack("{s:s, s:b, s:b}", "uri", uri, "extract",
				      ex ? json_is_true(ex) : 1, "executable",
				      json_is_true(json_object_get(e, "executable")));
		const char *outf = json_string_value(json_object_get(e, "outputFile"));
		if (outf)
			json_object_set_new(o, "output_file", json_string(outf));
		if (json_is_true(json_object_get(e, "cache")))
			json_object_set_new(o, "cache", json_true());
		json_array_append_new(out, o);
	}
	json_array_foreach(uris, i, e)
		if (json_is_string(e))
			json_array_append_new(out, json_pack("{s:s, s:b, s:b}", "uri",
							     json_string_value(e), "extract", 1,
							     "executable", 0));
	if (json_array_size(out))
		return out;
	json_decref(out);
	return NULL;
}
