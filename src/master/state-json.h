/* The master's cluster state in Mesos's shapes: the legacy hand-written JSON of
 * `GET /master/state` (reference/compat.md §2.2, read by Mesos-DNS as §2.3 says) and the
 * protobuf-JSON objects of the v1 operator API (`POST /api/v1`, §2.1).
 *
 * Every framework is listed: the built-in ones (the apps framework, shown as Mesos shows
 * Marathon: name "marathon", role "*", active and connected) and the external ones (from
 * the FrameworkInfo they subscribed with), none with a `pid` (HTTP-style frameworks:
 * Mesos-DNS fails on a present but unparseable pid). Their tasks come from the frameworks'
 * task views (rm_each_task), rendered alike. Agents are "slaves" in the legacy JSON; unreachable ones are left out
 * of `slaves[]` (counted in `unreachable_slaves`), as Mesos does.
 *
 * The pure helpers below (no master needed) are unit tested in tests/unit/test-state-json.c. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/app.h"
#include "model/attributes.h"
#include "model/resources.h"
#include "master/rm.h"

struct master;
struct evhttp_request;

/* The Mesos release whose APIs berth speaks, reported as `version` (berth's own version is
 * `berth_version`), as /v2/info reports a Marathon version. */
#define STATE_JSON_MESOS_VERSION "1.11.0"
#define STATE_JSON_BERTH_VERSION "0.1.0"
/* Marathon's framework defaults. */
#define STATE_JSON_FRAMEWORK_NAME "marathon"
#define STATE_JSON_FAILOVER_TIMEOUT 604800.0

/* ---- pure helpers ---- */

/* Legacy resources object: cpus, gpus, mem and disk always present (0 by default), every
 * scalar summed over roles, ranges as "[a-b, c-d]" (a single value written "a-a"), sets as
 * "{a, b}". role NULL takes every role, else only that role. New reference. */
json_t *state_json_resources(const struct resources *r, const char *role);
/* {role: resources object} for every role but "*". New reference. */
json_t *state_json_reserved(const struct resources *r);
/* Legacy attributes object: scalars as numbers, text as is, ranges "[1-2, 4-5]", sets
 * "{a, b}". New reference. */
json_t *state_json_attributes(const struct attributes *a);
/* Mesos's text of a ranges or set value with ", " between elements, from berth's compact
 * form ("[1-3,5-6]" -> "[1-3, 5-6]", "{a,b}" -> "{a, b}"). Malloc'd. */
char *state_json_spaced_list(const char *compact);
/* v1 Resource[] (protobuf JSON): {name, type, scalar|ranges|set, role} per entry, with
 * `reservations` [{type: STATIC, role}] for reserved ones and `allocation_info` {role} when
 * alloc_role is not NULL. New reference. */
json_t *state_json_resources_v1(const struct resources *r, const char *alloc_role);
/* v1 Attribute[]: {name, type, scalar|ranges|set|text}. New reference. */
json_t *state_json_attributes_v1(const struct attributes *a);
/* Sets key to arr unless it is empty (stout leaves empty repeated fields out); arr is taken. */
void state_json_set_repeated(json_t *o, const char *key, json_t *arr);
/* "id@host:port" (a libprocess UPID) into out; an IPv6 host gets brackets. Returns 0, or
 * -E2BIG when it does not fit (out is then ""). */
int state_json_upid(const char *id, const char *host, uint16_t port, char *out, size_t len);
/* Whether an Accept header allows application/json: absent or empty allows anything; the
 * wildcard ranges (any type, any application subtype) count; a range with q=0 excludes. */
bool state_json_accepts_json(const char *accept);
/* Content-Type of an operator call: 0 for application/json (parameters allowed),
 * -ENOENT when absent, -EPROTONOSUPPORT for application/x-protobuf, -EINVAL else. */
int state_json_content_type(const char *ct);

/* ---- the master's state ---- */

/* The address clients reach the master at, for `leader` / `pid`: the listen address, or,
 * when it is a wildcard, the local address of req's connection (req may be NULL: then
 * 127.0.0.1). ip holds at least 64 bytes. */
