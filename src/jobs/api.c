/* The Chronos REST API (reference/compat.md §6, docs/jobs.md): under /scheduler and
 * /v1/scheduler. A success without a body is 204; an error is 400 {"status": "Bad Request",
 * "message": …}. Writes are in the store before the answer. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "net/http.h"
#include "jobs/jobs-int.h"

static void reply_bad(struct evhttp_request *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply_bad(struct evhttp_request *req, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *m = json_string(msg);
	if (!m)
		m = json_string("(message not valid UTF-8)");
	http_reply_json(req, 400, json_pack("{s:s, s:o}", "status", "Bad Request", "message", m));
}

static void reply_store_error(struct evhttp_request *req, int e)
{
	http_reply_json(req, 503, json_pack("{s:s, s:s}", "status", "Service Unavailable",
					    "message", strerror(-e)));
}

static void reply_204(struct evhttp_request *req)
{
	http_reply_text(req, 204, "");
}

static int64_t now_ms(void)
{
	return (int64_t)(time_real_usec() / 1000);
}

static struct job *job_get(struct jobs *j, struct evhttp_request *req, const char *name)
{
	struct job *jb = name ? hmap_get(&j->jobs, name) : NULL;
	if (!jb)
		reply_bad(req, "JobSchedule '%.200s' not found", name ? name : "");
	return jb;
}

/* ---- POST iso8601 / dependency ---- */

static void post_job(struct jobs *j, struct evhttp_request *req, bool dependent)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_PUT) {
		http_reply_message(req, 405, "Method not allowed");
		return;
	}
	json_t *body;
	char err[512];
	if (http_request_json(req, &body, err, sizeof(err)) < 0) {
		reply_bad(req, "%s", err);
		return;
	}
	struct job *jb;
	int r = job_from_body(j, body, dependent, now_ms(), &jb, err, sizeof(err));
	json_decref(body);
	if (r < 0) {
		reply_bad(req, "%s", err);
		return;
	}
	struct job *old = hmap_get(&j->jobs, jb->name);
	if (!old && hmap_len(&j->jobs) >= JOBS_MAX) {
		reply_bad(req, "at most %d jobs", JOBS_MAX);
		job_free(jb);
		return;
	}
	if (jobs_register(j) < 0) {
		reply_bad(req, "the resource manager takes no more frameworks");
		job_free(jb);
		return;
	}
	if (old) {
		/* replaced: its counters and history stay */
		jb->success_count = old->success_count;
		jb->error_count = old->error_count;
		jb->errors_since = old->errors_since;
		jb->skip_count = old->skip_count;
		memcpy(jb->last_success, old->last_success, sizeof(jb->last_success));
		memcpy(jb->last_error, old->last_error, sizeof(jb->last_error));
		memcpy(jb->hist, old->hist, sizeof(jb->hist));
		for (size_t i = 0; i < JOB_HISTORY; i++)
			old->hist[i].task_id = old->hist[i].instance = NULL; /* jb's now */
		jb->nhist = old->nhist;
		jb->hist_at = old->hist_at;
		jb->nruns = old->nruns;
		/* the same schedule posted again (a client re-posting its definition): the runs
		 * already passed stay passed, none runs twice */
		if (!old->dependent && !jb->dependent && old->sched.anchor_ms == jb->sched.anchor_ms &&
		    old->sched.repeats == jb->sched.repeats &&
		    !strcmp(old->sched.period_text, jb->sched.period_text) &&
		    !strcmp(old->sched.tz, jb->sched.tz) && old->sched.offset_sec == jb->sched.offset_sec)
			jsched_set_index(&jb->sched, old->sched.n);
	}
	r = jobs_store_job(j, jb);
	if (r < 0) {
		job_free(jb);
		reply_store_error(req, r);
		return;
	}
	job_free(hmap_put(&j->jobs, jb->name, jb));
	jobs_changed(j);
	reply_204(req);
}

void jobs_http_iso8601(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	post_job(j, req, false);
}

void jobs_http_dependency(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	post_job(j, req, true);
}

/* ---- listing ---- */

