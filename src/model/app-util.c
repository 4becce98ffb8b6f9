/* App ids (Marathon PathId), merges for partial updates, versions, task names and label
 * selectors: the small pure helpers around struct app. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "model/app.h"

/* One dot-separated label: [a-z0-9] with inner '-'. */
static bool label_ok(const char *s, size_t n)
{
	if (!n || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

bool app_id_segment_valid(const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!label_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* Resolves text against base into out; returns 0, -EINVAL (bad segment, name in *bad),
 * -ERANGE ("..", above the root) or -E2BIG (too long). */
int app_id_resolve(const char *text, const char *base, char *out, char *bad, size_t badlen)
{
	struct strbuf path = STRBUF_INIT;
	if (text[0] != '/') {
		strbuf_adds(&path, base && *base ? base : "/");
		strbuf_addch(&path, '/');
	}
	strbuf_adds(&path, text);
	const char *p = strbuf_str(&path);
	if (path.len > 4 * APP_MAX_ID_LEN) {
		strbuf_release(&path);
		return -E2BIG;
	}
	/* Segment start offsets into out, to pop on "..". */
	size_t stack[APP_MAX_ID_LEN + 1], depth = 0, len = 0;
	int r = 0;
	out[0] = '\0';
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* stays */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (!depth) {
				r = -ERANGE;
				break;
			}
			len = stack[--depth];
			out[len] = '\0';
		} else if (!app_id_segment_valid(p, n)) {
			if (bad && badlen)
				snprintf(bad, badlen, "%.*s", (int)(n < 200 ? n : 200), p);
			r = -EINVAL;
			break;
		} else {
			if (len + 1 + n > APP_MAX_ID_LEN) {
				r = -E2BIG;
				break;
			}
			stack[depth++] = len;
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p += n;
	}
	strbuf_release(&path);
	if (r == 0 && !len) {
		out[0] = '/';
		out[1] = '\0';
	}
	return r;
}

int app_id_canonical(const char *text, const char *base, char *out, char *err, size_t errlen)
{
	char bad[256] = "";
	if (!*text) {
		snprintf(err, errlen, "the id is empty");
		return -EINVAL;
	}
	int r = app_id_resolve(text, base, out, bad, sizeof(bad));
	switch (r) {
	case 0:
		return 0;
	case -EINVAL:
		snprintf(err, errlen,
			 "'%s' is not a valid path: segments are lower-case letters, digits, '-' "
			 "and '.'",
			 bad);
		break;
	case -ERANGE:
		snprintf(err, errlen, "'%.200s' goes above the root group", text);
		break;
	default:
		snprintf(err, errlen, "the id is longer than %d characters", APP_MAX_ID_LEN);
		break;
	}
	return -EINVAL;
}

json_t *app_merge(const json_t *old, const json_t *patch)
{
	json_t *m = json_deep_copy(old);
	if (!json_is_object(m)) {
		json_decref(m);
		m = json_object();
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)patch, k, v) {
		/* null in a partial update means "not given", as in Marathon's AppUpdate. */
		if (json_is_null(v))
			continue;
		json_object_set_new(m, k, json_deep_copy(v));
	}
	return m;
}

void app_set_version(struct app *a, uint64_t real_usec, bool config_change,
		     const char *last_config_change_at)
{
	time_iso8601(real_usec, a->version);
	const char *cfg = config_change || !last_config_change_at ? a->version
								   : last_config_change_at;
	json_object_set_new(a->json, "version", json_string(a->version));
	json_object_set_new(a->json, "versionInfo",
			    json_pack("{s:s, s:s}", "lastScalingAt", a->version,
				      "lastConfigChangeAt", cfg));
}

/* Deep equality that compares numbers by value (1 equals 1.0). */
static bool json_same(const json_t *x, const json_t *y)
{
	if (json_is_number(x) && json_is_number(y))
		return json_number_value(x) == json_number_value(y);
	if (json_typeof(x) != json_typeof(y))
		return false;
	if (json_is_array(x)) {
		if (json_array_size(x) != json_array_size(y))
			return false;
		for (size_t i = 0; i < json_array_size(x); i++)
			if (!json_same(json_array_get(x, i), json_array_get(y, i)))
				return false;
		return true;
	}
	if (json_is_object(x)) {
		if (json_object_size(x) != json_object_size(y))
			return false;
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)x, k, v) {
			json_t *w = json_object_get(y, k);
			if (!w || !json_same(v, w))
				return false;
		}
		return true;
	}
	return json_equal((json_t *)x, (json_t *)y);
}

static bool ignored_key(const char *k)
{
	return !strcmp(k, "instances") || !strcmp(k, "version") || !strcmp(k, "versionInfo");
}

bool app_config_differs(const struct app *a, const struct app *b)
{
	const char *k;
	json_t *v;
	json_object_foreach(a->json, k, v) {
		if (ignored_key(k))
			continue;
		json_t *w = json_object_get(b->json, k);
		if (!w || !json_same(v, w))
			return true;
	}
	json_object_foreach(b->json, k, v) {
		if (!ignored_key(k) && !json_object_get(a->json, k))
			return true;
	}
	return false;
}

