/* Mesos Resource / Attribute JSON conversion, DRF shares, base64 (see mesos-resources.h). */
#include "model/mesos-resources.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *entry_role(const json_t *e)
{
	const char *role = json_string_value(json_object_get(e, "role"));
	if (role)
		return role;
	const json_t *rs = json_object_get(e, "reservations");
	size_t n = json_array_size(rs);
	if (n) {
		role = json_string_value(json_object_get(json_array_get(rs, n - 1), "role"));
		if (role)
			return role;
	}
	return "*";
}

static int add_set(struct resources *out, const char *name, const char *role, const json_t *items,
		   size_t idx, char *err, size_t errlen)
{
	size_t n = json_array_size(items);
	if (n > RESOURCES_MAX_ITEMS)
		return fail(err, errlen, "resources[%zu]: more than %d set items", idx,
			    RESOURCES_MAX_ITEMS);
	struct resource one = { .name = (char *)name, .role = (char *)role, .type = RES_SET };
	one.items = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(items, i));
		if (!s) {
			free(one.items);
			return fail(err, errlen, "resources[%zu]: 'set.item' must hold strings", idx);
		}
		one.items[one.nitems++] = (char *)s;
	}
	struct resources tmp = { &one, 1 };
	resources_add(out, &tmp);
	free(one.items);
	return 0;
}

static int add_entry(struct resources *out, const json_t *e, size_t idx, char *err,
		     size_t errlen)
{
	if (!json_is_object(e))
		return fail(err, errlen, "resources[%zu]: expected an object", idx);
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *type = json_string_value(json_object_get(e, "type"));
	if (!name || !*name || strlen(name) > RESOURCES_MAX_NAME)
		return fail(err, errlen, "resources[%zu]: 'name' must be a non-empty string", idx);
	if (!type)
		return fail(err, errlen, "resources[%zu]: 'type' is required", idx);
	const char *role = entry_role(e);
	if (!resources_role_valid(role))
		return fail(err, errlen, "resources[%zu]: invalid role '%s'", idx, role);
	/* A name keeps one type in a struct resources; a clash is invalid input. */
	for (size_t i = 0; i < out->n; i++) {
		if (strcmp(out->v[i].name, name))
			continue;
		enum res_type t = out->v[i].type;
		const char *want = t == RES_SCALAR ? "SCALAR" : t == RES_RANGES ? "RANGES" : "SET";
		if (strcmp(type, want))
			return fail(err, errlen, "resources[%zu]: '%s' used as %s and %s", idx, name,
				    want, type);
	}
	if (!strcmp(type, "SCALAR")) {
		const json_t *v = json_object_get(json_object_get(e, "scalar"), "value");
		double d = json_number_value(v);
		if (!json_is_number(v) || !isfinite(d) || d < 0 || d > RESOURCES_MAX_SCALAR)
			return fail(err, errlen,
				    "resources[%zu]: 'scalar.value' must be a finite number >= 0", idx);
		resources_add_scalar(out, name, role, d);
		return 0;
	}
	if (!strcmp(type, "RANGES")) {
		const json_t *rs = json_object_get(json_object_get(e, "ranges"), "range");
		if (rs && !json_is_array(rs))
			return fail(err, errlen, "resources[%zu]: 'ranges.range' must be an array",
				    idx);
		if (json_array_size(rs) > RESOURCES_MAX_RANGES)
			return fail(err, errlen, "resources[%zu]: more than %d ranges", idx,
				    RESOURCES_MAX_RANGES);
		size_t i;
		const json_t *r;
		json_array_foreach(rs, i, r) {
			const json_t *b = json_object_get(r, "begin"), *en = json_object_get(r, "end");
			if (!json_is_integer(b) || !json_is_integer(en) || json_integer_value(b) < 0 ||
			    json_integer_value(en) < json_integer_value(b))
				return fail(err, errlen,
					    "resources[%zu]: range %zu needs integers 0 <= begin <= end",
					    idx, i);
			resources_add_range(out, name, role, (uint64_t)json_integer_value(b),
					    (uint64_t)json_integer_value(en));
		}
		return 0;
	}
	if (!strcmp(type, "SET")) {
		const json_t *items = json_object_get(json_object_get(e, "set"), "item");
		if (items && !json_is_array(items))
			return fail(err, errlen, "resources[%zu]: 'set.item' must be an array", idx);
		return add_set(out, name, role, items, idx, err, errlen);
	}
	return fail(err, errlen, "resources[%zu]: unsupported type '%s'", idx, type);
}

