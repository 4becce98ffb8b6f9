/* Autoscaling: the loop that samples the apps with a policy and scales them (see the
 * invariants in autoscale.h), the history and GET /api/berth/autoscale[/{id}]. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/api-int.h"
#include "apps/autoscale.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "net/httpc.h"

#define AS_APPS_PER_TICK 256    /* apps looked at per tick for a new or changed policy */
#define AS_CALL_TIMEOUT_USEC (5ull * 1000 * 1000)
#define AS_CPU_WARMUP_USEC (5ull * 1000 * 1000) /* cpu metric: a task's first seconds */

struct as_decision {
	uint64_t at;           /* realtime usec */
	int64_t from, to;
	double value;          /* NAN: none */
	unsigned samples;
	char reason[200];
	char deployment[37];
};

struct as_call {
	struct as_state *st;
	struct httpc_call *c;
};

struct as_cpu_prev {
	double secs, ts;
	unsigned round;
	bool warm;  /* read after the task's warm-up */
};

struct as_state {
	struct apps *m;
	char *id;
	/* The labels the policy was read from, referenced: a new definition with other labels
	 * has another object (this one cannot be freed and its address reused meanwhile, as a
	 * definition's could: comparing definitions' addresses once kept a removed policy). */
	json_t *labels_seen;
	struct as_policy pol;
	uint64_t next_sample;       /* monotonic */
	uint64_t cooldown_until;    /* monotonic */
	uint64_t cooldown_until_real;
	struct as_call calls[AS_MAX_CALLS];
	unsigned ncalls, pending, round;
	bool round_done;
	double sum;
	unsigned nsamples, nerrors;
	char round_error[200];
	double last_value;          /* NAN until a round had samples */
	unsigned last_samples;
	uint64_t last_sample_at;    /* realtime */
	char last_error[200];
	struct as_decision hist[AS_HISTORY];
	unsigned hist_next, hist_len;
	struct hmap cpu_prev;       /* task id -> struct as_cpu_prev* */
};

struct autoscale {
	struct hmap states;         /* app id -> struct as_state* */
	size_t cursor;
};

static void state_free(struct as_state *st)
{
	for (unsigned i = 0; i < st->ncalls; i++)
		httpc_call_cancel(st->calls[i].c);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&st->cpu_prev, &i, &k, &v);)
		free(v);
	hmap_release(&st->cpu_prev);
	json_decref(st->labels_seen);
	free(st->id);
	free(st);
}

void autoscale_free(struct apps *m)
{
	struct autoscale *as = m->as;
	if (!as)
		return;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&as->states, &i, &k, &v);)
		state_free(v);
	hmap_release(&as->states);
	free(as);
	m->as = NULL;
}

int autoscale_check(const struct app *def, struct verr *err)
{
	struct as_policy p;
	return as_policy_parse(def->labels, "/", &p, err) < 0 ? -EINVAL : 0;
}

static void sample(struct as_state *st, double v)
{
	st->sum += v;
	st->nsamples++;
}

static void call_error(struct as_state *st, const char *fmt, const char *a, const char *b)
{
	st->nerrors++;
	snprintf(st->round_error, sizeof(st->round_error), fmt, a, b);
}

