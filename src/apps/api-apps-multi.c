/* PUT and PATCH /v2/apps with a JSON list of apps (Marathon's AppsResource.replaceMultiple /
 * patchMultiple), and the rollback of such a deployment.
 *
 * As Marathon: every item names its app ("id"); PUT updates each (partially by default,
 * ?partialUpdate=false replaces) or creates it, PATCH updates only and answers 404 for an app
 * that does not exist. All the apps change at one version in one deployment (one
 * deploymentId, one step with an action per app), 200 {"version","deploymentId"}. ?force=true
 * overrides the deployments holding any of the apps (they end as canceled); without it a held
 * app is 409. Nothing changes unless every item is valid: the errors of all items come in one
 * 422, each path prefixed by the item's index, "/(i)/cpus".
 *
 * Invariant: the apps, their versions and the deployment's per-app records go into the store
 * in one transaction before the answer; on a store failure memory is as it was (503). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "apps/api-int.h"

#define MULTI_MAX 1000 /* apps in one request */

#define item api_multi_item

/* Copies the details of e into all, each path prefixed with "/(i)". */
static void prefix_errors(struct verr *all, const struct verr *e, size_t i)
{
	size_t k, n;
	const json_t *d, *msg;
	json_array_foreach(e->details, k, d) {
		const char *path = json_string_value(json_object_get(d, "path"));
		char p[512];
		snprintf(p, sizeof(p), "/(%zu)%s", i, path && strcmp(path, "/") ? path : "");
		json_array_foreach(json_object_get(d, "errors"), n, msg)
			verr_add(all, p, "%s", json_string_value(msg));
	}
}

/* Commits the items and removes the apps stops[0..ns) as one deployment, and answers code;
 * takes every def. */
static void commit_all(struct apps *m, struct evhttp_request *req, struct item *it, size_t n,
		       struct m_app **stops, size_t ns, const char *version, int code)
{
	char id[37];
	id_uuid4(id);
	if (!n && !ns) {
		/* Nothing to change: Marathon answers with an empty plan. */
		api_reply_deployment(req, code, version, id);
		return;
	}
	json_t *members = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(members, json_pack("{s:s, s:s}", "action", it[i].action,
							 "app", it[i].def->id));
	for (size_t i = 0; i < ns; i++)
		json_array_append_new(members, json_pack("{s:s, s:s}", "action", "StopApplication",
							 "app", stops[i]->def->id));
	if (!n) {
		/* Only removals: each app's StopApplication, all under the one id. */
		api_apps_remove_all(m, stops, ns, id, version, members);
		json_decref(members);
		api_reply_deployment(req, code, version, id);
		return;
	}
	struct api_commit *c = xcalloc(n, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		api_commit_prepare(m, &c[i], it[i].ma, it[i].def, it[i].action, true);
		snprintf(c[i].d->id, sizeof(c[i].d->id), "%s", id);
		c[i].d->members = json_incref(members);
	}
	int r = store_txn_begin(m->store);
	if (r == 0) {
		for (size_t i = 0; i < n && r >= 0; i++)
			r = api_commit_write(m, &c[i]);
		if (r >= 0)
			r = store_txn_commit(m->store);
		else
			store_txn_abort(m->store);
	}
	if (r < 0) {
		for (size_t i = n; i-- > 0;)
			api_commit_revert(&c[i]);
		free(c);
		json_decref(members);
		http_reply_message(req, 503, "Cannot persist the change: %s (%s)", strerror(-r),
				   store_errmsg(m->store));
		return;
	}
	for (size_t i = 0; i < n; i++)
		api_commit_finish(m, req, &c[i], false);
	/* The removals go in their own transactions (each app's deletion record), after. */
	if (ns)
		api_apps_remove_all(m, stops, ns, id, version, members);
	json_decref(members);
	/* One deployment_info for the whole plan. */
	apps_deployment_announce(m, c[0].target);
	log_info("master", "deployment '%s': %zu app(s) at version %s", id, n + ns, version);
	api_reply_deployment(req, code, version, id);
	free(c);
}

static void commit(struct apps *m, struct evhttp_request *req, struct item *it, size_t n,
		   const char *version)
{
	commit_all(m, req, it, n, NULL, 0, version, 200);
}

static void items_free(struct item *it, size_t n)
{
	for (size_t i = 0; i < n; i++)
		app_free(it[i].def);
	free(it);
}

