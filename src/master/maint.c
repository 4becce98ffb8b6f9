/* Maintenance calls of the Mesos v1 operator API (reference: mesos master.proto,
 * maintenance.proto): DRAIN_AGENT, DEACTIVATE_AGENT / REACTIVATE_AGENT, and the maintenance
 * schedule (UPDATE_/GET_MAINTENANCE_SCHEDULE, GET_MAINTENANCE_STATUS, START_/STOP_MAINTENANCE).
 *
 * Drain: the agent is deactivated and marked DRAINING (in the store before the answer); the
 * external frameworks' tasks there are killed at once, their grace capped by max_grace_period
 * (as Mesos does); the apps framework sees a->drain in its pass and replaces its instances
 * there like outdated ones, within the app's upgradeStrategy (schedule.c), except those
 * pinned by local volumes, which stay; registry_tick marks the agent DRAINED once it has no
 * task left, and gone (maint-gone.c) when the drain asked for mark_gone. REACTIVATE_AGENT
 * ends a drain.
 *
 * Invariants:
 *  - a->deactivated is in the agent's store record before the call is answered; while set,
 *    fw-pass.c offers nothing of the agent and the apps framework places nothing on it.
 *  - the schedule and the set of machines in maintenance ("down") are one store value,
 *    "maintenance/state" {"schedule":Schedule, "down":[MachineID]}, written before the
 *    answer; the calls read the store. m->maint_cache is a copy of the last value written
 *    or read at start, for what must not read the store each time: the tick (maint_tick:
 *    inverse offers, fw-inverse.c) and the DOWN check of every subscribe.
 *  - a machine is down only if some window of the schedule names it; a schedule update that
 *    drops a down machine is refused (400), as Mesos refuses it.
 *  - no agent of a down machine is connected: START_MAINTENANCE shuts its agents down
 *    (their tasks lost) once the state is stored, and registry.c refuses (409) an agent
 *    whose machine is down until STOP_MAINTENANCE. A MachineID names an agent when each
 *    field it gives matches the agent's hostname (case-insensitive) or ip. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "master/fw-int.h"
#include "master/master-int.h"

#define MAINT_KEY "maintenance/state"
#define MAINT_MAX_MACHINES 10000

static json_t *maint_load(struct master *m)
{
	char *val = NULL;
	size_t len = 0;
	json_t *st = NULL;
	if (store_get(m->store, MAINT_KEY, &val, &len, NULL) == 0)
		st = json_loadb(val, len, 0, NULL);
	free(val);
	if (!json_is_object(st)) {
		json_decref(st);
		st = json_pack("{s:{s:[]}, s:[]}", "schedule", "windows", "down");
	}
	if (!json_is_object(json_object_get(st, "schedule")))
		json_object_set_new(st, "schedule", json_pack("{s:[]}", "windows"));
	if (!json_is_array(json_object_get(st, "down")))
		json_object_set_new(st, "down", json_array());
	return st;
}

static int maint_save(struct master *m, const json_t *st)
{
	char *s = json_dumps(st, JSON_COMPACT);
	int r = store_put(m->store, MAINT_KEY, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	if (r >= 0) {
		json_decref(m->maint_cache);
		m->maint_cache = json_deep_copy(st);
	}
	return r;
}

/* A MachineID: an object with a non-empty "hostname" or "ip" string. */
static bool machine_valid(const json_t *id)
{
	if (!json_is_object(id))
		return false;
	const json_t *h = json_object_get(id, "hostname"), *ip = json_object_get(id, "ip");
	if ((h && !json_is_string(h)) || (ip && !json_is_string(ip)))
		return false;
	return (h && *json_string_value(h)) || (ip && *json_string_value(ip));
}

static bool machine_eq(const json_t *a, const json_t *b)
{
	const char *ha = json_string_value(json_object_get(a, "hostname")) ?: "";
	const char *hb = json_string_value(json_object_get(b, "hostname")) ?: "";
	const char *ia = json_string_value(json_object_get(a, "ip")) ?: "";
	const char *ib = json_string_value(json_object_get(b, "ip")) ?: "";
	return !strcmp(ha, hb) && !strcmp(ia, ib);
}

