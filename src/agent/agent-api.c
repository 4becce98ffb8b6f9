/* The agent's own v1 operator API: POST /api/v1 with a JSON agent::Call, answered with an
 * agent::Response in Mesos's shape (agent.proto, v1): GET_HEALTH, GET_FLAGS, GET_VERSION,
 * GET_STATE, GET_CONTAINERS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS, GET_AGENT,
 * GET_LOGGING_LEVEL, LIST_FILES, READ_FILE. Read-only; files confined to task sandboxes as /files/browse and /files/read
 * are (sandbox-path.h).
 *
 * berth runs each task under its own shim, as Mesos's command executor does, so every task
 * is also reported as one executor and one container whose ids are the task id. Tasks and
 * containers carry the framework id the LAUNCH record gave (agent-taskmeta.c);
 * GET_FRAMEWORKS lists the frameworks of its tasks by the FrameworkInfo each LAUNCH carried
 * (kept beside the task's meta, so a restarted agent lists them too). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/sandbox-path.h"
#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "net/http.h"

#define AGENT_MESOS_VERSION "1.11.0" /* as the master reports (state-json.h) */

static json_t *value_of(const char *s)
{
	return json_pack("{s:s}", "value", s);
}

static json_t *tasks_v1(struct agent *a, bool terminal)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < a->nbuckets; i++) {
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext) {
			if (t->terminal != terminal)
				continue;
			json_t *o = json_pack("{s:s, s:o, s:s, s:[], s:[]}", "name", t->id, "task_id",
					      value_of(t->id), "state", t->state, "resources",
					      "statuses");
			json_object_set_new(o, "executor_id", value_of(t->id));
			if (t->framework_id)
				json_object_set_new(o, "framework_id", value_of(t->framework_id));
			if (a->agent_id)
				json_object_set_new(o, "agent_id", value_of(a->agent_id));
			json_array_append_new(arr, o);
		}
	}
	return arr;
}

static json_t *get_tasks(struct agent *a)
{
	return json_pack("{s:[], s:[], s:o, s:o, s:[]}", "pending_tasks", "queued_tasks",
			 "launched_tasks", tasks_v1(a, false), "terminated_tasks", tasks_v1(a, true),
			 "completed_tasks");
}

static json_t *executors_v1(struct agent *a)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < a->nbuckets; i++)
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext) {
			if (t->terminal || t->xexec) /* a custom executor's: listed below */
				continue;
			char *name = xasprintf("Command Executor (Task: %s)", t->id);
			json_t *e = json_pack("{s:o, s:s, s:s}", "executor_id", value_of(t->id),
					      "name", name, "type", "COMMAND");
			if (t->framework_id)
				json_object_set_new(e, "framework_id", value_of(t->framework_id));
			json_array_append_new(arr, json_pack("{s:o}", "executor_info", e));
			free(name);
		}
	agent_xexecs_v1(a, arr);
	return arr;
}

static json_t *get_executors(struct agent *a)
{
	return json_pack("{s:o, s:[]}", "executors", executors_v1(a), "completed_executors");
}

/* The frameworks of the tasks this agent knows, by the FrameworkInfo their LAUNCH carried:
 * those with a live task, and those with only finished ones (completed_frameworks). */
static json_t *get_frameworks(struct agent *a)
{
	json_t *live = json_object(), *done = json_object();
	for (size_t i = 0; i < a->nbuckets; i++)
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext)
			if (t->framework_info)
				json_object_set(t->terminal ? done : live, t->framework_id,
						t->framework_info);
	json_t *out = json_pack("{s:[], s:[]}", "frameworks", "completed_frameworks");
	const char *k;
	json_t *v;
	json_object_foreach(live, k, v) {
		json_object_del(done, k);
		json_array_append_new(json_object_get(out, "frameworks"),
				      json_pack("{s:O}", "framework_info", v));
	}
	json_object_foreach(done, k, v)
		json_array_append_new(json_object_get(out, "completed_frameworks"),
				      json_pack("{s:O}", "framework_info", v));
	json_decref(live);
	json_decref(done);
	return out;
}

/* Mesos lists the top-level containers, and with get_containers.show_nested the nested
 * ones too (a default executor's tasks). */
