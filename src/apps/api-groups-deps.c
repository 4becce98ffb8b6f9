/* Dependencies of groups and apps for /v2/groups (api-groups.c): the groups' dependencies
 * (m->groups, stored as groups/<id>), the readiness the scheduler asks about, the order of a
 * plan's steps, and the unknown-dependency and cycle checks.
 *
 * An app depends on the apps its definition names and on the apps at or under what its
 * groups, ancestors included, name; the scheduler launches an app's tasks only when all of
 * them are converged (no deployment part in flight, not being deleted). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "apps/api-groups-int.h"
#include "apps/groups.h"

/* Are the apps at or under id converged (no deployment part in flight, not being deleted)? */
static bool converged(struct apps *m, const struct m_app *self, const char *id)
{
	const struct m_app *one = apps_get(m, id);
	if (one)
		return !(one->deleting || (one->deploy && !one->deploy->finished));
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *ma = v;
		if (ma == self || !group_under(ma->def->id, id))
			continue;
		if (ma->deleting || (ma->deploy && !ma->deploy->finished))
			return false;
	}
	return true;
}

bool apps_group_dependencies_ready(struct apps *m, const struct m_app *ma)
{
	if (!json_object_size(m->groups))
		return true;
	char g[APP_MAX_ID_LEN + 1];
	group_parent(ma->def->id, g, sizeof(g));
	for (;;) {
		size_t k;
		const json_t *d;
		json_array_foreach(json_object_get(json_object_get(m->groups, g), "dependencies"),
				   k, d) {
			const char *s = json_string_value(d);
			if (!group_under(ma->def->id, s) && !converged(m, ma, s))
				return false;
		}
		if (!strcmp(g, "/"))
			return true;
		char up[APP_MAX_ID_LEN + 1];
		group_parent(g, up, sizeof(up));
		snprintf(g, sizeof(g), "%s", up);
	}
}

/* Stores the groups' dependencies of the update (an empty list removes the record), then
 * sets them in memory: 0 or -errno (nothing changed). */
int groups_store_deps(struct apps *m, const json_t *gdeps)
{
	if (!json_object_size(gdeps))
		return 0;
	int r = store_txn_begin(m->store);
	const char *gid;
	json_t *list;
	json_object_foreach((json_t *)gdeps, gid, list) {
		char key[STORE_MAX_KEY];
		snprintf(key, sizeof(key), "groups/%s", gid);
		if (r < 0)
			break;
		if (json_array_size(list)) {
			json_t *rec = json_pack("{s:O}", "dependencies", list);
			char *val = json_dumps(rec, JSON_COMPACT);
			json_decref(rec);
			r = store_put(m->store, key, val, strlen(val), STORE_ANY_VERSION, NULL);
			free(val);
		} else {
			r = store_delete(m->store, key, STORE_ANY_VERSION);
			if (r == -ENOENT)
				r = 0;
		}
	}
	if (r >= 0)
		r = store_txn_commit(m->store);
	else
		store_txn_abort(m->store);
	if (r < 0)
		return r;
	json_object_foreach((json_t *)gdeps, gid, list) {
		if (json_array_size(list))
			json_object_set_new(m->groups, gid, json_pack("{s:O}", "dependencies", list));
		else
			json_object_del(m->groups, gid);
	}
	return 0;
}

/* Forgets the dependencies of gid and the groups under it (DELETE): logged on failure. */
void groups_drop_deps(struct apps *m, const char *gid)
{
	json_t *gone = json_object();
	const char *g;
	json_t *v;
	json_object_foreach(m->groups, g, v)
		if (!strcmp(g, gid) || group_under(g, gid))
			json_object_set_new(gone, g, json_array());
	int r = groups_store_deps(m, gone);
	if (r < 0)
		log_warn("master", "cannot delete the dependencies of group '%s': %s", gid,
			 strerror(-r));
	json_decref(gone);
}