static bool in_list(const json_t *list, const json_t *id)
{
	size_t i;
	json_t *x;
	json_array_foreach(list, i, x)
		if (machine_eq(x, id))
			return true;
	return false;
}

static bool in_schedule(const json_t *schedule, const json_t *id)
{
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(schedule, "windows"), i, w)
		if (in_list(json_object_get(w, "machine_ids"), id))
			return true;
	return false;
}

/* Whether MachineID id names the machine of an agent with that hostname and ip: each field
 * the id gives must match (the hostname case-insensitively, as Mesos compares it); a field
 * it leaves out matches any. */
bool maint_machine_of(const json_t *id, const char *hostname, const char *ip)
{
	const char *h = json_string_value(json_object_get(id, "hostname"));
	const char *i = json_string_value(json_object_get(id, "ip"));
	if (h && *h && (!hostname || strcasecmp(h, hostname)))
		return false;
	if (i && *i && (!ip || strcmp(i, ip)))
		return false;
	return (h && *h) || (i && *i);
}

bool maint_machine_down(struct master *m, const char *hostname, const char *ip)
{
	/* The copy (the same as the store's: written with it, read at start), not a store
	 * read per subscribe: after a failover every agent subscribes at once. */
	json_t *st = m->maint_cache ? json_incref(m->maint_cache) : maint_load(m);
	bool down = false;
	size_t i;
	json_t *id;
	json_array_foreach(json_object_get(st, "down"), i, id)
		down = down || maint_machine_of(id, hostname, ip);
	json_decref(st);
	return down;
}

void maint_recover_down(struct master *m)
{
	json_t *st = maint_load(m);
	json_decref(m->maint_cache);
	m->maint_cache = json_deep_copy(st);
	json_t *down = json_object_get(st, "down");
	const char *k;
	void *v;
	for (size_t ai = 0; json_array_size(down) && hmap_next(&m->agents, &ai, &k, &v);) {
		struct m_agent *a = v;
		size_t i;
		json_t *id;
		json_array_foreach(down, i, id)
			if (!a->gone && maint_machine_of(id, a->hostname, a->ip)) {
				a->down = true;
				a->state = AGENT_UNREACHABLE;
				break;
			}
	}
	json_decref(st);
}

const json_t *maint_window_of(struct master *m, const struct m_agent *a,
			      const json_t **machine)
{
	const json_t *st = m->maint_cache;
	size_t i, j;
	json_t *w, *id;
	json_array_foreach(json_object_get(json_object_get(st, "schedule"), "windows"), i, w)
		json_array_foreach(json_object_get(w, "machine_ids"), j, id)
			if (maint_machine_of(id, a->hostname, a->ip)) {
				if (in_list(json_object_get(st, "down"), id))
					return NULL;
				*machine = id;
				return w;
			}
	return NULL;
}

void maint_tick(struct master *m)
{
	uint64_t now = time_mono_usec();
	bool windows = json_array_size(
		json_object_get(json_object_get(m->maint_cache, "schedule"), "windows"));
	if ((!windows && !hmap_len(&m->inverse)) || now - m->maint_pass_usec < 1000000)
		return;
	m->maint_pass_usec = now;
	maint_inverse_pass(m);
}

/* START_MAINTENANCE took a's machine DOWN: as Mesos, it is told to shut down (berth's
 * agent kills its tasks and waits to be let in again) and removed, its tasks lost. */
static void agent_down(struct master *m, struct m_agent *a)
{
	log_info("master", "agent '%s' (%s): its machine is DOWN for maintenance (%u tasks)", a->id,
		 a->hostname, a->ntasks);
	a->down = true;
	if (a->stream) {
		registry_send(a, json_pack("{s:s, s:s, s:b}", "type", "SHUTDOWN", "message",
					   "Operator initiated 'Machine DOWN'", "machine_down", 1));
		struct http_stream *st = a->stream;
		a->stream = NULL;
		http_stream_close(st);
	}
	if (a->state != AGENT_UNREACHABLE) {
		a->state = AGENT_UNREACHABLE;
		operator_event_agent_removed(m, a);
		rm_route_agent_lost(m, a);
	}
}