/* the app's tasks in a /monitor/statistics answer: cpu use since the last round */
static void cpu_answer(struct apps *m, struct as_state *st, const char *body, size_t len)
{
	json_t *arr = json_loadb(body, len, 0, NULL);
	if (!json_is_array(arr)) {
		call_error(st, "an agent's /monitor/statistics is not a JSON array%s%s", "", "");
		json_decref(arr);
		return;
	}
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		const char *tid = json_string_value(json_object_get(e, "source"));
		if (!tid)
			tid = json_string_value(json_object_get(e, "executor_id"));
		struct m_instance *in = tid ? hmap_get(&m->tasks, tid) : NULL;
		if (!in || !in->app || !in->app->def || strcmp(in->app->def->id, st->id))
			continue;
		json_t *s = json_object_get(e, "statistics");
		double secs = json_number_value(json_object_get(s, "cpus_user_time_secs")) +
			      json_number_value(json_object_get(s, "cpus_system_time_secs"));
		double ts = json_number_value(json_object_get(s, "timestamp"));
		double lim = json_number_value(json_object_get(s, "cpus_limit"));
		if (!(lim > 0))
			lim = in->app->def->cpus > 0 ? in->app->def->cpus : 1;
		struct as_cpu_prev *p = hmap_get(&st->cpu_prev, tid);
		/* a task's start (an interpreter loading, caches filling) is no load: its
		 * first AS_CPU_WARMUP_USEC are not sampled, as Kubernetes' HPA does */
		bool warm = in->started_at && time_real_usec() - in->started_at >= AS_CPU_WARMUP_USEC;
		if (p && p->warm && ts > p->ts && secs >= p->secs)
			sample(st, (secs - p->secs) / (ts - p->ts) / lim);
		if (!p) {
			p = xcalloc(1, sizeof(*p));
			hmap_put(&st->cpu_prev, tid, p);
		}
		p->secs = secs;
		p->ts = ts;
		p->round = st->round;
		p->warm = warm; /* the next sample starts from this reading */
	}
	json_decref(arr);
}

static void on_answer(int r, const struct httpc_response *resp, const char *err, void *arg)
{
	struct as_call *c = arg;
	struct as_state *st = c->st;
	c->c = NULL;
	if (r < 0) {
		call_error(st, "%s%s", err, "");
	} else if (resp->status != 200) {
		char code[16];
		snprintf(code, sizeof(code), "%d", resp->status);
		call_error(st, "an instance answered HTTP %s%s", code, "");
	} else if (st->pol.metric == AS_METRIC_HTTP) {
		double v;
		char why[160];
		if (as_metric_value(resp->body, resp->body_len, st->pol.json_path, &v, why,
				    sizeof(why)) == 0)
			sample(st, v);
		else
			call_error(st, "%s%s", why, "");
	} else {
		cpu_answer(st->m, st, resp->body, resp->body_len);
	}
	if (--st->pending == 0)
		st->round_done = true;
}

