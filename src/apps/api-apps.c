/* Marathon v2 app changes: create, update, patch, delete, restart (reference/compat.md §3.1).
 *
 * Every handler validates first and changes nothing on a rejected request; a change is in
 * the store (one transaction: app, version, deployment) before the 2xx answer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "apps/api-int.h"
#include "apps/pods-int.h"

void api_reply_deployment(struct evhttp_request *req, int code, const char *version,
			  const char *dep_id)
{
	http_add_header(req, "Marathon-Deployment-Id", dep_id);
	http_reply_json(req, code, json_pack("{s:s, s:s}", "version", version, "deploymentId", dep_id));
}

void api_reply_locked(struct evhttp_request *req, const struct m_app *ma)
{
	json_t *body = json_pack(
		"{s:s, s:[{s:s}]}", "message",
		"App is locked by one or more deployments. Override with the option '?force=true'. "
		"View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
		"deployments", "id", ma->deploy->id);
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "App is locked by one or more deployments. Override with the option '?force=true'. "
		 "View details at '/v2/deployments/%s'.",
		 ma->deploy->id);
	json_object_set_new(body, "message", json_string(msg));
	http_reply_json(req, 409, body);
}

/* Reads the JSON body; on failure answers 400 as Marathon does and returns NULL. */
json_t *api_body(struct evhttp_request *req)
{
	json_t *body;
	char err[256];
	if (http_request_json(req, &body, err, sizeof(err)) < 0) {
		http_reply_json(req, 400, json_pack("{s:s, s:s}", "message", "Invalid JSON", "details",
						    err));
		return NULL;
	}
	return body;
}

void api_reply_not_object(struct evhttp_request *req)
{
	struct verr e = VERR_INIT;
	verr_add(&e, "/", "error.expected.jsobject");
	http_reply_json(req, 422, verr_body(&e));
	verr_release(&e);
}

/* Stores def as the app's current definition and as a version. Inside a txn. */
static int put_app_and_version(struct apps *m, const struct m_app *ma)
{
	int r = apps_store_app(m, ma);
	if (r < 0)
		return r;
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "versions/%s@%s", ma->def->id, ma->def->version);
	char *s = json_dumps(ma->def->json, JSON_COMPACT);
	r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

/* Commits a new definition for an app (new or existing) with a deployment. Takes def.
 * On success returns the app; on a store failure answers 503 itself and returns NULL,
 * leaving memory as it was. */
/* group_change_success for the group of app id (now at version), and the health check
 * events: add_health_check_event for each check of def_json (NULL: the app is gone) that
 * old_hc (the checks before) lacks, remove_health_check_event when checks went away. */
void api_group_change_events(struct apps *m, const char *id, const char *version,
			     json_t *def_json, json_t *old_hc)
{
	char group[APP_MAX_ID_LEN + 2];
	snprintf(group, sizeof(group), "%s", id);
	char *slash = strrchr(group, '/');
	if (slash)
		slash[slash == group ? 1 : 0] = '\0';
	events_publish(m, "group_change_success",
		       json_pack("{s:s, s:s}", "groupId", group, "version", version));
	json_t *hc = def_json ? json_object_get(def_json, "healthChecks") : NULL;
	size_t i, j;
	json_t *c, *o;
	bool removed = false;
	json_array_foreach(old_hc, j, o) {
		bool kept = false;
		json_array_foreach(hc, i, c) kept |= json_equal(c, o);
		removed |= !kept;
	}
	if (removed)
		events_publish(m, "remove_health_check_event", json_pack("{s:s}", "appId", id));
	json_array_foreach(hc, i, c) {
		bool had = false;
		json_array_foreach(old_hc, j, o) had |= json_equal(c, o);
		if (!had)
			events_publish(m, "add_health_check_event",
				       json_pack("{s:s, s:O, s:s}", "appId", id, "healthCheck", c,
						 "version", version));
	}
}

/* A commit of one app's new definition in phases, so that several apps can go into one
 * transaction (PUT /v2/apps with a list, api-apps-multi.c): prepare builds the post-change
 * view, write puts it in the open transaction, then revert (the transaction failed: memory
 * as it was) or finish (events, announce). */
