/* The jobs framework (Chronos): scheduled and dependent jobs run as tasks on the resource
 * manager, and the Chronos REST API (docs/jobs.md). It runs inside the master and uses the
 * resource manager through master/rm.h; this header is what the server wires. */
#pragma once
#include <event2/http.h>
#include <stdint.h>

struct jobs;
struct master;

/* Loads the jobs and their pending runs from the resource manager's store and registers the
 * framework "chronos" with it. 0 and *out, or -errno (logged). */
int jobs_new(struct master *rm, struct jobs **out);
/* Schedules no more passes (before the HTTP server goes). */
void jobs_stop(struct jobs *j);
/* Frees everything (NULL is fine), giving back what its tasks hold. Call before rm_free. */
void jobs_free(struct jobs *j);
/* Where the master listens, for /scheduler/leader ("host:port"). */
void jobs_set_leader(struct jobs *j, const char *leader);
/* Registers the framework's metrics in reg (borrowed for j's life): berth_job_runs_total by
 * result (success, failure), berth_job_runs_skipped_total, berth_job_start_delay_seconds (from
 * the scheduled time to the LAUNCH). */
struct metrics;
void jobs_metrics_register(struct jobs *j, struct metrics *reg);
/* Where job run events go (Marathon's /v2/events, wired by the server): fn(ctx, type,
 * payload) steals payload. Types: job_run_launched_event, job_run_finished_event,
 * job_run_skipped_event (docs/jobs.md). */
struct json_t;
typedef void (*jobs_publish_fn)(void *ctx, const char *type, struct json_t *payload);
void jobs_set_publish(struct jobs *j, jobs_publish_fn fn, void *ctx);
/* Every 250 ms: due runs are recorded, queued runs placed. */
void jobs_tick(struct jobs *j);

/* The Chronos API handlers, one per route of the server's table (mounted under /scheduler and
 * /v1/scheduler). arg is the route's captured text (a job name, a percentile), or NULL. */
void jobs_http_iso8601(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_dependency(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_jobs(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_summary(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_search(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_job(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_success(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_kill(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_graph_dot(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_graph_csv(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_job_stat(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_stats(struct jobs *j, struct evhttp_request *req, const char *arg);
void jobs_http_leader(struct jobs *j, struct evhttp_request *req, const char *arg);
/* berth's own: GET /api/berth/jobs/{name}/history, the job's recent runs. */
void jobs_http_history(struct jobs *j, struct evhttp_request *req, const char *arg);