static int by_name(const void *a, const void *b)
{
	const struct job *x = *(const struct job *const *)a, *y = *(const struct job *const *)b;
	return strcmp(x->name, y->name);
}

/* Every job, by name (the array is the caller's to free). */
static struct job **sorted(struct jobs *j, size_t *n)
{
	struct job **v = xmalloc((hmap_len(&j->jobs) + 1) * sizeof(*v));
	size_t k = 0;
	const char *key;
	void *val;
	for (size_t i = 0; hmap_next(&j->jobs, &i, &key, &val);)
		v[k++] = val;
	qsort(v, k, sizeof(*v), by_name);
	*n = k;
	return v;
}

void jobs_http_jobs(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_DELETE) {
		/* every job and its pending runs */
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(&j->jobs, &i, &k, &v);)
			jobs_kill(j, k);
		int r = store_txn_begin(j->store);
		for (size_t i = 0; r >= 0 && hmap_next(&j->jobs, &i, &k, &v);)
			r = jobs_store_job_delete(j, k);
		if (r >= 0)
			r = store_txn_commit(j->store);
		if (r < 0) {
			store_txn_abort(j->store);
			reply_store_error(req, r);
			return;
		}
		for (size_t i = 0; hmap_next(&j->jobs, &i, &k, &v);) {
			hmap_del(&j->jobs, k);
			job_free(v);
		}
		jobs_changed(j);
		reply_204(req);
		return;
	}
	size_t n;
	struct job **v = sorted(j, &n);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, job_to_json(v[i]));
	free(v);
	http_reply_json(req, 200, a);
}

static const char *run_state(const struct jobs *j, const struct job *jb, char *buf, size_t len)
{
	unsigned running = 0, queued = 0;
	for (size_t i = 0; i < j->nruns; i++) {
		const struct job_run *r = j->runs[i];
		if (strcmp(r->name, jb->name))
			continue;
		if (r->state && !strcmp(r->state, "TASK_RUNNING"))
			running++;
		else
			queued++;
	}
	if (running)
		snprintf(buf, len, "%u running", running);
	else if (queued)
		snprintf(buf, len, "queued");
	else
		snprintf(buf, len, "idle");
	return buf;
}

void jobs_http_summary(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	size_t n;
	struct job **v = sorted(j, &n);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char st[32];
		json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "name", v[i]->name, "status",
				      job_status(v[i]), "state", run_state(j, v[i], st, sizeof(st)),
				      "disabled", v[i]->disabled);
		json_t *full = job_to_json(v[i]);
		json_t *sc = json_object_get(full, "schedule"), *p = json_object_get(full, "parents");
		json_object_set_new(o, "schedule", sc ? json_incref(sc) : json_string(""));
		json_object_set_new(o, "parents", p ? json_incref(p) : json_array());
		json_decref(full);
		json_array_append_new(a, o);
	}
	free(v);
	http_reply_json(req, 200, json_pack("{s:o}", "jobs", a));
}

