/* Mesos resources: parsing, formatting and the algebra the allocator uses.
 *
 * Invariants of a struct resources (every function keeps them):
 *   - entries are sorted by (name, role) and no two share both;
 *   - no entry is empty: a scalar is > 1e-9, ranges and sets have at least one element;
 *   - ranges are sorted, disjoint and coalesced ([1-3],[4-5] become [1-5]);
 *   - set items are sorted and unique.
 * So two equal resource sets have equal formats, and contains/subtract work entry by
 * entry.
 *
 * An entry's name and role are set and freed only here (name_dup, name_free): the few that
 * nearly every entry has ("cpus", "mem", "*", …) are shared static strings, not copies, which
 * saves two allocations per entry of every offer, task and free set. */
#include "model/resources.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "model/text.h"
#include "base/strbuf.h"
#include "base/util.h"

#define EPS 1e-9

static const char *const common_names[] = { "*", "cpus", "mem", "disk", "ports", "gpus" };

static char *name_dup(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(common_names); i++)
		if (s[0] == common_names[i][0] && !strcmp(s, common_names[i]))
			return (char *)common_names[i];
	return xstrdup(s);
}

static void name_free(char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(common_names); i++)
		if (s == common_names[i])
			return;
	free(s);
}

void resources_init(struct resources *r)
{
	r->v = NULL;
	r->n = 0;
}

static void resource_release(struct resource *e)
{
	name_free(e->name);
	name_free(e->role);
	free(e->ranges);
	for (size_t i = 0; i < e->nitems; i++)
		free(e->items[i]);
	free(e->items);
	memset(e, 0, sizeof(*e));
}

void resources_release(struct resources *r)
{
	for (size_t i = 0; i < r->n; i++)
		resource_release(&r->v[i]);
	free(r->v);
	resources_init(r);
}

static void resource_copy(struct resource *d, const struct resource *s)
{
	d->name = name_dup(s->name);
	d->role = name_dup(s->role);
	d->type = s->type;
	d->scalar = s->scalar;
	d->nranges = s->nranges;
	d->ranges = NULL;
	if (s->nranges) {
		d->ranges = xmalloc(s->nranges * sizeof(*d->ranges));
		memcpy(d->ranges, s->ranges, s->nranges * sizeof(*d->ranges));
	}
	d->nitems = s->nitems;
	d->items = NULL;
	if (s->nitems) {
		d->items = xmalloc(s->nitems * sizeof(*d->items));
		for (size_t i = 0; i < s->nitems; i++)
			d->items[i] = xstrdup(s->items[i]);
	}
}

void resources_copy(struct resources *dst, const struct resources *src)
{
	dst->n = src->n;
	dst->v = src->n ? xcalloc(src->n, sizeof(*dst->v)) : NULL;
	for (size_t i = 0; i < src->n; i++)
		resource_copy(&dst->v[i], &src->v[i]);
}

void resources_copy_if(struct resources *dst, const struct resources *src,
		       bool (*keep)(const struct resource *e, const void *ctx), const void *ctx)
{
	dst->n = 0;
	dst->v = src->n ? xcalloc(src->n, sizeof(*dst->v)) : NULL;
	for (size_t i = 0; i < src->n; i++)
		if (keep(&src->v[i], ctx))
			resource_copy(&dst->v[dst->n++], &src->v[i]);
	if (!dst->n) {
		free(dst->v);
		dst->v = NULL;
	}
}

static int entry_cmp(const char *n1, const char *r1, const char *n2, const char *r2)
{
	int c = strcmp(n1, n2);
	return c ? c : strcmp(r1, r2);
}

/* Index of (name, role), or -(insertion point) - 1. */
static long find_entry(const struct resources *r, const char *name, const char *role)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = entry_cmp(r->v[mid].name, r->v[mid].role, name, role);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

