/* The resource manager's life cycle and its public face (rm.h, master.h): start-up, the
 * built-in frameworks' registration, the routing of agent events to the frameworks, the
 * tick, the metrics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/fw-int.h"
#include "master/master-int.h"
#include "master/state-cache.h"
#include "master/state-json.h"
#include "net/http-cond.h"
#include "master/state-cache.h"

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

int rm_new(struct event_base *base, const struct master_config *cfg, struct master **out)
{
	if (fw_hooks_check(cfg) < 0)
		return -EINVAL;
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
	m->port = cfg->http_port;
	/* An agent fences itself after half the time the master waits before replacing its
	 * tasks; the frameworks add a margin on top. */
	m->volume_lease_sec = m->cfg.agent_timeout_sec / 2;
	hmap_init(&m->agents);
	ledger_init(&m->roles);
	m->started_usec = time_real_usec();

	const struct store_options so = {
		.zk_session_timeout_ms = (unsigned)(cfg->zk_session_timeout_sec * 1000),
		.zk_auth = cfg->zk_auth,
		.zk_fence = cfg->zk_fence,
	};
	int r = store_open_opts(m->cfg.store_url, &so, &m->store);
	if (r < 0) {
		log_error("master", "cannot open store '%s': %s", m->cfg.store_url, strerror(-r));
		rm_free(m);
		return r;
	}
	r = load_framework_id(m);
	if (r >= 0)
		r = resv_load(m);
	if (r >= 0)
		r = quota_load(m);
	if (r >= 0)
		r = registry_load(m);
	if (r < 0) {
		log_error("master", "cannot load state from '%s': %s", m->cfg.store_url,
			  strerror(-r));
		rm_free(m);
		return r;
	}
	*out = m;
	return 0;
}

int rm_start(struct master *m)
{
	int r = frameworks_init(m);
	if (r < 0)
		log_error("master", "cannot load the frameworks from '%s': %s", m->cfg.store_url,
			  strerror(-r));
	else
		log_info("master", "%zu agents known", hmap_len(&m->agents));
	return r;
}

void rm_stop(struct master *m)
{
	if (!m)
		return;
	updates_flush(m); /* what was read is committed and answered */
	updates_free(m);
	operator_stream_close_all(m);
	frameworks_close_streams(m);
	registry_close_streams(m);
}

void rm_free(struct master *m)
{
	if (!m)
		return;
	rm_stop(m);
	maint_inverse_free(m);
	frameworks_free(m);
	resv_free_all(m);
	quota_free_all(m);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);)
		registry_free_agent(v);
	hmap_release(&m->agents);
	state_cache_free(m->scache);
	ledger_release(&m->roles);
	for (size_t i = 0; i < m->nclients; i++)
		free(m->clients[i]);
	store_close(m->store);
	free((char *)m->cfg.http_addr);
	free((char *)m->cfg.store_url);
	free((char *)m->cfg.hostname);
	free(m);
}

void rm_set_port(struct master *m, uint16_t port)
{
	m->port = port;
}

void rm_tick(struct master *m)
{
	registry_tick(m);
	frameworks_tick(m);
	maint_tick(m);
	/* The store down: one cheap read a tick tells when it is back (rm_store_healthy). */
	if (m->store && !store_healthy(m->store))
		store_probe(m->store);
}

bool rm_store_healthy(const struct master *m)
{
	return !m->store || store_healthy(m->store);
}

/* ---- accessors (rm.h) ---- */

struct m_agent *rm_agent_get(struct master *m, const char *id)
{
	return id ? hmap_get(&m->agents, id) : NULL;
}

const struct hmap *rm_agents(const struct master *m)
{
	return &m->agents;
}

/* A built-in framework's LAUNCH carries its FrameworkInfo, as the master shows it, so that the
 * agent can list the framework (docs/internals/agent-protocol.md §2). */
int rm_send(struct m_agent *a, json_t *record)
{
	json_t *task = json_object_get(record, "task");
	const char *fwid = json_string_value(json_object_get(task, "framework_id"));
	const char *type = json_string_value(json_object_get(record, "type"));
	if (fwid && type && !strcmp(type, "LAUNCH") && !json_object_get(task, "framework_info")) {
		for (size_t i = 0; i < a->m->nclients; i++) {
			const struct rm_client *c = a->m->clients[i];
			if (strcmp(c->id, fwid))
				continue;
			json_object_set_new(task, "framework_info", json_pack(
				"{s:{s:s}, s:s, s:s, s:s, s:b, s:s}", "id", "value", c->id, "name",
				c->name, "user", framework_user(), "hostname",
				a->m->cfg.hostname ? a->m->cfg.hostname : "", "checkpoint", 1,
				"role", "*"));
		}
	}
	return registry_send(a, record);
}

struct store *rm_store(struct master *m)
{
	return m->store;
}

struct event_base *rm_base(struct master *m)
{
	return m->base;
}

const struct master_config *rm_config(const struct master *m)
{
	return &m->cfg;
}

double rm_volume_lease_sec(const struct master *m)
{
	return m->volume_lease_sec;
}

const char *rm_builtin_framework_id(const struct master *m)
{
	return m->framework_id;
}

