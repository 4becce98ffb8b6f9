/* The apps framework: Marathon's long-running apps on the cluster.
 *
 * Invariants:
 *  - For every app, the instances with goal RUN that are not being replaced number exactly
 *    def->instances after each pass (scale up adds waiting instances, scale down sets goal
 *    STOP on the surplus).
 *  - Indexes: the live set (goal RUN, not replaced) holds distinct indexes; a new instance
 *    takes the lowest free index; a replacement takes the index of the instance it replaces.
 *  - An instance is in the store (instances/<uuid>) with its task id and agent before its
 *    LAUNCH record is sent; a master restart therefore knows every task it ever launched.
 *  - m->tasks maps exactly the task ids of LIVE instances.
 *  - Resources a LIVE instance holds are subtracted from its agent's free resources once,
 *    and given back once, when its task reaches a terminal state or is declared lost.
 *  - A task that ends without being asked to (failed, finished, lost by its executor)
 *    counts as a failure: the app's next launch waits backoff_delay(failures). A config
 *    change resets the count.
 *  - A deletion is durable, with what it still has to do: the deletion of apps/<id> and
 *    the puts of deleting/<id> (the definition) and, for DELETE ?wipe=true, of
 *    wipe-volumes/<id>@<name> (one per volume, small keys however many instances) are one
 *    transaction, and the instance records stay until their tasks are gone. A master that
 *    finds deleting/<id> at start brings the app back as being deleted, with its
 *    instances, so that their tasks are recovered, killed (with the app's grace period)
 *    and waited for as before the restart. The volumes are removed only once the app has
 *    no instance left; a volume's record goes once its REMOVE_VOLUME is on an agent's
 *    stream, and deleting/<id> with the last of them, or once the app has no instance
 *    left when there is nothing to wipe (schedule.c).
 *
 *  - Cost grows with the change, not with the app: an instance is added and removed in
 *    O(1) (apps_add_instance / apps_remove_instance; the array keeps no order), and each
 *    app's counters (ngoal, nwait_run, nlive_stopping, nreplacing) and index set (idx)
 *    always equal what a walk over its instances would count: every write of goal, phase
 *    and replaces goes through apps_set_goal / apps_set_phase / apps_set_replaces, which
 *    take the instance's share out and put it back (inst_account). A waiting instance
 *    never launched has no store record (stored is false) and is forgotten without a
 *    store write. The same setters keep the app's kill and wake orders and the counts of
 *    where its tasks are (inst-order.c), so that a scale-down takes the first of an order
 *    instead of sorting every instance, and a placement constraint reads a count.
 *
 * State of an instance: WAITING (no task; in /v2/queue) → LIVE (STAGING … RUNNING …) →
 * terminal status → WAITING again if still wanted, else removed. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "apps/apps-int.h"

const char *apps_state_intern(const char *state)
{
	const char *s = task_state_intern(state);
	return s ? s : "TASK_UNKNOWN";
}

bool apps_instance_up(const struct m_instance *in)
{
	const struct app *def = in->app->def;
	if (in->phase != INST_LIVE || strcmp(in->state, "TASK_RUNNING"))
		return false;
	if (def->nhealth_checks && in->healthy != 1)
		return false;
	if (def->nreadiness_checks && !in->ready)
		return false;
	return true;
}

struct m_app *apps_get(struct apps *m, const char *id)
{
	return hmap_get(&m->apps, id);
}

/* ---- store records ---- */

static json_t *instance_json(const struct m_instance *in)
{
	json_t *ports = json_array();
	for (size_t i = 0; i < in->nports; i++)
		json_array_append_new(ports, json_integer(in->ports[i]));
	char *res = resources_format(&in->res);
	char *reserved = resources_format(&in->reserved);
	json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s?, s:o, s:s, s:I, s:I, s:s, s:s, s:s}",
			      "uuid", in->uuid, "app", in->app->def->id, "index", (int)in->index,
			      "attempt", (int)in->attempt, "task_id", in->task_id, "agent_id",
			      in->agent_id, "ports", ports, "version", in->version, "staged_at",
			      (json_int_t)in->staged_at, "created_at", (json_int_t)in->created_at,
			      "goal", in->goal == GOAL_RUN ? "run" : "stop", "replaces",
			      in->replaces, "resources", res);
	free(res);
	if (in->pinned_agent)
		json_object_set_new(j, "pinned_agent", json_string(in->pinned_agent));
	if (in->vols)
		json_object_set(j, "vols", in->vols);
	json_object_set_new(j, "reserved", json_string(reserved));
	free(reserved);
	if (in->goal == GOAL_SUSPEND)
		json_object_set_new(j, "goal", json_string("suspend"));
	if (in->held)
		json_object_set_new(j, "held", json_true());
	return j;
}