/* Checks a Schedule; err says what is wrong. */
static int schedule_check(const json_t *s, char *err, size_t len)
{
	if (!json_is_object(s)) {
		snprintf(err, len, "Expecting 'schedule' to be an object");
		return -EINVAL;
	}
	const json_t *ws = json_object_get(s, "windows");
	if (ws && !json_is_array(ws)) {
		snprintf(err, len, "Expecting 'schedule.windows' to be an array");
		return -EINVAL;
	}
	size_t i, j, total = 0;
	json_t *w, *id;
	json_array_foreach(ws, i, w) {
		const json_t *ids = json_object_get(w, "machine_ids");
		if (!json_is_array(ids) || !json_array_size(ids)) {
			snprintf(err, len, "List of machines in the maintenance window %zu is empty",
				 i);
			return -EINVAL;
		}
		const json_t *u = json_object_get(w, "unavailability");
		const json_t *start = json_object_get(u, "start");
		if (!json_is_object(u) || !json_is_integer(json_object_get(start, "nanoseconds"))) {
			snprintf(err, len, "Window %zu: 'unavailability.start.nanoseconds' must be "
					   "an integer", i);
			return -EINVAL;
		}
		json_array_foreach(ids, j, id) {
			if (!machine_valid(id)) {
				snprintf(err, len, "Window %zu: a machine id needs a 'hostname' or "
						   "an 'ip'", i);
				return -EINVAL;
			}
			if (++total > MAINT_MAX_MACHINES) {
				snprintf(err, len, "More than %d machines in the schedule",
					 MAINT_MAX_MACHINES);
				return -E2BIG;
			}
		}
	}
	/* A machine in at most one window (Mesos's rule). */
	json_array_foreach(ws, i, w) {
		json_array_foreach(json_object_get(w, "machine_ids"), j, id) {
			size_t k, l;
			json_t *w2, *id2;
			json_array_foreach(ws, k, w2) {
				json_array_foreach(json_object_get(w2, "machine_ids"), l, id2) {
					if ((k > i || (k == i && l > j)) && machine_eq(id, id2)) {
						snprintf(err, len, "Machine '%s' appears more than "
								   "once in the schedule",
							 json_string_value(json_object_get(
								 id, "hostname")) ?: json_string_value(
								 json_object_get(id, "ip")));
						return -EINVAL;
					}
				}
			}
		}
	}
	return 0;
}

static void reply_persist_failed(struct evhttp_request *req, int r)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "Cannot persist the agent: %s", strerror(-r));
	http_reply_text(req, 503, msg);
}

json_t *maint_drain_info(const struct m_agent *a)
{
	if (a->drain == AGENT_DRAIN_NONE)
		return NULL;
	json_t *cfg = json_pack("{s:b}", "mark_gone", a->drain_mark_gone);
	if (a->drain_grace_nsec >= 0)
		json_object_set_new(cfg, "max_grace_period",
				    json_pack("{s:I}", "nanoseconds",
					      (json_int_t)a->drain_grace_nsec));
	return json_pack("{s:s, s:o}", "state", a->drain == AGENT_DRAINED ? "DRAINED" : "DRAINING",
			 "config", cfg);
}

void maint_drained(struct master *m, struct m_agent *a)
{
	a->drain = AGENT_DRAINED;
	int r = registry_store_agent(m, a);
	if (r < 0) {
		a->drain = AGENT_DRAINING; /* the next tick tries again */
		return;
	}
	log_info("master", "agent '%s' (%s) drained", a->id, a->hostname);
	/* Mesos marks a drained agent gone when the drain asked for it; on a store failure
	 * registry_tick tries again. */
	if (a->drain_mark_gone && maint_mark_gone(m, a) < 0)
		log_warn("master", "agent '%s' drained; marking it gone is retried", a->id);
}

/* Kills the external frameworks' tasks on a, each with its own kill grace capped at grace
 * (seconds; < 0: no cap), as Mesos caps it with max_grace_period. */
