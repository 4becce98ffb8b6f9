/* Unit tests for base/metrics: arithmetic, buckets, labels, the series cap, and both
 * renderers — the JSON checked by jansson, the text by a strict Prometheus 0.0.4 parser
 * written here (which is itself tested against malformed inputs). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/metrics.h"

/* ---- a fake clock ---- */

static uint64_t fake_now = 1000000000;
static uint64_t fake_clock(void) { return fake_now; }

/* ---- strict Prometheus text format parser ---- */

#define P_MAX_FAMILIES 256
#define P_MAX_HIST 4096

struct p_family {
	char name[128];
	const char *type; /* one of types[] below, NULL before its TYPE line */
	bool has_help, has_type, had_samples, closed;
};

struct p_hist { /* one histogram series (its labels without le) */
	char key[1200];
	double last_le;
	double last_cum;
	bool has_inf, has_sum, has_count;
	double inf_cum, count;
	int nbuckets;
};

struct p_state {
	struct p_family fams[P_MAX_FAMILIES];
	int nfams;
	int cur; /* family whose samples are being read, -1 none */
	struct p_hist hist[P_MAX_HIST];
	int nhist;
	char seen[P_MAX_HIST][1024]; /* series seen (name{labels}) */
	int nseen;
	char err[256];
	int nsamples;
};

static int p_fail(struct p_state *st, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(st->err, sizeof(st->err), "line %d: ", line);
	vsnprintf(st->err + n, sizeof(st->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool p_name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':'))
		return true;
	return !first && c >= '0' && c <= '9';
}

/* Reads a name at *p; returns its length (0 if none). */
static size_t p_name(const char *p, bool colon)
{
	size_t n = 0;
	while (p[n] && p_name_char(p[n], n == 0, colon))
		n++;
	return n;
}

static bool p_utf8_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned c = u[i];
		size_t l = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3
			 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
		if (!l || i + l > n)
			return false;
		for (size_t k = 1; k < l; k++)
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
		i += l;
	}
	return true;
}

static bool p_value(const char *s, double *v)
{
	if (!strcmp(s, "NaN")) { *v = NAN; return true; }
	if (!strcmp(s, "+Inf")) { *v = INFINITY; return true; }
	if (!strcmp(s, "-Inf")) { *v = -INFINITY; return true; }
	if (!*s || strchr(s, ' ') || !strcasecmp(s, "inf") || !strcasecmp(s, "nan") ||
	    strchr(s, 'x') || strchr(s, 'X'))
		return false;
	char *end;
	*v = strtod(s, &end);
	return *end == '\0';
}

static struct p_family *p_find(struct p_state *st, const char *name, size_t n)
{
	for (int i = 0; i < st->nfams; i++)
		if (strlen(st->fams[i].name) == n && !strncmp(st->fams[i].name, name, n))
			return &st->fams[i];
	return NULL;
}

static struct p_family *p_family_for(struct p_state *st, int ln, const char *name, size_t n)
{
	struct p_family *f = p_find(st, name, n);
	if (!f) {
		if (st->nfams == P_MAX_FAMILIES || n >= sizeof(f->name))
			return NULL;
		f = &st->fams[st->nfams++];
		memset(f, 0, sizeof(*f));
		memcpy(f->name, name, n);
		f->name[n] = '\0';
	}
	(void)ln;
	return f;
}

static int p_comment(struct p_state *st, int ln, const char *line)
{
	bool help = !strncmp(line, "# HELP ", 7);
	if (!help && strncmp(line, "# TYPE ", 7))
		return p_fail(st, ln, "comment that is neither HELP nor TYPE");
	const char *p = line + 7;
	size_t n = p_name(p, true);
	if (!n || (p[n] != ' ' && p[n] != '\0'))
		return p_fail(st, ln, "bad metric name in comment");
	struct p_family *f = p_family_for(st, ln, p, n);
	if (!f)
		return p_fail(st, ln, "too many families");
	if (f->had_samples)
		return p_fail(st, ln, "HELP/TYPE after samples of '%s'", f->name);
	const char *rest = p[n] ? p + n + 1 : p + n;
	if (help) {
		if (f->has_help)
			return p_fail(st, ln, "second HELP for '%s'", f->name);
		f->has_help = true;
		for (const char *q = rest; *q; q++)
			if (*q == '\\') {
				if (q[1] != '\\' && q[1] != 'n')
					return p_fail(st, ln, "bad escape in HELP");
				q++;
			}
		if (!p_utf8_ok(rest, strlen(rest)))
			return p_fail(st, ln, "HELP not UTF-8");
		return 0;
	}
	if (f->has_type)
		return p_fail(st, ln, "second TYPE for '%s'", f->name);
	static const char *const types[] = { "counter", "gauge", "histogram", "summary", "untyped" };
	const char *type = NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(rest, types[i]))
			type = types[i];
	if (!type)
		return p_fail(st, ln, "bad TYPE '%s'", rest);
	f->has_type = true;
	f->type = type;
	return 0;
}