/* ---- dependencies ---- */

/* Is dep (an app's dependency) an app of the target state? (The scheduler orders launches by
 * app ids; a group's id as a dependency is refused.) */
static bool dep_known(struct apps *m, const struct plan *p, const json_t *stopped,
		      const char *dep)
{
	if (json_object_get(p->kept, dep))
		return true;
	const struct m_app *ma = apps_get(m, dep);
	return ma && !ma->deleting && !json_object_get(stopped, dep);
}

/* The dependencies of group gid after the update (its own if it gives them), or NULL. */
static const json_t *group_deps_of(struct apps *m, const struct plan *p, const char *gid)
{
	const json_t *d = json_object_get(p->gdeps, gid);
	return d ? d : json_object_get(json_object_get(m->groups, gid), "dependencies");
}

static void add_edge(size_t **from, size_t **to, size_t *ne, size_t *cap, size_t a, size_t b)
{
	if (a == b)
		return;
	if (*ne == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*from = xrealloc(*from, *cap * sizeof(**from));
		*to = xrealloc(*to, *cap * sizeof(**to));
	}
	(*from)[*ne] = a;
	(*to)[(*ne)++] = b;
}

/* The dependency edges among the apps ids[0..n) (deps[i]: app i's own dependencies): an app
 * depends on the apps its definition names, and on the apps at or under what its groups
 * (ancestors included) name; each app's step into layer; -ELOOP for a cycle. */
static int layers_of(struct apps *m, const struct plan *p, const char **ids,
		     const json_t **deps, size_t n, int *layer)
{
	json_t *index = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(index, ids[i], json_integer((json_int_t)i));
	size_t ne = 0, cap = 0;
	size_t *from = NULL, *to = NULL;
	for (size_t a = 0; a < n; a++) {
		size_t k;
		const json_t *d;
		json_array_foreach(deps[a], k, d) {
			const json_t *b = json_object_get(index, json_string_value(d));
			if (b)
				add_edge(&from, &to, &ne, &cap, a, (size_t)json_integer_value(b));
		}
		char g[APP_MAX_ID_LEN + 1];
		group_parent(ids[a], g, sizeof(g));
		for (;;) {
			json_array_foreach(group_deps_of(m, p, g), k, d) {
				const char *s = json_string_value(d);
				for (size_t b = 0; b < n; b++)
					if (!strcmp(ids[b], s) || group_under(ids[b], s))
						add_edge(&from, &to, &ne, &cap, a, b);
			}
			if (!strcmp(g, "/"))
				break;
			char up[APP_MAX_ID_LEN + 1];
			group_parent(g, up, sizeof(up));
			snprintf(g, sizeof(g), "%s", up);
		}
	}
	int r = group_layers(n, from, to, ne, layer);
	free(from);
	free(to);
	json_decref(index);
	return r;
}

int groups_layers_now(struct apps *m, const char **ids, const json_t **deps, size_t n,
		      int *layer)
{
	struct plan none = { .it = NULL }; /* no update: the groups' dependencies as stored */
	return layers_of(m, &none, ids, deps, n, layer);
}

/* The steps of the plan's items. */
static int layers(struct apps *m, const struct plan *p, int *layer)
{
	const char **ids = xcalloc(p->n + 1, sizeof(*ids));
	const json_t **deps = xcalloc(p->n + 1, sizeof(*deps));
	for (size_t i = 0; i < p->n; i++) {
		ids[i] = p->it[i].def->id;
		deps[i] = p->it[i].def->dependencies;
	}
	int r = layers_of(m, p, ids, deps, p->n, layer);
	free(ids);
	free(deps);
	return r;
}

