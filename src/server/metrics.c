/* The master's metrics: GET /metrics (Marathon's JSON) and GET /metrics/prometheus.
 *
 * The registry is the server's. Counters, meters and timers belong to the modules whose
 * events they count: the resource manager and the apps framework register their own series
 * in it (rm_metrics_register, apps_metrics_register) and update them where things happen.
 * Gauges that mirror state (agents, tasks by state, resources, apps) are sampled here at
 * every render, zeroed first so that a state or role that disappeared reads 0. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/metrics.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "server/history.h"
#include "server/server-int.h"

static const char *const agent_state_names[] = {
	[AGENT_CONNECTED] = "connected",
	[AGENT_DISCONNECTED] = "disconnected",
	[AGENT_UNREACHABLE] = "unreachable",
};

/* ---- life cycle ---- */

static void history_sample_now(struct server *s);

static void on_history_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	history_sample_now(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *s = arg;
	metrics_tick(s->reg);
}

static struct metrics_family *family(struct server *s, enum metrics_type t, const char *name,
				     const char *help, const char *labels)
{
	struct metrics_family *f = NULL;
	int r = metrics_family_new(s->reg, t, name, help, labels, NULL, &f);
	assert(r == 0); /* fixed names: a failure is a programmer error */
	(void)r;
	return f;
}

/* Creates the registry, lets the resource manager and the apps framework register their
 * series, registers the sampled gauges, turns on HTTP metrics for s->http (labelled by the
 * route table) and starts the 5-s rate tick. Returns 0 or -errno. */
int server_metrics_init(struct server *s)
{
	s->reg = metrics_new();
	rm_metrics_register(s->rm, s->reg);
	apps_metrics_register(s->apps, s->reg);
	jobs_metrics_register(s->jobs, s->reg);
	s->agents = family(s, METRICS_GAUGE, "berth_agents", "Agents, by state", "state");
	s->tasks = family(s, METRICS_GAUGE, "berth_tasks", "Live tasks, by state", "state");
	s->res_total = family(s, METRICS_GAUGE, "berth_resources",
			      "Resources of connected agents (scalars; ports counted), by role",
			      "resource,role");
	s->res_used = family(s, METRICS_GAUGE, "berth_resources_used",
			     "Resources held by tasks on connected agents, by role",
			     "resource,role");
	s->apps_n = metrics_gauge(s->reg, "berth_apps", "Apps");
	s->waiting = metrics_gauge(s->reg, "berth_instances_waiting",
				   "Instances waiting for a launch (the queue)");
	s->deploying = metrics_gauge(s->reg, "berth_deployments_active", "Deployments in flight");
	s->subscribers = metrics_gauge(s->reg, "berth_event_subscribers",
				       "Connected /v2/events subscribers");
	s->uptime = metrics_gauge(s->reg, "berth_uptime_seconds", "Seconds since the master started");
	for (size_t i = 0; i < sizeof(agent_state_names) / sizeof(agent_state_names[0]); i++)
		metrics_series_getv(s->agents, agent_state_names[i]);

	int r = http_server_enable_metrics(s->http, s->reg, "berth", routes_label, NULL);
	if (r < 0)
		return r;
	s->metrics_tick = event_new(s->base, -1, EV_PERSIST, on_tick, s);
	const struct timeval tv = { (time_t)(METRICS_TICK_USEC / 1000000), 0 };
	if (!s->metrics_tick || event_add(s->metrics_tick, &tv) < 0)
		return -ENOMEM;
	s->history = calloc(1, sizeof(*s->history));
	if (!s->history)
		return -ENOMEM;
	history_init(s->history);
	history_sample_now(s); /* a first point at start, so a fresh page has one */
	s->history_tick = event_new(s->base, -1, EV_PERSIST, on_history_tick, s);
	const struct timeval every = { HISTORY_EVERY_SEC, 0 };
	if (!s->history_tick || event_add(s->history_tick, &every) < 0)
		return -ENOMEM;
	return 0;
}

/* Frees the registry. Call after http_server_free(s->http) (the server records into it)
 * and after the resource manager and the apps framework are gone. */
void server_metrics_free(struct server *s)
{
	if (s->metrics_tick)
		event_free(s->metrics_tick);
	s->metrics_tick = NULL;
	if (s->history_tick)
		event_free(s->history_tick);
	s->history_tick = NULL;
	free(s->history);
	s->history = NULL;
	metrics_free(s->reg);
	s->reg = NULL;
}

/* ---- sampling and rendering ---- */

static void add_gauge(struct metrics_family *f, const char *a, const char *b, double v)
{
	struct metrics_series *s = b ? metrics_series_getv(f, a, b) : metrics_series_getv(f, a);
	metrics_gauge_add(s, v);
}

