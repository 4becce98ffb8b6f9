/* Mesos's legacy master endpoints that tools scrape (reference/compat.md §2.2, §10.10):
 * /master/frameworks, /master/tasks, /master/roles, /master/state-summary, /master/redirect,
 * /master/flags, /version and /metrics/snapshot (each also without the /master prefix, as
 * libprocess serves them).
 *
 * Invariant: every answer is derived from the one legacy state object
 * (state_json_master_state), so the endpoints never disagree with /master/state; each is
 * built on demand, in time linear in the cluster's size, like /master/state itself.
 * /master/frameworks, /master/tasks and /state-summary are assembled from the same cached
 * task renderings as /master/state (state_json_frameworks_body, state_json_task_pieces),
 * the same bytes (BERTH_RENDER_VERIFY=1 compares each with the whole render), with ETag/304.
 * /master/tasks selects its page from the tasks' (time, walk index) pairs with a heap of
 * offset + limit (ties in walk order, the whole render's too): O(n + k log k), not a sort
 * of every task; the walk that finds the tasks is O(n) as for every cached answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "master/master-int.h"
#include "master/state-cache.h"
#include "master/state-json.h"
#include "master/task-page.h"
#include "net/http-cond.h"

static const char *const ACTIVE_STATES[] = { "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING",
					     "TASK_KILLING" };
static const char *const SUMMARY_STATES[] = { "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING",
					      "TASK_KILLING", "TASK_FINISHED", "TASK_KILLED",
					      "TASK_FAILED", "TASK_LOST", "TASK_ERROR",
					      "TASK_UNREACHABLE" };

/* Calls fn for every task of every framework (tasks, unreachable_tasks, completed_tasks). */
static void each_task(json_t *st, void (*fn)(json_t *fw, json_t *task, void *ctx), void *ctx)
{
	static const char *const lists[] = { "tasks", "unreachable_tasks", "completed_tasks" };
	size_t i, j;
	json_t *fw, *t;
	json_array_foreach(json_object_get(st, "frameworks"), i, fw) {
		for (size_t l = 0; l < 3; l++)
			json_array_foreach(json_object_get(fw, lists[l]), j, t) fn(fw, t, ctx);
	}
}

/* ---- /master/frameworks ---- */

static json_t *frameworks(json_t *st, struct evhttp_request *req)
{
	char *only = http_query_get(req, "framework_id");
	json_t *out = json_pack("{s:[], s:O, s:O}", "frameworks", "completed_frameworks",
				json_object_get(st, "completed_frameworks"),
				"unregistered_frameworks",
				json_object_get(st, "unregistered_frameworks"));
	size_t i;
	json_t *fw;
	json_array_foreach(json_object_get(st, "frameworks"), i, fw) {
		const char *id = json_string_value(json_object_get(fw, "id"));
		if (!only || (id && !strcmp(id, only)))
			json_array_append(json_object_get(out, "frameworks"), fw);
	}
	free(only);
	return out;
}

/* /master/frameworks from the task cache (state-cache.c): true when answered. Under
 * BERTH_RENDER_VERIFY the answer is compared with the whole render. */
static bool frameworks_from_cache(struct master *m, struct evhttp_request *req)
{
	if (!state_cache_enabled())
		return false;
	char *only = http_query_get(req, "framework_id");
	struct http_body b;
	int r = state_json_frameworks_body(m, req, only, &b);
	free(only);
	if (r < 0)
		return false;
	if (state_cache_verifying()) {
		json_t *st = state_json_master_state(m, req);
		json_t *fresh = frameworks(st, req);
		json_decref(st);
		if (state_cache_answer_stale(m->scache, req, &b, fresh, "/master/frameworks"))
			return true;
	}
	http_reply_body_cond(req, &b);
	return true;
}

/* ---- /master/tasks ---- */

static void collect(json_t *fw, json_t *t, void *ctx)
{
	task_page_add(ctx,
		      json_number_value(json_object_get(
			      json_array_get(json_object_get(t, "statuses"), 0), "timestamp")),
		      t);
}

