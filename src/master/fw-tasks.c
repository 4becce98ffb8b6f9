/* Tasks of external frameworks: status updates from agents to UPDATE events, ACKNOWLEDGE,
 * KILL, RECONCILE, persistence (fwtasks/<task id>) and recovery after restarts.
 *
 * Status updates are acknowledged to the agent at once (the registry does it); reliability
 * towards the framework is kept here instead: the latest status of a task, when it carries
 * a uuid, is sent again every FW_RESEND_SEC and on every re-subscription until the
 * framework ACKNOWLEDGEs it. A task in a terminal state is forgotten once acknowledged.
 *
 * Tasks loaded at start hold nothing until their agent reports them: the agent reports its
 * tasks when it (re)registers and frameworks_task_recovered takes in the ledger what each
 * of ours holds (a task held already keeps its take). A task of ours on that agent the
 * agent did not report is lost: fw_tasks_tick notices the new registration by a change of
 * the agent's stream (struct fw_agent_view), reports such tasks lost and gives back what
 * they held.
 *
 * The tick costs O(agents + tasks that need it), not O(tasks), through two indexes kept
 * here (fw-int.h):
 *  - fws->agent_tasks: every task, on its agent's list (added by fw_task_new, removed by
 *    fw_task_free). Lost tasks are looked for only on the list of an agent whose view's
 *    gen moved past swept_gen; this finds them all because every task gets the current
 *    gen when it is launched or recovered, and load_task (agent_gen 0) resets swept_gen.
 *    So: after a sweep, until the gen moves, every task on the agent has agent_gen >= gen.
 *  - fws->watched: exactly the tasks with kill_pending, or a status not acked (task_watch,
 *    called wherever those change; they are written nowhere else).
 * The index lists are released with the last task, so frameworks_free needs nothing more
 * than fw_task_free on each task. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "json/jtext.h"
#include "master/fw-int.h"
#include "model/mesos-resources.h"

/* The state to report for a task the master no longer knows or that its agent lost. */
static const char *gone_state(const struct fw_framework *fw)
{
	return fw && fw->partition_aware ? "TASK_GONE" : "TASK_LOST";
}

/* ---- indexes ---- */

static void list_add(struct fw_task_list *l, struct fw_task *t, enum fw_task_slot s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	t->slot[s] = l->n;
	l->v[l->n++] = t;
}

/* Takes t off l: the last task of l moves into its place (so a walk that may remove the
 * task it is at goes from the end). */
static void list_del(struct fw_task_list *l, struct fw_task *t, enum fw_task_slot s)
{
	size_t i = t->slot[s];
	assert(i < l->n && l->v[i] == t);
	struct fw_task *last = l->v[--l->n];
	l->v[i] = last;
	last->slot[s] = i;
	t->slot[s] = FW_NO_SLOT;
}

static void task_index(struct fw_task *t)
{
	struct frameworks *fws = t->fws;
	struct fw_task_list *l = hmap_get(&fws->agent_tasks, t->agent_id);
	if (!l) {
		l = xcalloc(1, sizeof(*l));
		hmap_put(&fws->agent_tasks, t->agent_id, l);
	}
	list_add(l, t, FW_SLOT_AGENT);
	t->slot[FW_SLOT_WATCH] = FW_NO_SLOT;
}

/* An agent's list goes with its last task, the index tables with the last task of all. */
static void task_unindex(struct fw_task *t)
{
	struct frameworks *fws = t->fws;
	if (t->slot[FW_SLOT_WATCH] != FW_NO_SLOT)
		list_del(&fws->watched, t, FW_SLOT_WATCH);
	struct fw_task_list *l = hmap_get(&fws->agent_tasks, t->agent_id);
	assert(l);
	list_del(l, t, FW_SLOT_AGENT);
	if (l->n)
		return;
	hmap_del(&fws->agent_tasks, t->agent_id);
	free(l->v);
	free(l);
	if (hmap_len(&fws->agent_tasks))
		return;
	hmap_release(&fws->agent_tasks);
	free(fws->watched.v);
	fws->watched = (struct fw_task_list){ NULL, 0, 0 };
}

/* Keeps t on fws->watched exactly while fw_tasks_tick has something to do for it; called
 * after every change of kill_pending, status or acked. */
static void task_watch(struct fw_task *t)
{
	bool want = t->kill_pending || (t->status && !t->acked);
	bool on = t->slot[FW_SLOT_WATCH] != FW_NO_SLOT;
	if (want && !on)
		list_add(&t->fws->watched, t, FW_SLOT_WATCH);
	else if (!want && on)
		list_del(&t->fws->watched, t, FW_SLOT_WATCH);
}

/* ---- tasks ---- */

