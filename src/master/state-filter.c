/* What a principal may see of /master/state (rm_set_view_filter): the ACLs' view_frameworks
 * (object: the framework's user) and view_tasks (object: the task's user, else its
 * framework's). The filter runs on the finished document, so every endpoint built from it
 * (/master/state, /state.json, /master/frameworks, /master/tasks, …) agrees. */
#include <string.h>

#include "master/master-int.h"

void rm_set_view_filter(struct master *m, rm_view_fn may_view, void *ctx)
{
	m->may_view = may_view;
	m->may_view_ctx = ctx;
}

static void filter_tasks(struct master *m, const char *who, json_t *fw, const char *key,
			 const char *fw_user)
{
	json_t *tasks = json_object_get(fw, key);
	for (size_t i = json_array_size(tasks); i-- > 0;) {
		const char *user = json_string_value(json_object_get(json_array_get(tasks, i),
								     "user"));
		if (!m->may_view(m->may_view_ctx, "view_tasks", who, user ? user : fw_user))
			json_array_remove(tasks, i);
	}
}

static void filter_frameworks(struct master *m, const char *who, json_t *fws)
{
	for (size_t i = json_array_size(fws); i-- > 0;) {
		json_t *fw = json_array_get(fws, i);
		const char *user = json_string_value(json_object_get(fw, "user"));
		if (!m->may_view(m->may_view_ctx, "view_frameworks", who, user)) {
			json_array_remove(fws, i);
			continue;
		}
		static const char *const keys[] = { "tasks", "completed_tasks",
						    "unreachable_tasks" };
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			filter_tasks(m, who, fw, keys[k], user);
	}
}

void state_filter_legacy(struct master *m, struct evhttp_request *req, json_t *st)
{
	if (!m->may_view || !req)
		return;
	const char *who =
		evhttp_find_header(evhttp_request_get_input_headers(req), HTTP_PRINCIPAL_HEADER);
	filter_frameworks(m, who, json_object_get(st, "frameworks"));
	filter_frameworks(m, who, json_object_get(st, "completed_frameworks"));
}
