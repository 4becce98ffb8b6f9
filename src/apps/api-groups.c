/* Marathon's /v2/groups (GroupsResource): the group tree read, created, updated, scaled and
 * deleted (reference/compat.md §3.1, docs/api.md "Groups").
 *
 * The tree is derived from the apps' ids (/prod/db/mysql lives in group /prod/db, which lives
 * in /prod), so a group exists while it has an app under it, and the root always; the only
 * group records are the dependencies of the groups that have some (api-groups-deps.c). A
 * group's version is the newest version of an app under it, its versions the union of theirs.
 *
 * Invariants: a change (POST, PUT, DELETE) is one deployment of one id and one version,
 * committed through the multi-app mechanism (api_multi_apply); nothing changes unless the
 * whole update is valid (422 naming the field, "/apps(0)/cpus", "/groups(1)/apps(0)/id");
 * the order of a plan's steps follows the apps' dependencies, a cycle is refused. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "apps/api-int.h"
#include "apps/groups.h"
#include "apps/api-groups-int.h"
#include "apps/pods-int.h"

#define GROUP_APPS_MAX 1000 /* apps changed by one request */

static int by_id(const void *a, const void *b)
{
	const struct m_app *x = *(struct m_app *const *)a, *y = *(struct m_app *const *)b;
	return strcmp(x->def->id, y->def->id);
}

/* The live apps under gid the request may see, sorted by id (free the array). */
static struct m_app **apps_under(struct apps *m, struct evhttp_request *req, const char *gid,
				 size_t *n)
{
	struct m_app **out = NULL;
	size_t k = 0, cap = 0;
	const char *key;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &key, &v);) {
		struct m_app *ma = v;
		if (ma->deleting || !group_under(ma->def->id, gid))
			continue;
		if (req && !apps_visible(m, req, ma->def->id))
			continue;
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			out = xrealloc(out, cap * sizeof(*out));
		}
		out[k++] = ma;
	}
	if (k)
		qsort(out, k, sizeof(*out), by_id);
	*n = k;
	return out;
}

/* ---- GET ---- */

struct view {
	bool apps, groups, pods;
	unsigned what; /* render_app's */
};

static bool has(const json_t *a, const char *s)
{
	size_t i;
	const json_t *e;
	json_array_foreach(a, i, e) if (!strcmp(json_string_value(e), s)) return true;
	return false;
}

static void view_of(struct evhttp_request *req, struct view *v)
{
	json_t *e = http_query_all(req, "embed");
	*v = (struct view){ 0 };
	if (!json_array_size(e)) {
		/* Marathon's default: group.groups, group.apps, group.pods. */
		v->apps = v->groups = v->pods = true;
	} else {
		v->groups = has(e, "group.groups");
		v->pods = has(e, "group.pods");
		v->apps = has(e, "group.apps");
		if (has(e, "group.apps.tasks"))
			v->what |= RENDER_TASKS;
		if (has(e, "group.apps.counts"))
			v->what |= RENDER_COUNTS;
		if (has(e, "group.apps.deployments"))
			v->what |= RENDER_DEPLOYMENTS;
		if (has(e, "group.apps.lastTaskFailure") || has(e, "group.apps.failures"))
			v->what |= RENDER_FAILURE;
		if (has(e, "berth"))
			v->what |= RENDER_EXTRAS;
		if (v->what)
			v->apps = true;
	}
	json_decref(e);
}

