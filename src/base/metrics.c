/* Metrics registry and its two renderers (see metrics.h).
 *
 * Invariants:
 *  - A family owns its series; a series never moves (the family keeps pointers), so
 *    handles stay valid until metrics_free.
 *  - A family holds at most max_series ordinary series plus one "other" series, created
 *    the first time a new combination arrives while the family is full.
 *  - A series' label text (`k="v",…`, values sanitised and escaped) is both its hash key
 *    and what the renderers print: escaping is injective, so distinct value tuples never
 *    share a key.
 *  - Everything stored is valid UTF-8 (label values are sanitised on the way in; help text
 *    is escaped at render time), so both outputs are valid for strict parsers.
 */
#include "base/metrics.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "base/mem.h"
#include "base/timeutil.h"

struct hist {
	uint64_t *buckets; /* nbounds + 1 (the last is +Inf), not cumulative */
	uint64_t count;
	double sum, min, max;
	double mean, m2; /* Welford's running mean and sum of squared deviations */
};

struct meter {
	uint64_t count;
	uint64_t uncounted; /* since the previous tick */
	double rate[3];     /* 1, 5, 15 minutes, events/second */
	bool primed;
	uint64_t start_usec;
};

struct metrics_series {
	struct metrics_family *f;
	char *labels; /* `k="v",…` or "" */
	uint64_t count;
	double value;
	metrics_sample_fn fn;
	void *fn_ctx;
	struct hist h;
	struct meter mt;
};

struct metrics_family {
	struct metrics *m;
	enum metrics_type type;
	char *name;
	char *json_name;
	char *help;
	char *label_names[METRICS_MAX_LABELS];
	size_t nlabels;
	double bounds[METRICS_MAX_BUCKETS];
	size_t nbounds;
	struct metrics_series **series;
	size_t nseries, alloc;
	size_t max_series;
	struct hmap index; /* label text -> series */
	struct metrics_series *other;
};

struct metrics {
	struct metrics_family **fams;
	size_t nfams, alloc;
	struct hmap byname;
	metrics_clock_fn clock;
	uint64_t last_tick_usec;
};

static const int ewma_minutes[3] = { 1, 5, 15 };

/* ---- names and text ---- */

static bool valid_name(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			     (colon && c == ':');
		if (!alpha && !(p != s && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned min;
	unsigned cp;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, min = 0x80, cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, min = 0x800, cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A label value made safe: valid UTF-8 ('?' for bad bytes), at most
 * METRICS_LABEL_VALUE_MAX bytes, cut on a character boundary. */
static void label_value_sanitise(struct strbuf *out, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v), i = 0, used = 0;
	while (i < n) {
		size_t l = utf8_len(s + i, n - i);
		size_t w = l ? l : 1;
		if (used + w > METRICS_LABEL_VALUE_MAX)
			break;
		if (l)
			strbuf_add(out, s + i, l);
		else
			strbuf_addch(out, '?');
		used += w;
		i += w;
	}
}

static void prom_escape_label(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			strbuf_adds(out, "\\\\");
		else if (*s == '"')
			strbuf_adds(out, "\\\"");
		else if (*s == '\n')
			strbuf_adds(out, "\\n");
		else
			strbuf_addch(out, *s);
	}
}

/* HELP text: backslash and newline escaped; invalid UTF-8 becomes '?'. */
static void prom_escape_help(struct strbuf *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(u + i, n - i);
		if (!l) {
			strbuf_addch(out, '?');
			i++;
		} else if (u[i] == '\\') {
			strbuf_adds(out, "\\\\");
			i++;
		} else if (u[i] == '\n') {
			strbuf_adds(out, "\\n");
			i++;
		} else {
			strbuf_add(out, u + i, l);
			i += l;
		}
	}
}