int apps_store_instance(struct apps *m, struct m_instance *in)
{
	in->stored = true;
	json_t *j = instance_json(in);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char key[128];
	snprintf(key, sizeof(key), "instances/%s", in->uuid);
	int r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

int apps_store_app(struct apps *m, const struct m_app *ma)
{
	json_t *j = json_pack("{s:O, s:s, s:i}", "app", ma->def->json, "configVersion",
			      ma->config_version, "failures", (int)ma->failures);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "apps/%s", ma->def->id);
	int r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

static void wipe_volume_key(const struct m_app *ma, const json_t *v, char *key, size_t n)
{
	snprintf(key, n, "wipe-volumes/%s@%s", ma->def->id,
		 json_string_value(json_object_get(v, "name")) ?: "");
}

int apps_store_deletion(struct apps *m, const struct m_app *ma)
{
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "deleting/%s", ma->def->id);
	json_t *j = json_pack("{s:O}", "app", ma->def->json);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	int r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	size_t i;
	json_t *v;
	json_array_foreach(ma->wipe_volumes, i, v) {
		if (r < 0)
			break;
		wipe_volume_key(ma, v, key, sizeof(key));
		j = json_deep_copy(v);
		json_object_set_new(j, "app", json_string(ma->def->id));
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
		free(s);
	}
	return r;
}

int apps_store_deletion_done(struct apps *m, const struct m_app *ma, const json_t *v)
{
	char key[STORE_MAX_KEY];
	if (v)
		wipe_volume_key(ma, v, key, sizeof(key));
	else
		snprintf(key, sizeof(key), "deleting/%s", ma->def->id);
	int r = store_delete(m->store, key, STORE_ANY_VERSION);
	return r == -ENOENT ? 0 : r;
}

/* ---- instances ---- */

int apps_take(struct apps *m, struct m_instance *in, struct m_agent *a, bool reserved,
	      struct alloc_ctx *ac)
{
	char **role = reserved ? &in->rsv_role : &in->res_role;
	const struct resources *r = reserved ? &in->reserved : &in->res;
	if (*role || !r->n)
		return 0;
	const char *app_role = in->app->def->role; /* "*" when the app names none (app_parse) */
	int e = ac ? rm_alloc_take(ac, a, app_role, r) : rm_take(m->rm, a, app_role, m->client, r);
	if (e < 0)
		return e;
	*role = xstrdup(app_role);
	if (!reserved)
		rm_task_placed(m->rm, a, m->client);
	return 0;
}

void apps_give(struct apps *m, struct m_instance *in, bool reserved)
{
	char **role = reserved ? &in->rsv_role : &in->res_role;
	if (!*role)
		return;
	struct m_agent *a = rm_agent_get(m->rm, reserved ? in->pinned_agent : in->agent_id);
	rm_give(m->rm, a, *role, m->client, reserved ? &in->reserved : &in->res);
	if (!reserved)
		rm_task_gone(m->rm, a, m->client);
	free(*role);
	*role = NULL;
}

static void inst_free(struct apps *m, struct m_instance *in)
{
	rc_free_inst(in);
	apps_place_uncount(in);
	apps_give(m, in, false);
	apps_give(m, in, true);
	free(in->task_id);
	json_decref(in->health);
	free(in->pinned_agent);
	json_decref(in->vols);
	resources_release(&in->reserved);
	free(in->agent_id);
	free(in->ports);
	resources_release(&in->res);
	free(in);
}

struct m_app *apps_app_new(void)
{
	struct m_app *ma = xcalloc(1, sizeof(*ma));
	idxset_init(&ma->idx);
	apps_order_init(ma);
	apps_count_init(ma);
	ma->stop_cursor = SIZE_MAX;
	return ma;
}

