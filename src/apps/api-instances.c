/* /api/berth/apps/{id}/instances[/{op}] (docs/api.md "Instances"): list an app's instances
 * by index, stop and start them, set environment overrides per index, add instances at
 * chosen indexes. A berth extension beside the Marathon API: Marathon paths are unchanged.
 * The state changes are instctl.c's; this file parses, answers and adds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "model/index-range.h"
#include "apps/api-int.h"
#include "apps/instctl.h"

static json_t *instance_json(struct apps *m, const struct m_instance *in)
{
	const char *aid = in->agent_id ? in->agent_id : in->pinned_agent;
	struct m_agent *a = aid ? rm_agent_get(m->rm, aid) : NULL;
	bool live = in->phase == INST_LIVE;
	json_t *ports = json_array();
	for (size_t i = 0; live && i < in->nports; i++)
		json_array_append_new(ports, json_integer(in->ports[i]));
	json_t *env = instctl_env(in->app, in->index);
	return json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:O}", "index",
			 (json_int_t)in->index, "state", instctl_state(in), "taskId",
			 live ? json_string(in->task_id) : json_null(), "taskState",
			 live && in->state ? json_string(in->state) : json_null(), "agentId",
			 aid ? json_string(aid) : json_null(), "host",
			 a ? json_string(a->hostname) : json_null(), "ports", ports, "version",
			 in->version[0] ? json_string(in->version) : json_null(), "env",
			 env ? env : json_object());
}

static void list(struct apps *m, struct evhttp_request *req, struct m_app *ma)
{
	struct m_instance **v;
	size_t n = instctl_sorted(ma, &v);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, instance_json(m, v[i]));
	free(v);
	const struct app *def = ma->def;
	http_reply_json(req, 200,
			json_pack("{s:s, s:I, s:I, s:b, s:I, s:o}", "appId", def->id, "instances",
				  (json_int_t)def->instances, "stopped", (json_int_t)ma->nheld,
				  "perAgent", def->per_agent, "indexOffset",
				  (json_int_t)def->index_offset, "list", arr));
}

/* The body's "indexes": a list as text ("3..5", "0,2,7..9"), a number or an array of
 * numbers. 0 with *idx and *n, or -EINVAL after answering 400. */
static int body_indexes(struct evhttp_request *req, const json_t *body, unsigned **idx,
			size_t *n)
{
	const json_t *j = json_object_get(body, "indexes");
	struct strbuf sb = STRBUF_INIT;
	if (json_is_string(j)) {
		strbuf_adds(&sb, json_string_value(j));
	} else if (json_is_integer(j) && json_integer_value(j) >= 0) {
		strbuf_addf(&sb, "%lld", (long long)json_integer_value(j));
	} else if (json_is_array(j) && json_array_size(j) <= INSTCTL_MAX_INDEXES) {
		size_t i;
		json_t *x;
		json_array_foreach(j, i, x) {
			if (!json_is_integer(x) || json_integer_value(x) < 0) {
				strbuf_release(&sb);
				http_reply_message(req, 400, "'indexes' must hold whole numbers");
				return -EINVAL;
			}
			strbuf_addf(&sb, "%s%lld", i ? "," : "", (long long)json_integer_value(x));
		}
	} else {
		http_reply_message(req, 400, "'indexes' must be an index list like \"3..5\", a "
					     "number or an array of at most %d numbers",
				   INSTCTL_MAX_INDEXES);
		return -EINVAL;
	}
	char err[300];
	int r = index_range_parse(strbuf_str(&sb), INSTCTL_MAX_INDEXES, idx, n, err, sizeof(err));
	strbuf_release(&sb);
	if (r < 0) {
		http_reply_message(req, 400, "%s", err);
		return -EINVAL;
	}
	return 0;
}

static json_t *index_array(const unsigned *idx, size_t n, const bool *only)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		if (!only || only[i])
			json_array_append_new(a, json_integer(idx[i]));
	return a;
}

static int error_code(int r)
{
	return r == -ENOENT ? 404 : r == -EBUSY ? 409 : r == -EINVAL || r == -E2BIG ? 422 : 503;
}

static void stop_start(struct apps *m, struct evhttp_request *req, struct m_app *ma,
		       const unsigned *idx, size_t n, bool stop)
{
	struct m_instance **v = xcalloc(n + 1, sizeof(*v));
	bool *changed = xcalloc(n + 1, sizeof(*changed));
	char why[300];
	int r = instctl_find_all(ma, idx, n, false, v, why, sizeof(why));
	if (r >= 0)
		r = instctl_stop_start(m, ma, v, n, stop, changed, why, sizeof(why));
	if (r < 0)
		http_reply_message(req, error_code(r), "%s", why);
	else
		http_reply_json(req, 200, json_pack("{s:s, s:o, s:o}", "appId", ma->def->id,
						    "indexes", index_array(idx, n, NULL), "changed",
						    index_array(idx, n, changed)));
	free(v);
	free(changed);
}

