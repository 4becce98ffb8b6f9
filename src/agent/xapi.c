/* The v1 executor API's wire: see xapi.h. Invariant: xapi_call_parse changes nothing and
 * accepts only what the agent can act on (every field it reads is checked for its type and
 * bounds first), so the HTTP side never sees a half-valid call. */
#include "agent/xapi.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define ID_MAX 255

static const char *id_value(json_t *o, const char *field, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, field);
	if (!v) {
		snprintf(err, errlen, "Expecting '%s' to be present", field);
		return NULL;
	}
	const char *s = json_string_value(json_object_get(v, "value"));
	if (!json_is_object(v) || !s) {
		snprintf(err, errlen, "'%s.value' must be a string", field);
		return NULL;
	}
	size_t l = strlen(s);
	if (l == 0 || l > ID_MAX) {
		snprintf(err, errlen, "'%s.value' must be 1 to %d bytes", field, ID_MAX);
		return NULL;
	}
	for (size_t i = 0; i < l; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(err, errlen, "'%s.value' has a control character", field);
			return NULL;
		}
	return s;
}

static bool b64_ok(const char *s)
{
	size_t l = strlen(s), pad = 0;
	if (l % 4)
		return false;
	for (size_t i = 0; i < l; i++) {
		char ch = s[i];
		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad) /* '=' only at the end */
			return false;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
			return false;
	}
	return pad <= 2;
}

static const char *const task_states[] = {
	"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED",
	"TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED",
	"TASK_UNREACHABLE", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
};

/* A TaskStatus from an executor: task_id, a known state, a uuid (the agent acknowledges by
 * it); `where` names it in errors. */
static int status_check(json_t *st, const char *where, const char **task_id,
			const char **state, const char **uuid, char *err, size_t errlen)
{
	if (!json_is_object(st)) {
		snprintf(err, errlen, "'%s' must be an object", where);
		return -EINVAL;
	}
	char sub[128];
	const char *tid = id_value(st, "task_id", sub, sizeof(sub));
	if (!tid) {
		snprintf(err, errlen, "%s: %s", where, sub);
		return -EINVAL;
	}
	const char *s = json_string_value(json_object_get(st, "state"));
	bool known = false;
	for (size_t i = 0; s && i < sizeof(task_states) / sizeof(*task_states); i++)
		known |= !strcmp(s, task_states[i]);
	if (!known) {
		snprintf(err, errlen, "'%s.state' must be a TaskState name", where);
		return -EINVAL;
	}
	const char *u = json_string_value(json_object_get(st, "uuid"));
	if (!u || !*u || strlen(u) > 64 || !b64_ok(u)) {
		snprintf(err, errlen, "'%s.uuid' must be present (base64 bytes)", where);
		return -EINVAL;
	}
	json_t *m = json_object_get(st, "message");
	if (m && !json_is_string(m)) {
		snprintf(err, errlen, "'%s.message' must be a string", where);
		return -EINVAL;
	}
	json_t *d = json_object_get(st, "data");
	if (d && (!json_is_string(d) || !b64_ok(json_string_value(d)))) {
		snprintf(err, errlen, "'%s.data' must be base64", where);
		return -EINVAL;
	}
	*task_id = tid;
	*state = s;
	*uuid = u;
	return 0;
}

