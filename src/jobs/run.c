/* Runs: due schedules recorded, runs placed on agents through the resource manager, their
 * status updates, retries, results counted and dependent jobs woken (jobs-int.h states the
 * invariants). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/timeutil.h"
#include "model/fetch.h"
#include "model/task.h"
#include "jobs/jobs-int.h"

#define MAX_SKIP_LOOP 1000
#define MAX_LAUNCH_PER_PASS 5000

static void run_view(const struct jobs *j, const struct job_run *r, const char *state,
		     struct rm_task_view *v, char *name);

static int64_t now_ms(void)
{
	return (int64_t)(time_real_usec() / 1000);
}

/* The states a run is in, as static strings. */
static const char *intern(const char *s)
{
	static const char *const states[] = {
		"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED",
		"TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED",
		"TASK_GONE", "TASK_UNREACHABLE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
	};
	for (size_t i = 0; s && i < ARRAY_SIZE(states); i++)
		if (!strcmp(s, states[i]))
			return states[i];
	return "TASK_UNKNOWN";
}

void jobs_run_free(struct job_run *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->args);
	free(r->task_id);
	free(r->agent_id);
	json_decref(r->targets);
	resources_release(&r->res);
	free(r);
}

static void runs_append(struct jobs *j, struct job_run *r)
{
	if (j->nruns == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		j->runs = xrealloc(j->runs, j->cap * sizeof(*j->runs));
	}
	r->idx = j->nruns;
	j->runs[j->nruns++] = r;
	struct job *jb = hmap_get(&j->jobs, r->name);
	if (jb)
		jb->nruns++;
}

/* Takes r out of the list (not freed). */
static void runs_remove(struct jobs *j, struct job_run *r)
{
	assert(r->idx < j->nruns && j->runs[r->idx] == r);
	j->runs[r->idx] = j->runs[--j->nruns];
	j->runs[r->idx]->idx = r->idx;
	if (r->task_id)
		hmap_del(&j->tasks, r->task_id);
	struct job *jb = hmap_get(&j->jobs, r->name);
	if (jb && jb->nruns)
		jb->nruns--;
}

static struct job_run *run_find(struct jobs *j, const char *name, int64_t sched_ms)
{
	for (size_t i = 0; i < j->nruns; i++)
		if (j->runs[i]->scheduled_ms == sched_ms && !strcmp(j->runs[i]->name, name))
			return j->runs[i];
	return NULL;
}

int jobs_run_add(struct jobs *j, struct job *jb, int64_t sched_ms, bool manual, const char *args,
		 struct job_run **out)
{
	if (jb->nruns && run_find(j, jb->name, sched_ms))
		return -EEXIST;
	if (j->nruns >= JOB_MAX_RUNS)
		return -E2BIG;
	struct job_run *r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(jb->name);
	r->scheduled_ms = sched_ms;
	r->manual = manual;
	r->args = args && *args ? xstrdup(args) : NULL;
	r->state = NULL;
	int e = jobs_store_run(j, r);
	if (e < 0) {
		jobs_run_free(r);
		return e;
	}
	runs_append(j, r);
	if (out)
		*out = r;
	return 0;
}

void jobs_run_loaded(struct jobs *j, struct job_run *r)
{
	runs_append(j, r);
	if (r->task_id) {
		r->state = "TASK_STAGING";
		hmap_put(&j->tasks, r->task_id, r);
		/* its resources are taken when its agent registers and reports it */
	}
}

/* ---- results ---- */

static void history_add(struct job *jb, int64_t sched_ms, int64_t started_ms, const char *state,
			int attempts, const char *task_id, const char *instance)
{
	struct job_result *h = &jb->hist[jb->hist_at];
	jb->hist_at = (jb->hist_at + 1) % JOB_HISTORY;
	if (jb->nhist < JOB_HISTORY)
		jb->nhist++;
	free(h->task_id);
	free(h->instance);
	*h = (struct job_result){ .scheduled_ms = sched_ms, .started_ms = started_ms,
				  .finished_ms = now_ms(), .attempts = attempts,
				  .task_id = task_id ? xstrdup(task_id) : NULL,
				  .instance = instance ? xstrdup(instance) : NULL };
	snprintf(h->state, sizeof(h->state), "%s", state);
}

