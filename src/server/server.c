/* The master process: the resource manager, the apps framework on it, the HTTP server with
 * the route table (routes.c), the tick. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "auth/auth.h"
#include "server/leader.h"
#include "server/server-int.h"

static void on_request(struct evhttp_request *req, void *ctx)
{
	routes_dispatch(ctx, req);
}

static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct server *s = ctx;
	if (leader_fenced())
		return; /* another master may lead now (leader.h) */
	rm_tick(s->rm);
	apps_tick(s->apps);
	jobs_tick(s->jobs);
}

/* Job run events go on Marathon's bus (/v2/events). */
static void on_job_event(void *ctx, const char *type, json_t *payload)
{
	struct server *s = ctx;
	apps_publish_event(s->apps, type, payload);
}

int server_new(struct event_base *base, const struct master_config *cfg, struct server **out)
{
	routes_init();
	struct server *s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->started_usec = time_real_usec();
	int r = rm_new(base, cfg, &s->rm);
	if (r >= 0)
		r = apps_new(s->rm, &s->apps);
	if (r >= 0)
		r = jobs_new(s->rm, &s->jobs);
	if (r >= 0)
		jobs_set_publish(s->jobs, on_job_event, s);
	if (r >= 0)
		r = rm_start(s->rm);
	if (r < 0) {
		server_free(s);
		return r;
	}
	const struct master_config *mc = rm_config(s->rm);
	r = http_server_new(base, mc->http_addr, mc->http_port, mc->max_body, on_request, s,
			    &s->http);
	if (r < 0) {
		log_error("master", "cannot listen on %s:%u: %s", mc->http_addr,
			  (unsigned)mc->http_port, strerror(-r));
		server_free(s);
		return r;
	}
	uint16_t port = http_server_port(s->http);
	rm_set_port(s->rm, port);
	/* /v2/leader names this master as the election's MasterInfo does (leader.c): by
	 * --hostname on a zk:// store or a wildcard address, else by the address it binds. */
	bool any = !strcmp(mc->http_addr, "0.0.0.0") || !strcmp(mc->http_addr, "::");
	bool ha = mc->store_url && !strncmp(mc->store_url, "zk://", 5);
	const char *host = (ha || any) && mc->hostname && *mc->hostname ? mc->hostname
									 : mc->http_addr;
	snprintf(s->leader, sizeof(s->leader), "%s:%u", host, (unsigned)port);
	apps_set_leader(s->apps, s->leader, port);
	struct master_config dc = *cfg;
	dc.http_port = port;
	r = dns_new(s->rm, &dc, &s->dns);
	if (r < 0) {
		server_free(s);
		return r;
	}
	jobs_set_leader(s->jobs, s->leader);
	r = server_metrics_init(s);
	if (r < 0) {
		server_free(s);
		return r;
	}
	s->tick = event_new(base, -1, EV_PERSIST, on_tick, s);
	struct timeval tv = { 0, 250000 };
	event_add(s->tick, &tv);
	log_info("master", "listening on http://%s, store '%s'", s->leader, mc->store_url);
	*out = s;
	return 0;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	if (s->tick)
		event_free(s->tick);
	/* What was read is committed and answered, every stream ends, then the HTTP server
	 * goes; the frameworks give back what they hold before the ledger goes. */
	dns_stop(s->dns);
	rm_stop(s->rm);
	apps_stop(s->apps);
	jobs_stop(s->jobs);
	/* The streams' on_close callbacks run now, while what they point at is alive. */
	event_base_loop(s->base, EVLOOP_NONBLOCK);
	http_server_free(s->http);
	event_base_loop(s->base, EVLOOP_NONBLOCK);
	dns_free(s->dns);
	jobs_free(s->jobs);
	apps_free(s->apps);
	rm_free(s->rm);
	server_metrics_free(s);
	free(s);
}

void server_set_tls(struct server *s, struct http_tls *t)
{
	http_server_set_tls(s->http, t);
}

void server_set_stream_limit(struct server *s, unsigned n)
{
	apps_set_stream_limit(s->apps, n);
	rm_set_stream_limit(s->rm, n);
}

void server_set_limits(struct server *s, const struct http_limits *lim)
{
	http_server_set_limits(s->http, lim);
}

void server_set_agent_tls(struct server *s, struct http_tls *client)
{
	rm_set_agent_tls(s->rm, client);
}

void server_set_agent_tls_files(struct server *s, const char *ca, const char *cert,
				const char *key)
{
	apps_set_agent_tls(s->apps, ca, cert, key);
}

void server_set_auth(struct server *s, struct auth *auth)
{
	s->auth = auth;
	auth_set_master(auth, s->rm);
	if (auth)
		apps_set_view_filter(s->apps, auth_may_view_app, auth);
	if (auth)
		rm_set_view_filter(s->rm, auth_may_view_user, auth);
}

uint16_t server_port(const struct server *s)
{
	return http_server_port(s->http);
}