/* Non-negative integer query parameter, or dflt; -1 when malformed (400 sent). */
static long long query_count(struct evhttp_request *req, const char *key, long long dflt)
{
	char *v = http_query_get(req, key);
	if (!v)
		return dflt;
	char *end;
	long long n = strtoll(v, &end, 10);
	bool bad = !*v || *end || n < 0;
	free(v);
	if (bad) {
		http_reply_text(req, 400, "");
		return -1;
	}
	return n;
}

/* limit, offset and order of req; false when malformed (400 sent). */
static bool page_of(struct evhttp_request *req, struct task_page *pg)
{
	pg->limit = query_count(req, "limit", 100);
	if (pg->limit < 0)
		return false;
	pg->offset = query_count(req, "offset", 0);
	if (pg->offset < 0)
		return false;
	char *order = http_query_get(req, "order");
	pg->asc = order && !strcmp(order, "asc");
	free(order);
	return true;
}

static json_t *tasks(json_t *st, const struct task_page *pg)
{
	struct task_page_list l = { 0 };
	each_task(st, collect, &l);
	size_t from, to;
	task_page_select(&l, pg, &from, &to);
	json_t *out = json_array();
	for (size_t i = from; i < to; i++)
		json_array_append(out, l.v[i].p);
	free(l.v);
	return json_pack("{s:o}", "tasks", out);
}

static void collect_piece(const char *fw_id, const struct sc_task *e, void *ctx)
{
	task_page_add(ctx, e->time, e->piece);
}

/* /master/tasks from the task cache: the same bytes as tasks() on the whole document, the
 * page's tasks' pieces referenced. true when answered (400 included). */
static bool tasks_from_cache(struct master *m, struct evhttp_request *req)
{
	if (!state_cache_enabled())
		return false;
	struct task_page pg;
	if (!page_of(req, &pg))
		return true;
	struct task_page_list l = { 0 };
	state_json_task_pieces(m, req, false, collect_piece, &l);
	size_t from, to;
	task_page_select(&l, &pg, &from, &to);
	struct http_body b;
	http_body_init(&b);
	http_body_lit(&b, "{\"tasks\":[");
	for (size_t i = from; i < to; i++)
		http_body_piece(&b, l.v[i].p, i > from);
	http_body_lit(&b, "]}");
	free(l.v);
	if (state_cache_verifying()) {
		json_t *st = state_json_master_state(m, req);
		json_t *fresh = tasks(st, &pg);
		json_decref(st);
		if (state_cache_answer_stale(m->scache, req, &b, fresh, "/master/tasks"))
			return true;
	}
	http_reply_body_cond(req, &b);
	return true;
}

/* ---- /master/roles ---- */

/* Legacy resources {cpus, gpus, mem, disk} summed from a v1 Resource[]. */
static json_t *legacy_of_v1(const json_t *v1)
{
	double sum[4] = { 0 };
	static const char *const names[] = { "cpus", "gpus", "mem", "disk" };
	size_t i;
	json_t *r;
	json_array_foreach(v1, i, r) {
		for (size_t k = 0; k < 4; k++)
			if (!strcmp(json_string_value(json_object_get(r, "name")) ?: "", names[k]))
				sum[k] += json_number_value(
					json_object_get(json_object_get(r, "scalar"), "value"));
	}
	return json_pack("{s:f, s:f, s:f, s:f}", "cpus", sum[0], "gpus", sum[1], "mem", sum[2],
			 "disk", sum[3]);
}

static json_t *roles(struct master *m)
{
	json_t *v1 = state_json_v1_roles(m);
	json_t *out = json_array();
	size_t i, j;
	json_t *r, *f;
	json_array_foreach(json_object_get(v1, "roles"), i, r) {
		json_t *fws = json_array();
		json_array_foreach(json_object_get(r, "frameworks"), j, f)
			json_array_append(fws, json_object_get(f, "value"));
		json_array_append_new(
			out, json_pack("{s:O, s:O, s:o, s:o}", "name", json_object_get(r, "name"),
				       "weight", json_object_get(r, "weight"), "frameworks", fws,
				       "resources", legacy_of_v1(json_object_get(r, "resources"))));
	}
	json_decref(v1);
	return json_pack("{s:o}", "roles", out);
}

