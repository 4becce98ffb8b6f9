/* Authorization at the route: what a request asks (ACL action and objects), read from its
 * path, method and body before any handler runs, checked against the ACLs (acl.h); and the
 * audit log.
 *
 * A request asking several objects (the roles of a SUBSCRIBE, the tasks of an ACCEPT) needs
 * every one allowed. A refused request is answered 403 here and reaches no handler, so it
 * changes nothing. Marathon's 403 is its own: {"message":"Not Authorized to perform this
 * action!"}; the Mesos APIs get a text naming the action and the object. Bodies that do
 * not parse are left to the handlers (they answer 400). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth-int.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/rm.h"
#include "net/http.h"
#include "net/route.h"

#define MAX_CHECKS 256

struct check {
	enum acl_action act;
	char *object; /* NULL: unknown */
};

struct checks {
	struct check v[MAX_CHECKS];
	size_t n;
	bool too_many;
};

static void add(struct checks *c, enum acl_action act, const char *object)
{
	if (c->n == MAX_CHECKS) {
		c->too_many = true;
		return;
	}
	c->v[c->n].act = act;
	c->v[c->n].object = object ? xstrdup(object) : NULL;
	c->n++;
}

static void checks_release(struct checks *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].object);
	c->n = 0;
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The role a resource is reserved for (the last reservation's, or the legacy "role"). */
static const char *res_role(const json_t *res)
{
	const json_t *rs = json_object_get(res, "reservations");
	size_t n = json_array_size(rs);
	if (n)
		return jstr(json_array_get(rs, n - 1), "role");
	return jstr(res, "role");
}

/* The principal that reserved a resource. */
static const char *res_principal(const json_t *res)
{
	const json_t *rs = json_object_get(res, "reservations");
	size_t n = json_array_size(rs);
	if (n)
		return jstr(json_array_get(rs, n - 1), "principal");
	return jstr(json_object_get(res, "reservation"), "principal");
}

static void each_resource(struct checks *c, enum acl_action act, const json_t *list)
{
	size_t i;
	const json_t *res;
	json_array_foreach(list, i, res) {
		switch (act) {
		case ACL_UNRESERVE_RESOURCES:
			add(c, act, res_principal(res));
			break;
		case ACL_DESTROY_VOLUMES:
			add(c, act, jstr(json_object_get(json_object_get(res, "disk"),
							 "persistence"), "principal"));
			break;
		default:
			add(c, act, res_role(res));
		}
	}
}

static void task_user(struct checks *c, const json_t *task, const char *fw_user)
{
	const char *u = jstr(json_object_get(task, "command"), "user");
	add(c, ACL_RUN_TASKS, u ? u : fw_user);
}

/* The offer operations of an ACCEPT. */
static void accept_ops(struct auth *a, struct checks *c, const json_t *call)
{
	const char *fwid = jstr(json_object_get(call, "framework_id"), "value");
	const json_t *info = auth_master(a) ? rm_framework_info(auth_master(a), fwid) : NULL;
	const char *fw_user = jstr(info, "user");
	size_t i, k;
	const json_t *op, *t;
	json_array_foreach(json_object_get(json_object_get(call, "accept"), "operations"), i, op) {
		const char *type = jstr(op, "type");
		if (!type)
			continue;
		if (!strcmp(type, "LAUNCH")) {
			json_array_foreach(json_object_get(json_object_get(op, "launch"),
							   "task_infos"), k, t)
				task_user(c, t, fw_user);
		} else if (!strcmp(type, "LAUNCH_GROUP")) {
			const json_t *g = json_object_get(json_object_get(op, "launch_group"),
							  "task_group");
			json_array_foreach(json_object_get(g, "tasks"), k, t)
				task_user(c, t, fw_user);
		} else if (!strcmp(type, "RESERVE")) {
			each_resource(c, ACL_RESERVE_RESOURCES,
				      json_object_get(json_object_get(op, "reserve"), "resources"));
		} else if (!strcmp(type, "UNRESERVE")) {
			each_resource(c, ACL_UNRESERVE_RESOURCES,
				      json_object_get(json_object_get(op, "unreserve"), "resources"));
		} else if (!strcmp(type, "CREATE")) {
			each_resource(c, ACL_CREATE_VOLUMES,
				      json_object_get(json_object_get(op, "create"), "volumes"));
		} else if (!strcmp(type, "DESTROY")) {
			each_resource(c, ACL_DESTROY_VOLUMES,
				      json_object_get(json_object_get(op, "destroy"), "volumes"));
		} else if (!strcmp(type, "GROW_VOLUME") || !strcmp(type, "SHRINK_VOLUME")) {
			const json_t *b = json_object_get(op, !strcmp(type, "GROW_VOLUME")
								      ? "grow_volume"
								      : "shrink_volume");
			add(c, ACL_RESIZE_VOLUMES, res_role(json_object_get(b, "volume")));
		}
	}
}

static void scheduler_call(struct auth *a, struct checks *c, const json_t *call)
{
	const char *type = jstr(call, "type");
	if (!type)
		return;
	if (!strcmp(type, "SUBSCRIBE")) {
		const json_t *info = json_object_get(json_object_get(call, "subscribe"),
						     "framework_info");
		const json_t *roles = json_object_get(info, "roles");
		size_t i;
		const json_t *r;
		json_array_foreach(roles, i, r)
			add(c, ACL_REGISTER_FRAMEWORKS, json_string_value(r));
		if (!json_array_size(roles))
			add(c, ACL_REGISTER_FRAMEWORKS, jstr(info, "role") ? jstr(info, "role") : "*");
	} else if (!strcmp(type, "ACCEPT")) {
		accept_ops(a, c, call);
	}
}

static void operator_call(struct checks *c, const json_t *call)
{
	const char *type = jstr(call, "type");
	if (!type)
		return;
	size_t i;
	const json_t *e;
	if (!strcmp(type, "RESERVE_RESOURCES"))
		each_resource(c, ACL_RESERVE_RESOURCES,
			      json_object_get(json_object_get(call, "reserve_resources"), "resources"));
	else if (!strcmp(type, "UNRESERVE_RESOURCES"))
		each_resource(c, ACL_UNRESERVE_RESOURCES,
			      json_object_get(json_object_get(call, "unreserve_resources"),
					      "resources"));
	else if (!strcmp(type, "CREATE_VOLUMES"))
		each_resource(c, ACL_CREATE_VOLUMES,
			      json_object_get(json_object_get(call, "create_volumes"), "volumes"));
	else if (!strcmp(type, "DESTROY_VOLUMES"))
		each_resource(c, ACL_DESTROY_VOLUMES,
			      json_object_get(json_object_get(call, "destroy_volumes"), "volumes"));
	else if (!strcmp(type, "GROW_VOLUME") || !strcmp(type, "SHRINK_VOLUME"))
		add(c, ACL_RESIZE_VOLUMES,
		    res_role(json_object_get(json_object_get(call, !strcmp(type, "GROW_VOLUME")
									  ? "grow_volume"
									  : "shrink_volume"),
					     "volume")));
	else if (!strcmp(type, "UPDATE_WEIGHTS"))
		json_array_foreach(json_object_get(json_object_get(call, "update_weights"),
						   "weight_infos"), i, e)
			add(c, ACL_UPDATE_WEIGHTS, jstr(e, "role"));
	else if (!strcmp(type, "UPDATE_QUOTA"))
		json_array_foreach(json_object_get(json_object_get(call, "update_quota"),
						   "quota_configs"), i, e)
			add(c, ACL_UPDATE_QUOTAS, jstr(e, "role"));
}

/* "/x/y" for an app id given as "x/y" or "/x/y/" (Marathon's normal form). */
static char *app_path(const char *id)
{
	char *s = xasprintf("%s%s", id[0] == '/' ? "" : "/", id);
	size_t n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static void app_check(struct checks *c, enum acl_action act, const char *id)
{
	if (!id) {
		add(c, act, NULL);
		return;
	}
	char *p = app_path(id);
	add(c, act, p);
	free(p);
}

/* The app of a Marathon task id: "prod_web.instance-…" or "prod_web.<uuid>" is /prod/web. */
static void task_app_check(struct checks *c, const char *task_id)
{
	if (!task_id) {
		add(c, ACL_UPDATE_APPS, NULL);
		return;
	}
	const char *dot = strchr(task_id, '.');
	char *app = xstrndup(task_id, dot ? (size_t)(dot - task_id) : strlen(task_id));
	for (char *q = app; *q; q++)
		if (*q == '_')
			*q = '/';
	app_check(c, ACL_UPDATE_APPS, app);
	free(app);
}

/* The group a /v2/groups write acts on: the body's id (relative to the URL's) or the URL's;
 * NULL (matched by ANY only) for an id with "." or ".." segments. Free it. */
static char *group_object(const char *url_id, const char *body_id)
{
	char *g;
	if (!body_id || !*body_id)
		g = xstrdup(url_id);
	else if (body_id[0] == '/')
		g = xstrdup(body_id);
	else
		g = xasprintf("%s/%s", strcmp(url_id, "/") ? url_id : "", body_id);
	if (strstr(g, "/.") || g[0] == '.') {
		free(g);
		return NULL;
	}
	return g;
}

/* /v2/groups writes (src/apps/api-groups.c) act on every app under the group: the check is on
 * the group's path, which an app_ids prefix covers only when it covers all of them. PUT
 * with apps or groups may create apps (and remove those it leaves out). */
static bool groups_write(struct checks *c, enum evhttp_cmd_type m, const char *path,
			 const json_t *body)
{
	struct route_args ra;
	bool root = route_match("/v2/groups", path, &ra);
	if (!root && !route_match("/v2/groups/{id*}", path, &ra))
		return false;
	if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD)
		return true; /* reads: the apps are filtered by view_apps */
	char *g = group_object(root ? "/" : ra.v[0], jstr(body, "id"));
	if (m == EVHTTP_REQ_DELETE) {
		app_check(c, ACL_DELETE_APPS, g);
	} else {
		bool lists = json_object_get(body, "apps") || json_object_get(body, "groups");
		if (m != EVHTTP_REQ_POST)
			app_check(c, ACL_UPDATE_APPS, g);
		if (m == EVHTTP_REQ_POST || lists)
			app_check(c, ACL_CREATE_APPS, g);
	}
	free(g);
	return true;
}

/* /v2/pods (src/apps/pods-api.c): a pod is a run spec as an app is, under the apps' ACLs
 * (Marathon's CreateRunSpec, UpdateRunSpec, DeleteRunSpec, ViewRunSpec on its path). The
 * lists (GET /v2/pods, /v2/pods/::status) and pod deployments are filtered by view_apps
 * where they are rendered (pods-api.c, api-marathon.c). */
static bool pods_check(struct checks *c, enum evhttp_cmd_type m, const char *path,
		       const json_t *body)
{
	struct route_args ra;
	bool get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
	if (route_match("/v2/pods", path, &ra)) {
		if (m == EVHTTP_REQ_POST)
			app_check(c, ACL_CREATE_APPS, jstr(body, "id"));
		return true;
	}
	if (!route_match("/v2/pods/{id*}", path, &ra))
		return false;
	const char *sep = strstr(ra.v[0], "::");
	if (sep == ra.v[0])
		return true; /* ::status of every pod: a read */
	char *id = sep ? xstrndup(ra.v[0], (size_t)(sep - ra.v[0])) : xstrdup(ra.v[0]);
	if (get) {
		app_check(c, ACL_VIEW_APPS, id);
	} else if (m == EVHTTP_REQ_DELETE) {
		/* an instance killed is replaced: an update; the pod deleted: a delete */
		app_check(c, sep ? ACL_UPDATE_APPS : ACL_DELETE_APPS, id);
	} else {
		app_check(c, ACL_UPDATE_APPS, id);
		app_check(c, ACL_CREATE_APPS, id); /* PUT creates a pod that does not exist */
	}
	free(id);
	return true;
}

static void marathon(struct checks *c, enum evhttp_cmd_type m, const char *path,
		     const json_t *body)
{
	struct route_args ra;
	bool get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
	if (route_match("/v2/apps", path, &ra)) {
		if (m == EVHTTP_REQ_POST)
			app_check(c, ACL_CREATE_APPS, jstr(body, "id"));
		/* PUT/PATCH with a list (api-apps-multi.c): every item's app; PUT may create. */
		size_t i;
		const json_t *x;
		if (m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_PATCH)
			json_array_foreach(body, i, x) {
				app_check(c, ACL_UPDATE_APPS, jstr(x, "id"));
				if (m == EVHTTP_REQ_PUT)
					app_check(c, ACL_CREATE_APPS, jstr(x, "id"));
			}
		return;
	}
	if (groups_write(c, m, path, body) || pods_check(c, m, path, body))
		return;
	if (route_match("/v2/tasks/delete", path, &ra) && m == EVHTTP_REQ_POST) {
		size_t i;
		const json_t *t;
		json_array_foreach(json_object_get(body, "ids"), i, t)
			task_app_check(c, json_string_value(t));
		return;
	}
	if (route_match("/v2/queue/{id*}/delay", path, &ra)) {
		app_check(c, ACL_UPDATE_APPS, ra.v[0]);
		return;
	}
	static const char *const sub[] = { "/v2/apps/{id*}/restart", "/v2/apps/{id*}/tasks",
					   "/v2/apps/{id*}/tasks/{taskId}",
					   "/v2/apps/{id*}/versions",
					   "/v2/apps/{id*}/versions/{version}" };
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++)
		if (route_match(sub[i], path, &ra)) {
			app_check(c, get ? ACL_VIEW_APPS : ACL_UPDATE_APPS, ra.v[0]);
			return;
		}
	if (route_match("/v2/apps/{id*}", path, &ra) && strcmp(ra.v[0], "*")) {
		enum acl_action act = get			  ? ACL_VIEW_APPS
				      : m == EVHTTP_REQ_DELETE ? ACL_DELETE_APPS
							       : ACL_UPDATE_APPS;
		app_check(c, act, ra.v[0]);
	}
}