int mesos_resources_from_json(const json_t *arr, struct resources *out, char *err,
			      size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return fail(err, errlen, "'resources' must be an array");
	if (json_array_size(arr) > RESOURCES_MAX_ENTRIES)
		return fail(err, errlen, "more than %d resources", RESOURCES_MAX_ENTRIES);
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e) {
		int r = add_entry(out, e, i, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

json_t *mesos_resources_to_json(const struct resources *r, const char *alloc_role,
				bool refinement)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *e = &r->v[i];
		json_t *o = json_pack("{s:s, s:s}", "name", e->name, "role", e->role);
		switch (e->type) {
		case RES_SCALAR:
			json_object_set_new(o, "type", json_string("SCALAR"));
			json_object_set_new(o, "scalar", json_pack("{s:f}", "value", e->scalar));
			break;
		case RES_RANGES: {
			json_t *rs = json_array();
			for (size_t k = 0; k < e->nranges; k++)
				json_array_append_new(rs, json_pack("{s:I, s:I}", "begin",
								    (json_int_t)e->ranges[k].begin,
								    "end",
								    (json_int_t)e->ranges[k].end));
			json_object_set_new(o, "type", json_string("RANGES"));
			json_object_set_new(o, "ranges", json_pack("{s:o}", "range", rs));
			break;
		}
		case RES_SET: {
			json_t *items = json_array();
			for (size_t k = 0; k < e->nitems; k++)
				json_array_append_new(items, json_string(e->items[k]));
			json_object_set_new(o, "type", json_string("SET"));
			json_object_set_new(o, "set", json_pack("{s:o}", "item", items));
			break;
		}
		}
		if (refinement && strcmp(e->role, "*"))
			json_object_set_new(o, "reservations",
					    json_pack("[{s:s, s:s}]", "type", "STATIC", "role",
						      e->role));
		if (alloc_role)
			json_object_set_new(o, "allocation_info", json_pack("{s:s}", "role", alloc_role));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *attr_ranges(const char *text)
{
	struct res_range *v = NULL;
	size_t n = 0;
	char err[128];
	json_t *rs = json_array();
	if (resources_ranges_parse(text, &v, &n, err, sizeof(err)) == 0)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(rs, json_pack("{s:I, s:I}", "begin",
							    (json_int_t)v[i].begin, "end",
							    (json_int_t)v[i].end));
	free(v);
	return json_pack("{s:o}", "range", rs);
}

static json_t *attr_set(const char *text)
{
	json_t *items = json_array();
	size_t len = strlen(text);
	if (len >= 2 && text[0] == '{' && text[len - 1] == '}') {
		const char *p = text + 1, *end = text + len - 1;
		while (p < end) {
			const char *c = memchr(p, ',', (size_t)(end - p));
			const char *stop = c ? c : end;
			while (p < stop && *p == ' ')
				p++;
			const char *q = stop;
			while (q > p && q[-1] == ' ')
				q--;
			if (q > p) {
				char *s = xstrndup(p, (size_t)(q - p));
				json_array_append_new(items, json_string(s));
				free(s);
			}
			p = stop + 1;
		}
	}
	return json_pack("{s:o}", "item", items);
}

json_t *mesos_attributes_to_json(const struct attributes *a)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < a->n; i++) {
		const struct attribute *at = &a->v[i];
		json_t *o = json_pack("{s:s}", "name", at->name);
		switch (at->type) {
		case ATTR_SCALAR:
			json_object_set_new(o, "type", json_string("SCALAR"));
			json_object_set_new(o, "scalar", json_pack("{s:f}", "value", at->scalar));
			break;
		case ATTR_RANGES:
			json_object_set_new(o, "type", json_string("RANGES"));
			json_object_set_new(o, "ranges", attr_ranges(at->text));
			break;
		case ATTR_SET:
			json_object_set_new(o, "type", json_string("SET"));
			json_object_set_new(o, "set", attr_set(at->text));
			break;
		case ATTR_TEXT:
			json_object_set_new(o, "type", json_string("TEXT"));
			json_object_set_new(o, "text", json_pack("{s:s}", "value", at->text));
			break;
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

double mesos_drf_share(const struct resources *alloc, const struct resources *total)
{
	static const char *const kinds[] = { "cpus", "mem", "disk", "gpus" };
	double best = 0;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		double t = resources_scalar(total, kinds[i], NULL);
		if (t <= 0)
			continue;
		double s = resources_scalar(alloc, kinds[i], NULL) / t;
		if (s > best)
			best = s;
	}
	return best;
}

static int drf_cmp(const void *pa, const void *pb)
{
	const struct drf_entry *a = pa, *b = pb;
	if (a->share < b->share)
		return -1;
	if (a->share > b->share)
		return 1;
	return strcmp(a->id, b->id);
}

void mesos_drf_sort(struct drf_entry *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), drf_cmp);
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int mesos_b64_encode(const void *in, size_t n, char *out, size_t outlen)
{
	const unsigned char *p = in;
	size_t need = (n + 2) / 3 * 4;
	if (outlen <= need)
		return -E2BIG;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

int mesos_b64_decode(const char *in, void *out, size_t cap)
{
	size_t len = strlen(in);
	if (len % 4)
		return -EINVAL;
	unsigned char *o = out;
	size_t n = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = in[i + k];
			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				return -EINVAL; /* data after padding */
			v[k] = b64_val(c);
			if (v[k] < 0)
				return -EINVAL;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		size_t nb = 3 - (size_t)pad;
		if (n + nb > cap)
			return -E2BIG;
		o[n++] = (unsigned char)(w >> 16);
		if (nb > 1)
			o[n++] = (unsigned char)(w >> 8);
		if (nb > 2)
			o[n++] = (unsigned char)w;
	}
	return (int)n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mesos_uuid_parse(const char *text, unsigned char out[16])
{
	if (strlen(text) != 36)
		return -EINVAL;
	size_t o = 0;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-')
				return -EINVAL;
			i++;
			continue;
		}
		int hi = hexval(text[i]), lo = hexval(text[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[o++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

int mesos_uuid_b64(const char *text, char out[25])
{
	unsigned char b[16];
	if (mesos_uuid_parse(text, b) < 0)
		return -EINVAL;
	return mesos_b64_encode(b, sizeof(b), out, 25) < 0 ? -EINVAL : 0;
}