/* The entry for (name, role), created empty with type t when absent. */
static struct resource *get_entry(struct resources *r, const char *name, const char *role,
				  enum res_type t)
{
	long i = find_entry(r, name, role);
	if (i >= 0)
		return &r->v[i];
	size_t at = (size_t)(-i - 1);
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	memmove(&r->v[at + 1], &r->v[at], (r->n - at) * sizeof(*r->v));
	r->n++;
	struct resource *e = &r->v[at];
	memset(e, 0, sizeof(*e));
	e->name = name_dup(name);
	e->role = name_dup(role);
	e->type = t;
	return e;
}

static bool entry_empty(const struct resource *e)
{
	switch (e->type) {
	case RES_SCALAR:
		return e->scalar <= EPS;
	case RES_RANGES:
		return e->nranges == 0;
	case RES_SET:
		return e->nitems == 0;
	}
	return true;
}

static void drop_empty(struct resources *r)
{
	size_t j = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (entry_empty(&r->v[i]))
			resource_release(&r->v[i]);
		else
			r->v[j++] = r->v[i];
	}
	r->n = j;
	if (!j) {
		free(r->v);
		r->v = NULL;
	}
}

/* ---- ranges ---- */

static int range_cmp(const void *a, const void *b)
{
	const struct res_range *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* Sorts and coalesces v[0..*n) in place. */
static void ranges_normalize(struct res_range *v, size_t *n)
{
	if (*n < 2)
		return;
	qsort(v, *n, sizeof(*v), range_cmp);
	size_t j = 0;
	for (size_t i = 1; i < *n; i++) {
		if (v[j].end == UINT64_MAX || v[i].begin <= v[j].end + 1) {
			if (v[i].end > v[j].end)
				v[j].end = v[i].end;
		} else {
			v[++j] = v[i];
		}
	}
	*n = j + 1;
}

static void entry_add_ranges(struct resource *e, const struct res_range *v, size_t n)
{
	if (!n)
		return;
	e->ranges = xrealloc(e->ranges, (e->nranges + n) * sizeof(*e->ranges));
	memcpy(&e->ranges[e->nranges], v, n * sizeof(*v));
	e->nranges += n;
	ranges_normalize(e->ranges, &e->nranges);
}

/* true when every value of b (normalized) is in a (normalized). */
static bool ranges_contain(const struct res_range *a, size_t na, const struct res_range *b,
			   size_t nb)
{
	size_t i = 0;
	for (size_t k = 0; k < nb; k++) {
		while (i < na && a[i].end < b[k].begin)
			i++;
		if (i == na || a[i].begin > b[k].begin || a[i].end < b[k].end)
			return false;
	}
	return true;
}

/* e->ranges minus b (both normalized). The result has at most na + nb pieces. */
static void entry_subtract_ranges(struct resource *e, const struct res_range *b, size_t nb)
{
	size_t cap = e->nranges + nb, n = 0;
	struct res_range *out = xmalloc((cap ? cap : 1) * sizeof(*out));
	size_t k = 0;
	for (size_t i = 0; i < e->nranges; i++) {
		uint64_t lo = e->ranges[i].begin, hi = e->ranges[i].end;
		bool alive = true;
		while (k < nb && b[k].end < lo)
			k++;
		for (size_t m = k; m < nb && b[m].begin <= hi; m++) {
			if (b[m].begin > lo)
				out[n++] = (struct res_range){ lo, b[m].begin - 1 };
			if (b[m].end >= hi) {
				alive = false;
				break;
			}
			lo = b[m].end + 1;
		}
		if (alive)
			out[n++] = (struct res_range){ lo, hi };
	}
	free(e->ranges);
	e->ranges = n ? out : NULL;
	if (!n)
		free(out);
	e->nranges = n;
}

/* ---- sets ---- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool set_has(const struct resource *e, const char *item)
{
	return e->nitems && bsearch(&item, e->items, e->nitems, sizeof(char *), str_cmp);
}

static void entry_add_item(struct resource *e, const char *item)
{
	if (set_has(e, item))
		return;
	e->items = xrealloc(e->items, (e->nitems + 1) * sizeof(char *));
	size_t at = 0;
	while (at < e->nitems && strcmp(e->items[at], item) < 0)
		at++;
	memmove(&e->items[at + 1], &e->items[at], (e->nitems - at) * sizeof(char *));
	e->items[at] = xstrdup(item);
	e->nitems++;
}

static void entry_remove_item(struct resource *e, const char *item)
{
	for (size_t i = 0; i < e->nitems; i++) {
		if (!strcmp(e->items[i], item)) {
			free(e->items[i]);
			memmove(&e->items[i], &e->items[i + 1], (e->nitems - i - 1) * sizeof(char *));
			e->nitems--;
			break;
		}
	}
	if (!e->nitems) {
		free(e->items);
		e->items = NULL;
	}
}

/* ---- formatting ---- */

void resources_format_scalar(double v, char out[32])
{
	/* Shortest plain decimal that reads back as v; otherwise nine decimals with the
	 * trailing zeros cut, so that 0.1 + 0.2 prints as "0.3". Never an exponent. */
	if (!isfinite(v) || fabs(v) >= 1e15) {
		snprintf(out, 32, "%.15g", v);
		return;
	}
	for (int p = 0; p <= 9; p++) {
		snprintf(out, 32, "%.*f", p, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, 32, "%.9f", v);
	size_t n = strlen(out);
	while (n > 1 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 1 && out[n - 1] == '.')
		out[--n] = '\0';
	if (!strcmp(out, "-0"))
		snprintf(out, 32, "0");
}

static void add_ranges_text(struct strbuf *sb, const struct res_range *v, size_t n,
			    const char *sep)
{
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sb, "%s%llu-%llu", i ? sep : "", (unsigned long long)v[i].begin,
			    (unsigned long long)v[i].end);
	strbuf_addch(sb, ']');
}

char *resources_format(const struct resources *r)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *e = &r->v[i];
		strbuf_addf(&sb, "%s%s(%s):", i ? "; " : "", e->name, e->role);
		switch (e->type) {
		case RES_SCALAR: {
			char num[32];
			resources_format_scalar(e->scalar, num);
			strbuf_adds(&sb, num);
			break;
		}
		case RES_RANGES:
			add_ranges_text(&sb, e->ranges, e->nranges, ", ");
			break;
		case RES_SET:
			strbuf_addch(&sb, '{');
			for (size_t k = 0; k < e->nitems; k++)
				strbuf_addf(&sb, "%s%s", k ? "," : "", e->items[k]);
			strbuf_addch(&sb, '}');
			break;
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* The ranges of name over role (NULL = all roles), normalized (malloc'd, *n set). */
static struct res_range *collect_ranges(const struct resources *r, const char *name,
					const char *role, size_t *n)
{
	size_t total = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].type == RES_RANGES && !strcmp(r->v[i].name, name) &&
		    (!role || !strcmp(r->v[i].role, role)))
			total += r->v[i].nranges;
	struct res_range *v = xmalloc((total ? total : 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].type == RES_RANGES && !strcmp(r->v[i].name, name) &&
		    (!role || !strcmp(r->v[i].role, role))) {
			memcpy(&v[k], r->v[i].ranges, r->v[i].nranges * sizeof(*v));
			k += r->v[i].nranges;
		}
	ranges_normalize(v, &k);
	*n = k;
	return v;
}

char *resources_format_ranges(const struct resources *r, const char *name, const char *role)
{
	size_t n;
	struct res_range *v = collect_ranges(r, name, role, &n);
	struct strbuf sb = STRBUF_INIT;
	add_ranges_text(&sb, v, n, ", ");
	free(v);
	return strbuf_detach(&sb, NULL);
}

/* ---- parsing ---- */


static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > RESOURCES_MAX_NAME)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