struct fw_task *fw_task_new(struct frameworks *fws, struct fw_framework *fw, const char *id,
			    const char *agent_id)
{
	struct fw_task *t = xcalloc(1, sizeof(*t));
	t->id = xstrdup(id);
	t->fws = fws;
	t->fw = fw;
	t->fw_id = xstrdup(fw->id);
	t->agent_id = xstrdup(agent_id);
	t->state = "TASK_STAGING";
	t->grace_sec = 3.0;
	t->acked = true;
	hmap_put(&fws->tasks, t->id, t);
	task_index(t);
	operator_event_fw_task_added(fws->m, t->id);
	return t;
}

void fw_task_free(struct fw_task *t)
{
	if (!t)
		return;
	task_unindex(t);
	free(t->id);
	free(t->fw_id);
	free(t->agent_id);
	free(t->name);
	free(t->group);
	free(t->alloc_role);
	resources_release(&t->res);
	free(t->status);
	free(t);
}

int fw_task_hold(struct frameworks *fws, struct fw_task *t, struct m_agent *a)
{
	if (t->held)
		return 0;
	const char *role = quota_fw_task_role(t);
	if (ledger_take(fws->m, a, role, NULL, &t->res) < 0) {
		log_warn("frameworks", "agent '%s' holds more than it offers (task '%s')", a->id,
			 t->id);
		return -ENOSPC;
	}
	free(t->alloc_role);
	t->alloc_role = xstrdup(role);
	rm_task_placed(fws->m, a, NULL);
	if (t->fw) {
		resources_add(&t->fw->used, &t->res);
		t->fw->ntasks++;
	}
	t->held = true;
	return 0;
}

void fw_task_release(struct frameworks *fws, struct fw_task *t)
{
	if (!t->held)
		return;
	struct m_agent *a = hmap_get(&fws->m->agents, t->agent_id);
	ledger_give(fws->m, a, t->alloc_role, NULL, &t->res);
	rm_task_gone(fws->m, a, NULL);
	if (t->fw) {
		if (resources_subtract(&t->fw->used, &t->res) < 0)
			resources_release(&t->fw->used);
		if (t->fw->ntasks)
			t->fw->ntasks--;
	}
	free(t->alloc_role);
	t->alloc_role = NULL;
	t->held = false;
}

void fw_task_forget(struct frameworks *fws, struct fw_task *t)
{
	operator_event_fw_task_gone(fws->m, t);
	fw_task_release(fws, t);
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "fwtasks/%s", t->id);
	int r = store_delete(fws->m->store, key, STORE_ANY_VERSION);
	if (r < 0 && r != -ENOENT)
		log_warn("frameworks", "cannot delete '%s': %s", key, strerror(-r));
	hmap_del(&fws->tasks, t->id);
	hmap_del(&fws->dirty, t->id);
	fw_task_free(t);
}

void fw_task_queue(struct frameworks *fws, struct fw_task *t, json_t *launch_record)
{
	hmap_put(&fws->dirty, t->id, (void *)1);
	if (launch_record)
		json_array_append_new(fws->launches,
				      json_pack("{s:s, s:s, s:o}", "agent", t->agent_id, "task",
						t->id, "record", launch_record));
	if (fws->flush_ev)
		event_active(fws->flush_ev, 0, 0);
}

static int task_store(struct frameworks *fws, const struct fw_task *t, struct strbuf *sb);

/* Acknowledgements go with the same flush (the 202 has gone out by then): one lost in a
 * crash in between only makes the master send that status again after the restart, which
 * the protocol allows (at-least-once). */
void fw_flush(struct frameworks *fws)
{
	if (hmap_len(&fws->dirty)) {
		int txn = store_txn_begin(fws->m->store);
		struct strbuf sb = STRBUF_INIT;
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(&fws->dirty, &i, &k, &v);) {
			struct fw_task *t = hmap_get(&fws->tasks, k);
			if (t)
				task_store(fws, t, &sb);
		}
		strbuf_release(&sb);
		if (txn == 0 && store_txn_commit(fws->m->store) < 0)
			log_error("frameworks", "cannot commit %zu framework tasks",
				  hmap_len(&fws->dirty));
		hmap_release(&fws->dirty); /* and empty again */
	}
	if (!json_array_size(fws->launches))
		return;
	json_t *q = fws->launches;
	fws->launches = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(q, i, e) {
		struct fw_task *t = hmap_get(&fws->tasks, json_string_value(json_object_get(e, "task")));
		struct m_agent *a =
			hmap_get(&fws->m->agents, json_string_value(json_object_get(e, "agent")));
		/* Killed or gone before its LAUNCH went out: the agent never hears of it (a KILL
		 * already sent makes it report the task unknown, which ends it). */
		if (!t || task_state_terminal(t->state) || t->kill_sent || t->kill_pending || !a)
			continue;
		/* If the agent's stream just broke, it re-registers without the task: the task
		 * is then reported lost (fw_tasks_tick). */
		if (registry_send(a, json_incref(json_object_get(e, "record"))) == 0)
			rm_count_launch(fws->m);
	}
	json_decref(q);
}