void api_commit_prepare(struct apps *m, struct api_commit *c, struct m_app *ma,
			struct app *def, const char *action, bool cancel_running)
{
	*c = (struct api_commit){ .ma = ma, .target = ma, .def = def, .action = action,
				  .is_new = !ma, .cancel_running = cancel_running };
	if (c->is_new) {
		c->target = apps_app_new();
		c->target->versions = json_array();
	}
	struct m_app *target = c->target;
	c->old_def = target->def;
	/* The old health checks, to tell which the change adds (after old_def is freed). */
	c->old_hc = c->old_def ? json_incref(json_object_get(c->old_def->json, "healthChecks"))
			       : NULL;
	target->def = def;
	c->config_change = c->is_new || app_config_differs(c->old_def, def) ||
			   !strcmp(action, "RestartApplication");
	snprintf(c->old_cv, sizeof(c->old_cv), "%s", target->config_version);
	if (c->config_change) {
		snprintf(target->config_version, sizeof(target->config_version), "%s",
			 def->version);
		target->maybe_outdated = true;
	}
	c->old_dep = target->deploy;
	target->deploy = NULL;
	c->d = apps_deployment_new(m, target, action);
	c->d->original = c->old_def ? json_incref(c->old_def->json) : NULL;
}

int api_commit_write(struct apps *m, struct api_commit *c)
{
	int r = put_app_and_version(m, c->target);
	if (r >= 0)
		r = apps_store_deployment(m, c->d);
	if (r >= 0 && c->old_dep && c->cancel_running) {
		char key[STORE_MAX_KEY];
		apps_deployment_key(c->old_dep, key, sizeof(key));
		int dr = store_delete(m->store, key, STORE_ANY_VERSION);
		if (dr < 0 && dr != -ENOENT)
			r = dr;
	}
	return r;
}

void api_commit_revert(struct api_commit *c)
{
	struct m_app *target = c->target;
	apps_deployment_free(c->d);
	target->def = c->old_def;
	snprintf(target->config_version, sizeof(target->config_version), "%s", c->old_cv);
	target->deploy = c->old_dep;
	if (c->is_new) {
		json_decref(target->versions);
		free(target);
	}
	app_free(c->def);
	json_decref(c->old_hc);
}

void api_commit_finish(struct apps *m, struct evhttp_request *req, struct api_commit *c,
		       bool announce)
{
	struct m_app *target = c->target;
	struct app *def = c->def;
	if (c->old_dep) {
		log_info("master", "deployment '%s' of '%s' superseded", c->old_dep->id, def->id);
		/* A deployment of several apps ends as a whole (Marathon cancels a plan). */
		if (!apps_deployment_cancel_others(m, c->old_dep, target))
			apps_deployment_failed_event(m, c->old_dep, "superseded by a forced change");
		apps_deployment_free(c->old_dep);
	}
	app_free(c->old_def);
	if (c->config_change) {
		target->failures = 0;
		target->delay_until_usec = 0;
	}
	json_array_append_new(target->versions, json_string(def->version));
	if (c->is_new)
		hmap_put(&m->apps, def->id, target);
	target->owner = m;
	log_info("master", "app '%s' %s: version %s, %lld instance(s) (deployment '%s')", def->id,
		 c->is_new ? "created" : c->action, def->version, (long long)def->instances,
		 c->d->id);
	if (req && evhttp_request_get_command(req) != EVHTTP_REQ_DELETE)
		events_publish(m, "api_post_event",
			       json_pack("{s:s, s:s, s:O}", "clientIp", http_request_peer(req), "uri",
					 evhttp_request_get_uri(req), "appDefinition", def->json));
	api_group_change_events(m, def->id, def->version, def->json, c->old_hc);
	json_decref(c->old_hc);
	if (announce)
		apps_deployment_announce(m, target);
	apps_touch(m, target);
}

int api_commit_store(struct apps *m, struct api_commit *c)
{
	int r = store_txn_begin(m->store);
	if (r == 0) {
		r = api_commit_write(m, c);
		if (r >= 0)
			r = store_txn_commit(m->store);
		else
			store_txn_abort(m->store);
	}
	if (r < 0)
		api_commit_revert(c);
	return r;
}