bool resources_role_valid(const char *role)
{
	if (!strcmp(role, "*"))
		return true;
	size_t len = strlen(role);
	if (!len || len > RESOURCES_MAX_NAME || role[0] == '-' || role[0] == '/' ||
	    role[len - 1] == '/' || strstr(role, "//"))
		return false;
	/* No "." or ".." path segment. */
	for (const char *seg = role; seg;) {
		const char *end = strchr(seg, '/');
		size_t sl = end ? (size_t)(end - seg) : strlen(seg);
		if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		seg = end ? end + 1 : NULL;
	}
	for (const char *s = role; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-./", *s))
			return false;
	return true;
}

static int parse_u64_trim(const char *b, const char *e, uint64_t *out)
{
	char *s = text_trim_dup(b, e);
	int r = parse_u64(s, out);
	free(s);
	return r;
}

int resources_ranges_parse(const char *text, struct res_range **out, size_t *n, char *err,
			   size_t errlen)
{
	*out = NULL;
	*n = 0;
	char *t = text_trim_dup(text, text + strlen(text));
	size_t len = strlen(t);
	int r = 0;
	if (len < 2 || t[0] != '[' || t[len - 1] != ']') {
		r = text_fail(err, errlen, "'%s' is not a list of ranges like '[31000-32000]'", t);
		goto out;
	}
	const char *p = t + 1, *end = t + len - 1;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end)
		goto out; /* "[]" */
	size_t cap = 0;
	struct res_range *v = NULL;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		const char *dash = memchr(p, '-', (size_t)(stop - p));
		uint64_t b, e;
		if (dash) {
			if (parse_u64_trim(p, dash, &b) < 0 || parse_u64_trim(dash + 1, stop, &e) < 0) {
				char *bad = text_trim_dup(p, stop);
				r = text_fail(err, errlen, "'%s' is not a range 'begin-end'", bad);
				free(bad);
				break;
			}
		} else if (parse_u64_trim(p, stop, &b) == 0) {
			e = b;
		} else {
			char *bad = text_trim_dup(p, stop);
			r = text_fail(err, errlen, "'%s' is not a range 'begin-end'", bad);
			free(bad);
			break;
		}
		if (b > e) {
			r = text_fail(err, errlen, "range '%llu-%llu' ends before it begins",
				 (unsigned long long)b, (unsigned long long)e);
			break;
		}
		if (*n >= RESOURCES_MAX_RANGES) {
			r = text_fail(err, errlen, "more than %d ranges", RESOURCES_MAX_RANGES);
			break;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = (struct res_range){ b, e };
		if (!comma)
			break;
		p = comma + 1;
	}
	if (r < 0) {
		free(v);
		*n = 0;
	} else {
		*out = v;
	}
out:
	free(t);
	return r;
}

