/* Marathon's /v2/pods (RAML api/v2/pods.raml; docs/api.md "Pods"):
 *   HEAD/GET/POST /v2/pods, GET /v2/pods/::status,
 *   GET/PUT/DELETE /v2/pods/{id}, GET /v2/pods/{id}::status,
 *   GET /v2/pods/{id}::versions[/{version}],
 *   DELETE /v2/pods/{id}::instances/{instance} and DELETE /v2/pods/{id}::instances [ids].
 * Every change is in the store before the answer; bad input changes nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "model/pod.h"
#include "apps/api-int.h"
#include "apps/pods-int.h"

static void pod_event(struct apps *m, struct evhttp_request *req, const char *type)
{
	events_publish(m, type, json_pack("{s:s, s:s}", "clientIp", http_request_peer(req), "uri",
					  evhttp_request_get_uri(req)));
}

static void not_found(struct evhttp_request *req, const char *id)
{
	http_reply_message(req, 404, "Pod '%s' does not exist", id);
}

static void reply_locked(struct evhttp_request *req, const struct m_pod *mp)
{
	http_reply_json(req, 409, json_pack(
		"{s:s, s:[{s:s}]}", "message",
		"App is locked by one or more deployments. Override with the option '?force=true'. "
		"View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
		"deployments", "id", mp->deploy->id));
}

/* Stores mp and its deployment in one transaction. 0 or -errno (aborted). */
static int store_change(struct apps *m, struct m_pod *mp, const char *action)
{
	int r = store_txn_begin(m->store);
	if (r < 0)
		return r;
	r = pods_store_pod(m, mp);
	if (r == 0)
		pods_deployment_new(m, mp, action);
	if (r == 0)
		r = store_txn_commit(m->store);
	else
		store_txn_abort(m->store);
	return r;
}

/* Sets def's version (now) and records it in mp's versions (the oldest dropped). */
static void new_version(struct m_pod *mp, json_t *def, bool config_change)
{
	char v[32];
	time_iso8601(time_real_usec(), v);
	json_object_set_new(def, "version", json_string(v));
	json_decref(mp->def);
	mp->def = def;
	if (config_change || !mp->config_version[0])
		snprintf(mp->config_version, sizeof(mp->config_version), "%s", v);
	json_object_set(mp->versions, v, def);
	while (json_object_size(mp->versions) > POD_MAX_VERSIONS) {
		/* the oldest not in use by the config version */
		const char *oldest = NULL, *k;
		json_t *x;
		json_object_foreach(mp->versions, k, x)
			if (strcmp(k, mp->config_version) && (!oldest || strcmp(k, oldest) < 0))
				oldest = k;
		if (!oldest)
			break;
		json_object_del(mp->versions, oldest);
	}
}

/* POST /v2/pods, and PUT of a pod that does not exist (code 201 both). */
static void create(struct apps *m, struct evhttp_request *req, json_t *def)
{
	const char *id = json_string_value(json_object_get(def, "id"));
	if (apps_get(m, id)) {
		/* Marathon's root group rule (a validation error of the root, at "/") */
		struct verr err = VERR_INIT;
		verr_add(&err, "/", "Applications and Pods may not share the same id");
		http_reply_json(req, 422, verr_body(&err));
		verr_release(&err);
		json_decref(def);
		return;
	}
	if (hmap_len(&m->pods->pods) >= PODS_MAX) {
		http_reply_message(req, 422, "Too many pods: at most %d", PODS_MAX);
		json_decref(def);
		return;
	}
	struct m_pod *mp = xcalloc(1, sizeof(*mp));
	mp->id = xstrdup(id);
	mp->versions = json_object();
	mp->history = json_array();
	new_version(mp, def, true);
	int r = store_change(m, mp, "StartPod");
	if (r < 0) {
		http_reply_message(req, 503, "The store failed: %s", strerror(-r));
		pods_free_pod(m, mp);
		return;
	}
	hmap_put(&m->pods->pods, mp->id, mp);
	log_info("master", "pod '%s' created: version %s, %d instance(s) (deployment '%s')", id,
		 pods_version(mp), pod_instances(mp->def), mp->deploy->id);
	pod_event(m, req, "pod_created_event");
	apps_count_deployment(m, "started");
	apps_schedule_pass(m);
	http_add_header(req, "Location", mp->id);
	http_add_header(req, "Marathon-Deployment-Id", mp->deploy->id);
	http_reply_json(req, 201, json_incref(mp->def));
}

