/* The master process: wiring of store, HTTP server, registry and apps framework. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/master-int.h"
#include "master/state-json.h"

static void on_request(struct evhttp_request *req, void *ctx)
{
	struct master *m = ctx;
	_cleanup_free_ char *path = http_request_path(req);
	if (!path) {
		http_reply_message(req, 400, "Malformed request URI");
		return;
	}
	enum evhttp_cmd_type meth = evhttp_request_get_command(req);
	if (!strcmp(path, "/ping")) {
		if (meth != EVHTTP_REQ_GET && meth != EVHTTP_REQ_HEAD) {
			http_reply_message(req, 405, "Method not allowed");
			return;
		}
		const char *acc = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
		if (acc && strstr(acc, "application/json") && !strstr(acc, "text/plain"))
			http_reply_json(req, 200, json_string("pong"));
		else
			http_reply_text(req, 200, "pong\n");
		return;
	}
	if (!strcmp(path, "/metrics") || !strcmp(path, "/metrics/prometheus")) {
		master_metrics_render(m, req, path[8] == '/');
		return;
	}
	if (!strcmp(path, "/v2/events")) {
		events_handle(m, req);
		return;
	}
	if (str_has_prefix(path, "/v2/")) {
		api_marathon(m, req, path);
		return;
	}
	if (!strcmp(path, "/api/v1/scheduler") || !strcmp(path, "/master/api/v1/scheduler")) {
		frameworks_handle(m, req);
		return;
	}
	if (!strcmp(path, "/api/berth/agent/subscribe")) {
		if (meth != EVHTTP_REQ_POST)
			http_reply_message(req, 405, "Method not allowed");
		else
			registry_handle_subscribe(m, req);
		return;
	}
	if (!strcmp(path, "/api/berth/agent/update")) {
		if (meth != EVHTTP_REQ_POST)
			http_reply_message(req, 405, "Method not allowed");
		else
			updates_handle(m, req);
		return;
	}
	if (!strcmp(path, "/api/berth/agent/heartbeat")) {
		if (meth != EVHTTP_REQ_POST)
			http_reply_message(req, 405, "Method not allowed");
		else
			registry_handle_heartbeat(m, req);
		return;
	}
	if (!strcmp(path, "/api/berth/volumes")) {
		api_volumes(m, req);
		return;
	}
	if (str_has_prefix(path, "/api/berth/tasks/")) {
		api_files_proxy(m, req, path);
		return;
	}
	if (!strcmp(path, "/master/state") || !strcmp(path, "/state") ||
	    !strcmp(path, "/master/state.json") || !strcmp(path, "/state.json")) {
		state_json_handle(m, req);
		return;
	}
	if (!strcmp(path, "/api/v1") || !strcmp(path, "/master/api/v1")) {
		api_operator_handle(m, req);
		return;
	}
	if (!strcmp(path, "/master/slaves") || !strcmp(path, "/slaves")) {
		if (meth != EVHTTP_REQ_GET)
			http_reply_message(req, 405, "Method not allowed");
		else
			http_reply_json(req, 200, registry_render_slaves(m));
		return;
	}
	if (!strcmp(path, "/health")) {
		http_reply_text(req, 200, "");
		return;
	}
	http_reply_message(req, 404, "Not found: '%s'", path);
}

static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct master *m = ctx;
	registry_tick(m);
	events_tick(m);
	frameworks_tick(m);
	apps_run_pass(m);
}

static void on_pass(evutil_socket_t fd, short what, void *ctx)
{
	apps_run_pass(ctx);
}

static int load_framework_id(struct master *m)
{
	char *val = NULL;
	int r = store_get(m->store, "meta/framework_id", &val, NULL, NULL);
	if (r == 0) {
		snprintf(m->framework_id, sizeof(m->framework_id), "%s", val);
		free(val);
		return 0;
	}
	if (r != -ENOENT)
		return r;
	char u[37];
	id_uuid4(u);
	snprintf(m->framework_id, sizeof(m->framework_id), "%s-0000", u);
	return store_put(m->store, "meta/framework_id", m->framework_id, strlen(m->framework_id),
			 0, NULL);
}

int master_new(struct event_base *base, const struct master_config *cfg, struct master **out)
{
	struct master *m = xcalloc(1, sizeof(*m));
	m->base = base;
	m->cfg = *cfg;
	m->cfg.http_addr = xstrdup(cfg->http_addr);
	m->cfg.store_url = xstrdup(cfg->store_url);
	if (!m->cfg.max_body)
		m->cfg.max_body = MASTER_DEFAULT_MAX_BODY;
	if (m->cfg.agent_timeout_sec <= 0)
		m->cfg.agent_timeout_sec = 15;
	if (m->cfg.heartbeat_sec <= 0) {
		/* Several heartbeats fit in one timeout, so one late packet is not an outage. */
		m->cfg.heartbeat_sec = m->cfg.agent_timeout_sec / 3;
		if (m->cfg.heartbeat_sec > 5)
			m->cfg.heartbeat_sec = 5;
		if (m->cfg.heartbeat_sec < 0.2)
			m->cfg.heartbeat_sec = 0.2;
	}
	char host[256];
	if (cfg->hostname)
		snprintf(host, sizeof(host), "%s", cfg->hostname);
	else if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	m->cfg.hostname = xstrdup(host);
	/* An agent fences itself after half the time the master waits before replacing its
	 * tasks; the master adds a margin on top (see apps_agent_lost). */
	m->volume_lease_sec = m->cfg.agent_timeout_sec / 2;
	hmap_init(&m->agents);
	hmap_init(&m->apps);
	hmap_init(&m->tasks);
	m->started_usec = time_real_usec();

	int r = store_open(m->cfg.store_url, &m->store);
	if (r < 0) {
		log_error("master", "cannot open store '%s': %s", m->cfg.store_url, strerror(-r));
		master_free(m);
		return r;
	}
	r = load_framework_id(m);
	if (r >= 0)
		r = registry_load(m);
	if (r >= 0)
		r = apps_load(m);
	if (r >= 0)
		r = frameworks_init(m);
	if (r < 0) {
		log_error("master", "cannot load state from '%s': %s", m->cfg.store_url,
			  strerror(-r));
		master_free(m);
		return r;
	}
	r = http_server_new(base, m->cfg.http_addr, cfg->http_port, m->cfg.max_body, on_request, m,
			    &m->http);
	if (r < 0) {
		log_error("master", "cannot listen on %s:%u: %s", m->cfg.http_addr,
			  (unsigned)cfg->http_port, strerror(-r));
		master_free(m);
		return r;
	}
	r = master_metrics_init(m);
	if (r < 0) {
		master_free(m);
		return r;
	}
	snprintf(m->leader, sizeof(m->leader), "%s:%u", m->cfg.http_addr,
		 (unsigned)http_server_port(m->http));
	m->tick = event_new(base, -1, EV_PERSIST, on_tick, m);
	struct timeval tv = { 0, 250000 };
	event_add(m->tick, &tv);
	m->pass_ev = event_new(base, -1, 0, on_pass, m);
	log_info("master", "listening on http://%s, store '%s', %zu apps, %zu agents known",
		 m->leader, m->cfg.store_url, hmap_len(&m->apps), hmap_len(&m->agents));
	*out = m;
	return 0;
}

void master_free(struct master *m)
{
	if (!m)
		return;
	if (m->tick)
		event_free(m->tick);
	if (m->pass_ev)
		event_free(m->pass_ev);
	updates_flush(m); /* what was read is committed and answered */
	updates_free(m);
	events_close_all(m);
	operator_stream_close_all(m);
	http_server_free(m->http);
	master_metrics_free(m);
	apps_free_all(m);
	frameworks_free(m);
	resv_free_all(m);
	quota_free_all(m);
	quota_ledger_free(m);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);)
		registry_free_agent(v);
	hmap_release(&m->agents);
	hmap_release(&m->apps);
	hmap_release(&m->tasks);
	store_close(m->store);
	free((char *)m->cfg.http_addr);
	free((char *)m->cfg.store_url);
	free((char *)m->cfg.hostname);
	free(m);
}

uint16_t master_port(const struct master *m)
{
	return http_server_port(m->http);
}