/* Parses one "{a,b}" set into e. */
static int parse_set(const char *name, const char *t, struct resource *e, char *err,
		     size_t errlen)
{
	size_t len = strlen(t);
	const char *p = t + 1, *end = t + len - 1;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end)
		return 0;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		char *item = text_trim_dup(p, stop);
		bool ok = *item && !strpbrk(item, "{}[];()");
		if (!ok || e->nitems >= RESOURCES_MAX_ITEMS) {
			int r = ok ? text_fail(err, errlen, "resource '%s': more than %d set items", name,
					  RESOURCES_MAX_ITEMS)
				   : text_fail(err, errlen, "resource '%s': '%s' is not a set item", name,
					  item);
			free(item);
			return r;
		}
		entry_add_item(e, item);
		free(item);
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

/* Parses "name(role):value" (trimmed, non-empty) into out. */
static int parse_entry(const char *t, struct resources *out, char *err, size_t errlen)
{
	const char *colon = strchr(t, ':');
	if (!colon)
		return text_fail(err, errlen, "'%s' is not 'name(role):value'", t);
	_cleanup_free_ char *head = text_trim_dup(t, colon);
	_cleanup_free_ char *val = text_trim_dup(colon + 1, colon + strlen(colon));
	_cleanup_free_ char *name = NULL, *role = NULL;
	char *paren = strchr(head, '(');
	if (paren) {
		size_t hl = strlen(head);
		if (head[hl - 1] != ')')
			return text_fail(err, errlen, "'%s' is not 'name(role)'", head);
		name = text_trim_dup(head, paren);
		role = text_trim_dup(paren + 1, head + hl - 1);
		if (!resources_role_valid(role))
			return text_fail(err, errlen, "resource '%s': '%s' is not a valid role", name,
				    role);
	} else {
		name = xstrdup(head);
		role = xstrdup("*");
	}
	if (!*name)
		return text_fail(err, errlen, "'%s': the resource name is empty", t);
	if (!name_ok(name))
		return text_fail(err, errlen, "'%s' is not a valid resource name", name);
	if (!*val)
		return text_fail(err, errlen, "resource '%s': the value is empty", name);

	enum res_type type = val[0] == '[' ? RES_RANGES : val[0] == '{' ? RES_SET : RES_SCALAR;
	long idx = find_entry(out, name, role);
	if (idx >= 0 && out->v[idx].type != type)
		return text_fail(err, errlen, "resource '%s(%s)' is given with two different types",
			    name, role);
	if (idx < 0 && out->n >= RESOURCES_MAX_ENTRIES)
		return text_fail(err, errlen, "more than %d resources", RESOURCES_MAX_ENTRIES);

	switch (type) {
	case RES_SCALAR: {
		double d;
		if (val[0] == '-')
			return text_fail(err, errlen,
				    parse_double(val, &d) == 0 ? "resource '%s': '%s' is negative"
							       : "resource '%s': '%s' is not a number",
				    name, val);
		if (!(isdigit((unsigned char)val[0]) || val[0] == '.') ||
		    strspn(val, "0123456789.eE+-") != strlen(val) || parse_double(val, &d) < 0 ||
		    !isfinite(d))
			return text_fail(err, errlen, "resource '%s': '%s' is not a number", name, val);
		if (d > RESOURCES_MAX_SCALAR)
			return text_fail(err, errlen, "resource '%s': '%s' is too large", name, val);
		/* Mesos keeps scalars to three decimals. */
		d = round(d * 1000.0) / 1000.0;
		struct resource *e = get_entry(out, name, role, RES_SCALAR);
		e->scalar += d;
		break;
	}
	case RES_RANGES: {
		size_t vlen = strlen(val);
		if (val[vlen - 1] != ']')
			return text_fail(err, errlen, "resource '%s': '%s' is not a list of ranges", name,
				    val);
		struct res_range *v;
		size_t n;
		char sub[256];
		if (resources_ranges_parse(val, &v, &n, sub, sizeof(sub)) < 0)
			return text_fail(err, errlen, "resource '%s': %s", name, sub);
		struct resource *e = get_entry(out, name, role, RES_RANGES);
		entry_add_ranges(e, v, n);
		free(v);
		if (e->nranges > RESOURCES_MAX_RANGES)
			return text_fail(err, errlen, "resource '%s': more than %d ranges", name,
				    RESOURCES_MAX_RANGES);
		break;
	}
	case RES_SET: {
		if (val[strlen(val) - 1] != '}')
			return text_fail(err, errlen, "resource '%s': '%s' is not a set '{a,b}'", name,
				    val);
		struct resource *e = get_entry(out, name, role, RES_SET);
		int r = parse_set(name, val, e, err, errlen);
		if (r < 0)
			return r;
		break;
	}
	}
	return 0;
}