static bool icontains(const char *hay, const char *needle)
{
	if (!needle || !*needle)
		return true;
	if (!hay)
		return false;
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

void jobs_http_search(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	_cleanup_free_ char *name = http_query_get(req, "name");
	_cleanup_free_ char *command = http_query_get(req, "command");
	_cleanup_free_ char *any = http_query_get(req, "any");
	_cleanup_free_ char *limit_s = http_query_get(req, "limit");
	_cleanup_free_ char *offset_s = http_query_get(req, "offset");
	uint64_t limit = 10, offset = 0;
	if ((limit_s && *limit_s && parse_u64(limit_s, &limit) < 0) ||
	    (offset_s && *offset_s && parse_u64(offset_s, &offset) < 0)) {
		reply_bad(req, "'limit' and 'offset' must be non-negative integers");
		return;
	}
	size_t n;
	struct job **v = sorted(j, &n);
	json_t *a = json_array();
	uint64_t seen = 0;
	for (size_t i = 0; i < n && json_array_size(a) < limit; i++) {
		const char *cmd = json_string_value(json_object_get(v[i]->def, "command"));
		const char *desc = json_string_value(json_object_get(v[i]->def, "description"));
		if (!icontains(v[i]->name, name) || !icontains(cmd, command))
			continue;
		if (any && *any && !icontains(v[i]->name, any) && !icontains(cmd, any) &&
		    !icontains(desc, any))
			continue;
		if (seen++ < offset)
			continue;
		json_array_append_new(a, job_to_json(v[i]));
	}
	free(v);
	http_reply_json(req, 200, a);
}

/* ---- one job ---- */

/* Deletes jb, re-parenting its children as Chronos does: the children of a dependent job take
 * its parents; those of a scheduled job become scheduled jobs with its schedule. */
static int job_delete(struct jobs *j, struct job *jb)
{
	jobs_kill(j, jb->name);
	int r = store_txn_begin(j->store);
	if (r < 0)
		return r;
	const char *k;
	void *v;
	struct job **kids = xmalloc((hmap_len(&j->jobs) + 1) * sizeof(*kids));
	size_t nkids = 0;
	for (size_t i = 0; hmap_next(&j->jobs, &i, &k, &v);) {
		struct job *c = v;
		if (c != jb && c->dependent && job_has_parent(c, jb->name))
			kids[nkids++] = c;
	}
	hmap_del(&j->jobs, jb->name); /* the children are checked against the jobs without it */
	for (size_t i = 0; r >= 0 && i < nkids; i++) {
		struct job *c = kids[i];
		json_t *np = json_array();
		for (size_t p = 0; p < c->nparents; p++)
			if (strcmp(c->parents[p], jb->name))
				json_array_append_new(np, json_string(c->parents[p]));
		if (jb->dependent)
			for (size_t p = 0; p < jb->nparents; p++)
				if (!job_has_parent(c, jb->parents[p]))
					json_array_append_new(np, json_string(jb->parents[p]));
		json_t *def = json_deep_copy(c->def);
		if (json_array_size(np)) {
			json_object_set_new(def, "parents", np);
		} else {
			json_decref(np);
			json_object_del(def, "parents");
			char buf[JSCHED_MAX_TEXT + 64];
			if (jsched_format(&jb->sched, true, buf, sizeof(buf)) > 0)
				json_object_set_new(def, "schedule", json_string(buf));
			if (jb->sched.tz[0])
				json_object_set_new(def, "scheduleTimeZone", json_string(jb->sched.tz));
		}
		char err[256];
		struct job *nc;
		int e = job_from_body(j, def, json_object_get(def, "parents") != NULL, now_ms(), &nc,
				      err, sizeof(err));
		json_decref(def);
		if (e < 0)
			continue;
		nc->success_count = c->success_count;
		nc->error_count = c->error_count;
		nc->errors_since = c->errors_since;
		memcpy(nc->last_success, c->last_success, sizeof(nc->last_success));
		memcpy(nc->last_error, c->last_error, sizeof(nc->last_error));
		nc->nruns = c->nruns;
		r = jobs_store_job(j, nc);
		job_free(hmap_put(&j->jobs, nc->name, nc));
	}
	free(kids);
	if (r >= 0)
		r = jobs_store_job_delete(j, jb->name);
	if (r >= 0)
		r = store_txn_commit(j->store);
	jobs_changed(j);
	if (r < 0) {
		store_txn_abort(j->store);
		hmap_put(&j->jobs, jb->name, jb);
		return r;
	}
	job_free(jb);
	return 0;
}

void jobs_http_job(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	struct job *jb = job_get(j, req, arg);
	if (!jb)
		return;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	if (m == EVHTTP_REQ_GET) {
		http_reply_json(req, 200, job_to_json(jb));
	} else if (m == EVHTTP_REQ_DELETE) {
		int r = job_delete(j, jb);
		if (r < 0)
			reply_store_error(req, r);
		else
			reply_204(req);
	} else {
		/* PUT: run now */
		_cleanup_free_ char *args = http_query_get(req, "arguments");
		if (args && strlen(args) > 4096) {
			reply_bad(req, "'arguments' is longer than 4096 bytes");
			return;
		}
		int r = store_txn_begin(j->store);
		int64_t t = now_ms();
		struct job_run *run = NULL;
		while (r >= 0 && (r = jobs_run_add(j, jb, t, true, args, &run)) == -EEXIST)
			t++, r = 0;
		if (r >= 0)
			r = store_txn_commit(j->store);
		if (r < 0) {
			store_txn_abort(j->store);
			if (r == -E2BIG)
				reply_bad(req, "too many runs pending (%d)", JOB_MAX_RUNS);
			else
				reply_store_error(req, r);
			return;
		}
		jobs_pass(j);
		reply_204(req);
	}
}

void jobs_http_success(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	struct job *jb = job_get(j, req, arg);
	if (!jb)
		return;
	int r = store_txn_begin(j->store);
	if (r >= 0) {
		jobs_result(j, jb, true, now_ms(), 0, "MARKED_SUCCESS", 0, NULL);
		r = store_txn_commit(j->store);
	}
	if (r < 0) {
		store_txn_abort(j->store);
		reply_store_error(req, r);
		return;
	}
	char msg[300];
	snprintf(msg, sizeof(msg), "marked job %s as successful: true", jb->name);
	http_reply_text(req, 200, msg);
}

void jobs_http_kill(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	if (!job_get(j, req, arg))
		return;
	jobs_kill(j, arg);
	reply_204(req);
}

/* ---- the graph ---- */

void jobs_http_graph_dot(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	size_t n;
	struct job **v = sorted(j, &n);
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "digraph G {\n  node [style=filled];\n");
	for (size_t i = 0; i < n; i++) {
		const char *st = job_status(v[i]);
		const char *color = !strcmp(st, "success") ? "lightgreen"
				  : !strcmp(st, "failure") ? "salmon" : "white";
		strbuf_addf(&sb, "  \"%s\" [fillcolor=%s];\n", v[i]->name, color);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t p = 0; p < v[i]->nparents; p++)
			strbuf_addf(&sb, "  \"%s\" -> \"%s\";\n", v[i]->parents[p], v[i]->name);
	strbuf_adds(&sb, "}\n");
	free(v);
	http_add_header(req, "Content-Type", "text/plain; charset=utf-8");
	http_reply_text(req, 200, strbuf_str(&sb));
	strbuf_release(&sb);
}