/* ---- the store record ----
 * fwtasks/<task id> is {"task_id", "framework_id", "agent_id", "name", "state",
 * "resources" (text), "grace" (a real), "acked" (a bool) [, "status" (the TaskStatus)]},
 * read back by load_task with jansson. It is written as text: building a tree for it
 * cost more than the rest of storing a task. */

/* Appends t's record to sb; -EINVAL (nothing written) when grace_sec is not finite, which
 * JSON cannot say. */
static int task_record(struct strbuf *sb, const struct fw_task *t)
{
	if (!isfinite(t->grace_sec))
		return -EINVAL;
	strbuf_adds(sb, "{\"task_id\":");
	jtext_str(sb, t->id);
	strbuf_adds(sb, ",\"framework_id\":");
	jtext_str(sb, t->fw_id);
	strbuf_adds(sb, ",\"agent_id\":");
	jtext_str(sb, t->agent_id);
	strbuf_adds(sb, ",\"name\":");
	jtext_str(sb, t->name ? t->name : "");
	if (t->group) {
		strbuf_adds(sb, ",\"group\":");
		jtext_str(sb, t->group);
	}
	strbuf_adds(sb, ",\"state\":");
	jtext_str(sb, t->state);
	strbuf_adds(sb, ",\"resources\":");
	char *res = resources_format(&t->res);
	jtext_str(sb, res);
	free(res);
	strbuf_adds(sb, ",\"grace\":");
	jtext_real(sb, t->grace_sec);
	strbuf_adds(sb, t->acked ? ",\"acked\":true" : ",\"acked\":false");
	if (t->status) { /* JSON text already (fw_task_set_status) */
		strbuf_adds(sb, ",\"status\":");
		strbuf_adds(sb, t->status);
	}
	strbuf_addch(sb, '}');
	return 0;
}

/* fw_task_store with sb as the buffer for the record (emptied first, kept for the next). */
static int task_store(struct frameworks *fws, const struct fw_task *t, struct strbuf *sb)
{
	if (!t->fw)
		return 0;
	strbuf_reset(sb);
	int r = task_record(sb, t);
	if (r == 0) {
		char key[STORE_MAX_KEY];
		snprintf(key, sizeof(key), "fwtasks/%s", t->id);
		r = store_put(fws->m->store, key, strbuf_str(sb), sb->len, STORE_ANY_VERSION, NULL);
	}
	if (r < 0)
		log_error("frameworks", "cannot persist task '%s': %s", t->id, strerror(-r));
	return r;
}

int fw_task_store(struct frameworks *fws, const struct fw_task *t)
{
	struct strbuf sb = STRBUF_INIT;
	int r = task_store(fws, t, &sb);
	strbuf_release(&sb);
	return r;
}

static int load_task(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct frameworks *fws = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "task_id"));
	const char *fid = json_string_value(json_object_get(j, "framework_id"));
	const char *aid = json_string_value(json_object_get(j, "agent_id"));
	const char *st = task_state_intern(json_string_value(json_object_get(j, "state")));
	const char *res = json_string_value(json_object_get(j, "resources"));
	struct fw_framework *fw = fid ? hmap_get(&fws->fws, fid) : NULL;
	struct resources r = RESOURCES_INIT;
	char err[200];
	if (!id || !aid || !st || !res || !fw || hmap_get(&fws->tasks, id) ||
	    resources_parse(res, &r, err, sizeof(err)) < 0) {
		log_warn("frameworks", "dropping stored task '%s' (malformed, or its framework is "
				       "gone)", key);
		store_delete(fws->m->store, key, STORE_ANY_VERSION);
		json_decref(j);
		return 0;
	}
	struct fw_task *t = fw_task_new(fws, fw, id, aid);
	t->res = r;
	t->state = st;
	t->name = xstrdup(json_string_value(json_object_get(j, "name")) ?: "");
	t->grace_sec = json_number_value(json_object_get(j, "grace"));
	const char *group = json_string_value(json_object_get(j, "group"));
	t->group = group ? xstrdup(group) : NULL;
	t->acked = json_is_true(json_object_get(j, "acked"));
	fw_task_set_status(t, json_object_get(j, "status"));
	/* agent_gen 0: lost unless its agent reports it. Should the agent's view exist
	 * already, its next tick must look at its tasks again (fw_tasks_tick). */
	struct fw_agent_view *v = hmap_get(&fws->views, aid);
	if (v)
		v->swept_gen = 0;
	json_decref(j);
	return 0;
}