/* berth's per-instance control (src/apps/api-instances.c): viewing or updating the app. */
static void berth_apps(struct checks *c, enum evhttp_cmd_type m, const char *path)
{
	struct route_args ra;
	bool get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
	if (route_match("/api/berth/apps/{id*}/instances", path, &ra) ||
	    route_match("/api/berth/apps/{id*}/instances/{op}", path, &ra))
		app_check(c, get ? ACL_VIEW_APPS : ACL_UPDATE_APPS, ra.v[0]);
}

static bool is_mutation(enum evhttp_cmd_type m)
{
	return m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD && m != EVHTTP_REQ_OPTIONS;
}

static void audit(struct auth *a, const char *principal, const char *action, const char *object,
		  bool allowed)
{
	int fd = auth_audit_fd(a);
	if (fd < 0)
		return;
	char ts[64];
	time_iso8601(time_real_usec(), ts);
	json_t *j = json_pack("{s:s, s:s?, s:s, s:s?, s:s}", "time", ts, "principal", principal,
			      "action", action, "object", object, "result",
			      allowed ? "allowed" : "denied");
	char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (line) {
		size_t n = strlen(line);
		line[n] = '\n'; /* json_dumps leaves room for its NUL only: rewrite it */
		ssize_t w = write(fd, line, n + 1);
		(void)w;
		free(line);
	}
}