/* ---- built-in frameworks ---- */

struct rm_client *rm_framework_add(struct master *m, const char *id, const char *name,
				   const struct rm_framework_ops *ops, void *ctx)
{
	if (m->nclients == RM_MAX_CLIENTS)
		return NULL;
	struct rm_client *c = xcalloc(1, sizeof(*c));
	c->m = m;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->ops = ops;
	c->ctx = ctx;
	m->clients[m->nclients++] = c;
	if (m->fw_listener)
		m->fw_listener(m->fw_listener_ctx, c->id, c->name, NULL, true);
	return c;
}

void rm_route_agent_draining(struct master *m, struct m_agent *a)
{
	for (size_t i = 0; i < m->nclients; i++)
		if (m->clients[i]->ops->agent_draining)
			m->clients[i]->ops->agent_draining(m->clients[i]->ctx, a);
}

void rm_wake_all(struct master *m)
{
	for (size_t i = 0; i < m->nclients; i++)
		if (m->clients[i]->ops->wake)
			m->clients[i]->ops->wake(m->clients[i]->ctx);
}

void rm_route_agent_registered(struct master *m, struct m_agent *a, const json_t *tasks)
{
	/* What the agent runs, by task id. */
	struct hmap reported = HMAP_INIT;
	size_t i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		const char *tid = json_string_value(json_object_get(t, "task_id"));
		if (tid)
			hmap_put(&reported, tid, t);
	}
	for (size_t c = 0; c < m->nclients; c++)
		m->clients[c]->ops->agent_registered(m->clients[c]->ctx, a, &reported);
	/* What no built-in framework owns: an external framework's, or nobody's. */
	const char *k;
	void *v;
	for (size_t ri = 0; hmap_next(&reported, &ri, &k, &v);) {
		bool owned = false;
		for (size_t c = 0; c < m->nclients && !owned; c++)
			owned = m->clients[c]->ops->task_agent(m->clients[c]->ctx, k) != NULL;
		if (owned)
			continue;
		const char *st = json_string_value(json_object_get(v, "state"));
		if (frameworks_task_recovered(m, a, k, st ? st : "TASK_UNKNOWN"))
			continue;
		if (!task_state_terminal(st))
			registry_kill_unknown(a, k);
	}
	hmap_release(&reported);
	rm_wake_all(m);
}

void rm_route_agent_lost(struct master *m, struct m_agent *a)
{
	for (size_t c = 0; c < m->nclients; c++)
		m->clients[c]->ops->agent_lost(m->clients[c]->ctx, a);
	frameworks_agent_lost(m, a);
	rm_wake_all(m);
}

const char *rm_task_agent(struct master *m, const char *task_id)
{
	for (size_t c = 0; c < m->nclients; c++) {
		const char *aid = m->clients[c]->ops->task_agent(m->clients[c]->ctx, task_id);
		if (aid)
			return aid;
	}
	const struct fw_task *t = m->fw ? hmap_get(&m->fw->tasks, task_id) : NULL;
	return t ? t->agent_id : NULL;
}

void rm_each_task(struct master *m, bool detail, rm_task_fn fn, void *ctx)
{
	for (size_t c = 0; c < m->nclients; c++)
		m->clients[c]->ops->each_task(m->clients[c]->ctx, detail, fn, ctx);
	frameworks_each_task(m, detail, fn, ctx);
}

/* ---- HTTP (master.h; the other handlers are in registry.c, updates.c, frameworks.c,
 * api-operator.c, state-json.c and api-files.c) ---- */

void rm_handle_slaves(struct master *m, struct evhttp_request *req)
{
	struct http_body b;
	if (!state_cache_enabled() || state_json_slaves_body(m, &b) < 0) {
		http_reply_json(req, 200, registry_render_slaves(m));
		return;
	}
	if (state_cache_verifying() &&
	    state_cache_answer_stale(m->scache, req, &b, registry_render_slaves(m), "/master/slaves"))
		return;
	http_reply_body_cond(req, &b);
}

/* ---- metrics ---- */

void rm_metrics_register(struct master *m, struct metrics *reg)
{
	struct rm_metrics *mm = &m->metrics;
	mm->launches = metrics_meter(reg, "berth_tasks_launched_total", "Tasks launched");
	mm->kills = metrics_meter(reg, "berth_tasks_killed_total", "Kills sent to agents");
	mm->store_commit = metrics_timer(reg, "berth_store_commit_duration_seconds",
					 "Store transaction commit latency");
	metrics_family_new(reg, METRICS_COUNTER, "berth_task_status_updates_total",
			   "Task status updates received, by state", "state", NULL,
			   &mm->status_updates);
}

void rm_count_launch(struct master *m)
{
	metrics_meter_mark(m->metrics.launches, 1);
}

void rm_count_kill(struct master *m)
{
	metrics_meter_mark(m->metrics.kills, 1);
}

void rm_count_status(struct master *m, const char *state)
{
	if (m->metrics.status_updates && state)
		metrics_counter_inc(metrics_series_getv(m->metrics.status_updates, state));
}

void rm_count_commit_usec(struct master *m, uint64_t usec)
{
	metrics_timer_record_usec(m->metrics.store_commit, usec);
}
