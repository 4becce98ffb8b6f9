/* The master's in-memory state, shared by its files. Not a public API.
 *
 * Ownership: struct master owns the agents (agents map), the apps (apps map) and through
 * each app its instances; tasks_by_id indexes instances by their current task id (borrowed).
 *
 * Instances (DESIGN.md §5) are the unit the apps framework manages: one per wanted copy of
 * an app, with a stable index. An instance runs at most one task at a time; when the task
 * ends and the instance is still wanted, the same instance is launched again (attempt + 1,
 * after the app's backoff delay), so an index survives failures. */
#pragma once
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/hmap.h"
#include "model/app.h"
#include "model/attributes.h"
#include "model/resources.h"
#include "model/task.h"
#include "net/http.h"
#include "store/store.h"
#include "master/master.h"

struct master;

enum agent_state { AGENT_CONNECTED, AGENT_DISCONNECTED, AGENT_UNREACHABLE };

/* A simulated agent (bench/alloc): receives the records a real agent would get on its
 * stream. The record is taken. */
struct m_agent;
typedef int (*agent_sim_fn)(struct m_agent *a, json_t *record);

/* The offers outstanding on one agent (fw-offers.c). */
struct fw_agent_offers {
	struct fw_offer **v;
	size_t n, cap;
};

struct m_agent {
	struct master *m;
	agent_sim_fn sim;          /* NULL for real agents */
	void *sim_ctx;
	char *id;
	char *hostname;
	char *http;     /* "ip:port" of the agent's own HTTP server */
	char *ip;       /* the ip part of http, for ipAddresses / pid */
	char *resources_text;
	char *attributes_text;
	struct resources total;
	struct resources free;
	struct attributes attrs;
	enum agent_state state;
	uint64_t last_seen_usec;   /* monotonic */
	uint64_t registered_usec;  /* realtime */
	struct http_stream *stream; /* NULL while not connected */
	unsigned registrations;    /* grows at every (re)registration */
	unsigned ntasks;           /* live tasks placed here */
	uint64_t offer_fp;         /* fw-pass.c: what the last offer pass saw of it, */
	unsigned offer_n;          /* and how many offers it was in then */
	struct fw_agent_offers offers; /* its outstanding offers (fw-offers.c) */
	/* fw-pass.c: what every offer of this agent says of it (agent_id … url, and the
	 * attributes) as JSON text; NULL until an offer needs it and when the info changes. */
	char *offer_head, *offer_attrs;
};

/* Where an instance's task is. */
enum inst_phase {
	INST_WAITING,   /* no task: to be launched (after the app's delay) */
	INST_LIVE,      /* a task exists (staging … killing) */
};

/* RUN: keep a task running. STOP: end the task and forget the instance (and its local
 * volumes). SUSPEND (stateful apps, scale-down): end the task, keep the instance, its index,
 * its reservation and its volumes for a later scale-up. */
enum inst_goal { GOAL_RUN, GOAL_STOP, GOAL_SUSPEND };

struct m_instance {
	struct m_app *app;
	char uuid[37];
	unsigned index;
	unsigned attempt;          /* of the current/last task */
	enum inst_phase phase;
	enum inst_goal goal;
	char *task_id;             /* "" until the first launch; the last task's id after it */
	char *agent_id;            /* NULL while waiting */
	uint32_t *ports;
	size_t nports;
	char version[32];          /* the app version the task runs */
	const char *state;         /* "TASK_STAGING", … (static string) */
	uint64_t staged_at;        /* realtime usec */
	uint64_t started_at;       /* realtime usec, 0 until RUNNING */
	uint64_t created_at;       /* realtime usec, for killSelection of waiting ones */
	struct resources res;      /* what the task holds on its agent */
	char *res_role;            /* the role res is counted for in the ledger, NULL: not counted */
	bool kill_sent;
	char replaces[37];         /* uuid of the instance this one replaces (restart), or "" */
	json_t *health;            /* last health results from the executor ([{index, alive, …}]) or NULL */
	int healthy;               /* -1 no result yet, 0 unhealthy, 1 healthy */
	bool ready;                /* readiness checks passed (or none) */
	bool unhealthy_kill;       /* killed for failing its health checks: counts as a failure */
	char *pinned_agent;        /* resident apps: the agent holding its local volumes */
	json_t *vols;              /* resident apps: [{containerPath, persistenceId, size}] */
	struct resources reserved; /* disk reserved on pinned_agent for the volumes */
	char *rsv_role;            /* the role reserved is counted for, NULL: not counted */
	uint64_t not_before_usec;  /* monotonic: no relaunch before (fencing of volume holders) */
	uint64_t seen_uuids[8];    /* hashes of the last applied update uuids (idempotency) */
	unsigned seen_next;
};

