/* The resource manager's in-memory state, shared by the files of src/master. Internal:
 * nothing outside src/master includes it (the layer check enforces it); frameworks use
 * master/rm.h and the server master/master.h.
 *
 * Ownership: struct master owns the agents (agents map) and, through struct frameworks, the
 * external frameworks with their offers and tasks; the built-in frameworks (clients) own
 * their tasks and are reached only through their callbacks (struct rm_framework_ops).
 * Every agent's free and used resources belong to the ledger (ledger.c). */
#pragma once
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/hmap.h"
#include "base/metrics.h"
#include "model/app.h"
#include "model/attributes.h"
#include "model/resources.h"
#include "model/task.h"
#include "net/http.h"
#include "store/store.h"
#include "master/master.h" /* the HTTP handlers: rm_handle_* */
#include "master/rm.h"
#include "master/ledger.h"

/* A built-in framework (rm_framework_add). */
/* state-json.c: the user the built-in frameworks' FrameworkInfo names (berth's own). */
const char *framework_user(void);

struct rm_client {
	struct master *m;
	char id[64];
	char name[64];
	const struct rm_framework_ops *ops;
	void *ctx;
	struct quota_amounts alloc; /* what its takes hold, all roles (DRF share) */
	unsigned ntasks;            /* its live tasks (rm_task_placed) */
};

struct m_update_batch {
	char *agent_id;
	json_t *updates;
	struct evhttp_request *req; /* NULL: a simulated agent */
};

/* The master's metrics series that the resource manager updates (NULL until
 * rm_metrics_register; every metrics_* call accepts NULL). */
struct rm_metrics {
	struct metrics_series *launches, *kills, *store_commit;
	struct metrics_family *status_updates;
};

struct master {
	struct event_base *base;
	rm_view_fn may_view;     /* rm_set_view_filter, or NULL */
	void *may_view_ctx;
	unsigned streams_per_principal; /* rm_set_stream_limit; 0: none */
	struct http_tls *agent_tls; /* rm_set_agent_tls: HTTPS to agents, or NULL (borrowed) */
	struct state_cache *scache; /* /master/state's task renderings (state-cache.c) */
	struct master_config cfg;
	struct store *store;
	uint16_t port;           /* the port the HTTP server listens on (rm_set_port) */
	struct hmap agents;      /* id -> struct m_agent* */
	char framework_id[64];   /* the first built-in framework's: "<master id>-0000" */
	uint64_t started_usec;
	unsigned agent_seq;
	uint64_t hb_usec;        /* monotonic: when agents were last sent a HEARTBEAT */
	double volume_lease_sec;   /* an agent cut off this long kills its volume holders */
	struct rm_client *clients[RM_MAX_CLIENTS]; /* the built-in frameworks */
	size_t nclients;
	struct frameworks *fw;     /* external frameworks (frameworks.c), opaque here */
	struct ledger roles;       /* what is allocated to each role (ledger.c) */
	struct hmap resv;          /* agent id -> struct resv_state* (reservations.c) */
	struct hmap quota_roles;   /* role -> struct quota_role*: weights, quotas (quota.c) */
	struct rm_metrics metrics;
	/* The operator API's subscribers (operator-stream.c). */
	struct op_sub *op_subs;
	unsigned op_nsubs;
	struct hmap op_announced;   /* task id -> (void *)1 */
	uint64_t op_announced_since; /* realtime */
	/* The task listener (rm_task_listen; operator-stream.c calls it). */
	rm_task_listener_fn task_listener;
	void *task_listener_ctx;
	/* The framework listener (rm_framework_listen; operator-stream.c calls it). */
	rm_framework_listener_fn fw_listener;
	void *fw_listener_ctx;
	/* Agents' status-update batches waiting for the group commit at the end of this
	 * event-loop iteration (updates.c). */
	struct m_update_batch *ub;
	size_t nub, ub_cap, ub_updates;
	struct event *updates_ev;
	/* maint.c: the stored maintenance state as last written or read (for the tick), and
	 * fw-inverse.c's inverse offers (id -> struct m_inverse*) and the frameworks' answers
	 * ({machine key: {framework id: InverseOfferStatus}}). */
	json_t *maint_cache;
	uint64_t maint_pass_usec;
	struct hmap inverse;
	json_t *inverse_status;
	json_t *inverse_refuse; /* {machine key: {framework id: until (monotonic usec)}} */
};