/* Adds (d = 1) or takes away (d = -1) in's share of its app's counters and indexes. */
static void inst_account(struct m_instance *in, int d)
{
	struct m_app *ma = in->app;
	ma->ngoal[in->goal] += (size_t)(ssize_t)d;
	if (in->phase == INST_WAITING && in->goal == GOAL_RUN)
		ma->nwait_run += (size_t)(ssize_t)d;
	if (in->phase == INST_LIVE && in->goal != GOAL_RUN)
		ma->nlive_stopping += (size_t)(ssize_t)d;
	if (in->replaces[0])
		ma->nreplacing += (size_t)(ssize_t)d;
	if (in->held && in->goal == GOAL_SUSPEND)
		ma->nheld += (size_t)(ssize_t)d;
	if (in->goal != GOAL_STOP) {
		if (d > 0)
			idxset_add(&ma->idx, in->index);
		else
			idxset_del(&ma->idx, in->index);
	}
}

void apps_set_goal(struct m_instance *in, enum inst_goal goal)
{
	if (in->goal == goal)
		return;
	inst_account(in, -1);
	in->goal = goal;
	inst_account(in, 1);
	apps_inst_sync(in);
	apps_inst_sync(in->replacing); /* whether it is being replaced depends on this goal */
	apps_changed(in->app); /* what render.c shows changed */
}

void apps_set_phase(struct m_instance *in, enum inst_phase phase)
{
	if (in->phase == phase)
		return;
	inst_account(in, -1);
	in->phase = phase;
	inst_account(in, 1);
	if (phase != INST_LIVE)
		apps_place_uncount(in);
	apps_inst_sync(in);
	apps_changed(in->app); /* what render.c shows changed */
}

void apps_set_replaces(struct m_instance *in, struct m_instance *old)
{
	struct m_instance *before = in->replacing;
	if (in->replacing && in->replacing->replaced_by == in)
		in->replacing->replaced_by = NULL;
	inst_account(in, -1);
	snprintf(in->replaces, sizeof(in->replaces), "%s", old ? old->uuid : "");
	in->replacing = old;
	inst_account(in, 1);
	if (old)
		old->replaced_by = in;
	apps_inst_sync(before);
	apps_inst_sync(old);
	apps_inst_sync(in);
}

struct m_instance *apps_add_instance(struct apps *m, struct m_app *ma, unsigned index,
				     const char *uuid)
{
	(void)m;
	struct m_instance *in = xcalloc(1, sizeof(*in));
	in->app = ma;
	if (uuid)
		snprintf(in->uuid, sizeof(in->uuid), "%s", uuid);
	else
		id_uuid7(in->uuid); /* time-ordered: instance records append in the store */
	in->index = index;
	in->phase = INST_WAITING;
	in->goal = GOAL_RUN;
	in->state = "TASK_UNKNOWN";
	in->created_at = time_real_usec();
	resources_init(&in->res);
	resources_init(&in->reserved);
	in->healthy = -1;
	in->task_id = xstrdup("");
	apps_changed(ma);
	if (ma->ninst == ma->cap) {
		ma->cap = ma->cap ? ma->cap * 2 : 8;
		ma->inst = xrealloc(ma->inst, ma->cap * sizeof(*ma->inst));
	}
	in->pos = ma->ninst;
	ma->inst[ma->ninst++] = in;
	inst_account(in, 1);
	apps_order_init_inst(in);
	apps_inst_sync(in);
	if (!ma->waiting_since)
		ma->waiting_since = time_real_usec();
	return in;
}

void apps_destroy_volumes(struct apps *m, struct m_instance *in)
{
	struct m_agent *a = in->pinned_agent ? rm_agent_get(m->rm, in->pinned_agent) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(in->vols, i, v) {
		const char *pid = json_string_value(json_object_get(v, "persistenceId"));
		if (!pid)
			continue;
		if (a && rm_send(a, json_pack("{s:s, s:s}", "type", "DESTROY_VOLUME",
						     "persistence_id", pid)) == 0)
			log_info("master", "destroying volume '%s' on agent '%s'", pid, a->id);
		else
			log_warn("master", "volume '%s' on agent '%s' is left in place: the agent is "
					   "not connected", pid, in->pinned_agent);
	}
	apps_give(m, in, true);
	resources_release(&in->reserved);
	apps_changed(in->app);
	json_decref(in->vols);
	in->vols = NULL;
	free(in->pinned_agent);
	in->pinned_agent = NULL;
	apps_inst_recount(in);
}