static struct p_hist *p_hist_get(struct p_state *st, const char *key)
{
	for (int i = 0; i < st->nhist; i++)
		if (!strcmp(st->hist[i].key, key))
			return &st->hist[i];
	if (st->nhist == P_MAX_HIST)
		return NULL;
	struct p_hist *h = &st->hist[st->nhist++];
	memset(h, 0, sizeof(*h));
	snprintf(h->key, sizeof(h->key), "%s", key);
	h->last_le = -INFINITY;
	return h;
}

static bool p_suffix(const char *name, size_t n, const char *base, const char *suf)
{
	size_t bl = strlen(base), sl = strlen(suf);
	return n == bl + sl && !strncmp(name, base, bl) && !strncmp(name + bl, suf, sl);
}

static int p_sample(struct p_state *st, int ln, const char *line)
{
	const char *p = line;
	size_t n = p_name(p, true);
	if (!n)
		return p_fail(st, ln, "bad metric name");
	const char *name = p;
	p += n;

	/* Labels: key (without le) and le. */
	char key[1024] = "";
	size_t klen = 0;
	char le[64] = "";
	bool has_le = false;
	char lnames[16][64];
	int nl = 0;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t ln_len = p_name(p, false);
			if (!ln_len || ln_len >= 64 || p[ln_len] != '=' || p[ln_len + 1] != '"')
				return p_fail(st, ln, "bad label name");
			if (!strncmp(p, "__", 2))
				return p_fail(st, ln, "reserved label name");
			if (nl == 16)
				return p_fail(st, ln, "too many labels");
			memcpy(lnames[nl], p, ln_len);
			lnames[nl][ln_len] = '\0';
			for (int i = 0; i < nl; i++)
				if (!strcmp(lnames[i], lnames[nl]))
					return p_fail(st, ln, "duplicate label '%s'", lnames[nl]);
			bool is_le = !strcmp(lnames[nl], "le");
			nl++;
			const char *vstart = p + ln_len + 2;
			const char *q = vstart;
			char val[1024];
			size_t vl = 0;
			for (;;) {
				if (*q == '\0')
					return p_fail(st, ln, "unterminated label value");
				if (*q == '"')
					break;
				char c = *q;
				if (c == '\\') {
					q++;
					if (*q == 'n') c = '\n';
					else if (*q == '\\') c = '\\';
					else if (*q == '"') c = '"';
					else return p_fail(st, ln, "bad escape in label value");
				}
				if (vl + 1 >= sizeof(val))
					return p_fail(st, ln, "label value too long");
				val[vl++] = c;
				q++;
			}
			val[vl] = '\0';
			if (!p_utf8_ok(val, vl))
				return p_fail(st, ln, "label value not UTF-8");
			if (is_le) {
				if (vl >= sizeof(le))
					return p_fail(st, ln, "le too long");
				memcpy(le, val, vl + 1);
				has_le = true;
			} else {
				int w = snprintf(key + klen, sizeof(key) - klen, "%s%.*s", klen ? "," : "",
						 (int)(q - p + 1), p);
				if (w < 0 || (size_t)w >= sizeof(key) - klen)
					return p_fail(st, ln, "labels too long");
				klen += (size_t)w;
			}
			p = q + 1;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return p_fail(st, ln, "expected ',' or '}' after label");
		}
		p++;
	}
	if (*p != ' ')
		return p_fail(st, ln, "expected one space before the value");
	p++;
	double v;
	if (!p_value(p, &v))
		return p_fail(st, ln, "bad value '%s' (timestamps are not expected)", p);

	/* Which family? */
	if (st->cur < 0)
		return p_fail(st, ln, "sample before any TYPE");
	struct p_family *f = &st->fams[st->cur];
	bool hist = f->type && !strcmp(f->type, "histogram");
	const char *suffix = "";
	if (p_suffix(name, n, f->name, ""))
		suffix = "";
	else if (hist && p_suffix(name, n, f->name, "_bucket"))
		suffix = "_bucket";
	else if (hist && p_suffix(name, n, f->name, "_sum"))
		suffix = "_sum";
	else if (hist && p_suffix(name, n, f->name, "_count"))
		suffix = "_count";
	else
		return p_fail(st, ln, "sample '%.*s' outside its family's block", (int)n, name);
	if (hist && !*suffix)
		return p_fail(st, ln, "bare sample in a histogram");
	f->had_samples = true;
	st->nsamples++;

	/* Duplicate series. */
	char sid[1024];
	snprintf(sid, sizeof(sid), "%.*s{%s|%s}", (int)n, name, key, le);
	for (int i = 0; i < st->nseen; i++)
		if (!strcmp(st->seen[i], sid))
			return p_fail(st, ln, "duplicate series %s", sid);
	if (st->nseen < P_MAX_HIST)
		memcpy(st->seen[st->nseen++], sid, sizeof(sid));

	if (f->type && !strcmp(f->type, "counter") && !(v >= 0))
		return p_fail(st, ln, "negative or NaN counter");
	if (has_le && strcmp(suffix, "_bucket"))
		return p_fail(st, ln, "le outside a bucket");
	if (!hist)
		return 0;
	char hkey[1100];
	snprintf(hkey, sizeof(hkey), "%s{%s}", f->name, key);
	struct p_hist *h = p_hist_get(st, hkey);
	if (!h)
		return p_fail(st, ln, "too many histogram series");
	if (!strcmp(suffix, "_bucket")) {
		double lev;
		if (!has_le || !p_value(le, &lev) || isnan(lev))
			return p_fail(st, ln, "bucket without a valid le");
		if (h->has_inf || h->has_sum || h->has_count)
			return p_fail(st, ln, "bucket after +Inf/_sum/_count");
		if (!(lev > h->last_le))
			return p_fail(st, ln, "le not increasing");
		if (v < h->last_cum || v != floor(v))
			return p_fail(st, ln, "bucket counts not cumulative integers");
		h->last_le = lev;
		h->last_cum = v;
		h->nbuckets++;
		if (isinf(lev)) {
			h->has_inf = true;
			h->inf_cum = v;
		}
	} else if (!strcmp(suffix, "_sum")) {
		if (h->has_sum)
			return p_fail(st, ln, "second _sum");
		h->has_sum = true;
	} else {
		if (h->has_count)
			return p_fail(st, ln, "second _count");
		h->has_count = true;
		h->count = v;
	}
	return 0;
}