struct m_deployment {
	char id[37];
	char version[32];
	char *app_id;
	const char *action;        /* "StartApplication", … */
	uint64_t created_usec;
};

struct m_app {
	struct app *def;
	char config_version[32];   /* version of the last config change (restart/upgrade target) */
	struct m_instance **inst;
	size_t ninst, cap;
	unsigned failures;         /* consecutive task failures, for backoff */
	uint64_t delay_until_usec; /* monotonic; no launch before */
	uint64_t waiting_since;    /* realtime, for /v2/queue "since" */
	json_t *last_failure;      /* lastTaskFailure or NULL */
	struct m_deployment *deploy; /* in flight, or NULL */
	bool deleting;
	bool dirty;                /* something changed: the next pass must look at it */
	json_t *wipe_volumes;      /* while deleted: the external volumes to remove once the
				    * app's tasks are gone, [{driver, name, agent}] (empty without
				    * ?wipe=true); non-NULL: the deletion is in the store until it
				    * is over (apps_store_deletion) */
	uint64_t wipe_next_usec;   /* monotonic: no REMOVE_VOLUME before (a lost agent's fence,
				    * or the next retry when no agent could take them) */
	uint64_t wipe_give_up_usec; /* monotonic: a wipe no agent takes is dropped then; 0 until
				     * an attempt found no agent */
	json_t *versions;          /* array of version strings, oldest first */
	size_t place_cursor;       /* where the fast placement path goes on (schedule.c) */
};


/* The scalar kinds quotas cover, in this order: cpus, mem, disk, gpus. */
#define QUOTA_NKINDS 4
extern const char *const quota_kinds[QUOTA_NKINDS];
struct quota_amounts {
	double v[QUOTA_NKINDS]; /* a limit of INFINITY: unlimited */
};

struct m_update_batch {
	char *agent_id;
	json_t *updates;
	struct evhttp_request *req; /* NULL: a simulated agent */
};

struct master {
	struct event_base *base;
	struct master_config cfg;
	struct store *store;
	struct http_server *http;
	struct hmap agents;      /* id -> struct m_agent* */
	struct hmap apps;        /* id -> struct m_app* */
	struct hmap tasks;       /* task id -> struct m_instance* */
	struct event *tick;      /* 1 s timer: timeouts, heartbeats, delayed launches */
	struct event *pass_ev;   /* deferred scheduling pass */
	char framework_id[64];
	char leader[300];        /* "host:port" */
	uint64_t started_usec;
	unsigned agent_seq;
	struct ev_sub *subs;     /* /v2/events subscribers */
	unsigned nsubs;
	uint64_t events_hb_usec;
	uint64_t full_pass_usec;   /* monotonic: last pass that looked at every app */
	double volume_lease_sec;   /* an agent cut off this long kills its volume holders */
	struct frameworks *fw;     /* external frameworks (frameworks.c), opaque here */
	/* The role ledger (quota.c): what is allocated to each role (role -> struct
	 * quota_amounts*) and to the apps framework in all, kept current at every take and
	 * give instead of summed over every task when needed. */
	struct hmap ledger;
	struct quota_amounts ledger_apps;
	/* Agents' status-update batches waiting for the group commit at the end of this
	 * event-loop iteration (updates.c). */
	struct m_update_batch *ub;
	size_t nub, ub_cap, ub_updates;
	struct event *updates_ev;
};

/* registry.c: agents */
void registry_handle_subscribe(struct master *m, struct evhttp_request *req);
void registry_handle_heartbeat(struct master *m, struct evhttp_request *req);
/* The agent a request's JSON body names (*body set, owned by the caller), or NULL with the
 * reply sent (400 malformed, 404 unknown agent). */
struct m_agent *registry_agent_from_body(struct master *m, struct evhttp_request *req,
					 json_t **body);