void metrics_json_escape(struct strbuf *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	strbuf_addch(out, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		size_t l = utf8_len(u + i, n - i);
		if (!l) {
			strbuf_adds(out, "\\ufffd");
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, (char)c);
		} else if (c == '\n') {
			strbuf_adds(out, "\\n");
		} else if (c == '\r') {
			strbuf_adds(out, "\\r");
		} else if (c == '\t') {
			strbuf_adds(out, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(out, "\\u%04x", c);
		} else {
			strbuf_add(out, u + i, l);
		}
		i += l;
	}
	strbuf_addch(out, '"');
}

void metrics_json_name(const char *name, char *buf, size_t buflen)
{
	if (!buflen)
		return;
	size_t i = 0;
	for (; name[i] && i + 1 < buflen; i++)
		buf[i] = (name[i] == '_' || name[i] == ':') ? '.' : name[i];
	buf[i] = '\0';
}

/* Shortest "%g" text that reads back as v. Non-finite: prom spellings, or JSON null. */
static void add_double(struct strbuf *out, double v, bool json)
{
	if (isnan(v)) {
		strbuf_adds(out, json ? "null" : "NaN");
		return;
	}
	if (isinf(v)) {
		strbuf_adds(out, json ? "null" : (v > 0 ? "+Inf" : "-Inf"));
		return;
	}
	char buf[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	strbuf_adds(out, buf);
}

/* ---- registry ---- */

struct metrics *metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	hmap_init(&m->byname);
	m->clock = time_mono_usec;
	m->last_tick_usec = m->clock();
	return m;
}

void metrics_set_clock(struct metrics *m, metrics_clock_fn clock)
{
	m->clock = clock ? clock : time_mono_usec;
	m->last_tick_usec = m->clock();
}

static void series_free(struct metrics_series *s)
{
	if (!s)
		return;
	free(s->labels);
	free(s->h.buckets);
	free(s);
}

static void family_free(struct metrics_family *f)
{
	for (size_t i = 0; i < f->nseries; i++)
		series_free(f->series[i]);
	series_free(f->other);
	free(f->series);
	hmap_release(&f->index);
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->label_names[i]);
	free(f->name);
	free(f->json_name);
	free(f->help);
	free(f);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfams; i++)
		family_free(m->fams[i]);
	free(m->fams);
	hmap_release(&m->byname);
	free(m);
}

static bool has_buckets(enum metrics_type t)
{
	return t == METRICS_HISTOGRAM || t == METRICS_TIMER;
}

static bool has_meter(enum metrics_type t)
{
	return t == METRICS_METER || t == METRICS_TIMER;
}