int fw_tasks_load(struct frameworks *fws)
{
	return store_list(fws->m->store, "fwtasks/", load_task, fws);
}

json_t *fw_status_master(const char *task_id, const char *agent_id, const char *state,
			 const char *reason, const char *message)
{
	json_t *s = json_pack("{s:{s:s}, s:s, s:s, s:f}", "task_id", "value", task_id, "state",
			      state, "source", "SOURCE_MASTER", "timestamp",
			      (double)time_real_usec() / 1e6);
	if (agent_id && *agent_id)
		json_object_set_new(s, "agent_id", json_pack("{s:s}", "value", agent_id));
	if (reason)
		json_object_set_new(s, "reason", json_string(reason));
	if (message && *message)
		json_object_set_new(s, "message", json_string(message));
	return s;
}

void fw_send_update(struct fw_framework *fw, const json_t *status)
{
	fw_send(fw, json_pack("{s:s, s:{s:O}}", "type", "UPDATE", "update", "status", status));
}

void fw_send_update_text(struct fw_framework *fw, const char *status)
{
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_adds(&sb, "{\"type\":\"UPDATE\",\"update\":{\"status\":");
	strbuf_adds(&sb, status);
	strbuf_adds(&sb, "}}");
	fw_send_text(fw, strbuf_str(&sb), sb.len);
	strbuf_release(&sb);
}

void fw_task_set_status(struct fw_task *t, const json_t *status)
{
	free(t->status);
	t->status = status ? json_dumps(status, JSON_COMPACT) : NULL;
	snprintf(t->status_uuid, sizeof(t->status_uuid), "%s",
		 json_string_value(json_object_get(status, "uuid")) ?: "");
	task_watch(t);
}

void fw_task_kill(struct frameworks *fws, struct fw_task *t, double grace_sec)
{
	if (task_state_terminal(t->state))
		return;
	t->grace_sec = grace_sec;
	struct m_agent *a = hmap_get(&fws->m->agents, t->agent_id);
	if (a && a->state == AGENT_CONNECTED &&
	    registry_send(a, json_pack("{s:s, s:s, s:f}", "type", "KILL", "task_id", t->id,
				       "grace_period_seconds", grace_sec)) == 0) {
		t->kill_sent = true;
		t->kill_pending = false;
		task_watch(t);
		rm_count_kill(fws->m);
		return;
	}
	t->kill_pending = true; /* sent by fw_tasks_tick once the agent is back */
	task_watch(t);
}

/* A task its agent no longer has: told to its framework, then forgotten. The agent's free
 * set no longer counts it (reset or about to be), so nothing goes back. */
static void task_gone(struct frameworks *fws, struct fw_task *t, const char *reason,
		      const char *message)
{
	if (t->fw) {
		/* An agent marked gone: TASK_GONE_BY_OPERATOR, which Mesos sends only to
		 * PARTITION_AWARE frameworks (the others get TASK_LOST). */
		const char *state = !strcmp(reason, "REASON_SLAVE_REMOVED_BY_OPERATOR")
					    ? (t->fw->partition_aware ? "TASK_GONE_BY_OPERATOR"
								      : "TASK_LOST")
					    : gone_state(t->fw);
		json_t *s = fw_status_master(t->id, t->agent_id, state, reason, message);
		fw_send_update(t->fw, s);
		operator_event_fw_task_updated(fws->m, t, s);
		json_decref(s);
	}
	fw_task_forget(fws, t);
}

struct fw_agent_view *fw_agent_view(struct frameworks *fws, const struct m_agent *a)
{
	struct fw_agent_view *v = hmap_get(&fws->views, a->id);
	if (!v) {
		v = xcalloc(1, sizeof(*v));
		v->registrations = a->registrations;
		v->gen = 1;
		hmap_put(&fws->views, a->id, v);
	} else if (v->registrations != a->registrations) {
		/* The agent registered again since we last looked. */
		v->registrations = a->registrations;
		v->gen++;
	}
	return v;
}

/* ---- from agents ---- */

static bool seen_uuid(struct fw_task *t, const char *uuid)
{
	for (size_t i = 0; i < ARRAY_SIZE(t->seen); i++)
		if (!strcmp(t->seen[i], uuid))
			return true;
	snprintf(t->seen[t->seen_next], sizeof(t->seen[0]), "%s", uuid);
	t->seen_next = (t->seen_next + 1) % ARRAY_SIZE(t->seen);
	return false;
}

