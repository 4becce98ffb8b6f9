/* GET /v2/groups/{id}/versions/{version} (and /v2/groups/versions/{version} for the root):
 * Marathon's group at one of its versions, everything embedded: each app under the group
 * as its definition was at that time (its newest stored version at or before it; apps that
 * did not exist yet are left out), nested groups as for GET /v2/groups. A group's versions
 * are its apps' versions (GET /v2/groups/{id}/versions); another one is 404.
 * berth keeps no history of groups of their own: the groups' dependencies shown are the
 * current ones, and apps deleted since are not shown (their versions went with them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "apps/api-groups-int.h"
#include "apps/groups.h"

struct vapp {
	const char *id;
	const char *version; /* the app's version at or before the group's */
	json_t *def;
};

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct vapp *)a)->id, ((const struct vapp *)b)->id);
}

/* The group gid of the apps v[0..n) (under gid, sorted by id) at version ver. */
static json_t *group_at(struct apps *m, const char *gid, struct vapp *v, size_t n,
			const char *ver)
{
	json_t *apps = json_array(), *groups = json_array();
	const char *newest = NULL;
	for (size_t i = 0; i < n;) {
		char parent[APP_MAX_ID_LEN + 1];
		group_parent(v[i].id, parent, sizeof(parent));
		if (!newest || strcmp(v[i].version, newest) > 0)
			newest = v[i].version;
		if (!strcmp(parent, gid)) {
			json_array_append(apps, v[i].def);
			i++;
			continue;
		}
		char child[APP_MAX_ID_LEN + 1];
		group_child(gid, v[i].id, child, sizeof(child));
		size_t j = i;
		while (j < n && group_under(v[j].id, child))
			j++;
		if (j == i) {
			i++;
			continue;
		}
		json_array_append_new(groups, group_at(m, child, v + i, j - i, NULL));
		i = j;
	}
	const json_t *deps = json_object_get(json_object_get(m->groups, gid), "dependencies");
	return json_pack("{s:s, s:o, s:o, s:[], s:o, s:s, s:b}", "id", gid, "apps", apps,
			 "groups", groups, "pods", "dependencies",
			 deps ? json_deep_copy(deps) : json_array(), "version",
			 ver ? ver : newest ? newest : "", "enforceRole", false);
}

/* The newest of ma's versions at or before ver, or NULL. */
static const char *version_at(const struct m_app *ma, const char *ver, bool *exact)
{
	const char *best = NULL;
	size_t i;
	const json_t *x;
	json_array_foreach(ma->versions, i, x) {
		const char *s = json_string_value(x);
		if (s && strcmp(s, ver) <= 0 && (!best || strcmp(s, best) > 0))
			best = s;
		if (s && !strcmp(s, ver))
			*exact = true;
	}
	return best;
}

void api_group_version(struct apps *m, struct evhttp_request *req, const char *gid,
		       const char *ver)
{
	struct vapp *v = xcalloc(hmap_len(&m->apps) + 1, sizeof(*v));
	size_t n = 0;
	bool known = false, any = false;
	const char *k;
	void *p;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &p);) {
		struct m_app *ma = p;
		if (ma->deleting || !group_under(ma->def->id, gid) ||
		    !apps_visible(m, req, ma->def->id))
			continue;
		any = true;
		const char *at = version_at(ma, ver, &known);
		if (at)
			v[n++] = (struct vapp){ .id = ma->def->id, .version = at };
	}
	if (!known) {
		free(v);
		if (!any && strcmp(gid, "/"))
			http_reply_message(req, 404, "Group '%s' does not exist", gid);
		else
			http_reply_message(req, 404, "Group '%s' does not exist in version %s", gid,
					   ver);
		return;
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		char key[STORE_MAX_KEY];
		snprintf(key, sizeof(key), "versions/%s@%s", v[i].id, v[i].version);
		char *val;
		size_t len;
		if (store_get(m->store, key, &val, &len, NULL) < 0)
			continue; /* a version record gone: the app is left out */
		v[i].def = json_loadb(val, len, 0, NULL);
		free(val);
		if (v[i].def)
			v[kept++] = v[i];
	}
	qsort(v, kept, sizeof(*v), by_id);
	http_reply_json(req, 200, group_at(m, gid, v, kept, ver));
	for (size_t i = 0; i < kept; i++)
		json_decref(v[i].def);
	free(v);
}