/* Counts one result into jb's counters and history (stored with jb). */
static void result_count(struct jobs *j, struct job *jb, bool success, int64_t sched_ms,
			 int64_t started_ms, const char *state, int attempts, const char *task_id,
			 const char *instance)
{
	char ts[32];
	jsched_iso_utc(now_ms(), ts);
	if (success) {
		jb->success_count++;
		jb->errors_since = 0;
		snprintf(jb->last_success, sizeof(jb->last_success), "%s", ts);
	} else {
		jb->error_count++;
		jb->errors_since++;
		snprintf(jb->last_error, sizeof(jb->last_error), "%s", ts);
	}
	history_add(jb, sched_ms, started_ms, state, attempts, task_id, instance);
	if (j->m_runs)
		metrics_counter_inc(metrics_series_getv(j->m_runs, success ? "success" : "failure"));
	int e = jobs_store_job(j, jb);
	if (e < 0)
		log_warn("master", "job '%s': cannot store its result: %s", jb->name, strerror(-e));
}

/* After a run of jb ended: its children whose parents have all succeeded run. */
static void wake_children(struct jobs *j, struct job *jb, bool success, const char *state)
{
	/* Chronos: a softError job's failure after its retries still runs its dependents. */
	if (!success && (!jb->soft_error || !strcmp(state, "TASK_KILLED")))
		return;
	if (!j->deps_known) {
		j->has_dependents = false;
		const char *k;
		void *v;
		for (size_t i = 0; !j->has_dependents && hmap_next(&j->jobs, &i, &k, &v);)
			j->has_dependents = ((struct job *)v)->dependent;
		j->deps_known = true;
	}
	if (!j->has_dependents)
		return;
	/* Its children: run each whose parents have all succeeded since its own last run. */
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&j->jobs, &i, &k, &v);) {
		struct job *c = v;
		if (!c->dependent || !job_has_parent(c, jb->name))
			continue;
		json_object_set_new(c->parents_done, jb->name, json_true());
		bool all = true;
		for (size_t p = 0; p < c->nparents && all; p++)
			all = json_is_true(json_object_get(c->parents_done, c->parents[p]));
		if (all && !c->disabled) {
			json_object_clear(c->parents_done);
			int64_t t = now_ms();
			while (jobs_run_add(j, c, t, false, NULL, NULL) == -EEXIST)
				t++;
		}
		jobs_store_job(j, c);
	}
}

void jobs_result(struct jobs *j, struct job *jb, bool success, int64_t sched_ms,
		 int64_t started_ms, const char *state, int attempts, const char *task_id)
{
	result_count(j, jb, success, sched_ms, started_ms, state, attempts, task_id, NULL);
	wake_children(j, jb, success, state);
}

/* ---- the pass ---- */

static bool txn_open(struct jobs *j, bool *open)
{
	if (!*open && store_txn_begin(j->store) == 0)
		*open = true;
	return *open;
}

static void txn_close(struct jobs *j, bool *open)
{
	if (!*open)
		return;
	*open = false;
	int e = store_txn_commit(j->store);
	if (e < 0) {
		log_error("master", "jobs: cannot commit: %s", strerror(-e));
		store_txn_abort(j->store);
	}
}

static json_t *iso_ms(int64_t ms)
{
	char ts[32];
	jsched_iso_utc(ms, ts);
	return json_string(ts);
}

static void skipped_event(struct jobs *j, const struct job *jb, int64_t n, const char *why)
{
	if (!j->publish)
		return;
	jobs_publish(j, "job_run_skipped_event",
		     json_pack("{s:s, s:I, s:s}", "jobName", jb->name, "count", (json_int_t)n,
			       "reason", why));
}

/* Due schedules: each run due is recorded with the job's schedule moved past it. */
static void due(struct jobs *j, bool *open)
{
	int64_t now = now_ms();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&j->jobs, &i, &k, &v);) {
		struct job *jb = v;
		if (jb->dependent || jsched_left(&jb->sched) == 0 || jb->sched.start_ms > now)
			continue;
		if (!txn_open(j, open))
			return;
		int64_t skipped = jsched_skip_missed(&jb->sched, now, jb->epsilon_ms, MAX_SKIP_LOOP);
		if (skipped) {
			jb->skip_count += skipped;
			skipped_event(j, jb, skipped, "missed");
			if (j->m_skipped)
				metrics_counter_add(j->m_skipped, (uint64_t)skipped);
			log_info("master", "job '%s': %" PRId64 " runs missed by more than epsilon, "
					   "skipped", jb->name, skipped);
		}
		/* (a skip bounded by MAX_SKIP_LOOP goes on at the next tick) */
		if (jsched_left(&jb->sched) != 0 && jb->sched.start_ms <= now &&
		    jb->sched.start_ms + jb->epsilon_ms >= now) {
			int64_t at = jb->sched.start_ms;
			jsched_step(&jb->sched);
			if (jb->disabled || (!jb->concurrent && jb->nruns > 0) ||
			    jobs_run_add(j, jb, at, false, NULL, NULL) < 0) {
				jb->skip_count++;
				skipped_event(j, jb, 1, jb->disabled ? "disabled" : "busy");
				if (j->m_skipped)
					metrics_counter_inc(j->m_skipped);
			}
		}
		jobs_store_job(j, jb);
	}
}

