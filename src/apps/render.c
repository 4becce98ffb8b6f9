/* Marathon's JSON shapes for apps, tasks, deployments and the queue
 * (reference/compat.md §3.1, §3.3, §10.1, §10.2).
 * Invariant: without RENDER_EXTRAS / extras, a task has only the keys of Marathon 1.10's
 * Task (§10.1: optional ones left out when unknown, never null) and a queue item only those
 * of QueueApp (§10.2, without "role", per §10's rule); strict clients reject anything else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "apps/apps-int.h"
#include "apps/pods-int.h"

json_t *render_task(struct apps *m, const struct m_instance *in, bool extras)
{
	const struct m_app *ma = in->app;
	struct m_agent *a = in->agent_id ? rm_agent_get(m->rm, in->agent_id) : NULL;
	json_t *ports = json_array();
	for (size_t i = 0; i < in->nports; i++)
		json_array_append_new(ports, json_integer(in->ports[i]));
	json_t *sports = json_array();
	for (size_t i = 0; i < ma->def->nports; i++)
		json_array_append_new(sports, json_integer(ma->def->ports[i].port));
	char staged[32], started[32];
	json_t *lv = json_array();
	size_t vi;
	json_t *v;
	json_array_foreach(in->vols, vi, v) {
		const char *pid = json_string_value(json_object_get(v, "persistenceId"));
		const char *last = pid ? strrchr(pid, '#') : NULL;
		json_array_append_new(lv, json_pack("{s:s, s:O, s:s, s:s}", "runSpecId", ma->def->id,
						    "containerPath", json_object_get(v, "containerPath"),
						    "uuid", last ? last + 1 : "", "persistenceId",
						    pid ? pid : ""));
	}
	json_t *t = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:[], s:o, s:s}",
			      "appId", ma->def->id, "host", a ? a->hostname : "", "id",
			      in->task_id, "ports", ports, "servicePorts", sports, "stagedAt",
			      time_iso8601(in->staged_at, staged), "version", in->version, "state",
			      in->state, "healthCheckResults", "localVolumes", lv, "role",
			      ma->def->role ? ma->def->role : "*");
	if (in->agent_id && *in->agent_id)
		json_object_set_new(t, "slaveId", json_string(in->agent_id));
	if (extras)
		json_object_set_new(t, "index", json_integer(in->index));
	if (extras && a && a->drain == AGENT_DRAINING && in->pinned_agent &&
	    in->phase == INST_LIVE) /* a drain does not move it: its local volumes are there */
		json_object_set_new(t, "drain", json_string("waiting: local volumes on this agent"));
	if (in->started_at)
		json_object_set_new(t, "startedAt", json_string(time_iso8601(in->started_at, started)));
	if (in->health && in->phase == INST_LIVE) {
		json_t *hcr = json_array();
		char iid[TASK_ID_MAX + 64];
		snprintf(iid, sizeof(iid), "%s.instance-%s", ma->def->id + 1, in->uuid);
		for (char *p = iid; *p; p++)
			if (*p == '/')
				*p = '_';
		size_t i;
		json_t *r;
		json_array_foreach(in->health, i, r) {
			json_t *o = json_pack("{s:b, s:I, s:s}", "alive",
					      json_is_true(json_object_get(r, "alive")),
					      "consecutiveFailures",
					      json_integer_value(json_object_get(r, "consecutive_failures")),
					      "instanceId", iid);
			static const char *const ts[][2] = { { "first_success", "firstSuccess" },
							     { "last_success", "lastSuccess" },
							     { "last_failure", "lastFailure" } };
			for (size_t k = 0; k < 3; k++) {
				double tv = json_number_value(json_object_get(r, ts[k][0]));
				char buf[32];
				if (tv > 0)
					json_object_set_new(
						o, ts[k][1],
						json_string(time_iso8601((uint64_t)(tv * 1e6), buf)));
			}
			const char *cause = json_string_value(json_object_get(r, "last_failure_cause"));
			if (cause && *cause)
				json_object_set_new(o, "lastFailureCause", json_string(cause));
			json_array_append_new(hcr, o);
		}
		json_object_set_new(t, "healthCheckResults", hcr);
	}
	if (a)
		json_object_set_new(t, "ipAddresses",
				    json_pack("[{s:s, s:s}]", "ipAddress", a->ip, "protocol", "IPv4"));
	else
		json_object_set_new(t, "ipAddresses", json_array());
	return t;
}