void state_json_master_addr(struct master *m, struct evhttp_request *req, char *ip, size_t iplen,
			    uint16_t *port);
/* The whole legacy /master/state object. New reference. */
json_t *state_json_master_state(struct master *m, struct evhttp_request *req);
/* The same document's bytes in b (initialised here), assembled from the tasks' cached
 * renderings (state-cache.c); -errno (b released) when it cannot be: render it whole. */
struct http_body;
int state_json_master_body(struct master *m, struct evhttp_request *req, struct http_body *b);
/* A mark for state_json_v1_body: where state_json_v1_tasks's object goes in a document. */
json_t *state_json_v1_tasks_mark(void);
/* The same for state_json_v1_agents's object (after the tasks' mark when both are given). */
json_t *state_json_v1_agents_mark(void);
/* /master/frameworks's bytes in b (initialised here; only: ?framework_id=, or NULL) from
 * the tasks' cached renderings; -errno (b released) when it cannot be. */
int state_json_frameworks_body(struct master *m, struct evhttp_request *req, const char *only,
			       struct http_body *b);
/* Walks the cached legacy renderings (state-cache.c) of every task /master/state shows
 * req's principal, in its order (frameworks as listed, each's tasks, unreachable_tasks,
 * completed_tasks): fn(framework id, entry, ctx). With doc, returns /master/state's
 * document with every task list empty (and no executors), filtered as for req; else NULL. */
struct sc_task;
/* GET_FRAMEWORKS's payload ({"frameworks":[…]}, state_json_v1_frameworks filtered for req)
 * appended to b from the frameworks' cached renderings (state-cache.c). */
void state_json_v1_frameworks_body(struct master *m, struct evhttp_request *req,
				   struct http_body *b);
json_t *state_json_task_pieces(struct master *m, struct evhttp_request *req, bool doc,
			       void (*fn)(const char *fw_id, const struct sc_task *e, void *ctx),
			       void *ctx);
/* state-json-agents.c: an agent in /master/state's "slaves" shape (new reference); the
 * agents of a shape (SC_AGENT_*, state-cache.h: unreachable ones only in /master/slaves's)
 * as "[…]" appended to b from the cache; GET_AGENTS's object ({"agents":[…]}, or {}). */
json_t *state_json_legacy_slave(const struct m_agent *a);
void state_json_agents_body(struct master *m, struct http_body *b, int shape);
void state_json_v1_agents_body(struct master *m, struct http_body *b);
/* /master/slaves's bytes in b (initialised here) from the agents' cached renderings. */
int state_json_slaves_body(struct master *m, struct http_body *b);
/* doc's bytes (doc taken, holding the mark once) with state_json_v1_tasks's object in place
 * of the mark, assembled from the tasks' cached renderings; -errno (b released) if not. */
struct state_view {
	const char *who; /* the principal */
	json_t *users;   /* state_filter_v1_users of the unfiltered GET_FRAMEWORKS */
};
/* view (or NULL for every task): only the tasks its principal may see, selected piece by
 * piece (state_filter_v1_task's rules), nothing rendered again. */
int state_json_v1_body(struct master *m, json_t *doc, struct http_body *b,
		       const struct state_view *view);
/* A task in /master/state's shape (v1 false) or as a v1 Task; a is its agent (may be NULL).
 * New reference; t->discovery is taken. */
json_t *state_json_task(const struct rm_task_view *t, const struct m_agent *a, bool v1);
/* A GetAgents.Agent / GetFrameworks.Framework (the operator stream's AGENT_ADDED,
 * FRAMEWORK_ADDED). New references. */
json_t *state_json_v1_agent(const struct m_agent *a);
struct fw_framework;
json_t *state_json_v1_framework(const struct fw_framework *fw);
/* v1 operator payloads (the get_x objects). New references. */
json_t *state_json_v1_tasks(struct master *m);
json_t *state_json_v1_agents(struct master *m);
json_t *state_json_v1_frameworks(struct master *m);
json_t *state_json_v1_roles(struct master *m);
json_t *state_json_v1_master(struct master *m, struct evhttp_request *req);
json_t *state_json_v1_version(void);