/* $HOST, $PORT, $PORT0..$PORT9 of in replaced in tmpl (malloc'd). */
static char *expand_url(const char *tmpl, const char *host, const struct m_instance *in)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *s = tmpl; *s;) {
		if (!strncmp(s, "$HOST", 5)) {
			strbuf_adds(&sb, host);
			s += 5;
		} else if (!strncmp(s, "$PORT", 5)) {
			unsigned idx = 0;
			s += 5;
			if (*s >= '0' && *s <= '9')
				idx = (unsigned)(*s++ - '0');
			if (idx < in->nports)
				strbuf_addf(&sb, "%u", (unsigned)in->ports[idx]);
		} else {
			strbuf_add(&sb, s++, 1);
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* tls: an HTTPS agent's call, made with the master's CA and client certificate
 * (apps_set_agent_tls); else the system's CAs and none. */
static bool start_call(struct apps *m, struct as_state *st, const char *url, const char *auth,
		       bool tls)
{
	if (st->ncalls >= AS_MAX_CALLS)
		return false;
	struct as_call *c = &st->calls[st->ncalls];
	c->st = st;
	uint64_t t = (uint64_t)(st->pol.interval * 1e6);
	struct httpc_request req = { .method = "GET", .url = url,
				     .timeout_usec = t < AS_CALL_TIMEOUT_USEC ? t : AS_CALL_TIMEOUT_USEC,
				     .max_body = st->pol.metric == AS_METRIC_HTTP ? AS_MAX_BODY
										  : 0,
				     .accept = "application/json, text/plain, */*",
				     .authorization = auth,
				     .cacert = tls ? m->agent_ca : NULL,
				     .client_cert = tls ? m->agent_cert : NULL,
				     .client_key = tls ? m->agent_key : NULL };
	c->c = httpc_call_start(m->base, &req, on_answer, c);
	if (!c->c)
		return false;
	st->ncalls++;
	st->pending++;
	return true;
}

static bool running(const struct m_instance *in)
{
	return in->phase == INST_LIVE && in->goal == GOAL_RUN && in->agent_id && in->state &&
	       !strcmp(in->state, "TASK_RUNNING");
}

static void start_round(struct apps *m, struct as_state *st, struct m_app *ma)
{
	st->ncalls = 0;
	st->pending = 0;
	st->sum = 0;
	st->nsamples = st->nerrors = 0;
	st->round_error[0] = 0;
	st->round++;
	if (st->pol.metric == AS_METRIC_HTTP) {
		for (size_t i = 0; i < ma->ninst; i++) {
			struct m_instance *in = ma->inst[i];
			struct m_agent *a = running(in) ? rm_agent_get(m->rm, in->agent_id) : NULL;
			if (!a)
				continue;
			char *url = expand_url(st->pol.url, a->hostname, in);
			bool ok = start_call(m, st, url, NULL, false);
			free(url);
			if (!ok)
				break;
		}
	} else {
		/* one call per agent that runs an instance of the app */
		struct hmap agents;
		hmap_init(&agents);
		for (size_t i = 0; i < ma->ninst; i++) {
			struct m_instance *in = ma->inst[i];
			struct m_agent *a = running(in) ? rm_agent_get(m->rm, in->agent_id) : NULL;
			if (!a || !a->http || hmap_get(&agents, a->id))
				continue;
			hmap_put(&agents, a->id, a);
			/* as the master's sandbox proxy: the agent's scheme, its token for the
			 * leading master, and over HTTPS the master's CA and certificate
			 * (docs/security.md) */
			char *url = xasprintf("%s://%s/monitor/statistics",
					      a->http_tls ? "https" : "http", a->http);
			char *auth = a->http_token ? xasprintf("Bearer %s", a->http_token) : NULL;
			bool ok = start_call(m, st, url, auth, a->http_tls);
			free(auth);
			free(url);
			if (!ok)
				break;
		}
		hmap_release(&agents);
		/* forget tasks not seen for a while */
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(&st->cpu_prev, &i, &k, &v);) {
			struct as_cpu_prev *p = v;
			if (st->round - p->round > 3) {
				hmap_del(&st->cpu_prev, k);
				free(p);
				i = 0;
			}
		}
	}
	if (!st->pending)
		st->round_done = true;
}

/* Scales ma to n as PUT /v2/apps/{id} {"instances": n} does: 0 and the deployment's id. */
static int scale_app(struct apps *m, struct m_app *ma, int64_t n, char *dep, size_t dlen)
{
	json_t *patch = json_pack("{s:I}", "instances", (json_int_t)n);
	json_t *merged = app_merge(ma->def->json, patch);
	json_decref(patch);
	struct verr err = VERR_INIT;
	struct app *def;
	int r = app_parse(merged, "/", &err, &def);
	json_decref(merged);
	verr_release(&err);
	if (r < 0)
		return r;
	app_set_version(def, time_real_usec(), false, ma->config_version);
	apps_assign_service_ports(m, def, ma->def);
	struct api_commit c;
	api_commit_prepare(m, &c, ma, def, "ScaleApplication", false);
	r = api_commit_store(m, &c);
	if (r < 0)
		return r;
	api_commit_finish(m, NULL, &c, true);
	snprintf(dep, dlen, "%s", ma->deploy ? ma->deploy->id : "");
	return 0;
}

static json_t *decision_json(const struct as_state *st, const struct as_decision *d)
{
	char ts[32];
	json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:f, s:I}", "appId", st->id,
			      "timestamp", time_iso8601(d->at, ts), "from", (json_int_t)d->from,
			      "to", (json_int_t)d->to, "reason", d->reason, "metric",
			      st->pol.metric == AS_METRIC_HTTP ? "http" : "cpu", "target",
			      st->pol.target, "samples", (json_int_t)d->samples);
	json_object_set_new(j, "value", isnan(d->value) ? json_null() : json_real(d->value));
	json_object_set_new(j, "deploymentId",
			    d->deployment[0] ? json_string(d->deployment) : json_null());
	return j;
}