/* The group gid of the apps all[0..n) (those under gid, sorted). */
static json_t *group_json(struct apps *m, const char *gid, struct m_app **all, size_t n,
			  const struct view *v)
{
	json_t *apps = json_array(), *groups = json_array();
	const char *ver = NULL;
	for (size_t i = 0; i < n;) {
		struct m_app *ma = all[i];
		if (!ver || strcmp(ma->def->version, ver) > 0)
			ver = ma->def->version;
		char parent[APP_MAX_ID_LEN + 1];
		group_parent(ma->def->id, parent, sizeof(parent));
		if (!strcmp(parent, gid)) {
			if (v->apps)
				json_array_append_new(apps, render_app(m, ma, v->what));
			i++;
			continue;
		}
		/* A nested group: the run of apps under the same child (sorted by id). */
		char child[APP_MAX_ID_LEN + 1];
		group_child(gid, ma->def->id, child, sizeof(child));
		size_t j = i;
		while (j < n && group_under(all[j]->def->id, child)) {
			if (strcmp(all[j]->def->version, ver) > 0)
				ver = all[j]->def->version;
			j++;
		}
		if (j == i) { /* an app whose id is a prefix: cannot be, but never loop */
			i++;
			continue;
		}
		if (v->groups)
			json_array_append_new(groups, group_json(m, child, all + i, j - i, v));
		i = j;
	}
	char now[32];
	if (!ver) {
		time_iso8601(time_real_usec(), now);
		ver = now;
	}
	const json_t *deps = json_object_get(json_object_get(m->groups, gid), "dependencies");
	json_t *g = json_pack("{s:s, s:O, s:s, s:b}", "id", gid, "dependencies",
			      deps ? deps : json_array(), "version", ver, "enforceRole", false);
	if (!deps)
		json_decref(json_object_get(g, "dependencies")); /* the fresh array: O took one */
	if (v->apps)
		json_object_set_new(g, "apps", apps);
	else
		json_decref(apps);
	if (v->groups)
		json_object_set_new(g, "groups", groups);
	else
		json_decref(groups);
	if (v->pods)
		json_object_set_new(g, "pods", pods_in_group(m, gid));
	return g;
}

static void group_get(struct apps *m, struct evhttp_request *req, const char *gid)
{
	struct view v;
	view_of(req, &v);
	size_t n;
	struct m_app **all = apps_under(m, req, gid, &n);
	json_t *pods = n ? NULL : pods_in_group(m, gid);
	bool any_pod = json_array_size(pods) > 0;
	json_decref(pods);
	if (!n && !any_pod && strcmp(gid, "/")) {
		free(all);
		http_reply_message(req, 404, "Group '%s' does not exist", gid);
		return;
	}
	http_reply_json(req, 200, group_json(m, gid, all, n, &v));
	free(all);
}

static int desc(const void *a, const void *b)
{
	return strcmp(*(const char *const *)b, *(const char *const *)a);
}

static void group_versions(struct apps *m, struct evhttp_request *req, const char *gid)
{
	size_t n;
	struct m_app **all = apps_under(m, req, gid, &n);
	if (!n && strcmp(gid, "/")) {
		free(all);
		http_reply_message(req, 404, "Group '%s' does not exist", gid);
		return;
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += json_array_size(all[i]->versions);
	const char **vs = xcalloc(total ? total : 1, sizeof(*vs));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j;
		const json_t *x;
		json_array_foreach(all[i]->versions, j, x) vs[k++] = json_string_value(x);
	}
	qsort(vs, k, sizeof(*vs), desc);
	json_t *out = json_array();
	for (size_t i = 0; i < k; i++)
		if (!i || strcmp(vs[i], vs[i - 1]))
			json_array_append_new(out, json_string(vs[i]));
	free(vs);
	free(all);
	http_reply_json(req, 200, out);
}

/* ---- changes ---- */

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		app_free(p->it[i].def);
	free(p->it);
	free(p->stops);
	json_decref(p->kept);
	json_decref(p->gdeps);
	verr_release(&p->err);
}

static void add_item(struct plan *p, struct m_app *ma, struct app *def)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->it = xrealloc(p->it, p->cap * sizeof(*p->it));
	}
	p->it[p->n++] = (struct api_multi_item){ .ma = ma, .def = def };
	json_object_set_new(p->kept, def->id, json_true());
	if (ma && ma->deploy && !p->force && !p->locked)
		p->locked = ma;
}

