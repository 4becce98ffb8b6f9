/* A small metrics registry: counters, gauges, histograms, meters and timers, with labels,
 * rendered as Marathon's JSON (/metrics) and Prometheus text format 0.0.4
 * (/metrics/prometheus). Single-threaded: use it from the event loop thread only.
 *
 * Names. A metric is registered under its Prometheus name, which must match
 * [a-zA-Z_:][a-zA-Z0-9_:]* ("berth_http_requests_total"). The JSON view uses a dotted
 * name derived from it by replacing every '_' and ':' with '.' ("berth.http.requests.total").
 * A labelled series appends its labels in Prometheus form to that key:
 * "berth.http.requests.total{method=\"GET\",route=\"/v2/apps\",status=\"200\"}" (label
 * values escaped as in Prometheus, then JSON-escaped as a whole).
 *
 * Types and how they render:
 *   COUNTER    monotonic u64       JSON counters {"count":n}       prom counter
 *   GAUGE      double (set/add or  JSON gauges {"value":v}         prom gauge
 *              sampled by callback)
 *   HISTOGRAM  fixed log buckets   JSON histograms {count,min,max, prom histogram
 *                                  mean,stddev,p50…p999}           (_bucket/_sum/_count)
 *   METER      count + EWMA rates  JSON meters {count,m1_rate,…,   prom counter (the count)
 *                                  mean_rate,units}
 *   TIMER      histogram of        JSON timers (histogram fields + prom histogram in seconds
 *              seconds + meter     rates, duration_units seconds)
 *
 * Histogram buckets follow the 1-2-5 series between 10^lo_exp and 5·10^hi_exp (upper
 * bounds, inclusive, as Prometheus's `le`), plus +Inf. min, max, mean and stddev are exact
 * over the life of the series; quantiles are estimated from the buckets (linear
 * interpolation inside a bucket, clamped to [min, max]).
 *
 * Meters and timers keep Dropwizard's exponentially weighted 1/5/15-minute rates; the
 * caller ticks them every 5 s with metrics_tick.
 *
 * Bounds: a family holds at most max_series label combinations (METRICS_MAX_SERIES by
 * default); once full, new combinations are counted in one series whose every label value
 * is "other". Label values are truncated to METRICS_LABEL_VALUE_MAX bytes, and bytes that
 * are not valid UTF-8 are replaced by '?', so the output is always valid JSON and text.
 *
 * Handles: struct metrics_family and struct metrics_series pointers stay valid until
 * metrics_free. Every update function accepts a NULL series and does nothing, so optional
 * metrics need no checks on hot paths. Using a series with the wrong type's update
 * function is a programmer error (assert). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

#define METRICS_MAX_SERIES 1000
#define METRICS_MAX_LABELS 8
#define METRICS_LABEL_VALUE_MAX 256
#define METRICS_MAX_BUCKETS 60
#define METRICS_TICK_USEC (5 * 1000000ULL)
/* The value of the JSON view's "version" field. */
#define METRICS_JSON_VERSION "4.0.0"
#define METRICS_OTHER "other"

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
	METRICS_METER,
	METRICS_TIMER,
};

struct metrics;
struct metrics_family;
struct metrics_series;

/* A gauge sampled at render time. */
typedef double (*metrics_sample_fn)(void *ctx);
/* A clock (monotonic usec); tests replace the default time_mono_usec. */
typedef uint64_t (*metrics_clock_fn)(void);

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m); /* accepts NULL */
void metrics_set_clock(struct metrics *m, metrics_clock_fn clock);

/* Optional settings for metrics_family_new; NULL means the defaults. */
struct metrics_opts {
	/* Histogram/timer buckets: 1,2,5 × 10^e for e in [lo_exp, hi_exp]. Defaults: timers
	 * -4..2 (100 µs … 500 s), histograms 0..5 (1 … 500,000). At most METRICS_MAX_BUCKETS
	 * bounds. Both 0 means the default. */
	int lo_exp, hi_exp;
	/* 0 means METRICS_MAX_SERIES. */
	size_t max_series;
};

/* Registers a family. label_names is a comma-separated list of label names ("method,route"),
 * or NULL / "" for an unlabelled metric (which then has its one series at once, see
 * metrics_family_series0). help is free text (may be NULL).
 * Returns 0 and *out, or -EINVAL for a bad name, a bad or duplicate label name (label
 * names match [a-zA-Z_][a-zA-Z0-9_]*, must not start with "__", and "le" is refused for
 * histograms and timers), more than METRICS_MAX_LABELS labels or bad bucket exponents;
 * -EEXIST if the name is taken (by any type). */
