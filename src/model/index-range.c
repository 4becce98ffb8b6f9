/* Instance index lists (index-range.h). Pure: untrusted text in, sorted indexes out. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "model/index-range.h"

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* A decimal number at *p (advanced past it), at most INDEX_RANGE_MAX_INDEX. */
static int number(const char **p, unsigned *v)
{
	const char *s = *p;
	uint64_t x = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	while (*s >= '0' && *s <= '9') {
		x = x * 10 + (uint64_t)(*s - '0');
		if (x > INDEX_RANGE_MAX_INDEX)
			return -ERANGE;
		s++;
	}
	*v = (unsigned)x;
	*p = s;
	return 0;
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

int index_range_parse(const char *text, size_t max, unsigned **out, size_t *n, char *err,
		      size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (!text || !*text)
		return fail(err, errlen, -EINVAL, "no index given");
	/* First pass: syntax and the total, so nothing is allocated beyond max. */
	uint64_t total = 0;
	for (int pass = 0; pass < 2; pass++) {
		unsigned *v = pass ? xcalloc((size_t)total + 1, sizeof(*v)) : NULL;
		size_t k = 0;
		for (const char *p = text;;) {
			unsigned a, b;
			int r = number(&p, &a);
			if (r == -ERANGE)
				return fail(err, errlen, -EINVAL, "index over %u in '%s'",
					    INDEX_RANGE_MAX_INDEX, text);
			if (r < 0)
				return fail(err, errlen, -EINVAL,
					    "'%s' is not an index list (like 3, 3..5 or 0,2,7..9)",
					    text);
			b = a;
			if (p[0] == '.' && p[1] == '.') {
				p += 2;
				r = number(&p, &b);
				if (r == -ERANGE)
					return fail(err, errlen, -EINVAL, "index over %u in '%s'",
						    INDEX_RANGE_MAX_INDEX, text);
				if (r < 0)
					return fail(err, errlen, -EINVAL,
						    "'%s' is not an index list (like 3, 3..5 or "
						    "0,2,7..9)", text);
				if (b < a)
					return fail(err, errlen, -EINVAL,
						    "range %u..%u goes down in '%s'", a, b, text);
			}
			if (!pass) {
				total += (uint64_t)(b - a) + 1;
				if (total > max)
					return fail(err, errlen, -E2BIG,
						    "'%s' names more than %zu indexes", text, max);
			} else {
				for (uint64_t i = a; i <= b; i++)
					v[k++] = (unsigned)i;
			}
			if (!*p)
				break;
			if (*p != ',' || !p[1]) {
				free(v);
				return fail(err, errlen, -EINVAL,
					    "'%s' is not an index list (like 3, 3..5 or 0,2,7..9)",
					    text);
			}
			p++;
		}
		if (pass) {
			qsort(v, k, sizeof(*v), cmp_unsigned);
			size_t u = 0;
			for (size_t i = 0; i < k; i++)
				if (!u || v[u - 1] != v[i])
					v[u++] = v[i];
			*out = v;
			*n = u;
		}
	}
	return 0;
}