/* rm.c: routing of agent events to the frameworks that own the tasks */
/* A status update (fields as agent-protocol.md §3) to the framework of its task; a task
 * nobody owns is killed unless it has ended. */
void rm_route_status(struct master *m, struct m_agent *a, const json_t *update);
/* a (re)registered reporting tasks ([{task_id, state}]): every framework recovers its own;
 * what nobody owns is killed. */
void rm_route_agent_registered(struct master *m, struct m_agent *a, const json_t *tasks);
/* a became unreachable. */
void rm_route_agent_lost(struct master *m, struct m_agent *a);
/* The agent id of a task of any framework ("" while it has none), NULL when nobody has it. */
const char *rm_task_agent(struct master *m, const char *task_id);
/* a began draining: tells every built-in framework. */
void rm_route_agent_draining(struct master *m, struct m_agent *a);
/* Tells every built-in framework to run its pass soon. */
void rm_wake_all(struct master *m);

/* registry.c: agents */
/* Ends every agent's stream (at shutdown). */
void registry_close_streams(struct master *m);
/* Sends KILL for a task nobody owns (3 s of grace). */
void registry_kill_unknown(struct m_agent *a, const char *task_id);
/* The agent a request's JSON body names (*body set, owned by the caller), or NULL with the
 * reply sent (400 malformed, 404 unknown agent). */
struct m_agent *registry_agent_from_body(struct master *m, struct evhttp_request *req,
					 json_t **body);

/* updates.c: status-update intake by group commit */
/* Queues a batch of a's status updates (array, taken) to be applied with the other batches
 * of this event-loop iteration in one store commit, after which req (NULL: a simulated
 * agent) is answered with the uuids taken. */
void updates_queue(struct master *m, struct m_agent *a, json_t *updates,
		   struct evhttp_request *req);
/* Applies and commits every queued batch, then answers them; returns the updates taken. */
size_t updates_flush(struct master *m);
void updates_free(struct master *m);
void registry_tick(struct master *m);
/* Adds a connected simulated agent (tests, benchmarks, fuzzing): what the master sends it
 * goes to sim (a->sim_ctx = ctx) instead of a stream, and it never subscribes; it times out
 * as any agent unless the caller keeps a->last_seen_usec current. NULL with err set when
 * the id is taken or the description does not parse. */
struct m_agent *registry_add_sim_agent(struct master *m, const char *id, const char *hostname,
				       const char *http, const char *resources,
				       const char *attributes, agent_sim_fn sim, void *ctx,
				       char *err, size_t errlen);
int registry_load(struct master *m);
/* Writes a's record (id, info, deactivated) to the store. */
int registry_store_agent(struct master *m, const struct m_agent *a);
/* maint.c: DEACTIVATE_AGENT, REACTIVATE_AGENT, the maintenance schedule calls. */
void maint_operator_call(struct master *m, struct evhttp_request *req, const char *type,
			 const json_t *call);
/* Whether MachineID id ({hostname, ip}) names the machine of an agent with that hostname and
 * ip: each field id gives must match (hostname case-insensitively), one it leaves out
 * matches any; an id with neither matches nothing. */
bool maint_machine_of(const json_t *id, const char *hostname, const char *ip);
/* Whether the machine of an agent with that hostname and ip is DOWN (START_MAINTENANCE,
 * read from the store). */
bool maint_machine_down(struct master *m, const char *hostname, const char *ip);
/* After registry_load: the agents of DOWN machines are out (AGENT_UNREACHABLE), as they
 * were before the restart. */
void maint_recover_down(struct master *m);
/* The maintenance window a's machine is in while it is draining (in the schedule, not
 * DOWN), *machine the MachineID naming it; NULL when none. Borrowed from m->maint_cache. */
const json_t *maint_window_of(struct master *m, const struct m_agent *a,
			      const json_t **machine);
/* fw-inverse.c: sets each agent's maint_draining, makes and rescinds inverse offers. */
void maint_inverse_pass(struct master *m);
/* Every tick: the pass, about once a second while a schedule has windows. */
void maint_tick(struct master *m);
/* The frameworks' InverseOfferStatus answers for a machine (its key: the MachineID's
 * compact JSON with sorted keys), a new array. */
json_t *maint_inverse_statuses(struct master *m, const char *machine_key);
void maint_inverse_free(struct master *m);
/* A draining agent has no task left: DRAINED (persisted). */
void maint_drained(struct master *m, struct m_agent *a);
/* maint-gone.c: marks a gone for good (Mesos's markGone): persisted first (-errno when
 * that fails, nothing changed), then the agent is told to shut down and cut off, and every
 * framework's tasks there end (TASK_GONE_BY_OPERATOR). 0 also when a was gone already. */