static json_t *get_containers(struct agent *a, const json_t *call)
{
	bool nested = json_is_true(
		json_object_get(json_object_get(call, "get_containers"), "show_nested"));
	json_t *arr = json_array();
	for (size_t i = 0; i < a->nbuckets; i++)
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext) {
			if (t->terminal || t->xexec) /* a custom executor's: listed below */
				continue;
			char *name = xasprintf("Command Executor (Task: %s)", t->id);
			json_t *c = json_pack("{s:o, s:s, s:o}", "executor_id", value_of(t->id),
					      "executor_name", name, "container_id", value_of(t->id));
			if (t->framework_id)
				json_object_set_new(c, "framework_id", value_of(t->framework_id));
			json_array_append_new(arr, c);
			free(name);
		}
	agent_xexecs_containers(a, arr, nested);
	return json_pack("{s:o}", "containers", arr);
}

static void add_flag(json_t *arr, const char *name, const char *value)
{
	if (value)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "name", name, "value", value));
}

static json_t *get_flags(struct agent *a)
{
	json_t *arr = json_array();
	char *master = a->master_host ? xasprintf("%s:%u", a->master_host,
						  (unsigned)a->master_port) : NULL;
	add_flag(arr, "master", master);
	free(master);
	add_flag(arr, "work_dir", a->work_dir);
	add_flag(arr, "resources", a->resources);
	add_flag(arr, "attributes", a->attributes);
	add_flag(arr, "hostname", a->hostname);
	add_flag(arr, "ip", a->http_addr);
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)a->http_port);
	add_flag(arr, "port", port);
	add_flag(arr, "executor_path", a->executor_path);
	return json_pack("{s:o}", "flags", arr);
}

static int path_status(int r)
{
	return r == -EACCES || r == -EPERM ? 403 : r == -ENOENT || r == -ENOTDIR ? 404
	       : r == -EINVAL ? 400 : 500;
}

/* A FileInfo of Mesos's agent API (mtime in nanoseconds, mode as a number). */
static json_t *file_info(const char *path, const struct stat *st)
{
	return json_pack("{s:s, s:I, s:I, s:{s:I}, s:I, s:o, s:o}", "path", path, "nlink",
			 (json_int_t)st->st_nlink, "size", (json_int_t)st->st_size, "mtime",
			 "nanoseconds", (json_int_t)st->st_mtime * 1000000000LL, "mode",
			 (json_int_t)st->st_mode, "uid", agent_user_name(st->st_uid), "gid",
			 agent_group_name(st->st_gid));
}

static int list_files(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	const char *path = json_string_value(json_object_get(json_object_get(call, "list_files"),
							     "path"));
	if (!path) {
		snprintf(err, errlen, "Expecting 'list_files.path' to be present");
		return 400;
	}
	json_t *arr;
	int r = agent_sandbox_list(a, path, file_info, &arr);
	if (r == -EIO) {
		snprintf(err, errlen, "Cannot list '%s'", path);
		return 500;
	}
	if (r < 0) {
		snprintf(err, errlen, "Failed to list '%s': %s", path, strerror(-r));
		return path_status(r);
	}
	*out = json_pack("{s:o}", "file_infos", arr);
	return 200;
}