static void add_stop(struct plan *p, struct m_app *ma)
{
	for (size_t i = 0; i < p->ns; i++)
		if (p->stops[i] == ma)
			return;
	if (p->ns == p->cs) {
		p->cs = p->cs ? p->cs * 2 : 8;
		p->stops = xrealloc(p->stops, p->cs * sizeof(*p->stops));
	}
	p->stops[p->ns++] = ma;
	if (ma->deploy && !p->force && !p->locked)
		p->locked = ma;
}

/* Copies e's errors into p, each path prefixed. */
static void prefix_errors(struct verr *all, const struct verr *e, const char *prefix)
{
	size_t k, n;
	const json_t *d, *msg;
	json_array_foreach(e->details, k, d) {
		const char *path = json_string_value(json_object_get(d, "path"));
		char pp[768];
		snprintf(pp, sizeof(pp), "%s%s", prefix, path && strcmp(path, "/") ? path : "");
		json_array_foreach(json_object_get(d, "errors"), n, msg)
			verr_add(all, pp, "%s", json_string_value(msg));
	}
}

static void one_app(struct apps *m, struct plan *p, const json_t *x, const char *gid,
		    const char *path)
{
	char id[APP_MAX_ID_LEN + 1], err[256], pp[704];
	snprintf(pp, sizeof(pp), "%.640s/id", path);
	if (!json_is_object(x)) {
		verr_add(&p->err, path, "error.expected.jsobject");
		return;
	}
	const char *text = json_string_value(json_object_get(x, "id"));
	if (!text) {
		verr_add(&p->err, pp, "error.path.missing");
		return;
	}
	if (app_id_canonical(text, gid, id, err, sizeof(err)) < 0) {
		verr_add(&p->err, pp, "%s", err);
		return;
	}
	if (!group_under(id, gid)) {
		verr_add(&p->err, pp, "app '%s' is not inside group '%s'", id, gid);
		return;
	}
	if (json_object_get(p->kept, id)) {
		verr_add(&p->err, pp, "app '%s' is in the update more than once", id);
		return;
	}
	if (p->n >= GROUP_APPS_MAX) {
		verr_add(&p->err, pp, "at most %d apps in one request", GROUP_APPS_MAX);
		return;
	}
	size_t nested;
	free(apps_under(m, NULL, id, &nested));
	if (nested) {
		verr_add(&p->err, pp, "'%s' is a group: an app cannot have its path", id);
		return;
	}
	struct m_app *ma = apps_get(m, id);
	if (ma && ma->deleting) {
		if (!p->locked)
			p->locked = ma;
		ma = NULL;
	}
	/* A group update carries whole app definitions (Marathon replaces them). */
	json_t *j = json_deep_copy(x);
	json_object_set_new(j, "id", json_string(id));
	char base[APP_MAX_ID_LEN + 1];
	group_parent(id, base, sizeof(base));
	struct verr e = VERR_INIT;
	struct app *def = NULL;
	int r = app_parse(j, base, &e, &def);
	json_decref(j);
	if (r >= 0)
		api_check_volumes(m, def, ma ? ma->def : NULL, &e);
	if (verr_any(&e)) {
		prefix_errors(&p->err, &e, path);
		verr_release(&e);
		app_free(def);
		return;
	}
	verr_release(&e);
	add_item(p, ma, def);
}

