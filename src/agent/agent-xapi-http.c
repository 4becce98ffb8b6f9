/* POST /api/v1/executor on the agent (docs/internals/executor-api.md). berth does not yet
 * launch custom executors, so no executor is ever known here: every call is checked as
 * Mesos checks it (method, Content-Type, JSON, the Call's fields: 4xx naming what is
 * wrong) and a well-formed one is answered as Mesos answers a call from an executor of an
 * unknown framework. Nothing is changed by any call. */
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

void agent_xapi_handle(struct agent *a, struct evhttp_request *req)
{
	(void)a;
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
	/* No framework has an executor on a berth agent (yet). */
	http_reply_text(req, 400, "Framework cannot be found");
	json_decref(call);
}
