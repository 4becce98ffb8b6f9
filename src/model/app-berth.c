/* berth's own labels in an app definition (app.h app_berth_labels). They are labels, not new
 * fields, so that the Marathon JSON of such an app stays Marathon's: a client that does not
 * know them sees ordinary labels. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/app.h"

static const char *label(const struct app *a, const char *name)
{
	return json_string_value(json_object_get(a->labels, name));
}

int app_berth_labels(struct app *a, struct verr *err)
{
	int r = 0;
	const char *pa = label(a, "BERTH_PER_AGENT");
	if (pa) {
		if (!strcmp(pa, "true")) {
			a->per_agent = true;
		} else if (strcmp(pa, "false")) {
			verr_add(err, "/labels/BERTH_PER_AGENT", "must be 'true' or 'false', not '%s'",
				 pa);
			r = -EINVAL;
		}
	}
	if (a->per_agent && a->resident) {
		verr_add(err, "/labels/BERTH_PER_AGENT",
			 "a per-agent app may not have local persistent volumes");
		r = -EINVAL;
	}
	const char *k;
	json_t *lv;
	json_object_foreach(a->per_agent ? a->labels : NULL, k, lv)
		if (!strncmp(k, "BERTH_AUTOSCALE_", strlen("BERTH_AUTOSCALE_"))) {
			/* its count follows the agents: nothing for a policy to scale */
			verr_add(err, "/labels/BERTH_PER_AGENT",
				 "a per-agent app may not have an autoscaling policy ('%s')", k);
			r = -EINVAL;
			break;
		}
	const char *off = label(a, "BERTH_INSTANCE_INDEX_OFFSET");
	if (off) {
		char *end = NULL;
		errno = 0;
		unsigned long long v = strtoull(off, &end, 10);
		if (!*off || *off == '-' || *off == '+' || *end || errno ||
		    v > APP_MAX_INDEX_OFFSET) {
			verr_add(err, "/labels/BERTH_INSTANCE_INDEX_OFFSET",
				 "must be a whole number from 0 to %u, not '%s'", APP_MAX_INDEX_OFFSET,
				 off);
			r = -EINVAL;
		} else {
			a->index_offset = (unsigned)v;
		}
	}
	return r;
}