/* updates.c: status-update intake by group commit */
void updates_handle(struct master *m, struct evhttp_request *req);
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
/* Sends a record to a connected agent; -ENOTCONN if its stream is down. json is taken. */
int registry_send(struct m_agent *a, json_t *record);
/* The port of the agent's own HTTP server (from a->http), 0 when it has none. */
uint16_t registry_agent_port(const struct m_agent *a);
/* fw-pass.c: makes what every offer of a says of it (a->offer_head, a->offer_attrs) unless
 * made already; done when an agent registers, so that offer passes do not pay for it. */
void fw_offer_agent_text(struct m_agent *a);
json_t *registry_render_slaves(struct master *m);
void registry_free_agent(struct m_agent *a);

/* apps.c: the apps framework */
int apps_load(struct master *m);
void apps_free_all(struct master *m);
/* Frees an app and its instances (removed from m->apps by the caller). */
void apps_free_app(struct master *m, struct m_app *ma);
/* Loads apps, instances and deployments from the store. */
void apps_schedule_pass(struct master *m);   /* runs the pass on the next loop turn */
/* Marks ma changed (the next pass looks at it) and schedules a pass. */
void apps_touch(struct master *m, struct m_app *ma);
/* Marks every app changed (an agent came or went) and schedules a pass. */
void apps_touch_all(struct master *m);
void apps_run_pass(struct master *m);
/* A status update from an agent for a task (fields as in agent-protocol.md §3). */
/* Counts in->res (reserved: in->reserved) in the role ledger under its app's role, or
 * stops counting it; each is a no-op when already so. */
void apps_count(struct master *m, struct m_instance *in, bool reserved);
void apps_uncount(struct master *m, struct m_instance *in, bool reserved);
void apps_status_update(struct master *m, struct m_agent *a, const json_t *update);
/* An agent (re)registered reporting these tasks ([{task_id,state}]). */
void apps_agent_registered(struct master *m, struct m_agent *a, const json_t *tasks);
/* An agent is gone for good: its tasks are lost. */
void apps_agent_lost(struct master *m, struct m_agent *a);
struct m_app *apps_get(struct master *m, const char *id);
/* Queues a KILL for an instance's live task. */
void apps_kill_instance(struct master *m, struct m_instance *in);
void apps_remove_instance(struct master *m, struct m_instance *in);
struct m_instance *apps_add_instance(struct master *m, struct m_app *ma, unsigned index);
unsigned apps_lowest_free_index(const struct m_app *ma);
/* The instance replacing old (restart), or NULL. */
struct m_instance *apps_replacement_of(const struct m_app *ma, const struct m_instance *old);
/* Fills one of the app's slots: goal RUN and not being replaced. */
bool apps_in_slot(const struct m_app *ma, const struct m_instance *in);
/* Gives back an instance's volumes: DESTROY_VOLUME to its agent, reservation released. */
void apps_destroy_volumes(struct master *m, struct m_instance *in);
/* Starts a deployment for ma (replacing none: the caller checked the lock). */
struct m_deployment *apps_deployment_new(struct master *m, struct m_app *ma, const char *action);
void apps_deployment_done(struct master *m, struct m_app *ma);
/* Forgets ma's deployment (store and memory) without events. */
void apps_deployment_stop(struct master *m, struct m_app *ma);
/* deployment_failed for a deployment that was canceled or superseded. */
void apps_deployment_failed_event(struct master *m, const struct m_deployment *d,
				  const char *reason);
/* deployment_info for ma's deployment that just started. */
void apps_deployment_announce(struct master *m, struct m_app *ma);
int apps_store_deployment(struct master *m, const struct m_deployment *d);
/* Persist one instance (inside or outside a txn). */
int apps_store_instance(struct master *m, const struct m_instance *in);
int apps_store_app(struct master *m, const struct m_app *ma);
/* Persists ma's pending deletion: deleting/<app id> ({app: definition}) and one
 * wipe-volumes/<app id>@<name> record per entry of ma->wipe_volumes. Call inside a txn.
 * apps_load brings such an app back as being deleted, instances and all. */
int apps_store_deletion(struct master *m, const struct m_app *ma);
/* Deletes the record of one volume v (an entry of ma->wipe_volumes) of ma's pending wipe,
 * or with v NULL the deletion's own record deleting/<app id>; an absent record is no error. */
