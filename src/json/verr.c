#include "json/verr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void verr_init(struct verr *e)
{
	e->details = NULL;
}

void verr_release(struct verr *e)
{
	json_decref(e->details);
	e->details = NULL;
}

void verr_add(struct verr *e, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!e->details)
		e->details = json_array();
	size_t i;
	json_t *d;
	json_array_foreach(e->details, i, d) {
		if (!strcmp(json_string_value(json_object_get(d, "path")), path)) {
			json_array_append_new(json_object_get(d, "errors"), json_string(msg));
			return;
		}
	}
	json_array_append_new(e->details,
			      json_pack("{s:s, s:[s]}", "path", path, "errors", msg));
}

bool verr_any(const struct verr *e)
{
	return e->details && json_array_size(e->details) > 0;
}

json_t *verr_body(const struct verr *e)
{
	return json_pack("{s:s, s:o}", "message", "Object is not valid", "details",
			 e->details ? json_deep_copy(e->details) : json_array());
}

const char *verr_first(const struct verr *e)
{
	static char buf[640];
	if (!verr_any(e))
		return "";
	json_t *d = json_array_get(e->details, 0);
	snprintf(buf, sizeof(buf), "'%s': %s", json_string_value(json_object_get(d, "path")),
		 json_string_value(json_array_get(json_object_get(d, "errors"), 0)));
	return buf;
}
