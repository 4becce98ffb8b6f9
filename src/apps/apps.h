/* The apps framework (Marathon): long-running apps, their instances and deployments, the
 * Marathon v2 API and its event stream. It runs inside the master and uses the resource
 * manager through master/rm.h; this header is what the server wires. */
#pragma once
#include <event2/http.h>
#include <stdbool.h>
#include <stdint.h>

struct apps;
struct master;
struct metrics;
struct json_t;

/* Loads apps, instances and deployments from the resource manager's store and registers the
 * framework with it. 0 and *out, or -errno (logged). */
int apps_new(struct master *rm, struct apps **out);
/* Ends the event streams and schedules no more passes (before the HTTP server goes). */
void apps_stop(struct apps *ap);
/* Frees everything (NULL is fine), giving back what its tasks hold. Call before rm_free. */
void apps_free(struct apps *ap);
/* Where the master listens, for /v2/info and /v2/leader ("host:port"). */
void apps_set_leader(struct apps *ap, const char *leader, uint16_t port);
/* Every 250 ms: event heartbeats, delayed launches, the scheduling pass. */
void apps_tick(struct apps *ap);
/* Runs the scheduling pass now. */
void apps_run_pass(struct apps *ap);
/* Who may see which app (the ACLs' view_apps, src/auth): lists (GET /v2/apps, /v2/groups,
 * /v2/tasks) leave out the apps may_view refuses for the request's principal (the hidden
 * header HTTP_PRINCIPAL_HEADER; NULL without authentication). NULL may_view: all visible. */
/* At most n /v2/events streams per authenticated principal at once (429 beyond); 0: none. */
void apps_set_stream_limit(struct apps *ap, unsigned n);
void apps_set_view_filter(struct apps *ap,
			  bool (*may_view)(void *ctx, const char *principal, const char *app_id),
			  void *ctx);
/* How the autoscaler's cpu metric reaches agents that serve HTTPS: ca verifies them (NULL:
 * the system's CAs), cert and key (PEM files, or NULL) are shown to those that want a
 * client certificate (mutual TLS) — the master's own, as its sandbox proxy does. Copied. */
void apps_set_agent_tls(struct apps *ap, const char *ca, const char *cert, const char *key);
/* Registers the framework's metrics in reg (borrowed for ap's life). */
void apps_metrics_register(struct apps *ap, struct metrics *reg);

/* What the server's metrics sample. */
struct apps_stats {
	size_t apps, waiting, deploying, subscribers;
};
void apps_stats(const struct apps *ap, struct apps_stats *out);
/* Publishes a berth event of type on GET /v2/events to the streams that asked for that type
 * by name (?event_type=), not to those reading every type (payload stolen; eventType and
 * timestamp are added): for the other built-in frameworks, wired by the server. */
void apps_publish_event(struct apps *ap, const char *type, struct json_t *payload);

/* The Marathon v2 API handlers, one per route of the server's table. arg is the route's
 * captured text (an app id, a task id, …; see server/routes.c), NULL where it has none;
 * arg2 the second one. The table checks the method. */
void apps_http_apps(struct apps *ap, struct evhttp_request *req, const char *arg,
		    const char *arg2);
void apps_http_group(struct apps *ap, struct evhttp_request *req, const char *arg,
		     const char *arg2);
/* /v2/groups (api-groups.c): arg the group's id text, NULL for the root. */
void apps_http_groups(struct apps *ap, struct evhttp_request *req, const char *arg,
		      const char *arg2);
void apps_http_group_versions(struct apps *ap, struct evhttp_request *req, const char *arg,
			      const char *arg2);
/* GET /v2/groups/{id}/versions/{version} (arg the id, arg2 the version) and
 * /v2/groups/versions/{version} (arg the version, arg2 NULL): the group at that version. */
void apps_http_group_version(struct apps *ap, struct evhttp_request *req, const char *arg,
			     const char *arg2);
void apps_http_app(struct apps *ap, struct evhttp_request *req, const char *arg,
		   const char *arg2);
void apps_http_app_restart(struct apps *ap, struct evhttp_request *req, const char *arg,
			   const char *arg2);
void apps_http_app_tasks(struct apps *ap, struct evhttp_request *req, const char *arg,
			 const char *arg2);
void apps_http_app_versions(struct apps *ap, struct evhttp_request *req, const char *arg,
			    const char *arg2);
void apps_http_tasks(struct apps *ap, struct evhttp_request *req, const char *arg,
		     const char *arg2);
void apps_http_tasks_delete(struct apps *ap, struct evhttp_request *req, const char *arg,
			    const char *arg2);
void apps_http_deployments(struct apps *ap, struct evhttp_request *req, const char *arg,
			   const char *arg2);
void apps_http_queue(struct apps *ap, struct evhttp_request *req, const char *arg,
		     const char *arg2);
void apps_http_info(struct apps *ap, struct evhttp_request *req, const char *arg,
		    const char *arg2);
void apps_http_leader(struct apps *ap, struct evhttp_request *req, const char *arg,
		      const char *arg2);
void apps_http_events(struct apps *ap, struct evhttp_request *req, const char *arg,
		      const char *arg2);
void apps_http_volumes(struct apps *ap, struct evhttp_request *req, const char *arg,
		       const char *arg2);
/* /v2/pods (pods-api.c): arg the text after /v2/pods/ ("{id}[::status|::versions[/{v}]|
 * ::instances[/{i}]]" or "::status"), NULL for /v2/pods itself. */
void apps_http_pods(struct apps *ap, struct evhttp_request *req, const char *arg,
		    const char *arg2);
/* /api/berth/apps/{id}/instances[/{op}] (api-instances.c): GET lists the app's instances by
 * index; POST op stop|start|env|add changes them (docs/api.md "Instances"). */
void apps_http_instances(struct apps *ap, struct evhttp_request *req, const char *arg,
			 const char *arg2);
/* GET /api/berth/autoscale[/{id}]: the apps' autoscaling policies and decisions
 * (apps/autoscale.c). */
void apps_http_autoscale(struct apps *ap, struct evhttp_request *req, const char *arg,
			 const char *arg2);
