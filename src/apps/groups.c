/* Group paths and the order of a group's plan (groups.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

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

int group_layers(size_t n, const size_t *from, const size_t *to, size_t nedges, int *layer)
{
	/* indeg[a]: what a still waits for; the edges grouped by what they wait on (to). */
	size_t *indeg = xcalloc(n + 1, sizeof(*indeg));
	size_t *start = xcalloc(n + 2, sizeof(*start));
	size_t *by_to = xcalloc(nedges + 1, sizeof(*by_to));
	size_t *queue = xcalloc(n + 1, sizeof(*queue));
	for (size_t i = 0; i < n; i++)
		layer[i] = 0;
	for (size_t e = 0; e < nedges; e++)
		if (from[e] != to[e]) {
			indeg[from[e]]++;
			start[to[e] + 1]++;
		}
	for (size_t i = 0; i < n; i++)
		start[i + 1] += start[i];
	size_t *fill = xcalloc(n + 1, sizeof(*fill));
	for (size_t e = 0; e < nedges; e++)
		if (from[e] != to[e])
			by_to[start[to[e]] + fill[to[e]]++] = from[e];
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < n; i++)
		if (!indeg[i])
			queue[tail++] = i;
	while (head < tail) {
		size_t b = queue[head++];
		for (size_t k = start[b]; k < start[b + 1]; k++) {
			size_t a = by_to[k];
			if (layer[a] < layer[b] + 1)
				layer[a] = layer[b] + 1;
			if (--indeg[a] == 0)
				queue[tail++] = a;
		}
	}
	free(indeg);
	free(start);
	free(by_to);
	free(queue);
	free(fill);
	return tail == n ? 0 : -ELOOP;
}
