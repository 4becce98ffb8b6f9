/* Route patterns (route.h). Both pattern and path are split into segments; a "{name*}"
 * capture spans exactly the segments the rest of the pattern leaves, so matching is one
 * linear walk without backtracking. */
#include "net/route.h"

#include <string.h>

struct seg {
	const char *p;
	size_t n;
};

/* Splits s ("/a/b") into segments; a trailing "/" is dropped. -1 when there are too many. */
static int split(const char *s, struct seg *out)
{
	int n = 0;
	if (*s == '/')
		s++;
	while (*s) {
		if (n == ROUTE_MAX_SEGMENTS)
			return -1;
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		out[n].p = s;
		out[n].n = len;
		n++;
		if (!e)
			break;
		s = e + 1;
	}
	return n;
}

static bool is_capture(const struct seg *s)
{
	return s->n >= 2 && s->p[0] == '{' && s->p[s->n - 1] == '}';
}

static bool is_multi(const struct seg *s)
{
	return is_capture(s) && s->n >= 3 && s->p[s->n - 2] == '*';
}

bool route_pattern_valid(const char *pattern)
{
	struct seg ps[ROUTE_MAX_SEGMENTS];
	if (!pattern || pattern[0] != '/')
		return false;
	int np = split(pattern, ps);
	if (np < 0)
		return false;
	int multi = 0, caps = 0;
	for (int i = 0; i < np; i++) {
		if (!ps[i].n)
			return false;
		if (is_capture(&ps[i]))
			caps++;
		if (is_multi(&ps[i]))
			multi++;
	}
	return multi <= 1 && caps <= ROUTE_MAX_ARGS;
}

/* Appends segments [from, to) of path, joined by '/', to args as one capture. */
static void capture(struct route_args *args, size_t *used, const struct seg *s, int from, int to)
{
	if (!args)
		return;
	char *out = args->buf + *used;
	size_t k = 0;
	for (int i = from; i < to; i++) {
		if (i > from)
			out[k++] = '/';
		memcpy(out + k, s[i].p, s[i].n);
		k += s[i].n;
	}
	out[k] = '\0';
	args->v[args->n++] = out;
	*used += k + 1;
}

bool route_match(const char *pattern, const char *path, struct route_args *args)
{
	struct seg ps[ROUTE_MAX_SEGMENTS], xs[ROUTE_MAX_SEGMENTS];
	if (args) {
		memset(args->v, 0, sizeof(args->v));
		args->n = 0;
	}
	if (strlen(path) > ROUTE_MAX_PATH || path[0] != '/')
		return false;
	int np = split(pattern, ps), nx = split(path, xs);
	if (np < 0 || nx < 0)
		return false;
	int multi = -1;
	for (int i = 0; i < np; i++)
		if (is_multi(&ps[i]))
			multi = i;
	/* The span of a "{name*}": what the segments around it leave (at least one). */
	int span = multi >= 0 ? nx - (np - 1) : 1;
	if (multi < 0 ? nx != np : span < 1)
		return false;
	size_t used = 0;
	int x = 0;
	for (int i = 0; i < np; i++) {
		if (i == multi) {
			for (int k = x; k < x + span; k++)
				if (!xs[k].n)
					return false;
			capture(args, &used, xs, x, x + span);
			x += span;
			continue;
		}
		const struct seg *p = &ps[i], *s = &xs[x];
		if (is_capture(p)) {
			if (!s->n)
				return false;
			capture(args, &used, xs, x, x + 1);
		} else if (p->n != s->n || memcmp(p->p, s->p, s->n)) {
			return false;
		}
		x++;
	}
	return true;
}