/* ---- /master/state-summary ---- */

struct summary_ctx {
	json_t *by_slave; /* slave id -> {state: count, "fws": {fw id: true}} */
	json_t *by_fw;    /* fw id -> {state: count, "slaves": {slave id: true}} */
};

static void count_into(json_t *o, const char *state, const char *other_key, const char *other)
{
	json_int_t c = json_integer_value(json_object_get(o, state));
	json_object_set_new(o, state, json_integer(c + 1));
	json_t *set = json_object_get(o, other_key);
	if (!set) {
		set = json_object();
		json_object_set_new(o, other_key, set);
	}
	if (other)
		json_object_set_new(set, other, json_true());
}

static json_t *get_or_new(json_t *map, const char *key)
{
	json_t *o = json_object_get(map, key);
	if (!o) {
		o = json_object();
		json_object_set_new(map, key, o);
	}
	return o;
}

static void summarize_one(struct summary_ctx *sc, const char *state, const char *slave,
			  const char *fid)
{
	if (!state || !slave || !fid)
		return;
	bool active = false;
	for (size_t i = 0; i < 4; i++)
		active |= !strcmp(state, ACTIVE_STATES[i]);
	count_into(get_or_new(sc->by_slave, slave), state, "fws", active ? fid : NULL);
	count_into(get_or_new(sc->by_fw, fid), state, "slaves", active ? slave : NULL);
}

static void summarize(json_t *fw, json_t *t, void *ctx)
{
	summarize_one(ctx, json_string_value(json_object_get(t, "state")),
		      json_string_value(json_object_get(t, "slave_id")),
		      json_string_value(json_object_get(fw, "id")));
}

static void summarize_piece(const char *fw_id, const struct sc_task *e, void *ctx)
{
	summarize_one(ctx, e->state, e->agent_id, fw_id);
}

static void add_counts(json_t *dst, json_t *counts, const char *set_key, const char *ids_key)
{
	for (size_t i = 0; i < 10; i++)
		json_object_set_new(dst, SUMMARY_STATES[i],
				    json_integer(json_integer_value(
					    json_object_get(counts, SUMMARY_STATES[i]))));
	json_t *ids = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(counts, set_key), k, v)
		json_array_append_new(ids, json_string(k));
	json_object_set_new(dst, ids_key, ids);
}

static void copy_keys(json_t *dst, json_t *src, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(src, *keys);
		if (v)
			json_object_set(dst, *keys, v);
	}
}

/* The summary of st (its tasks counted into sc already; sc released). */
static json_t *summary_of(json_t *st, struct summary_ctx sc)
{
	static const char *const slave_keys[] = { "id", "pid", "hostname", "registered_time",
						  "resources", "used_resources",
						  "offered_resources", "reserved_resources",
						  "unreserved_resources", "attributes", "active",
						  "version", NULL };
	static const char *const fw_keys[] = { "id", "name", "pid", "used_resources",
					       "offered_resources", "capabilities", "hostname",
					       "webui_url", "active", "connected", "recovered",
					       NULL };
	json_t *slaves = json_array(), *fws = json_array();
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(st, "slaves"), i, o) {
		json_t *s = json_object();
		copy_keys(s, o, slave_keys);
		add_counts(s, json_object_get(sc.by_slave, json_string_value(
								 json_object_get(o, "id")) ?: ""),
			   "fws", "framework_ids");
		json_array_append_new(slaves, s);
	}
	json_array_foreach(json_object_get(st, "frameworks"), i, o) {
		json_t *f = json_object();
		copy_keys(f, o, fw_keys);
		add_counts(f, json_object_get(sc.by_fw, json_string_value(
							      json_object_get(o, "id")) ?: ""),
			   "slaves", "slave_ids");
		json_array_append_new(fws, f);
	}
	json_decref(sc.by_slave);
	json_decref(sc.by_fw);
	return json_pack("{s:O, s:o, s:o}", "hostname", json_object_get(st, "hostname"), "slaves",
			 slaves, "frameworks", fws);
}

