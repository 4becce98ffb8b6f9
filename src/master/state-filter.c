/* What a principal may see of /master/state (rm_set_view_filter): the ACLs' view_frameworks
 * (object: the framework's user) and view_tasks (object: the task's user, else its
 * framework's). The filter runs on the finished document, so every endpoint built from it
 * (/master/state, /state.json, /master/frameworks, /master/tasks, …) agrees. */
#include <string.h>

#include "master/master-int.h"
#include "master/state-json.h"

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

/* ---- the v1 operator API's reads (GET_FRAMEWORKS, GET_TASKS, GET_STATE, SUBSCRIBE's
 * snapshot): the same rules on the v1 shapes ---- */

static const char *v1_fw_user(json_t *fw)
{
	return json_string_value(json_object_get(json_object_get(fw, "framework_info"), "user"));
}

static const char *v1_fw_id(json_t *fw)
{
	json_t *info = json_object_get(fw, "framework_info");
	return json_string_value(json_object_get(json_object_get(info, "id"), "value"));
}

static void v1_filter_frameworks(struct master *m, const char *who, json_t *gf)
{
	static const char *const keys[] = { "frameworks", "completed_frameworks" };
	for (size_t k = 0; k < 2; k++) {
		json_t *fws = json_object_get(gf, keys[k]);
		for (size_t i = json_array_size(fws); i-- > 0;)
			if (!m->may_view(m->may_view_ctx, "view_frameworks", who,
					 v1_fw_user(json_array_get(fws, i))))
				json_array_remove(fws, i);
	}
}

bool state_filter_v1_task(struct master *m, const char *who, const char *user,
			  const char *fw_id, json_t *users)
{
	if (!user && fw_id)
		user = json_string_value(json_object_get(users, fw_id));
	return m->may_view(m->may_view_ctx, "view_tasks", who, user);
}

/* users: framework id -> its user, from an unfiltered GET_FRAMEWORKS payload */
static void v1_filter_tasks(struct master *m, const char *who, json_t *gt, json_t *users)
{
	static const char *const keys[] = { "tasks", "completed_tasks", "unreachable_tasks",
					    "orphan_tasks", "pending_tasks" };
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_t *tasks = json_object_get(gt, keys[k]);
		for (size_t i = json_array_size(tasks); i-- > 0;) {
			json_t *t = json_array_get(tasks, i);
			const char *user = json_string_value(json_object_get(t, "user"));
			const char *fid = json_string_value(
				json_object_get(json_object_get(t, "framework_id"), "value"));
			if (!state_filter_v1_task(m, who, user, fid, users))
				json_array_remove(tasks, i);
		}
	}
}

json_t *state_filter_v1_users(json_t *gf)
{
	json_t *users = json_object();
	static const char *const keys[] = { "frameworks", "completed_frameworks" };
	for (size_t k = 0; k < 2; k++) {
		json_t *fws = json_object_get(gf, keys[k]);
		for (size_t i = 0; i < json_array_size(fws); i++) {
			json_t *fw = json_array_get(fws, i);
			if (v1_fw_id(fw) && v1_fw_user(fw))
				json_object_set_new(users, v1_fw_id(fw), json_string(v1_fw_user(fw)));
		}
	}
	return users;
}

void state_filter_v1(struct master *m, struct evhttp_request *req, const char *type,
		     json_t *payload)
{
	if (!m->may_view || !req || !payload)
		return;
	const char *who =
		evhttp_find_header(evhttp_request_get_input_headers(req), HTTP_PRINCIPAL_HEADER);
	if (!strcmp(type, "GET_FRAMEWORKS")) {
		v1_filter_frameworks(m, who, payload);
	} else if (!strcmp(type, "GET_TASKS")) {
		json_t *gf = state_json_v1_frameworks(m);
		json_t *users = state_filter_v1_users(gf);
		v1_filter_tasks(m, who, payload, users);
		json_decref(users);
		json_decref(gf);
	} else if (!strcmp(type, "GET_STATE")) {
		json_t *gf = json_object_get(payload, "get_frameworks");
		json_t *users = state_filter_v1_users(gf);
		v1_filter_tasks(m, who, json_object_get(payload, "get_tasks"), users);
		json_decref(users);
		v1_filter_frameworks(m, who, gf);
	}
}

const char *state_filter_who(struct evhttp_request *req)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), HTTP_PRINCIPAL_HEADER);
}

void state_filter_v1_frameworks(struct master *m, const char *who, json_t *gf)
{
	v1_filter_frameworks(m, who, gf);
}