json_t *render_app(struct apps *m, const struct m_app *ma, unsigned what)
{
	bool with_tasks = what & RENDER_TASKS, with_counts = what & RENDER_COUNTS;
	bool with_deployments = what & RENDER_DEPLOYMENTS, with_failure = what & RENDER_FAILURE;
	json_t *j = json_deep_copy(ma->def->json);
	if (with_counts) {
		/* Counted as the instances change (inst-count.c): O(1) whatever the app's size. */
		json_object_set_new(j, "tasksStaged", json_integer((json_int_t)ma->cnt[K_STAGED]));
		json_object_set_new(j, "tasksRunning", json_integer((json_int_t)ma->cnt[K_RUNNING]));
		json_object_set_new(j, "tasksHealthy", json_integer((json_int_t)ma->cnt[K_HEALTHY]));
		json_object_set_new(j, "tasksUnhealthy",
				    json_integer((json_int_t)ma->cnt[K_UNHEALTHY]));
	}
	if (with_deployments) {
		json_t *d = json_array();
		if (ma->deploy)
			json_array_append_new(d, json_pack("{s:s}", "id", ma->deploy->id));
		json_object_set_new(j, "deployments", d);
	}
	if (with_tasks) {
		json_t *tasks = json_array();
		for (size_t i = 0; i < ma->ninst; i++)
			if (ma->inst[i]->phase == INST_LIVE)
				json_array_append_new(
					tasks, render_task(m, ma->inst[i], what & RENDER_EXTRAS));
		json_object_set_new(j, "tasks", tasks);
	}
	if (with_failure && ma->last_failure)
		json_object_set(j, "lastTaskFailure", ma->last_failure);
	return j;
}

json_t *render_deployment(struct apps *m, const struct m_deployment *d)
{
	json_t *steps = deploy_steps(m, d), *current = json_array(), *affected = json_array();
	size_t cur = deploy_current_step(m, d, steps);
	size_t i, s;
	json_t *x, *step;
	json_array_foreach(steps, s, step) {
		json_array_foreach(json_object_get(step, "actions"), i, x) {
			json_array_append(affected, json_object_get(x, "app"));
			if (s != cur)
				continue;
			json_t *c = json_deep_copy(x);
			json_object_set_new(c, "readinessCheckResults", json_array());
			json_array_append_new(current, c);
		}
	}
	json_int_t total = (json_int_t)json_array_size(steps);
	json_t *j = json_pack("{s:s, s:s, s:o, s:[], s:o, s:o, s:I, s:I}", "id", d->id,
			      "version", d->version, "affectedApps", affected, "affectedPods",
			      "steps", steps, "currentActions", current, "currentStep",
			      (json_int_t)cur + 1, "totalSteps", total);
	if (d->resize) /* berth's, only for a change made with ?inPlace=true */
		json_object_set_new(j, "berthResize", json_pack("{s:s, s:s*}", "mode", d->resize,
								 "reason", d->resize_reason));
	return j;
}

json_t *render_plan_step(struct apps *m, const struct m_deployment *d)
{
	json_t *steps = deploy_steps(m, d);
	json_t *step = json_incref(json_array_get(steps, deploy_current_step(m, d, steps)));
	json_decref(steps);
	return step;
}

/* The action of app id in d ("StartApplication", …), or NULL when d does not change it. */
static const char *plan_action_of(const struct m_deployment *d, const char *id)
{
	if (!d->members)
		return !strcmp(id, d->app_id) ? d->action : NULL;
	size_t i;
	const json_t *x;
	json_array_foreach(d->members, i, x)
		if (!strcmp(json_string_value(json_object_get(x, "app")), id))
			return json_string_value(json_object_get(x, "action"));
	return NULL;
}

/* A root group of the apps as they are, with the deployment's app as it was before (before)
 * or as it will be (after). Apps are listed in the root group, not in nested groups. */
static json_t *plan_group(struct apps *m, const struct m_deployment *d, bool before)
{
	json_t *apps = json_array();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		const char *act = plan_action_of(d, ma->def->id);
		bool ours = act != NULL;
		if (!ours && ma->deleting)
			continue;
		if (ours && before && !strcmp(act, "StartApplication"))
			continue;
		if (ours && !before && !strcmp(act, "StopApplication"))
			continue;
		/* The app as it was: the original its own part of the deployment kept. */
		const struct m_deployment *own = ma->deploy && !strcmp(ma->deploy->id, d->id)
							 ? ma->deploy : d;
		json_t *orig = !strcmp(own->app_id, ma->def->id) ? own->original : NULL;
		json_t *def = ours && before && orig ? orig : ma->def->json;
		json_array_append_new(apps, json_deep_copy(def));
	}
	const char *ver = d->version;
	if (before && d->original && json_is_string(json_object_get(d->original, "version")))
		ver = json_string_value(json_object_get(d->original, "version"));
	return json_pack("{s:s, s:o, s:[], s:[], s:[], s:s}", "id", "/", "apps", apps, "groups",
			 "pods", "dependencies", "version", ver);
}