/* The TaskStatus for an agent's update (fields as in agent-protocol.md §3). */
static json_t *status_from_agent(const struct m_agent *a, const struct fw_task *t,
				 const char *state, const json_t *u)
{
	const char *uuid = json_string_value(json_object_get(u, "uuid"));
	const char *message = json_string_value(json_object_get(u, "message"));
	const char *reason = json_string_value(json_object_get(u, "reason"));
	const char *source = json_string_value(json_object_get(u, "source"));
	double ts = json_number_value(json_object_get(u, "timestamp"));
	json_t *s = json_pack("{s:{s:s}, s:s, s:{s:s}, s:s, s:f}", "task_id", "value", t->id,
			      "state", state, "agent_id", "value", a->id, "source",
			      source ? source : "SOURCE_EXECUTOR", "timestamp",
			      ts > 0 ? ts : (double)time_real_usec() / 1e6);
	char b64[25];
	if (uuid && mesos_uuid_b64(uuid, b64) == 0)
		json_object_set_new(s, "uuid", json_string(b64));
	if (message && *message)
		json_object_set_new(s, "message", json_string(message));
	if (reason && *reason)
		json_object_set_new(s, "reason", json_string(reason));
	/* Labels from the agent's task launch hook (docs/hooks.md), as Mesos's hooks decorate
	 * TaskStatus.labels: at most 64, each a string key and value. */
	const json_t *labels = json_object_get(json_object_get(u, "labels"), "labels");
	bool lok = json_is_array(labels) && json_array_size(labels) <= 64;
	size_t li;
	const json_t *lv;
	json_array_foreach(labels, li, lv)
		lok = lok && json_is_string(json_object_get(lv, "key")) &&
		      (!json_object_get(lv, "value") || json_is_string(json_object_get(lv, "value")));
	if (lok && json_array_size(labels))
		json_object_set_new(s, "labels", json_pack("{s:O}", "labels", labels));
	const json_t *healthy = json_object_get(u, "healthy");
	if (json_is_boolean(healthy))
		json_object_set_new(s, "healthy", json_boolean(json_is_true(healthy)));
	if (a->ip && (!strcmp(state, "TASK_RUNNING") || !strcmp(state, "TASK_STARTING")))
		json_object_set_new(s, "container_status",
				    json_pack("{s:[{s:[{s:s, s:s}]}]}", "network_infos",
					      "ip_addresses", "protocol", "IPv4", "ip_address", a->ip));
	/* A task of an executor: its id; the default executor's: its nested ContainerID
	 * ({value, parent: {value}}), in container_status as Mesos sends it. */
	const char *eid = json_string_value(json_object_get(u, "executor_id"));
	if (eid && *eid)
		json_object_set_new(s, "executor_id", json_pack("{s:s}", "value", eid));
	const json_t *cid = json_object_get(u, "container_id");
	const char *cv = json_string_value(json_object_get(cid, "value"));
	const char *pv = json_string_value(
		json_object_get(json_object_get(cid, "parent"), "value"));
	if (cv && pv && strlen(cv) < 256 && strlen(pv) < 256) {
		json_t *cs = json_object_get(s, "container_status");
		if (!cs)
			json_object_set_new(s, "container_status", cs = json_object());
		json_object_set_new(cs, "container_id", json_pack("{s:s, s:{s:s}}", "value", cv,
								  "parent", "value", pv));
	}
	return s;
}

/* A task group is killed together, as Mesos's default executor kills it: a KILL of one of
 * its tasks, or one ending other than TASK_FINISHED, kills the others (on its agent). */
static void group_kill(struct frameworks *fws, const struct fw_task *t)
{
	struct fw_task_list *l = t->group ? hmap_get(&fws->agent_tasks, t->agent_id) : NULL;
	for (size_t i = 0; l && i < l->n; i++) {
		struct fw_task *u = l->v[i];
		if (u != t && u->fw == t->fw && u->group && !strcmp(u->group, t->group) &&
		    !task_state_terminal(u->state) && !u->kill_sent && !u->kill_pending) {
			log_info("frameworks", "task '%s' killed with its group '%s'", u->id,
				 t->group);
			fw_task_kill(fws, u, u->grace_sec);
		}
	}
}

