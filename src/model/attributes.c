/* Agent attributes: 'rack:3;dc:east;zones:[1-3];disks:{ssd,hdd}'.
 * Each attribute keeps the text constraints compare against (reference/compat.md §3.3),
 * computed once here so that placement never reformats. Names are unique. */
#include "model/attributes.h"

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

void attributes_init(struct attributes *a)
{
	a->v = NULL;
	a->n = 0;
}

void attributes_release(struct attributes *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].text);
	}
	free(a->v);
	attributes_init(a);
}

void attributes_copy(struct attributes *dst, const struct attributes *src)
{
	dst->n = src->n;
	dst->v = src->n ? xcalloc(src->n, sizeof(*dst->v)) : NULL;
	for (size_t i = 0; i < src->n; i++) {
		dst->v[i] = src->v[i];
		dst->v[i].name = xstrdup(src->v[i].name);
		dst->v[i].text = xstrdup(src->v[i].text);
	}
}


static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > ATTRIBUTES_MAX_NAME)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-./@", *s))
			return false;
	return true;
}

static bool is_number(const char *s)
{
	double d;
	if (!(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1])) ||
	      s[0] == '.'))
		return false;
	return strspn(s, "0123456789.eE+-") == strlen(s) && parse_double(s, &d) == 0 &&
	       isfinite(d);
}

/* Text for a "{a,b}" set: items trimmed, empty ones refused. */
static int set_text(const char *name, const char *val, char **out, char *err, size_t errlen)
{
	size_t len = strlen(val);
	if (len < 2 || val[len - 1] != '}')
		return text_fail(err, errlen, "attribute '%s': '%s' is not a set '{a,b}'", name, val);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addch(&sb, '{');
	const char *p = val + 1, *end = val + len - 1;
	char *inner = text_trim_dup(p, end);
	bool empty = !*inner;
	free(inner);
	size_t n = 0;
	while (!empty && p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		char *item = text_trim_dup(p, stop);
		if (!*item || strpbrk(item, "{}")) {
			text_fail(err, errlen, "attribute '%s': '%s' is not a set '{a,b}'", name, val);
			free(item);
			strbuf_release(&sb);
			return -EINVAL;
		}
		strbuf_addf(&sb, "%s%s", n++ ? "," : "", item);
		free(item);
		if (!comma)
			break;
		p = comma + 1;
	}
	strbuf_addch(&sb, '}');
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

static int parse_one(const char *t, struct attributes *out, char *err, size_t errlen)
{
	const char *colon = strchr(t, ':');
	if (!colon)
		return text_fail(err, errlen, "'%s' is not 'name:value'", t);
	_cleanup_free_ char *name = text_trim_dup(t, colon);
	_cleanup_free_ char *val = text_trim_dup(colon + 1, colon + strlen(colon));
	if (!*name)
		return text_fail(err, errlen, "'%s': the attribute name is empty", t);
	if (!name_ok(name))
		return text_fail(err, errlen, "'%s' is not a valid attribute name", name);
	if (!*val)
		return text_fail(err, errlen, "attribute '%s': the value is empty", name);
	if (attributes_get(out, name))
		return text_fail(err, errlen, "attribute '%s' is given twice", name);
	if (out->n >= ATTRIBUTES_MAX)
		return text_fail(err, errlen, "more than %d attributes", ATTRIBUTES_MAX);

	struct attribute at = { .name = NULL };
	if (val[0] == '[') {
		struct res_range *v;
		size_t n;
		char sub[256];
		if (resources_ranges_parse(val, &v, &n, sub, sizeof(sub)) < 0)
			return text_fail(err, errlen, "attribute '%s': %s", name, sub);
		struct strbuf sb = STRBUF_INIT;
		strbuf_addch(&sb, '[');
		for (size_t i = 0; i < n; i++)
			strbuf_addf(&sb, "%s%llu-%llu", i ? "," : "",
				    (unsigned long long)v[i].begin, (unsigned long long)v[i].end);
		strbuf_addch(&sb, ']');
		free(v);
		at.type = ATTR_RANGES;
		at.text = strbuf_detach(&sb, NULL);
	} else if (val[0] == '{') {
		int r = set_text(name, val, &at.text, err, errlen);
		if (r < 0)
			return r;
		at.type = ATTR_SET;
	} else if (is_number(val)) {
		char num[32];
		parse_double(val, &at.scalar);
		resources_format_scalar(at.scalar, num);
		at.type = ATTR_SCALAR;
		at.text = xstrdup(num);
	} else {
		if (strpbrk(val, "[]{}"))
			return text_fail(err, errlen, "attribute '%s': '%s' is not a valid value", name,
				    val);
		at.type = ATTR_TEXT;
		at.text = xstrdup(val);
	}
	at.name = TAKE_PTR(name);
	out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	out->v[out->n++] = at;
	return 0;
}

int attributes_parse(const char *text, struct attributes *out, char *err, size_t errlen)
{
	attributes_release(out);
	if (err && errlen)
		err[0] = '\0';
	if (strlen(text) > ATTRIBUTES_MAX_TEXT)
		return text_fail(err, errlen, "attributes text longer than %d bytes",
			    ATTRIBUTES_MAX_TEXT);
	const char *p = text;
	while (*p) {
		const char *semi = strchr(p, ';');
		const char *stop = semi ? semi : p + strlen(p);
		char *t = text_trim_dup(p, stop);
		int r = *t ? parse_one(t, out, err, errlen) : 0;
		free(t);
		if (r < 0) {
			attributes_release(out);
			return r;
		}
		if (!semi)
			break;
		p = semi + 1;
	}
	return 0;
}

const struct attribute *attributes_get(const struct attributes *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].name, name))
			return &a->v[i];
	return NULL;
}

char *attributes_format(const struct attributes *a)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < a->n; i++)
		strbuf_addf(&sb, "%s%s:%s", i ? ";" : "", a->v[i].name, a->v[i].text);
	return strbuf_detach(&sb, NULL);
}