static json_t *parse_body(struct evhttp_request *req, const char *base)
{
	json_t *body = api_body(req);
	if (!body)
		return NULL;
	struct verr err = VERR_INIT;
	json_t *def = NULL;
	if (pod_parse(body, base, &err, &def) < 0)
		http_reply_json(req, 422, verr_body(&err));
	verr_release(&err);
	json_decref(body);
	return def;
}

static void update(struct apps *m, struct evhttp_request *req, const char *id)
{
	bool force;
	if (http_query_bool(req, "force", false, &force) < 0) {
		http_reply_message(req, 400, "'force' must be true or false");
		return;
	}
	json_t *def = parse_body(req, id);
	if (!def)
		return;
	if (strcmp(json_string_value(json_object_get(def, "id")), id)) {
		struct verr err = VERR_INIT;
		verr_add(&err, "/id", "the pod's id must be the one of the URL ('%s')", id);
		http_reply_json(req, 422, verr_body(&err));
		verr_release(&err);
		json_decref(def);
		return;
	}
	struct m_pod *mp = pods_get(m, id);
	if (!mp) {
		create(m, req, def);
		return;
	}
	if (mp->deleting) {
		http_reply_message(req, 409, "Pod '%s' is being deleted", id);
		json_decref(def);
		return;
	}
	if (mp->deploy && !force) {
		reply_locked(req, mp);
		json_decref(def);
		return;
	}
	bool config = pod_config_differs(mp->def, def);
	json_t *old = json_incref(mp->def);
	char old_cv[32];
	snprintf(old_cv, sizeof(old_cv), "%s", mp->config_version);
	json_t *old_versions = json_deep_copy(mp->versions);
	new_version(mp, def, config);
	mp->settled = false;
	int r = store_change(m, mp, config ? "RestartPod" : "ScalePod");
	if (r < 0) {
		json_decref(mp->def);
		mp->def = old;
		json_decref(mp->versions);
		mp->versions = old_versions;
		snprintf(mp->config_version, sizeof(mp->config_version), "%s", old_cv);
		http_reply_message(req, 503, "The store failed: %s", strerror(-r));
		return;
	}
	json_decref(old);
	json_decref(old_versions);
	log_info("master", "pod '%s' updated: version %s (%s, deployment '%s')", id,
		 pods_version(mp), mp->deploy->action, mp->deploy->id);
	pod_event(m, req, "pod_updated_event");
	apps_count_deployment(m, "started");
	apps_schedule_pass(m);
	http_add_header(req, "Marathon-Deployment-Id", mp->deploy->id);
	http_reply_json(req, 200, json_incref(mp->def));
}

static void delete_pod(struct apps *m, struct evhttp_request *req, struct m_pod *mp)
{
	bool force;
	if (http_query_bool(req, "force", false, &force) < 0) {
		http_reply_message(req, 400, "'force' must be true or false");
		return;
	}
	if (mp->deploy && !force && !mp->deleting) {
		reply_locked(req, mp);
		return;
	}
	bool was = mp->deleting;
	mp->deleting = true;
	mp->settled = false;
	int r = store_change(m, mp, "StopPod");
	if (r < 0) {
		mp->deleting = was;
		http_reply_message(req, 503, "The store failed: %s", strerror(-r));
		return;
	}
	log_info("master", "pod '%s' deleted by the API (deployment '%s')", mp->id,
		 mp->deploy->id);
	pod_event(m, req, "pod_deleted_event");
	apps_count_deployment(m, "started");
	apps_schedule_pass(m);
	http_add_header(req, "Marathon-Deployment-Id", mp->deploy->id);
	http_reply_bytes(req, 202, "application/json", "", 0);
}

static struct pod_inst *find_instance(struct m_pod *mp, const char *iid)
{
	for (size_t i = 0; iid && i < mp->ninst; i++)
		if (!strcmp(mp->inst[i]->id, iid))
			return mp->inst[i];
	return NULL;
}

/* DELETE ::instances[/{iid}]: each named instance is killed (and replaced, the pod still
 * wanting as many); the answer shows it as it is now. */