static void set_env(struct apps *m, struct evhttp_request *req, struct m_app *ma,
		    const json_t *body, const unsigned *idx, size_t n)
{
	const json_t *env = json_object_get(body, "env");
	const json_t *restart = json_object_get(body, "restart");
	char why[300];
	if (restart && !json_is_boolean(restart)) {
		http_reply_message(req, 400, "'restart' must be true or false");
		return;
	}
	if (instctl_env_check(env, why, sizeof(why)) < 0) {
		http_reply_message(req, 400, "%s", why);
		return;
	}
	struct m_instance **v = xcalloc(n + 1, sizeof(*v));
	/* overrides belong to the index: being replaced is no matter, unless restarting */
	int r = instctl_find_all(ma, idx, n, !json_is_true(restart), v, why, sizeof(why));
	if (r >= 0)
		r = instctl_set_env(m, ma, idx, n, env, why, sizeof(why));
	if (r < 0) {
		http_reply_message(req, error_code(r), "%s", why);
		free(v);
		return;
	}
	/* With restart, the running ones are killed and relaunched (same instance, same
	 * index) with the new environment; otherwise it applies at their next launch. */
	bool *killed = xcalloc(n + 1, sizeof(*killed));
	for (size_t i = 0; json_is_true(restart) && i < n; i++)
		if (v[i]->goal == GOAL_RUN && v[i]->phase == INST_LIVE && !v[i]->kill_sent) {
			apps_kill_instance(m, v[i]);
			killed[i] = true;
		}
	json_t *envs = json_object();
	for (size_t i = 0; i < n; i++) {
		char k[16];
		snprintf(k, sizeof(k), "%u", idx[i]);
		json_t *e = instctl_env(ma, idx[i]);
		json_object_set_new(envs, k, e ? json_incref(e) : json_object());
	}
	apps_touch(m, ma);
	http_reply_json(req, 200, json_pack("{s:s, s:o, s:o, s:o}", "appId", ma->def->id,
					    "indexes", index_array(idx, n, NULL), "env", envs,
					    "restarted", index_array(idx, n, killed)));
	free(killed);
	free(v);
}

/* Adds instances at idx[0..n) (all free) and raises the app's count by n: a
 * ScaleApplication deployment, the new instances stored with the definition in one
 * transaction so that a restarted master launches the same indexes. */
static void add(struct apps *m, struct evhttp_request *req, struct m_app *ma,
		const unsigned *idx, size_t n, bool force)
{
	if (ma->def->per_agent) {
		http_reply_message(req, 409, "App '%s' is per-agent: its instances follow the "
					     "agents", ma->def->id);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (idxset_count(&ma->idx, idx[i])) {
			http_reply_message(req, 409, "App '%s' already has an instance %u",
					   ma->def->id, idx[i]);
			return;
		}
	if (ma->deploy && !force) {
		api_reply_locked(req, ma);
		return;
	}
	struct verr err = VERR_INIT;
	struct app *def;
	json_t *j = json_deep_copy(ma->def->json);
	json_object_set_new(j, "instances", json_integer(ma->def->instances + (json_int_t)n));
	int r = app_parse(j, "/", &err, &def);
	json_decref(j);
	if (r >= 0)
		api_check_limits(m, def, &err);
	if (verr_any(&err)) {
		http_reply_json(req, 422, verr_body(&err));
		verr_release(&err);
		app_free(def);
		return;
	}
	app_set_version(def, time_real_usec(), false, ma->config_version);
	apps_assign_service_ports(m, def, ma->def);
	struct api_commit c;
	api_commit_prepare(m, &c, ma, def, "ScaleApplication", true);
	struct m_instance **added = xcalloc(n + 1, sizeof(*added));
	r = store_txn_begin(m->store);
	bool began = r >= 0;
	if (r >= 0)
		r = api_commit_write(m, &c);
	for (size_t i = 0; i < n; i++) {
		added[i] = apps_add_instance(m, ma, idx[i], NULL);
		if (r >= 0)
			r = apps_store_instance(m, added[i]);
	}
	if (r >= 0)
		r = store_txn_commit(m->store);
	else if (began)
		store_txn_abort(m->store);
	if (r < 0) {
		for (size_t i = 0; i < n; i++) {
			added[i]->stored = false; /* the transaction is gone: no record to delete */
			apps_remove_instance(m, added[i]);
		}
		free(added);
		api_commit_revert(&c);
		http_reply_message(req, 503, "Cannot persist the change: %s (%s)", strerror(-r),
				   store_errmsg(m->store));
		return;
	}
	free(added);
	if (!ma->waiting_since)
		ma->waiting_since = time_real_usec();
	api_commit_finish(m, req, &c, true);
	http_add_header(req, "Marathon-Deployment-Id", ma->deploy->id);
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:o}", "version", ma->def->version,
					    "deploymentId", ma->deploy->id, "indexes",
					    index_array(idx, n, NULL)));
}

void apps_http_instances(struct apps *m, struct evhttp_request *req, const char *arg,
			 const char *op)
{
	char id[APP_MAX_ID_LEN + 1], why[300];
	if (app_id_canonical(arg, "/", id, why, sizeof(why)) < 0) {
		http_reply_message(req, 400, "%s", why);
		return;
	}
	struct m_app *ma = apps_get(m, id);
	if (!ma || ma->deleting || !apps_visible(m, req, id)) {
		http_reply_message(req, 404, "App '%s' does not exist", id);
		return;
	}
	if (!op) {
		list(m, req, ma);
		return;
	}
	bool stop = !strcmp(op, "stop"), start = !strcmp(op, "start"), env = !strcmp(op, "env"),
	     add_op = !strcmp(op, "add");
	if (!stop && !start && !env && !add_op) {
		http_reply_message(req, 404, "No instance operation '%s' (stop, start, env, add)",
				   op);
		return;
	}
	bool force;
	if (http_query_bool(req, "force", false, &force) < 0) {
		http_reply_message(req, 400, "'force' must be true or false");
		return;
	}
	json_t *body = api_body(req);
	if (!body)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		api_reply_not_object(req);
		return;
	}
	unsigned *idx;
	size_t n;
	if (body_indexes(req, body, &idx, &n) == 0) {
		if (stop || start)
			stop_start(m, req, ma, idx, n, stop);
		else if (env)
			set_env(m, req, ma, body, idx, n);
		else
			add(m, req, ma, idx, n, force);
		free(idx);
	}
	json_decref(body);
}