/* Collects the update g of group gid (path: where g is in the body, "" at the top). */
static void collect(struct apps *m, struct plan *p, const json_t *g, const char *gid,
		    const char *path, int depth)
{
	char pp[640];
	if (depth > 32) {
		verr_add(&p->err, path[0] ? path : "/", "groups nested too deep");
		return;
	}
	const json_t *deps = json_object_get(g, "dependencies");
	if (deps && !json_is_null(deps)) {
		/* Relative ids resolve against the group's parent, as an app's against its
		 * group. */
		char base[APP_MAX_ID_LEN + 1];
		group_parent(gid, base, sizeof(base));
		json_t *list = json_array();
		size_t k;
		const json_t *d;
		if (!json_is_array(deps) || json_array_size(deps) > 100) {
			snprintf(pp, sizeof(pp), "%s/dependencies", path);
			verr_add(&p->err, pp, json_is_array(deps) ? "at most 100 dependencies"
								  : "error.expected.jsarray");
		} else {
			json_array_foreach(deps, k, d) {
				char did[APP_MAX_ID_LEN + 1], err[256];
				snprintf(pp, sizeof(pp), "%s/dependencies(%zu)", path, k);
				if (!json_is_string(d) ||
				    app_id_canonical(json_string_value(d), base, did, err,
						     sizeof(err)) < 0)
					verr_add(&p->err, pp, "%s",
						 json_is_string(d) ? err : "error.expected.jsstring");
				else
					json_array_append_new(list, json_string(did));
			}
		}
		json_object_set_new(p->gdeps, gid, list);
	}
	const json_t *pods = json_object_get(g, "pods");
	if (pods && !json_is_null(pods) && (!json_is_array(pods) || json_array_size(pods))) {
		snprintf(pp, sizeof(pp), "%s/pods", path);
		verr_add(&p->err, pp, "pods are not supported by berth");
	}
	const json_t *apps = json_object_get(g, "apps");
	const json_t *groups = json_object_get(g, "groups");
	size_t i;
	const json_t *x;
	if (apps && !json_is_null(apps)) {
		if (!json_is_array(apps)) {
			snprintf(pp, sizeof(pp), "%s/apps", path);
			verr_add(&p->err, pp, "error.expected.jsarray");
		} else {
			json_array_foreach(apps, i, x) {
				snprintf(pp, sizeof(pp), "%s/apps(%zu)", path, i);
				one_app(m, p, x, gid, pp);
			}
		}
	}
	json_t *subs = json_object(); /* the child groups named */
	if (groups && !json_is_null(groups)) {
		if (!json_is_array(groups)) {
			snprintf(pp, sizeof(pp), "%s/groups", path);
			verr_add(&p->err, pp, "error.expected.jsarray");
		} else {
			json_array_foreach(groups, i, x) {
				char sid[APP_MAX_ID_LEN + 1], err[256];
				snprintf(pp, sizeof(pp), "%s/groups(%zu)", path, i);
				const char *text = json_string_value(json_object_get(x, "id"));
				if (!json_is_object(x)) {
					verr_add(&p->err, pp, "error.expected.jsobject");
					continue;
				}
				char ip[700];
				snprintf(ip, sizeof(ip), "%s/id", pp);
				if (!text) {
					verr_add(&p->err, ip, "error.path.missing");
					continue;
				}
				if (app_id_canonical(text, gid, sid, err, sizeof(err)) < 0) {
					verr_add(&p->err, ip, "%s", err);
					continue;
				}
				if (!group_under(sid, gid)) {
					verr_add(&p->err, ip, "group '%s' is not inside group '%s'",
						 sid, gid);
					continue;
				}
				char child[APP_MAX_ID_LEN + 1];
				group_child(gid, sid, child, sizeof(child));
				json_object_set_new(subs, child, json_true());
				collect(m, p, x, sid, pp, depth + 1);
			}
		}
	}
	/* What the update leaves out of a list it gives goes (Marathon replaces the group). */
	bool replace_apps = apps && json_is_array(apps);
	bool replace_groups = groups && json_is_array(groups);
	if (replace_apps || replace_groups) {
		size_t n;
		struct m_app **all = apps_under(m, NULL, gid, &n);
		for (size_t k = 0; k < n; k++) {
			const char *id = all[k]->def->id;
			if (json_object_get(p->kept, id))
				continue;
			char parent[APP_MAX_ID_LEN + 1], child[APP_MAX_ID_LEN + 1];
			group_parent(id, parent, sizeof(parent));
			if (!strcmp(parent, gid)) {
				if (replace_apps)
					add_stop(p, all[k]);
				continue;
			}
			group_child(gid, id, child, sizeof(child));
			if (replace_groups && !json_object_get(subs, child))
				add_stop(p, all[k]);
		}
		free(all);
	}
	json_decref(subs);
}

