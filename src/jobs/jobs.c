/* The jobs framework's life cycle and store: jobs under jobs/def/<name>, pending runs under
 * jobs/run/<name>/<scheduled ms> (jobs-int.h states the invariants). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/timeutil.h"
#include "jobs/jobs-int.h"

/* ---- the store ---- */

static void run_key(const char *name, int64_t sched_ms, char *key, size_t len)
{
	snprintf(key, len, "jobs/run/%s/%013" PRId64, name, sched_ms);
}

int jobs_store_job(struct jobs *j, const struct job *jb)
{
	char key[64 + JOB_MAX_NAME];
	snprintf(key, sizeof(key), "jobs/def/%s", jb->name);
	json_t *o = job_store_json(jb);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	int r = store_put(j->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

int jobs_store_job_delete(struct jobs *j, const char *name)
{
	char key[64 + JOB_MAX_NAME];
	snprintf(key, sizeof(key), "jobs/def/%s", name);
	int r = store_delete(j->store, key, STORE_ANY_VERSION);
	return r == -ENOENT ? 0 : r;
}

int jobs_store_run(struct jobs *j, const struct job_run *r)
{
	char key[96 + JOB_MAX_NAME];
	run_key(r->name, r->scheduled_ms, key, sizeof(key));
	json_t *o = json_pack("{s:s, s:I, s:i, s:b, s:s?, s:s?, s:s?, s:I}", "name", r->name,
			      "scheduled", (json_int_t)r->scheduled_ms, "attempt", r->attempt,
			      "manual", r->manual, "arguments", r->args, "taskId", r->task_id,
			      "agentId", r->agent_id, "firstStarted",
			      (json_int_t)r->first_started_ms);
	if (r->targets) {
		json_object_set(o, "targets", r->targets);
		json_object_set_new(o, "targetAt", json_integer((json_int_t)r->target_at));
		json_object_set_new(o, "instFailed", json_boolean(r->inst_failed));
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	int e = store_put(j->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return e;
}

int jobs_store_run_delete(struct jobs *j, const struct job_run *r)
{
	char key[96 + JOB_MAX_NAME];
	run_key(r->name, r->scheduled_ms, key, sizeof(key));
	int e = store_delete(j->store, key, STORE_ANY_VERSION);
	return e == -ENOENT ? 0 : e;
}

static int load_job(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct jobs *j = ctx;
	struct job *jb;
	if (job_from_store(val, len, &jb) < 0) {
		log_warn("master", "job '%s' in the store is unreadable, left alone", key);
		return 0;
	}
	job_free(hmap_put(&j->jobs, jb->name, jb));
	return 0;
}

static int load_run(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct jobs *j = ctx;
	json_t *o = json_loadb(val, len, 0, NULL);
	const char *name = json_string_value(json_object_get(o, "name"));
	if (!name || !hmap_get(&j->jobs, name)) {
		/* the run of a deleted job whose task ended while the master was down */
		json_decref(o);
		store_delete(j->store, key, STORE_ANY_VERSION);
		return 0;
	}
	struct job_run *r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(name);
	r->scheduled_ms = json_integer_value(json_object_get(o, "scheduled"));
	r->attempt = (int)json_integer_value(json_object_get(o, "attempt"));
	r->manual = json_is_true(json_object_get(o, "manual"));
	r->first_started_ms = json_integer_value(json_object_get(o, "firstStarted"));
	const char *s;
	if ((s = json_string_value(json_object_get(o, "arguments"))))
		r->args = xstrdup(s);
	if ((s = json_string_value(json_object_get(o, "taskId"))))
		r->task_id = xstrdup(s);
	if ((s = json_string_value(json_object_get(o, "agentId"))))
		r->agent_id = xstrdup(s);
	json_t *tg = json_object_get(o, "targets");
	if (json_is_array(tg)) {
		r->targets = json_incref(tg);
		json_int_t at = json_integer_value(json_object_get(o, "targetAt"));
		r->target_at = at > 0 ? (size_t)at : 0;
		r->inst_failed = json_is_true(json_object_get(o, "instFailed"));
	}
	json_decref(o);
	jobs_run_loaded(j, r);
	return 0;
}

/* ---- life cycle ---- */

void jobs_changed(struct jobs *j)
{
	j->deps_known = false;
}

int jobs_register(struct jobs *j)
{
	if (j->client)
		return 0;
	j->client = rm_framework_add(j->rm, j->framework_id, "chronos", &jobs_ops, j);
	return j->client ? 0 : -E2BIG;
}

int jobs_new(struct master *rm, struct jobs **out)
{
	struct jobs *j = xcalloc(1, sizeof(*j));
	j->rm = rm;
	j->store = rm_store(rm);
	j->base = rm_base(rm);
	hmap_init(&j->jobs);
	hmap_init(&j->tasks);
	hmap_init(&j->done);
	/* Marathon is "<master id>-0000"; Chronos the next one, stable across restarts. */
	const char *b = rm_builtin_framework_id(rm);
	size_t bl = strlen(b);
	if (bl > 5 && !strcmp(b + bl - 5, "-0000"))
		snprintf(j->framework_id, sizeof(j->framework_id), "%.*s-0001", (int)(bl - 5), b);
	else
		snprintf(j->framework_id, sizeof(j->framework_id), "%s-chronos", b);
	int r = store_list(j->store, "jobs/def/", load_job, j);
	if (r >= 0 && hmap_len(&j->jobs))
		r = jobs_register(j);
	if (r >= 0)
		r = store_list(j->store, "jobs/run/", load_run, j);
	if (r < 0) {
		log_error("master", "cannot load the jobs: %s", strerror(-r));
		jobs_free(j);
		return r;
	}
	log_info("master", "%zu jobs loaded, %zu runs pending", hmap_len(&j->jobs), j->nruns);
	*out = j;
	return 0;
}

void jobs_stop(struct jobs *j)
{
	if (j)
		j->stopping = true;
}

void jobs_free(struct jobs *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nruns; i++) {
		struct job_run *r = j->runs[i];
		if (r->taken) {
			struct m_agent *a = rm_agent_get(j->rm, r->agent_id);
			if (a) {
				rm_give(j->rm, a, "*", j->client, &r->res);
				rm_task_gone(j->rm, a, j->client);
			}
		}
		jobs_run_free(r);
	}
	free(j->runs);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&j->jobs, &i, &k, &v);)
		job_free(v);
	hmap_release(&j->jobs);
	hmap_release(&j->tasks);
	for (size_t i = 0; hmap_next(&j->done, &i, &k, &v);)
		free(v); /* each value once, even when the ring names a task id twice */
	for (size_t i = 0; i < JOB_DONE_KEEP; i++)
		free(j->done_ring[i]);
	hmap_release(&j->done);
	free(j);
}

void jobs_metrics_register(struct jobs *j, struct metrics *reg)
{
	metrics_family_new(reg, METRICS_COUNTER, "berth_job_runs_total",
			   "Job runs ended, by result (success, failure; after their retries)",
			   "result", NULL, &j->m_runs);
	j->m_skipped = metrics_counter(reg, "berth_job_runs_skipped_total",
				       "Scheduled job runs skipped (missed by more than epsilon, the "
				       "previous run still going, or the job disabled)");
	j->m_delay = metrics_timer(reg, "berth_job_start_delay_seconds",
				   "From a run's scheduled time to its LAUNCH (every attempt)");
}

void jobs_set_leader(struct jobs *j, const char *leader)
{
	snprintf(j->leader, sizeof(j->leader), "%s", leader);
}

void jobs_set_publish(struct jobs *j, jobs_publish_fn fn, void *ctx)
{
	j->publish = fn;
	j->publish_ctx = ctx;
}

void jobs_publish(struct jobs *j, const char *type, json_t *payload)
{
	if (j->publish && payload)
		j->publish(j->publish_ctx, type, payload);
	else
		json_decref(payload);
}

void jobs_tick(struct jobs *j)
{
	if (j && !j->stopping)
		jobs_pass(j);
}