static json_t *state_summary(json_t *st)
{
	struct summary_ctx sc = { json_object(), json_object() };
	each_task(st, summarize, &sc);
	return summary_of(st, sc);
}

/* /state-summary from the task cache: the tasks counted from their cached entries, the
 * document rendered without them. true when answered. */
static bool summary_from_cache(struct master *m, struct evhttp_request *req)
{
	if (!state_cache_enabled())
		return false;
	struct summary_ctx sc = { json_object(), json_object() };
	json_t *st = state_json_task_pieces(m, req, true, summarize_piece, &sc);
	json_t *out = summary_of(st, sc);
	json_decref(st);
	char *s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	json_decref(out);
	if (!s)
		return false;
	struct http_body b;
	http_body_init(&b);
	http_body_lit(&b, s);
	free(s);
	if (state_cache_verifying()) {
		json_t *whole = state_json_master_state(m, req);
		json_t *fresh = state_summary(whole);
		json_decref(whole);
		if (state_cache_answer_stale(m->scache, req, &b, fresh, "/state-summary"))
			return true;
	}
	http_reply_body_cond(req, &b);
	return true;
}

/* ---- /metrics/snapshot ---- */

struct metric_counts {
	double by_state[16];
	const char *const *names;
	size_t n;
};

static void count_state(json_t *fw, json_t *t, void *ctx)
{
	struct metric_counts *mc = ctx;
	const char *s = json_string_value(json_object_get(t, "state"));
	for (size_t i = 0; s && i < mc->n; i++)
		if (!strcmp(s, mc->names[i]))
			mc->by_state[i]++;
}

static json_t *snapshot(struct master *m, json_t *st)
{
	static const char *const states[] = {
		"TASK_RUNNING", "TASK_STAGING", "TASK_STARTING", "TASK_KILLING",
		"TASK_UNREACHABLE", "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED",
		"TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR",
	};
	struct metric_counts mc = { { 0 }, states, sizeof(states) / sizeof(states[0]) };
	each_task(st, count_state, &mc);
	json_t *j = json_object();
	char key[64];
	json_object_set_new(j, "master/elected", json_real(1));
	json_object_set_new(j, "master/uptime_secs",
			    json_real((double)(time_real_usec() - m->started_usec) / 1e6));
	for (size_t i = 0; i < mc.n; i++) {
		char lower[32];
		size_t k = 0;
		for (const char *p = states[i] + 5; *p && k + 1 < sizeof(lower); p++)
			lower[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		lower[k] = '\0';
		snprintf(key, sizeof(key), "master/tasks_%s", lower);
		json_object_set_new(j, key, json_real(mc.by_state[i]));
	}
	double act = json_number_value(json_object_get(st, "activated_slaves"));
	double deact = json_number_value(json_object_get(st, "deactivated_slaves"));
	json_object_set_new(j, "master/slaves_active", json_real(act));
	json_object_set_new(j, "master/slaves_connected", json_real(act));
	json_object_set_new(j, "master/slaves_disconnected", json_real(deact));
	json_object_set_new(j, "master/slaves_inactive", json_real(deact));
	json_object_set_new(j, "master/slaves_unreachable",
			    json_real(json_number_value(json_object_get(st, "unreachable_slaves"))));
	double fa = 0, fi = 0, fc = 0, fd = 0, offers = 0;
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(st, "frameworks"), i, o) {
		bool a = json_is_true(json_object_get(o, "active"));
		bool c = json_is_true(json_object_get(o, "connected"));
		fa += a, fi += !a, fc += c, fd += !c;
		offers += (double)json_array_size(json_object_get(o, "offers"));
	}
	json_object_set_new(j, "master/frameworks_active", json_real(fa));
	json_object_set_new(j, "master/frameworks_inactive", json_real(fi));
	json_object_set_new(j, "master/frameworks_connected", json_real(fc));
	json_object_set_new(j, "master/frameworks_disconnected", json_real(fd));
	json_object_set_new(j, "master/outstanding_offers", json_real(offers));
	static const char *const res[] = { "cpus", "gpus", "mem", "disk" };
	for (size_t r = 0; r < 4; r++) {
		double total = 0, used = 0;
		json_array_foreach(json_object_get(st, "slaves"), i, o) {
			total += json_number_value(
				json_object_get(json_object_get(o, "resources"), res[r]));
			used += json_number_value(
				json_object_get(json_object_get(o, "used_resources"), res[r]));
		}
		snprintf(key, sizeof(key), "master/%s_total", res[r]);
		json_object_set_new(j, key, json_real(total));
		snprintf(key, sizeof(key), "master/%s_used", res[r]);
		json_object_set_new(j, key, json_real(used));
		snprintf(key, sizeof(key), "master/%s_percent", res[r]);
		json_object_set_new(j, key, json_real(total > 0 ? used / total : 0));
		static const char *const rv[] = { "total", "used", "percent" };
		for (size_t k = 0; k < 3; k++) {
			snprintf(key, sizeof(key), "master/%s_revocable_%s", res[r], rv[k]);
			json_object_set_new(j, key, json_real(0));
		}
	}
	return j;
}