int metrics_family_new(struct metrics *m, enum metrics_type type, const char *name,
		       const char *help, const char *label_names, const struct metrics_opts *opts,
		       struct metrics_family **out);
/* The family registered under name, or NULL. */
struct metrics_family *metrics_family_get(const struct metrics *m, const char *name);
/* The series of an unlabelled family; NULL for a labelled one. */
struct metrics_series *metrics_family_series0(struct metrics_family *f);
size_t metrics_family_nseries(const struct metrics_family *f);
/* The sum of metrics_series_count over every series of f; 0 for NULL. */
uint64_t metrics_family_count(const struct metrics_family *f);

/* Shorthands for unlabelled metrics: register and return the series, or NULL on error
 * (errors are programmer errors for fixed names: check with tests). */
struct metrics_series *metrics_counter(struct metrics *m, const char *name, const char *help);
struct metrics_series *metrics_gauge(struct metrics *m, const char *name, const char *help);
struct metrics_series *metrics_meter(struct metrics *m, const char *name, const char *help);
struct metrics_series *metrics_timer(struct metrics *m, const char *name, const char *help);

/* The series for the given label values (one per label name, in order; borrowed) — found
 * or created. Returns 0 and *out; 1 and *out = the "other" series when the family is full
 * and the combination is new; -EINVAL if nvalues differs from the family's label count or
 * a value is NULL. Hashes the values: cache the handle where the set of values is fixed. */
int metrics_series_get(struct metrics_family *f, const char *const *values, size_t nvalues,
		       struct metrics_series **out);
/* The same with the values as arguments (exactly as many as labels); NULL on error. */
struct metrics_series *metrics_series_getv(struct metrics_family *f, ...);

/* Sets every series of a gauge family to 0 (before re-sampling it from state, so that a
 * label combination that disappeared reads 0). Accepts NULL. */
void metrics_family_zero(struct metrics_family *f);

/* Updates. All accept NULL. */
void metrics_counter_add(struct metrics_series *s, uint64_t n);
static inline void metrics_counter_inc(struct metrics_series *s) { metrics_counter_add(s, 1); }
void metrics_gauge_set(struct metrics_series *s, double v);
void metrics_gauge_add(struct metrics_series *s, double d);
/* Samples fn(ctx) at every render instead of the stored value; fn NULL goes back. */
void metrics_gauge_set_fn(struct metrics_series *s, metrics_sample_fn fn, void *ctx);
/* Histogram: one observation. NaN is ignored. */
void metrics_histogram_observe(struct metrics_series *s, double v);
void metrics_meter_mark(struct metrics_series *s, uint64_t n);
/* Timer: one duration (in microseconds; rendered in seconds) and one event. */
void metrics_timer_record_usec(struct metrics_series *s, uint64_t usec);

/* Reads, for tests and for callers that derive values. */
uint64_t metrics_series_count(const struct metrics_series *s); /* counter/meter/histogram/timer */
double metrics_series_value(const struct metrics_series *s);   /* gauge (sampled) */
double metrics_series_sum(const struct metrics_series *s);     /* histogram/timer */
/* Quantile q in [0,1] estimated from the buckets; 0 if empty. */
double metrics_series_quantile(const struct metrics_series *s, double q);
/* EWMA rates, events/second; minutes is 1, 5 or 15. */
double metrics_series_rate(const struct metrics_series *s, int minutes);
/* Number of bucket upper bounds (without +Inf) and the i-th bound. */
size_t metrics_series_nbuckets(const struct metrics_series *s);
double metrics_series_bound(const struct metrics_series *s, size_t i);

/* Advances every meter's and timer's rates by the whole 5-s intervals elapsed since the
 * previous tick (or since metrics_new / metrics_set_clock); does nothing before 5 s have
 * passed. Call it every METRICS_TICK_USEC from a timer. */
void metrics_tick(struct metrics *m);

/* Appends the whole registry to out: Marathon's JSON object (metrics_render_json) or
 * Prometheus text format 0.0.4, "text/plain; version=0.0.4" (metrics_render_prometheus).
 * Families appear in registration order, series in creation order. */
void metrics_render_json(struct metrics *m, struct strbuf *out);
void metrics_render_prometheus(struct metrics *m, struct strbuf *out);

/* The JSON (dotted) name of a Prometheus name, into buf (truncated to buflen). */
void metrics_json_name(const char *name, char *buf, size_t buflen);
/* Appends s as a JSON string literal (quotes included); bytes that are not valid UTF-8
 * become U+FFFD. */
void metrics_json_escape(struct strbuf *out, const char *s);