/* Returns the number of samples, or -1 with st->err set. */
static int prom_parse(struct p_state *st, const char *text)
{
	memset(st, 0, sizeof(*st));
	st->cur = -1;
	size_t len = strlen(text);
	if (len && text[len - 1] != '\n')
		return p_fail(st, 0, "no final newline");
	int ln = 0;
	const char *p = text;
	while (*p) {
		ln++;
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p);
		char line[4096];
		if (n >= sizeof(line))
			return p_fail(st, ln, "line too long");
		memcpy(line, p, n);
		line[n] = '\0';
		if (memchr(p, '\r', n) || memchr(p, '\0', n))
			return p_fail(st, ln, "CR in line");
		if (n == 0)
			return p_fail(st, ln, "empty line");
		if (line[0] == '#') {
			if (p_comment(st, ln, line) < 0)
				return -1;
			const char *nm = line + 7;
			size_t nn = p_name(nm, true);
			struct p_family *f = p_find(st, nm, nn);
			int idx = (int)(f - st->fams);
			if (st->cur >= 0 && st->cur != idx)
				st->fams[st->cur].closed = true;
			if (f->closed)
				return p_fail(st, ln, "family '%s' split", f->name);
			st->cur = idx;
		} else if (p_sample(st, ln, line) < 0) {
			return -1;
		}
		p = nl + 1;
	}
	for (int i = 0; i < st->nfams; i++)
		if (!st->fams[i].has_type)
			return p_fail(st, ln, "family '%s' without TYPE", st->fams[i].name);
	for (int i = 0; i < st->nhist; i++) {
		struct p_hist *h = &st->hist[i];
		if (!h->has_inf || !h->has_sum || !h->has_count)
			return p_fail(st, ln, "histogram %s lacks +Inf, _sum or _count", h->key);
		if (h->inf_cum != h->count)
			return p_fail(st, ln, "histogram %s: +Inf bucket != _count", h->key);
	}
	return st->nsamples;
}

static struct p_state pst;

static void assert_prom_valid(const char *text)
{
	int r = prom_parse(&pst, text);
	if (r < 0)
		fail_msg("invalid Prometheus text: %s\n%s", pst.err, text);
}

/* ---- tests ---- */

static char *render_prom(struct metrics *m)
{
	struct strbuf sb = STRBUF_INIT;
	metrics_render_prometheus(m, &sb);
	return strbuf_detach(&sb, NULL);
}

