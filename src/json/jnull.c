/* Null stripping for Mesos calls; see jnull.h. */
#include "json/jnull.h"

#include <stdbool.h>
#include <string.h>

static bool listed(const char *key, const char *const *keys)
{
	for (; keys && *keys; keys++)
		if (!strcmp(key, *keys))
			return true;
	return false;
}

/* keep_null: v is a proto map, whose null values stay. */
static void strip(json_t *v, const char *const *map_keys, bool keep_null)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, x) {
			if (!json_is_null(x))
				strip(x, map_keys, json_is_object(x) && listed(k, map_keys));
			else if (!keep_null)
				json_object_del(v, k);
		}
	} else if (json_is_array(v)) {
		/* Compact in one pass, then drop the tail: removing each null where it stands
		 * would move the rest of the array every time. */
		size_t n = json_array_size(v), w = 0;
		for (size_t r = 0; r < n; r++) {
			json_t *x = json_array_get(v, r);
			if (json_is_null(x))
				continue;
			strip(x, map_keys, false);
			/* Slot w holds a null or an element already copied further left. */
			if (w != r)
				json_array_set(v, w, x);
			w++;
		}
		while (json_array_size(v) > w)
			json_array_remove(v, json_array_size(v) - 1);
	}
}

void jnull_strip(json_t *v, const char *const *map_keys)
{
	strip(v, map_keys, false);
}