/* Is the whole target state (the items and the apps that stay) free of cycles? */
static bool acyclic(struct apps *m, const struct plan *p, const json_t *stopped)
{
	size_t cap = p->n + hmap_len(&m->apps) + 1, n = 0;
	const char **ids = xcalloc(cap, sizeof(*ids));
	const json_t **deps = xcalloc(cap, sizeof(*deps));
	for (size_t i = 0; i < p->n; i++) {
		ids[n] = p->it[i].def->id;
		deps[n++] = p->it[i].def->dependencies;
	}
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v) && n < cap;) {
		const struct m_app *ma = v;
		if (ma->deleting || json_object_get(stopped, ma->def->id) ||
		    json_object_get(p->kept, ma->def->id))
			continue;
		ids[n] = ma->def->id;
		deps[n++] = ma->def->dependencies;
	}
	int *layer = xcalloc(n + 1, sizeof(*layer));
	int r = layers_of(m, p, ids, deps, n, layer);
	free(layer);
	free(ids);
	free(deps);
	return r == 0;
}

/* Is there an app at or under id in the target state? */
static bool target_has(struct apps *m, const struct plan *p, const json_t *stopped,
		       const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->it[i].def->id, id) || group_under(p->it[i].def->id, id))
			return true;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *ma = v;
		if (ma->deleting || json_object_get(stopped, ma->def->id))
			continue;
		if (!strcmp(ma->def->id, id) || group_under(ma->def->id, id))
			return true;
	}
	return false;
}

void groups_check_dependencies(struct apps *m, struct plan *p)
{
	json_t *stopped = json_object();
	for (size_t i = 0; i < p->ns; i++)
		json_object_set_new(stopped, p->stops[i]->def->id, json_true());
	for (size_t i = 0; i < p->n; i++) {
		size_t k;
		const json_t *d;
		json_array_foreach(p->it[i].def->dependencies, k, d) {
			const char *s = json_string_value(d);
			if (!dep_known(m, p, stopped, s))
				verr_add(&p->err, "/", "Dependency '%s' of app '%s' does not exist",
					 s, p->it[i].def->id);
		}
	}
	const char *gid;
	json_t *list;
	json_object_foreach(p->gdeps, gid, list) {
		size_t k;
		const json_t *d;
		json_array_foreach(list, k, d) {
			const char *s = json_string_value(d);
			if (!strcmp(s, gid) || group_under(gid, s) || group_under(s, gid))
				verr_add(&p->err, "/", "Group '%s' cannot depend on '%s', "
					 "its own path", gid, s);
			else if (!target_has(m, p, stopped, s))
				verr_add(&p->err, "/", "Dependency '%s' of group '%s' does not exist",
					 s, gid);
		}
	}
	if (!acyclic(m, p, stopped))
		verr_add(&p->err, "/", "Dependency graph has cyclic dependencies.");
	json_decref(stopped);
}

/* ?dryRun=true: the plan's steps, the removals first, then the apps by dependencies. */
json_t *groups_plan_steps(struct apps *m, const struct plan *p)
{
	json_t *steps = json_array();
	if (p->ns) {
		json_t *acts = json_array();
		for (size_t i = 0; i < p->ns; i++)
			json_array_append_new(acts, json_pack("{s:s, s:s}", "action",
							      "StopApplication", "app",
							      p->stops[i]->def->id));
		json_array_append_new(steps, json_pack("{s:o}", "actions", acts));
	}
	int *layer = xcalloc(p->n ? p->n : 1, sizeof(*layer));
	layers(m, p, layer);
	int top = -1;
	for (size_t i = 0; i < p->n; i++)
		top = layer[i] > top ? layer[i] : top;
	for (int l = 0; l <= top; l++) {
		json_t *acts = json_array();
		for (size_t i = 0; i < p->n; i++)
			if (layer[i] == l)
				json_array_append_new(acts, json_pack("{s:s, s:s}", "action",
								      p->it[i].action, "app",
								      p->it[i].def->id));
		json_array_append_new(steps, json_pack("{s:o}", "actions", acts));
	}
	free(layer);
	return steps;
}