int resources_parse(const char *text, struct resources *out, char *err, size_t errlen)
{
	resources_release(out);
	if (err && errlen)
		err[0] = '\0';
	if (strlen(text) > RESOURCES_MAX_TEXT)
		return text_fail(err, errlen, "resources text longer than %d bytes",
			    RESOURCES_MAX_TEXT);
	const char *p = text;
	int r = 0;
	while (*p) {
		const char *semi = strchr(p, ';');
		const char *stop = semi ? semi : p + strlen(p);
		char *t = text_trim_dup(p, stop);
		if (*t)
			r = parse_entry(t, out, err, errlen);
		free(t);
		if (r < 0)
			break;
		if (!semi)
			break;
		p = semi + 1;
	}
	if (r < 0) {
		resources_release(out);
		return r;
	}
	drop_empty(out);
	return 0;
}

/* ---- algebra ---- */

double resources_scalar(const struct resources *r, const char *name, const char *role)
{
	double s = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].type == RES_SCALAR && !strcmp(r->v[i].name, name) &&
		    (!role || !strcmp(r->v[i].role, role)))
			s += r->v[i].scalar;
	return s;
}

void resources_add_scalar(struct resources *r, const char *name, const char *role, double v)
{
	long i = find_entry(r, name, role);
	if (i >= 0 && r->v[i].type != RES_SCALAR)
		return; /* a type clash is a programming error; keep the invariants */
	if (!(v > EPS) && i < 0)
		return;
	struct resource *e = get_entry(r, name, role, RES_SCALAR);
	e->scalar += v;
	drop_empty(r);
}

