/* Autoscaling policies: parsing the BERTH_AUTOSCALE_* labels, reading a metric from an
 * instance's answer, and the decision arithmetic. Pure: no I/O, no clock (unit tested in
 * tests/unit/test-autoscale.c; as_metric_value is fuzzed by tests/fuzz/fuzz-autoscale.c). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/autoscale.h"

static const char *const known[] = { "METRIC", "URL", "JSON_PATH", "TARGET", "TOLERANCE",
				     "MIN", "MAX", "STEP", "COOLDOWN", "INTERVAL" };

/* A whole string as a finite number: 0, or -EINVAL. */
static int read_num(const char *s, double *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -EINVAL;
	/* strtod takes "nan", "inf", hex: isfinite caught the first two; refuse hex */
	if (strchr(s, 'x') || strchr(s, 'X'))
		return -EINVAL;
	*out = v;
	return 0;
}

/* The URL's host is $HOST: "http[s]://$HOST" then ':', '/' or the end. */
static bool host_is_instance(const char *url)
{
	const char *h = strstr(url, "://") + 3;
	return !strncmp(h, "$HOST", 5) && (h[5] == ':' || h[5] == '/' || !h[5]);
}

static void bad(struct verr *err, const char *base, const char *name, const char *fmt,
		const char *a)
{
	char path[160];
	snprintf(path, sizeof(path), "%slabels/" AS_LABEL_PREFIX "%s",
		 base[0] && base[strlen(base) - 1] == '/' ? base : "/", name);
	verr_add(err, path, fmt, a);
}

/* Label name (without the prefix) as a number within [lo, hi] (integer when whole), or dflt
 * when absent (required: absent is an error). */
static void num_label(const json_t *labels, const char *base, const char *name, bool required,
		      double dflt, double lo, double hi, bool whole, double *out, struct verr *err,
		      int *bads)
{
	char key[64];
	snprintf(key, sizeof(key), AS_LABEL_PREFIX "%s", name);
	const json_t *v = json_object_get(labels, key);
	*out = dflt;
	if (!v) {
		if (required) {
			bad(err, base, name, "%s is required in an autoscaling policy", key);
			++*bads;
		}
		return;
	}
	double d;
	char range[96];
	snprintf(range, sizeof(range), whole ? "%.0f..%.0f" : "%g..%g", lo, hi);
	if (!json_is_string(v) || read_num(json_string_value(v), &d) < 0 || d < lo || d > hi ||
	    (whole && d != floor(d))) {
		char msg[200];
		snprintf(msg, sizeof(msg), "must be %s in %%s", whole ? "a whole number" : "a number");
		bad(err, base, name, msg, range);
		++*bads;
		return;
	}
	*out = d;
}