static void decide(struct apps *m, struct as_state *st, struct m_app *ma)
{
	uint64_t now = time_mono_usec();
	double avg = st->nsamples ? st->sum / st->nsamples : NAN;
	if (st->nsamples) {
		st->last_value = avg;
		st->last_sample_at = time_real_usec();
	}
	st->last_samples = st->nsamples;
	snprintf(st->last_error, sizeof(st->last_error), "%s", st->round_error);
	if (ma->deploy || now < st->cooldown_until)
		return;
	char reason[200];
	int64_t n = ma->def->instances;
	int64_t to = as_decide(&st->pol, n, avg, st->nsamples, ma->def->stateful, reason,
			       sizeof(reason));
	if (to == n)
		return;
	struct as_decision d = { .at = time_real_usec(), .from = n, .to = to, .value = avg,
				 .samples = st->nsamples };
	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	int r = scale_app(m, ma, to, d.deployment, sizeof(d.deployment));
	if (r < 0) {
		snprintf(st->last_error, sizeof(st->last_error), "cannot scale to %lld: %s",
			 (long long)to, strerror(-r));
		log_warn("master", "autoscale '%s': %s", st->id, st->last_error);
		return;
	}
	log_info("master", "autoscale '%s': %lld -> %lld: %s", st->id, (long long)n,
		 (long long)to, reason);
	st->cooldown_until = now + (uint64_t)(st->pol.cooldown * 1e6);
	st->cooldown_until_real = d.at + (uint64_t)(st->pol.cooldown * 1e6);
	st->hist[st->hist_next] = d;
	st->hist_next = (st->hist_next + 1) % AS_HISTORY;
	if (st->hist_len < AS_HISTORY)
		st->hist_len++;
	json_t *ev = decision_json(st, &d);
	json_object_del(ev, "timestamp"); /* the bus adds its own */
	apps_publish_event(m, "autoscale_decision", ev);
}

/* A valid policy of ma's current definition into st (re-read when the definition changed).
 * false: none (or an invalid one, from a store written before it was checked). */
static bool refresh_policy(struct as_state *st, struct m_app *ma)
{
	if (st->labels_seen && st->labels_seen == ma->def->labels)
		return true;
	struct verr err = VERR_INIT;
	int r = as_policy_parse(ma->def->labels, "/", &st->pol, &err);
	verr_release(&err);
	if (r <= 0)
		return false;
	json_decref(st->labels_seen);
	st->labels_seen = json_incref(ma->def->labels);
	return true;
}

void autoscale_tick(struct apps *m)
{
	if (!m->as) {
		m->as = xcalloc(1, sizeof(*m->as));
		hmap_init(&m->as->states);
	}
	struct autoscale *as = m->as;
	/* find apps with a policy that have no state yet, a bounded slice per tick */
	const char *k;
	void *v;
	for (unsigned n = 0; n < AS_APPS_PER_TICK; n++) {
		if (!hmap_next(&m->apps, &as->cursor, &k, &v)) {
			as->cursor = 0;
			break;
		}
		struct m_app *ma = v;
		if (ma->deleting || hmap_get(&as->states, k) || !ma->def->labels ||
		    !json_object_get(ma->def->labels, AS_LABEL_PREFIX "TARGET"))
			continue;
		struct as_state *st = xcalloc(1, sizeof(*st));
		st->m = m;
		st->id = xstrdup(k);
		st->last_value = NAN;
		hmap_init(&st->cpu_prev);
		if (!refresh_policy(st, ma)) {
			state_free(st);
			continue;
		}
		hmap_put(&as->states, st->id, st);
	}
	uint64_t now = time_mono_usec();
	for (size_t i = 0; hmap_next(&as->states, &i, &k, &v);) {
		struct as_state *st = v;
		struct m_app *ma = apps_get(m, st->id);
		if (!ma || ma->deleting || !refresh_policy(st, ma)) {
			hmap_del(&as->states, st->id);
			state_free(st);
			i = 0; /* the map changed: start over (states already done wait a round) */
			continue;
		}
		if (st->pending)
			continue;
		if (st->round_done) {
			st->round_done = false;
			decide(m, st, ma);
		}
		if (now >= st->next_sample) {
			st->next_sample = now + (uint64_t)(st->pol.interval * 1e6);
			start_round(m, st, ma);
		}
	}
}

