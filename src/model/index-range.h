/* Instance index lists as the CLI and the instances API take them (docs/api.md
 * "Instances"), in the Kafka scheduler's CLI's spelling: "3", "3..5", "0,2,7..9". */
#pragma once
#include <stddef.h>

/* The largest index a list may name (an offset up to APP_MAX_INDEX_OFFSET plus room). */
#define INDEX_RANGE_MAX_INDEX 2000000000u

/* Parses text into the sorted, duplicate-free indexes it names: comma-separated items, each
 * a number or "a..b" with a <= b, no spaces, nothing empty. At most max indexes in all.
 * Returns 0 with *out (malloc'd, the caller frees; NULL when *n is 0, never for success)
 * and *n, or -EINVAL (bad syntax, a > b, an index over INDEX_RANGE_MAX_INDEX) or -E2BIG
 * (more than max indexes) with a message in err. */
int index_range_parse(const char *text, size_t max, unsigned **out, size_t *n, char *err,
		      size_t errlen);