/* The task id of a run's attempt (Chronos's shape), '/', spaces and control characters
 * replaced by '_' (it names the sandbox and appears in command lines). */
static char *task_id_of(const struct job_run *r)
{
	char *id = xasprintf("ct:%" PRId64 ":%d:%s:%s", r->scheduled_ms, r->attempt, r->name,
			     r->args ? r->args : "");
	if (strlen(id) > 250)
		id[250] = '\0';
	for (char *p = id; *p; p++)
		if (*p == '/' || *p == ' ' || (unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '_';
	return id;
}

/* The LAUNCH of r's attempt on a. instance: a per-instance job's instance (its task), in which
 * the command runs (the agent's "attach"): then MESOS_TASK_ID and HOST are the instance's own
 * (from its environment), the run's task id is BERTH_JOB_TASK_ID, and the run asks for no
 * resources, downloads nothing and takes the instance's user. */
static json_t *launch_record(struct jobs *j, const struct job *jb, const struct job_run *r,
			     const struct m_agent *a, const char *instance)
{
	json_t *env = json_object();
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(jb->def, "environmentVariables"), i, e)
		json_object_set(env, json_string_value(json_object_get(e, "name")),
				json_object_get(e, "value"));
	if (instance) {
		json_object_set_new(env, "BERTH_JOB_TASK_ID", json_string(r->task_id));
		json_object_set_new(env, "BERTH_JOB_INSTANCE_TASK_ID", json_string(instance));
	} else {
		json_object_set_new(env, "mesos_task_id", json_string(r->task_id));
		json_object_set_new(env, "MESOS_TASK_ID", json_string(r->task_id));
	}
	json_object_set_new(env, "CHRONOS_JOB_NAME", json_string(jb->name));
	json_object_set_new(env, "CHRONOS_JOB_OWNER",
			    json_string(json_string_value(json_object_get(jb->def, "owner")) ?: ""));
	json_object_set_new(env, "CHRONOS_RESOURCE_CPU", json_real(jb->cpus));
	json_object_set_new(env, "CHRONOS_RESOURCE_MEM", json_real(jb->mem));
	json_object_set_new(env, "CHRONOS_RESOURCE_DISK", json_real(jb->disk));
	if (!instance)
		json_object_set_new(env, "HOST", json_string(a->hostname));
	/* env values must be strings */
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v)
		if (!json_is_string(v)) {
			char buf[64];
			snprintf(buf, sizeof(buf), "%g", json_number_value(v));
			json_object_set_new(env, k, json_string(buf));
		}
	char name[JOB_MAX_NAME + 16];
	snprintf(name, sizeof(name), "ChronosTask:%s", jb->name);
	json_t *spec = json_pack("{s:s, s:s, s:s, s:b, s:o, s:{s:f, s:f, s:f, s:f, s:[]}, s:f}",
				 "task_id", r->task_id, "framework_id", j->framework_id, "name",
				 name, "shell", jb->shell, "env", env,
				 "resources", "cpus", instance ? 0.0 : jb->cpus, "mem",
				 instance ? 0.0 : jb->mem, "disk", instance ? 0.0 : jb->disk,
				 "gpus", 0.0, "ports", "kill_grace_period_seconds", 3.0);
	const char *cmd = json_string_value(json_object_get(jb->def, "command"));
	if (jb->shell) {
		/* Chronos ignores run-now arguments for a shell command */
		json_object_set_new(spec, "cmd", json_string(cmd ? cmd : ""));
	} else {
		json_t *args = json_array();
		json_array_append_new(args, json_string(cmd ? cmd : ""));
		json_array_foreach(json_object_get(jb->def, "arguments"), i, e)
			json_array_append(args, e);
		if (r->args) {
			char *copy = xstrdup(r->args), *save = NULL;
			for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
				json_array_append_new(args, json_string(t));
			free(copy);
		}
		json_object_set_new(spec, "args", args);
	}
	/* Chronos's fetch ({uri, extract (default true), executable, outputFile, cache}) or uris
	 * (extracted), downloaded into the sandbox by the agent's fetcher (docs/isolation.md). */
	if (instance) {
		json_object_set_new(spec, "attach", json_pack("{s:s}", "task_id", instance));
		return json_pack("{s:s, s:o}", "type", "LAUNCH", "task", spec);
	}
	json_t *fetch = fetch_spec(json_object_get(jb->def, "fetch"), json_object_get(jb->def, "uris"));
	if (fetch)
		json_object_set_new(spec, "fetch", fetch);
	/* Chronos's container: the run executes in the image (docs/isolation.md, "Images"), as
	 * the image's User (runAsUser, like Marathon's user, is not applied to containers). */
	const char *user = json_string_value(json_object_get(jb->def, "runAsUser"));
	if (jb->container)
		json_object_set_new(spec, "container", json_deep_copy(jb->container));
	else if (user && *user)
		json_object_set_new(spec, "user", json_string(user));
	return json_pack("{s:s, s:o}", "type", "LAUNCH", "task", spec);
}