bool auth_http_authorize(struct auth *a, struct evhttp_request *req, const char *path,
			 const char *principal)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	bool mesos_sched = !strcmp(path, "/api/v1/scheduler") ||
			   !strcmp(path, "/master/api/v1/scheduler");
	bool mesos_op = !strcmp(path, "/api/v1") || !strcmp(path, "/master/api/v1");
	bool mar = str_has_prefix(path, "/v2/");
	bool agent = str_has_prefix(path, "/api/berth/agent/");
	if (!auth_acls(a) && auth_audit_fd(a) < 0)
		return true;
	json_t *body = NULL;
	if (m == EVHTTP_REQ_POST || m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_PATCH) {
		size_t len;
		char *b = http_request_body(req, &len);
		body = json_loadb(b, len, 0, NULL);
		free(b);
	}
	struct checks c = { .n = 0 };
	if (mesos_sched)
		scheduler_call(a, &c, body);
	else if (mesos_op)
		operator_call(&c, body);
	else if (mar)
		marathon(&c, m, path, body);
	else if (agent)
		add(&c, ACL_REGISTER_AGENTS, NULL); /* Mesos's register_agents: agents ANY */
	else if (str_has_prefix(path, "/api/berth/apps/"))
		berth_apps(&c, m, path);
	json_decref(body);
	bool ok = !c.too_many;
	size_t bad = 0;
	for (size_t i = 0; ok && i < c.n; i++)
		if (!acls_allowed(auth_acls(a), c.v[i].act, principal, c.v[i].object)) {
			ok = false;
			bad = i;
		}
	/* An agent's heartbeats and status updates are its link, not changes anyone made:
	 * only their refusals are audited. */
	if (!ok || (is_mutation(m) && !agent)) {
		if (c.n == 0) {
			char what[300];
			snprintf(what, sizeof(what), "%s %.256s", http_method_name(m), path);
			audit(a, principal, "http", what, ok);
		} else if (!ok && !c.too_many) {
			audit(a, principal, acl_action_name(c.v[bad].act), c.v[bad].object, false);
		} else {
			for (size_t i = 0; i < c.n; i++)
				audit(a, principal, acl_action_name(c.v[i].act), c.v[i].object, ok);
		}
	}
	if (!ok) {
		if (mar) {
			http_reply_message(req, 403, "Not Authorized to perform this action!");
		} else {
			char msg[512];
			if (c.too_many)
				snprintf(msg, sizeof(msg), "Not authorized: more than %d objects in "
							   "one request", MAX_CHECKS);
			else
				snprintf(msg, sizeof(msg),
					 "Not authorized to %s '%.200s' (%s) as principal '%.100s'",
					 acl_action_name(c.v[bad].act),
					 c.v[bad].object ? c.v[bad].object : "ANY",
					 acl_object_name(c.v[bad].act), principal ? principal : "");
			http_reply_text(req, 403, msg);
		}
	}
	checks_release(&c);
	return ok;
}

bool auth_may_view_app(void *a, const char *principal, const char *app_id)
{
	return !a || acls_allowed(auth_acls(a), ACL_VIEW_APPS, principal, app_id);
}

bool auth_may_view_user(void *a, const char *action, const char *principal, const char *user)
{
	enum acl_action act = !strcmp(action, "view_tasks")	    ? ACL_VIEW_TASKS
			      : !strcmp(action, "access_sandboxes") ? ACL_ACCESS_SANDBOXES
								    : ACL_VIEW_FRAMEWORKS;
	return !a || acls_allowed(auth_acls(a), act, principal, user);
}
