/* The master's metrics: GET /metrics (Marathon's JSON) and GET /metrics/prometheus.
 *
 * One registry per process (a process runs at most one master), held here so that the
 * hot-path hooks (master_metrics_task_launched, …) need no struct master. Counters, meters
 * and timers are updated where things happen; gauges that mirror state (agents, tasks by
 * state, resources) are re-sampled from struct master at every render, zeroed first so a
 * state or role that disappeared reads 0. Every hook is a no-op before master_metrics_init
 * and after master_metrics_free (their series are NULL, and the metrics_* calls accept
 * NULL). Uses master state read-only. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "base/metrics.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/master-int.h"

static struct {
	struct metrics *reg;
	struct event *tick;
	/* updated by hooks */
	struct metrics_series *launches, *kills, *alloc_pass, *store_commit;
	struct metrics_family *status_updates, *health, *deployments;
	/* sampled at render */
	struct metrics_family *agents, *tasks, *res_total, *res_used;
	struct metrics_series *apps, *waiting, *deploying, *subscribers, *uptime;
} mm;

static const char *const agent_state_names[] = {
	[AGENT_CONNECTED] = "connected",
	[AGENT_DISCONNECTED] = "disconnected",
	[AGENT_UNREACHABLE] = "unreachable",
};

/* ---- routes ---- */

/* The route label of a request path: a small fixed set, so that app ids, task ids and
 * random URLs never become label values. */
const char *master_metrics_route(enum evhttp_cmd_type method, const char *path, void *ctx)
{
	(void)method;
	(void)ctx;
	static const char *const exact[] = {
		"/ping", "/health", "/metrics", "/metrics/prometheus", "/v2/apps", "/v2/tasks",
		"/v2/tasks/delete", "/v2/deployments", "/v2/queue", "/v2/info", "/v2/leader",
		"/v2/events", "/master/slaves", "/slaves", "/api/berth/agent/subscribe",
		"/api/berth/agent/update", "/api/berth/agent/heartbeat",
	};
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(path, exact[i]))
			return exact[i];
	if (str_has_prefix(path, "/v2/apps/")) {
		/* App ids contain slashes: classify by what follows the id. */
		if (strstr(path, "/tasks/"))
			return "/v2/apps/{id}/tasks/{taskId}";
		size_t n = strlen(path);
		if (n > 6 && !strcmp(path + n - 6, "/tasks"))
			return "/v2/apps/{id}/tasks";
		if (n > 8 && !strcmp(path + n - 8, "/restart"))
			return "/v2/apps/{id}/restart";
		if (strstr(path, "/versions/"))
			return "/v2/apps/{id}/versions/{version}";
		if (n > 9 && !strcmp(path + n - 9, "/versions"))
			return "/v2/apps/{id}/versions";
		return "/v2/apps/{id}";
	}
	if (str_has_prefix(path, "/v2/deployments/"))
		return "/v2/deployments/{id}";
	if (str_has_prefix(path, "/v2/queue/"))
		return "/v2/queue/{id}/delay";
	if (str_has_prefix(path, "/v2/groups"))
		return "/v2/groups";
	if (str_has_prefix(path, "/v2/"))
		return "/v2/other";
	if (str_has_prefix(path, "/api/berth/tasks/"))
		return "/api/berth/tasks/{id}/files";
	return NULL; /* "other" */
}

/* ---- life cycle ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	metrics_tick(mm.reg);
}

static struct metrics_family *family(enum metrics_type t, const char *name, const char *help,
				     const char *labels)
{
	struct metrics_family *f = NULL;
	int r = metrics_family_new(mm.reg, t, name, help, labels, NULL, &f);
	assert(r == 0); /* fixed names: a failure is a programmer error */
	(void)r;
	return f;
}

/* Creates the registry, registers every metric, turns on HTTP metrics for m->http and
 * starts the 5-s rate tick. Call after m->http exists. Returns 0 or -errno. */
int master_metrics_init(struct master *m)
{
	if (mm.reg)
		return -EALREADY;
	mm.reg = metrics_new();
	mm.launches = metrics_meter(mm.reg, "berth_tasks_launched_total", "Tasks launched");
	mm.kills = metrics_meter(mm.reg, "berth_tasks_killed_total", "Kills sent to agents");
	mm.alloc_pass = metrics_timer(mm.reg, "berth_allocation_pass_duration_seconds",
				      "Time spent in one scheduling/allocation pass");
	mm.store_commit = metrics_timer(mm.reg, "berth_store_commit_duration_seconds",
					"Store transaction commit latency");
	mm.status_updates = family(METRICS_COUNTER, "berth_task_status_updates_total",
				   "Task status updates received, by state", "state");
	mm.health = family(METRICS_COUNTER, "berth_health_check_results_total",
			   "Health check results reported, by result", "result");
	mm.deployments = family(METRICS_COUNTER, "berth_deployments_total",
				"Deployments, by outcome (started, success, failed, canceled)",
				"outcome");
	mm.agents = family(METRICS_GAUGE, "berth_agents", "Agents, by state", "state");
	mm.tasks = family(METRICS_GAUGE, "berth_tasks", "Live tasks, by state", "state");
	mm.res_total = family(METRICS_GAUGE, "berth_resources",
			      "Resources of connected agents (scalars; ports counted), by role",
			      "resource,role");
	mm.res_used = family(METRICS_GAUGE, "berth_resources_used",
			     "Resources held by tasks on connected agents, by role",
			     "resource,role");
	mm.apps = metrics_gauge(mm.reg, "berth_apps", "Apps");
	mm.waiting = metrics_gauge(mm.reg, "berth_instances_waiting",
				   "Instances waiting for a launch (the queue)");
	mm.deploying = metrics_gauge(mm.reg, "berth_deployments_active", "Deployments in flight");
	mm.subscribers = metrics_gauge(mm.reg, "berth_event_subscribers",
				       "Connected /v2/events subscribers");
	mm.uptime = metrics_gauge(mm.reg, "berth_uptime_seconds", "Seconds since the master started");
	for (size_t i = 0; i < sizeof(agent_state_names) / sizeof(agent_state_names[0]); i++)
		metrics_series_getv(mm.agents, agent_state_names[i]);

	int r = http_server_enable_metrics(m->http, mm.reg, "berth", master_metrics_route, NULL);
	if (r < 0)
		return r;
	mm.tick = event_new(m->base, -1, EV_PERSIST, on_tick, NULL);
	const struct timeval tv = { (time_t)(METRICS_TICK_USEC / 1000000), 0 };
	if (!mm.tick || event_add(mm.tick, &tv) < 0)
		return -ENOMEM;
	return 0;
}

