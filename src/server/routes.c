/* The master's route table: the one list of its HTTP API. It drives dispatch, the 404 and
 * 405 answers, and the route label of the HTTP metrics (a small fixed set: the patterns,
 * so that app ids, task ids and random URLs never become label values).
 *
 * Routes are tried in order; the first whose pattern matches the path answers. A route
 * whose methods do not include the request's answers 405 in Marathon's shape; routes of the
 * Mesos APIs take every method and answer a wrong one themselves, in Mesos's words. */
#include <assert.h>
#include <string.h>

#include "base/mem.h"
#include "base/util.h"
#include "auth/auth.h"
#include "net/route.h"
#include "server/leader.h"
#include "server/server-int.h"
#include "ui/ui.h"

#define M_GET (1u << 0)
#define M_HEAD (1u << 1)
#define M_POST (1u << 2)
#define M_PUT (1u << 3)
#define M_PATCH (1u << 4)
#define M_DELETE (1u << 5)
#define M_ANY 0xffffu /* the handler checks the method itself */

typedef void (*route_fn)(struct server *s, struct evhttp_request *req,
			 const struct route_args *a);

struct route {
	const char *pattern;
	unsigned methods;
	route_fn fn;
};

/* ---- adapters: the table's handlers ---- */

#define APPS_ROUTE(fn)                                                                     \
	static void r_##fn(struct server *s, struct evhttp_request *req,                   \
			   const struct route_args *a)                                      \
	{                                                                                  \
		fn(s->apps, req, a->v[0], a->v[1]);                                         \
	}
APPS_ROUTE(apps_http_apps)
APPS_ROUTE(apps_http_group)
APPS_ROUTE(apps_http_groups)
APPS_ROUTE(apps_http_pods)
APPS_ROUTE(apps_http_group_versions)
APPS_ROUTE(apps_http_group_version)
APPS_ROUTE(apps_http_app)
APPS_ROUTE(apps_http_app_restart)
APPS_ROUTE(apps_http_app_tasks)
APPS_ROUTE(apps_http_app_versions)
APPS_ROUTE(apps_http_tasks)
APPS_ROUTE(apps_http_tasks_delete)
APPS_ROUTE(apps_http_deployments)
APPS_ROUTE(apps_http_queue)
APPS_ROUTE(apps_http_info)
APPS_ROUTE(apps_http_leader)
APPS_ROUTE(apps_http_events)
APPS_ROUTE(apps_http_volumes)
APPS_ROUTE(apps_http_autoscale)
APPS_ROUTE(apps_http_instances)

#define JOBS_ROUTE(fn)                                                                     \
	static void r_##fn(struct server *s, struct evhttp_request *req,                   \
			   const struct route_args *a)                                      \
	{                                                                                  \
		fn(s->jobs, req, a->v[0]);                                                  \
	}
JOBS_ROUTE(jobs_http_iso8601)
JOBS_ROUTE(jobs_http_dependency)
JOBS_ROUTE(jobs_http_jobs)
JOBS_ROUTE(jobs_http_summary)
JOBS_ROUTE(jobs_http_search)
JOBS_ROUTE(jobs_http_job)
JOBS_ROUTE(jobs_http_success)
JOBS_ROUTE(jobs_http_kill)
JOBS_ROUTE(jobs_http_graph_dot)
JOBS_ROUTE(jobs_http_graph_csv)
JOBS_ROUTE(jobs_http_job_stat)
JOBS_ROUTE(jobs_http_stats)
JOBS_ROUTE(jobs_http_leader)
JOBS_ROUTE(jobs_http_history)

#define RM_ROUTE(fn)                                                                       \
	static void r_##fn(struct server *s, struct evhttp_request *req,                   \
			   const struct route_args *a)                                      \
	{                                                                                  \
		(void)a;                                                                   \
		fn(s->rm, req);                                                            \
	}
/* GET: the leader's address; DELETE: abdicate (leader.h). */
static void r_leader(struct server *s, struct evhttp_request *req, const struct route_args *a)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_DELETE)
		leader_http_abdicate(req);
	else
		r_apps_http_leader(s, req, a);
}