/* Whether a meets jb's constraints ([attribute, EQUALS|LIKE|UNLIKE, value]; "hostname"
 * is the agent's; LIKE and UNLIKE match the whole value), compiled when the job was read. */
static bool constraints_ok(const struct job *jb, const struct m_agent *a)
{
	const struct placement_target t = { .hostname = a->hostname, .attrs = &a->attrs };
	return constraints_allow(jb->cons, jb->ncons, &t, NULL, 0, NULL, 0);
}

/* ---- per-instance jobs ---- */

/* An app's instances as the resource manager's task views show them. */
struct inst_scan {
	const char *app;
	json_t *list;          /* [[index, task id]…] when collecting, else NULL */
	const char *id;        /* the instance looked for, or NULL */
	bool found, running;
	char agent[256];
};

static void inst_scan_task(const struct rm_task_view *t, void *ctx)
{
	struct inst_scan *s = ctx;
	if (!t->app_id || strcmp(t->app_id, s->app))
		return;
	if (s->list)
		json_array_append_new(s->list, json_pack("[I, s]", t->has_index ?
							 (json_int_t)t->index : (json_int_t)-1,
							 t->id));
	if (s->id && !strcmp(t->id, s->id)) {
		s->found = true;
		s->running = t->state && !strcmp(t->state, "TASK_RUNNING");
		snprintf(s->agent, sizeof(s->agent), "%s", t->agent_id ? t->agent_id : "");
	}
}

static int inst_cmp(const void *x, const void *y)
{
	const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	json_int_t ia = json_integer_value(json_array_get(a, 0));
	json_int_t ib = json_integer_value(json_array_get(b, 0));
	if (ia != ib)
		return ia < ib ? -1 : 1;
	return strcmp(json_string_value(json_array_get(a, 1)),
		      json_string_value(json_array_get(b, 1)));
}

/* The app's instances now: their task ids in index order (then by id). */
static json_t *inst_targets(struct jobs *j, const char *app)
{
	struct inst_scan s = { .app = app, .list = json_array() };
	rm_each_task(j->rm, false, inst_scan_task, &s);
	size_t n = json_array_size(s.list);
	json_t **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(s.list, i);
	qsort(v, n, sizeof(*v), inst_cmp);
	json_t *ids = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(ids, json_array_get(v[i], 1));
	free(v);
	json_decref(s.list);
	return ids;
}

/* Records that r's instance id was skipped (not running, or its agent not connected). */
static void inst_skipped(struct jobs *j, struct job *jb, const struct job_run *r, const char *id)
{
	jb->skip_count++;
	if (j->m_skipped)
		metrics_counter_inc(j->m_skipped);
	history_add(jb, r->scheduled_ms, 0, "SKIPPED", 0, NULL, id);
	jobs_store_job(j, jb);
	log_info("master", "job '%s': instance '%s' is not running, skipped", jb->name, id);
	if (j->publish)
		jobs_publish(j, "job_run_skipped_event",
			     json_pack("{s:s, s:I, s:s, s:s}", "jobName", jb->name, "count",
				       (json_int_t)1, "reason", "instance not running",
				       "instanceTaskId", id));
}

/* The agent of r's next running instance, r->target_at at it; the instances that are not
 * running on the way are skipped and recorded. NULL with *done when none is left (the run is
 * over), NULL without when the store transaction cannot be opened or the instance's agent is
 * disconnected (the run waits for it). */
