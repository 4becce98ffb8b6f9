/* The Mesos v1 operator API, `POST /api/v1` (reference/compat.md §2.1): the read calls
 * answered from the master's state (payloads built in state-json.c), flags, metrics,
 * logging level, files, teardown and the deprecated quota calls in api-operator-more.c,
 * the maintenance, drain and MARK_AGENT_GONE calls in maint.c; volume resizing 501.
 *
 * Checks run in Mesos's order, with its status codes; error bodies are plain text as Mesos
 * sends them:
 *   method not POST                      405 (Allow: POST)
 *   no Content-Type                      400 Expecting 'Content-Type' to be present
 *   Content-Type neither JSON nor protobuf 415 (protobuf: api-operator-wire.c)
 *   body not JSON / not a Call object    400 Failed to parse body into JSON / convert …
 *   no (known) type                      400 Failed to validate master::Call: …
 *   Accept allowing neither encoding     406
 *   a call berth does not serve          501 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "json/jnull.h"
#include "master/fw-int.h"
#include "master/master-int.h"
#include "master/state-cache.h"
#include "master/state-json.h"
#include "net/http-cond.h"

enum call_kind { CALL_SERVED, CALL_NOT_IMPLEMENTED, CALL_RESV, CALL_QUOTA, CALL_MORE, CALL_MAINT };

static const struct {
	const char *type;
	enum call_kind kind;
} calls[] = {
	{ "GET_HEALTH", CALL_SERVED },
	{ "GET_VERSION", CALL_SERVED },
	{ "GET_STATE", CALL_SERVED },
	{ "GET_AGENTS", CALL_SERVED },
	{ "GET_FRAMEWORKS", CALL_SERVED },
	{ "GET_TASKS", CALL_SERVED },
	{ "GET_ROLES", CALL_SERVED },
	{ "GET_EXECUTORS", CALL_SERVED },
	{ "GET_MASTER", CALL_SERVED },
	{ "GET_OPERATIONS", CALL_SERVED },
	{ "GET_WEIGHTS", CALL_QUOTA },
	{ "GET_FLAGS", CALL_MORE },
	{ "GET_METRICS", CALL_MORE },
	{ "GET_LOGGING_LEVEL", CALL_MORE },
	{ "SET_LOGGING_LEVEL", CALL_MORE },
	{ "LIST_FILES", CALL_MORE },
	{ "READ_FILE", CALL_MORE },
	{ "UPDATE_WEIGHTS", CALL_QUOTA },
	{ "SUBSCRIBE", CALL_SERVED },
	{ "RESERVE_RESOURCES", CALL_RESV },
	{ "UNRESERVE_RESOURCES", CALL_RESV },
	{ "CREATE_VOLUMES", CALL_RESV },
	{ "DESTROY_VOLUMES", CALL_RESV },
	{ "GROW_VOLUME", CALL_RESV },
	{ "SHRINK_VOLUME", CALL_RESV },
	{ "GET_MAINTENANCE_STATUS", CALL_MAINT },
	{ "GET_MAINTENANCE_SCHEDULE", CALL_MAINT },
	{ "UPDATE_MAINTENANCE_SCHEDULE", CALL_MAINT },
	{ "START_MAINTENANCE", CALL_MAINT },
	{ "STOP_MAINTENANCE", CALL_MAINT },
	{ "DRAIN_AGENT", CALL_MAINT },
	{ "DEACTIVATE_AGENT", CALL_MAINT },
	{ "REACTIVATE_AGENT", CALL_MAINT },
	{ "GET_QUOTA", CALL_QUOTA },
	{ "UPDATE_QUOTA", CALL_QUOTA },
	{ "SET_QUOTA", CALL_MORE },
	{ "REMOVE_QUOTA", CALL_MORE },
	{ "TEARDOWN", CALL_MORE },
	{ "MARK_AGENT_GONE", CALL_MAINT },
};

static void reply_text(struct evhttp_request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_text(struct evhttp_request *req, int code, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	http_reply_text(req, code, buf);
}

/* "get_state" for "GET_STATE" into out (at least 32 bytes). */
static void payload_key(const char *type, char *out, size_t len)
{
	size_t i = 0;
	for (; type[i] && i + 1 < len; i++)
		out[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' : type[i]);
	out[i] = '\0';
}

static json_t *call_payload_all(struct master *m, struct evhttp_request *req,
				const char *type);

/* What the principal of req may see of the call's payload (the view_* ACLs). */
static json_t *call_payload(struct master *m, struct evhttp_request *req, const char *type)
{
	json_t *p = call_payload_all(m, req, type);
	state_filter_v1(m, req, type, p);
	return p;
}

static json_t *call_payload_all(struct master *m, struct evhttp_request *req,
				const char *type)
{
	if (!strcmp(type, "GET_HEALTH"))
		return json_pack("{s:b}", "healthy", 1);
	if (!strcmp(type, "GET_VERSION"))
		return state_json_v1_version();
	if (!strcmp(type, "GET_AGENTS"))
		return state_json_v1_agents(m);
	if (!strcmp(type, "GET_FRAMEWORKS"))
		return state_json_v1_frameworks(m);
	if (!strcmp(type, "GET_TASKS"))
		return state_json_v1_tasks(m);
	if (!strcmp(type, "GET_ROLES")) {
		json_t *roles = state_json_v1_roles(m);
		quota_roles_annotate(m, roles); /* weights and quotas (quota.c) */
		return roles;
	}
	if (!strcmp(type, "GET_MASTER"))
		return state_json_v1_master(m, req);
	if (!strcmp(type, "GET_STATE"))
		return json_pack("{s:o, s:o, s:o, s:o}", "get_tasks", state_json_v1_tasks(m),
				 "get_executors", fw_executors_v1(m), "get_frameworks",
				 state_json_v1_frameworks(m), "get_agents", state_json_v1_agents(m));
	if (!strcmp(type, "GET_EXECUTORS"))
		return fw_executors_v1(m); /* custom executors (fw-executors.c) */
	/* GET_OPERATIONS: no operations: every repeated field is empty, so left out. */
	return json_object();
}

/* GET_TASKS, GET_AGENTS and GET_STATE with their tasks and agents assembled from the
 * cache (state-cache.c):
 * true when answered. Under BERTH_RENDER_VERIFY the answer is compared with the whole
 * render, and the whole render sent if they differ. */
static bool tasks_from_cache(struct master *m, struct evhttp_request *req, const char *type,
			     const char *key)
{
	bool state = !strcmp(type, "GET_STATE"), agents = !strcmp(type, "GET_AGENTS");
	if ((!state && !agents && strcmp(type, "GET_TASKS")) || !state_cache_enabled() ||
	    operator_accept(req) == OPERATOR_WIRE_PROTOBUF) /* the cache holds JSON */
		return false;
	/* Under view ACLs the tasks the principal may see are selected from the cache piece
	 * by piece, by state_filter_v1's rules (the users of the unfiltered frameworks). */
	struct state_view view = { 0 };
	bool filter = m->may_view && !agents; /* view ACLs do not apply to agents */
	json_t *gf = state || filter ? state_json_v1_frameworks(m) : NULL;
	if (filter) {
		view.who = state_filter_who(req);
		view.users = state_filter_v1_users(gf);
		if (state)
			state_filter_v1_frameworks(m, view.who, gf);
	}
	json_t *payload = state ? json_pack("{s:o, s:o, s:O, s:o}", "get_tasks",
					    state_json_v1_tasks_mark(), "get_executors",
					    fw_executors_v1(m), "get_frameworks", gf,
					    "get_agents", state_json_v1_agents_mark())
			  : agents ? state_json_v1_agents_mark()
				   : state_json_v1_tasks_mark();
	json_decref(gf);
	json_t *resp = json_pack("{s:s, s:o}", "type", type, key, payload);
	struct http_body b;
	int r = state_json_v1_body(m, resp, &b, filter ? &view : NULL);
	json_decref(view.users);
	if (r < 0)
		return false;
	if (state_cache_verifying() &&
	    state_cache_answer_stale(m->scache, req, &b,
				     json_pack("{s:s, s:o}", "type", type, key,
					       call_payload(m, req, type)),
				     type))
		return true;
	http_reply_body_cond(req, &b);
	return true;
}

/* GET_FRAMEWORKS from the framework cache (state-cache.c): true when answered. */
static bool frameworks_from_cache(struct master *m, struct evhttp_request *req, const char *type,
				  const char *key)
{
	if (strcmp(type, "GET_FRAMEWORKS") || !state_cache_enabled() ||
	    operator_accept(req) == OPERATOR_WIRE_PROTOBUF) /* the cache holds JSON */
		return false;
	struct http_body b;
	http_body_init(&b);
	http_body_lit(&b, "{\"type\":\"GET_FRAMEWORKS\",\"");
	http_body_lit(&b, key);
	http_body_lit(&b, "\":");
	state_json_v1_frameworks_body(m, req, &b);
	http_body_lit(&b, "}");
	if (state_cache_verifying() &&
	    state_cache_answer_stale(m->scache, req, &b,
				     json_pack("{s:s, s:o}", "type", type, key,
					       call_payload(m, req, type)),
				     type))
		return true;
	http_reply_body_cond(req, &b);
	return true;
}

void rm_handle_operator(struct master *m, struct evhttp_request *req)
{
	enum evhttp_cmd_type meth = evhttp_request_get_command(req);
	if (meth != EVHTTP_REQ_POST) {
		http_add_header(req, "Allow", "POST");
		reply_text(req, 405, "Expecting one of { 'POST' }, but received '%s'",
			   http_method_name(meth));
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	int ct = state_json_content_type(evhttp_find_header(h, "Content-Type"));
	if (ct == -ENOENT) {
		reply_text(req, 400, "Expecting 'Content-Type' to be present");
		return;
	}
	if (ct < 0 && ct != -EPROTONOSUPPORT) {
		reply_text(req, 415, "Expecting 'Content-Type' of application/json or "
				     "application/x-protobuf");
		return;
	}
	json_t *call;
	char err[256];
	if (ct == -EPROTONOSUPPORT) {
		if (operator_read_protobuf_call(req, &call, err, sizeof(err)) < 0) {
			reply_text(req, 400, "Failed to parse body into Call protobuf: %s", err);
			return;
		}
	} else if (http_request_json(req, &call, err, sizeof(err)) < 0) {
		reply_text(req, 400, "Failed to parse body into JSON: %s", err);
		return;
	}
	/* A null field is an absent one (compat.md §10.9); QuotaConfig's two maps keep theirs. */
	static const char *const maps[] = { "guarantees", "limits", NULL };
	jnull_strip(call, maps);
	if (!json_is_object(call)) {
		reply_text(req, 400, "Failed to convert JSON into Call protobuf: "
				     "Expecting a JSON object");
		json_decref(call);
		return;
	}
	json_t *jt = json_object_get(call, "type");
	if (jt && !json_is_string(jt)) {
		reply_text(req, 400, "Failed to convert JSON into Call protobuf: "
				     "Expecting a JSON string for field 'type'");
		json_decref(call);
		return;
	}
	/* An unknown enum name is dropped on conversion, as stout does: it reads as absent. */
	const char *type = jt ? json_string_value(jt) : NULL;
	size_t idx = ARRAY_SIZE(calls);
	for (size_t i = 0; type && i < ARRAY_SIZE(calls); i++)
		if (!strcmp(calls[i].type, type))
			idx = i;
	if (idx == ARRAY_SIZE(calls)) {
		reply_text(req, 400, "Failed to validate master::Call: Expecting 'type' to be "
				     "present%s%s%s",
			   type ? " (unknown type '" : "", type ? type : "", type ? "')" : "");
		json_decref(call);
		return;
	}
	if (calls[idx].kind == CALL_RESV) {
		/* reservations.c: 202 Accepted (no body), 400 malformed, 409 a rule broken. */
		resv_operator_call(m, req, calls[idx].type, call);
		json_decref(call);
		return;
	}
	if (calls[idx].kind == CALL_QUOTA) {
		/* quota.c: UPDATE_* 200 (no body), 400, 409; GET_* 200 JSON. */
		if (!strncmp(calls[idx].type, "GET_", 4) && operator_accept(req) < 0)
			reply_text(req, 406, "Expecting 'Accept' to allow application/json or "
					     "application/x-protobuf");
		else
			quota_operator_call(m, req, calls[idx].type, call);
		json_decref(call);
		return;
	}
	if (operator_accept(req) < 0) {
		json_decref(call);
		reply_text(req, 406, "Expecting 'Accept' to allow application/json or "
				     "application/x-protobuf");
		return;
	}
	if (calls[idx].kind == CALL_MAINT) {
		maint_operator_call(m, req, calls[idx].type, call); /* maint.c */
		json_decref(call);
		return;
	}
	if (calls[idx].kind == CALL_MORE) {
		operator_more_call(m, req, calls[idx].type, call);
		json_decref(call);
		return;
	}
	json_decref(call);
	if (calls[idx].kind == CALL_NOT_IMPLEMENTED) {
		reply_text(req, 501, "'%s' is not supported by berth's operator API yet; the read "
				     "calls GET_HEALTH, GET_VERSION, GET_STATE, GET_AGENTS, "
				     "GET_FRAMEWORKS, GET_TASKS, GET_ROLES, GET_EXECUTORS, "
				     "GET_MASTER, GET_OPERATIONS, GET_WEIGHTS, GET_QUOTA, "
				     "GET_FLAGS, GET_METRICS and GET_LOGGING_LEVEL are",
			   calls[idx].type);
		return;
	}
	if (!strcmp(calls[idx].type, "SUBSCRIBE")) {
		/* The RecordIO event stream (operator-stream.c). */
		operator_stream_subscribe(m, req, call_payload(m, req, "GET_STATE"));
		return;
	}
	char key[64];
	payload_key(calls[idx].type, key, sizeof(key));
	if (tasks_from_cache(m, req, calls[idx].type, key) ||
	    frameworks_from_cache(m, req, calls[idx].type, key))
		return;
	json_t *resp = json_pack("{s:s}", "type", calls[idx].type);
	json_object_set_new(resp, key, call_payload(m, req, calls[idx].type));
	operator_reply(req, 200, resp);
}
