/* Group paths and the order of a group's plan (groups.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apps/groups.h"

bool group_under(const char *id, const char *gid)
{
	size_t gl = strlen(gid);
	if (gl == 1)
		return id[0] == '/' && id[1] != '\0';
	return !strncmp(id, gid, gl) && id[gl] == '/';
}

void group_parent(const char *id, char *out, size_t n)
{
	const char *s = strrchr(id, '/');
	size_t l = s && s != id ? (size_t)(s - id) : 1;
	snprintf(out, n, "%.*s", (int)l, id);
}

void group_child(const char *gid, const char *id, char *out, size_t n)
{
	size_t gl = strlen(gid) == 1 ? 0 : strlen(gid);
	const char *end = strchr(id + gl + 1, '/');
	size_t l = end ? (size_t)(end - id) : strlen(id);
	snprintf(out, n, "%.*s", (int)l, id);
}

int group_layers(size_t n, bool (*dep)(void *ctx, size_t a, size_t b), void *ctx, int *layer)
{
	for (size_t i = 0; i < n; i++)
		layer[i] = 0;
	/* Longest path by relaxation: without a cycle no layer exceeds n - 1, so n + 1
	 * rounds settle it; a change in the last round means a cycle. */
	for (size_t round = 0; round <= n; round++) {
		bool changed = false;
		for (size_t a = 0; a < n; a++)
			for (size_t b = 0; b < n; b++)
				if (a != b && dep(ctx, a, b) && layer[a] <= layer[b]) {
					layer[a] = layer[b] + 1;
					changed = true;
				}
		if (!changed)
			return 0;
	}
	return -ELOOP;
}