static void kill_external_tasks(struct master *m, struct m_agent *a, double grace)
{
	struct fw_task_list *l = hmap_get(&m->fw->agent_tasks, a->id);
	if (!l || !l->n)
		return;
	size_t n = l->n;
	struct fw_task **v = xcalloc(n, sizeof(*v));
	memcpy(v, l->v, n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		fw_task_kill(m->fw, v[i],
			     grace >= 0 && grace < v[i]->grace_sec ? grace : v[i]->grace_sec);
	free(v);
}

static void drain_call(struct master *m, struct evhttp_request *req, const json_t *call)
{
	const json_t *body = json_object_get(call, "drain_agent");
	const char *id = json_string_value(json_object_get(json_object_get(body, "agent_id"),
							   "value"));
	if (!id) {
		http_reply_text(req, 400, "Expecting 'drain_agent.agent_id.value'");
		return;
	}
	/* master.proto's DrainAgent has a google.protobuf.Duration ({seconds, nanos}) and a plain
	 * bool mark_gone; berth also takes a DurationInfo ({nanoseconds}) and a {"value": bool}. */
	const json_t *g = json_object_get(body, "max_grace_period");
	int64_t grace_ns = -1;
	if (g) {
		const json_t *sec = json_object_get(g, "seconds"), *nanos = json_object_get(g, "nanos");
		const json_t *ns = json_object_get(g, "nanoseconds");
		bool ok = json_is_object(g) && (!sec || json_is_integer(sec)) &&
			  (!nanos || json_is_integer(nanos)) && (!ns || json_is_integer(ns));
		if (ok && ns)
			grace_ns = json_integer_value(ns);
		else if (ok && (sec || nanos))
			grace_ns = json_integer_value(sec) * 1000000000 + json_integer_value(nanos);
		if (!ok || grace_ns < 0 || json_integer_value(sec) > 1000000000) {
			http_reply_text(req, 400, "Expecting 'drain_agent.max_grace_period' to be a "
						  "non-negative duration ({\"seconds\", \"nanos\"})");
			return;
		}
	}
	const json_t *mg = json_object_get(body, "mark_gone");
	if (json_is_object(mg))
		mg = json_object_get(mg, "value");
	if (mg && !json_is_boolean(mg)) {
		http_reply_text(req, 400, "Expecting 'drain_agent.mark_gone' to be a boolean");
		return;
	}
	struct m_agent *a = rm_agent_get(m, id);
	if (!a) {
		char msg[300];
		snprintf(msg, sizeof(msg), "Agent '%.200s' not found", id);
		http_reply_text(req, 404, msg);
		return;
	}
	if (a->gone) {
		char msg[300];
		snprintf(msg, sizeof(msg), "Agent '%.200s' has been marked gone", id);
		http_reply_text(req, 400, msg);
		return;
	}
	struct m_agent old = *a;
	a->deactivated = true;
	a->drain = a->ntasks ? AGENT_DRAINING : AGENT_DRAINED;
	a->drain_grace_nsec = grace_ns;
	a->drain_mark_gone = mg && json_is_true(mg);
	a->drain_started_usec = time_real_usec();
	int r = registry_store_agent(m, a);
	if (r < 0) {
		a->deactivated = old.deactivated;
		a->drain = old.drain;
		a->drain_mark_gone = old.drain_mark_gone;
		a->drain_grace_nsec = old.drain_grace_nsec;
		a->drain_started_usec = old.drain_started_usec;
		reply_persist_failed(req, r);
		return;
	}
	log_info("master", "agent '%s' (%s) draining (%u tasks)", a->id, a->hostname, a->ntasks);
	kill_external_tasks(m, a, grace_ns >= 0 ? (double)grace_ns / 1e9 : -1);
	rm_route_agent_draining(m, a);
	fw_offers_wake_all(m->fw);
	rm_wake_all(m);
	if (a->drain == AGENT_DRAINED && a->drain_mark_gone && maint_mark_gone(m, a) < 0)
		log_warn("master", "agent '%s' drained; marking it gone is retried", a->id);
	http_reply_text(req, 200, "");
}

static void agent_active_call(struct master *m, struct evhttp_request *req, const char *type,
			      const json_t *call)
{
	bool deact = !strcmp(type, "DEACTIVATE_AGENT");
	const json_t *body = json_object_get(call, deact ? "deactivate_agent" : "reactivate_agent");
	const char *id = json_string_value(json_object_get(json_object_get(body, "agent_id"),
							   "value"));
	if (!id) {
		http_reply_text(req, 400, deact ? "Expecting 'deactivate_agent.agent_id.value'"
						: "Expecting 'reactivate_agent.agent_id.value'");
		return;
	}
	struct m_agent *a = rm_agent_get(m, id);
	if (!a) {
		char msg[300];
		snprintf(msg, sizeof(msg), "Agent '%.200s' not found", id);
		http_reply_text(req, 404, msg);
		return;
	}
	if (a->gone) {
		char msg[300];
		snprintf(msg, sizeof(msg), "Agent '%.200s' has been marked gone", id);
		http_reply_text(req, 400, msg);
		return;
	}
	if (a->deactivated != deact || (!deact && a->drain != AGENT_DRAIN_NONE)) {
		enum agent_drain drain = a->drain;
		a->deactivated = deact;
		if (!deact)
			a->drain = AGENT_DRAIN_NONE; /* reactivating ends a drain, as in Mesos */
		int r = registry_store_agent(m, a);
		if (r < 0) {
			a->deactivated = !deact;
			a->drain = drain;
			reply_persist_failed(req, r);
			return;
		}
		log_info("master", "agent '%s' (%s) %s", a->id, a->hostname,
			 deact ? "deactivated" : "reactivated");
		fw_offers_wake_all(m->fw);
		rm_wake_all(m);
	}
	http_reply_text(req, 200, "");
}

static json_t *status_json(struct master *m, const json_t *st)
{
	json_t *draining = json_array();
	size_t i, j;
	json_t *w, *id;
	json_array_foreach(json_object_get(json_object_get(st, "schedule"), "windows"), i, w)
		json_array_foreach(json_object_get(w, "machine_ids"), j, id)
			if (!in_list(json_object_get(st, "down"), id)) {
				/* The frameworks' answers to its inverse offers (fw-inverse.c). */
				char *key = json_dumps(id, JSON_COMPACT | JSON_SORT_KEYS);
				json_t *sts = maint_inverse_statuses(m, key);
				free(key);
				json_t *dm = json_pack("{s:O}", "id", id);
				if (json_array_size(sts))
					json_object_set(dm, "statuses", sts);
				json_decref(sts);
				json_array_append_new(draining, dm);
			}
	json_t *status = json_object();
	if (json_array_size(draining))
		json_object_set_new(status, "draining_machines", draining);
	else
		json_decref(draining);
	if (json_array_size(json_object_get(st, "down")))
		json_object_set(status, "down_machines", json_object_get(st, "down"));
	return status;
}

static int reply_saved(struct master *m, struct evhttp_request *req, const json_t *st)
{
	int r = maint_save(m, st);
	if (r < 0) {
		char msg[200];
		snprintf(msg, sizeof(msg), "Cannot persist the maintenance state: %s",
			 strerror(-r));
		http_reply_text(req, 503, msg);
		return r;
	}
	http_reply_text(req, 200, "");
	return 0;
}

void maint_operator_call(struct master *m, struct evhttp_request *req, const char *type,
			 const json_t *call)
{
	if (!strcmp(type, "DRAIN_AGENT")) {
		drain_call(m, req, call);
		return;
	}
	if (!strcmp(type, "MARK_AGENT_GONE")) {
		maint_mark_gone_call(m, req, call);
		return;
	}
	if (!strcmp(type, "DEACTIVATE_AGENT") || !strcmp(type, "REACTIVATE_AGENT")) {
		agent_active_call(m, req, type, call);
		return;
	}
	json_t *st = maint_load(m);
	char err[300];
	if (!strcmp(type, "GET_MAINTENANCE_SCHEDULE")) {
		operator_reply(req, 200,
				json_pack("{s:s, s:{s:O}}", "type", type, "get_maintenance_schedule",
					  "schedule", json_object_get(st, "schedule")));
	} else if (!strcmp(type, "GET_MAINTENANCE_STATUS")) {
		operator_reply(req, 200,
				json_pack("{s:s, s:{s:o}}", "type", type, "get_maintenance_status",
					  "status", status_json(m, st)));
	} else if (!strcmp(type, "UPDATE_MAINTENANCE_SCHEDULE")) {
		json_t *s = json_object_get(json_object_get(call, "update_maintenance_schedule"),
					    "schedule");
		if (schedule_check(s, err, sizeof(err)) < 0) {
			http_reply_text(req, 400, err);
			json_decref(st);
			return;
		}
		size_t i;
		json_t *id;
		json_array_foreach(json_object_get(st, "down"), i, id) {
			if (!in_schedule(s, id)) {
				snprintf(err, sizeof(err), "Machine '%s' is deactivated and must be "
							   "part of the schedule (STOP_MAINTENANCE first)",
					 json_string_value(json_object_get(id, "hostname")) ?: "");
				http_reply_text(req, 400, err);
				json_decref(st);
				return;
			}
		}
		json_t *copy = json_deep_copy(s);
		if (!json_object_get(copy, "windows"))
			json_object_set_new(copy, "windows", json_array());
		json_object_set_new(st, "schedule", copy);
		if (reply_saved(m, req, st) == 0)
			maint_inverse_pass(m); /* inverse offers for the new windows, now */
	} else { /* START_MAINTENANCE, STOP_MAINTENANCE */
		bool start = !strcmp(type, "START_MAINTENANCE");
		const json_t *ms = json_object_get(
			json_object_get(call, start ? "start_maintenance" : "stop_maintenance"),
			"machines");
		if (!json_is_array(ms) || !json_array_size(ms)) {
			snprintf(err, sizeof(err), "Expecting '%s.machines' to be a non-empty array",
				 start ? "start_maintenance" : "stop_maintenance");
			http_reply_text(req, 400, err);
			json_decref(st);
			return;
		}
		size_t i;
		json_t *id;
		json_t *down = json_object_get(st, "down");
		json_array_foreach(ms, i, id) {
			if (!machine_valid(id)) {
				http_reply_text(req, 400, "A machine id needs a 'hostname' or an 'ip'");
				json_decref(st);
				return;
			}
			if (start ? !in_schedule(json_object_get(st, "schedule"), id)
				  : !in_list(down, id)) {
				snprintf(err, sizeof(err), "Machine '%s' is not %s",
					 json_string_value(json_object_get(id, "hostname")) ?: "",
					 start ? "part of a maintenance schedule" : "in maintenance");
				http_reply_text(req, 400, err);
				json_decref(st);
				return;
			}
		}
		json_array_foreach(ms, i, id) {
			if (start) {
				if (!in_list(down, id))
					json_array_append(down, id);
				continue;
			}
			/* UP again: its agents may register (registry.c asks maint_machine_down). */
			for (size_t k = 0; k < json_array_size(down); k++)
				if (machine_eq(json_array_get(down, k), id))
					json_array_remove(down, k--);
			/* Stopping maintenance ends the machine's window too, as in Mesos. */
			size_t wi;
			json_t *w;
			json_t *ws = json_object_get(json_object_get(st, "schedule"), "windows");
			json_array_foreach(ws, wi, w) {
				json_t *ids = json_object_get(w, "machine_ids");
				for (size_t k = 0; k < json_array_size(ids); k++)
					if (machine_eq(json_array_get(ids, k), id))
						json_array_remove(ids, k--);
			}
			for (size_t k = 0; k < json_array_size(ws); k++)
				if (!json_array_size(json_object_get(json_array_get(ws, k),
								     "machine_ids")))
					json_array_remove(ws, k--);
		}
		if (reply_saved(m, req, st) == 0 && start) {
			const char *k;
			void *v;
			for (size_t ai = 0; hmap_next(&m->agents, &ai, &k, &v);) {
				struct m_agent *a = v;
				json_array_foreach(ms, i, id)
					if (!a->gone && maint_machine_of(id, a->hostname, a->ip)) {
						agent_down(m, a);
						break;
					}
			}
			fw_offers_wake_all(m->fw);
			rm_wake_all(m);
		}
		maint_inverse_pass(m); /* DOWN or UP: rescinds, or offers again */
	}
	json_decref(st);
}
