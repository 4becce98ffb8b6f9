/* Marathon v2 API: routing and the read/kill endpoints (reference/compat.md §3.1). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "apps/api-int.h"
#include "apps/pods-int.h"

/* Canonical app id from the URL part, or NULL (then answers 404). */
static char *url_app_id(struct evhttp_request *req, const char *text)
{
	char id[APP_MAX_ID_LEN + 1], err[256];
	if (!*text || app_id_canonical(text, "/", id, err, sizeof(err)) < 0) {
		http_reply_message(req, 404, "App '%s' does not exist", *text ? text : "/");
		return NULL;
	}
	return xstrdup(id);
}

/* ---- GET /v2/apps ---- */

static bool embed_has(json_t *embeds, const char *what)
{
	size_t i;
	json_t *e;
	json_array_foreach(embeds, i, e) {
		if (!strcmp(json_string_value(e), what))
			return true;
	}
	return false;
}

/* embed=berth: berth's keys beyond Marathon's (docs/api.md, "berth's extras"). */
static bool want_extras(struct evhttp_request *req)
{
	json_t *embed = http_query_all(req, "embed");
	bool r = embed_has(embed, "berth");
	json_decref(embed);
	return r;
}

static void apps_list(struct apps *m, struct evhttp_request *req)
{
	_cleanup_free_ char *idq = http_query_get(req, "id");
	_cleanup_free_ char *cmdq = http_query_get(req, "cmd");
	_cleanup_free_ char *label = http_query_get(req, "label");
	json_t *embed = http_query_all(req, "embed");
	bool tasks = embed_has(embed, "apps.tasks") || embed_has(embed, "app.tasks");
	bool failure = embed_has(embed, "apps.lastTaskFailure") || embed_has(embed, "apps.failures");
	unsigned what = RENDER_COUNTS | RENDER_DEPLOYMENTS | (tasks ? RENDER_TASKS : 0) |
			(failure ? RENDER_FAILURE : 0) |
			(embed_has(embed, "berth") ? RENDER_EXTRAS : 0);
	json_decref(embed);
	if (label && app_label_selector_match(label, NULL) == -EINVAL) {
		http_reply_message(req, 400, "Invalid label selector '%s'", label);
		return;
	}
	struct http_body b;
	http_body_init(&b);
	http_body_lit(&b, "{\"apps\":[");
	bool first = true;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		if (ma->deleting)
			continue;
		if (idq && !strstr(ma->def->id, idq))
			continue;
		if (cmdq && (!ma->def->cmd || !strstr(ma->def->cmd, cmdq)))
			continue;
		if (label && app_label_selector_match(label, ma->def->labels) != 1)
			continue;
		if (!apps_visible(m, req, ma->def->id))
			continue;
		http_body_piece(&b, rc_app(m, ma, what), !first);
		first = false;
	}
	http_body_lit(&b, "]}");
	http_reply_body_cond(req, &b);
}

static void apps_group_list(struct apps *m, struct evhttp_request *req, const char *group)
{
	unsigned what = RENDER_TASKS | RENDER_COUNTS | RENDER_DEPLOYMENTS | RENDER_FAILURE |
			(want_extras(req) ? RENDER_EXTRAS : 0);
	struct http_body b;
	http_body_init(&b);
	http_body_lit(&b, "{\"*\":[");
	bool first = true;
	size_t gl = strlen(group);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		if (ma->deleting)
			continue;
		if (gl > 1 && (strncmp(ma->def->id, group, gl) || ma->def->id[gl] != '/'))
			continue;
		if (!apps_visible(m, req, ma->def->id))
			continue;
		http_body_piece(&b, rc_app(m, ma, what), !first);
		first = false;
	}
	http_body_lit(&b, "]}");
	http_reply_body_cond(req, &b);
}

/* ---- tasks ---- */

static struct m_app *live_app(struct apps *m, struct evhttp_request *req, const char *id)
{
	struct m_app *ma = apps_get(m, id);
	if (!ma || ma->deleting) {
		http_reply_message(req, 404, "App '%s' does not exist", id);
		return NULL;
	}
	return ma;
}