static json_t *state_json(struct apps *m, const struct m_app *ma, const struct as_state *st,
			  const struct as_policy *p)
{
	char ts[32];
	json_t *j = json_pack("{s:s, s:o, s:I}", "appId", ma->def->id, "policy",
			      as_policy_json(p), "instances", (json_int_t)ma->def->instances);
	json_t *dec = json_array();
	bool have = st && !isnan(st->last_value);
	json_object_set_new(j, "lastValue", have ? json_real(st->last_value) : json_null());
	json_object_set_new(j, "lastSamples", json_integer(st ? st->last_samples : 0));
	json_object_set_new(j, "lastSampleAt",
			    have ? json_string(time_iso8601(st->last_sample_at, ts)) : json_null());
	json_object_set_new(j, "lastError",
			    st && st->last_error[0] ? json_string(st->last_error) : json_null());
	bool cool = st && time_mono_usec() < st->cooldown_until;
	json_object_set_new(j, "cooldownUntil",
			    cool ? json_string(time_iso8601(st->cooldown_until_real, ts))
				 : json_null());
	for (unsigned i = 0; st && i < st->hist_len; i++) {
		unsigned at = (st->hist_next + AS_HISTORY - 1 - i) % AS_HISTORY;
		json_t *d = decision_json(st, &st->hist[at]);
		json_object_del(d, "appId");
		json_array_append_new(dec, d);
	}
	json_object_set_new(j, "decisions", dec);
	return j;
}

void apps_http_autoscale(struct apps *m, struct evhttp_request *req, const char *arg,
			 const char *arg2)
{
	struct hmap *states = m->as ? &m->as->states : NULL;
	if (!arg) {
		json_t *arr = json_array();
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
			struct m_app *ma = v;
			struct as_policy p;
			struct verr err = VERR_INIT;
			int r = ma->deleting || !apps_visible(m, req, k)
					? 0
					: as_policy_parse(ma->def->labels, "/", &p, &err);
			verr_release(&err);
			if (r > 0)
				json_array_append_new(arr, state_json(m, ma, states ? hmap_get(states, k)
										  : NULL, &p));
		}
		http_reply_json(req, 200, json_pack("{s:o}", "apps", arr));
		return;
	}
	char id[APP_MAX_ID_LEN + 1], why[200];
	if (app_id_canonical(arg, "/", id, why, sizeof(why)) < 0) {
		http_reply_message(req, 400, "%s", why);
		return;
	}
	struct m_app *ma = apps_get(m, id);
	if (!ma || ma->deleting || !apps_visible(m, req, id)) {
		http_reply_message(req, 404, "App '%s' does not exist", id);
		return;
	}
	struct as_policy p;
	struct verr err = VERR_INIT;
	int r = as_policy_parse(ma->def->labels, "/", &p, &err);
	verr_release(&err);
	if (r <= 0) {
		http_reply_message(req, 404, "App '%s' has no autoscaling policy (labels %s*)", id,
				   AS_LABEL_PREFIX);
		return;
	}
	http_reply_json(req, 200, state_json(m, ma, states ? hmap_get(states, id) : NULL, &p));
}