void jobs_http_graph_csv(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	size_t n;
	struct job **v = sorted(j, &n);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		char st[32];
		strbuf_addf(&sb, "node,%s,%s,%s\n", v[i]->name, job_status(v[i]),
			    run_state(j, v[i], st, sizeof(st)));
	}
	for (size_t i = 0; i < n; i++)
		for (size_t p = 0; p < v[i]->nparents; p++)
			strbuf_addf(&sb, "link,%s,%s\n", v[i]->parents[p], v[i]->name);
	free(v);
	http_add_header(req, "Content-Type", "text/plain; charset=utf-8");
	http_reply_text(req, 200, strbuf_str(&sb));
	strbuf_release(&sb);
}

/* ---- stats ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Run times (seconds) of jb's finished runs that started, sorted. */
static size_t durations(const struct job *jb, double *out)
{
	size_t n = 0;
	for (size_t i = 0; i < jb->nhist; i++) {
		const struct job_result *h = &jb->hist[i];
		if (h->started_ms && h->finished_ms >= h->started_ms)
			out[n++] = (double)(h->finished_ms - h->started_ms) / 1000.0;
	}
	qsort(out, n, sizeof(*out), cmp_double);
	return n;
}

static double pct(const double *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)ceil(p * (double)n) - (p > 0 ? 1 : 0);
	return v[i < n ? i : n - 1];
}

