/* as_metric_value over arbitrary bytes (an app instance's answer is untrusted), with the
 * JSON path chosen by the first byte; and as_policy_parse over the rest read as a labels
 * object (labels come from API clients). Whatever is accepted is finite and in range. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/autoscale.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "", "load", "a.b", "x.y.z.w" };
	if (size < 1)
		return 0;
	const char *path = paths[data[0] % 4];
	double v;
	char why[200];
	if (as_metric_value((const char *)data + 1, size - 1, path, &v, why, sizeof(why)) == 0 &&
	    !isfinite(v))
		abort();
	json_t *labels = json_loadb((const char *)data + 1, size - 1, 0, NULL);
	if (labels) {
		struct as_policy p;
		struct verr err = VERR_INIT;
		int r = as_policy_parse(labels, "/", &p, &err);
		if (r > 0) {
			if (p.min < 0 || p.min > p.max || p.max > AS_MAX_INSTANCES || p.step < 1 ||
			    !(p.target > 0) || !(p.interval >= 1))
				abort();
			char reason[200];
			for (int64_t n = 0; n <= p.max + 2; n += 1 + p.max / 7) {
				int64_t to = as_decide(&p, n, 2.5, 1, false, reason, sizeof(reason));
				if (to != n && (!reason[0] || llabs(to - n) > p.step))
					abort();
			}
			json_decref(as_policy_json(&p));
		}
		if ((r < 0) != verr_any(&err))
			abort();
		verr_release(&err);
		json_decref(labels);
	}
	return 0;
}
