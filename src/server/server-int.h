/* The server's state, shared by its files (server.c, routes.c, metrics.c). Internal. */
#pragma once
#include <event2/event.h>
#include <event2/http.h>

#include "apps/apps.h"
#include "base/metrics.h"
#include "dns/dns.h"
#include "jobs/jobs.h"
#include "master/master.h"
#include "net/http.h"
#include "server/server.h"

struct server {
	struct event_base *base;
	struct master *rm;
	struct apps *apps;
	struct jobs *jobs;
	struct http_server *http;
	struct dns *dns;           /* NULL: --dns not given */
	struct event *tick;        /* 250 ms */
	char leader[300];          /* "host:port" */
	/* metrics.c */
	struct metrics *reg;
	struct event *metrics_tick;
	struct metrics_family *agents, *tasks, *res_total, *res_used;
	struct metrics_series *apps_n, *waiting, *deploying, *subscribers, *uptime;
	uint64_t started_usec;
	struct auth *auth;         /* borrowed; NULL = no authentication */
	/* metrics.c: the last hour (server/history.h), sampled every 10 s */
	struct history *history;
	struct event *history_tick;
};

/* routes.c: the route table */
/* Checks the table and derives the metrics labels (once, before serving). */
void routes_init(void);
/* Answers req: the handler of the first route matching its path, 405 when the route does
 * not take its method, 404 when no route matches. */
void routes_dispatch(struct server *s, struct evhttp_request *req);
/* The metrics label of a request: its route's pattern, or NULL ("other"). */
const char *routes_label(enum evhttp_cmd_type method, const char *path, void *ctx);

/* metrics.c */
int server_metrics_init(struct server *s);  /* after http_server_new */
void server_metrics_free(struct server *s); /* after http_server_free */
void server_metrics_render(struct server *s, struct evhttp_request *req, bool prometheus);
/* GET /api/berth/metrics/history[?since=<ms>] */
void server_metrics_history(struct server *s, struct evhttp_request *req);