void apps_remove_instance(struct apps *m, struct m_instance *in)
{
	struct m_app *ma = in->app;
	apps_destroy_volumes(m, in);
	if (in->phase == INST_LIVE && in->task_id[0])
		hmap_del(&m->tasks, in->task_id);
	if (in->stored) { /* waiting instances never launched have no record */
		char key[128];
		snprintf(key, sizeof(key), "instances/%s", in->uuid);
		int r = store_delete(m->store, key, STORE_ANY_VERSION);
		if (r < 0 && r != -ENOENT)
			log_warn("master", "cannot delete '%s' from the store: %s", key, strerror(-r));
	}
	/* Whoever pointed at it as a replacement is no longer being replaced. */
	struct m_instance *rep = in->replaced_by;
	if (rep && rep->replacing == in)
		apps_set_replaces(rep, NULL);
	apps_set_replaces(in, NULL);
	inst_account(in, -1);
	apps_inst_unorder(in);
	struct m_instance *last = ma->inst[--ma->ninst];
	ma->inst[in->pos] = last;
	last->pos = in->pos;
	inst_free(m, in);
}

/* The instance that replaces `old` (restart), or NULL. */
struct m_instance *apps_replacement_of(const struct m_app *ma, const struct m_instance *old)
{
	(void)ma;
	struct m_instance *rep = old->replaced_by;
	return rep && rep->goal == GOAL_RUN && rep->replacing == old ? rep : NULL;
}

/* Counts in the set of instances that fill the app's slots: goal RUN and not replaced. */
bool apps_in_slot(const struct m_app *ma, const struct m_instance *in)
{
	return in->goal == GOAL_RUN && !apps_replacement_of(ma, in);
}

unsigned apps_lowest_free_index(struct m_app *ma)
{
	if (ma->def && ma->def->index_offset)
		return idxset_lowest_free_from(&ma->idx, ma->def->index_offset);
	return idxset_lowest_free(&ma->idx);
}

void apps_kill_instance(struct apps *m, struct m_instance *in)
{
	if (in->phase != INST_LIVE || in->kill_sent)
		return;
	struct m_agent *a = in->agent_id ? rm_agent_get(m->rm, in->agent_id) : NULL;
	if (!a || a->state != AGENT_CONNECTED)
		return; /* retried by the next pass once the agent is back */
	json_t *rec = json_pack("{s:s, s:s, s:f}", "type", "KILL", "task_id", in->task_id,
				"grace_period_seconds", in->app->def->kill_grace_seconds);
	const struct app *def = in->app->def;
	if (def->pre_stop && !in->unhealthy_kill)
		json_object_set_new(rec, "pre_stop",
				    json_pack("{s:s, s:f}", "command", def->pre_stop,
					      "timeout_seconds", def->pre_stop_timeout));
	if (rm_send(a, rec) == 0) {
		in->kill_sent = true;
		apps_inst_recount(in);
		rm_count_kill(m->rm);
	}
}

/* Gives a task's resources back to its agent. */
static void release_resources(struct apps *m, struct m_instance *in)
{
	apps_give(m, in, false);
	resources_release(&in->res);
}

static void instance_id(const struct m_instance *in, char *out, size_t n)
{
	snprintf(out, n, "%s.instance-%s", in->app->def->id + 1, in->uuid);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '_';
}

static const char *condition_of(const char *state)
{
	static const char *const map[][2] = {
		{ "TASK_STAGING", "Staging" },	   { "TASK_STARTING", "Starting" },
		{ "TASK_RUNNING", "Running" },	   { "TASK_KILLING", "Killing" },
		{ "TASK_FINISHED", "Finished" },   { "TASK_FAILED", "Failed" },
		{ "TASK_KILLED", "Killed" },	   { "TASK_LOST", "Unreachable" },
		{ "TASK_ERROR", "Error" },	   { "TASK_DROPPED", "Dropped" },
		{ "TASK_UNREACHABLE", "Unreachable" }, { "TASK_GONE", "Gone" },
		{ "TASK_GONE_BY_OPERATOR", "Gone" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(map[i][0], state))
			return map[i][1];
	return "Unknown";
}

/* status_update_event and instance_changed_event for a task's new state. */
static void publish_status(struct apps *m, const struct m_instance *in, const char *state,
			   const char *message)
{
	apps_event_task_updated(m, in, state, message);
	if (!m->subs)
		return; /* nobody listens: build nothing */
	struct m_agent *a = in->agent_id ? rm_agent_get(m->rm, in->agent_id) : NULL;
	json_t *ports = json_array();
	for (size_t i = 0; i < in->nports; i++)
		json_array_append_new(ports, json_integer(in->ports[i]));
	events_publish(m, "status_update_event",
		       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:o, s:s}", "slaveId",
				 in->agent_id ? in->agent_id : "", "taskId", in->task_id,
				 "taskStatus", state, "message", message ? message : "", "appId",
				 in->app->def->id, "host", a ? a->hostname : "", "ipAddresses",
				 "ipAddress", a ? a->ip : "", "protocol", "IPv4", "ports", ports,
				 "version", in->version));
	char iid[TASK_ID_MAX];
	instance_id(in, iid, sizeof(iid));
	events_publish(m, "instance_changed_event",
		       json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s}", "instanceId", iid, "condition",
				 condition_of(state), "runSpecId", in->app->def->id, "agentId",
				 in->agent_id && *in->agent_id ? in->agent_id : NULL, "host",
				 a ? a->hostname : NULL, "runSpecVersion", in->version));
}