static json_t *render_json(struct metrics *m)
{
	struct strbuf sb = STRBUF_INIT;
	metrics_render_json(m, &sb);
	json_error_t je;
	json_t *j = json_loads(strbuf_str(&sb), JSON_REJECT_DUPLICATES, &je);
	if (!j)
		fail_msg("invalid JSON (%s): %s", je.text, strbuf_str(&sb));
	strbuf_release(&sb);
	return j;
}

static void test_prom_parser_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"x 1\n",                                        /* no TYPE */
		"# TYPE x counter\nx 1",                        /* no final newline */
		"# TYPE x counter\nx -1\n",                     /* negative counter */
		"# TYPE x counter\nx{a=\"b\\t\"} 1\n",          /* bad escape */
		"# TYPE x counter\nx{a=\"b} 1\n",               /* unterminated */
		"# TYPE x counter\nx{a=\"1\",a=\"2\"} 1\n",     /* duplicate label */
		"# TYPE x counter\nx  1\n",                     /* two spaces */
		"# TYPE x counter\nx 1 123\n",                  /* timestamp */
		"# TYPE x counter\nx 1\nx 2\n",                 /* duplicate series */
		"# TYPE x counter\nx one\n",                    /* bad value */
		"# TYPE x gauge\n\nx 1\n",                      /* empty line */
		"# TYPE x foo\n",                               /* bad type */
		"# comment\n",                                  /* stray comment */
		"# TYPE 1x gauge\n",                            /* bad name */
		"# TYPE x gauge\n# TYPE y gauge\nx 1\n",        /* outside its block */
		"# TYPE x gauge\nx 1\n# HELP x late\n",         /* HELP after samples */
		"# HELP x a\\qb\n# TYPE x gauge\n",             /* bad HELP escape */
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", /* no +Inf */
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", /* +Inf != count */
		"# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
		"h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", /* le decreasing */
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
		"h_sum 1\nh_count 1\n",                         /* not cumulative */
		"# TYPE h histogram\nh 1\n",                    /* bare histogram sample */
		"# TYPE x gauge\nx{a=\"\xff\"} 1\n",            /* not UTF-8 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (prom_parse(&pst, bad[i]) >= 0)
			fail_msg("parser accepted bad input #%zu: %s", i, bad[i]);
	}
	assert_int_equal(prom_parse(&pst, "# HELP x a\\\\b\\n\n# TYPE x gauge\nx{a=\"q\\\"\\n\\\\\"} -1.5e-3\n"
					  "# TYPE h histogram\nh_bucket{le=\"0.5\"} 0\nh_bucket{le=\"+Inf\"} 1\n"
					  "h_sum 3\nh_count 1\n"), 5);
}

static void test_counter_gauge(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct metrics_series *c = metrics_counter(m, "berth_launches_total", "Launches");
	assert_non_null(c);
	metrics_counter_inc(c);
	metrics_counter_add(c, 41);
	metrics_counter_add(NULL, 5); /* no-op */
	assert_int_equal(metrics_series_count(c), 42);
	metrics_counter_add(c, UINT64_MAX - 42);
	assert_true(metrics_series_count(c) == UINT64_MAX);

	struct metrics_series *g = metrics_gauge(m, "berth_agents", NULL);
	metrics_gauge_set(g, 3);
	metrics_gauge_add(g, -0.5);
	assert_true(metrics_series_value(g) == 2.5);
	metrics_gauge_set(NULL, 1);

	char *txt = render_prom(m);
	assert_non_null(strstr(txt, "# HELP berth_launches_total Launches\n"
				    "# TYPE berth_launches_total counter\n"
				    "berth_launches_total 18446744073709551615\n"));
	assert_non_null(strstr(txt, "# TYPE berth_agents gauge\nberth_agents 2.5\n"));
	assert_null(strstr(txt, "# HELP berth_agents"));
	assert_prom_valid(txt);
	free(txt);
	metrics_free(m);
	metrics_free(NULL);
}

static double sample_fn(void *ctx) { return *(double *)ctx * 2; }