bool frameworks_status_update(struct master *m, struct m_agent *a, const json_t *u)
{
	struct frameworks *fws = m->fw;
	const char *task_id = json_string_value(json_object_get(u, "task_id"));
	struct fw_task *t = fws && task_id ? hmap_get(&fws->tasks, task_id) : NULL;
	if (!t || strcmp(t->agent_id, a->id))
		return false;
	const char *uuid = json_string_value(json_object_get(u, "uuid"));
	const char *state = task_state_intern(json_string_value(json_object_get(u, "state")));
	const char *reason = json_string_value(json_object_get(u, "reason"));
	if (!state || (uuid && seen_uuid(t, uuid)))
		return true;
	if (reason && !strcmp(reason, "REASON_TASK_READY"))
		return true; /* berth's readiness checks: not a Mesos notion */
	/* A draining agent's kills (what a Mesos agent does, MESOS-9818): TASK_KILLED becomes
	 * TASK_GONE_BY_OPERATOR when the drain marks the agent gone (TASK_LOST for a framework
	 * that is not PARTITION_AWARE), and carries REASON_AGENT_DRAINING, as TASK_KILLING
	 * does. */
	bool draining = a->drain != AGENT_DRAIN_NONE &&
			(!strcmp(state, "TASK_KILLED") || !strcmp(state, "TASK_KILLING"));
	if (draining && a->drain_mark_gone && !strcmp(state, "TASK_KILLED") && t->fw)
		state = task_state_intern(t->fw->partition_aware ? "TASK_GONE_BY_OPERATOR"
								 : "TASK_LOST");
	rm_count_status(m, state);
	if (!strcmp(state, "TASK_RUNNING") && !t->started_usec)
		t->started_usec = time_real_usec();
	bool terminal = task_state_terminal(state);
	if (terminal)
		fw_task_release(fws, t);
	if (!t->fw) {
		if (terminal)
			fw_task_forget(fws, t);
		return true;
	}
	t->state = state;
	json_t *st = status_from_agent(a, t, state, u);
	if (draining)
		json_object_set_new(st, "reason", json_string("REASON_AGENT_DRAINING"));
	fw_task_set_status(t, st);
	t->acked = !t->status_uuid[0];
	task_watch(t);
	t->sent_usec = time_mono_usec();
	fw_task_store(fws, t);
	if (t->status) /* the text just made: not dumped a second time */
		fw_send_update_text(t->fw, t->status);
	operator_event_fw_task_updated(m, t, st);
	if (terminal)
		fw_hook_task_end(fws, t, st);
	json_decref(st);
	if (terminal && strcmp(state, "TASK_FINISHED"))
		group_kill(fws, t);
	return true;
}

bool frameworks_task_recovered(struct master *m, struct m_agent *a, const char *task_id,
			       const char *state)
{
	struct frameworks *fws = m->fw;
	struct fw_task *t = fws ? hmap_get(&fws->tasks, task_id) : NULL;
	if (!t || strcmp(t->agent_id, a->id))
		return false;
	struct fw_agent_view *v = fw_agent_view(fws, a);
	t->agent_gen = v->gen;
	/* Loaded at start: it holds its share from now on (a task held already keeps it). */
	fw_task_hold(fws, t, a);
	const char *st = task_state_intern(state);
	if (st && !strcmp(st, "TASK_RUNNING") && !t->started_usec)
		t->started_usec = time_real_usec();
	if (st && !task_state_terminal(st) && t->fw && strcmp(st, t->state)) {
		t->state = st;
		fw_task_store(fws, t);
	}
	t->kill_sent = false;
	if (!t->fw || t->kill_pending)
		fw_task_kill(fws, t, t->grace_sec);
	return true;
}

void fw_task_view(const struct fw_task *t, struct rm_task_view *v)
{
	*v = (struct rm_task_view){
		.id = t->id, .framework_id = t->fw_id, .name = t->name ? t->name : "",
		.agent_id = t->agent_id, .state = t->state,
		.role = t->alloc_role ? t->alloc_role : quota_fw_task_role(t), .res = &t->res,
		.started_usec = t->started_usec, .healthy = -1,
	};
}

void frameworks_each_task(struct master *m, bool detail, rm_task_fn fn, void *ctx)
{
	(void)detail;
	const char *k;
	void *v;
	for (size_t i = 0; m->fw && hmap_next(&m->fw->tasks, &i, &k, &v);) {
		const struct fw_task *t = v;
		if (!t->fw) /* an orphan: its framework is gone */
			continue;
		struct rm_task_view view;
		fw_task_view(t, &view);
		fn(&view, ctx);
	}
}