/* The live app a URL's id text names, or NULL with the 404 sent. */
static struct m_app *url_live_app(struct apps *m, struct evhttp_request *req, const char *text)
{
	_cleanup_free_ char *id = url_app_id(req, text);
	return id ? live_app(m, req, id) : NULL;
}

static void app_tasks_get(struct apps *m, struct evhttp_request *req, struct m_app *ma)
{
	if (api_tasks_text(m, req, ma))
		return;
	bool extras = want_extras(req);
	struct http_body b;
	http_body_init(&b);
	http_body_lit(&b, "{\"tasks\":[");
	bool first = true;
	for (size_t i = 0; i < ma->ninst; i++)
		if (ma->inst[i]->phase == INST_LIVE) {
			http_body_piece(&b, rc_task(m, ma->inst[i], extras), !first);
			first = false;
		}
	http_body_lit(&b, "]}");
	http_reply_body_cond(req, &b);
}

/* Kills the given instances of one app; with scale, lowers instances by their number in
 * a committed new version. Answers the request. */
static void kill_instances(struct apps *m, struct evhttp_request *req, struct m_app *ma,
			   struct m_instance **victims, size_t n, bool scale, bool single)
{
	if (scale) {
		if (ma->deploy) {
			bool force;
			if (http_query_bool(req, "force", false, &force) < 0 || !force) {
				api_reply_locked(req, ma);
				return;
			}
		}
		struct verr err = VERR_INIT;
		json_t *j = json_deep_copy(ma->def->json);
		int64_t want = ma->def->instances - (int64_t)n;
		json_object_set_new(j, "instances", json_integer(want < 0 ? 0 : want));
		struct app *def;
		int r = app_parse(j, "/", &err, &def);
		json_decref(j);
		if (r < 0) {
			http_reply_json(req, 422, verr_body(&err));
			verr_release(&err);
			return;
		}
		app_set_version(def, time_real_usec(), false, ma->config_version);
		/* Mark the victims first: the pass must not pick other instances to stop. */
		for (size_t i = 0; i < n; i++)
			apps_set_goal(victims[i], GOAL_STOP);
		struct m_app *res = api_commit_app(m, req, ma, def, "ScaleApplication", true);
		if (!res) {
			for (size_t i = 0; i < n; i++)
				apps_set_goal(victims[i], GOAL_RUN);
			return;
		}
		for (size_t i = 0; i < n; i++)
			apps_kill_instance(m, victims[i]);
		api_reply_deployment(req, 200, res->def->version, res->deploy->id);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, render_task(m, victims[i], want_extras(req)));
		apps_kill_instance(m, victims[i]);
	}
	apps_touch(m, ma);
	if (single) {
		json_t *t = json_incref(json_array_get(arr, 0));
		json_decref(arr);
		http_reply_json(req, 200, json_pack("{s:o}", "task", t));
	} else {
		http_reply_json(req, 200, json_pack("{s:o}", "tasks", arr));
	}
}

static int kill_flags(struct evhttp_request *req, bool *scale, bool *wipe)
{
	if (http_query_bool(req, "scale", false, scale) < 0 ||
	    http_query_bool(req, "wipe", false, wipe) < 0) {
		http_reply_message(req, 400, "'scale' and 'wipe' must be true or false");
		return -EINVAL;
	}
	if (*scale && *wipe) {
		http_reply_message(req, 400, "You cannot use scale and wipe at the same time.");
		return -EINVAL;
	}
	return 0;
}