static void test_gauge_fn_and_specials(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct metrics_series *g = metrics_gauge(m, "g", "x");
	double v = 21;
	metrics_gauge_set_fn(g, sample_fn, &v);
	assert_true(metrics_series_value(g) == 42);
	v = 0.1;
	char *txt = render_prom(m);
	assert_non_null(strstr(txt, "\ng 0.2\n"));
	free(txt);
	metrics_gauge_set_fn(g, NULL, NULL);
	metrics_gauge_set(g, NAN);
	struct metrics_series *g2 = metrics_gauge(m, "g2", "x");
	metrics_gauge_set(g2, -INFINITY);
	txt = render_prom(m);
	assert_non_null(strstr(txt, "\ng NaN\n"));
	assert_non_null(strstr(txt, "\ng2 -Inf\n"));
	assert_prom_valid(txt);
	free(txt);
	struct metrics_family *gf;
	assert_int_equal(metrics_family_new(m, METRICS_GAUGE, "g3", NULL, "k", NULL, &gf), 0);
	metrics_gauge_set(metrics_series_getv(gf, "a"), 4);
	metrics_family_zero(gf);
	metrics_family_zero(NULL);
	assert_true(metrics_series_value(metrics_series_getv(gf, "a")) == 0);
	json_t *j = render_json(m); /* NaN/Inf must stay valid JSON */
	assert_true(json_is_null(json_object_get(json_object_get(json_object_get(j, "gauges"), "g"), "value")));
	json_decref(j);
	metrics_free(m);
}

static void test_names(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct metrics_family *f;
	static const char *const bad_names[] = { "", "1abc", "a-b", "a b", "é", "a.b" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(metrics_family_new(m, METRICS_COUNTER, bad_names[i], NULL, NULL, NULL, &f),
				 -EINVAL);
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "ns:sub_x9", NULL, NULL, NULL, &f), 0);
	assert_int_equal(metrics_family_new(m, METRICS_GAUGE, "ns:sub_x9", NULL, NULL, NULL, &f), -EEXIST);
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "l1", NULL, "a,a", NULL, &f), -EINVAL);
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "l2", NULL, "__a", NULL, &f), -EINVAL);
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "l3", NULL, "a,", NULL, &f), -EINVAL);
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "l4", NULL, "a:b", NULL, &f), -EINVAL);
	assert_int_equal(metrics_family_new(m, METRICS_HISTOGRAM, "l5", NULL, "le", NULL, &f), -EINVAL);
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "l6", NULL, "le", NULL, &f), 0);
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "l7", NULL, "a,b,c,d,e,f,g,h,i", NULL, &f),
			 -EINVAL);
	struct metrics_opts o = { .lo_exp = 3, .hi_exp = 1 };
	assert_int_equal(metrics_family_new(m, METRICS_HISTOGRAM, "h1", NULL, NULL, &o, &f), -EINVAL);
	o = (struct metrics_opts){ .lo_exp = -10, .hi_exp = 10 }; /* 63 bounds: too many */
	assert_int_equal(metrics_family_new(m, METRICS_HISTOGRAM, "h2", NULL, NULL, &o, &f), -EINVAL);
	assert_null(metrics_family_get(m, "l1"));
	assert_non_null(metrics_family_get(m, "l6"));

	char buf[64];
	metrics_json_name("berth_http_requests_total", buf, sizeof(buf));
	assert_string_equal(buf, "berth.http.requests.total");
	metrics_json_name("a:b_c", buf, 4);
	assert_string_equal(buf, "a.b");
	metrics_free(m);
}