int maint_mark_gone(struct master *m, struct m_agent *a);
/* MARK_AGENT_GONE (operator API). */
void maint_mark_gone_call(struct master *m, struct evhttp_request *req, const json_t *call);
/* Its drain_info ({state, config{max_grace_period, mark_gone}}), NULL when not draining. */
json_t *maint_drain_info(const struct m_agent *a);
/* Sends a record to a connected agent; -ENOTCONN if its stream is down. json is taken. */
int registry_send(struct m_agent *a, json_t *record);
/* The port of the agent's own HTTP server (from a->http), 0 when it has none. */
uint16_t registry_agent_port(const struct m_agent *a);
/* fw-pass.c: makes what every offer of a says of it (a->offer_head, a->offer_attrs) unless
 * made already; done when an agent registers, so that offer passes do not pay for it. */
void fw_offer_agent_text(struct m_agent *a);
json_t *registry_render_slaves(struct master *m);
/* One agent's entry of it. */
json_t *registry_render_slave(const struct m_agent *a);
void registry_free_agent(struct m_agent *a);

/* frameworks.c: external frameworks through the Mesos v1 scheduler API.
 * The built-in frameworks are not among them: they place tasks through rm.h; external
 * frameworks get offers of what is free on each agent, and their tasks' resources are taken
 * in the ledger while they run, as the built-in frameworks' are. */
int frameworks_init(struct master *m);       /* after the agents are loaded */
void frameworks_free(struct master *m);
/* A status update for a task no built-in framework owns: true if an external framework
 * owns the task (and took the update), false if nobody does (the caller kills it). */
bool frameworks_status_update(struct master *m, struct m_agent *a, const json_t *update);
/* An agent (re)registered reporting a task no built-in framework owns: true if an external
 * framework owns it (its resources are then held on a). */
/* The custom executors an agent (re-)registering runs ([{executor_info}], each with its
 * framework_id): those of known frameworks the master has no record of (after a failover)
 * are recorded and their resources taken (fw-executors.c). */
void fw_executors_reported(struct master *m, struct m_agent *a, const json_t *reported);
bool frameworks_task_recovered(struct master *m, struct m_agent *a, const char *task_id,
			       const char *state);
/* An agent became unreachable: its framework tasks are lost. */
void frameworks_agent_lost(struct master *m, struct m_agent *a);
/* Ends every framework's stream (at shutdown). */
void frameworks_close_streams(struct master *m);
/* rm_each_task for the external frameworks' tasks. */
void frameworks_each_task(struct master *m, bool detail, rm_task_fn fn, void *ctx);
/* Every tick (250 ms): offers, rescinds, heartbeats, failover timeouts. */
void frameworks_tick(struct master *m);

/* ==== operator-stream.c: the operator API's SUBSCRIBE event stream (issue 3) ==== */
struct fw_task;
struct fw_framework;
/* SUBSCRIBE (checks done by api-operator.c): starts the RecordIO stream on req with SUBSCRIBED
 * {get_state (taken), heartbeat_interval_seconds}; 503 past the cap on subscribers. */
void operator_stream_subscribe(struct master *m, struct evhttp_request *req, json_t *get_state);
/* api-operator-more.c: GET_FLAGS, GET_METRICS, GET/SET_LOGGING_LEVEL, LIST_FILES, READ_FILE,
 * TEARDOWN, SET_QUOTA, REMOVE_QUOTA (answers; false, nothing sent, for another type). */
/* api-operator-wire.c: the operator API's encodings, JSON and protobuf. */
enum { OPERATOR_WIRE_JSON = 0, OPERATOR_WIRE_PROTOBUF = 1 };
/* The encoding the call's Accept allows (JSON when it allows both, or is absent), or -1. */
int operator_accept(struct evhttp_request *req);
/* The call's protobuf body as JSON: 0 with *call, or -EINVAL with err. */
int operator_read_protobuf_call(struct evhttp_request *req, json_t **call, char *err,
				size_t errlen);
/* Answers body (taken) in the encoding the call's Accept asks for. */
void operator_reply(struct evhttp_request *req, int code, json_t *body);
/* The RecordIO record of operator event ev in encoding wire (malloc'd), or NULL. */
char *operator_event_record(const json_t *ev, int wire, size_t *len);
bool operator_more_call(struct master *m, struct evhttp_request *req, const char *type,
			const json_t *call);