void app_task_name(const char *app_id, char *out)
{
	size_t len = strlen(app_id), o = 0;
	size_t end = len;
	out[0] = '\0';
	/* Walk segments from the right. */
	while (end > 0) {
		size_t start = end;
		while (start > 0 && app_id[start - 1] != '/')
			start--;
		size_t n = end - start;
		if (n) {
			if (o && o < APP_MAX_ID_LEN)
				out[o++] = '.';
			if (o + n > APP_MAX_ID_LEN)
				n = APP_MAX_ID_LEN - o;
			memcpy(out + o, app_id + start, n);
			o += n;
		}
		end = start ? start - 1 : 0;
	}
	out[o] = '\0';
}

/* ---- label selectors ----
 * term := key | key "==" value | key "!=" value | key ("in"|"notin") "(" v ("," v)* ")"
 * terms are joined by ','; '\' escapes the next character in keys and values. Every
 * selector needs the key present (Marathon's LabelSelector). */

#define SEL_MAX_VALUES 64
#define SEL_MAX_TOKEN 1024

struct sel_term {
	char key[SEL_MAX_TOKEN];
	enum { SEL_EXISTS, SEL_EQ, SEL_NE, SEL_IN, SEL_NOTIN } op;
	char values[SEL_MAX_VALUES][SEL_MAX_TOKEN];
	size_t nvalues;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads a token up to an unescaped character in stops; 0 or -EINVAL. */
static int read_token(const char **pp, const char *stops, char *out)
{
	const char *p = skip_ws(*pp);
	size_t n = 0;
	while (*p && !strchr(stops, *p)) {
		if (*p == '\\' && p[1])
			p++;
		if (n + 1 >= SEL_MAX_TOKEN)
			return -EINVAL;
		out[n++] = *p++;
	}
	out[n] = '\0';
	*pp = p;
	return n ? 0 : -EINVAL;
}

/* Parses one term at *pp (up to ',' or end). */
static int parse_term(const char **pp, struct sel_term *t)
{
	const char *p = *pp;
	t->nvalues = 0;
	if (read_token(&p, " \t=!,(", t->key) < 0)
		return -EINVAL;
	p = skip_ws(p);
	if (!*p || *p == ',') {
		t->op = SEL_EXISTS;
	} else if (p[0] == '=' && p[1] == '=') {
		t->op = SEL_EQ;
		p += 2;
	} else if (p[0] == '!' && p[1] == '=') {
		t->op = SEL_NE;
		p += 2;
	} else if (!strncmp(p, "in", 2) && (p[2] == ' ' || p[2] == '(')) {
		t->op = SEL_IN;
		p += 2;
	} else if (!strncmp(p, "notin", 5) && (p[5] == ' ' || p[5] == '(')) {
		t->op = SEL_NOTIN;
		p += 5;
	} else {
		return -EINVAL;
	}
	if (t->op == SEL_EQ || t->op == SEL_NE) {
		if (read_token(&p, ", \t", t->values[0]) < 0)
			return -EINVAL;
		t->nvalues = 1;
	} else if (t->op == SEL_IN || t->op == SEL_NOTIN) {
		p = skip_ws(p);
		if (*p != '(')
			return -EINVAL;
		p++;
		for (;;) {
			if (t->nvalues == SEL_MAX_VALUES ||
			    read_token(&p, ",) \t", t->values[t->nvalues]) < 0)
				return -EINVAL;
			t->nvalues++;
			p = skip_ws(p);
			if (*p == ')')
				break;
			if (*p != ',')
				return -EINVAL;
			p++;
		}
		p++;
	}
	p = skip_ws(p);
	if (*p && *p != ',')
		return -EINVAL;
	*pp = p;
	return 0;
}

static bool term_matches(const struct sel_term *t, const json_t *labels)
{
	const json_t *jv = json_is_object(labels) ? json_object_get(labels, t->key) : NULL;
	if (!jv)
		return false;
	const char *v = json_is_string(jv) ? json_string_value(jv) : "";
	bool in = false;
	for (size_t i = 0; i < t->nvalues; i++)
		if (!strcmp(v, t->values[i]))
			in = true;
	switch (t->op) {
	case SEL_EXISTS:
		return true;
	case SEL_EQ:
	case SEL_IN:
		return in;
	case SEL_NE:
	case SEL_NOTIN:
		return !in;
	}
	return false;
}

int app_label_selector_match(const char *selector, const json_t *labels)
{
	if (strlen(selector) > 8192)
		return -EINVAL;
	struct sel_term *t = xmalloc(sizeof(*t));
	const char *p = skip_ws(selector);
	int r = *p ? 1 : -EINVAL;
	while (*p && r >= 0) {
		if (parse_term(&p, t) < 0) {
			r = -EINVAL;
			break;
		}
		if (!term_matches(t, labels))
			r = 0; /* keep parsing: a bad selector is bad whatever the labels */
		if (*p == ',') {
			p = skip_ws(p + 1);
			if (!*p)
				r = -EINVAL;
		}
	}
	free(t);
	return r;
}