/* The task of a LIVE instance ended (state is terminal). */
static void task_ended(struct apps *m, struct m_instance *in, const char *state,
		       const char *message, bool failure)
{
	struct m_app *ma = in->app;
	struct m_agent *a = in->agent_id ? rm_agent_get(m->rm, in->agent_id) : NULL;
	publish_status(m, in, apps_state_intern(state), message);
	release_resources(m, in);
	hmap_del(&m->tasks, in->task_id);
	apps_set_phase(in, INST_WAITING);
	in->state = apps_state_intern(state);
	apps_inst_recount(in);
	char ts[32];
	log_info("master", "task '%s' of '%s' %s%s%s%s", in->task_id, ma->def->id, state,
		 message && *message ? " ('" : "", message && *message ? message : "",
		 message && *message ? "')" : "");
	if (failure && in->goal == GOAL_RUN && !ma->deleting) {
		ma->failures++;
		double d = backoff_delay_seconds(ma->def->backoff_seconds, ma->def->backoff_factor,
						 ma->def->max_launch_delay_seconds, ma->failures);
		ma->delay_until_usec = time_mono_usec() + (uint64_t)(d * 1e6);
		json_decref(ma->last_failure);
		ma->last_failure = json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "appId", ma->def->id, "host",
			a ? a->hostname : "", "message", message ? message : "", "state", state,
			"taskId", in->task_id, "timestamp", time_iso8601(time_real_usec(), ts),
			"version", in->version, "slaveId", in->agent_id ? in->agent_id : "");
	}
	if (in->goal == GOAL_STOP || ma->deleting)
		apps_remove_instance(m, in);
	else if (in->goal == GOAL_RUN && !ma->waiting_since)
		ma->waiting_since = time_real_usec();
	apps_touch(m, ma);
}

static bool seen_uuid(struct m_instance *in, const char *uuid)
{
	uint64_t h = hmap_hash(uuid) | 1; /* 0 means "empty slot" */
	for (size_t i = 0; i < ARRAY_SIZE(in->seen_uuids); i++)
		if (in->seen_uuids[i] == h)
			return true;
	in->seen_uuids[in->seen_next] = h;
	in->seen_next = (in->seen_next + 1) % ARRAY_SIZE(in->seen_uuids);
	return false;
}