static int subscribe_check(json_t *sub, struct xapi_call *c, char *err, size_t errlen)
{
	if (!sub)
		return 0;
	if (!json_is_object(sub)) {
		snprintf(err, errlen, "'subscribe' must be an object");
		return -EINVAL;
	}
	json_t *tasks = json_object_get(sub, "unacknowledged_tasks");
	json_t *ups = json_object_get(sub, "unacknowledged_updates");
	if (tasks && (!json_is_array(tasks) || json_array_size(tasks) > XAPI_MAX_UNACKED)) {
		snprintf(err, errlen, "'subscribe.unacknowledged_tasks' must be an array of at "
				      "most %d TaskInfo", XAPI_MAX_UNACKED);
		return -EINVAL;
	}
	if (ups && (!json_is_array(ups) || json_array_size(ups) > XAPI_MAX_UNACKED)) {
		snprintf(err, errlen, "'subscribe.unacknowledged_updates' must be an array of at "
				      "most %d updates", XAPI_MAX_UNACKED);
		return -EINVAL;
	}
	size_t i;
	json_t *v;
	json_array_foreach(tasks, i, v) {
		char sub2[128];
		if (!json_is_object(v) || !id_value(v, "task_id", sub2, sizeof(sub2))) {
			snprintf(err, errlen, "'subscribe.unacknowledged_tasks[%zu]' must be a "
					      "TaskInfo with 'task_id'", i);
			return -EINVAL;
		}
	}
	json_array_foreach(ups, i, v) {
		char where[64];
		const char *a, *b, *u;
		snprintf(where, sizeof(where), "subscribe.unacknowledged_updates[%zu].status", i);
		if (status_check(json_object_get(v, "status"), where, &a, &b, &u, err, errlen))
			return -EINVAL;
	}
	c->tasks = tasks;
	c->updates = ups;
	return 0;
}

int xapi_call_parse(json_t *call, struct xapi_call *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (!json_is_object(call)) {
		snprintf(err, errlen, "Expecting a JSON object");
		return -EINVAL;
	}
	const char *t = json_string_value(json_object_get(call, "type"));
	if (!t) {
		snprintf(err, errlen, "Expecting 'type' to be present");
		return -EINVAL;
	}
	if (!strcmp(t, "SUBSCRIBE"))
		c->type = XAPI_SUBSCRIBE;
	else if (!strcmp(t, "UPDATE"))
		c->type = XAPI_UPDATE;
	else if (!strcmp(t, "MESSAGE"))
		c->type = XAPI_MESSAGE;
	else if (!strcmp(t, "HEARTBEAT"))
		c->type = XAPI_HEARTBEAT;
	else {
		snprintf(err, errlen, "Unknown call type '%.64s'", t);
		return -EINVAL;
	}
	if (!(c->executor_id = id_value(call, "executor_id", err, errlen)) ||
	    !(c->framework_id = id_value(call, "framework_id", err, errlen)))
		return -EINVAL;
	switch (c->type) {
	case XAPI_SUBSCRIBE:
		return subscribe_check(json_object_get(call, "subscribe"), c, err, errlen);
	case XAPI_UPDATE: {
		json_t *up = json_object_get(call, "update");
		if (!json_is_object(up)) {
			snprintf(err, errlen, "Expecting 'update' to be present");
			return -EINVAL;
		}
		c->status = json_object_get(up, "status");
		return status_check(c->status, "update.status", &c->task_id, &c->state, &c->uuid,
				    err, errlen);
	}
	case XAPI_MESSAGE: {
		json_t *m = json_object_get(call, "message");
		const char *d = json_string_value(json_object_get(m, "data"));
		if (!json_is_object(m) || !d || !b64_ok(d)) {
			snprintf(err, errlen, "Expecting 'message.data' to be present (base64)");
			return -EINVAL;
		}
		c->data = d;
		return 0;
	}
	case XAPI_HEARTBEAT:
		return 0;
	}
	return -EINVAL;
}

static json_t *event(const char *type, const char *field, json_t *body)
{
	json_t *e = json_pack("{s:s}", "type", type);
	if (field)
		json_object_set_new(e, field, body);
	return e;
}

static json_t *idv(const char *v)
{
	return json_pack("{s:s}", "value", v);
}

json_t *xapi_event_subscribed(json_t *executor_info, json_t *framework_info,
			      json_t *agent_info, const char *container_id)
{
	json_t *b = json_pack("{s:O,s:O,s:O}", "executor_info", executor_info,
			      "framework_info", framework_info, "agent_info", agent_info);
	if (container_id)
		json_object_set_new(b, "container_id", idv(container_id));
	return event("SUBSCRIBED", "subscribed", b);
}