struct m_app *api_commit_app(struct apps *m, struct evhttp_request *req, struct m_app *ma,
			     struct app *def, const char *action, bool cancel_running)
{
	struct api_commit c;
	api_commit_prepare(m, &c, ma, def, action, cancel_running);
	int r = api_commit_store(m, &c);
	if (r < 0) {
		http_reply_message(req, 503, "Cannot persist the change: %s (%s)", strerror(-r),
				   store_errmsg(m->store));
		return NULL;
	}
	api_commit_finish(m, req, &c, true);
	return c.target;
}

/* The master's bound on an app's instances (--max-app-instances), and an id no pod has
 * (Marathon's root group rule, at "/"). Adds to err. */
void api_check_limits(struct apps *m, const struct app *def, struct verr *err)
{
	if (pods_get(m, def->id))
		verr_add(err, "/", "Applications and Pods may not share the same id");
	size_t max = m->cfg && m->cfg->max_app_instances ? m->cfg->max_app_instances
							 : MASTER_DEFAULT_MAX_APP_INSTANCES;
	if (def->instances > 0 && (uint64_t)def->instances > max)
		verr_add(err, "/instances", "got %lld, expected %zu or less (the master's "
			 "--max-app-instances)", (long long)def->instances, max);
}

/* Volume rules that span apps, or an app's versions (Marathon's, reference/compat.md §4):
 * an unshared external volume name belongs to one app; an app with persistent volumes keeps
 * its resources. Adds to err; old may be NULL. */
void api_check_volumes(struct apps *m, const struct app *def, const struct app *old,
		       struct verr *err)
{
	for (size_t i = 0; i < def->nvolumes; i++) {
		const struct app_volume *v = &def->volumes[i];
		if (v->type != VOL_EXTERNAL || v->shared)
			continue;
		const char *k;
		void *p;
		for (size_t ai = 0; hmap_next(&m->apps, &ai, &k, &p);) {
			const struct m_app *o = p;
			if (!strcmp(o->def->id, def->id))
				continue;
			for (size_t j = 0; j < o->def->nvolumes; j++)
				if (o->def->volumes[j].type == VOL_EXTERNAL &&
				    !strcmp(o->def->volumes[j].name, v->name))
				{
					char path[64];
					if (v->json_index >= 0)
						snprintf(path, sizeof(path), "/container/volumes/%d/external/name",
							 v->json_index);
					else
						snprintf(path, sizeof(path), "/env");
					verr_add(err, path,
						 "external volume '%s' is already used by app '%s' "
						 "(mark both shared to share it)",
						 v->name, o->def->id);
				}
		}
	}
	if (!old || !old->resident)
		return;
	bool same = old->cpus == def->cpus && old->mem == def->mem && old->disk == def->disk &&
		    old->gpus == def->gpus && old->nvolumes == def->nvolumes;
	for (size_t i = 0; same && i < def->nvolumes; i++)
		same = old->volumes[i].type == def->volumes[i].type &&
		       old->volumes[i].size == def->volumes[i].size &&
		       !strcmp(old->volumes[i].container_path, def->volumes[i].container_path);
	if (!same)
		verr_add(err, "/", "the resources and volumes of an app with persistent volumes "
				   "cannot change (cpus, mem, disk, gpus, container.volumes)");
}

void api_apps_create(struct apps *m, struct evhttp_request *req)
{
	json_t *body = api_body(req);
	if (!body)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		api_reply_not_object(req);
		return;
	}
	struct verr err = VERR_INIT;
	struct app *def;
	int r = app_parse(body, "/", &err, &def);
	json_decref(body);
	if (r >= 0 && autoscale_check(def, &err) < 0) {
		app_free(def);
		r = -EINVAL;
	}
	if (r < 0) {
		http_reply_json(req, 422, verr_body(&err));
		verr_release(&err);
		return;
	}
	struct m_app *ma = apps_get(m, def->id);
	if (ma) {
		http_reply_message(req, 409, "An app with id [%s] already exists.", def->id);
		app_free(def);
		return;
	}
	api_check_limits(m, def, &err);
	api_check_volumes(m, def, NULL, &err);
	if (verr_any(&err)) {
		http_reply_json(req, 422, verr_body(&err));
		verr_release(&err);
		app_free(def);
		return;
	}
	app_set_version(def, time_real_usec(), true, NULL);
	apps_assign_service_ports(m, def, NULL);
	ma = api_commit_app(m, req, NULL, def, "StartApplication", false);
	if (!ma)
		return;
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	char *loc = xasprintf("%s://%s/v2/apps%s", m->cfg && m->cfg->https ? "https" : "http",
			      host ? host : m->leader, ma->def->id);
	http_add_header(req, "Location", loc);
	free(loc);
	http_add_header(req, "Marathon-Deployment-Id", ma->deploy->id);
	http_reply_json(req, 201, render_app(m, ma, RENDER_COUNTS | RENDER_DEPLOYMENTS));
}