/* Health results from the executor (agent-protocol.md §7). */
static void health_update(struct apps *m, struct m_instance *in, const json_t *u)
{
	const struct app *def = in->app->def;
	json_t *results = json_object_get(u, "health");
	if (!json_is_array(results))
		return;
	char iid[TASK_ID_MAX];
	instance_id(in, iid, sizeof(iid));
	int was = in->healthy;
	json_decref(in->health);
	in->health = json_deep_copy(results);
	in->healthy = json_is_true(json_object_get(u, "healthy")) ? 1 : 0;
	apps_inst_recount(in);
	apps_count_health(m, in->healthy == 1);
	if (was != in->healthy && in->state) /* DNS: an unhealthy task leaves the answers */
		apps_event_task_updated(m, in, in->state, NULL);
	if (was != in->healthy) {
		events_publish(m, "health_status_changed_event",
			       json_pack("{s:s, s:s, s:s, s:b}", "appId", def->id, "instanceId",
					 iid, "version", in->version, "alive", in->healthy == 1));
		events_publish(m, "instance_health_changed_event",
			       json_pack("{s:s, s:s, s:b, s:s}", "instanceId", iid, "runSpecId",
					 def->id, "healthy", in->healthy == 1, "runSpecVersion",
					 in->version));
	}
	size_t i;
	json_t *r;
	json_array_foreach(results, i, r) {
		json_int_t idx = json_integer_value(json_object_get(r, "index"));
		if (idx < 0 || (size_t)idx >= def->nhealth_checks)
			continue;
		json_t *hc = json_array_get(json_object_get(def->json, "healthChecks"), (size_t)idx);
		if (json_is_true(json_object_get(r, "alive")))
			continue;
		json_int_t fails = json_integer_value(json_object_get(r, "consecutive_failures"));
		/* Marathon 1.10's "taskId" here carries the instance id (§10.5). */
		events_publish(m, "failed_health_check_event",
			       json_pack("{s:s, s:s, s:O}", "appId", def->id, "taskId", iid,
					 "healthCheck", hc ? hc : json_null()));
		int64_t max = def->health_checks[idx].max_consecutive_failures;
		if (max > 0 && fails >= max && !in->kill_sent && in->goal == GOAL_RUN) {
			struct m_agent *a = rm_agent_get(m->rm, in->agent_id);
			log_info("master", "task '%s' of '%s' failed %lld health checks in a row: killing",
				 in->task_id, def->id, (long long)fails);
			json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "appId", def->id,
					       "taskId", in->task_id, "instanceId", iid, "version",
					       in->version, "reason", "Health check failed", "host",
					       a ? a->hostname : "");
			if (in->agent_id && *in->agent_id) /* left out when unknown, as Marathon */
				json_object_set_new(ev, "slaveId", json_string(in->agent_id));
			events_publish(m, "unhealthy_instance_kill_event", ev);
			in->unhealthy_kill = true;
			apps_kill_instance(m, in);
		}
	}
}