static void app_tasks_delete(struct apps *m, struct evhttp_request *req, struct m_app *ma,
			     const char *task_id)
{
	bool scale, wipe;
	if (kill_flags(req, &scale, &wipe) < 0)
		return;
	_cleanup_free_ char *host = http_query_get(req, "host");
	/* One task: found through the task index, unless wipe must reach one whose task is
	 * gone (not indexed any more). */
	struct m_instance *one = task_id ? hmap_get(&m->tasks, task_id) : NULL;
	if (one && one->app != ma)
		one = NULL;
	size_t nscan = one || (task_id && !wipe) ? 0 : ma->ninst;
	struct m_instance **v = xcalloc(nscan + 2, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < nscan + (one != NULL); i++) {
		struct m_instance *in = one ? one : ma->inst[i];
		/* wipe also reaches an instance whose task is gone (say, with its agent). */
		if (in->phase != INST_LIVE && !(wipe && task_id && in->task_id[0]))
			continue;
		if (task_id && strcmp(in->task_id, task_id))
			continue;
		if (host) {
			struct m_agent *a = rm_agent_get(m->rm, in->agent_id);
			if (!a || strcmp(a->hostname, host))
				continue;
		}
		v[n++] = in;
	}
	if (task_id && !n) {
		free(v);
		http_reply_message(req, 404, "Task '%s' does not exist", task_id);
		return;
	}
	if (wipe) {
		/* The instance goes, with its local volumes and reservation; the app's count is
		 * unchanged, so a new instance (new volumes) takes its place. */
		for (size_t i = 0; i < n; i++) {
			log_info("master", "wiping instance %u of '%s' (task '%s')", v[i]->index,
				 ma->def->id, v[i]->task_id);
			apps_set_goal(v[i], GOAL_STOP);
			apps_store_instance(m, v[i]);
		}
	}
	kill_instances(m, req, ma, v, n, scale, task_id != NULL);
	free(v);
}

static void tasks_list(struct apps *m, struct evhttp_request *req)
{
	if (api_tasks_text(m, req, NULL))
		return;
	json_t *status = http_query_all(req, "status");
	json_t *st2 = http_query_all(req, "status[]");
	json_array_extend(status, st2);
	json_decref(st2);
	bool extras = want_extras(req);
	struct http_body b;
	http_body_init(&b);
	http_body_lit(&b, "{\"tasks\":[");
	bool first = true;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		if (!apps_visible(m, req, ma->def->id))
			continue;
		for (size_t j = 0; j < ma->ninst; j++) {
			struct m_instance *in = ma->inst[j];
			if (in->phase != INST_LIVE)
				continue;
			if (json_array_size(status)) {
				bool ok = false;
				size_t si;
				json_t *s;
				json_array_foreach(status, si, s) {
					const char *want = json_string_value(s);
					if (!strcasecmp(want, "running") && !strcmp(in->state, "TASK_RUNNING"))
						ok = true;
					if (!strcasecmp(want, "staging") &&
					    (!strcmp(in->state, "TASK_STAGING") ||
					     !strcmp(in->state, "TASK_STARTING")))
						ok = true;
				}
				if (!ok)
					continue;
			}
			http_body_piece(&b, rc_task(m, in, extras), !first);
			first = false;
		}
	}
	json_decref(status);
	http_body_lit(&b, "]}");
	http_reply_body_cond(req, &b);
}