RM_ROUTE(rm_handle_agent_subscribe)
RM_ROUTE(rm_handle_agent_update)
RM_ROUTE(rm_handle_agent_heartbeat)
RM_ROUTE(rm_handle_agent_message)
RM_ROUTE(rm_handle_scheduler)
RM_ROUTE(rm_handle_operator)
RM_ROUTE(rm_handle_state)
RM_ROUTE(rm_handle_slaves)
RM_ROUTE(rm_handle_legacy)

static void r_task_files(struct server *s, struct evhttp_request *req,
			 const struct route_args *a)
{
	_cleanup_free_ char *path = http_request_path(req);
	rm_handle_task_files(s->rm, req, path ? path : "");
}

static void r_agent_statistics(struct server *s, struct evhttp_request *req,
			       const struct route_args *a)
{
	rm_handle_agent_statistics(s->rm, req, a->v[0]);
}

static void r_ping(struct server *s, struct evhttp_request *req, const struct route_args *a)
{
	const char *acc = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
	if (acc && strstr(acc, "application/json") && !strstr(acc, "text/plain"))
		http_reply_json(req, 200, json_string("pong"));
	else
		http_reply_text(req, 200, "pong\n");
}

static void r_health(struct server *s, struct evhttp_request *req, const struct route_args *a)
{
	http_reply_text(req, 200, "");
}

static void r_metrics(struct server *s, struct evhttp_request *req, const struct route_args *a)
{
	server_metrics_render(s, req, false);
}

static void r_prometheus(struct server *s, struct evhttp_request *req,
			 const struct route_args *a)
{
	server_metrics_render(s, req, true);
}

static void r_metrics_history(struct server *s, struct evhttp_request *req,
			      const struct route_args *a)
{
	server_metrics_history(s, req);
}

static void r_ui(struct server *s, struct evhttp_request *req, const struct route_args *a)
{
	_cleanup_free_ char *path = http_request_path(req);
	ui_http_serve(req, path ? path : "/");
}

/* ---- the table ---- */

static void r_dns_version(struct server *s, struct evhttp_request *req,
			  const struct route_args *a)
{
	dns_http_version(s->dns, req);
}

static void r_dns_config(struct server *s, struct evhttp_request *req,
			 const struct route_args *a)
{
	dns_http_config(s->dns, req);
}

static void r_dns_hosts(struct server *s, struct evhttp_request *req,
			const struct route_args *a)
{
	dns_http_hosts(s->dns, req, a->v[0]);
}

static void r_dns_services(struct server *s, struct evhttp_request *req,
			   const struct route_args *a)
{
	dns_http_services(s->dns, req, a->v[0]);
}

static void r_services(struct server *s, struct evhttp_request *req,
		       const struct route_args *a)
{
	dns_http_services_v2(s->dns, req, a->v[0]);
}