int as_policy_parse(const json_t *labels, const char *base, struct as_policy *p,
		    struct verr *err)
{
	if (!json_is_object(labels))
		return 0;
	bool any = false;
	int bads = 0;
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)labels, k, v) {
		if (strncmp(k, AS_LABEL_PREFIX, strlen(AS_LABEL_PREFIX)))
			continue;
		any = true;
		const char *name = k + strlen(AS_LABEL_PREFIX);
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= !strcmp(name, known[i]);
		if (!ok) {
			bad(err, base, name, "unknown autoscaling label (known: METRIC, URL, "
					     "JSON_PATH, TARGET, TOLERANCE, MIN, MAX, STEP, COOLDOWN, "
					     "INTERVAL)%s", "");
			bads++;
		}
	}
	if (!any)
		return 0;
	memset(p, 0, sizeof(*p));
	const json_t *url = json_object_get(labels, AS_LABEL_PREFIX "URL");
	const json_t *met = json_object_get(labels, AS_LABEL_PREFIX "METRIC");
	const json_t *jp = json_object_get(labels, AS_LABEL_PREFIX "JSON_PATH");
	const char *ms = json_string_value(met);
	if (met && (!ms || (strcmp(ms, "cpu") && strcmp(ms, "http")))) {
		bad(err, base, "METRIC", "must be \"cpu\" or \"http\"%s", "");
		bads++;
	}
	p->metric = (ms ? !strcmp(ms, "http") : url != NULL) ? AS_METRIC_HTTP : AS_METRIC_CPU;
	if (p->metric == AS_METRIC_HTTP) {
		const char *us = json_string_value(url);
		if (!url) {
			bad(err, base, "URL", "the http metric needs %sURL", AS_LABEL_PREFIX);
			bads++;
		} else if (!us || (strncmp(us, "http://", 7) && strncmp(us, "https://", 8)) ||
			   strlen(us) >= sizeof(p->url) || strpbrk(us, " \t\r\n")) {
			bad(err, base, "URL", "must be an http:// or https:// URL (at most 511 "
					      "bytes, no blanks; $HOST, $PORT, $PORT0..$PORT9 are "
					      "replaced)%s", "");
			bads++;
		} else if (!host_is_instance(us)) {
			bad(err, base, "URL", "the URL's host must be $HOST (the instance's agent): "
					      "the master only asks the app's own instances%s", "");
			bads++;
		} else {
			snprintf(p->url, sizeof(p->url), "%s", us);
		}
		const char *js = json_string_value(jp);
		if (jp && (!js || !*js || strlen(js) >= sizeof(p->json_path) || js[0] == '.' ||
			   js[strlen(js) - 1] == '.' || strstr(js, ".."))) {
			bad(err, base, "JSON_PATH", "must be a dot-separated path of keys, "
						    "\"a.b.c\" (at most 127 bytes)%s", "");
			bads++;
		} else if (js) {
			snprintf(p->json_path, sizeof(p->json_path), "%s", js);
		}
	} else {
		if (url) {
			bad(err, base, "URL", "only the http metric reads a URL (%sMETRIC is cpu)",
			    AS_LABEL_PREFIX);
			bads++;
		}
		if (jp) {
			bad(err, base, "JSON_PATH", "only the http metric reads a JSON path%s", "");
			bads++;
		}
	}
	double mn, mx, st;
	num_label(labels, base, "TARGET", true, 0, 1e-9, 1e12, false, &p->target, err, &bads);
	if (p->metric == AS_METRIC_CPU && p->target > 64) {
		bad(err, base, "TARGET", "the cpu metric is the share of the CPUs an instance "
					 "asked for used (0.8: 80%%)%s", "");
		bads++;
	}
	num_label(labels, base, "TOLERANCE", false, 0.1, 0, 0.9, false, &p->tolerance, err,
		  &bads);
	num_label(labels, base, "MIN", true, 0, 0, AS_MAX_INSTANCES, true, &mn, err, &bads);
	num_label(labels, base, "MAX", true, 0, 1, AS_MAX_INSTANCES, true, &mx, err, &bads);
	num_label(labels, base, "STEP", false, 1, 1, AS_MAX_INSTANCES, true, &st, err, &bads);
	num_label(labels, base, "COOLDOWN", false, 60, 0, 86400, false, &p->cooldown, err, &bads);
	num_label(labels, base, "INTERVAL", false, 10, 1, 3600, false, &p->interval, err, &bads);
	p->min = (int64_t)mn;
	p->max = (int64_t)mx;
	p->step = (int64_t)st;
	if (!bads && p->min > p->max) {
		bad(err, base, "MAX", "must not be less than %sMIN", AS_LABEL_PREFIX);
		bads++;
	}
	return bads ? -EINVAL : 1;
}

