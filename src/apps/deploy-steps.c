/* A deployment's steps, as Marathon shows a plan's (GET /v2/deployments, the deployment
 * events): for a deployment of several apps (a group change, PUT /v2/apps with a list), its
 * StopApplication actions first, then its other actions in layers of the apps'
 * dependencies — the order the scheduler launches them in (schedule.c's dependencies_ready
 * holds an app until what it depends on is done). The step under way is the first with an
 * app whose part is not done, so currentStep only goes up.
 *
 * The steps are computed from the deployment's members and the apps' definitions and the
 * groups' dependencies as they are (the target state, committed with the deployment), not
 * stored: nothing to keep in step across a master restart. */
#include <string.h>

#include "base/mem.h"
#include "apps/apps-int.h"

static json_t *one_step(const struct m_deployment *d)
{
	json_t *acts = d->members ? json_deep_copy(d->members)
				  : json_pack("[{s:s, s:s}]", "action", d->action, "app", d->app_id);
	return json_pack("[{s:o}]", "actions", acts);
}

json_t *deploy_steps(struct apps *m, const struct m_deployment *d)
{
	size_t n = json_array_size(d->members);
	if (n < 2)
		return one_step(d);
	const char **ids = xcalloc(n, sizeof(*ids));
	const json_t **deps = xcalloc(n, sizeof(*deps));
	int *layer = xcalloc(n, sizeof(*layer));
	size_t k = 0; /* the members that start or change (ids[0..k)) */
	json_t *stops = json_array();
	size_t i;
	json_t *x;
	json_array_foreach(d->members, i, x) {
		const char *app = json_string_value(json_object_get(x, "app"));
		const char *act = json_string_value(json_object_get(x, "action"));
		if (!app || !act)
			continue;
		if (!strcmp(act, "StopApplication")) {
			json_array_append(stops, x);
			continue;
		}
		const struct m_app *ma = apps_get(m, app);
		ids[k] = app;
		deps[k++] = ma ? ma->def->dependencies : NULL;
	}
	json_t *steps = json_array();
	if (json_array_size(stops))
		json_array_append_new(steps, json_pack("{s:O}", "actions", stops));
	if (groups_layers_now(m, ids, deps, k, layer) < 0)
		memset(layer, 0, k * sizeof(*layer)); /* refused at the edge; never loop */
	int top = -1;
	for (size_t a = 0; a < k; a++)
		top = layer[a] > top ? layer[a] : top;
	for (int l = 0; l <= top; l++) {
		json_t *acts = json_array();
		json_array_foreach(d->members, i, x) {
			const char *app = json_string_value(json_object_get(x, "app"));
			for (size_t a = 0; app && a < k; a++)
				if (layer[a] == l && !strcmp(ids[a], app))
					json_array_append(acts, x);
		}
		json_array_append_new(steps, json_pack("{s:o}", "actions", acts));
	}
	json_decref(stops);
	free(layer);
	free(deps);
	free(ids);
	return steps;
}

/* Is app's part of d done: gone (a removal over), no longer in d, or finished? */
static bool part_done(struct apps *m, const struct m_deployment *d, const char *app)
{
	const struct m_app *ma = apps_get(m, app);
	if (!ma || !ma->deploy || strcmp(ma->deploy->id, d->id))
		return true;
	return ma->deploy->finished;
}

size_t deploy_current_step(struct apps *m, const struct m_deployment *d, const json_t *steps)
{
	size_t n = json_array_size(steps);
	for (size_t s = 0; s < n; s++) {
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(json_array_get(steps, s), "actions"), i, x)
			if (!part_done(m, d, json_string_value(json_object_get(x, "app"))))
				return s;
	}
	return n ? n - 1 : 0;
}

bool deploy_step_ends_with(struct apps *m, const struct m_deployment *d, const char *app)
{
	json_t *steps = deploy_steps(m, d);
	json_t *acts = json_object_get(json_array_get(steps, deploy_current_step(m, d, steps)),
				       "actions");
	bool in = false, others_done = true;
	size_t i;
	json_t *x;
	json_array_foreach(acts, i, x) {
		const char *a = json_string_value(json_object_get(x, "app"));
		if (a && !strcmp(a, app))
			in = true;
		else if (a && !part_done(m, d, a))
			others_done = false;
	}
	json_decref(steps);
	return in && others_done;
}

void deploy_touch_members(struct apps *m, const struct m_deployment *d)
{
	size_t i;
	json_t *x;
	json_array_foreach(d->members, i, x) {
		struct m_app *ma = apps_get(m, json_string_value(json_object_get(x, "app")));
		if (ma)
			apps_changed(ma);
	}
}