void api_apps_update_multi(struct apps *m, struct evhttp_request *req, bool patch)
{
	bool partial, force;
	if (http_query_bool(req, "partialUpdate", true, &partial) < 0 ||
	    http_query_bool(req, "force", false, &force) < 0) {
		http_reply_message(req, 400, "'partialUpdate' and 'force' must be true or false");
		return;
	}
	if (patch)
		partial = true;
	json_t *body = api_body(req);
	if (!body)
		return;
	if (!json_is_array(body) || json_array_size(body) > MULTI_MAX) {
		struct verr e = VERR_INIT;
		if (json_is_array(body))
			verr_add(&e, "/", "at most %d apps in one request", MULTI_MAX);
		else
			verr_add(&e, "/", "error.expected.jsarray");
		json_decref(body);
		http_reply_json(req, 422, verr_body(&e));
		verr_release(&e);
		return;
	}
	size_t n = json_array_size(body);
	struct item *it = xcalloc(n ? n : 1, sizeof(*it));
	struct verr all = VERR_INIT;
	struct m_app *locked = NULL;
	char missing_id[APP_MAX_ID_LEN + 1] = "";
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(body, i);
		char p[32], cid[APP_MAX_ID_LEN + 1], err[256];
		snprintf(p, sizeof(p), "/(%zu)", i);
		const char *id = json_string_value(json_object_get(x, "id"));
		if (!json_is_object(x)) {
			verr_add(&all, p, "error.expected.jsobject");
			continue;
		}
		snprintf(p, sizeof(p), "/(%zu)/id", i);
		if (!id) {
			verr_add(&all, p, "App Update must have app id set");
			continue;
		}
		if (app_id_canonical(id, "/", cid, err, sizeof(err)) < 0) {
			verr_add(&all, p, "%s", err);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (it[j].def && !strcmp(it[j].def->id, cid))
				verr_add(&all, p, "app '%s' is in the list more than once", cid);
		struct m_app *ma = apps_get(m, cid);
		if (ma && ma->deleting) {
			if (!locked)
				locked = ma;
			ma = NULL;
		}
		if (!ma && patch) {
			if (!missing_id[0])
				snprintf(missing_id, sizeof(missing_id), "%s", cid);
			continue;
		}
		json_t *merged = (ma && partial) ? app_merge(ma->def->json, x) : json_deep_copy(x);
		json_object_set_new(merged, "id", json_string(cid));
		struct verr e = VERR_INIT;
		struct app *def = NULL;
		int r = app_parse(merged, "/", &e, &def);
		json_decref(merged);
		if (r >= 0) {
			api_check_limits(m, def, &e);
			api_check_volumes(m, def, ma ? ma->def : NULL, &e);
			autoscale_check(def, &e);
		}
		if (verr_any(&e)) {
			prefix_errors(&all, &e, i);
			verr_release(&e);
			app_free(def);
			continue;
		}
		verr_release(&e);
		it[i] = (struct item){ .ma = ma, .def = def, .action = "StartApplication" };
		if (ma && ma->deploy && !force && !locked)
			locked = ma;
	}
	json_decref(body);
	if (verr_any(&all)) {
		http_reply_json(req, 422, verr_body(&all));
		verr_release(&all);
		items_free(it, n);
		return;
	}
	if (missing_id[0]) {
		http_reply_message(req, 404, "App '%s' does not exist", missing_id);
		items_free(it, n);
		return;
	}
	if (locked) {
		if (locked->deploy && !locked->deleting)
			api_reply_locked(req, locked);
		else
			http_reply_message(req, 409, "App '%s' is still being deleted",
					   locked->def->id);
		items_free(it, n);
		return;
	}
	api_multi_apply(m, req, it, n, NULL, 0, 200);
	free(it); /* the defs were taken */
}

void api_multi_versions(struct apps *m, struct item *it, size_t n, uint64_t now)
{
	/* Versions and service ports, all at one version. */
	struct app **done = xcalloc(n ? n : 1, sizeof(*done));
	for (size_t i = 0; i < n; i++) {
		struct item *t = &it[i];
		if (t->ma) {
			bool cfg = app_config_differs(t->ma->def, t->def);
			app_set_version(t->def, now, cfg, cfg ? NULL : t->ma->config_version);
			t->action = cfg ? "RestartApplication" : "ScaleApplication";
		} else {
			app_set_version(t->def, now, true, NULL);
			t->action = "StartApplication";
		}
		apps_assign_service_ports_also(m, t->def, t->ma ? t->ma->def : NULL, done, i);
		done[i] = t->def;
	}
	free(done);
}

