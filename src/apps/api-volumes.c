/* GET /api/berth/volumes: every volume the apps hold, for `berth volume list` and the
 * console. Local persistent volumes are listed per instance (with their agent); external
 * volumes by their resolved name (one per instance index, or one shared). */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "apps/apps-int.h"

static const char *instance_state(const struct m_instance *in)
{
	if (in->goal == GOAL_SUSPEND)
		return "suspended";
	if (in->phase == INST_LIVE)
		return "in use";
	return "waiting";
}

static json_t *volumes_json(struct apps *m)
{
	json_t *arr = json_array();
	const char *k;
	void *v;
	for (size_t ai = 0; hmap_next(&m->apps, &ai, &k, &v);) {
		const struct m_app *ma = v;
		const struct app *def = ma->def;
		if (!def->nvolumes)
			continue;
		for (size_t i = 0; i < ma->ninst; i++) {
			const struct m_instance *in = ma->inst[i];
			if (in->goal == GOAL_STOP)
				continue;
			const char *agent = in->pinned_agent ? in->pinned_agent : in->agent_id;
			struct m_agent *a = agent ? rm_agent_get(m->rm, agent) : NULL;
			json_t *task = in->phase == INST_LIVE ? json_string(in->task_id) : json_null();
			size_t pi = 0;
			for (size_t vi = 0; vi < def->nvolumes; vi++) {
				const struct app_volume *vol = &def->volumes[vi];
				json_t *o;
				if (vol->type == VOL_PERSISTENT) {
					json_t *pv = json_array_get(in->vols, pi++);
					if (!pv)
						continue; /* not placed yet: no volume exists */
					o = json_pack("{s:s, s:s, s:i, s:s, s:O, s:f}", "type", "persistent",
						      "app", def->id, "index", (int)in->index,
						      "containerPath", vol->container_path, "persistenceId",
						      json_object_get(pv, "persistenceId"), "sizeMiB",
						      vol->size);
				} else {
					char *name = volume_name_for(vol, in->index);
					o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:b}", "type",
						      "external", "app", def->id, "index", (int)in->index,
						      "containerPath", vol->container_path, "name", name,
						      "driver", vol->driver, "shared", vol->shared);
					free(name);
				}
				json_object_set_new(o, "agentId", agent ? json_string(agent) : json_null());
				json_object_set_new(o, "host", a ? json_string(a->hostname) : json_null());
				json_object_set_new(o, "state", json_string(instance_state(in)));
				json_object_set(o, "taskId", task);
				json_array_append_new(arr, o);
			}
			json_decref(task);
		}
	}
	return json_pack("{s:o}", "volumes", arr);
}

void api_volumes(struct apps *m, struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		http_reply_message(req, 405, "Method not allowed");
		return;
	}
	http_reply_json(req, 200, volumes_json(m));
}