static struct m_agent *inst_next(struct jobs *j, struct job *jb, struct job_run *r, bool *open,
				 bool *done)
{
	*done = false;
	if (!txn_open(j, open))
		return NULL;
	if (!r->targets) {
		r->targets = inst_targets(j, jb->app);
		r->target_at = 0;
		if (!json_array_size(r->targets))
			log_info("master", "job '%s': app '%s' has no instances", jb->name, jb->app);
	}
	for (; r->target_at < json_array_size(r->targets); r->target_at++) {
		const char *id = json_string_value(json_array_get(r->targets, r->target_at));
		struct inst_scan s = { .app = jb->app, .id = id };
		if (id)
			rm_each_task(j->rm, false, inst_scan_task, &s);
		struct m_agent *a = s.found ? rm_agent_get(j->rm, s.agent) : NULL;
		/* Its agent is away but may come back (a master failover before the agents have
		 * re-registered, a short partition): wait; once it is unreachable its tasks are
		 * lost and the instance is skipped. */
		if (a && (a->state == AGENT_DISCONNECTED || (!a->stream && !a->sim)) &&
		    a->state != AGENT_UNREACHABLE)
			return NULL;
		if (a && s.running && a->state == AGENT_CONNECTED)
			return a;
		if (id)
			inst_skipped(j, jb, r, id);
	}
	*done = true;
	return NULL;
}

/* Whether another run of r's job has begun going through the instances: runs of a
 * per-instance job (a run now, a concurrent one) take turns, so that the command never runs in
 * two instances at once. */
static bool inst_busy(const struct jobs *j, const struct job_run *r)
{
	for (size_t i = 0; i < j->nruns; i++) {
		const struct job_run *x = j->runs[i];
		if (x != r && x->targets && !strcmp(x->name, r->name))
			return true;
	}
	return false;
}

/* A per-instance run whose instances have all been run or skipped: it ends; its children
 * run when every instance succeeded. */
static void inst_run_over(struct jobs *j, struct job *jb, struct job_run *r)
{
	bool ok = !r->inst_failed;
	runs_remove(j, r);
	jobs_store_run_delete(j, r);
	if (jb && !r->kill_wanted)
		wake_children(j, jb, ok, ok ? "TASK_FINISHED" : "TASK_FAILED");
	jobs_run_free(r);
}


/* The launches a pass sends once it is done: the LAUNCH records, their agents, and the
 * runs' scheduled times (for the delay metric). */
struct launches {
	json_t **recs;
	struct m_agent **to;
	int64_t *delays;
	size_t n;
};

/* Run r of jb is staged on agent a (inside instance inst, or NULL): recorded, stored, and
 * its LAUNCH queued in lb. r->task_id is set. */
static void staged(struct jobs *j, const struct job *jb, struct job_run *r, struct m_agent *a,
		   const char *inst, struct launches *lb)
{
	r->agent_id = xstrdup(a->id);
	r->state = "TASK_STAGING";
	r->staged_usec = time_real_usec();
	r->started_usec = 0;
	hmap_put(&j->tasks, r->task_id, r);
	jobs_store_run(j, r);
	lb->recs = xrealloc(lb->recs, (lb->n + 1) * sizeof(*lb->recs));
	lb->delays = xrealloc(lb->delays, (lb->n + 1) * sizeof(*lb->delays));
	lb->to = xrealloc(lb->to, (lb->n + 1) * sizeof(*lb->to));
	lb->delays[lb->n] = r->scheduled_ms;
	lb->recs[lb->n] = launch_record(j, jb, r, a, inst);
	lb->to[lb->n++] = a;
}

