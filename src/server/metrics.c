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
#include <string.h>

#include "base/metrics.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "server/server-int.h"

static const char *const agent_state_names[] = {
	[AGENT_CONNECTED] = "connected",
	[AGENT_DISCONNECTED] = "disconnected",
	[AGENT_UNREACHABLE] = "unreachable",
};

/* ---- life cycle ---- */

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
	return 0;
}

/* Frees the registry. Call after http_server_free(s->http) (the server records into it)
 * and after the resource manager and the apps framework are gone. */
void server_metrics_free(struct server *s)
{
	if (s->metrics_tick)
		event_free(s->metrics_tick);
	s->metrics_tick = NULL;
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