/* scaleBy: every app under gid at ceil(instances × factor). */
static void scale_by(struct apps *m, struct plan *p, const char *gid, double f)
{
	size_t n;
	struct m_app **all = apps_under(m, NULL, gid, &n);
	for (size_t i = 0; i < n; i++) {
		struct m_app *ma = all[i];
		double want = ceil((double)ma->def->instances * f);
		json_t *j = json_deep_copy(ma->def->json);
		json_object_set_new(j, "instances",
				    json_integer(want > APP_MAX_INSTANCES ? APP_MAX_INSTANCES + 1
									  : (json_int_t)want));
		struct verr e = VERR_INIT;
		struct app *def = NULL;
		char base[APP_MAX_ID_LEN + 1], pp[APP_MAX_ID_LEN + 16];
		group_parent(ma->def->id, base, sizeof(base));
		if (app_parse(j, base, &e, &def) < 0) {
			snprintf(pp, sizeof(pp), "/scaleBy");
			verr_add(&p->err, pp, "app '%s' cannot be scaled by %g", ma->def->id, f);
			app_free(def);
		} else {
			add_item(p, ma, def);
		}
		verr_release(&e);
		json_decref(j);
	}
	free(all);
}

/* POST (create) or PUT (update) of group gid (from the URL, "/" for none). */
static void group_change(struct apps *m, struct evhttp_request *req, const char *url_gid,
			 bool create)
{
	bool force, dry;
	if (http_query_bool(req, "force", false, &force) < 0 ||
	    http_query_bool(req, "dryRun", false, &dry) < 0) {
		http_reply_message(req, 400, "'force' and 'dryRun' must be true or false");
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
	char gid[APP_MAX_ID_LEN + 1], err[256];
	const char *text = json_string_value(json_object_get(body, "id"));
	if (text && app_id_canonical(text, url_gid, gid, err, sizeof(err)) < 0) {
		struct verr e = VERR_INIT;
		verr_add(&e, "/id", "%s", err);
		json_decref(body);
		http_reply_json(req, 422, verr_body(&e));
		verr_release(&e);
		return;
	}
	if (!text)
		snprintf(gid, sizeof(gid), "%s", url_gid);
	size_t have;
	struct m_app **all = apps_under(m, NULL, gid, &have);
	free(all);
	if (create && (have || !strcmp(gid, "/"))) {
		json_decref(body);
		http_reply_message(req, 409,
				   "Group %s is already created. Use PUT to change this group.",
				   gid);
		return;
	}
	struct m_app *same = apps_get(m, gid);
	if (same && !same->deleting) {
		json_decref(body);
		http_reply_message(req, 409, "An app with the path %s already exists.", gid);
		return;
	}
	struct plan p = { .kept = json_object(), .gdeps = json_object(), .err = VERR_INIT,
			  .force = force };
	const json_t *scale = json_object_get(body, "scaleBy");
	if (json_object_get(body, "version") && !json_is_null(json_object_get(body, "version"))) {
		verr_add(&p.err, "/version",
			 "reverting a group to a version is not supported by berth");
	} else if (scale && !json_is_null(scale)) {
		double f = json_number_value(scale);
		if (!json_is_number(scale) || !(f > 0) || f > 1e6)
			verr_add(&p.err, "/scaleBy", "must be a number greater than 0");
		else if (!have)
			verr_add(&p.err, "/scaleBy", "group '%s' has no apps to scale", gid);
		else
			scale_by(m, &p, gid, f);
	} else {
		collect(m, &p, body, gid, "", 0);
		if (!verr_any(&p.err))
			groups_check_dependencies(m, &p);
	}
	json_decref(body);
	if (create && !p.n && !verr_any(&p.err))
		verr_add(&p.err, "/apps", "berth keeps no empty groups: a group exists while it "
					  "has apps, give it at least one");
	if (verr_any(&p.err)) {
		http_reply_json(req, 422, verr_body(&p.err));
		plan_free(&p);
		return;
	}
	if (dry && !create) {
		api_multi_versions(m, p.it, p.n, time_real_usec());
		http_reply_json(req, 200, json_pack("{s:o}", "steps", groups_plan_steps(m, &p)));
		plan_free(&p);
		return;
	}
	if (p.locked) {
		if (p.locked->deploy && !p.locked->deleting)
			api_reply_locked(req, p.locked);
		else
			http_reply_message(req, 409, "App '%s' is still being deleted",
					   p.locked->def->id);
		plan_free(&p);
		return;
	}
	int r = groups_store_deps(m, p.gdeps);
	if (r < 0) {
		http_reply_message(req, 503, "Cannot persist the change: %s (%s)", strerror(-r),
				   store_errmsg(m->store));
		plan_free(&p);
		return;
	}
	if (create)
		http_add_header(req, "Location", gid);
	api_multi_apply(m, req, p.it, p.n, p.stops, p.ns, create ? 201 : 200);
	p.n = 0; /* the defs were taken */
	plan_free(&p);
}

static void group_delete(struct apps *m, struct evhttp_request *req, const char *gid)
{
	bool force;
	if (http_query_bool(req, "force", false, &force) < 0) {
		http_reply_message(req, 400, "'force' must be true or false");
		return;
	}
	size_t n;
	struct m_app **all = apps_under(m, NULL, gid, &n);
	if (!n && strcmp(gid, "/")) {
		free(all);
		http_reply_message(req, 404, "Group '%s' does not exist", gid);
		return;
	}
	if (!force)
		for (size_t i = 0; i < n; i++)
			if (all[i]->deploy) {
				api_reply_locked(req, all[i]);
				free(all);
				return;
			}
	groups_drop_deps(m, gid);
	api_multi_apply(m, req, NULL, 0, all, n, 200);
	free(all);
}

void api_groups(struct apps *m, struct evhttp_request *req, const char *text, bool versions)
{
	char gid[APP_MAX_ID_LEN + 1] = "/", err[256];
	if (text && *text && app_id_canonical(text, "/", gid, err, sizeof(err)) < 0) {
		http_reply_message(req, 404, "Group '%s' does not exist", text);
		return;
	}
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_POST:
		group_change(m, req, gid, true);
		break;
	case EVHTTP_REQ_PUT:
		group_change(m, req, gid, false);
		break;
	case EVHTTP_REQ_DELETE:
		group_delete(m, req, gid);
		break;
	default:
		if (versions)
			group_versions(m, req, gid);
		else
			group_get(m, req, gid);
	}
}

void apps_http_groups(struct apps *m, struct evhttp_request *req, const char *arg,
		      const char *arg2)
{
	api_groups(m, req, arg, false);
}

void apps_http_group_versions(struct apps *m, struct evhttp_request *req, const char *arg,
			      const char *arg2)
{
	api_groups(m, req, arg, true);
}

void apps_http_group_version(struct apps *m, struct evhttp_request *req, const char *arg,
			     const char *arg2)
{
	/* /v2/groups/versions/{version} has the version alone, the root's */
	const char *text = arg2 ? arg : NULL, *ver = arg2 ? arg2 : arg;
	char gid[APP_MAX_ID_LEN + 1] = "/", err[256];
	if (text && *text && app_id_canonical(text, "/", gid, err, sizeof(err)) < 0) {
		http_reply_message(req, 404, "Group '%s' does not exist", text);
		return;
	}
	api_group_version(m, req, gid, ver);
}