json_t *legacy_metrics_snapshot(struct master *m, struct evhttp_request *req)
{
	json_t *st = state_json_master_state(m, req);
	json_t *j = snapshot(m, st);
	json_decref(st);
	return j;
}

/* ---- dispatch ---- */

void rm_handle_legacy(struct master *m, struct evhttp_request *req)
{
	enum evhttp_cmd_type meth = evhttp_request_get_command(req);
	if (meth != EVHTTP_REQ_GET && meth != EVHTTP_REQ_HEAD) {
		http_reply_message(req, 405, "Expecting a 'GET' request, received '%s'",
				   http_method_name(meth));
		return;
	}
	char *path = http_request_path(req);
	const char *p = path ? path : "";
	if (!strncmp(p, "/master/", 8))
		p += 7;
	json_t *out = NULL;
	bool answered = false;
	if (!strcmp(p, "/version")) {
		out = json_pack("{s:s, s:f, s:s, s:s}", "build_date", "", "build_time", 0.0,
				"build_user", "berth", "version", STATE_JSON_MESOS_VERSION);
	} else if (!strcmp(p, "/roles")) {
		out = roles(m);
	} else if (!strcmp(p, "/frameworks") && frameworks_from_cache(m, req)) {
		answered = true;
	} else if (!strcmp(p, "/tasks") && tasks_from_cache(m, req)) {
		answered = true;
	} else if (!strcmp(p, "/state-summary") && summary_from_cache(m, req)) {
		answered = true;
	} else {
		json_t *st = state_json_master_state(m, req);
		if (!strcmp(p, "/frameworks")) {
			out = frameworks(st, req);
		} else if (!strcmp(p, "/tasks")) {
			struct task_page pg;
			if (!page_of(req, &pg)) { /* 400 sent */
				json_decref(st);
				free(path);
				return;
			}
			out = tasks(st, &pg);
		} else if (!strcmp(p, "/state-summary")) {
			out = state_summary(st);
		} else if (!strcmp(p, "/flags")) {
			out = json_pack("{s:O}", "flags", json_object_get(st, "flags"));
		} else if (!strcmp(p, "/metrics/snapshot")) {
			out = snapshot(m, st);
		} else if (!strcmp(p, "/redirect")) {
			/* This master is the leader: "//host:port", as Mesos answers. */
			json_t *addr = json_object_get(json_object_get(st, "leader_info"), "address");
			char loc[320];
			snprintf(loc, sizeof(loc), "//%s:%d",
				 json_string_value(json_object_get(addr, "hostname")) ?: "",
				 (int)json_integer_value(json_object_get(addr, "port")));
			http_add_header(req, "Location", loc);
			http_reply_text(req, 307, "");
			answered = true;
		}
		json_decref(st);
	}
	free(path);
	if (out)
		http_reply_json(req, 200, out);
	else if (!answered)
		http_reply_text(req, 404, "");
}
