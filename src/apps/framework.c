/* The apps framework as the resource manager sees it: its registration and callbacks
 * (struct rm_framework_ops), its task views for /master/state and the operator API, and its
 * life cycle (apps.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "model/discovery.h"
#include "apps/apps-int.h"
#include "apps/pods-int.h"

/* ---- task views ---- */

/* Fills v for in's task; name holds APP_MAX_ID_LEN + 1 bytes. With detail, v->discovery is
 * a new reference for the receiver to take. */
static void task_view(struct apps *m, const struct m_instance *in, bool detail,
		      struct rm_task_view *v, char *name)
{
	const struct app *def = in->app->def;
	app_task_name(def->id, name);
	*v = (struct rm_task_view){
		.id = in->task_id, .framework_id = m->framework_id, .name = name,
		.agent_id = in->agent_id ? in->agent_id : "", .state = in->state,
		.role = def->role ? def->role : "*", .user = def->user, .res = &in->res,
		.staged_usec = in->staged_at, .started_usec = in->started_at,
		.healthy = def->nhealth_checks > 0 ? in->healthy : -1,
		.has_health = def->nhealth_checks > 0, .has_index = def->stateful, .index = in->index, .app_id = def->id,
	};
	if (detail) {
		v->labels = def->labels;
		v->discovery = discovery_info_json(def, name, in->ports, in->nports);
	}
}

void apps_event_task_added(struct apps *m, const struct m_instance *in)
{
	if (!rm_event_listeners(m->rm))
		return;
	char name[APP_MAX_ID_LEN + 1];
	struct rm_task_view v;
	task_view(m, in, true, &v, name);
	rm_event_task_added(m->rm, m->client, &v);
}

void apps_event_task_updated(struct apps *m, const struct m_instance *in, const char *state,
			     const char *message)
{
	if (!rm_event_listeners(m->rm))
		return;
	char name[APP_MAX_ID_LEN + 1];
	struct rm_task_view v;
	task_view(m, in, true, &v, name);
	rm_event_task_updated(m->rm, m->client, &v, state, message);
}

/* ---- the callbacks ---- */

static const char *op_task_agent(void *ctx, const char *task_id)
{
	struct apps *m = ctx;
	const struct m_instance *in = task_id ? hmap_get(&m->tasks, task_id) : NULL;
	if (!in)
		return pods_task_agent(m, task_id);
	return in->agent_id ? in->agent_id : "";
}

static bool op_status_update(void *ctx, struct m_agent *a, const json_t *update)
{
	return apps_status_update(ctx, a, update) || pods_status_update(ctx, a, update);
}

static void op_agent_registered(void *ctx, struct m_agent *a, const struct hmap *reported)
{
	apps_agent_registered(ctx, a, reported);
	pods_agent_registered(ctx, a, reported);
}

static void op_agent_lost(void *ctx, struct m_agent *a)
{
	apps_agent_lost(ctx, a);
	pods_agent_lost(ctx, a);
}

static void op_each_task(void *ctx, bool detail, rm_task_fn fn, void *fnctx)
{
	struct apps *m = ctx;
	char name[APP_MAX_ID_LEN + 1];
	const char *k;
	void *v;
	/* The live tasks' index, not every instance: an app's waiting instances cost nothing. */
	for (size_t i = 0; hmap_next(&m->tasks, &i, &k, &v);) {
		const struct m_instance *in = v;
		if (in->phase != INST_LIVE || !in->task_id[0] || !in->state)
			continue;
		struct rm_task_view view;
		task_view(m, in, detail, &view, name);
		fn(&view, fnctx);
	}
	pods_each_task(m, detail, fn, fnctx);
}

static void op_each_role(void *ctx, void (*fn)(const char *role, void *fnctx), void *fnctx)
{
	struct apps *m = ctx;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *ma = v;
		if (ma->def->role)
			fn(ma->def->role, fnctx);
	}
}

static void op_wake(void *ctx)
{
	apps_schedule_pass(ctx);
}

static void op_agent_draining(void *ctx, struct m_agent *a)
{
	struct apps *m = ctx;
	m->drain_checked_usec = 0; /* look again at once (schedule.c) */
	apps_touch_all(m); /* the pass replaces the instances there (schedule.c) */
}

static const struct rm_framework_ops ops = {
	.task_agent = op_task_agent,
	.status_update = op_status_update,
	.agent_registered = op_agent_registered,
	.agent_lost = op_agent_lost,
	.each_task = op_each_task,
	.each_role = op_each_role,
	.wake = op_wake,
	.agent_draining = op_agent_draining,
};

/* ---- life cycle ---- */

/* The deferred pass (apps_schedule_pass): the apps', then the pods'. */
static void on_pass(evutil_socket_t fd, short what, void *ctx)
{
	apps_run_pass(ctx);
	pods_pass(ctx);
}

