/* Autoscaling (Relay's job, issue 19): an app's policy, written as labels of its Marathon
 * definition (BERTH_AUTOSCALE_*: docs/api.md "Autoscaling"), and the loop that follows it.
 *
 * Why labels: a Marathon client keeps, shows and round-trips an app's labels unchanged and
 * never acts on them, so an app with a policy is still exactly Marathon's JSON on every
 * Marathon path (the wire rule); marathon-autoscale and Relay carry their policies the same
 * way. Labels are strings, so every value is a string that must read as the number asked.
 *
 * Invariants of the loop (autoscale.c):
 *  - one state per app with a valid policy, owned by struct autoscale, keyed by app id; a
 *    state whose app is gone, being deleted or without a policy is freed on the next tick,
 *    its HTTP calls canceled first (no callback ever sees a freed state);
 *  - a sampling round asks at most AS_MAX_CALLS peers, each with a deadline; the decision
 *    runs once the round's last call has answered (or failed), in the next tick;
 *  - a decision only scales an app that has no deployment in flight, outside its cooldown,
 *    to a count within [min, max], by at most step instances (1 for stateful apps), through
 *    the same commit as PUT /v2/apps/{id} {"instances": n} (a ScaleApplication deployment);
 *  - every scaling decision is kept in a ring of AS_HISTORY per app (memory only: a master
 *    that restarts or fails over starts with an empty history) and published on /v2/events
 *    as the opt-in type "autoscale_decision". */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json/verr.h"

#define AS_LABEL_PREFIX "BERTH_AUTOSCALE_"
#define AS_MAX_INSTANCES 1000
#define AS_MAX_CALLS 64
#define AS_HISTORY 20
#define AS_MAX_BODY (64u * 1024)

enum as_metric { AS_METRIC_CPU, AS_METRIC_HTTP };

struct as_policy {
	enum as_metric metric;
	char url[512];        /* AS_METRIC_HTTP: template with $HOST, $PORT, $PORT0..$PORT9 */
	char json_path[128];  /* "" (the body is a number) or "a.b.c" into a JSON object */
	double target;        /* per instance: the metric's value the policy keeps */
	double tolerance;     /* no change while |value/target - 1| <= tolerance */
	int64_t min, max, step;
	double cooldown;      /* seconds after a scaling before the next one */
	double interval;      /* seconds between samples */
};

/* Reads the policy from an app's labels (NULL or an object of strings). 1 and *p when the
 * labels hold one, 0 when no label starts with AS_LABEL_PREFIX, -EINVAL with one verr entry
 * per bad label (path "<base>/labels/<name>") otherwise. */
int as_policy_parse(const json_t *labels, const char *base, struct as_policy *p,
		    struct verr *err);
/* The policy as the API shows it (new reference). */
json_t *as_policy_json(const struct as_policy *p);
/* Reads a metric from a response body (untrusted bytes, len of them): with json_path ""
 * the whole body (blanks around allowed) is one finite number; otherwise a JSON object in
 * which the dot-separated path names a number (or a string holding one). 0 and *out, or
 * -EINVAL with why. */
int as_metric_value(const char *body, size_t len, const char *json_path, double *out,
		    char *why, size_t whylen);
/* The instance count a decision goes to from n instances with the average value avg over
 * nsamples instances (nsamples 0: no value), stateful apps one at a time; reason written. */
int64_t as_decide(const struct as_policy *p, int64_t n, double avg, unsigned nsamples,
		  bool stateful, char *reason, size_t rlen);