/* legacy-http.c: /metrics/snapshot's object (new reference). */
json_t *legacy_metrics_snapshot(struct master *m, struct evhttp_request *req);
/* Ends every stream of m (at shutdown). */
void operator_stream_close_all(struct master *m);
unsigned operator_stream_count(const struct master *m);
/* Hooks: each returns at once when nobody is subscribed. */
/* Announced on the next loop turn (the launcher fills the task in after fw_task_new). */
void operator_event_fw_task_added(struct master *m, const char *task_id);
/* The task listener: an external framework's task t is forgotten (gone from DNS). */
void operator_event_fw_task_gone(struct master *m, const struct fw_task *t);
void operator_event_fw_task_updated(struct master *m, const struct fw_task *t,
				    const json_t *status);
void operator_event_agent_added(struct master *m, const struct m_agent *a);
/* Call before a->state becomes AGENT_CONNECTED: AGENT_ADDED if new or back from unreachable. */
void operator_event_agent_registered(struct master *m, const struct m_agent *a, bool is_new);
void operator_event_agent_removed(struct master *m, const struct m_agent *a);
/* FRAMEWORK_ADDED if is_new, else FRAMEWORK_UPDATED. */
void operator_event_framework_subscribed(struct master *m, const struct fw_framework *fw,
					 bool is_new);
void operator_event_framework_updated(struct master *m, const struct fw_framework *fw);
void operator_event_framework_removed(struct master *m, const struct fw_framework *fw);
/* Pure builders (unit tested). New references; payload and status are taken. */
/* {"type": type, "<lowercase type>": payload} (no payload key when payload is NULL). */
json_t *operator_event_new(const char *type, json_t *payload);
/* A v1 TaskStatus; SOURCE_MASTER for LOST/UNREACHABLE/GONE/DROPPED, else SOURCE_EXECUTOR. */
json_t *operator_status_v1(const char *task_id, const char *agent_id, const char *state,
			   const char *message, uint64_t real_usec);
/* TASK_UPDATED {framework_id, status, state (from status)}. */
json_t *operator_task_updated_v1(const char *framework_id, json_t *status);
/* ==== end operator-stream.c ==== */

/* ==== reservations.c: dynamic reservations and persistent volumes (issue 3) ==== */
struct resv_state; /* one agent's dynamic reservations and volumes */
/* Whether a live task uses a volume (task_id is the last task launched with it). */
typedef bool (*resv_in_use_fn)(const char *task_id, void *ctx);
struct resv_state *resv_state_new(void);
void resv_state_free(struct resv_state *s);
json_t *resv_state_to_json(const struct resv_state *s);
int resv_state_from_json(struct resv_state *s, const json_t *j);
/* Applies op (RESERVE, UNRESERVE, CREATE, DESTROY) with arr (Resource JSON array) to s,
 * total, free and, when not NULL, offer (what an ACCEPT may use), all or nothing. 0;
 * -EINVAL for a malformed request (400); -ENOSPC, -EEXIST, -ENOENT, -EBUSY when a rule is
 * broken (409); err says why. */
int resv_apply(struct resv_state *s, struct resources *total, struct resources *free_res,
	       struct resources *offer, const char *op, const json_t *arr, resv_in_use_fn in_use,
	       void *ctx, char *err, size_t errlen);
/* The same on an agent of the master: persisted (reservations/<agent id>/state), offers on
 * the agent rescinded. */
int resv_agent_apply(struct master *m, struct m_agent *a, struct resources *offer,
		     const char *op, const json_t *arr, char *err, size_t errlen);
/* GROW_VOLUME (grow: body {volume, addition}) or SHRINK_VOLUME ({volume, subtract}) on s,
 * against pool (what an ACCEPT may use, or the agent's free resources) (resv-resize.c):
 * all or nothing; -EINVAL (400), -ENOENT, -EBUSY, -ENOSPC (409), err says why. */
int resv_resize(struct resv_state *s, const struct resources *pool, bool grow,
		const json_t *body, resv_in_use_fn in_use, void *ctx, char *err, size_t errlen);
/* The same on an agent of the master (offer NULL: its free resources): persisted, offers on
 * the agent rescinded; -EIO when it cannot be stored. */
int resv_agent_resize(struct master *m, struct m_agent *a, const struct resources *offer,
		      bool grow, const json_t *body, char *err, size_t errlen);