static void sample_agent_resources(struct server *s, const struct m_agent *a)
{
	const struct resources *tot = rm_agent_total(a), *fr = rm_agent_free(a);
	for (size_t i = 0; i < tot->n; i++) {
		const struct resource *r = &tot->v[i];
		double total, avail;
		if (r->type == RES_SCALAR) {
			total = r->scalar;
			avail = resources_scalar(fr, r->name, r->role);
		} else if (r->type == RES_RANGES) {
			total = (double)resources_range_count(tot, r->name, r->role);
			avail = (double)resources_range_count(fr, r->name, r->role);
		} else {
			continue;
		}
		add_gauge(s->res_total, r->name, r->role, total);
		/* total - free leaves float dust (0.20000000000000018): keep 9 decimals */
		add_gauge(s->res_used, r->name, r->role, round((total - avail) * 1e9) / 1e9);
	}
}

static void count_task(const struct rm_task_view *t, void *ctx)
{
	add_gauge(ctx, t->state, NULL, 1);
}

static void sample(struct server *s)
{
	metrics_family_zero(s->agents);
	metrics_family_zero(s->tasks);
	metrics_family_zero(s->res_total);
	metrics_family_zero(s->res_used);

	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(rm_agents(s->rm), &i, &k, &v);) {
		const struct m_agent *a = v;
		if ((size_t)a->state < sizeof(agent_state_names) / sizeof(agent_state_names[0]))
			add_gauge(s->agents, agent_state_names[a->state], NULL, 1);
		if (a->state == AGENT_CONNECTED)
			sample_agent_resources(s, a);
	}
	rm_each_task(s->rm, false, count_task, s->tasks);
	struct apps_stats st;
	apps_stats(s->apps, &st);
	metrics_gauge_set(s->apps_n, (double)st.apps);
	metrics_gauge_set(s->waiting, (double)st.waiting);
	metrics_gauge_set(s->deploying, (double)st.deploying);
	metrics_gauge_set(s->subscribers, (double)st.subscribers);
	uint64_t now = time_real_usec();
	metrics_gauge_set(s->uptime,
			  now > s->started_usec ? (double)(now - s->started_usec) / 1e6 : 0);
}

/* Answers GET /metrics (prometheus false) or GET /metrics/prometheus (the route table
 * checked the method); 503 before server_metrics_init. */
void server_metrics_render(struct server *s, struct evhttp_request *req, bool prometheus)
{
	if (!s->reg) {
		http_reply_message(req, 503, "Metrics are not available");
		return;
	}
	sample(s);
	struct strbuf sb = STRBUF_INIT;
	if (prometheus) {
		metrics_render_prometheus(s->reg, &sb);
		http_add_header(req, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	} else {
		metrics_render_json(s->reg, &sb);
		http_add_header(req, "Content-Type", "application/json");
	}
	http_reply_text(req, 200, strbuf_str(&sb));
	strbuf_release(&sb);
}

/* ---- the last hour (server/history.h) ---- */

static void count_running(const struct rm_task_view *t, void *ctx)
{
	if (t->state && strcmp(t->state, "TASK_RUNNING") == 0)
		(*(double *)ctx)++;
}

static void add_scalar(const struct m_agent *a, const char *name, double *used, double *total)
{
	const struct resources *tot = rm_agent_total(a), *fr = rm_agent_free(a);
	for (size_t i = 0; i < tot->n; i++) {
		const struct resource *r = &tot->v[i];
		if (r->type != RES_SCALAR || strcmp(r->name, name) != 0)
			continue;
		*total += r->scalar;
		*used += r->scalar - resources_scalar(fr, r->name, r->role);
	}
}

/* Pushes one sample of the master's state now: running tasks, scalars of connected agents,
 * the status updates counter. Walks the agents and tasks once (every 10 s). */
static void history_sample_now(struct server *s)
{
	struct history_sample x = { .time_ms = time_real_usec() / 1000 };
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(rm_agents(s->rm), &i, &k, &v);) {
		const struct m_agent *a = v;
		if (a->state != AGENT_CONNECTED)
			continue;
		add_scalar(a, "cpus", &x.cpus_used, &x.cpus);
		add_scalar(a, "mem", &x.mem_used, &x.mem);
		add_scalar(a, "disk", &x.disk_used, &x.disk);
	}
	rm_each_task(s->rm, false, count_running, &x.tasks_running);
	x.updates_total =
		metrics_family_count(metrics_family_get(s->reg, "berth_task_status_updates_total"));
	history_push(s->history, &x);
}

void server_metrics_history(struct server *s, struct evhttp_request *req)
{
	if (!s->history) {
		http_reply_message(req, 503, "Metrics are not available");
		return;
	}
	uint64_t since = 0;
	_cleanup_free_ char *q = http_query_get(req, "since");
	if (q) {
		char *end = NULL;
		errno = 0;
		unsigned long long n = strtoull(q, &end, 10);
		if (errno || end == q || *end || q[0] == '-') {
			http_reply_message(req, 400,
					   "since: expected milliseconds since the epoch, got a "
					   "value that is not a whole number");
			return;
		}
		since = n;
	}
	struct strbuf sb = STRBUF_INIT;
	history_render_json(s->history, since, &sb);
	http_add_header(req, "Content-Type", "application/json");
	http_reply_text(req, 200, strbuf_str(&sb));
	strbuf_release(&sb);
}