json_t *xapi_event_launch(json_t *task_info)
{
	return event("LAUNCH", "launch", json_pack("{s:O}", "task", task_info));
}

json_t *xapi_event_launch_group(json_t *tasks)
{
	return event("LAUNCH_GROUP", "launch_group",
		     json_pack("{s:{s:O}}", "task_group", "tasks", tasks));
}

json_t *xapi_event_kill(const char *task_id, double grace_seconds)
{
	json_t *b = json_pack("{s:o}", "task_id", idv(task_id));
	if (grace_seconds >= 0)
		json_object_set_new(b, "kill_policy",
				    json_pack("{s:{s:I}}", "grace_period", "nanoseconds",
					      (json_int_t)(grace_seconds * 1e9)));
	return event("KILL", "kill", b);
}

json_t *xapi_event_acknowledged(const char *task_id, const char *uuid)
{
	return event("ACKNOWLEDGED", "acknowledged",
		     json_pack("{s:o,s:s}", "task_id", idv(task_id), "uuid", uuid));
}

json_t *xapi_event_message(const char *data_b64)
{
	return event("MESSAGE", "message", json_pack("{s:s}", "data", data_b64));
}

json_t *xapi_event_error(const char *message)
{
	return event("ERROR", "error", json_pack("{s:s}", "message", message));
}

json_t *xapi_event_plain(const char *type)
{
	return event(type, NULL, NULL);
}

void xapi_duration(double seconds, char *buf, size_t len)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 1 && seconds > 0)
		snprintf(buf, len, "%gms", seconds * 1000);
	else
		snprintf(buf, len, "%gsecs", seconds);
}

static int add(char **out, size_t *n, size_t cap, char *s)
{
	if (*n >= cap) {
		free(s);
		return -ENOSPC;
	}
	out[(*n)++] = s;
	return 0;
}

int xapi_env(const struct xapi_env_in *in, char **out, size_t *n, size_t cap)
{
	size_t start = *n;
	char dur[32];
	xapi_duration(in->grace_seconds, dur, sizeof(dur));
	char *v[] = {
		xasprintf("MESOS_FRAMEWORK_ID=%s", in->framework_id),
		xasprintf("MESOS_EXECUTOR_ID=%s", in->executor_id),
		xasprintf("MESOS_SLAVE_ID=%s", in->agent_id),
		xasprintf("MESOS_SLAVE_PID=slave(1)@%s", in->agent_endpoint),
		xasprintf("MESOS_DIRECTORY=%s", in->sandbox),
		xasprintf("MESOS_SANDBOX=%s", in->sandbox),
		xasprintf("MESOS_AGENT_ENDPOINT=%s", in->agent_endpoint),
		xasprintf("MESOS_CHECKPOINT=%d", in->checkpoint ? 1 : 0),
		xasprintf("MESOS_HTTP_COMMAND_EXECUTOR=0"),
		xasprintf("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=%s", dur),
		/* only for checkpointing frameworks, as Mesos does */
		in->checkpoint ? xasprintf("MESOS_SUBSCRIPTION_BACKOFF_MAX=2secs") : NULL,
		in->checkpoint ? xasprintf("MESOS_RECOVERY_TIMEOUT=15mins") : NULL,
		/* only when the agent authenticates executors, as Mesos does */
		in->auth_token ? xasprintf("MESOS_EXECUTOR_AUTHENTICATION_TOKEN=%s",
					   in->auth_token) : NULL,
	};
	int r = 0;
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		if (!v[i])
			continue;
		if (r)
			free(v[i]);
		else
			r = add(out, n, cap, v[i]);
	}
	if (r) {
		while (*n > start)
			free(out[--*n]);
		return r;
	}
	return (int)(*n - start);
}

const char *xapi_state_name(const char *s)
{
	static const char *const names[] = {
		"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED",
		"TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED",
		"TASK_UNREACHABLE", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
	};
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], s))
			return names[i];
	return NULL;
}