/* Loads every agent's reservations and volumes into m->resv (before the agents). */
int resv_load(struct master *m);
/* Applies the dynamic reservations of agent_id to total, its static resources as the agent
 * describes them (when it registers), turning the reserved unreserved resources into the
 * reservation's role. */
void resv_total(struct master *m, const char *agent_id, struct resources *total);
void resv_free_all(struct master *m);
/* Offer Resource JSON of res (resources offered on a): idle volumes and dynamic
 * reservations with their reservation info (RESERVATION_REFINEMENT: "reservations"). */
/* Whether a has no dynamic reservations or volumes: its offers' resources are then plain
 * (mesos_resources_to_json with the allocation role). */
bool resv_agent_plain(struct master *m, const struct m_agent *a);
json_t *resv_offer_json(struct master *m, const struct m_agent *a, const struct resources *res,
			const char *alloc_role, bool refinement);
/* A LAUNCH's TaskInfo.resources (task_res) and their parsed form: volumes exist and are
 * idle, plain reserved disk leaves the volumes alone. 0 or -errno with err. */
int resv_launch_check(struct master *m, struct m_agent *a, const json_t *task_res,
		      const struct resources *res, char *err, size_t errlen);
void resv_launch_commit(struct master *m, struct m_agent *a, const char *task_id,
			const json_t *task_res);
/* RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES: 202, 400, 409. */
void resv_operator_call(struct master *m, struct evhttp_request *req, const char *type,
			const json_t *call);
/* ==== end reservations.c ==== */

/* ==== quota.c: role weights and quotas (issue 3) ==== */
/* (struct quota_amounts, quota_kinds and quota_amounts_of: ledger.h) */
/* Pure arithmetic (unit tested). */
int quota_kind_index(const char *name); /* -1 when not one of quota_kinds */
void quota_amounts_zero(struct quota_amounts *a);
void quota_amounts_unlimited(struct quota_amounts *a);
void quota_amounts_add(struct quota_amounts *a, const struct quota_amounts *b);
/* The kinds' totals in r, over all roles (role NULL) or one role. */
/* alloc + more <= limit for every kind more asks for; err (may be NULL) says which not. */
bool quota_fits(const struct quota_amounts *alloc, const struct quota_amounts *more,
		const struct quota_amounts *limit, char *err, size_t errlen);
/* max(0, limit - alloc), INFINITY where unlimited. */
void quota_headroom(const struct quota_amounts *alloc, const struct quota_amounts *limit,
		    struct quota_amounts *out);
/* max(0, guarantee - consumed). */
void quota_unmet(const struct quota_amounts *guar, const struct quota_amounts *consumed,
		 struct quota_amounts *out);
/* Cuts res down so that its scalars of each kind total at most all_cap (reserved entries
 * kept first) and its unreserved ("*") ones at most star_cap; either cap may be NULL. */
void quota_cap_offer(struct resources *res, const struct quota_amounts *all_cap,
		     const struct quota_amounts *star_cap);
/* Weighted DRF: role_share / weight ascending, then share, then id. */
struct quota_drf_client {
	const char *id;
	double role_share;  /* dominant share of the client's role */
	double weight;      /* the role's weight (> 0) */
	double share;       /* the client's own dominant share */
	void *ptr;
};
int quota_drf_cmp(const struct quota_drf_client *a, const struct quota_drf_client *b);
void quota_drf_sort(struct quota_drf_client *v, size_t n);

/* Loads the roles' weights and quotas into m->quota_roles (at start). */
int quota_load(struct master *m);
/* Per-role accounting of the master's state (see quota.c for what counts). */
struct quota_snapshot {
	struct hmap alloc;      /* role -> struct quota_amounts*: allocated to its tasks */
	struct hmap resv_free;  /* role -> struct quota_amounts*: unallocated reservations */
	struct quota_amounts star_free; /* free unreserved, connected agents */
	struct quota_amounts total;     /* all resources of connected agents */
};
void quota_snapshot_build(struct master *m, struct quota_snapshot *s);
void quota_snapshot_release(struct quota_snapshot *s);
void quota_snapshot_alloc(const struct quota_snapshot *s, const char *role,
			  struct quota_amounts *out);
/* Counts r as allocated to role from now on, keeping a snapshot current through a pass
 * that places tasks instead of building it again. */
void quota_snapshot_take(struct quota_snapshot *s, const char *role, const struct resources *r);
/* The allocation role of a framework task. */
const char *quota_fw_task_role(const struct fw_task *t);
/* What role may still be given: all_cap (any resources, its limit's headroom) and star_cap
 * (unreserved ones, after other roles' unmet guarantees are held back). */