static void kill_instances(struct apps *m, struct evhttp_request *req, struct m_pod *mp,
			   const char *one)
{
	json_t *ids = one ? json_pack("[s]", one) : api_body(req);
	if (!ids)
		return;
	size_t i;
	json_t *x;
	if (!json_is_array(ids) || json_array_size(ids) > 10000) {
		json_decref(ids);
		api_reply_not_object(req);
		return;
	}
	json_array_foreach(ids, i, x) {
		if (!find_instance(mp, json_string_value(x))) {
			http_reply_message(req, 404, "Pod instance '%s' does not exist",
					   json_is_string(x) ? json_string_value(x) : "?");
			json_decref(ids);
			return;
		}
	}
	json_t *out = json_array();
	json_array_foreach(ids, i, x) {
		struct pod_inst *pi = find_instance(mp, json_string_value(x));
		if (!pi)
			continue; /* named twice, and a pending one went with the first */
		log_info("master", "pod '%s': instance '%s' killed by the API", mp->id, pi->id);
		mp->settled = false;
		json_t *st;
		if (pi->phase == POD_PENDING) {
			st = pods_render_instance(m, pi);
			json_object_set_new(st, "status", json_string("TERMINAL"));
			pods_end_instance(m, pi);
		} else {
			pods_kill_instance(m, pi);
			st = pods_render_instance(m, pi);
		}
		json_array_append_new(out, st);
	}
	json_decref(ids);
	apps_schedule_pass(m);
	if (one) {
		http_reply_json(req, 200, json_incref(json_array_get(out, 0)));
		json_decref(out);
	} else {
		http_reply_json(req, 200, out);
	}
}

static json_t *versions_list(const struct m_pod *mp)
{
	json_t *arr = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(mp->versions, k, v)
		json_array_append_new(arr, json_string(k));
	/* newest first, as Marathon lists versions (ISO-8601 sorts as text) */
	size_t n = json_array_size(arr);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(arr, j - 1)),
						   json_string_value(json_array_get(arr, j))) < 0;
		     j--) {
			json_t *a = json_incref(json_array_get(arr, j - 1));
			json_array_set(arr, j - 1, json_array_get(arr, j));
			json_array_set_new(arr, j, a);
		}
	return arr;
}

static void on_pod(struct apps *m, struct evhttp_request *req, const char *id,
		   const char *what, const char *rest)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct m_pod *mp = pods_get(m, id);
	if (!what) {
		if (cmd == EVHTTP_REQ_PUT)
			update(m, req, id);
		else if (!mp)
			not_found(req, id);
		else if (cmd == EVHTTP_REQ_DELETE)
			delete_pod(m, req, mp);
		else
			http_reply_json(req, 200, json_incref(mp->def));
		return;
	}
	if (!mp) {
		not_found(req, id);
		return;
	}
	if (!strcmp(what, "status") && !rest && cmd == EVHTTP_REQ_GET) {
		http_reply_json(req, 200, pods_render_status(m, mp));
	} else if (!strcmp(what, "versions") && cmd == EVHTTP_REQ_GET) {
		if (!rest) {
			http_reply_json(req, 200, versions_list(mp));
		} else {
			json_t *d = json_object_get(mp->versions, rest);
			if (d)
				http_reply_json(req, 200, json_incref(d));
			else
				http_reply_message(req, 404, "Pod '%s' has no version '%s'", id,
						   rest);
		}
	} else if (!strcmp(what, "instances") && cmd == EVHTTP_REQ_DELETE) {
		kill_instances(m, req, mp, rest);
	} else {
		http_reply_message(req, 405, "Method not allowed");
	}
}

bool pods_deployment_delete(struct apps *m, struct evhttp_request *req, const char *id)
{
	struct m_pod *mp = NULL;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->pods->pods, &i, &k, &v);) {
		struct m_pod *x = v;
		if (x->deploy && !strcmp(x->deploy->id, id))
			mp = x;
	}
	if (!mp)
		return false;
	bool force;
	if (http_query_bool(req, "force", false, &force) < 0) {
		http_reply_message(req, 400, "'force' must be true or false");
		return true;
	}
	if (force || mp->deleting) {
		/* Stop tracking it; the pod stays as it is now (a deletion goes on). */
		char key[STORE_MAX_KEY];
		snprintf(key, sizeof(key), "pod-deployments/%s", mp->id);
		int r = store_delete(m->store, key, STORE_ANY_VERSION);
		if (r < 0 && r != -ENOENT) {
			http_reply_message(req, 503, "The store failed: %s", strerror(-r));
			return true;
		}
		events_publish(m, "deployment_failed",
			       json_pack("{s:s, s:s}", "id", mp->deploy->id, "reason",
					 "canceled with force"));
		apps_count_deployment(m, "canceled");
		free(mp->deploy);
		mp->deploy = NULL;
		mp->settled = false;
		apps_schedule_pass(m);
		http_reply_text(req, 202, "");
		return true;
	}
	if (!strcmp(mp->deploy->action, "StartPod")) {
		mp->deleting = true;
		mp->settled = false;
		int r = store_change(m, mp, "StopPod");
		if (r < 0) {
			mp->deleting = false;
			http_reply_message(req, 503, "The store failed: %s", strerror(-r));
			return true;
		}
	} else {
		/* the version before the current one */
		json_t *vs = versions_list(mp);
		const char *prev = json_string_value(json_array_get(vs, 1));
		json_t *pdef = prev ? json_deep_copy(json_object_get(mp->versions, prev)) : NULL;
		json_decref(vs);
		if (!pdef) {
			http_reply_message(req, 409, "Pod '%s' has no previous version", mp->id);
			return true;
		}
		bool config = pod_config_differs(mp->def, pdef);
		json_t *old = json_incref(mp->def), *old_versions = json_deep_copy(mp->versions);
		char old_cv[32];
		snprintf(old_cv, sizeof(old_cv), "%s", mp->config_version);
		new_version(mp, pdef, config);
		mp->settled = false;
		int r = store_change(m, mp, config ? "RestartPod" : "ScalePod");
		if (r < 0) {
			json_decref(mp->def);
			mp->def = old;
			json_decref(mp->versions);
			mp->versions = old_versions;
			snprintf(mp->config_version, sizeof(mp->config_version), "%s", old_cv);
			http_reply_message(req, 503, "The store failed: %s", strerror(-r));
			return true;
		}
		json_decref(old);
		json_decref(old_versions);
	}
	log_info("master", "pod '%s': deployment '%s' rolled back (deployment '%s', %s)", mp->id,
		 id, mp->deploy->id, mp->deploy->action);
	apps_count_deployment(m, "started");
	apps_schedule_pass(m);
	api_reply_deployment(req, 200, pods_version(mp), mp->deploy->id);
	return true;
}