void api_multi_apply(struct apps *m, struct evhttp_request *req, struct item *it, size_t n,
		     struct m_app **stops, size_t ns, int code)
{
	uint64_t now = time_real_usec();
	char ver[32];
	time_iso8601(now, ver);
	api_multi_versions(m, it, n, now);
	if (n)
		snprintf(ver, sizeof(ver), "%s", it[0].def->version);
	commit_all(m, req, it, n, stops, ns, ver, code);
}

/* The previous version of ma's definition, parsed, or NULL. */
static struct app *previous(struct apps *m, const struct m_app *ma)
{
	size_t nv = json_array_size(ma->versions);
	const char *prev = nv >= 2 ? json_string_value(json_array_get(ma->versions, nv - 2)) : NULL;
	if (!prev)
		return NULL;
	char key[STORE_MAX_KEY];
	char *val = NULL;
	size_t len;
	snprintf(key, sizeof(key), "versions/%s@%s", ma->def->id, prev);
	if (store_get(m->store, key, &val, &len, NULL) < 0)
		return NULL;
	json_t *j = json_loadb(val, len, 0, NULL);
	free(val);
	struct verr err = VERR_INIT;
	struct app *def = NULL;
	if (!j || app_parse(j, "/", &err, &def) < 0)
		def = NULL;
	json_decref(j);
	verr_release(&err);
	return def;
}

void api_deployment_rollback_multi(struct apps *m, struct evhttp_request *req,
				   struct m_app *found)
{
	/* Marathon reverts the plan: each changed app to its version before. An app the
	 * deployment created has none, so it is stopped and removed as a DELETE would; the
	 * others go back in one new deployment. */
	const json_t *members = found->deploy->members;
	size_t n = json_array_size(members);
	struct item *it = xcalloc(n ? n : 1, sizeof(*it));
	size_t k = 0;
	struct m_app **started = xcalloc(n ? n : 1, sizeof(*started));
	size_t ns = 0;
	char id[37];
	snprintf(id, sizeof(id), "%s", found->deploy->id);
	size_t i;
	const json_t *x;
	json_array_foreach(members, i, x) {
		struct m_app *ma = apps_get(m, json_string_value(json_object_get(x, "app")));
		if (!ma || ma->deleting || !ma->deploy || strcmp(ma->deploy->id, id))
			continue; /* already done: stays as it is */
		if (!strcmp(ma->deploy->action, "StartApplication")) {
			started[ns++] = ma;
			continue;
		}
		struct app *def = previous(m, ma);
		if (!def)
			continue;
		it[k++] = (struct item){ .ma = ma, .def = def };
	}
	uint64_t now = time_real_usec();
	for (size_t j = 0; j < k; j++) {
		bool cfg = app_config_differs(it[j].ma->def, it[j].def);
		app_set_version(it[j].def, now, cfg, cfg ? NULL : it[j].ma->config_version);
		it[j].action = cfg ? "RestartApplication" : "ScaleApplication";
		apps_assign_service_ports(m, it[j].def, it[j].ma->def);
	}
	/* The deployment itself ends here: its apps' parts are forgotten, then replaced. */
	apps_deployment_failed_event(m, found->deploy, "canceled: rolled back");
	json_array_foreach(members, i, x) {
		struct m_app *ma = apps_get(m, json_string_value(json_object_get(x, "app")));
		if (ma && ma->deploy && !strcmp(ma->deploy->id, id)) {
			apps_deployment_stop(m, ma);
			apps_touch(m, ma);
		}
	}
	char ver[32], stop_ver[32] = "", stop_dep[37] = "";
	for (size_t j = 0; j < ns; j++) {
		const char *v, *d;
		if (api_apps_remove(m, started[j], &v, &d) == 0) {
			snprintf(stop_ver, sizeof(stop_ver), "%s", v);
			snprintf(stop_dep, sizeof(stop_dep), "%s", d);
		}
	}
	free(started);
	time_iso8601(now, ver);
	if (!k && stop_dep[0])
		/* Only created apps: the answer names (the last of) their removals. */
		api_reply_deployment(req, 200, stop_ver, stop_dep);
	else
		commit(m, req, it, k, k ? it[0].def->version : ver);
	free(it);
}