static void tasks_delete(struct apps *m, struct evhttp_request *req)
{
	bool scale, wipe;
	if (kill_flags(req, &scale, &wipe) < 0)
		return;
	json_t *body = api_body(req);
	if (!body)
		return;
	json_t *ids = json_object_get(body, "ids");
	if (!json_is_array(ids)) {
		json_decref(body);
		http_reply_message(req, 400, "Body must be {\"ids\": [task ids]}");
		return;
	}
	size_t i;
	json_t *idj;
	json_array_foreach(ids, i, idj) {
		char a[TASK_ID_MAX], b[TASK_ID_MAX];
		unsigned att;
		const char *tid = json_string_value(idj);
		if (!tid || strlen(tid) >= TASK_ID_MAX || task_id_parse(tid, a, b, &att) < 0) {
			http_reply_message(req, 400, "Invalid task id '%s'", tid ? tid : "(not a string)");
			json_decref(body);
			return;
		}
	}
	/* Group by app: one kill (and with scale one deployment) per app. */
	struct m_app *last = NULL;
	bool extras = want_extras(req);
	json_t *killed = json_array();
	const char *k;
	void *v;
	bool answered = false;
	for (size_t ai = 0; hmap_next(&m->apps, &ai, &k, &v);) {
		struct m_app *ma = v;
		struct m_instance **vic = xcalloc(json_array_size(ids) + 1, sizeof(*vic));
		size_t n = 0;
		json_array_foreach(ids, i, idj) {
			struct m_instance *in = hmap_get(&m->tasks, json_string_value(idj));
			if (in && in->app == ma)
				vic[n++] = in;
		}
		if (n && scale) {
			if (answered) {
				/* One HTTP answer: further apps are scaled without one. */
				for (size_t j = 0; j < n; j++) {
					apps_set_goal(vic[j], GOAL_STOP);
					apps_kill_instance(m, vic[j]);
				}
				ma->def->instances -= (int64_t)n;
				if (ma->def->instances < 0)
					ma->def->instances = 0;
				json_object_set_new(ma->def->json, "instances",
						    json_integer(ma->def->instances));
				apps_store_app(m, ma);
			} else {
				kill_instances(m, req, ma, vic, n, true, false);
				answered = true;
			}
			last = ma;
		} else if (n) {
			for (size_t j = 0; j < n; j++) {
				json_array_append_new(killed, render_task(m, vic[j], extras));
				apps_kill_instance(m, vic[j]);
			}
		}
		free(vic);
	}
	json_decref(body);
	(void)last;
	apps_touch_all(m);
	if (!answered)
		http_reply_json(req, 200, json_pack("{s:o}", "tasks", killed));
	else
		json_decref(killed);
}

/* ---- versions ---- */

static void versions_get(struct apps *m, struct evhttp_request *req, struct m_app *ma,
			 const char *version)
{
	if (!version) {
		json_t *arr = json_array();
		for (size_t i = json_array_size(ma->versions); i > 0; i--)
			json_array_append(arr, json_array_get(ma->versions, i - 1));
		http_reply_json(req, 200, json_pack("{s:o}", "versions", arr));
		return;
	}
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "versions/%s@%s", ma->def->id, version);
	char *val;
	size_t len;
	if (store_get(m->store, key, &val, &len, NULL) < 0) {
		http_reply_message(req, 404, "App '%s' does not exist in version %s", ma->def->id,
				   version);
		return;
	}
	json_t *j = json_loadb(val, len, 0, NULL);
	free(val);
	http_reply_json(req, 200, j ? j : json_object());
}

/* ---- deployments, queue, info ---- */

/* As Marathon's DeploymentsResource: a deployment is listed to a principal that may view
 * any app it changes. */
static bool deployment_visible(struct apps *m, struct evhttp_request *req,
			       const struct m_app *ma)
{
	if (!ma->deploy->members)
		return apps_visible(m, req, ma->def->id);
	size_t i;
	json_t *it;
	json_array_foreach(ma->deploy->members, i, it) {
		const char *id = json_string_value(json_object_get(it, "app"));
		if (id && apps_visible(m, req, id))
			return true;
	}
	return false;
}

