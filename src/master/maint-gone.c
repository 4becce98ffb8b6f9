/* MARK_AGENT_GONE, and the end of a drain with mark_gone (Mesos master.cpp markGone,
 * master/http.cpp markAgentGone): the operator says the machine will never come back.
 *
 * Invariants:
 *  - a->gone is in the agent's store record before the call is answered and before any
 *    framework hears of it; nothing ever clears it (a new master recovers it, registry.c).
 *  - A gone agent is AGENT_UNREACHABLE without a stream: nothing is offered or placed
 *    there, no status update of it is taken, it is out of GET_AGENTS and /master/state, and
 *    a subscribe with its id is answered 410 (registry.c), on which berth's agent kills its
 *    tasks, forgets its id and exits (as a Mesos agent does on the master's
 *    ShutdownMessage). A restarted agent registers anew, under a new id.
 *  - Its tasks end once, when it is marked gone: TASK_GONE_BY_OPERATOR, reason
 *    REASON_SLAVE_REMOVED_BY_OPERATOR (TASK_LOST for frameworks that are not
 *    PARTITION_AWARE, as Mesos sends). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "master/fw-int.h"
#include "master/master-int.h"

int maint_mark_gone(struct master *m, struct m_agent *a)
{
	if (a->gone)
		return 0;
	bool deactivated = a->deactivated;
	a->gone = true;
	a->gone_usec = time_real_usec();
	a->deactivated = true;
	int r = registry_store_agent(m, a);
	if (r < 0) {
		a->gone = false;
		a->gone_usec = 0;
		a->deactivated = deactivated;
		return r;
	}
	log_info("master", "agent '%s' (%s) marked gone (%u tasks)", a->id, a->hostname,
		 a->ntasks);
	if (a->stream) {
		/* The agent's cue to stop, like Mesos's ShutdownMessage; it gets 410 if it
		 * misses it and subscribes again. */
		registry_send(a, json_pack("{s:s, s:s}", "type", "SHUTDOWN", "message",
					   "Agent has been marked gone"));
		struct http_stream *st = a->stream;
		a->stream = NULL;
		http_stream_close(st);
	}
	bool was_unreachable = a->state == AGENT_UNREACHABLE;
	a->state = AGENT_UNREACHABLE;
	if (!was_unreachable)
		operator_event_agent_removed(m, a);
	/* Also when it was unreachable already: the built-in frameworks still wait for it
	 * with pinned instances, which go now. */
	rm_route_agent_lost(m, a);
	fw_offers_wake_all(m->fw);
	return 0;
}

void maint_mark_gone_call(struct master *m, struct evhttp_request *req, const json_t *call)
{
	const char *id = json_string_value(json_object_get(
		json_object_get(json_object_get(call, "mark_agent_gone"), "agent_id"), "value"));
	char msg[300];
	if (!id) {
		http_reply_text(req, 400, "Expecting 'mark_agent_gone.agent_id.value'");
		return;
	}
	struct m_agent *a = rm_agent_get(m, id);
	if (!a) {
		snprintf(msg, sizeof(msg), "Agent '%.200s' not found", id);
		http_reply_text(req, 404, msg);
		return;
	}
	if (a->gone) { /* Mesos answers 200 to an agent already gone */
		http_reply_text(req, 200, "");
		return;
	}
	int r = maint_mark_gone(m, a);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "Cannot persist the agent: %s", strerror(-r));
		http_reply_text(req, 503, msg);
		return;
	}
	http_reply_text(req, 200, "");
}