static void test_histogram_buckets(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct metrics_family *f;
	assert_int_equal(metrics_family_new(m, METRICS_HISTOGRAM, "h", "sizes", NULL, NULL, &f), 0);
	struct metrics_series *h = metrics_family_series0(f);
	/* default histogram bounds: 1,2,5 … 500000 */
	assert_int_equal(metrics_series_nbuckets(h), 18);
	assert_true(metrics_series_bound(h, 0) == 1);
	assert_true(metrics_series_bound(h, 17) == 500000);
	assert_true(isinf(metrics_series_bound(h, 18)));
	assert_int_equal(metrics_series_count(h), 0);
	assert_true(metrics_series_quantile(h, 0.5) == 0);

	metrics_histogram_observe(h, 2);       /* exactly on a bound: le="2" */
	metrics_histogram_observe(h, 2.0001);  /* next bucket: le="5" */
	metrics_histogram_observe(h, 1e9);     /* +Inf only */
	metrics_histogram_observe(h, NAN);     /* ignored */
	metrics_histogram_observe(h, -3);      /* first bucket */
	char *txt = render_prom(m);
	assert_non_null(strstr(txt, "h_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 2\nh_bucket{le=\"5\"} 3\n"));
	assert_non_null(strstr(txt, "h_bucket{le=\"500000\"} 3\nh_bucket{le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(txt, "h_count 4\n"));
	assert_prom_valid(txt);
	free(txt);
	metrics_free(m);

	/* timer bounds render short: 0.0001 … 500 */
	m = metrics_new();
	struct metrics_series *t = metrics_timer(m, "t_seconds", "lat");
	assert_int_equal(metrics_series_nbuckets(t), 21);
	metrics_timer_record_usec(t, 200); /* 0.0002 s, on a bound */
	txt = render_prom(m);
	assert_non_null(strstr(txt, "t_seconds_bucket{le=\"0.0001\"} 0\nt_seconds_bucket{le=\"0.0002\"} 1\n"));
	assert_non_null(strstr(txt, "t_seconds_bucket{le=\"500\"} 1\n"));
	assert_non_null(strstr(txt, "t_seconds_sum 0.0002\n"));
	assert_prom_valid(txt);
	free(txt);
	metrics_free(m);
}

static void test_histogram_stats(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct metrics_family *f;
	assert_int_equal(metrics_family_new(m, METRICS_HISTOGRAM, "h", NULL, NULL, NULL, &f), 0);
	struct metrics_series *h = metrics_family_series0(f);
	for (int i = 1; i <= 100; i++)
		metrics_histogram_observe(h, i);
	assert_int_equal(metrics_series_count(h), 100);
	assert_true(metrics_series_sum(h) == 5050);
	/* buckets 20 < v <= 50 hold 30 values: rank 50 lands at the top of that bucket */
	assert_true(fabs(metrics_series_quantile(h, 0.5) - 50) < 1e-9);
	assert_true(fabs(metrics_series_quantile(h, 0.99) - 99) < 1e-9);
	assert_true(metrics_series_quantile(h, 1) == 100);
	assert_true(metrics_series_quantile(h, 0) == 1);
	/* quantiles never leave [min, max] */
	assert_true(metrics_series_quantile(h, 0.999) <= 100);

	json_t *j = render_json(m);
	json_t *e = json_object_get(json_object_get(j, "histograms"), "h");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "count")), 100);
	assert_true(json_number_value(json_object_get(e, "min")) == 1);
	assert_true(json_number_value(json_object_get(e, "max")) == 100);
	assert_true(fabs(json_number_value(json_object_get(e, "mean")) - 50.5) < 1e-9);
	assert_true(fabs(json_number_value(json_object_get(e, "stddev")) - 29.011491975882) < 1e-6);
	static const char *const keys[] = { "p50", "p75", "p95", "p98", "p99", "p999" };
	double prev = 0;
	for (size_t i = 0; i < 6; i++) {
		json_t *q = json_object_get(e, keys[i]);
		assert_true(json_is_number(q));
		assert_true(json_number_value(q) >= prev);
		prev = json_number_value(q);
	}
	json_decref(j);
	metrics_free(m);
}

static void test_meter_ewma(void **state)
{
	(void)state;
	fake_now = 1000000000;
	struct metrics *m = metrics_new();
	metrics_set_clock(m, fake_clock);
	struct metrics_series *mt = metrics_meter(m, "berth_kills_total", "kills");
	metrics_meter_mark(mt, 60);
	metrics_tick(m); /* < 5 s: nothing */
	assert_true(metrics_series_rate(mt, 1) == 0);
	fake_now += METRICS_TICK_USEC;
	metrics_tick(m); /* first tick: rates start at the instant rate, 60 / 5 s */
	assert_true(fabs(metrics_series_rate(mt, 1) - 12) < 1e-9);
	assert_true(fabs(metrics_series_rate(mt, 15) - 12) < 1e-9);
	fake_now += METRICS_TICK_USEC;
	metrics_tick(m);
	double a1 = 1 - exp(-5.0 / 60.0), a5 = 1 - exp(-5.0 / 300.0);
	assert_true(fabs(metrics_series_rate(mt, 1) - 12 * (1 - a1)) < 1e-9);
	assert_true(fabs(metrics_series_rate(mt, 5) - 12 * (1 - a5)) < 1e-9);
	/* a minute without ticks catches up 12 intervals */
	fake_now += 12 * METRICS_TICK_USEC + 1000;
	metrics_tick(m);
	assert_true(fabs(metrics_series_rate(mt, 1) - 12 * pow(1 - a1, 13)) < 1e-9);
	assert_int_equal(metrics_series_count(mt), 60);
	assert_true(metrics_series_rate(mt, 7) == 0);

	json_t *j = render_json(m);
	json_t *e = json_object_get(json_object_get(j, "meters"), "berth.kills.total");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "count")), 60);
	assert_string_equal(json_string_value(json_object_get(e, "units")), "events/second");
	/* created at t0, now t0 + 70.001 s */
	assert_true(fabs(json_number_value(json_object_get(e, "mean_rate")) - 60 / 70.001) < 1e-9);
	json_decref(j);
	char *txt = render_prom(m);
	assert_non_null(strstr(txt, "# TYPE berth_kills_total counter\nberth_kills_total 60\n"));
	free(txt);
	metrics_free(m);
}

