/* GET_ROLES (state-json.h): the roles the master knows, each with the frameworks subscribed
 * to it and what its live tasks hold. */
#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "base/mem.h"
#include "master/fw-int.h"
#include "master/master-int.h"
#include "master/state-json.h"

/* Roles known: "*", the roles the frameworks use, every reserved role of an agent. */
struct role_names {
	json_t *names; /* role -> array of framework ids */
	const char *fw_id;
};

static void add_role(const char *role, void *ctx)
{
	struct role_names *rn = ctx;
	json_t *fws = json_object_get(rn->names, role);
	if (!fws) {
		fws = json_array();
		json_object_set_new(rn->names, role, fws);
	}
	if (rn->fw_id)
		json_array_append_new(fws, json_pack("{s:s}", "value", rn->fw_id));
}

static void add_role_alloc(const struct rm_task_view *t, void *ctx)
{
	if (task_state_terminal(t->state) || !strcmp(t->state, "TASK_UNREACHABLE"))
		return;
	struct hmap *alloc = ctx;
	const char *role = t->role ? t->role : "*";
	struct resources *r = hmap_get(alloc, role);
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		hmap_put(alloc, role, r);
	}
	resources_add(r, t->res);
}

json_t *state_json_v1_roles(struct master *m)
{
	struct role_names rn = { json_object(), NULL };
	for (size_t i = 0; i < m->nclients; i++) {
		const struct rm_client *c = m->clients[i];
		rn.fw_id = c->id;
		add_role("*", &rn); /* a built-in framework subscribes to "*" too */
		if (c->ops->each_role)
			c->ops->each_role(c->ctx, add_role, &rn);
	}
	const char *k;
	void *v;
	for (size_t i = 0; m->fw && hmap_next(&m->fw->fws, &i, &k, &v);) {
		const struct fw_framework *fw = v;
		rn.fw_id = fw->id;
		for (size_t r = 0; r < fw->nroles; r++)
			add_role(fw->roles[r], &rn);
	}
	rn.fw_id = NULL;
	add_role("*", &rn);
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct resources *t = rm_agent_total(v);
		for (size_t j = 0; j < t->n; j++)
			add_role(t->v[j].role, &rn);
	}
	/* What is allocated to each role: its live tasks' resources. */
	struct hmap alloc = HMAP_INIT;
	rm_each_task(m, false, add_role_alloc, &alloc);
	json_t *roles = json_array();
	json_t *fws;
	json_object_foreach(rn.names, k, fws) {
		json_t *r = json_pack("{s:s, s:f}", "name", k, "weight", 1.0);
		/* A framework subscribed to the role once is listed once. */
		json_t *seen = json_object(), *uniq = json_array();
		size_t i;
		json_t *f;
		json_array_foreach(fws, i, f) {
			const char *id = json_string_value(json_object_get(f, "value"));
			if (!json_object_get(seen, id)) {
				json_object_set_new(seen, id, json_true());
				json_array_append(uniq, f);
			}
		}
		json_decref(seen);
		state_json_set_repeated(r, "frameworks", uniq);
		const struct resources *ra = hmap_get(&alloc, k);
		if (ra) {
			state_json_set_repeated(r, "resources", state_json_resources_v1(ra, k));
			state_json_set_repeated(r, "allocated", state_json_resources_v1(ra, k));
		}
		json_array_append_new(roles, r);
	}
	for (size_t i = 0; hmap_next(&alloc, &i, &k, &v);) {
		resources_release(v);
		free(v);
	}
	hmap_release(&alloc);
	json_decref(rn.names);
	return json_pack("{s:o}", "roles", roles);
}