void jobs_http_job_stat(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	struct job *jb = job_get(j, req, arg);
	if (!jb)
		return;
	double d[JOB_HISTORY];
	size_t n = durations(jb, d);
	double mean = 0;
	for (size_t i = 0; i < n; i++)
		mean += d[i] / (double)n;
	json_t *hist = json_array();
	for (size_t i = 0; i < jb->nhist; i++) {
		const struct job_result *h = &jb->hist[(jb->hist_at + JOB_HISTORY - jb->nhist + i) %
							JOB_HISTORY];
		char s[32], f[32], sc[32];
		json_array_append_new(
			hist, json_pack("{s:s, s:s, s:s, s:s, s:i}", "scheduledAt",
					jsched_iso_utc(h->scheduled_ms, sc), "startedAt",
					h->started_ms ? jsched_iso_utc(h->started_ms, s) : "",
					"finishedAt", jsched_iso_utc(h->finished_ms, f), "taskState",
					h->state, "attempts", h->attempts));
	}
	http_reply_json(req, 200,
			json_pack("{s:{s:f, s:f, s:f, s:f, s:f, s:f, s:I}, s:o}", "histogram",
				  "75thPercentile", pct(d, n, 0.75), "95thPercentile",
				  pct(d, n, 0.95), "98thPercentile", pct(d, n, 0.98),
				  "99thPercentile", pct(d, n, 0.99), "median", pct(d, n, 0.5),
				  "mean", mean, "count", (json_int_t)n, "taskStatHistory", hist));
}

void jobs_http_stats(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	static const struct {
		const char *name;
		double p;
	} names[] = {
		{ "median", 0.5 }, { "75thPercentile", 0.75 }, { "95thPercentile", 0.95 },
		{ "98thPercentile", 0.98 }, { "99thPercentile", 0.99 }, { "999thPercentile", 0.999 },
	};
	double p = -1;
	for (size_t i = 0; arg && i < ARRAY_SIZE(names); i++)
		if (!strcmp(arg, names[i].name))
			p = names[i].p;
	if (p < 0) {
		reply_bad(req, "unknown percentile '%.64s' (median, 75thPercentile, 95thPercentile, "
			  "98thPercentile, 99thPercentile, 999thPercentile)", arg ? arg : "");
		return;
	}
	size_t n;
	struct job **v = sorted(j, &n);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		double d[JOB_HISTORY];
		size_t k = durations(v[i], d);
		if (k)
			json_array_append_new(a, json_pack("{s:s, s:f}", "jobNameLabel", v[i]->name,
							   "time", pct(d, k, p)));
	}
	free(v);
	http_reply_json(req, 200, a);
}

void jobs_http_leader(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	http_reply_json(req, 200, json_pack("{s:s}", "leader", j->leader));
}

void jobs_http_history(struct jobs *j, struct evhttp_request *req, const char *arg)
{
	struct job *jb = hmap_get(&j->jobs, arg ? arg : "");
	if (!jb) {
		http_reply_message(req, 404, "Job '%.200s' does not exist", arg ? arg : "");
		return;
	}
	json_t *runs = json_array();
	for (size_t i = 0; i < jb->nhist; i++) {
		const struct job_result *h = &jb->hist[(jb->hist_at + JOB_HISTORY - jb->nhist + i) %
							JOB_HISTORY];
		char s[32], f[32], sc[32];
		json_array_append_new(
			runs, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s?, s:s?}", "scheduledAt",
					jsched_iso_utc(h->scheduled_ms, sc), "startedAt",
					h->started_ms ? jsched_iso_utc(h->started_ms, s) : "",
					"finishedAt", jsched_iso_utc(h->finished_ms, f), "result",
					h->state, "attempts", h->attempts, "taskId", h->task_id,
					"instanceTaskId", h->instance));
	}
	json_t *pending = json_array();
	for (size_t i = 0; i < j->nruns; i++) {
		const struct job_run *r = j->runs[i];
		if (strcmp(r->name, jb->name))
			continue;
		char sc[32];
		json_array_append_new(pending,
				      json_pack("{s:s, s:i, s:s?, s:s?, s:s}", "scheduledAt",
						jsched_iso_utc(r->scheduled_ms, sc), "attempt",
						r->attempt, "taskId", r->task_id, "agentId",
						r->agent_id, "state", r->state ? r->state : "QUEUED"));
	}
	char next[32] = "";
	if (!jb->dependent && jsched_left(&jb->sched) != 0)
		jsched_iso_utc(jb->sched.start_ms, next);
	http_reply_json(req, 200,
			json_pack("{s:s, s:s, s:I, s:o, s:o}", "name", jb->name, "nextRun", next,
				  "skipCount", (json_int_t)jb->skip_count, "runs", runs, "pending",
				  pending));
}