static void test_labels_escaping(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct metrics_family *f;
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "c_total", "help \\ with\nnewline",
					    "route,status", NULL, &f), 0);
	assert_null(metrics_family_series0(f));
	struct metrics_series *s;
	const char *v1[] = { "a\"b\\c\nd", "200" };
	assert_int_equal(metrics_series_get(f, v1, 2, &s), 0);
	metrics_counter_inc(s);
	struct metrics_series *again = metrics_series_getv(f, "a\"b\\c\nd", "200");
	assert_ptr_equal(s, again);
	assert_int_equal(metrics_series_get(f, v1, 1, &s), -EINVAL);
	const char *vnull[] = { "x", NULL };
	assert_int_equal(metrics_series_get(f, vnull, 2, &s), -EINVAL);
	/* invalid UTF-8 → '?', a valid multibyte char kept */
	struct metrics_series *u = metrics_series_getv(f, "\xff\xc3\xa9\xc3", "");
	metrics_counter_add(u, 2);
	/* a long value is cut at 256 bytes on a character boundary */
	char longv[600];
	memset(longv, 'x', 255);
	memcpy(longv + 255, "\xc3\xa9tail", 7);
	struct metrics_series *lg = metrics_series_getv(f, longv, "1");
	assert_non_null(lg);

	char *txt = render_prom(m);
	assert_non_null(strstr(txt, "# HELP c_total help \\\\ with\\nnewline\n"));
	assert_non_null(strstr(txt, "c_total{route=\"a\\\"b\\\\c\\nd\",status=\"200\"} 1\n"));
	assert_non_null(strstr(txt, "c_total{route=\"?\xc3\xa9?\",status=\"\"} 2\n"));
	char want[400];
	snprintf(want, sizeof(want), "c_total{route=\"%.255s\",status=\"1\"} 0\n", longv);
	assert_non_null(strstr(txt, want));
	assert_prom_valid(txt);
	free(txt);

	json_t *j = render_json(m);
	json_t *c = json_object_get(j, "counters");
	json_t *e = json_object_get(c, "c.total{route=\"a\\\"b\\\\c\\nd\",status=\"200\"}");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "count")), 1);
	assert_int_equal(json_object_size(c), 3);
	json_decref(j);
	metrics_free(m);
}

static void test_series_cap(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct metrics_family *f;
	struct metrics_opts o = { .max_series = 3 };
	assert_int_equal(metrics_family_new(m, METRICS_TIMER, "req_seconds", "x", "route,method", &o, &f), 0);
	char route[32];
	struct metrics_series *s;
	for (int i = 0; i < 3; i++) {
		snprintf(route, sizeof(route), "/r%d", i);
		const char *v[] = { route, "GET" };
		assert_int_equal(metrics_series_get(f, v, 2, &s), 0);
		metrics_timer_record_usec(s, 1000);
	}
	struct metrics_series *other = NULL;
	for (int i = 3; i < 10000; i++) {
		snprintf(route, sizeof(route), "/random/%d", i);
		const char *v[] = { route, "GET" };
		assert_int_equal(metrics_series_get(f, v, 2, &s), 1);
		if (other)
			assert_ptr_equal(s, other);
		other = s;
		metrics_timer_record_usec(s, 5000);
	}
	/* an existing combination is still found */
	const char *v0[] = { "/r0", "GET" };
	assert_int_equal(metrics_series_get(f, v0, 2, &s), 0);
	assert_int_equal(metrics_family_nseries(f), 4);
	assert_int_equal(metrics_series_count(other), 9997);
	char *txt = render_prom(m);
	assert_non_null(strstr(txt, "req_seconds_count{route=\"other\",method=\"other\"} 9997\n"));
	assert_prom_valid(txt);
	free(txt);
	metrics_free(m);

	/* the default cap */
	m = metrics_new();
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "c", NULL, "k", NULL, &f), 0);
	for (int i = 0; i < METRICS_MAX_SERIES + 50; i++) {
		snprintf(route, sizeof(route), "%d", i);
		metrics_counter_inc(metrics_series_getv(f, route));
	}
	assert_int_equal(metrics_family_nseries(f), METRICS_MAX_SERIES + 1);
	metrics_free(m);
}

