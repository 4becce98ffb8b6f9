/* Route patterns for an HTTP server's table: the one list that drives dispatch, the 404 and
 * 405 answers and the per-route metrics labels.
 *
 * A pattern is a path of segments: literal text, "{name}" (exactly one non-empty segment) or
 * "{name*}" (one or more segments, for ids that contain slashes, as Marathon's app ids do);
 * at most one "{name*}" per pattern, and at most ROUTE_MAX_ARGS captures. A trailing slash
 * of the path is ignored ("/v2/apps/" matches "/v2/apps"). Segments are compared as they
 * are in the path (already decoded by the caller). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define ROUTE_MAX_ARGS 2
#define ROUTE_MAX_SEGMENTS 64
#define ROUTE_MAX_PATH 8192

/* What a match captured: NUL-terminated copies in buf. */
struct route_args {
	const char *v[ROUTE_MAX_ARGS]; /* NULL past n */
	size_t n;
	char buf[ROUTE_MAX_PATH + 1];
};

/* Whether path matches pattern; fills args (may be NULL). A path longer than
 * ROUTE_MAX_PATH or with more than ROUTE_MAX_SEGMENTS segments matches nothing. */
bool route_match(const char *pattern, const char *path, struct route_args *args);
/* Whether pattern is well formed (for an assert over a table at start-up). */
bool route_pattern_valid(const char *pattern);