int apps_store_deletion_done(struct master *m, const struct m_app *ma, const json_t *v);
bool apps_state_is_terminal(const char *state);
/* Running and, where the app has them, healthy and ready: counts as capacity. */
bool apps_instance_up(const struct m_instance *in);
const char *apps_state_intern(const char *state);
/* Assign free service ports to portDefinitions with port 0 in def->json. */
void apps_assign_service_ports(struct master *m, struct app *def, const struct app *old);

/* render.c: Marathon JSON */
json_t *render_app(struct master *m, const struct m_app *ma, bool with_tasks, bool with_counts,
		   bool with_deployments, bool with_failure);
json_t *render_task(struct master *m, const struct m_instance *in);
json_t *render_deployment(struct master *m, const struct m_deployment *d);
json_t *render_queue(struct master *m);

/* events.c: Marathon's SSE event bus */
void events_handle(struct master *m, struct evhttp_request *req);
/* Publishes an event of type to matching subscribers; payload (taken) gets eventType and
 * timestamp added. */
void events_publish(struct master *m, const char *type, json_t *payload);
void events_tick(struct master *m);
void events_close_all(struct master *m);

/* metrics-master.c */
int master_metrics_init(struct master *m);          /* after http_server_new */
void master_metrics_free(struct master *m);         /* after http_server_free */
void master_metrics_render(struct master *m, struct evhttp_request *req, bool prometheus);
const char *master_metrics_route(enum evhttp_cmd_type method, const char *path, void *ctx);
void master_metrics_task_launched(void);
void master_metrics_task_killed(void);
void master_metrics_status_update(const char *state);
void master_metrics_health_result(bool healthy);
void master_metrics_deployment(const char *outcome); /* started|success|failed|canceled */
void master_metrics_alloc_pass_usec(uint64_t usec);
void master_metrics_store_commit_usec(uint64_t usec);

/* api-volumes.c: GET /api/berth/volumes */
void api_volumes(struct master *m, struct evhttp_request *req);

/* frameworks.c: external frameworks through the Mesos v1 scheduler API (issue 3).
 * The apps framework is not one of them: it places tasks itself (schedule.c); frameworks get
 * offers of what is left on each agent (a->free) and their tasks' resources are subtracted
 * from a->free while they run, as the apps framework's are. */
int frameworks_init(struct master *m);       /* after the agents are loaded */
void frameworks_free(struct master *m);
/* POST /api/v1/scheduler */
void frameworks_handle(struct master *m, struct evhttp_request *req);
/* A status update for a task no app instance owns: true if a framework owns the task
 * (and took the update), false if nobody does (the caller kills it). */
bool frameworks_status_update(struct master *m, struct m_agent *a, const json_t *update);
/* An agent (re)registered reporting a task no app owns: true if a framework owns it (its
 * resources are then held on a again). */
bool frameworks_task_recovered(struct master *m, struct m_agent *a, const char *task_id,
			       const char *state);
/* An agent became unreachable: its framework tasks are lost. */
void frameworks_agent_lost(struct master *m, struct m_agent *a);
/* Every tick (250 ms): offers, rescinds, heartbeats, failover timeouts. */
void frameworks_tick(struct master *m);

/* api-marathon.c */
void api_marathon(struct master *m, struct evhttp_request *req, const char *path);
/* api-files.c */
void api_files_proxy(struct master *m, struct evhttp_request *req, const char *path);

/* ==== operator-stream.c: the operator API's SUBSCRIBE event stream (issue 3) ==== */
struct fw_task;
struct fw_framework;
/* SUBSCRIBE (checks done by api-operator.c): starts the RecordIO stream on req with SUBSCRIBED
 * {get_state (taken), heartbeat_interval_seconds}; 503 past the cap on subscribers. */
void operator_stream_subscribe(struct master *m, struct evhttp_request *req, json_t *get_state);
/* Ends every stream of m (at shutdown). */
void operator_stream_close_all(struct master *m);
unsigned operator_stream_count(const struct master *m);
/* Hooks: each returns at once when nobody is subscribed. */
void operator_event_app_task_added(struct master *m, const struct m_instance *in);
/* state: the new state (in->state may still be the old one); message may be NULL. */
void operator_event_app_task_updated(struct master *m, const struct m_instance *in,
				     const char *state, const char *message);