/* Splits "a,b" into f->label_names. */
static int family_parse_labels(struct metrics_family *f, const char *label_names)
{
	if (!label_names || !*label_names)
		return 0;
	const char *p = label_names;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (f->nlabels == METRICS_MAX_LABELS)
			return -EINVAL;
		char *ln = xstrndup(p, n);
		f->label_names[f->nlabels++] = ln;
		if (!valid_name(ln, false) || strncmp(ln, "__", 2) == 0 ||
		    (has_buckets(f->type) && strcmp(ln, "le") == 0))
			return -EINVAL;
		for (size_t i = 0; i + 1 < f->nlabels; i++)
			if (strcmp(f->label_names[i], ln) == 0)
				return -EINVAL;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int family_set_bounds(struct metrics_family *f, const struct metrics_opts *opts)
{
	int lo = f->type == METRICS_TIMER ? -4 : 0;
	int hi = f->type == METRICS_TIMER ? 2 : 5;
	if (opts && (opts->lo_exp || opts->hi_exp)) {
		lo = opts->lo_exp;
		hi = opts->hi_exp;
	}
	if (lo > hi || lo < -12 || hi > 12 || (size_t)(hi - lo + 1) * 3 > METRICS_MAX_BUCKETS)
		return -EINVAL;
	static const int mant[3] = { 1, 2, 5 };
	for (int e = lo; e <= hi; e++) {
		for (int k = 0; k < 3; k++) {
			/* Parse the decimal so each bound is the double nearest to it ("0.0002"). */
			char buf[16];
			snprintf(buf, sizeof(buf), "%de%d", mant[k], e);
			f->bounds[f->nbounds++] = strtod(buf, NULL);
		}
	}
	return 0;
}

static struct metrics_series *series_new(struct metrics_family *f, char *labels)
{
	struct metrics_series *s = xcalloc(1, sizeof(*s));
	s->f = f;
	s->labels = labels;
	if (has_buckets(f->type))
		s->h.buckets = xcalloc(f->nbounds + 1, sizeof(uint64_t));
	s->mt.start_usec = f->m->clock();
	return s;
}

int metrics_family_new(struct metrics *m, enum metrics_type type, const char *name,
		       const char *help, const char *label_names, const struct metrics_opts *opts,
		       struct metrics_family **out)
{
	*out = NULL;
	if (!valid_name(name, true) || type > METRICS_TIMER)
		return -EINVAL;
	if (hmap_get(&m->byname, name))
		return -EEXIST;
	struct metrics_family *f = xcalloc(1, sizeof(*f));
	f->m = m;
	f->type = type;
	f->name = xstrdup(name);
	f->json_name = xstrdup(name);
	metrics_json_name(name, f->json_name, strlen(name) + 1);
	f->help = help && *help ? xstrdup(help) : NULL;
	f->max_series = opts && opts->max_series ? opts->max_series : METRICS_MAX_SERIES;
	hmap_init(&f->index);
	int r = family_parse_labels(f, label_names);
	if (!r && has_buckets(type))
		r = family_set_bounds(f, opts);
	if (r) {
		family_free(f);
		return r;
	}
	if (f->nlabels == 0) {
		f->series = xcalloc(1, sizeof(*f->series));
		f->alloc = 1;
		f->series[f->nseries++] = series_new(f, xstrdup(""));
	}
	if (m->nfams == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->fams = xrealloc(m->fams, m->alloc * sizeof(*m->fams));
	}
	m->fams[m->nfams++] = f;
	hmap_put(&m->byname, name, f);
	*out = f;
	return 0;
}

struct metrics_family *metrics_family_get(const struct metrics *m, const char *name)
{
	return hmap_get(&m->byname, name);
}

struct metrics_series *metrics_family_series0(struct metrics_family *f)
{
	return f && f->nlabels == 0 ? f->series[0] : NULL;
}

size_t metrics_family_nseries(const struct metrics_family *f)
{
	return f->nseries + (f->other ? 1 : 0);
}

/* The sum of the counts of every series of f (the "other" series included); 0 for NULL. */
uint64_t metrics_family_count(const struct metrics_family *f)
{
	if (!f)
		return 0;
	uint64_t n = f->other ? f->other->count : 0;
	for (size_t i = 0; i < f->nseries; i++)
		n += f->series[i]->count;
	return n;
}

static struct metrics_series *simple(struct metrics *m, enum metrics_type t, const char *name,
				     const char *help)
{
	struct metrics_family *f;
	if (metrics_family_new(m, t, name, help, NULL, NULL, &f) < 0)
		return NULL;
	return f->series[0];
}

struct metrics_series *metrics_counter(struct metrics *m, const char *name, const char *help)
{
	return simple(m, METRICS_COUNTER, name, help);
}

struct metrics_series *metrics_gauge(struct metrics *m, const char *name, const char *help)
{
	return simple(m, METRICS_GAUGE, name, help);
}

struct metrics_series *metrics_meter(struct metrics *m, const char *name, const char *help)
{
	return simple(m, METRICS_METER, name, help);
}

struct metrics_series *metrics_timer(struct metrics *m, const char *name, const char *help)
{
	return simple(m, METRICS_TIMER, name, help);
}

/* `k="v",…` for the given values (all "other" if values is NULL). */
static char *labels_text(const struct metrics_family *f, const char *const *values)
{
	struct strbuf sb = STRBUF_INIT;
	struct strbuf v = STRBUF_INIT;
	for (size_t i = 0; i < f->nlabels; i++) {
		if (i)
			strbuf_addch(&sb, ',');
		strbuf_adds(&sb, f->label_names[i]);
		strbuf_adds(&sb, "=\"");
		strbuf_release(&v);
		label_value_sanitise(&v, values ? values[i] : METRICS_OTHER);
		prom_escape_label(&sb, strbuf_str(&v));
		strbuf_addch(&sb, '"');
	}
	strbuf_release(&v);
	return strbuf_detach(&sb, NULL);
}

int metrics_series_get(struct metrics_family *f, const char *const *values, size_t nvalues,
		       struct metrics_series **out)
{
	*out = NULL;
	if (nvalues != f->nlabels)
		return -EINVAL;
	if (f->nlabels == 0) {
		*out = f->series[0];
		return 0;
	}
	for (size_t i = 0; i < nvalues; i++)
		if (!values[i])
			return -EINVAL;
	char *key = labels_text(f, values);
	struct metrics_series *s = hmap_get(&f->index, key);
	if (s) {
		free(key);
		*out = s;
		return 0;
	}
	if (f->nseries >= f->max_series) {
		free(key);
		if (!f->other)
			f->other = series_new(f, labels_text(f, NULL));
		*out = f->other;
		return 1;
	}
	if (f->nseries == f->alloc) {
		f->alloc = f->alloc ? f->alloc * 2 : 8;
		f->series = xrealloc(f->series, f->alloc * sizeof(*f->series));
	}
	s = series_new(f, key);
	f->series[f->nseries++] = s;
	hmap_put(&f->index, key, s);
	*out = s;
	return 0;
}

struct metrics_series *metrics_series_getv(struct metrics_family *f, ...)
{
	const char *vals[METRICS_MAX_LABELS];
	va_list ap;
	va_start(ap, f);
	for (size_t i = 0; i < f->nlabels; i++)
		vals[i] = va_arg(ap, const char *);
	va_end(ap);
	struct metrics_series *s;
	return metrics_series_get(f, vals, f->nlabels, &s) < 0 ? NULL : s;
}

/* ---- updates ---- */

void metrics_family_zero(struct metrics_family *f)
{
	if (!f)
		return;
	assert(f->type == METRICS_GAUGE);
	for (size_t i = 0; i < f->nseries; i++)
		f->series[i]->value = 0;
	if (f->other)
		f->other->value = 0;
}

void metrics_counter_add(struct metrics_series *s, uint64_t n)
{
	if (!s)
		return;
	assert(s->f->type == METRICS_COUNTER);
	s->count += n;
}

void metrics_gauge_set(struct metrics_series *s, double v)
{
	if (!s)
		return;
	assert(s->f->type == METRICS_GAUGE);
	s->value = v;
}

void metrics_gauge_add(struct metrics_series *s, double d)
{
	if (!s)
		return;
	assert(s->f->type == METRICS_GAUGE);
	s->value += d;
}

void metrics_gauge_set_fn(struct metrics_series *s, metrics_sample_fn fn, void *ctx)
{
	if (!s)
		return;
	assert(s->f->type == METRICS_GAUGE);
	s->fn = fn;
	s->fn_ctx = ctx;
}

static void hist_observe(struct metrics_series *s, double v)
{
	const struct metrics_family *f = s->f;
	struct hist *h = &s->h;
	/* First bound >= v (le is inclusive); past the last, +Inf. */
	size_t lo = 0, hi = f->nbounds;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v <= f->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	h->buckets[lo]++;
	h->count++;
	h->sum += v;
	if (h->count == 1 || v < h->min)
		h->min = v;
	if (h->count == 1 || v > h->max)
		h->max = v;
	double d = v - h->mean;
	h->mean += d / (double)h->count;
	h->m2 += d * (v - h->mean);
}

void metrics_histogram_observe(struct metrics_series *s, double v)
{
	if (!s || isnan(v))
		return;
	assert(s->f->type == METRICS_HISTOGRAM);
	hist_observe(s, v);
}

static void meter_mark(struct meter *mt, uint64_t n)
{
	mt->count += n;
	mt->uncounted += n;
}

void metrics_meter_mark(struct metrics_series *s, uint64_t n)
{
	if (!s)
		return;
	assert(s->f->type == METRICS_METER);
	meter_mark(&s->mt, n);
}

void metrics_timer_record_usec(struct metrics_series *s, uint64_t usec)
{
	if (!s)
		return;
	assert(s->f->type == METRICS_TIMER);
	hist_observe(s, (double)usec / 1e6);
	meter_mark(&s->mt, 1);
}

/* ---- reads ---- */

uint64_t metrics_series_count(const struct metrics_series *s)
{
	switch (s->f->type) {
	case METRICS_COUNTER: return s->count;
	case METRICS_METER: return s->mt.count;
	case METRICS_HISTOGRAM:
	case METRICS_TIMER: return s->h.count;
	case METRICS_GAUGE: break;
	}
	return 0;
}

double metrics_series_value(const struct metrics_series *s)
{
	return s->fn ? s->fn(s->fn_ctx) : s->value;
}

double metrics_series_sum(const struct metrics_series *s)
{
	return s->h.sum;
}

double metrics_series_quantile(const struct metrics_series *s, double q)
{
	const struct hist *h = &s->h;
	const struct metrics_family *f = s->f;
	if (!h->buckets || h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	double rank = q * (double)h->count;
	uint64_t cum = 0;
	for (size_t i = 0; i <= f->nbounds; i++) {
		uint64_t c = h->buckets[i];
		if (!c || (double)(cum + c) < rank) {
			cum += c;
			continue;
		}
		double lo = i ? f->bounds[i - 1] : h->min;
		double hi = i < f->nbounds ? f->bounds[i] : h->max;
		if (lo < h->min)
			lo = h->min;
		if (hi > h->max)
			hi = h->max;
		if (hi < lo)
			hi = lo;
		return lo + (hi - lo) * ((rank - (double)cum) / (double)c);
	}
	return h->max;
}

double metrics_series_rate(const struct metrics_series *s, int minutes)
{
	for (size_t i = 0; i < 3; i++)
		if (ewma_minutes[i] == minutes)
			return s->mt.rate[i];
	return 0;
}

size_t metrics_series_nbuckets(const struct metrics_series *s)
{
	return s->f->nbounds;
}

double metrics_series_bound(const struct metrics_series *s, size_t i)
{
	return i < s->f->nbounds ? s->f->bounds[i] : INFINITY;
}

/* ---- ticks ---- */

static void meter_tick(struct meter *mt, uint64_t nticks)
{
	double interval = (double)METRICS_TICK_USEC / 1e6;
	for (uint64_t t = 0; t < nticks; t++) {
		double instant = (double)mt->uncounted / interval;
		mt->uncounted = 0;
		for (size_t i = 0; i < 3; i++) {
			double alpha = 1.0 - exp(-interval / 60.0 / ewma_minutes[i]);
			if (mt->primed)
				mt->rate[i] += alpha * (instant - mt->rate[i]);
			else
				mt->rate[i] = instant;
		}
		mt->primed = true;
	}
}

void metrics_tick(struct metrics *m)
{
	uint64_t now = m->clock();
	if (now < m->last_tick_usec + METRICS_TICK_USEC)
		return;
	uint64_t n = (now - m->last_tick_usec) / METRICS_TICK_USEC;
	m->last_tick_usec += n * METRICS_TICK_USEC;
	/* After an hour without ticks every rate has decayed to ~nothing anyway. */
	if (n > 720)
		n = 720;
	for (size_t i = 0; i < m->nfams; i++) {
		struct metrics_family *f = m->fams[i];
		if (!has_meter(f->type))
			continue;
		for (size_t j = 0; j <= f->nseries; j++) {
			struct metrics_series *s = j < f->nseries ? f->series[j] : f->other;
			if (s)
				meter_tick(&s->mt, n);
		}
	}
}

/* ---- rendering ---- */

/* Calls fn for each series of f, the "other" one last. */
#define FOR_EACH_SERIES(f, s)                                                          \
	for (size_t _j = 0; _j <= (f)->nseries; _j++)                                  \
		for (struct metrics_series *s = _j < (f)->nseries ? (f)->series[_j] : (f)->other; \
		     s; s = NULL)

static void json_key(struct strbuf *out, const struct metrics_family *f,
		     const struct metrics_series *s)
{
	if (!*s->labels) {
		metrics_json_escape(out, f->json_name);
		return;
	}
	struct strbuf k = STRBUF_INIT;
	strbuf_addf(&k, "%s{%s}", f->json_name, s->labels);
	metrics_json_escape(out, strbuf_str(&k));
	strbuf_release(&k);
}

static void json_num(struct strbuf *out, const char *key, double v, bool comma)
{
	strbuf_addf(out, "%s\"%s\":", comma ? "," : "", key);
	add_double(out, v, true);
}

static void json_hist(struct strbuf *out, const struct metrics_series *s)
{
	const struct hist *h = &s->h;
	strbuf_addf(out, "\"count\":%" PRIu64, h->count);
	json_num(out, "min", h->count ? h->min : 0, true);
	json_num(out, "max", h->count ? h->max : 0, true);
	json_num(out, "mean", h->count ? h->mean : 0, true);
	json_num(out, "stddev", h->count > 1 ? sqrt(h->m2 / (double)(h->count - 1)) : 0, true);
	static const struct { const char *k; double q; } qs[] = {
		{ "p50", 0.5 }, { "p75", 0.75 }, { "p95", 0.95 },
		{ "p98", 0.98 }, { "p99", 0.99 }, { "p999", 0.999 },
	};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		json_num(out, qs[i].k, metrics_series_quantile(s, qs[i].q), true);
}

static void json_rates(struct strbuf *out, const struct metrics_series *s, uint64_t now)
{
	const struct meter *mt = &s->mt;
	json_num(out, "m1_rate", mt->rate[0], true);
	json_num(out, "m5_rate", mt->rate[1], true);
	json_num(out, "m15_rate", mt->rate[2], true);
	double secs = now > mt->start_usec ? (double)(now - mt->start_usec) / 1e6 : 0;
	json_num(out, "mean_rate", secs > 0 ? (double)mt->count / secs : 0, true);
}

static void json_entry(struct strbuf *out, const struct metrics_family *f,
		       const struct metrics_series *s, uint64_t now)
{
	switch (f->type) {
	case METRICS_COUNTER:
		strbuf_addf(out, "{\"count\":%" PRIu64 "}", s->count);
		break;
	case METRICS_GAUGE:
		strbuf_adds(out, "{");
		json_num(out, "value", metrics_series_value(s), false);
		strbuf_adds(out, "}");
		break;
	case METRICS_HISTOGRAM:
		strbuf_adds(out, "{");
		json_hist(out, s);
		strbuf_adds(out, "}");
		break;
	case METRICS_METER:
		strbuf_addf(out, "{\"count\":%" PRIu64, s->mt.count);
		json_rates(out, s, now);
		strbuf_adds(out, ",\"units\":\"events/second\"}");
		break;
	case METRICS_TIMER:
		strbuf_adds(out, "{");
		json_hist(out, s);
		json_rates(out, s, now);
		strbuf_adds(out, ",\"duration_units\":\"seconds\",\"rate_units\":\"calls/second\"}");
		break;
	}
}

void metrics_render_json(struct metrics *m, struct strbuf *out)
{
	static const struct { const char *key; enum metrics_type t; } sections[] = {
		{ "counters", METRICS_COUNTER }, { "gauges", METRICS_GAUGE },
		{ "histograms", METRICS_HISTOGRAM }, { "meters", METRICS_METER },
		{ "timers", METRICS_TIMER },
	};
	uint64_t now = m->clock();
	strbuf_adds(out, "{\"version\":\"" METRICS_JSON_VERSION "\"");
	for (size_t k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
		strbuf_addf(out, ",\"%s\":{", sections[k].key);
		bool first = true;
		for (size_t i = 0; i < m->nfams; i++) {
			const struct metrics_family *f = m->fams[i];
			if (f->type != sections[k].t)
				continue;
			FOR_EACH_SERIES(f, s) {
				if (!first)
					strbuf_addch(out, ',');
				first = false;
				json_key(out, f, s);
				strbuf_addch(out, ':');
				json_entry(out, f, s, now);
			}
		}
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, '}');
}

/* name{labels[,extra]} or name{extra} or name, then a space. */
static void prom_sample_start(struct strbuf *out, const char *name, const char *suffix,
			      const char *labels, const char *extra)
{
	strbuf_adds(out, name);
	strbuf_adds(out, suffix);
	bool l = labels && *labels, e = extra && *extra;
	if (l || e)
		strbuf_addf(out, "{%s%s%s}", l ? labels : "", l && e ? "," : "", e ? extra : "");
	strbuf_addch(out, ' ');
}

static void prom_hist(struct strbuf *out, const struct metrics_family *f,
		      const struct metrics_series *s)
{
	uint64_t cum = 0;
	struct strbuf le = STRBUF_INIT;
	for (size_t i = 0; i <= f->nbounds; i++) {
		cum += s->h.buckets[i];
		strbuf_release(&le);
		strbuf_adds(&le, "le=\"");
		if (i < f->nbounds)
			add_double(&le, f->bounds[i], false);
		else
			strbuf_adds(&le, "+Inf");
		strbuf_addch(&le, '"');
		prom_sample_start(out, f->name, "_bucket", s->labels, strbuf_str(&le));
		strbuf_addf(out, "%" PRIu64 "\n", cum);
	}
	strbuf_release(&le);
	prom_sample_start(out, f->name, "_sum", s->labels, NULL);
	add_double(out, s->h.sum, false);
	strbuf_addch(out, '\n');
	prom_sample_start(out, f->name, "_count", s->labels, NULL);
	strbuf_addf(out, "%" PRIu64 "\n", s->h.count);
}

void metrics_render_prometheus(struct metrics *m, struct strbuf *out)
{
	for (size_t i = 0; i < m->nfams; i++) {
		const struct metrics_family *f = m->fams[i];
		static const char *const types[] = {
			[METRICS_COUNTER] = "counter", [METRICS_GAUGE] = "gauge",
			[METRICS_HISTOGRAM] = "histogram", [METRICS_METER] = "counter",
			[METRICS_TIMER] = "histogram",
		};
		if (f->help) {
			strbuf_addf(out, "# HELP %s ", f->name);
			prom_escape_help(out, f->help);
			strbuf_addch(out, '\n');
		}
		strbuf_addf(out, "# TYPE %s %s\n", f->name, types[f->type]);
		FOR_EACH_SERIES(f, s) {
			switch (f->type) {
			case METRICS_COUNTER:
				prom_sample_start(out, f->name, "", s->labels, NULL);
				strbuf_addf(out, "%" PRIu64 "\n", s->count);
				break;
			case METRICS_METER:
				prom_sample_start(out, f->name, "", s->labels, NULL);
				strbuf_addf(out, "%" PRIu64 "\n", s->mt.count);
				break;
			case METRICS_GAUGE:
				prom_sample_start(out, f->name, "", s->labels, NULL);
				add_double(out, metrics_series_value(s), false);
				strbuf_addch(out, '\n');
				break;
			case METRICS_HISTOGRAM:
			case METRICS_TIMER:
				prom_hist(out, f, s);
				break;
			}
		}
	}
}