/* Places the queued runs: the first agent with room for each that meets its constraints. */
static void place(struct jobs *j, bool *open)
{
	struct alloc_ctx *ac = NULL;
	struct launches lb = {0};
	struct job_run **over = NULL; /* per-instance runs past their last instance */
	size_t nover = 0;
	/* highPriority jobs' runs first (Chronos puts them at the head of its queue), then the
	 * others: two sweeps of the runs (the pass adds or removes none). */
	for (size_t n = 0; n < 2 * j->nruns && lb.n < MAX_LAUNCH_PER_PASS; n++) {
		bool hi = n < j->nruns;
		struct job_run *r = j->runs[n % j->nruns];
		if (r->task_id || r->kill_wanted)
			continue;
		struct job *jb = hmap_get(&j->jobs, r->name);
		if (!jb || jb->high_priority != hi)
			continue;
		if (jb->per_instance) {
			if (!r->targets && inst_busy(j, r))
				continue; /* another run of the job is going through the instances */
			bool done;
			struct m_agent *a = inst_next(j, jb, r, open, &done);
			if (done) {
				over = xrealloc(over, (nover + 1) * sizeof(*over));
				over[nover++] = r;
			}
			if (!a)
				continue;
			const char *inst = json_string_value(json_array_get(r->targets,
									   r->target_at));
			char *base = task_id_of(r);
			r->task_id = xasprintf("%s:i%zu", base, r->target_at);
			free(base);
			staged(j, jb, r, a, inst, &lb);
			continue;
		}
		struct resources want = RESOURCES_INIT;
		resources_add_scalar(&want, "cpus", "*", jb->cpus);
		resources_add_scalar(&want, "mem", "*", jb->mem);
		resources_add_scalar(&want, "disk", "*", jb->disk);
		if (!ac)
			ac = rm_alloc_begin(j->rm, j->client);
		struct m_agent *found = NULL;
		const char *k;
		void *v;
		for (size_t ai = 0; !found && hmap_next(rm_agents(j->rm), &ai, &k, &v);) {
			struct m_agent *a = v;
			if (a->state != AGENT_CONNECTED || (!a->stream && !a->sim) ||
			    !constraints_ok(jb, a))
				continue;
			struct resources tmp = RESOURCES_INIT;
			const struct resources *av = rm_alloc_available(ac, a, "*", &tmp);
			bool fits = resources_contains(av, &want);
			resources_release(&tmp);
			if (fits && rm_alloc_take(ac, a, "*", &want) == 0)
				found = a;
		}
		if (!found) {
			resources_release(&want);
			continue;
		}
		if (!txn_open(j, open)) {
			rm_give(j->rm, found, "*", j->client, &want);
			resources_release(&want);
			break;
		}
		rm_task_placed(j->rm, found, j->client);
		r->res = want;
		r->taken = true;
		r->task_id = task_id_of(r);
		staged(j, jb, r, found, NULL, &lb);
	}
	for (size_t i = 0; i < nover; i++)
		inst_run_over(j, hmap_get(&j->jobs, over[i]->name), over[i]);
	free(over);
	/* The task ids are durable before any LAUNCH goes out. */
	txn_close(j, open);
	int64_t now = now_ms();
	for (size_t i = 0; i < lb.n; i++) {
		rm_count_launch(j->rm);
		if (rm_event_listeners(j->rm)) {
			const char *tid = json_string_value(
				json_object_get(json_object_get(lb.recs[i], "task"), "task_id"));
			const struct job_run *r = tid ? hmap_get(&j->tasks, tid) : NULL;
			if (r) {
				char name[JOB_MAX_NAME + 16];
				struct rm_task_view v;
				run_view(j, r, r->state, &v, name);
				rm_event_task_added(j->rm, j->client, &v);
			}
		}
		if (j->publish) {
			const json_t *t = json_object_get(lb.recs[i], "task");
			const char *tid = json_string_value(json_object_get(t, "task_id"));
			const struct job_run *r = tid ? hmap_get(&j->tasks, tid) : NULL;
			if (r) {
				json_t *ev = json_pack("{s:s, s:s, s:s, s:o, s:i, s:b}",
						       "jobName", r->name, "taskId", r->task_id,
						       "agentId", r->agent_id, "scheduledAt",
						       iso_ms(r->scheduled_ms), "attempt",
						       r->attempt + 1, "manual", r->manual);
				if (r->targets)
					json_object_set(ev, "instanceTaskId",
							json_array_get(r->targets, r->target_at));
				jobs_publish(j, "job_run_launched_event", ev);
			}
		}
		if (j->m_delay && now >= lb.delays[i])
			metrics_timer_record_usec(j->m_delay, (uint64_t)(now - lb.delays[i]) * 1000);
		if (rm_send(lb.to[i], lb.recs[i]) < 0)
			log_warn("master", "jobs: agent '%s' went away before a launch", lb.to[i]->id);
	}
	free(lb.recs);
	free(lb.to);
	free(lb.delays);
	if (ac)
		rm_alloc_end(ac);
}

void jobs_pass(struct jobs *j)
{
	if (!j->client) /* no job yet */
		return;
	/* one commit for the runs come due and the placements: durable before any LAUNCH */
	bool open = false;
	due(j, &open);
	place(j, &open);
}

int jobs_kill(struct jobs *j, const char *name)
{
	int n = 0;
	bool open = false;
	for (size_t i = 0; i < j->nruns;) {
		struct job_run *r = j->runs[i];
		if (strcmp(r->name, name)) {
			i++;
			continue;
		}
		n++;
		r->kill_wanted = true;
		if (!r->task_id) { /* queued: dropped */
			if (txn_open(j, &open))
				jobs_store_run_delete(j, r);
			runs_remove(j, r);
			jobs_run_free(r);
			continue;
		}
		struct m_agent *a = rm_agent_get(j->rm, r->agent_id);
		if (a && !r->kill_sent &&
		    rm_send(a, json_pack("{s:s, s:s, s:f}", "type", "KILL", "task_id", r->task_id,
					 "grace_period_seconds", 3.0)) == 0) {
			r->kill_sent = true;
			rm_count_kill(j->rm);
		}
		i++;
	}
	txn_close(j, &open);
	return n;
}

/* ---- the resource manager's callbacks ---- */