/* Frees the registry. Call after http_server_free(m->http) (the server records into it). */
void master_metrics_free(struct master *m)
{
	(void)m;
	if (mm.tick)
		event_free(mm.tick);
	metrics_free(mm.reg);
	memset(&mm, 0, sizeof(mm));
}

/* ---- hooks ---- */

void master_metrics_task_launched(void)
{
	metrics_meter_mark(mm.launches, 1);
}

void master_metrics_task_killed(void)
{
	metrics_meter_mark(mm.kills, 1);
}

/* state: "TASK_RUNNING", … (borrowed). */
void master_metrics_status_update(const char *state)
{
	if (mm.reg && state)
		metrics_counter_inc(metrics_series_getv(mm.status_updates, state));
}

void master_metrics_health_result(bool healthy)
{
	if (mm.reg)
		metrics_counter_inc(metrics_series_getv(mm.health, healthy ? "healthy" : "unhealthy"));
}

/* outcome: "started", "success", "failed" or "canceled". */
void master_metrics_deployment(const char *outcome)
{
	if (mm.reg && outcome)
		metrics_counter_inc(metrics_series_getv(mm.deployments, outcome));
}

void master_metrics_alloc_pass_usec(uint64_t usec)
{
	metrics_timer_record_usec(mm.alloc_pass, usec);
}

void master_metrics_store_commit_usec(uint64_t usec)
{
	metrics_timer_record_usec(mm.store_commit, usec);
}

/* ---- sampling and rendering ---- */

static void add_gauge(struct metrics_family *f, const char *a, const char *b, double v)
{
	struct metrics_series *s = b ? metrics_series_getv(f, a, b) : metrics_series_getv(f, a);
	metrics_gauge_add(s, v);
}

static void sample_agent_resources(const struct m_agent *a)
{
	for (size_t i = 0; i < a->total.n; i++) {
		const struct resource *r = &a->total.v[i];
		double total, avail;
		if (r->type == RES_SCALAR) {
			total = r->scalar;
			avail = resources_scalar(&a->free, r->name, r->role);
		} else if (r->type == RES_RANGES) {
			total = (double)resources_range_count(&a->total, r->name, r->role);
			avail = (double)resources_range_count(&a->free, r->name, r->role);
		} else {
			continue;
		}
		add_gauge(mm.res_total, r->name, r->role, total);
		/* total - free leaves float dust (0.20000000000000018): keep 9 decimals */
		add_gauge(mm.res_used, r->name, r->role, round((total - avail) * 1e9) / 1e9);
	}
}

static void sample(struct master *m)
{
	metrics_family_zero(mm.agents);
	metrics_family_zero(mm.tasks);
	metrics_family_zero(mm.res_total);
	metrics_family_zero(mm.res_used);

	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		if ((size_t)a->state < sizeof(agent_state_names) / sizeof(agent_state_names[0]))
			add_gauge(mm.agents, agent_state_names[a->state], NULL, 1);
		if (a->state == AGENT_CONNECTED)
			sample_agent_resources(a);
	}

	double napps = 0, waiting = 0, deploying = 0;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *ma = v;
		napps++;
		if (ma->deploy)
			deploying++;
		for (size_t j = 0; j < ma->ninst; j++) {
			const struct m_instance *in = ma->inst[j];
			if (in->phase == INST_WAITING)
				waiting += in->goal == GOAL_RUN;
			else if (in->state)
				add_gauge(mm.tasks, in->state, NULL, 1);
		}
	}
	metrics_gauge_set(mm.apps, napps);
	metrics_gauge_set(mm.waiting, waiting);
	metrics_gauge_set(mm.deploying, deploying);
	metrics_gauge_set(mm.subscribers, m->nsubs);
	uint64_t now = time_real_usec();
	metrics_gauge_set(mm.uptime, now > m->started_usec ? (double)(now - m->started_usec) / 1e6 : 0);
}

/* Answers GET /metrics (prometheus false) or GET /metrics/prometheus; 405 for other
 * methods than GET and HEAD, 503 before master_metrics_init. */
void master_metrics_render(struct master *m, struct evhttp_request *req, bool prometheus)
{
	enum evhttp_cmd_type meth = evhttp_request_get_command(req);
	if (meth != EVHTTP_REQ_GET && meth != EVHTTP_REQ_HEAD) {
		http_reply_message(req, 405, "Method not allowed");
		return;
	}
	if (!mm.reg) {
		http_reply_message(req, 503, "Metrics are not available");
		return;
	}
	sample(m);
	struct strbuf sb = STRBUF_INIT;
	if (prometheus) {
		metrics_render_prometheus(mm.reg, &sb);
		http_add_header(req, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	} else {
		metrics_render_json(mm.reg, &sb);
		http_add_header(req, "Content-Type", "application/json");
	}
	http_reply_text(req, 200, strbuf_str(&sb));
	strbuf_release(&sb);
}