/* A registry like the master's, rendered both ways. */
static void test_full_render(void **state)
{
	(void)state;
	fake_now = 5000000000;
	struct metrics *m = metrics_new();
	metrics_set_clock(m, fake_clock);
	struct metrics_family *req, *lat, *tasks;
	assert_int_equal(metrics_family_new(m, METRICS_COUNTER, "berth_http_requests_total",
					    "HTTP requests", "method,route,status", NULL, &req), 0);
	assert_int_equal(metrics_family_new(m, METRICS_TIMER, "berth_http_request_duration_seconds",
					    "HTTP latency", "method,route", NULL, &lat), 0);
	assert_int_equal(metrics_family_new(m, METRICS_GAUGE, "berth_tasks", "Tasks by state",
					    "state", NULL, &tasks), 0);
	struct metrics_family *empty;
	assert_int_equal(metrics_family_new(m, METRICS_HISTOGRAM, "berth_empty", "no series yet",
					    "x", NULL, &empty), 0);
	metrics_counter_add(metrics_series_getv(req, "GET", "/v2/apps", "200"), 7);
	metrics_counter_add(metrics_series_getv(req, "POST", "/v2/apps", "201"), 1);
	metrics_timer_record_usec(metrics_series_getv(lat, "GET", "/v2/apps"), 1500);
	metrics_timer_record_usec(metrics_series_getv(lat, "GET", "/v2/apps"), 250000);
	metrics_gauge_set(metrics_series_getv(tasks, "TASK_RUNNING"), 5);
	metrics_meter_mark(metrics_meter(m, "berth_launches", "launches"), 3);
	metrics_counter(m, "berth_unused_total", "zero");
	fake_now += 10 * 1000000;
	metrics_tick(m);

	char *txt = render_prom(m);
	assert_prom_valid(txt);
	assert_int_equal(pst.nsamples, 2 + 24 + 1 + 1 + 1); /* one timer series: 22 buckets, _sum, _count */
	free(txt);

	json_t *j = render_json(m);
	assert_string_equal(json_string_value(json_object_get(j, "version")), METRICS_JSON_VERSION);
	static const char *const sections[] = { "counters", "gauges", "histograms", "meters", "timers" };
	for (size_t i = 0; i < 5; i++)
		assert_true(json_is_object(json_object_get(j, sections[i])));
	assert_int_equal(json_object_size(j), 6);
	json_t *t = json_object_get(json_object_get(j, "timers"),
				    "berth.http.request.duration.seconds{method=\"GET\",route=\"/v2/apps\"}");
	assert_non_null(t);
	static const char *const tkeys[] = { "count", "min", "max", "mean", "stddev", "p50", "p75",
					     "p95", "p98", "p99", "p999", "m1_rate", "m5_rate",
					     "m15_rate", "mean_rate" };
	for (size_t i = 0; i < sizeof(tkeys) / sizeof(tkeys[0]); i++)
		assert_true(json_is_number(json_object_get(t, tkeys[i])));
	assert_true(json_number_value(json_object_get(t, "max")) == 0.25);
	assert_true(json_number_value(json_object_get(t, "min")) == 0.0015);
	/* two ticks: the first primes at 2 / 5 s, the second decays it */
	assert_true(fabs(json_number_value(json_object_get(t, "m1_rate")) - 0.4 * exp(-5.0 / 60.0)) < 1e-9);
	assert_string_equal(json_string_value(json_object_get(t, "duration_units")), "seconds");
	json_t *g = json_object_get(json_object_get(j, "gauges"), "berth.tasks{state=\"TASK_RUNNING\"}");
	assert_true(json_number_value(json_object_get(g, "value")) == 5);
	json_t *c = json_object_get(json_object_get(j, "counters"), "berth.unused.total");
	assert_int_equal(json_integer_value(json_object_get(c, "count")), 0);
	assert_int_equal(json_object_size(json_object_get(j, "histograms")), 0);
	json_decref(j);
	metrics_free(m);
}

static void test_json_escape(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	metrics_json_escape(&sb, "a\"\\\n\t\x01\x7f\xff\xe2\x82\xac");
	assert_string_equal(strbuf_str(&sb), "\"a\\\"\\\\\\n\\t\\u0001\\u007f\\ufffd\xe2\x82\xac\"");
	json_t *j = json_loads(strbuf_str(&sb), JSON_DECODE_ANY, NULL);
	assert_non_null(j);
	json_decref(j);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_parser_rejects),
		cmocka_unit_test(test_counter_gauge),
		cmocka_unit_test(test_gauge_fn_and_specials),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_histogram_stats),
		cmocka_unit_test(test_meter_ewma),
		cmocka_unit_test(test_labels_escaping),
		cmocka_unit_test(test_series_cap),
		cmocka_unit_test(test_full_render),
		cmocka_unit_test(test_json_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