/* The task view of a placed run (for the operator event stream); name holds JOB_MAX_NAME + 16
 * bytes. */
static void run_view(const struct jobs *j, const struct job_run *r, const char *state,
		     struct rm_task_view *v, char *name)
{
	snprintf(name, JOB_MAX_NAME + 16, "ChronosTask:%s", r->name);
	*v = (struct rm_task_view){
		.id = r->task_id, .framework_id = j->framework_id, .name = name,
		.agent_id = r->agent_id ? r->agent_id : "", .state = state, .role = "*",
		.res = &r->res, .staged_usec = r->staged_usec, .started_usec = r->started_usec,
		.healthy = -1,
	};
}

/* TASK_UPDATED on the operator event stream, when someone listens. */
static void event_updated(struct jobs *j, const struct job_run *r, const char *state,
			  const char *message)
{
	if (!rm_event_listeners(j->rm))
		return;
	char name[JOB_MAX_NAME + 16];
	struct rm_task_view v;
	run_view(j, r, state, &v, name);
	rm_event_task_updated(j->rm, j->client, &v, state, message);
}

/* Remembers where an ended task ran (its sandbox stays there, for `berth logs`). */
static void done_add(struct jobs *j, const char *task_id, const char *agent_id)
{
	if (!task_id || !agent_id)
		return;
	char **slot = &j->done_ring[j->done_at];
	j->done_at = (j->done_at + 1) % JOB_DONE_KEEP;
	if (*slot) {
		free(hmap_del(&j->done, *slot));
		free(*slot);
	}
	*slot = xstrdup(task_id);
	free(hmap_put(&j->done, task_id, xstrdup(agent_id)));
}

static void run_ended(struct jobs *j, struct job_run *r, const char *state)
{
	if (r->taken) {
		struct m_agent *a = rm_agent_get(j->rm, r->agent_id);
		if (a) {
			rm_give(j->rm, a, "*", j->client, &r->res);
			rm_task_gone(j->rm, a, j->client);
		}
		r->taken = false;
	}
	resources_release(&r->res);
	hmap_del(&j->tasks, r->task_id);
	done_add(j, r->task_id, r->agent_id);
	struct job *jb = hmap_get(&j->jobs, r->name);
	bool ok = !strcmp(state, "TASK_FINISHED");
	if (!ok && !r->kill_wanted && jb && r->attempt < jb->retries) {
		/* retried: the next attempt, a new task id */
		r->attempt++;
		free(r->task_id);
		free(r->agent_id);
		r->task_id = r->agent_id = NULL;
		r->state = NULL;
		r->kill_sent = false;
		jobs_store_run(j, r);
		return;
	}
	const char *inst = r->targets ? json_string_value(json_array_get(r->targets,
									 r->target_at)) : NULL;
	if (j->publish) {
		json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i}", "jobName", r->name,
				       "taskId", r->task_id ? r->task_id : "", "agentId",
				       r->agent_id ? r->agent_id : "", "result",
				       ok ? "success" : "failure", "taskStatus", state,
				       "scheduledAt", iso_ms(r->scheduled_ms), "attempts",
				       r->attempt + 1);
		if (inst)
			json_object_set_new(ev, "instanceTaskId", json_string(inst));
		jobs_publish(j, "job_run_finished_event", ev);
	}
	if (jb && jb->per_instance && r->targets) {
		/* one instance done: counted, then on to the next (the next pass places it) */
		result_count(j, jb, ok, r->scheduled_ms, r->first_started_ms, state,
			     r->attempt + 1, r->task_id, inst);
		r->inst_failed |= !ok;
		if (r->kill_wanted) {
			inst_run_over(j, jb, r);
			return;
		}
		r->target_at++;
		r->attempt = 0;
		r->first_started_ms = 0;
		free(r->task_id);
		free(r->agent_id);
		r->task_id = r->agent_id = NULL;
		r->state = NULL;
		r->kill_sent = false;
		jobs_store_run(j, r);
		return;
	}
	runs_remove(j, r);
	jobs_store_run_delete(j, r);
	if (jb)
		jobs_result(j, jb, ok, r->scheduled_ms, r->first_started_ms, state, r->attempt + 1,
			    r->task_id);
	jobs_run_free(r);
}

static const char *op_task_agent(void *ctx, const char *task_id)
{
	struct jobs *j = ctx;
	if (!task_id)
		return NULL;
	const struct job_run *r = hmap_get(&j->tasks, task_id);
	if (r)
		return r->agent_id ? r->agent_id : "";
	return hmap_get(&j->done, task_id); /* ended, its sandbox still there */
}