/* PUT (partial or full) and PATCH of one app. */
void api_apps_update(struct apps *m, struct evhttp_request *req, const char *id, bool patch)
{
	bool partial, force, in_place;
	if (http_query_bool(req, "partialUpdate", true, &partial) < 0 ||
	    http_query_bool(req, "force", false, &force) < 0 ||
	    http_query_bool(req, "inPlace", false, &in_place) < 0) {
		http_reply_message(req, 400, "'partialUpdate', 'force' and 'inPlace' must be true or "
				   "false");
		return;
	}
	if (patch)
		partial = true;
	json_t *body = api_body(req);
	if (!body)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		api_reply_not_object(req);
		return;
	}
	struct m_app *ma = apps_get(m, id);
	if (ma && ma->deleting)
		ma = NULL;
	if (!ma && patch) {
		json_decref(body);
		http_reply_message(req, 404, "App '%s' does not exist", id);
		return;
	}
	json_t *merged = (ma && partial) ? app_merge(ma->def->json, body) : json_incref(body);
	json_decref(body);
	json_object_set_new(merged, "id", json_string(id));
	struct verr err = VERR_INIT;
	struct app *def;
	int r = app_parse(merged, "/", &err, &def);
	json_decref(merged);
	if (r >= 0 && autoscale_check(def, &err) < 0) {
		app_free(def);
		r = -EINVAL;
	}
	if (r < 0) {
		/* An invalid change is 422 whether or not a deployment holds the app. */
		http_reply_json(req, 422, verr_body(&err));
		verr_release(&err);
		return;
	}
	struct m_app *locked = ma ? (ma->deploy && !force ? ma : NULL) : apps_get(m, id);
	if (locked) {
		/* A deployment in flight, or the app being deleted (its StopApplication, unless
		 * that was canceled while the app waits for its tasks or its wipe). */
		app_free(def);
		if (locked->deploy)
			api_reply_locked(req, locked);
		else
			http_reply_message(req, 409, "App '%s' is still being deleted", id);
		return;
	}
	api_check_limits(m, def, &err);
	api_check_volumes(m, def, ma ? ma->def : NULL, &err);
	if (verr_any(&err)) {
		http_reply_json(req, 422, verr_body(&err));
		verr_release(&err);
		app_free(def);
		return;
	}
	uint64_t now = time_real_usec();
	const char *action = "StartApplication";
	struct apps_resize *rs = NULL;
	char why[300] = "";
	if (ma) {
		bool cfg = app_config_differs(ma->def, def);
		app_set_version(def, now, cfg, cfg ? NULL : ma->config_version);
		action = cfg ? "RestartApplication" : "ScaleApplication";
		/* berth's in-place resize: the running tasks keep running with new limits */
		if (cfg && in_place && apps_resize_prepare(m, ma, def, &rs, why, sizeof(why)) == 0)
			action = "ScaleApplication";
	} else {
		app_set_version(def, now, true, NULL);
	}
	apps_assign_service_ports(m, def, ma ? ma->def : NULL);
	struct m_app *res = api_commit_app(m, req, ma, def, action, true);
	if (!res) {
		apps_resize_undo(m, rs);
		return;
	}
	if (rs)
		apps_resize_apply(m, rs, res->def->version);
	if (!in_place || !ma) {
		api_reply_deployment(req, ma ? 200 : 201, res->def->version, res->deploy->id);
		return;
	}
	/* ?inPlace=true: which way the change went, in the reply and the deployment */
	struct m_deployment *d = res->deploy;
	d->resize = rs ? "inPlace" : "restart";
	d->resize_reason = rs || !why[0] ? NULL : xstrdup(why);
	if (!rs && !why[0])
		d->resize = "none"; /* nothing to resize: the change needed no restart either */
	int sr = apps_store_deployment(m, d);
	if (sr < 0)
		log_warn("master", "deployment '%s': cannot store how it resizes: %s", d->id,
			 strerror(-sr));
	http_add_header(req, "Marathon-Deployment-Id", d->id);
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:{s:s, s:s*}}", "version",
					    res->def->version, "deploymentId", d->id,
					    "berthResize", "mode", d->resize, "reason",
					    d->resize_reason));
}