void quota_role_caps(struct master *m, const struct quota_snapshot *s, const char *role,
		     struct quota_amounts *all_cap, struct quota_amounts *star_cap);
/* Whether any role has a quota (when not, every check is a no-op). */
bool quota_any(struct master *m);
double quota_role_weight(struct master *m, const char *role);
/* Whether role may be allocated more now (its limit, and other roles' guarantees for the
 * unreserved part of more). quota_check says why not in err (may be NULL). */
bool quota_allows(struct master *m, const char *role, const struct resources *more);
bool quota_check(struct master *m, const char *role, const struct resources *more, char *err,
		 size_t errlen);
/* quota_check against a snapshot the caller keeps current (no O(cluster) rebuild). */
bool quota_check_in(struct master *m, const struct quota_snapshot *s, const char *role,
		    const struct resources *more, char *err, size_t errlen);
/* Whether one more task of def (its role; cpus, mem, disk, gpus) fits its role's quota and
 * the others' guarantees, against s; schedule.c asks before placing an instance. */
bool quota_app_allows(struct master *m, const struct quota_snapshot *s, const struct app *def);
/* Operator API: UPDATE_WEIGHTS, UPDATE_QUOTA (200 empty, 400, 409, 503), GET_WEIGHTS,
 * GET_QUOTA (200 JSON). false when type is none of them (nothing replied). */
bool quota_operator_call(struct master *m, struct evhttp_request *req, const char *type,
			 const json_t *call);
/* Payloads of GET_WEIGHTS / GET_QUOTA (new references). */
json_t *quota_get_weights(struct master *m);
json_t *quota_get_quota(struct master *m);
/* Adds the configured weights and {quota: {role, guarantees, limits, consumed}} to a
 * GET_ROLES payload ({"roles": [...]}), and the configured roles it lacks. */
void quota_roles_annotate(struct master *m, json_t *get_roles);
/* Forgets the configuration loaded for m (at shutdown). */
void quota_free_all(struct master *m);
/* ==== end quota.c ==== */

/* ==== alloc.c: the one allocation order over the built-in and the external frameworks ==== */
/* One pass's view of the order (rm_alloc_begin); cheap to begin, the rest built on first use. */
struct fw_offer_batch;

struct alloc_ctx {
	struct master *m;
	struct rm_client *client;       /* whose pass it is */
	uint64_t now;                   /* monotonic, at rm_alloc_begin */
	size_t nactive;                 /* external frameworks that may be offered */
	bool built;
	struct quota_snapshot snap;     /* when built */
	struct quota_drf_client *order; /* the external frameworks in key order */
	size_t norder;
	char *role;                     /* the role key is for, or NULL */
	struct quota_drf_client key;
	struct fw_offer_batch *offers;  /* per order[i]: offers made to it, sent at rm_alloc_end */
};
/* The pass's accounting (built on first use, kept current by rm_alloc_take). */
const struct quota_snapshot *alloc_snapshot(struct alloc_ctx *c);
/* The subscribed external frameworks with an active role, first in the order first (ptr:
 * struct fw_framework*). */
size_t alloc_framework_order(struct alloc_ctx *c, const struct quota_drf_client **order);
/* ==== end alloc.c ==== */

/* Removes from a /master/state document (state_json_master_state) the frameworks and tasks
 * req's principal may not view (state-filter.c). */
void state_filter_legacy(struct master *m, struct evhttp_request *req, json_t *st);
/* The same view_frameworks / view_tasks rules on a v1 operator payload of type (GET_STATE,
 * GET_FRAMEWORKS, GET_TASKS; others untouched), in place. */
void state_filter_v1(struct master *m, struct evhttp_request *req, const char *type,
		     json_t *payload);
/* The same rules piece by piece, for answers assembled from the task cache (GET_TASKS and
 * GET_STATE under view ACLs, issue 12): req's principal (NULL without auth); the map
 * framework id -> user of an unfiltered GET_FRAMEWORKS payload gf (new reference); whether
 * who may view a task of user (NULL: its framework's, looked up in users) of framework
 * fw_id; and gf's frameworks who may not view removed, in place. m->may_view must be set. */
const char *state_filter_who(struct evhttp_request *req);
json_t *state_filter_v1_users(json_t *gf);
bool state_filter_v1_task(struct master *m, const char *who, const char *user,
			  const char *fw_id, json_t *users);
void state_filter_v1_frameworks(struct master *m, const char *who, json_t *gf);