/* Announced on the next loop turn (the launcher fills the task in after fw_task_new). */
void operator_event_fw_task_added(struct master *m, const char *task_id);
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
/* Re-applies a's dynamic reservations after it (re)registered (idempotent: once per
 * registration). resv_sync_all does it for every connected agent. */
void resv_sync(struct master *m, struct m_agent *a);
void resv_sync_all(struct master *m);
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
/* (struct quota_amounts and quota_kinds: above struct master) */
/* Pure arithmetic (unit tested). */
int quota_kind_index(const char *name); /* -1 when not one of quota_kinds */
void quota_amounts_zero(struct quota_amounts *a);
void quota_amounts_unlimited(struct quota_amounts *a);
void quota_amounts_add(struct quota_amounts *a, const struct quota_amounts *b);
/* The kinds' totals in r, over all roles (role NULL) or one role. */
void quota_amounts_of(const struct resources *r, const char *role, struct quota_amounts *out);
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

/* Per-role accounting of the master's state (see quota.c for what counts). */
struct quota_snapshot {
	struct hmap alloc;      /* role -> struct quota_amounts*: allocated to its tasks */
	struct hmap resv_free;  /* role -> struct quota_amounts*: unallocated reservations */
	struct quota_amounts star_free; /* free unreserved, connected agents */
	struct quota_amounts total;     /* all resources of connected agents */
	struct quota_amounts apps;      /* allocated to the apps framework, all roles */
};
void quota_snapshot_build(struct master *m, struct quota_snapshot *s);
void quota_snapshot_release(struct quota_snapshot *s);
void quota_snapshot_alloc(const struct quota_snapshot *s, const char *role,
			  struct quota_amounts *out);
/* Counts r as allocated to role from now on (apps: by the apps framework), keeping a
 * snapshot current through a pass that places tasks instead of building it again. */
void quota_snapshot_take(struct quota_snapshot *s, const char *role, const struct resources *r,
			 bool apps);
/* The allocation role of a framework task. */
const char *quota_fw_task_role(const struct fw_task *t);
/* The ledger: r is allocated to role from now on (sign 1) or no more (sign -1); apps: by
 * the apps framework. Every take is matched by one give of the same r and role. */
void quota_ledger(struct master *m, const char *role, const struct resources *r, bool apps,
		  int sign);
void quota_ledger_free(struct master *m);
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

/* ==== alloc.c: the one allocation order over the apps framework and the frameworks ==== */
/* One pass's view of the order; alloc_begin is cheap, the rest is built on first use. */
struct fw_offer_batch;

struct alloc_ctx {
	struct master *m;
	uint64_t now;                   /* monotonic, at alloc_begin */
	size_t nactive;                 /* external frameworks that may be offered */
	bool built;
	struct quota_snapshot snap;     /* when built */
	struct quota_drf_client *order; /* the external frameworks in key order */
	size_t norder;
	char *role;                     /* the apps role key is for, or NULL */
	struct quota_drf_client key;
	struct fw_offer_batch *offers;  /* per order[i]: offers made to it, sent at alloc_end */
};
void alloc_begin(struct master *m, struct alloc_ctx *c);
void alloc_end(struct alloc_ctx *c);
/* The pass's accounting (built on first use, kept current by alloc_took). */
const struct quota_snapshot *alloc_snapshot(struct alloc_ctx *c);
/* The subscribed external frameworks with an active role, first in the order first (ptr:
 * struct fw_framework*). */
size_t alloc_framework_order(struct alloc_ctx *c, const struct quota_drf_client **order);
/* Whether one more task of def fits its role's quota and the others' guarantees. */
bool alloc_app_allows(struct alloc_ctx *c, const struct app *def);
/* What of a's free resources the apps framework may place a task of role onto now: first
 * the external frameworks before it in the order are offered a (alloc.c), then what their
 * offers claim is left out. Returns &a->free when nothing is claimed, else tmp (initialised
 * by the caller, released by it after use) filled with the rest. */
const struct resources *alloc_available(struct alloc_ctx *c, struct m_agent *a, const char *role,
					struct resources *tmp);
/* The apps framework took r for role: shares and quota accounting follow. */
void alloc_took(struct alloc_ctx *c, const char *role, const struct resources *r);
/* ==== end alloc.c ==== */
