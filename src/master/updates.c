/* Status-update intake by group commit.
 *
 * An agent POSTs its status updates in batches and treats the uuids of the answer as
 * acknowledged: it forgets them. So an update must be in the store before its batch is
 * answered. One store commit (an fsync) per batch made the master's update rate the disk's
 * fsync rate; a cluster of thousands of agents sends far more batches than that.
 *
 * Invariants:
 *  - A batch is only parsed and checked when it arrives; it changes nothing until
 *    updates_flush, which applies every queued batch in one transaction, commits, and only
 *    then answers each request (200 with its uuids, or 503 when the commit failed).
 *  - Nothing else writes to the store between the apply and the commit: updates_flush runs
 *    them back to back, so no other request's write joins (and is acknowledged with) this
 *    transaction, and no update is answered before it is durable.
 *  - updates_flush runs at the end of the event-loop iteration the first batch arrived in
 *    (an event made active then runs after every event already active), so the batches of
 *    all agents whose requests were read in that iteration share one commit. The queue is
 *    bounded: past UPDATES_MAX_QUEUED updates it is flushed at once.
 *  - A request stays valid until it is answered: its connection's events are handled in a
 *    later iteration than the one that queued it. */
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "master/master-int.h"

#define UPDATES_MAX_BATCH 4096     /* updates in one request */
#define UPDATES_MAX_QUEUED 65536   /* updates waiting for one commit */

static void on_flush(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	updates_flush(ctx);
}

void updates_queue(struct master *m, struct m_agent *a, json_t *updates,
		   struct evhttp_request *req)
{
	if (m->nub == m->ub_cap) {
		m->ub_cap = m->ub_cap ? m->ub_cap * 2 : 64;
		m->ub = xrealloc(m->ub, m->ub_cap * sizeof(*m->ub));
	}
	m->ub[m->nub++] = (struct m_update_batch){ .agent_id = xstrdup(a->id),
						   .updates = updates, .req = req };
	m->ub_updates += json_array_size(updates);
	if (m->ub_updates >= UPDATES_MAX_QUEUED) {
		updates_flush(m);
		return;
	}
	if (!m->updates_ev && m->base)
		m->updates_ev = event_new(m->base, -1, 0, on_flush, m);
	if (m->updates_ev)
		event_active(m->updates_ev, 0, 0);
}

/* Hands an update to the framework that owns its task: a built-in one, an external one, or
 * nobody (then the task is killed unless it has ended). */
void rm_route_status(struct master *m, struct m_agent *a, const json_t *u)
{
	for (size_t i = 0; i < m->nclients; i++)
		if (m->clients[i]->ops->status_update(m->clients[i]->ctx, a, u))
			return;
	if (frameworks_status_update(m, a, u))
		return;
	const char *task_id = json_string_value(json_object_get(u, "task_id"));
	const char *state = json_string_value(json_object_get(u, "state"));
	if (!task_state_terminal(state))
		registry_kill_unknown(a, task_id);
}

/* Applies one batch (inside the flush's transaction); the uuids taken go to acked. */
static void apply(struct master *m, struct m_agent *a, const json_t *updates, json_t *acked)
{
	size_t i;
	json_t *u;
	json_array_foreach(updates, i, u) {
		const char *uuid = json_string_value(json_object_get(u, "uuid"));
		if (!uuid || !json_string_value(json_object_get(u, "task_id")) ||
		    !json_string_value(json_object_get(u, "state")))
			continue; /* malformed: acknowledged as nothing */
		rm_route_status(m, a, u);
		json_array_append_new(acked, json_string(uuid));
	}
}

size_t updates_flush(struct master *m)
{
	size_t n = m->nub, taken = 0;
	if (!n)
		return 0;
	struct m_update_batch *q = m->ub;
	m->ub = NULL;
	m->nub = m->ub_cap = m->ub_updates = 0;
	json_t **acked = xcalloc(n, sizeof(*acked));
	int txn = store_txn_begin(m->store);
	for (size_t i = 0; i < n; i++) {
		struct m_agent *a = hmap_get(&m->agents, q[i].agent_id);
		/* Given up while its batch waited: it must subscribe again (which kills them). */
		if (!a || a->state == AGENT_UNREACHABLE)
			continue;
		acked[i] = json_array();
		apply(m, a, q[i].updates, acked[i]);
		taken += json_array_size(acked[i]);
	}
	bool ok = txn != 0 || store_txn_commit(m->store) == 0;
	if (!ok)
		log_error("master", "cannot commit %zu status updates of %zu agents", taken, n);
	for (size_t i = 0; i < n; i++) {
		struct evhttp_request *req = q[i].req;
		if (req && !acked[i])
			http_reply_message(req, 404, "Agent '%s' must subscribe again", q[i].agent_id);
		else if (req && !ok)
			http_reply_message(req, 503, "Cannot persist the status updates");
		else if (req)
			http_reply_json(req, 200, json_pack("{s:O}", "acknowledged", acked[i]));
		json_decref(acked[i]);
		json_decref(q[i].updates);
		free(q[i].agent_id);
	}
	free(acked);
	free(q);
	rm_wake_all(m);
	return ok ? taken : 0;
}

void rm_handle_agent_update(struct master *m, struct evhttp_request *req)
{
	json_t *body;
	struct m_agent *a = registry_agent_from_body(m, req, &body);
	if (!a)
		return;
	json_t *updates = json_object_get(body, "updates");
	if (!json_is_array(updates) || json_array_size(updates) > UPDATES_MAX_BATCH) {
		http_reply_message(req, 400, "'updates' must be an array of at most %d updates",
				   UPDATES_MAX_BATCH);
		json_decref(body);
		return;
	}
	if (a->state == AGENT_UNREACHABLE) {
		/* Its tasks were given up: it must subscribe again (which kills them). */
		http_reply_message(req, 404, "Agent '%s' must subscribe again", a->id);
		json_decref(body);
		return;
	}
	a->last_seen_usec = time_mono_usec();
	updates_queue(m, a, json_incref(updates), req);
	json_decref(body);
}

void updates_free(struct master *m)
{
	if (m->updates_ev)
		event_free(m->updates_ev);
	m->updates_ev = NULL;
	for (size_t i = 0; i < m->nub; i++) {
		if (m->ub[i].req)
			http_reply_message(m->ub[i].req, 503, "The master is shutting down");
		json_decref(m->ub[i].updates);
		free(m->ub[i].agent_id);
	}
	free(m->ub);
	m->ub = NULL;
	m->nub = m->ub_cap = m->ub_updates = 0;
}