static void deployments(struct apps *m, struct evhttp_request *req, const char *id)
{
	if (!id) {
		struct http_body b;
		http_body_init(&b);
		http_body_lit(&b, "[");
		bool first = true;
		json_t *seen = json_object();
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
			struct m_app *ma = v;
			if (!ma->deploy)
				continue;
			/* A deployment of several apps is listed once. */
			if (ma->deploy->members) {
				if (json_object_get(seen, ma->deploy->id))
					continue;
				json_object_set_new(seen, ma->deploy->id, json_true());
			}
			if (!deployment_visible(m, req, ma))
				continue;
			http_body_piece(&b, rc_deployment(m, ma), !first);
			first = false;
		}
		json_decref(seen);
		json_t *pd = json_array(); /* the pods' (pods-render.c) */
		pods_deployments(m, pd);
		size_t pi;
		json_t *px;
		json_array_foreach(pd, pi, px) {
			const char *pod =
				json_string_value(json_array_get(json_object_get(px, "affectedPods"), 0));
			if (pod && !apps_visible(m, req, pod))
				continue;
			struct http_piece *piece = render_piece(json_incref(px));
			http_body_piece(&b, piece, !first);
			http_piece_unref(piece);
			first = false;
		}
		json_decref(pd);
		http_body_lit(&b, "]");
		http_reply_body_cond(req, &b);
		return;
	}
	struct m_app *found = NULL;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		if (ma->deploy && !strcmp(ma->deploy->id, id))
			found = ma;
	}
	if (!found && pods_deployment_delete(m, req, id))
		return; /* a pod's (pods-api.c) */
	if (!found) {
		http_reply_message(req, 404, "DeploymentPlan %s does not exist", id);
		return;
	}
	bool force;
	if (http_query_bool(req, "force", false, &force) < 0) {
		http_reply_message(req, 400, "'force' must be true or false");
		return;
	}
	if (found->deploy->members && !force) {
		api_deployment_rollback_multi(m, req, found);
		return;
	}
	if (force || found->deleting) {
		/* Stop tracking it; the apps stay as they are now. */
		if (!apps_deployment_cancel_others(m, found->deploy, found))
			apps_deployment_failed_event(m, found->deploy, "canceled with force");
		apps_deployment_stop(m, found);
		apps_touch(m, found);
		http_reply_text(req, 202, "");
		return;
	}
	/* Roll back: to the previous version, or away entirely for a start. */
	if (!strcmp(found->deploy->action, "StartApplication")) {
		api_apps_delete(m, req, found->def->id);
		return;
	}
	size_t nv = json_array_size(found->versions);
	const char *prev = nv >= 2 ? json_string_value(json_array_get(found->versions, nv - 2)) : NULL;
	char key[STORE_MAX_KEY];
	char *val = NULL;
	size_t len;
	snprintf(key, sizeof(key), "versions/%s@%s", found->def->id, prev ? prev : "");
	if (!prev || store_get(m->store, key, &val, &len, NULL) < 0) {
		apps_deployment_failed_event(m, found->deploy, "canceled: no previous version");
		apps_deployment_stop(m, found);
		http_reply_text(req, 202, "");
		return;
	}
	json_t *j = json_loadb(val, len, 0, NULL);
	free(val);
	struct verr err = VERR_INIT;
	struct app *def;
	if (!j || app_parse(j, "/", &err, &def) < 0) {
		json_decref(j);
		verr_release(&err);
		http_reply_message(req, 500, "Previous version of '%s' is unreadable", found->def->id);
		return;
	}
	json_decref(j);
	bool cfg = app_config_differs(found->def, def);
	app_set_version(def, time_real_usec(), cfg, cfg ? NULL : found->config_version);
	apps_assign_service_ports(m, def, found->def);
	struct m_app *res = api_commit_app(m, req, found,  def,
					   cfg ? "RestartApplication" : "ScaleApplication", true);
	if (res)
		api_reply_deployment(req, 200, res->def->version, res->deploy->id);
}

static void queue(struct apps *m, struct evhttp_request *req, const char *app)
{
	if (!app) {
		json_t *embed = http_query_all(req, "embed");
		struct http_body b;
		http_body_init(&b);
		render_queue_body(m, &b, embed_has(embed, "berth"),
				  embed_has(embed, "lastUnusedOffers"), req);
		json_decref(embed);
		http_reply_body_cond(req, &b);
		return;
	}
	struct m_app *ma = url_live_app(m, req, app);
	if (!ma)
		return;
	ma->failures = 0;
	ma->delay_until_usec = 0;
	apps_touch(m, ma);
	http_reply_text(req, 204, "");
}

/* ---- the handlers of the server's route table (apps.h) ---- */