void frameworks_agent_lost(struct master *m, struct m_agent *a)
{
	struct frameworks *fws = m->fw;
	if (!fws)
		return;
	fw_offers_remove_agent(fws, a->id);
	/* Each task_gone takes one task off the list; the list goes with the last one. */
	struct fw_task_list *l;
	while ((l = hmap_get(&fws->agent_tasks, a->id)))
		task_gone(fws, l->v[l->n - 1],
			  a->gone ? "REASON_SLAVE_REMOVED_BY_OPERATOR" : "REASON_AGENT_REMOVED",
			  a->gone   ? "Agent has been marked gone" :
			  a->down   ? "Operator initiated 'Machine DOWN'" :
				      "Agent unreachable");
	struct fw_agent_view *view = hmap_del(&fws->views, a->id);
	free(view);
	/* Mesos tells every subscribed framework of a lost agent (LostSlaveMessage, a FAILURE
	 * event with agent_id only); the executors there are gone with it. */
	fw_executors_drop_all(fws, a->id, NULL, "its agent was lost");
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->fws, &i, &k, &v);)
		if (fw_subscribed(v))
			fw_send(v, json_pack("{s:s, s:{s:{s:s}}}", "type", "FAILURE", "failure",
					     "agent_id", "value", a->id));
}

/* ---- calls ---- */

static struct fw_task *own_task(struct fw_framework *fw, const json_t *task_id)
{
	const char *id = json_string_value(json_object_get(task_id, "value"));
	struct fw_task *t = id ? hmap_get(&fw->fws->tasks, id) : NULL;
	return t && t->fw == fw ? t : NULL;
}

int fw_call_kill(struct fw_framework *fw, const json_t *kill, char *err, size_t errlen)
{
	const json_t *tid = json_object_get(kill, "task_id");
	const char *id = json_string_value(json_object_get(tid, "value"));
	if (!id) {
		snprintf(err, errlen, "Expecting 'kill.task_id' to be present");
		return -EINVAL;
	}
	struct fw_task *t = own_task(fw, tid);
	if (!t) {
		/* Mesos reconciles an unknown task. */
		const char *aid = json_string_value(
			json_object_get(json_object_get(kill, "agent_id"), "value"));
		json_t *s = fw_status_master(id, aid, fw->partition_aware ? "TASK_UNKNOWN" :
									    "TASK_LOST",
					     "REASON_RECONCILIATION",
					     "Attempted to kill an unknown task");
		fw_send_update(fw, s);
		json_decref(s);
		return 0;
	}
	double grace = t->grace_sec;
	const json_t *ns = json_object_get(
		json_object_get(json_object_get(kill, "kill_policy"), "grace_period"), "nanoseconds");
	if (json_is_integer(ns) && json_integer_value(ns) >= 0)
		grace = (double)json_integer_value(ns) / 1e9;
	log_info("frameworks", "framework '%s' kills task '%s'", fw->id, t->id);
	fw_task_kill(fw->fws, t, grace);
	group_kill(fw->fws, t);
	return 0;
}

int fw_call_acknowledge(struct fw_framework *fw, const json_t *ack, char *err, size_t errlen)
{
	const char *aid =
		json_string_value(json_object_get(json_object_get(ack, "agent_id"), "value"));
	const json_t *tid = json_object_get(ack, "task_id");
	const char *uuid = json_string_value(json_object_get(ack, "uuid"));
	if (!aid || !json_string_value(json_object_get(tid, "value")) || !uuid) {
		snprintf(err, errlen, "'acknowledge' needs 'agent_id', 'task_id' and 'uuid'");
		return -EINVAL;
	}
	unsigned char raw[16];
	if (mesos_b64_decode(uuid, raw, sizeof(raw)) != (int)sizeof(raw)) {
		snprintf(err, errlen, "'acknowledge.uuid' is not a base64-encoded UUID");
		return -EINVAL;
	}
	struct fw_task *t = own_task(fw, tid);
	if (!t || !t->status || t->acked)
		return 0;
	if (!t->status_uuid[0] || strcmp(t->status_uuid, uuid))
		return 0; /* an older status: nothing to do */
	t->acked = true;
	task_watch(t);
	if (task_state_terminal(t->state))
		fw_task_forget(fw->fws, t);
	else
		fw_task_queue(fw->fws, t, NULL);
	return 0;
}

/* The reconciliation answer for a task: its latest state, from the master, no uuid. */
static json_t *reconcile_status(const struct fw_task *t)
{
	json_t *s = t->status ? json_loads(t->status, 0, NULL) : NULL;
	if (s) {
		json_object_del(s, "uuid");
		json_object_set_new(s, "source", json_string("SOURCE_MASTER"));
		json_object_set_new(s, "reason", json_string("REASON_RECONCILIATION"));
		json_object_set_new(s, "timestamp", json_real((double)time_real_usec() / 1e6));
	} else {
		s = fw_status_master(t->id, t->agent_id, t->state, "REASON_RECONCILIATION", NULL);
	}
	return s;
}