void api_apps_restart(struct apps *m, struct evhttp_request *req, const char *id)
{
	bool force;
	if (http_query_bool(req, "force", false, &force) < 0) {
		http_reply_message(req, 400, "'force' must be true or false");
		return;
	}
	struct m_app *ma = apps_get(m, id);
	if (!ma || ma->deleting) {
		http_reply_message(req, 404, "App '%s' does not exist", id);
		return;
	}
	if (ma->deploy && !force) {
		api_reply_locked(req, ma);
		return;
	}
	struct verr err = VERR_INIT;
	struct app *def;
	if (app_parse(ma->def->json, "/", &err, &def) < 0) {
		http_reply_message(req, 500, "Stored definition of '%s' is invalid: %s", id,
				   verr_first(&err));
		verr_release(&err);
		return;
	}
	app_set_version(def, time_real_usec(), true, NULL);
	struct m_app *res = api_commit_app(m, req, ma, def, "RestartApplication", true);
	if (res)
		api_reply_deployment(req, 200, res->def->version, res->deploy->id);
}

static int delete_version(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	json_array_append_new(ctx, json_string(key));
	return 0;
}

/* The external volumes DELETE ?wipe=true removes: each unshared one of every instance,
 * [{driver, name, agent (where its task runs, if any)}]. Local volumes always go. */
static json_t *wipe_list(const struct m_app *ma)
{
	json_t *wv = json_array();
	for (size_t vi = 0; vi < ma->def->nvolumes; vi++) {
		const struct app_volume *vol = &ma->def->volumes[vi];
		if (vol->type != VOL_EXTERNAL)
			continue;
		if (vol->shared) {
			log_info("master", "keeping shared volume '%s' of '%s'", vol->name, ma->def->id);
			continue;
		}
		for (size_t i = 0; i < ma->ninst; i++) {
			const struct m_instance *in = ma->inst[i];
			char *name = volume_name_for(vol, in->index);
			json_array_append_new(wv, json_pack("{s:s, s:s, s:s?}", "driver", vol->driver,
							    "name", name, "agent", in->agent_id));
			free(name);
		}
	}
	return wv;
}

/* Deletes ma (the store first, then memory) and starts its StopApplication deployment:
 * 0 with its version and id (borrowed from the deployment), or -errno (nothing changed). */
static int remove_app_as(struct apps *m, struct m_app *ma, bool wipe, const char *as_id,
			 const char *as_version, json_t *members, const char **version,
			 const char **dep_id);

static int remove_app(struct apps *m, struct m_app *ma, bool wipe, const char **version,
		      const char **dep_id)
{
	return remove_app_as(m, ma, wipe, NULL, NULL, NULL, version, dep_id);
}

void api_apps_remove_all(struct apps *m, struct m_app **stops, size_t n, const char *dep_id,
			 const char *version, json_t *members)
{
	const char *v, *d;
	for (size_t i = 0; i < n; i++) {
		int r = remove_app_as(m, stops[i], false, dep_id, version, members, &v, &d);
		if (r < 0)
			log_warn("master", "cannot delete app '%s': %s (%s)", stops[i]->def->id,
				 strerror(-r), store_errmsg(m->store));
	}
}

/* With as_id: the deployment takes that id, version and members (one of several apps),
 * and is not announced (the caller announces the whole plan). */