static const struct route routes[] = {
	{ "/ping", M_GET | M_HEAD, r_ping },
	{ "/health", M_ANY, r_health },
	{ "/metrics", M_GET | M_HEAD, r_metrics },
	{ "/metrics/prometheus", M_GET | M_HEAD, r_prometheus },
	{ "/api/berth/metrics/history", M_GET | M_HEAD, r_metrics_history },
	/* Marathon v2 (reference/compat.md §3.1). App ids contain slashes: {id*}. */
	{ "/v2/apps", M_GET | M_POST | M_PUT | M_PATCH, r_apps_http_apps },
	{ "/v2/apps/*", M_GET, r_apps_http_group },
	{ "/v2/apps/{id*}/*", M_GET, r_apps_http_group },
	{ "/v2/apps/{id*}/restart", M_POST, r_apps_http_app_restart },
	{ "/v2/apps/{id*}/tasks", M_GET | M_DELETE, r_apps_http_app_tasks },
	{ "/v2/apps/{id*}/tasks/{taskId}", M_DELETE, r_apps_http_app_tasks },
	{ "/v2/apps/{id*}/versions", M_GET, r_apps_http_app_versions },
	{ "/v2/apps/{id*}/versions/{version}", M_GET, r_apps_http_app_versions },
	{ "/v2/apps/{id*}", M_GET | M_PUT | M_PATCH | M_DELETE, r_apps_http_app },
	{ "/v2/groups", M_GET | M_POST | M_PUT | M_DELETE, r_apps_http_groups },
	{ "/v2/groups/versions", M_GET, r_apps_http_group_versions },
	{ "/v2/groups/{id*}/versions", M_GET, r_apps_http_group_versions },
	{ "/v2/groups/versions/{version}", M_GET, r_apps_http_group_version },
	{ "/v2/groups/{id*}/versions/{version}", M_GET, r_apps_http_group_version },
	{ "/v2/groups/{id*}", M_GET | M_POST | M_PUT | M_DELETE, r_apps_http_groups },
	/* Pods: {id*} carries "::status", "::versions/…", "::instances/…" (pods-api.c). */
	{ "/v2/pods", M_GET | M_HEAD | M_POST, r_apps_http_pods },
	{ "/v2/pods/{id*}", M_GET | M_PUT | M_DELETE, r_apps_http_pods },
	{ "/v2/tasks", M_GET, r_apps_http_tasks },
	{ "/v2/tasks/delete", M_POST, r_apps_http_tasks_delete },
	{ "/v2/deployments", M_GET, r_apps_http_deployments },
	{ "/v2/deployments/{id}", M_DELETE, r_apps_http_deployments },
	{ "/v2/queue", M_GET, r_apps_http_queue },
	{ "/v2/queue/{id*}/delay", M_DELETE, r_apps_http_queue },
	{ "/v2/info", M_GET, r_apps_http_info },
	{ "/v2/leader", M_GET | M_DELETE, r_leader },
	{ "/v2/events", M_GET, r_apps_http_events },
	/* Mesos (reference/compat.md §2): the handlers answer wrong methods themselves. */
	{ "/api/v1/scheduler", M_ANY, r_rm_handle_scheduler },
	{ "/master/api/v1/scheduler", M_ANY, r_rm_handle_scheduler },
	{ "/api/v1", M_ANY, r_rm_handle_operator },
	{ "/master/api/v1", M_ANY, r_rm_handle_operator },
	{ "/master/state", M_ANY, r_rm_handle_state },
	{ "/state", M_ANY, r_rm_handle_state },
	{ "/master/state.json", M_ANY, r_rm_handle_state },
	{ "/state.json", M_ANY, r_rm_handle_state },
	{ "/master/slaves", M_GET, r_rm_handle_slaves },
	{ "/slaves", M_GET, r_rm_handle_slaves },
	/* berth's own (docs/internals/agent-protocol.md, docs/api.md). */
	{ "/api/berth/agent/subscribe", M_POST, r_rm_handle_agent_subscribe },
	{ "/api/berth/agent/update", M_POST, r_rm_handle_agent_update },
	{ "/api/berth/agent/heartbeat", M_POST, r_rm_handle_agent_heartbeat },
	{ "/api/berth/agent/message", M_POST, r_rm_handle_agent_message },
	{ "/api/berth/volumes", M_GET, r_apps_http_volumes },
	{ "/api/berth/autoscale", M_GET, r_apps_http_autoscale },
	{ "/api/berth/autoscale/{id*}", M_GET, r_apps_http_autoscale },
	{ "/api/berth/apps/{id*}/instances", M_GET, r_apps_http_instances },
	{ "/api/berth/apps/{id*}/instances/{op}", M_POST, r_apps_http_instances },
	{ "/api/berth/tasks/{id}/files/{op}", M_GET, r_task_files },
	{ "/api/berth/agents/{id}/monitor/statistics", M_GET, r_agent_statistics },
	/* Mesos's legacy endpoints (master/legacy-http.c) */
	{ "/metrics/snapshot", M_ANY, r_rm_handle_legacy },
	{ "/version", M_ANY, r_rm_handle_legacy },
	{ "/master/frameworks", M_ANY, r_rm_handle_legacy },
	{ "/frameworks", M_ANY, r_rm_handle_legacy },
	{ "/master/tasks", M_ANY, r_rm_handle_legacy },
	{ "/tasks", M_ANY, r_rm_handle_legacy },
	{ "/master/roles", M_ANY, r_rm_handle_legacy },
	{ "/roles", M_ANY, r_rm_handle_legacy },
	{ "/master/state-summary", M_ANY, r_rm_handle_legacy },
	{ "/state-summary", M_ANY, r_rm_handle_legacy },
	{ "/master/redirect", M_ANY, r_rm_handle_legacy },
	{ "/redirect", M_ANY, r_rm_handle_legacy },
	{ "/master/flags", M_ANY, r_rm_handle_legacy },
	{ "/flags", M_ANY, r_rm_handle_legacy },
	/* The console (docs/console.md): embedded assets. */
	{ "/", M_GET | M_HEAD, r_ui },
	{ "/ui", M_GET | M_HEAD, r_ui },
	{ "/ui/{file}", M_GET | M_HEAD, r_ui },
	/* Mesos-DNS's HTTP API (src/dns) */
	{ "/v1/version", M_GET, r_dns_version },
	{ "/v1/config", M_GET, r_dns_config },
	{ "/v1/hosts/{host}", M_GET, r_dns_hosts },
	{ "/v1/services/{service}", M_GET, r_dns_services },
	/* berth's discovery watch (src/dns) */
	{ "/v2/services/{id*}", M_GET, r_services },
	/* Chronos (reference/compat.md §6): 3.x under /v1/scheduler, 2.x clients /scheduler. */
#define CHRONOS(prefix)                                                                    \
	{ prefix "/iso8601", M_POST | M_PUT, r_jobs_http_iso8601 },                         \
	{ prefix "/dependency", M_POST | M_PUT, r_jobs_http_dependency },                   \
	{ prefix "/jobs", M_GET | M_DELETE, r_jobs_http_jobs },                             \
	{ prefix "/jobs/summary", M_GET, r_jobs_http_summary },                             \
	{ prefix "/jobs/search", M_GET, r_jobs_http_search },                               \
	{ prefix "/job/success/{name}", M_PUT, r_jobs_http_success },                       \
	{ prefix "/job/stat/{name}", M_GET, r_jobs_http_job_stat },                         \
	{ prefix "/job/{name}", M_GET | M_PUT | M_DELETE, r_jobs_http_job },                \
	{ prefix "/task/kill/{name}", M_DELETE, r_jobs_http_kill },                         \
	{ prefix "/graph/dot", M_GET, r_jobs_http_graph_dot },                              \
	{ prefix "/graph/csv", M_GET, r_jobs_http_graph_csv },                              \
	{ prefix "/stats/{pct}", M_GET, r_jobs_http_stats },                                \
	{ prefix "/leader", M_GET, r_jobs_http_leader }
	CHRONOS("/scheduler"),
	CHRONOS("/v1/scheduler"),
#undef CHRONOS
	{ "/api/berth/jobs/{name}/history", M_GET, r_jobs_http_history },
};