static int read_file(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	json_t *rf = json_object_get(call, "read_file");
	const char *path = json_string_value(json_object_get(rf, "path"));
	json_t *joff = json_object_get(rf, "offset"), *jlen = json_object_get(rf, "length");
	if (!path) {
		snprintf(err, errlen, "Expecting 'read_file.path' to be present");
		return 400;
	}
	if (!json_is_integer(joff) || json_integer_value(joff) < 0) {
		snprintf(err, errlen, "Expecting 'read_file.offset' to be a non-negative integer");
		return 400;
	}
	if (jlen && (!json_is_integer(jlen) || json_integer_value(jlen) < 0)) {
		snprintf(err, errlen, "Expecting 'read_file.length' to be a non-negative integer");
		return 400;
	}
	int fd = sandbox_path_open(a->sandbox_root, path, O_RDONLY | O_NOFOLLOW, NULL);
	if (fd < 0) {
		snprintf(err, errlen, "Failed to read '%s': %s", path, strerror(-fd));
		return path_status(fd);
	}
	struct stat st;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "'%s' is not a file", path);
		return 400;
	}
	int64_t offset = json_integer_value(joff);
	int64_t len = jlen ? json_integer_value(jlen) : AGENT_READ_MAX;
	size_t want = len > AGENT_READ_MAX ? AGENT_READ_MAX : (size_t)len;
	char *buf = xmalloc(want + 1);
	size_t have = 0;
	while (have < want && offset < st.st_size) {
		ssize_t r = pread(fd, buf + have, want - have, (off_t)offset + (off_t)have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	char *data = b64_encode(buf, have);
	free(buf);
	*out = json_pack("{s:I, s:s}", "size", (json_int_t)st.st_size, "data", data);
	free(data);
	return 200;
}

/* ---- the calls: each answers its payload in *out, and 200 or an error status with err ---- */

static int call_health(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	*out = json_pack("{s:b}", "healthy", 1);
	return 200;
}

static int call_flags(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	*out = get_flags(a);
	return 200;
}

static int call_version(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	*out = json_pack("{s:{s:s, s:s}}", "version_info", "version", AGENT_MESOS_VERSION,
			 "build_user", "berth");
	return 200;
}

static int call_agent(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	*out = json_pack("{s:{s:s, s:i}}", "agent_info", "hostname",
			 a->hostname ? a->hostname : "", "port", (int)a->http_port);
	if (a->agent_id)
		json_object_set_new(json_object_get(*out, "agent_info"), "id",
				    value_of(a->agent_id));
	return 200;
}

static int call_logging(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	*out = json_pack("{s:i}", "level", log_get_level() == LOG_DEBUG ? 1 : 0);
	return 200;
}

static int call_state(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	*out = json_pack("{s:o, s:o, s:o}", "get_tasks", get_tasks(a), "get_executors",
			 get_executors(a), "get_frameworks", get_frameworks(a));
	return 200;
}

static int call_containers(struct agent *a, json_t *call, json_t **out, char *err,
			   size_t errlen)
{
	*out = get_containers(a, call);
	return 200;
}

static int call_frameworks(struct agent *a, json_t *call, json_t **out, char *err,
			   size_t errlen)
{
	*out = get_frameworks(a);
	return 200;
}

static int call_executors(struct agent *a, json_t *call, json_t **out, char *err,
			  size_t errlen)
{
	*out = get_executors(a);
	return 200;
}

static int call_tasks(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen)
{
	*out = get_tasks(a);
	return 200;
}

/* The agent calls berth serves (Mesos's agent::Call), with the field their answer goes in. */
static const struct {
	const char *type, *field;
	int (*fn)(struct agent *a, json_t *call, json_t **out, char *err, size_t errlen);
} calls[] = {
	{ "GET_HEALTH", "get_health", call_health },
	{ "GET_FLAGS", "get_flags", call_flags },
	{ "GET_VERSION", "get_version", call_version },
	{ "GET_AGENT", "get_agent", call_agent },
	{ "GET_LOGGING_LEVEL", "get_logging_level", call_logging },
	{ "GET_STATE", "get_state", call_state },
	{ "GET_CONTAINERS", "get_containers", call_containers },
	{ "GET_FRAMEWORKS", "get_frameworks", call_frameworks },
	{ "GET_EXECUTORS", "get_executors", call_executors },
	{ "GET_TASKS", "get_tasks", call_tasks },
	{ "LIST_FILES", "list_files", list_files },
	{ "READ_FILE", "read_file", read_file },
};

void agent_api_v1(struct agent *a, struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		http_add_header(req, "Allow", "POST");
		http_reply_message(req, 405, "Expecting a 'POST' request");
		return;
	}
	json_t *call = NULL;
	char err[512];
	if (http_request_json(req, &call, err, sizeof(err)) < 0) {
		http_reply_message(req, 400, "Failed to parse body into Call: %s", err);
		return;
	}
	const char *type = json_string_value(json_object_get(call, "type"));
	if (!json_is_object(call) || !type) {
		http_reply_message(req, 400, "Failed to validate agent::Call: Expecting 'type' "
				   "to be present");
		json_decref(call);
		return;
	}
	size_t i = 0;
	while (i < sizeof(calls) / sizeof(calls[0]) && strcmp(calls[i].type, type))
		i++;
	if (i == sizeof(calls) / sizeof(calls[0])) {
		http_reply_message(req, 501, "Agent call '%s' is not implemented by berth", type);
		json_decref(call);
		return;
	}
	json_t *out = NULL;
	err[0] = '\0';
	int code = calls[i].fn(a, call, &out, err, sizeof(err));
	if (code != 200) {
		json_decref(out);
		http_reply_message(req, code, "%s", err);
	} else {
		json_t *o = json_pack("{s:s}", "type", type);
		if (out)
			json_object_set_new(o, calls[i].field, out);
		http_reply_json(req, 200, o);
	}
	json_decref(call);
}
