/* Framework messages from custom executors (issue 19, docs/internals/executor-api.md): the
 * agent POSTs an executor's MESSAGE call to /api/berth/agent/message and the master sends
 * the framework a MESSAGE event; an executor's exit ("status" instead of "data") becomes a
 * FAILURE event. Best effort as in Mesos (a framework not subscribed now does not get it;
 * nothing is stored). */
#include <string.h>

#include "base/log.h"
#include "master/fw-int.h"
#include "net/http.h"

void rm_handle_agent_message(struct master *m, struct evhttp_request *req)
{
	json_t *body;
	struct m_agent *a = registry_agent_from_body(m, req, &body);
	if (!a)
		return;
	const char *fid = json_string_value(json_object_get(body, "framework_id"));
	const char *eid = json_string_value(json_object_get(body, "executor_id"));
	const char *data = json_string_value(json_object_get(body, "data"));
	const json_t *status = json_object_get(body, "status");
	if (!fid || !eid || !(data || json_is_integer(status))) {
		json_decref(body);
		http_reply_message(req, 400, "A message needs 'framework_id', 'executor_id' and "
					     "'data' (strings) or 'status' (an integer)");
		return;
	}
	struct fw_framework *fw = m->fw ? hmap_get(&m->fw->fws, fid) : NULL;
	if (!data && m->fw) /* the executor ended: its resources go back (fw-executors.c) */
		fw_executor_drop(m->fw, a->id, fid, eid, "it exited");
	json_t *ev = data ? json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:s}}", "type", "MESSAGE",
				      "message", "agent_id", "value", a->id, "executor_id",
				      "value", eid, "data", data)
			  : json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:I}}", "type", "FAILURE",
				      "failure", "agent_id", "value", a->id, "executor_id",
				      "value", eid, "status", json_integer_value(status));
	/* fw_send takes ev; without a framework (a built-in one's executor: pods) it goes here */
	if (!fw)
		json_decref(ev);
	if (!fw || fw_send(fw, ev) < 0)
		log_info("frameworks", "message from executor '%s' for framework '%s' dropped: "
				       "not subscribed", eid, fid);
	json_decref(body);
	http_reply_json(req, 202, json_object());
}
