/* Persistent volumes of v1 frameworks' tasks on the agent (docs/scheduler-api.md).
 *
 * A TaskInfo resource with `disk.persistence.id` and `disk.volume` (a volume made by CREATE,
 * checked by resv_launch_check) becomes a TaskSpec volume of type "persistent"
 * (agent-protocol.md §8): the agent keeps its data in <work>/volumes/<dir> and the task's
 * executor mounts it at `container_path` (bind mount, or a symlink when unprivileged, as for
 * Marathon's local volumes). <dir> is "mesos#<role>#<id>" with each '/' of a hierarchical
 * role written '%', so volumes of two roles with one id, and Marathon's volumes (whose ids
 * start with the app's name), never share a directory. DESTROY removes it
 * (fw_volume_destroyed). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "master/fw-int.h"

/* The agent's directory name of volume id of role, or NULL when it cannot be one. */
char *fw_volume_dir(const char *role, const char *id)
{
	char *d = xasprintf("mesos#%s#%s", role, id);
	for (char *p = d + 6; *p; p++)
		if (*p == '/' && p < d + 6 + strlen(role))
			*p = '%';
	size_t n = strlen(d);
	bool ok = n <= 200 && !strstr(d, "..");
	for (size_t i = 0; ok && i < n; i++)
		if (d[i] == '/' || (unsigned char)d[i] < 0x20 || d[i] == 0x7f)
			ok = false;
	if (!ok) {
		free(d);
		return NULL;
	}
	return d;
}

static const char *role_of(const json_t *e)
{
	const json_t *rs = json_object_get(e, "reservations");
	const char *r = json_string_value(json_object_get(
		json_array_size(rs) ? json_array_get(rs, json_array_size(rs) - 1) : e, "role"));
	return r ? r : "*";
}

int fw_task_volumes(const json_t *task_res, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	json_t *arr = json_array();
	size_t i;
	const json_t *e;
	json_array_foreach(task_res, i, e) {
		const json_t *disk = json_object_get(e, "disk");
		const char *id = json_string_value(
			json_object_get(json_object_get(disk, "persistence"), "id"));
		if (!id)
			continue;
		const json_t *vol = json_object_get(disk, "volume");
		const char *cp = json_string_value(json_object_get(vol, "container_path"));
		const char *mode = json_string_value(json_object_get(vol, "mode"));
		char *dir = fw_volume_dir(role_of(e), id);
		if (!cp || !*cp || !dir) {
			snprintf(err, errlen, "Persistent volume '%.255s' cannot be mounted: it needs "
					      "'disk.volume.container_path' and an id usable as a "
					      "directory name (no '/', no '..')", id);
			free(dir);
			json_decref(arr);
			return -EINVAL;
		}
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:f}", "type", "persistent",
				       "container_path", cp, "mode", mode ? mode : "RW",
				       "persistence_id", dir, "size",
				       json_number_value(json_object_get(
					       json_object_get(e, "scalar"), "value"))));
		free(dir);
	}
	if (json_array_size(arr))
		*out = arr;
	else
		json_decref(arr);
	return 0;
}

void fw_volume_destroyed(struct master *m, struct m_agent *a, const json_t *volumes)
{
	(void)m;
	size_t i;
	const json_t *e;
	json_array_foreach(volumes, i, e) {
		const char *id = json_string_value(json_object_get(
			json_object_get(json_object_get(e, "disk"), "persistence"), "id"));
		char *dir = id ? fw_volume_dir(role_of(e), id) : NULL;
		if (dir && a->state == AGENT_CONNECTED &&
		    registry_send(a, json_pack("{s:s, s:s}", "type", "DESTROY_VOLUME",
					       "persistence_id", dir)) < 0)
			log_warn("master", "agent '%s': DESTROY_VOLUME '%s' not sent", a->id, dir);
		free(dir);
	}
}