void apps_http_pods(struct apps *m, struct evhttp_request *req, const char *arg,
		    const char *arg2)
{
	(void)arg2;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (!arg) {
		if (cmd == EVHTTP_REQ_HEAD) {
			http_reply_bytes(req, 200, "application/json", "", 0);
		} else if (cmd == EVHTTP_REQ_POST) {
			json_t *def = parse_body(req, NULL);
			const char *id = def ? json_string_value(json_object_get(def, "id")) : NULL;
			if (def && pods_get(m, id)) {
				http_reply_message(req, 409, "A pod with id [%s] already exists.", id);
				json_decref(def);
			} else if (def) {
				create(m, req, def);
			}
		} else {
			json_t *arr = json_array();
			const char *k;
			void *v;
			for (size_t i = 0; hmap_next(&m->pods->pods, &i, &k, &v);)
				if (apps_visible(m, req, ((struct m_pod *)v)->id))
					json_array_append(arr, ((struct m_pod *)v)->def);
			http_reply_json(req, 200, arr);
		}
		return;
	}
	/* {id}[::status|::versions[/{v}]|::instances[/{i}]], or ::status for all */
	const char *sep = strstr(arg, "::");
	char what[16] = "";
	const char *rest = NULL;
	if (sep) {
		const char *w = sep + 2, *slash = strchr(w, '/');
		size_t wn = slash ? (size_t)(slash - w) : strlen(w);
		memcpy(what, w, wn < sizeof(what) ? wn : 0);
		what[wn < sizeof(what) ? wn : 0] = '\0';
		if (strcmp(what, "status") && strcmp(what, "versions") && strcmp(what, "instances")) {
			http_reply_message(req, 404, "Unknown pod resource '%s'", arg);
			return;
		}
		rest = slash && slash[1] ? slash + 1 : NULL;
	}
	if (sep == arg) {
		if (strcmp(what, "status") || rest || cmd != EVHTTP_REQ_GET) {
			http_reply_message(req, 404, "Unknown pod resource '%s'", arg);
			return;
		}
		json_t *arr = json_array();
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(&m->pods->pods, &i, &k, &v);)
			if (apps_visible(m, req, ((struct m_pod *)v)->id))
				json_array_append_new(arr, pods_render_status(m, v));
		http_reply_json(req, 200, arr);
		return;
	}
	char text[APP_MAX_ID_LEN + 1], id[APP_MAX_ID_LEN + 1], msg[256];
	size_t n = sep ? (size_t)(sep - arg) : strlen(arg);
	if (n > APP_MAX_ID_LEN) {
		http_reply_message(req, 404, "Pod '%.*s' does not exist", 200, arg);
		return;
	}
	memcpy(text, arg, n);
	text[n] = '\0';
	if (app_id_canonical(text, "/", id, msg, sizeof(msg)) < 0) {
		http_reply_message(req, 404, "Pod '/%s' does not exist", text);
		return;
	}
	on_pod(m, req, id, sep ? what : NULL, rest);
}