static unsigned method_bit(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return M_GET;
	case EVHTTP_REQ_HEAD:
		return M_HEAD;
	case EVHTTP_REQ_POST:
		return M_POST;
	case EVHTTP_REQ_PUT:
		return M_PUT;
	case EVHTTP_REQ_PATCH:
		return M_PATCH;
	case EVHTTP_REQ_DELETE:
		return M_DELETE;
	default:
		return 1u << 15;
	}
}

static const struct route *find(const char *path, struct route_args *a)
{
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
		if (route_match(routes[i].pattern, path, a))
			return &routes[i];
	return NULL;
}

void routes_dispatch(struct server *s, struct evhttp_request *req)
{
	_cleanup_free_ char *path = http_request_path(req);
	if (!path) {
		http_reply_message(req, 400, "Malformed request URI");
		return;
	}
	if (!auth_http_check(s->auth, req, path))
		return;
	struct route_args *a = xmalloc(sizeof(*a));
	const struct route *r = find(path, a);
	if (!r)
		http_reply_message(req, 404, "Not found: '%s'", path);
	else if (r->methods != M_ANY && !(r->methods & method_bit(evhttp_request_get_command(req))))
		http_reply_message(req, 405, "Method not allowed");
	else
		r->fn(s, req, a);
	free(a);
}

/* The label of each route: its pattern with "{id*}" written "{id}" (derived from the table
 * by routes_init, constant after). */
static char labels[ARRAY_SIZE(routes)][96];

void routes_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		assert(route_pattern_valid(routes[i].pattern)); /* the table is code */
		size_t k = 0;
		for (const char *p = routes[i].pattern; *p && k + 1 < sizeof(labels[0]); p++)
			if (!(*p == '*' && p[1] == '}'))
				labels[i][k++] = *p;
		labels[i][k] = '\0';
	}
}

const char *routes_label(enum evhttp_cmd_type method, const char *path, void *ctx)
{
	(void)method;
	(void)ctx;
	const struct route *r = find(path, NULL);
	return r ? labels[r - routes] : NULL;
}