int fw_call_reconcile(struct fw_framework *fw, const json_t *rec, char *err, size_t errlen)
{
	const json_t *tasks = json_object_get(rec, "tasks");
	if (tasks && !json_is_array(tasks)) {
		snprintf(err, errlen, "'reconcile.tasks' must be an array");
		return -EINVAL;
	}
	if (json_array_size(tasks) > FW_MAX_TASKS) {
		snprintf(err, errlen, "'reconcile.tasks' holds more than %d tasks", FW_MAX_TASKS);
		return -EINVAL;
	}
	size_t i;
	const json_t *e;
	json_array_foreach(tasks, i, e) {
		if (!json_string_value(json_object_get(json_object_get(e, "task_id"), "value"))) {
			snprintf(err, errlen, "'reconcile.tasks[%zu].task_id' is required", i);
			return -EINVAL;
		}
	}
	if (!json_array_size(tasks)) {
		const char *k;
		void *v;
		for (size_t it = 0; hmap_next(&fw->fws->tasks, &it, &k, &v);) {
			struct fw_task *t = v;
			if (t->fw != fw)
				continue;
			json_t *s = reconcile_status(t);
			fw_send_update(fw, s);
			json_decref(s);
		}
		return 0;
	}
	json_array_foreach(tasks, i, e) {
		const json_t *tid = json_object_get(e, "task_id");
		struct fw_task *t = own_task(fw, tid);
		json_t *s;
		if (t) {
			s = reconcile_status(t);
		} else {
			const char *aid = json_string_value(
				json_object_get(json_object_get(e, "agent_id"), "value"));
			s = fw_status_master(json_string_value(json_object_get(tid, "value")), aid,
					     fw->partition_aware ? "TASK_UNKNOWN" : "TASK_LOST",
					     "REASON_RECONCILIATION", "Reconciliation: task is unknown");
		}
		fw_send_update(fw, s);
		json_decref(s);
	}
	return 0;
}

/* ---- periodic ---- */

void fw_tasks_resend(struct frameworks *fws, struct fw_framework *fw, bool all)
{
	if (!all)
		return; /* periodic resends are done by fw_tasks_tick in one pass */
	uint64_t now = time_mono_usec();
	const struct fw_task_list *w = &fws->watched;
	for (size_t i = 0; i < w->n; i++) {
		struct fw_task *t = w->v[i];
		if (t->fw == fw && t->status && !t->acked) {
			fw_send_update_text(fw, t->status);
			t->sent_usec = now;
		}
	}
}

/* Reports lost the tasks on a (connected) that its latest registration did not confirm:
 * those whose agent_gen is older than the view's gen. */
static void sweep_agent(struct frameworks *fws, const struct m_agent *a,
			struct fw_agent_view *view)
{
	struct fw_task_list *l = hmap_get(&fws->agent_tasks, a->id);
	/* From the end (see list_del); l is freed with its last task. */
	for (size_t i = l ? l->n : 0; i > 0; i--) {
		struct fw_task *t = l->v[i - 1];
		if (t->agent_gen >= view->gen)
			continue;
		bool last = l->n == 1;
		log_info("frameworks", "task '%s' lost: agent '%s' re-registered without it", t->id,
			 a->id);
		task_gone(fws, t, "REASON_AGENT_RESTARTED",
			  "Task unknown to the agent after it re-registered");
		if (last)
			break;
	}
	view->swept_gen = view->gen;
}

void fw_tasks_tick(struct frameworks *fws)
{
	uint64_t now = time_mono_usec();
	fw_flush(fws);
	/* Agents seen re-registered since the last tick: their lost tasks. */
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->m->agents, &i, &k, &v);) {
		struct m_agent *a = v;
		if (a->state != AGENT_CONNECTED)
			continue;
		struct fw_agent_view *view = fw_agent_view(fws, a);
		if (view->swept_gen != view->gen)
			sweep_agent(fws, a, view);
	}
	/* Pending kills and resends; none of the tasks walked is on an agent with lost tasks
	 * left (above). From the end: a KILL sent takes its task off the list (list_del), and
	 * nothing else here adds or removes tasks. */
	struct fw_task_list *w = &fws->watched;
	for (size_t i = w->n; i > 0; i--) {
		assert(i <= w->n);
		struct fw_task *t = w->v[i - 1];
		struct m_agent *a = hmap_get(&fws->m->agents, t->agent_id);
		if (!a || a->state != AGENT_CONNECTED)
			continue;
		if (t->kill_pending)
			fw_task_kill(fws, t, t->grace_sec);
		if (t->fw && fw_subscribed(t->fw) && t->status && !t->acked &&
		    now - t->sent_usec >= (uint64_t)(FW_RESEND_SEC * 1e6)) {
			fw_send_update_text(t->fw, t->status);
			t->sent_usec = now;
		}
	}
}