bool apps_status_update(struct apps *m, struct m_agent *a, const json_t *u)
{
	const char *task_id = json_string_value(json_object_get(u, "task_id"));
	const char *state = apps_state_intern(json_string_value(json_object_get(u, "state")));
	const char *uuid = json_string_value(json_object_get(u, "uuid"));
	const char *message = json_string_value(json_object_get(u, "message"));
	struct m_instance *in = hmap_get(&m->tasks, task_id);
	if (!in || !in->agent_id || strcmp(in->agent_id, a->id))
		return false; /* not ours, or not on a: the resource manager goes on */
	if (seen_uuid(in, uuid))
		return true;
	rm_count_status(m->rm, state);
	in->app->dirty = true;
	apps_changed(in->app);
	if (task_state_terminal(state)) {
		bool failure = !in->kill_sent || strcmp(state, "TASK_KILLED");
		if (in->kill_sent && (!strcmp(state, "TASK_FAILED") || !strcmp(state, "TASK_FINISHED")))
			failure = false; /* it exited while being killed */
		if (in->unhealthy_kill)
			failure = true;
		task_ended(m, in, state, message, failure);
		return true;
	}
	if (!strcmp(state, "TASK_RUNNING") && !in->started_at) {
		double ts = json_number_value(json_object_get(u, "timestamp"));
		in->started_at = ts > 0 ? (uint64_t)(ts * 1e6) : time_real_usec();
	}
	const char *reason = json_string_value(json_object_get(u, "reason"));
	if (reason && !strcmp(reason, "REASON_TASK_READY")) {
		in->ready = true;
		apps_inst_recount(in);
		return true;
	}
	if (reason && !strcmp(reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED")) {
		health_update(m, in, u);
		return true;
	}
	if (reason && !strcmp(reason, "REASON_BERTH_RESIZE_FAILED")) {
		/* The agent could not apply an in-place resize (resize.c): the task is replaced, so
		 * that what runs matches the definition and what the ledger counts for it. */
		log_warn("master", "task '%s': %s; replacing it", in->task_id,
			 message ? message : "in-place resize failed");
		if (!in->kill_sent)
			apps_kill_instance(m, in);
		return true;
	}
	in->state = state;
	apps_inst_recount(in);
	publish_status(m, in, state, message);
	return true;
}

void apps_agent_registered(struct apps *m, struct m_agent *a, const struct hmap *reported)
{
	/* Instances placed there: recovered if reported, lost if not. The resources a recovered
	 * task holds stay taken (or are taken now, for one loaded while its agent was away);
	 * reservations of instances pinned there stay held whether they run or not. Only apps
	 * with persistent volumes pin instances (and keep them: api-apps.c check_volumes). */
	size_t npinned;
	struct m_instance **pinned = apps_insts_on_agent(m, a->id, true, &npinned);
	for (size_t j = 0; j < npinned; j++)
		if (pinned[j]->app->def->nvolumes && apps_take(m, pinned[j], a, true, NULL) < 0)
			log_warn("master", "agent '%s' no longer holds the volumes' disk of "
					   "instance '%s'", a->id, pinned[j]->uuid);
	free(pinned);
	/* The instances indexed by agent (inst-count.c): O(tasks there), not O(instances). */
	size_t nlive, nlost = 0;
	struct m_instance **live = apps_insts_on_agent(m, a->id, false, &nlive);
	for (size_t j = 0; j < nlive; j++) {
		struct m_instance *in = live[j];
		json_t *rep = hmap_get(reported, in->task_id);
		if (!rep) {
			live[nlost++] = in; /* lost: gathered at the front */
			continue;
		}
		if (apps_take(m, in, a, false, NULL) < 0)
			log_warn("master", "agent '%s' holds more than it offers (task '%s')", a->id,
				 in->task_id);
		const char *st = json_string_value(json_object_get(rep, "state"));
		if (st && !task_state_terminal(st)) {
			in->state = apps_state_intern(st);
			if (!strcmp(in->state, "TASK_RUNNING") && !in->started_at)
				in->started_at = time_real_usec();
		}
		/* A terminal state arrives as a status update next. */
		in->kill_sent = false; /* resend a pending kill on this connection */
		apps_inst_recount(in);
	}
	for (size_t j = 0; j < nlost; j++)
		task_ended(m, live[j], "TASK_LOST", "Task unknown to the agent after it re-registered",
			   false);
	free(live);
	apps_touch_all(m);
}

void apps_agent_lost(struct apps *m, struct m_agent *a)
{
	int r = store_txn_begin(m->store);
	size_t nlive;
	struct m_instance **live = apps_insts_on_agent(m, a->id, false, &nlive);
	for (size_t j = 0; j < nlive; j++) {
		struct m_instance *in = live[j];
		struct m_app *ma = in->app;
		if (ma->def->nvolumes) {
			/* The agent kills volume holders once cut off for the lease; wait that out,
			 * plus heartbeat jitter and kill time, before another task may take the
			 * volume (never two writers). */
			double margin = 2 * m->cfg->heartbeat_sec + 2;
			in->not_before_usec = a->last_seen_usec +
					      (uint64_t)((rm_volume_lease_sec(m->rm) + margin) * 1e6);
			/* Nor may the volume be wiped before (the instance goes now). */
			if (json_array_size(ma->wipe_volumes) && in->not_before_usec > ma->wipe_next_usec)
				ma->wipe_next_usec = in->not_before_usec;
		}
		if (a->gone)
			task_ended(m, in, "TASK_GONE_BY_OPERATOR", "Agent has been marked gone", false);
		else
			task_ended(m, in, "TASK_LOST", "Agent unreachable", false);
	}
	free(live);
	/* Marked gone: its local volumes went with the machine (as Marathon expunges a
	 * reservation on TASK_GONE_BY_OPERATOR); instances pinned there start afresh elsewhere
	 * with new ones. The instances pinned there are indexed (inst-count.c). */
	size_t npinned = 0;
	struct m_instance **pinned =
		a->gone ? apps_insts_on_agent(m, a->id, true, &npinned) : NULL;
	for (size_t j = 0; j < npinned; j++) {
		struct m_instance *in = pinned[j];
		apps_destroy_volumes(m, in);
		if (apps_store_instance(m, in) < 0)
			log_error("master", "cannot persist instance '%s'", in->uuid);
	}
	free(pinned);
	if (r == 0 && store_txn_commit(m->store) < 0)
		log_error("master", "cannot commit after losing agent '%s'", a->id);
	apps_touch_all(m);
}

/* ---- service ports ---- */

#define SERVICE_PORT_MIN 10000u /* Marathon's local_port_min and local_port_max */
#define SERVICE_PORT_MAX 20000u

/* Marks in used (a bit per port of [SERVICE_PORT_MIN, SERVICE_PORT_MAX]) the service ports of
 * every app but except_app: one pass over the apps, so that assigning a port costs
 * O(apps + range), not O(apps × range) (a POST among 1,000 apps scanned them 1,000 times:
 * bench/load). */
static void service_ports_used(struct apps *m, const char *except_app, uint8_t *used)
{
	const char *k;
	void *v;
	/* the app itself found once by its id, then skipped by address (a strcmp per app was
	 * a tenth of the master's CPU while bench/load created its 1,000 apps) */
	const struct m_app *self = except_app ? hmap_get(&m->apps, except_app) : NULL;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		if (ma == self)
			continue;
		for (size_t j = 0; j < ma->def->nports; j++) {
			uint32_t p = ma->def->ports[j].port;
			if (p < SERVICE_PORT_MIN || p > SERVICE_PORT_MAX)
				continue;
			uint32_t b = p - SERVICE_PORT_MIN;
			used[b / 8] |= (uint8_t)(1u << b % 8);
		}
	}
}

