/* POST /api/v1/executor on the agent (docs/internals/executor-api.md). Every call is
 * checked as Mesos checks it (method, Content-Type, JSON, the Call's fields: 4xx naming
 * what is wrong, changing nothing); a well-formed one from an executor the agent does not
 * run is answered as Mesos answers an unknown framework's. Executors the agent started
 * (agent-xexec.c) SUBSCRIBE (a RecordIO event stream) and send UPDATEs. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agent/agent-int.h"
#include "agent/xapi.h"
#include "net/http.h"

static bool is_json(const char *v)
{
	static const char t[] = "application/json";
	while (*v == ' ')
		v++;
	size_t n = sizeof(t) - 1;
	return !strncasecmp(v, t, n) && (v[n] == '\0' || v[n] == ';' || v[n] == ' ');
}


/* UPDATE: the executor's status becomes the task's status update to the master (the
 * agent's update FIFO, as a shim's); ACKNOWLEDGED is sent on the stream at once, once the
 * update is safely queued (the agent, not the scheduler, then owns its delivery). */
static void xapi_update(struct agent *a, struct agent_xexec *x, struct evhttp_request *req,
			const struct xapi_call *c)
{
	struct agent_task *t = agent_task_find(a, c->task_id);
	const char *state = xapi_state_name(c->state);
	if (!t || t->xexec != x) {
		http_reply_text(req, 400, "Task is unknown to this executor");
		return;
	}
	if (!state) {
		http_reply_text(req, 400, "Failed to validate executor::Call: unknown 'state'");
		return;
	}
	agent_xexec_status_seen(x, c->task_id, c->status);
	if (!t->terminal) {
		const char *msg = json_string_value(json_object_get(c->status, "message"));
		const char *reason = json_string_value(json_object_get(c->status, "reason"));
		struct agent_update *u = agent_task_report(t, state, msg, reason);
		/* the default executor's nested container (agent-protocol.md §3) */
		const json_t *cid = json_object_get(json_object_get(c->status, "container_status"),
						    "container_id");
		if (u && json_is_string(json_object_get(cid, "value")))
			json_object_set_new(u->json, "container_id", json_deep_copy(cid));
		/* a health check's result (the default executor runs TaskInfo.health_check) */
		const json_t *healthy = json_object_get(c->status, "healthy");
		if (u && json_is_boolean(healthy))
			json_object_set(u->json, "healthy", (json_t *)healthy);
		if (t->terminal)
			t->xexec = NULL; /* done with its executor */
	}
	http_reply_text(req, 202, "");
	if (c->uuid)
		agent_xexec_acknowledged(x, c->task_id, c->uuid);
}

void agent_xapi_handle(struct agent *a, struct evhttp_request *req)
{
	/* Mesos authenticates first: with --credentials, only an executor's own token. */
	struct agent_xexec *authed = NULL;
	if (a->http_auth && !(authed = agent_xexec_by_token(a, agent_auth_bearer(req)))) {
		agent_auth_challenge(req, "mesos-agent-executor", true);
		return;
	}
	enum evhttp_cmd_type meth = evhttp_request_get_command(req);
	if (meth != EVHTTP_REQ_POST) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Expecting 'POST', received '%s'",
			 http_method_name(meth));
		http_add_header(req, "Allow", "POST");
		http_reply_text(req, 405, msg);
		return;
	}
	const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req),
					       "Content-Type");
	if (!ctype) {
		http_reply_text(req, 400, "Expecting 'Content-Type' to be present");
		return;
	}
	if (!is_json(ctype)) {
		http_reply_text(req, 415, "Expecting 'Content-Type' of application/json (berth does "
					  "not serve application/x-protobuf)");
		return;
	}
	char perr[200], msg[400];
	json_t *call;
	if (http_request_json(req, &call, perr, sizeof(perr)) < 0) {
		snprintf(msg, sizeof(msg), "Failed to parse body into JSON: %s", perr);
		http_reply_text(req, 400, msg);
		return;
	}
	struct xapi_call c;
	char err[256];
	if (xapi_call_parse(call, &c, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "Failed to validate executor::Call: %s", err);
		http_reply_text(req, 400, msg);
		json_decref(call);
		return;
	}
	struct agent_xexec *x = agent_xexec_find(a, c.framework_id, c.executor_id);
	if (!x) {
		/* Mesos: an executor of a framework (or an executor) the agent does not run. */
		http_reply_text(req, 400, "Framework cannot be found");
	} else if (authed && authed != x) {
		/* a valid token, but another executor's: Mesos's authorization refusal */
		http_reply_text(req, 403, "The executor's token does not name this executor");
	} else if (c.type == XAPI_SUBSCRIBE) {
		agent_xexec_subscribe(a, x, req, &c);
	} else if (c.type == XAPI_UPDATE) {
		xapi_update(a, x, req, &c);
	} else {
		/* MESSAGE goes to the scheduler (best effort); HEARTBEAT does nothing. */
		if (c.type == XAPI_MESSAGE)
			agent_link_message(a, c.framework_id, c.executor_id, c.data, 0);
		http_reply_text(req, 202, "");
	}
	json_decref(call);
}