json_t *render_plan(struct apps *m, const struct m_deployment *d, bool heavy)
{
	json_t *p = json_pack("{s:s, s:o, s:s}", "id", d->id, "steps", deploy_steps(m, d),
			      "version", d->version);
	if (heavy) {
		json_object_set_new(p, "original", plan_group(m, d, true));
		json_object_set_new(p, "target", plan_group(m, d, false));
	}
	return p;
}

/* A queue item without its "app" (which comes first), or NULL when ma has none waiting. */
static json_t *queue_item(struct apps *m, struct m_app *ma, bool extras, bool last_unused,
			  uint64_t now)
{
	if (ma->deleting)
		return NULL;
	int count = (int)ma->nwait_run; /* WAITING with goal RUN, counted (apps.c) */
	if (!count)
		return NULL;
	double left = ma->delay_until_usec > now ? (double)(ma->delay_until_usec - now) / 1e6 : 0;
	char since[32];
	time_iso8601(ma->waiting_since ? ma->waiting_since : time_real_usec(), since);
	json_t *item = json_pack(
		"{s:i, s:{s:i, s:b}, s:s, s:{s:i, s:i, s:[], s:[]}}", "count", count, "delay",
		"timeLeftSeconds", (int)(left + 0.999), "overdue", left <= 0, "since", since,
		"processedOffersSummary", "processedOffersCount", 0, "unusedOffersCount", 0,
		"rejectSummaryLastOffers", "rejectSummaryLaunchAttempt");
	if (extras)
		json_object_set_new(item, "role", json_string(ma->def->role ? ma->def->role : "*"));
	if (last_unused)
		json_object_set_new(item, "lastUnusedOffers", json_array());
	return item;
}

json_t *render_queue(struct apps *m, bool extras, bool last_unused)
{
	json_t *q = json_array();
	const char *k;
	void *v;
	uint64_t now = time_mono_usec();
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		json_t *rest = queue_item(m, ma, extras, last_unused, now);
		if (!rest)
			continue;
		json_t *item = json_pack("{s:o}", "app",
					 render_app(m, ma, RENDER_COUNTS | RENDER_DEPLOYMENTS));
		const char *key;
		json_t *val;
		json_object_foreach(rest, key, val)
			json_object_set(item, key, val);
		json_decref(rest);
		json_array_append_new(q, item);
	}
	json_t *pq = pods_queue(m, last_unused, NULL);
	json_array_extend(q, pq);
	json_decref(pq);
	return json_pack("{s:o}", "queue", q);
}

void render_queue_body(struct apps *m, struct http_body *b, bool extras, bool last_unused,
		       struct evhttp_request *req)
{
	http_body_lit(b, "{\"queue\":[");
	const char *k;
	void *v;
	uint64_t now = time_mono_usec();
	bool first = true;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		if (req && !apps_visible(m, req, ma->def->id))
			continue;
		json_t *rest = queue_item(m, ma, extras, last_unused, now);
		if (!rest)
			continue;
		/* The app's cached piece, then the item's own keys: ',' + its bytes after '{'. */
		http_body_lit(b, first ? "{\"app\":" : ",{\"app\":");
		first = false;
		http_body_piece(b, rc_app(m, ma, RENDER_COUNTS | RENDER_DEPLOYMENTS), false);
		struct http_piece *p = render_piece(rest);
		p->data[1] = ','; /* its '{' */
		http_body_add(b, p->data + 1, p->len - 1);
		http_piece_unref(p);
	}
	json_t *pq = pods_queue(m, last_unused, req);
	size_t pi;
	json_t *item;
	json_array_foreach(pq, pi, item) {
		char *txt = json_dumps(item, JSON_COMPACT);
		if (!first)
			http_body_lit(b, ",");
		first = false;
		http_body_add(b, txt, strlen(txt));
		free(txt);
	}
	json_decref(pq);
	http_body_lit(b, "]}");
}
