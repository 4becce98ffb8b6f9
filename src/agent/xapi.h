/* The v1 executor API's wire (Mesos executor.proto in its JSON form), pure: validating an
 * executor's Call, rendering the agent's Events, and the environment Mesos gives an
 * executor. No I/O; the agent's HTTP side (POST /api/v1/executor) is built on it.
 *
 * Shapes (Mesos 1.x, mesos/v1/executor/executor.proto):
 *   Call  {"type":"SUBSCRIBE"|"UPDATE"|"MESSAGE"|"HEARTBEAT",
 *          "executor_id":{"value":s}, "framework_id":{"value":s},
 *          "subscribe":{"unacknowledged_tasks":[TaskInfo],
 *                       "unacknowledged_updates":[{"status":TaskStatus}]},
 *          "update":{"status":TaskStatus}, "message":{"data":base64}}
 *   Event {"type":"SUBSCRIBED"|"LAUNCH"|"LAUNCH_GROUP"|"KILL"|"ACKNOWLEDGED"|"MESSAGE"|
 *                 "ERROR"|"SHUTDOWN"|"HEARTBEAT", "<type in lower case>":{...}} */
#pragma once
#include <jansson.h>
#include <stddef.h>

enum xapi_call_type { XAPI_SUBSCRIBE = 1, XAPI_UPDATE, XAPI_MESSAGE, XAPI_HEARTBEAT };

struct xapi_call {
	enum xapi_call_type type;
	const char *executor_id, *framework_id; /* borrowed from the parsed JSON */
	json_t *status;       /* UPDATE: the TaskStatus (borrowed) */
	const char *task_id;  /* UPDATE: status.task_id.value */
	const char *state;    /* UPDATE: status.state */
	const char *uuid;     /* UPDATE: status.uuid (base64) */
	const char *data;     /* MESSAGE: base64 */
	json_t *tasks;        /* SUBSCRIBE: unacknowledged_tasks (borrowed array or NULL) */
	json_t *updates;      /* SUBSCRIBE: unacknowledged_updates (borrowed array or NULL) */
};

#define XAPI_MAX_UNACKED 10000

/* Checks a Call; on success fills *c with pointers into `call` (valid while it lives).
 * On error: -EINVAL and a message naming the field in err (the agent answers 400 with it). */
int xapi_call_parse(json_t *call, struct xapi_call *c, char *err, size_t errlen);

/* The static name of a TASK_* state (t->state must outlive the call), or NULL. */
const char *xapi_state_name(const char *s);

/* Events (new references). */
json_t *xapi_event_subscribed(json_t *executor_info, json_t *framework_info,
			      json_t *agent_info, const char *container_id);
json_t *xapi_event_launch(json_t *task_info);
json_t *xapi_event_launch_group(json_t *tasks); /* [TaskInfo] */
json_t *xapi_event_kill(const char *task_id, double grace_seconds); /* < 0: no kill_policy */
json_t *xapi_event_acknowledged(const char *task_id, const char *uuid);
json_t *xapi_event_message(const char *data_b64);
json_t *xapi_event_error(const char *message);
json_t *xapi_event_plain(const char *type); /* SHUTDOWN, HEARTBEAT */

/* The executor's environment, as Mesos's agent sets it. */
struct xapi_env_in {
	const char *framework_id, *executor_id, *agent_id;
	const char *sandbox;        /* MESOS_DIRECTORY and MESOS_SANDBOX */
	const char *agent_endpoint; /* host:port */
	int checkpoint;             /* framework_info.checkpoint */
	double grace_seconds;       /* MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD */
	const char *auth_token;     /* MESOS_EXECUTOR_AUTHENTICATION_TOKEN, or NULL */
};
/* Appends "NAME=value" strings (malloc'd) to out[*n...]; at most cap entries in all.
 * Returns how many were added, or -ENOSPC. */
int xapi_env(const struct xapi_env_in *in, char **out, size_t *n, size_t cap);
/* Mesos's Duration text: "5secs", "2.5secs", "100ms"… into buf. */
void xapi_duration(double seconds, char *buf, size_t len);
