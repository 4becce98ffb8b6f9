/* The resource manager as the server (src/server) sees it: its life cycle, its HTTP
 * handlers, its tick and its metrics. Frameworks use master/rm.h instead. */
#pragma once
#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stdint.h>

#include "master/rm.h"

struct metrics;

/* Opens the store, loads agents, reservations, quotas and external frameworks. Returns 0 and
 * *out, or -errno (the reason is logged). cfg's strings are copied. Built-in frameworks
 * register next (rm_framework_add), then rm_start. */
int rm_new(struct event_base *base, const struct master_config *cfg, struct master **out);
/* After the built-in frameworks registered: recovers the external frameworks' tasks (a task
 * id is unique across all frameworks). 0 or -errno. */
int rm_start(struct master *m);
/* Commits and answers the status updates read, ends every stream (operator subscribers,
 * frameworks, agents) before the HTTP server goes; their on_close callbacks run from the
 * loop, which the caller runs once more before rm_free. NULL is fine. */
void rm_stop(struct master *m);
/* Frees m (NULL is fine); rm_stop first. */
void rm_free(struct master *m);
/* The port the master's HTTP server listens on (for /master/state's pid and leader). */
void rm_set_port(struct master *m, uint16_t port);
/* Every 250 ms: agent timeouts and heartbeats, offers, rescinds, failover timeouts. */
void rm_tick(struct master *m);
/* Registers the resource manager's metrics in reg (borrowed for m's life). */
void rm_metrics_register(struct master *m, struct metrics *reg);

/* HTTP handlers (the server's route table checks the method where it says so). */
void rm_handle_agent_subscribe(struct master *m, struct evhttp_request *req); /* POST */
void rm_handle_agent_update(struct master *m, struct evhttp_request *req);    /* POST */
void rm_handle_agent_heartbeat(struct master *m, struct evhttp_request *req); /* POST */
void rm_handle_agent_message(struct master *m, struct evhttp_request *req);   /* POST */
void rm_handle_scheduler(struct master *m, struct evhttp_request *req);   /* /api/v1/scheduler */
void rm_handle_operator(struct master *m, struct evhttp_request *req);    /* /api/v1 */
void rm_handle_state(struct master *m, struct evhttp_request *req);       /* /master/state */
void rm_handle_slaves(struct master *m, struct evhttp_request *req);      /* GET /master/slaves */
/* Mesos's legacy endpoints (legacy-http.c), by the request's path: /master/frameworks,
 * /master/tasks, /master/roles, /master/state-summary, /master/redirect, /master/flags (each
 * also without /master), /version, /metrics/snapshot. */
void rm_handle_legacy(struct master *m, struct evhttp_request *req);
/* /api/berth/tasks/{id}/files/…: a task's sandbox, proxied to its agent. */
void rm_handle_task_files(struct master *m, struct evhttp_request *req, const char *path);
/* /api/berth/agents/{id}/monitor/statistics: the agent's task usage, proxied. */
void rm_handle_agent_statistics(struct master *m, struct evhttp_request *req,
				const char *agent_id);