static bool op_status_update(void *ctx, struct m_agent *a, const json_t *u)
{
	struct jobs *j = ctx;
	const char *task_id = json_string_value(json_object_get(u, "task_id"));
	struct job_run *r = task_id ? hmap_get(&j->tasks, task_id) : NULL;
	if (!r || !r->agent_id || strcmp(r->agent_id, a->id))
		return false;
	const char *state = intern(json_string_value(json_object_get(u, "state")));
	rm_count_status(j->rm, state);
	if (r->taken || task_state_terminal(state))
		event_updated(j, r, state, json_string_value(json_object_get(u, "message")));
	if (task_state_terminal(state)) {
		run_ended(j, r, state);
		return true;
	}
	if (!strcmp(state, "TASK_RUNNING") && !r->started_usec) {
		r->started_usec = time_real_usec();
		if (!r->first_started_ms) {
			r->first_started_ms = (int64_t)(r->started_usec / 1000);
			jobs_store_run(j, r);
		}
	}
	r->state = state;
	return true;
}

static void op_agent_registered(void *ctx, struct m_agent *a, const struct hmap *reported)
{
	struct jobs *j = ctx;
	struct job_run **lost = NULL;
	size_t nlost = 0;
	for (size_t i = 0; i < j->nruns; i++) {
		struct job_run *r = j->runs[i];
		if (!r->task_id || !r->agent_id || strcmp(r->agent_id, a->id))
			continue;
		if (hmap_get(reported, r->task_id)) {
			struct job *jb = hmap_get(&j->jobs, r->name);
			if (!r->taken && !(jb && jb->per_instance)) {
				resources_release(&r->res);
				resources_add_scalar(&r->res, "cpus", "*", jb ? jb->cpus : 0.1);
				resources_add_scalar(&r->res, "mem", "*", jb ? jb->mem : 128);
				resources_add_scalar(&r->res, "disk", "*", jb ? jb->disk : 256);
				if (rm_take(j->rm, a, "*", j->client, &r->res) == 0) {
					r->taken = true;
					rm_task_placed(j->rm, a, j->client);
				}
			}
			r->kill_sent = false;
			if (r->kill_wanted)
				rm_send(a, json_pack("{s:s, s:s, s:f}", "type", "KILL", "task_id",
						     r->task_id, "grace_period_seconds", 3.0));
		} else {
			lost = xrealloc(lost, (nlost + 1) * sizeof(*lost));
			lost[nlost++] = r;
		}
	}
	if (nlost) {
		bool open = false;
		txn_open(j, &open);
		for (size_t i = 0; i < nlost; i++)
			run_ended(j, lost[i], "TASK_LOST");
		txn_close(j, &open);
	}
	free(lost);
}

static void op_agent_lost(void *ctx, struct m_agent *a)
{
	struct jobs *j = ctx;
	bool open = false;
	txn_open(j, &open);
	for (size_t i = 0; i < j->nruns;) {
		struct job_run *r = j->runs[i];
		if (r->task_id && r->agent_id && !strcmp(r->agent_id, a->id)) {
			size_t before = j->nruns;
			run_ended(j, r, a->gone ? "TASK_GONE_BY_OPERATOR" : "TASK_LOST");
			if (j->nruns < before)
				continue; /* removed: i holds the next one now */
		}
		i++;
	}
	txn_close(j, &open);
}

static void op_each_task(void *ctx, bool detail, rm_task_fn fn, void *fnctx)
{
	struct jobs *j = ctx;
	for (size_t i = 0; i < j->nruns; i++) {
		const struct job_run *r = j->runs[i];
		if (!r->task_id || !r->state)
			continue;
		char name[JOB_MAX_NAME + 16];
		snprintf(name, sizeof(name), "ChronosTask:%s", r->name);
		struct rm_task_view v = {
			.id = r->task_id, .framework_id = j->framework_id, .name = name,
			.agent_id = r->agent_id ? r->agent_id : "", .state = r->state, .role = "*",
			.res = &r->res, .staged_usec = r->staged_usec,
			.started_usec = r->started_usec, .healthy = -1,
		};
		fn(&v, fnctx);
	}
}

static void op_each_role(void *ctx, void (*fn)(const char *role, void *fnctx), void *fnctx)
{
	struct jobs *j = ctx;
	if (hmap_len(&j->jobs))
		fn("*", fnctx);
}

static void op_wake(void *ctx)
{
	(void)ctx; /* the next tick places what waits */
}

const struct rm_framework_ops jobs_ops = {
	.task_agent = op_task_agent,
	.status_update = op_status_update,
	.agent_registered = op_agent_registered,
	.agent_lost = op_agent_lost,
	.each_task = op_each_task,
	.each_role = op_each_role,
	.wake = op_wake,
};