void resources_add_range(struct resources *r, const char *name, const char *role, uint64_t b,
			 uint64_t e)
{
	if (b > e)
		return;
	long i = find_entry(r, name, role);
	if (i >= 0 && r->v[i].type != RES_RANGES)
		return;
	struct res_range one = { b, e };
	entry_add_ranges(get_entry(r, name, role, RES_RANGES), &one, 1);
}

void resources_add(struct resources *a, const struct resources *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct resource *s = &b->v[i];
		long k = find_entry(a, s->name, s->role);
		if (k >= 0 && a->v[k].type != s->type)
			continue;
		struct resource *d = get_entry(a, s->name, s->role, s->type);
		switch (s->type) {
		case RES_SCALAR:
			d->scalar += s->scalar;
			break;
		case RES_RANGES:
			entry_add_ranges(d, s->ranges, s->nranges);
			break;
		case RES_SET:
			for (size_t m = 0; m < s->nitems; m++)
				entry_add_item(d, s->items[m]);
			break;
		}
	}
	drop_empty(a);
}

/* Room for n ranges, grown by doubling. */
static size_t ranges_cap(size_t n)
{
	size_t c = 1;
	while (c < n)
		c *= 2;
	return n ? c : 0;
}

void resources_add_all(struct resources *a, const struct resources *const *b, size_t n)
{
	/* Every ranges entry's array has room for ranges_cap(nranges) while adding. */
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].type == RES_RANGES && a->v[i].nranges)
			a->v[i].ranges = xrealloc(a->v[i].ranges,
						  ranges_cap(a->v[i].nranges) * sizeof(*a->v[i].ranges));
	for (size_t j = 0; j < n; j++) {
		for (size_t i = 0; i < b[j]->n; i++) {
			const struct resource *s = &b[j]->v[i];
			if (s->type != RES_RANGES) {
				resources_add(a, &(struct resources){ (struct resource *)s, 1 });
				continue;
			}
			long k = find_entry(a, s->name, s->role);
			if (k >= 0 && a->v[k].type != s->type)
				continue;
			struct resource *d = get_entry(a, s->name, s->role, s->type);
			if (!s->nranges)
				continue;
			/* appended now, sorted and coalesced once below: the canonical form
			 * of the union is the same */
			size_t want = d->nranges + s->nranges;
			if (ranges_cap(want) > ranges_cap(d->nranges))
				d->ranges = xrealloc(d->ranges, ranges_cap(want) * sizeof(*d->ranges));
			memcpy(&d->ranges[d->nranges], s->ranges, s->nranges * sizeof(*s->ranges));
			d->nranges += s->nranges;
		}
		drop_empty(a); /* after each, as resources_add: the entries keep their order */
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].type == RES_RANGES)
			ranges_normalize(a->v[i].ranges, &a->v[i].nranges);
}