json_t *as_policy_json(const struct as_policy *p)
{
	json_t *j = json_pack("{s:s, s:f, s:f, s:I, s:I, s:I, s:f, s:f}", "metric",
			      p->metric == AS_METRIC_HTTP ? "http" : "cpu", "target", p->target,
			      "tolerance", p->tolerance, "minInstances", (json_int_t)p->min,
			      "maxInstances", (json_int_t)p->max, "step", (json_int_t)p->step,
			      "cooldownSeconds", p->cooldown, "intervalSeconds", p->interval);
	if (p->metric == AS_METRIC_HTTP) {
		json_object_set_new(j, "url", json_string(p->url));
		if (p->json_path[0])
			json_object_set_new(j, "jsonPath", json_string(p->json_path));
	}
	return j;
}

int as_metric_value(const char *body, size_t len, const char *json_path, double *out,
		    char *why, size_t whylen)
{
	if (len > AS_MAX_BODY) {
		snprintf(why, whylen, "the answer is over %u bytes", AS_MAX_BODY);
		return -EINVAL;
	}
	if (memchr(body, 0, len)) {
		snprintf(why, whylen, "the answer holds a NUL byte");
		return -EINVAL;
	}
	if (!json_path || !*json_path) {
		char buf[64];
		size_t a = 0, b = len;
		while (a < b && isspace((unsigned char)body[a]))
			a++;
		while (b > a && isspace((unsigned char)body[b - 1]))
			b--;
		if (b - a == 0 || b - a >= sizeof(buf)) {
			snprintf(why, whylen, "the answer is not a number");
			return -EINVAL;
		}
		memcpy(buf, body + a, b - a);
		buf[b - a] = 0;
		if (read_num(buf, out) < 0) {
			snprintf(why, whylen, "the answer is not a number");
			return -EINVAL;
		}
		return 0;
	}
	json_error_t je;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		snprintf(why, whylen, "the answer is not JSON: %s", je.text);
		return -EINVAL;
	}
	const json_t *cur = doc;
	char path[128];
	snprintf(path, sizeof(path), "%s", json_path);
	char *save = NULL;
	for (char *key = strtok_r(path, ".", &save); key && cur; key = strtok_r(NULL, ".", &save))
		cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
	int r = 0;
	if (cur && json_is_number(cur) && isfinite(json_number_value(cur)))
		*out = json_number_value(cur);
	else if (!cur || !json_is_string(cur) || read_num(json_string_value(cur), out) < 0)
		r = -EINVAL;
	if (r < 0)
		snprintf(why, whylen, "the answer has no number at %s", json_path);
	json_decref(doc);
	return r;
}

int64_t as_decide(const struct as_policy *p, int64_t n, double avg, unsigned nsamples,
		  bool stateful, char *reason, size_t rlen)
{
	int64_t step = stateful ? 1 : p->step;
	reason[0] = 0;
	if (n < p->min) {
		int64_t to = n + step < p->min ? n + step : p->min;
		snprintf(reason, rlen, "%lld instance(s) is below the policy's minimum %lld",
			 (long long)n, (long long)p->min);
		return to;
	}
	if (n > p->max) {
		int64_t to = n - step > p->max ? n - step : p->max;
		snprintf(reason, rlen, "%lld instance(s) is above the policy's maximum %lld",
			 (long long)n, (long long)p->max);
		return to;
	}
	if (!nsamples || n == 0)
		return n;
	double ratio = avg / p->target;
	if (fabs(ratio - 1) <= p->tolerance)
		return n;
	/* the count that would bring the average to the target (as Kubernetes' HPA does) */
	double want = ceil((double)n * ratio - 1e-9);
	int64_t to = want > (double)p->max ? p->max : want < (double)p->min ? p->min : (int64_t)want;
	if (to > n + step)
		to = n + step;
	if (to < n - step)
		to = n - step;
	if (to == n)
		return n;
	snprintf(reason, rlen, "average %s %.4g over %u instance(s) is %s the target %.4g "
			       "(tolerance %.0f%%)",
		 p->metric == AS_METRIC_HTTP ? "metric" : "cpu use", avg, nsamples,
		 to > n ? "above" : "below", p->target, p->tolerance * 100);
	return to;
}