int apps_new(struct master *rm, struct apps **out)
{
	struct apps *m = xcalloc(1, sizeof(*m));
	m->rm = rm;
	m->base = rm_base(rm);
	m->store = rm_store(rm);
	m->cfg = rm_config(rm);
	hmap_init(&m->apps);
	hmap_init(&m->tasks);
	m->groups = json_object();
	m->pods = pods_new();
	snprintf(m->framework_id, sizeof(m->framework_id), "%s", rm_builtin_framework_id(rm));
	/* Registered before loading: the instances loaded take their resources as its own. */
	m->client = rm_framework_add(rm, m->framework_id, "marathon", &ops, m);
	if (!m->client) {
		apps_free(m);
		return -E2BIG;
	}
	int r = apps_load(m);
	if (r >= 0)
		r = pods_load(m);
	if (r < 0) {
		log_error("master", "cannot load the apps: %s", strerror(-r));
		apps_free(m);
		return r;
	}
	m->pass_ev = event_new(m->base, -1, 0, on_pass, m);
	log_info("master", "%zu apps loaded", hmap_len(&m->apps));
	*out = m;
	return 0;
}

void apps_stop(struct apps *m)
{
	if (!m)
		return;
	if (m->pass_ev)
		event_del(m->pass_ev); /* no pass while the master stops */
	events_close_all(m);
}

void apps_free(struct apps *m)
{
	if (!m)
		return;
	if (m->pass_ev)
		event_free(m->pass_ev);
	events_close_all(m);
	autoscale_free(m);
	pods_free(m);
	free(m->agent_ca);
	free(m->agent_cert);
	free(m->agent_key);
	apps_free_all(m);
	free(m->agents);
	free(m->draining);
	hmap_release(&m->apps);
	hmap_release(&m->tasks);
	json_decref(m->groups);
	free(m);
}

void apps_set_agent_tls(struct apps *m, const char *ca, const char *cert, const char *key)
{
	free(m->agent_ca);
	free(m->agent_cert);
	free(m->agent_key);
	m->agent_ca = ca ? xstrdup(ca) : NULL;
	m->agent_cert = cert ? xstrdup(cert) : NULL;
	m->agent_key = key ? xstrdup(key) : NULL;
}

void apps_set_view_filter(struct apps *m,
			  bool (*may_view)(void *ctx, const char *principal, const char *app_id),
			  void *ctx)
{
	m->may_view = may_view;
	m->may_view_ctx = ctx;
}

bool apps_visible(const struct apps *m, struct evhttp_request *req, const char *id)
{
	if (!m->may_view)
		return true;
	const char *who =
		evhttp_find_header(evhttp_request_get_input_headers(req), HTTP_PRINCIPAL_HEADER);
	return m->may_view(m->may_view_ctx, who, id);
}

void apps_set_leader(struct apps *m, const char *leader, uint16_t port)
{
	snprintf(m->leader, sizeof(m->leader), "%s", leader);
	m->port = port;
}

void apps_tick(struct apps *m)
{
	events_tick(m);
	autoscale_tick(m);
	apps_run_pass(m);
	pods_pass(m);
}

void apps_metrics_register(struct apps *m, struct metrics *reg)
{
	m->alloc_pass = metrics_timer(reg, "berth_allocation_pass_duration_seconds",
				      "Time spent in one scheduling/allocation pass");
	m->alloc_pass_cpu = metrics_timer(reg, "berth_allocation_pass_cpu_seconds",
					  "CPU time of one scheduling/allocation pass (the event loop's "
					  "thread: without waits for the disk or for other processes)");
	metrics_family_new(reg, METRICS_COUNTER, "berth_health_check_results_total",
			   "Health check results reported, by result", "result", NULL, &m->health);
	metrics_family_new(reg, METRICS_COUNTER, "berth_deployments_total",
			   "Deployments, by outcome (started, success, failed, canceled)", "outcome",
			   NULL, &m->deployments);
}

void apps_count_health(struct apps *m, bool healthy)
{
	if (m->health)
		metrics_counter_inc(metrics_series_getv(m->health, healthy ? "healthy" : "unhealthy"));
}

void apps_count_deployment(struct apps *m, const char *outcome)
{
	if (m->deployments && outcome)
		metrics_counter_inc(metrics_series_getv(m->deployments, outcome));
}

void apps_stats(const struct apps *m, struct apps_stats *out)
{
	memset(out, 0, sizeof(*out));
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *ma = v;
		out->apps++;
		if (ma->deploy)
			out->deploying++;
		out->waiting += ma->nwait_run;
	}
	out->subscribers = m->nsubs;
}

/* ---- HTTP handlers that live elsewhere ---- */

void apps_http_events(struct apps *m, struct evhttp_request *req, const char *arg,
		      const char *arg2)
{
	events_handle(m, req);
}

void apps_http_volumes(struct apps *m, struct evhttp_request *req, const char *arg,
		       const char *arg2)
{
	api_volumes(m, req);
}