bool resources_contains(const struct resources *a, const struct resources *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct resource *s = &b->v[i];
		if (entry_empty(s))
			continue;
		long k = find_entry(a, s->name, s->role);
		if (k < 0 || a->v[k].type != s->type)
			return false;
		const struct resource *d = &a->v[k];
		switch (s->type) {
		case RES_SCALAR:
			if (d->scalar + EPS < s->scalar)
				return false;
			break;
		case RES_RANGES:
			if (!ranges_contain(d->ranges, d->nranges, s->ranges, s->nranges))
				return false;
			break;
		case RES_SET:
			for (size_t m = 0; m < s->nitems; m++)
				if (!set_has(d, s->items[m]))
					return false;
			break;
		}
	}
	return true;
}

int resources_subtract(struct resources *a, const struct resources *b)
{
	if (!resources_contains(a, b))
		return -EINVAL;
	resources_subtract_upto(a, b); /* all of b is in a: exactly a - b */
	return 0;
}

void resources_subtract_upto(struct resources *a, const struct resources *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct resource *s = &b->v[i];
		long k = find_entry(a, s->name, s->role);
		if (k < 0 || a->v[k].type != s->type)
			continue;
		struct resource *d = &a->v[k];
		switch (s->type) {
		case RES_SCALAR:
			d->scalar -= s->scalar;
			if (d->scalar < EPS)
				d->scalar = 0;
			break;
		case RES_RANGES:
			entry_subtract_ranges(d, s->ranges, s->nranges);
			break;
		case RES_SET:
			for (size_t m = 0; m < s->nitems; m++)
				entry_remove_item(d, s->items[m]);
			break;
		}
	}
	drop_empty(a);
}

uint64_t resources_range_count(const struct resources *r, const char *name, const char *role)
{
	uint64_t c = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *e = &r->v[i];
		if (e->type != RES_RANGES || strcmp(e->name, name) || (role && strcmp(e->role, role)))
			continue;
		for (size_t k = 0; k < e->nranges; k++)
			c += e->ranges[k].end - e->ranges[k].begin + 1;
	}
	return c;
}

static bool in_ranges(const struct res_range *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].end < x)
			lo = mid + 1;
		else if (v[mid].begin > x)
			hi = mid;
		else
			return true;
	}
	return false;
}

static bool in_list(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

int resources_pick_ports(const struct resources *r, const char *role, const uint32_t *want,
			 size_t n, uint32_t *got)
{
	size_t nr;
	struct res_range *v = collect_ranges(r, "ports", role, &nr);
	int ret = 0;
	/* Explicit ports first: each must be offered and asked for once. */
	for (size_t i = 0; i < n; i++) {
		if (!want[i])
			continue;
		if (!in_ranges(v, nr, want[i]) || in_list(want, i, want[i])) {
			ret = -ENOSPC;
			goto out;
		}
		got[i] = want[i];
	}
	/* Then dynamic ones, lowest first, skipping every explicit one. A cursor walks the
	 * ranges once; each skip is over one of the n explicit ports, so this is
	 * O(nr + n^2). */
	size_t ri = 0;
	uint64_t cur = nr ? v[0].begin : 0;
	for (size_t i = 0; i < n; i++) {
		if (want[i])
			continue;
		for (;;) {
			while (ri < nr && cur > v[ri].end) {
				ri++;
				if (ri < nr && cur < v[ri].begin)
					cur = v[ri].begin;
			}
			if (ri == nr || cur > 65535 || cur == 0) {
				if (ri < nr && cur == 0) {
					cur++;
					continue;
				}
				ret = -ENOSPC;
				goto out;
			}
			if (in_list(want, n, (uint32_t)cur)) {
				cur++;
				continue;
			}
			break;
		}
		got[i] = (uint32_t)cur++;
	}
out:
	free(v);
	return ret;
}