static int remove_app_as(struct apps *m, struct m_app *ma, bool wipe, const char *as_id,
			 const char *as_version, json_t *members, const char **version,
			 const char **dep_id)
{
	const char *id = ma->def->id;
	/* force defaults to true for DELETE in Marathon's code: a deletion never waits.
	 * The deletion is stored with a record of the app being deleted (deleting/<id>, and with
	 * wipe=true one per volume to remove) in the same transaction, so that a master restart
	 * before its tasks are gone still stops them as this one would (the app's grace period)
	 * and still removes the volumes (apps.c's invariants). */
	ma->wipe_volumes = wipe ? wipe_list(ma) : json_array();
	char prefix[STORE_MAX_KEY];
	snprintf(prefix, sizeof(prefix), "versions/%s@", id);
	json_t *keys = json_array();
	int r = store_list(m->store, prefix, delete_version, keys);
	char key[STORE_MAX_KEY];
	if (r >= 0)
		r = store_txn_begin(m->store);
	if (r >= 0) {
		snprintf(key, sizeof(key), "apps/%s", id);
		r = store_delete(m->store, key, STORE_ANY_VERSION);
		size_t i;
		json_t *k;
		json_array_foreach(keys, i, k) {
			if (r >= 0)
				r = store_delete(m->store, json_string_value(k), STORE_ANY_VERSION);
		}
		if (r >= 0 && ma->deploy) {
			apps_deployment_key(ma->deploy, key, sizeof(key));
			int dr = store_delete(m->store, key, STORE_ANY_VERSION);
			if (dr < 0 && dr != -ENOENT)
				r = dr;
		}
		if (r >= 0) { /* its per-instance environment (instctl.c) goes with it */
			snprintf(key, sizeof(key), "instenv/%s", id);
			int er = store_delete(m->store, key, STORE_ANY_VERSION);
			if (er < 0 && er != -ENOENT)
				r = er;
		}
		if (r >= 0)
			r = apps_store_deletion(m, ma);
		if (r >= 0)
			r = store_txn_commit(m->store);
		else
			store_txn_abort(m->store);
	}
	json_decref(keys);
	if (r < 0) {
		json_decref(ma->wipe_volumes);
		ma->wipe_volumes = NULL;
		return r;
	}
	if (ma->deploy) {
		if (!apps_deployment_cancel_others(m, ma->deploy, ma))
			apps_deployment_failed_event(m, ma->deploy, "the app was deleted");
		apps_deployment_free(ma->deploy);
		ma->deploy = NULL;
	}
	ma->deleting = true;
	char ver[32];
	time_iso8601(time_real_usec(), ver);
	struct m_deployment *d = apps_deployment_new(m, ma, "StopApplication");
	snprintf(d->version, sizeof(d->version), "%s", as_version ? as_version : ver);
	if (as_id) {
		snprintf(d->id, sizeof(d->id), "%s", as_id);
		d->members = json_incref(members);
	}
	log_info("master", "app '%s' deleted (deployment '%s')", id, d->id);
	api_group_change_events(m, id, d->version, NULL,
				json_object_get(ma->def->json, "healthChecks"));
	if (!as_id)
		apps_deployment_announce(m, ma);
	apps_touch(m, ma);
	*version = d->version;
	*dep_id = d->id;
	return 0;
}

void api_apps_delete(struct apps *m, struct evhttp_request *req, const char *id)
{
	struct m_app *ma = apps_get(m, id);
	if (!ma || ma->deleting) {
		http_reply_message(req, 404, "App '%s' does not exist", id);
		return;
	}
	bool wipe;
	if (http_query_bool(req, "wipe", false, &wipe) < 0) {
		http_reply_message(req, 400, "'wipe' must be true or false");
		return;
	}
	const char *ver = NULL, *dep = NULL;
	int r = remove_app(m, ma, wipe, &ver, &dep);
	if (r < 0) {
		http_reply_message(req, 503, "Cannot persist the change: %s (%s)", strerror(-r),
				   store_errmsg(m->store));
		return;
	}
	api_reply_deployment(req, 200, ver, dep);
}

int api_apps_remove(struct apps *m, struct m_app *ma, const char **version, const char **dep)
{
	int r = remove_app(m, ma, false, version, dep);
	if (r < 0)
		log_warn("master", "cannot delete app '%s': %s (%s)", ma->def->id, strerror(-r),
			 store_errmsg(m->store));
	return r;
}