void apps_assign_service_ports(struct apps *m, struct app *def, const struct app *old)
{
	apps_assign_service_ports_also(m, def, old, NULL, 0);
}

void apps_assign_service_ports_also(struct apps *m, struct app *def, const struct app *old,
				    struct app *const *also, size_t nalso)
{
	if (def->require_ports)
		return;
	json_t *pds = json_object_get(def->json, "portDefinitions");
	uint32_t next = SERVICE_PORT_MIN;
	uint8_t used[(SERVICE_PORT_MAX - SERVICE_PORT_MIN) / 8 + 1];
	bool scanned = false;
	for (size_t i = 0; i < def->nports; i++) {
		if (def->ports[i].port)
			continue;
		uint32_t p = 0;
		if (old && i < old->nports && old->ports[i].port)
			p = old->ports[i].port;
		if (!p && !scanned) {
			memset(used, 0, sizeof(used));
			service_ports_used(m, def->id, used);
			scanned = true;
		}
		while (!p && next <= SERVICE_PORT_MAX) {
			uint32_t b = next - SERVICE_PORT_MIN;
			bool taken = used[b / 8] & (1u << b % 8);
			for (size_t j = 0; j < def->nports && !taken; j++)
				if (def->ports[j].port == next)
					taken = true;
			for (size_t k = 0; k < nalso && !taken; k++)
				for (size_t j = 0; j < also[k]->nports; j++)
					if (also[k]->ports[j].port == next)
						taken = true;
			if (!taken)
				p = next;
			next++;
		}
		if (!p)
			continue; /* range exhausted: keep 0 */
		def->ports[i].port = p;
		json_t *pd = json_array_get(pds, i);
		if (pd)
			json_object_set_new(pd, "port", json_integer(p));
		else if (def->ports[i].container_port) /* a BRIDGE mapping's servicePort */
			json_object_set_new(json_array_get(json_object_get(json_object_get(
				def->json, "container"), "portMappings"), i),
				"servicePort", json_integer(p));
	}
}

/* ---- the scheduling pass ---- */

void apps_touch(struct apps *m, struct m_app *ma)
{
	ma->dirty = true;
	apps_changed(ma);
	apps_schedule_pass(m);
}

void apps_touch_all(struct apps *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		((struct m_app *)v)->dirty = true;
		apps_changed(v);
	}
	apps_schedule_pass(m);
}

void apps_schedule_pass(struct apps *m)
{
	if (m->pass_ev && !event_pending(m->pass_ev, EV_TIMEOUT, NULL)) {
		struct timeval tv = { 0, 0 };
		event_add(m->pass_ev, &tv);
	}
}

void apps_free_app(struct apps *m, struct m_app *ma)
{
	for (size_t i = 0; i < ma->ninst; i++) {
		if (ma->inst[i]->phase == INST_LIVE)
			hmap_del(&m->tasks, ma->inst[i]->task_id);
		apps_inst_uncount(ma->inst[i]);
		inst_free(m, ma->inst[i]);
	}
	free(ma->inst);
	rc_free_app(ma);
	idxset_release(&ma->idx);
	apps_order_release(ma);
	apps_count_release(ma);
	apps_deployment_free(ma->deploy);
	json_decref(ma->last_failure);
	json_decref(ma->versions);
	json_decref(ma->wipe_volumes);
	json_decref(ma->inst_env);
	app_free(ma->def);
	free(ma);
}

void apps_free_all(struct apps *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);)
		apps_free_app(m, v);
	hmap_release(&m->apps);
	hmap_init(&m->apps);
	apps_place_snaps_free(m);
	apps_by_agent_free(m);
}