void apps_http_apps(struct apps *m, struct evhttp_request *req, const char *arg,
		    const char *arg2)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd == EVHTTP_REQ_POST)
		api_apps_create(m, req);
	else if (cmd == EVHTTP_REQ_PUT || cmd == EVHTTP_REQ_PATCH)
		api_apps_update_multi(m, req, cmd == EVHTTP_REQ_PATCH);
	else
		apps_list(m, req);
}

/* GET /v2/apps/{group}/ * (arg NULL: the root group). */
void apps_http_group(struct apps *m, struct evhttp_request *req, const char *arg,
		     const char *arg2)
{
	char gid[APP_MAX_ID_LEN + 1], err[256];
	if (arg && app_id_canonical(arg, "/", gid, err, sizeof(err)) < 0) {
		http_reply_message(req, 404, "Group '%s' does not exist", arg);
		return;
	}
	apps_group_list(m, req, arg ? gid : "/");
}

void apps_http_app(struct apps *m, struct evhttp_request *req, const char *arg,
		   const char *arg2)
{
	_cleanup_free_ char *id = url_app_id(req, arg);
	if (!id)
		return;
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_PUT:
		api_apps_update(m, req, id, false);
		return;
	case EVHTTP_REQ_PATCH:
		api_apps_update(m, req, id, true);
		return;
	case EVHTTP_REQ_DELETE:
		api_apps_delete(m, req, id);
		return;
	default: {
		struct m_app *ma = live_app(m, req, id);
		unsigned what = RENDER_TASKS | RENDER_COUNTS | RENDER_DEPLOYMENTS |
				RENDER_FAILURE | (want_extras(req) ? RENDER_EXTRAS : 0);
		if (!ma)
			return;
		struct http_body b;
		http_body_init(&b);
		http_body_lit(&b, "{\"app\":");
		http_body_piece(&b, rc_app(m, ma, what), false);
		http_body_lit(&b, "}");
		http_reply_body_cond(req, &b);
		return;
	}
	}
}

void apps_http_app_restart(struct apps *m, struct evhttp_request *req, const char *arg,
			   const char *arg2)
{
	_cleanup_free_ char *id = url_app_id(req, arg);
	if (id)
		api_apps_restart(m, req, id);
}

/* /v2/apps/{id}/tasks (GET, DELETE) and /v2/apps/{id}/tasks/{taskId} (DELETE, arg2). */
void apps_http_app_tasks(struct apps *m, struct evhttp_request *req, const char *arg,
			 const char *arg2)
{
	struct m_app *ma = url_live_app(m, req, arg);
	if (!ma)
		return;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_DELETE)
		app_tasks_delete(m, req, ma, arg2);
	else
		app_tasks_get(m, req, ma);
}

void apps_http_app_versions(struct apps *m, struct evhttp_request *req, const char *arg,
			    const char *arg2)
{
	struct m_app *ma = url_live_app(m, req, arg);
	if (ma)
		versions_get(m, req, ma, arg2);
}

void apps_http_tasks(struct apps *m, struct evhttp_request *req, const char *arg,
		     const char *arg2)
{
	tasks_list(m, req);
}

void apps_http_tasks_delete(struct apps *m, struct evhttp_request *req, const char *arg,
			    const char *arg2)
{
	tasks_delete(m, req);
}

/* /v2/deployments (GET) and /v2/deployments/{id} (DELETE). */
void apps_http_deployments(struct apps *m, struct evhttp_request *req, const char *arg,
			   const char *arg2)
{
	deployments(m, req, arg);
}

/* /v2/queue (GET) and /v2/queue/{id}/delay (DELETE). */
void apps_http_queue(struct apps *m, struct evhttp_request *req, const char *arg,
		     const char *arg2)
{
	queue(m, req, arg);
}

void apps_http_info(struct apps *m, struct evhttp_request *req, const char *arg,
		    const char *arg2)
{
	http_reply_json(req, 200, api_info(m));
}

void apps_http_leader(struct apps *m, struct evhttp_request *req, const char *arg,
		      const char *arg2)
{
	http_reply_json(req, 200, json_pack("{s:s}", "leader", m->leader));
}
