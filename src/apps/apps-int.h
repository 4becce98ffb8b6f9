/* The apps framework's in-memory state, shared by the files of src/apps. Internal: nothing
 * outside src/apps includes it. The framework reaches the resource manager only through
 * master/rm.h.
 *
 * Ownership: struct apps owns the apps (apps map) and through each app its instances;
 * tasks indexes instances by their current task id (borrowed).
 *
 * Instances (DESIGN.md §5) are the unit the apps framework manages: one per wanted copy of
 * an app, with a stable index. An instance runs at most one task at a time; when the task
 * ends and the instance is still wanted, the same instance is launched again (attempt + 1,
 * after the app's backoff delay), so an index survives failures.
 *
 * Resources: a live instance's task holds in->res on its agent, taken in the resource
 * manager's ledger under in->res_role (rm_take / rm_give); a resident instance holds
 * in->reserved (its volumes' disk) on its pinned agent under in->rsv_role. Each is taken
 * once and given back once: res_role / rsv_role are non-NULL exactly while it is taken. */
#pragma once
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/hmap.h"
#include "base/idxset.h"
#include "base/iheap.h"
#include "base/valcount.h"
#include "base/metrics.h"
#include "model/app.h"
#include "model/attributes.h"
#include "model/constraints.h"
#include "model/resources.h"
#include "model/task.h"
#include "net/http.h"
#include "net/http-cond.h"
#include "store/store.h"
#include "master/rm.h"
#include "apps/apps.h"

/* Where an instance's task is. */
enum inst_phase {
	INST_WAITING,   /* no task: to be launched (after the app's delay) */
	INST_LIVE,      /* a task exists (staging … killing) */
};

/* RUN: keep a task running. STOP: end the task and forget the instance (and its local
 * volumes). SUSPEND (stateful apps, scale-down): end the task, keep the instance, its index,
 * its reservation and its volumes for a later scale-up. */
enum inst_goal { GOAL_RUN, GOAL_STOP, GOAL_SUSPEND };

/* The orders an app keeps its instances in (inst-order.c): the kill order under each
 * killSelection and by index among slots, the suspended ones by index, and (in no order)
 * those a pass must stop and the live ones with goal RUN (a task's peers). */
enum { ORD_YOUNG, ORD_OLD, ORD_HIGH, ORD_SUSP, ORD_STOP, ORD_LIVE, ORD_REPL, ORD_N };
/* What inst-count.c counts of an app's instances (struct m_app's cnt): the LIVE ones by
 * state and health (render.c's tasksStaged/Running/Healthy/Unhealthy), and those with
 * goal RUN that are LIVE and TASK_RUNNING, with health result 1, ready, both (so that
 * apps_up_count needs no walk whatever the definition's checks), and with a kill sent. */
enum { K_STAGED, K_RUNNING, K_HEALTHY, K_UNHEALTHY, K_UP, K_UP_H, K_UP_R, K_UP_HR,
       K_RUN_KILL, K_N };
struct vbucket;
struct agent_set;
/* The field of struct m_app's placed that counts live tasks by agent id (attribute names
 * are never empty). */
#define PLACE_AGENT ""
struct place_snap;

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
	struct http_piece *tpiece[2]; /* render cache (render-cache.c): the task, without and */
	uint64_t tpiece_gen[2];       /* with extras, and the app's rgen they were rendered at */
	size_t pos;                /* where it is in app->inst */
	struct m_instance *replaced_by; /* the last instance set to replace it, or NULL */
	struct m_instance *replacing;   /* the instance replaces names, or NULL */
	bool stored;               /* may have a record instances/<uuid> (launched once) */
	bool held;                 /* stopped by the operator (instctl.c): with goal SUSPEND it
				    * keeps its index, volumes and reservation, counts in the app's
				    * instances and is not woken by a scale-up */
	uint32_t hpos[ORD_N];      /* its place in each of app->order (inst-order.c), valid */
	uint32_t order_epoch;      /* while this equals app->order_epoch */
	struct place_snap *counted; /* the agent it is counted on in app->placed, or NULL */
	uint16_t kflags;           /* inst-count.c: the K_* it is counted in (bit k) */
	struct vbucket *vb;        /* inst-count.c: LIVE: its version's bucket in app->vers */
	uint32_t vpos;
	struct agent_set *aset;    /* inst-count.c: LIVE: its agent's set (apps.by_agent) */
	uint32_t apos;
	struct agent_set *pset;    /* inst-count.c: pinned: its pinned agent's set */
	uint32_t ppos;
	char **vheld;              /* inst-count.c: LIVE: the external volumes its task holds */
	size_t nvheld;             /* (counted in apps.vol_held), NULL when none counted */
};

struct m_deployment {
	char id[37];
	char version[32];
	char *app_id;
	const char *action;        /* "StartApplication", … */
	uint64_t created_usec;
	json_t *original;          /* the app's definition before, for the heavy plan (or NULL) */
	const char *resize;        /* ?inPlace=true asked: "inPlace" or "restart"; else NULL */
	char *resize_reason;       /* with "restart": why not in place (owned), or NULL */
	/* A deployment of several apps (PUT /v2/apps with a list): every app of it has its own
	 * m_deployment with the same id and members, [{"action","app"}] of all of them (one
	 * step); NULL for a deployment of one app. It succeeds when its last app is done; a
	 * member superseded, canceled or deleted ends it for all (apps_deployment_cancel_others).
	 * Stored per app under deployments/<id>@<app id> (apps_deployment_key). */
	json_t *members;
	bool finished;             /* a member whose own part is done: it keeps its app locked
				    * (as Marathon's plan does) until the last part is done */
};

/* An app's instances: inst[0..ninst) in no particular order (a removal moves the last one
 * into the hole), each knowing its place (pos). Indexed by task id (apps.tasks, the live
 * ones), by index (idx: the indexes of instances whose goal is not STOP, for the lowest
 * free one), and linked to what they replace (replacing / replaced_by). No table here
 * grows by rehashing everything at once: a 1,000,000-entry rehash would stall the loop. The
 * counters say what a pass would otherwise count by looking at every instance; they and the
 * indexes change only through apps_add_instance, apps_remove_instance, apps_set_goal,
 * apps_set_phase and apps_set_replaces, so that removing, scaling, killing and deleting
 * cost O(instances changed), never O(instances). */
struct m_app {
	struct app *def;
	char config_version[32];   /* version of the last config change (restart/upgrade target) */
	struct m_instance **inst;
	size_t ninst, cap;
	struct idxset idx;         /* indexes held by instances whose goal is not STOP */
	size_t ngoal[3];           /* instances by goal (GOAL_RUN, GOAL_STOP, GOAL_SUSPEND) */
	size_t nwait_run;          /* WAITING with goal RUN: what the pass may launch */
	size_t nlive_stopping;     /* LIVE with goal STOP or SUSPEND: kills in flight */
	size_t nreplacing;         /* with replaces set */
	size_t nheld;              /* held with goal SUSPEND (instctl.c) */
	json_t *inst_env;          /* per-index environment overrides {"<index>": {name: value}}
				    * (instctl.c; stored as instenv/<app id>), or NULL */
	size_t stop_cursor;        /* the stop scan goes on below this place (schedule.c) */
	size_t launch_cursor;      /* the launch scan goes on from this place (schedule.c) */
	bool maybe_outdated;       /* config_version changed since a pass last found every
				    * live instance at it */
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
	uint64_t rgen;             /* change counter of what render.c shows (apps_changed) */
	struct render_cache *rc;   /* rendered pieces (render-cache.c), or NULL */
	struct iheap order[ORD_N]; /* inst-order.c: kill and wake orders, kept, never sorted */
	uint32_t order_epoch;      /* inst-order.c: bumped when the orders are dropped */
	bool stopping_all;         /* schedule.c: a stop of every instance (scale to 0, delete)
				    * is under way; the orders hold only the instances it has
				    * passed (apps_order_drop) until it is over */
	bool free_deferred;        /* schedule.c: deleted and empty, its freeing was put off to
				    * the next pass once (the pass had used its budget) */
	struct valcount placed;    /* inst-order.c: live tasks by hostname, attribute, agent */
	size_t cnt[K_N];           /* inst-count.c: counts by K_* */
	struct hmap vers;          /* inst-count.c: version -> struct vbucket (its LIVE ones) */
	struct apps *owner;        /* the framework (for apps.by_agent), NULL until added */
};



/* How many instances of ma the pass keeps running: its definition's count less those the
 * operator stopped (held ones keep their slot). For a per-agent app def->instances is
 * what per-agent.c last counted. */
static inline int64_t apps_want(const struct m_app *ma)
{
	int64_t w = ma->def->instances - (int64_t)ma->nheld;
	return w > 0 ? w : 0;
}

/* The apps framework. */
struct apps {
	struct master *rm;         /* the resource manager (borrowed) */
	bool (*may_view)(void *ctx, const char *principal, const char *app_id); /* or NULL */
	void *may_view_ctx;
	unsigned streams_per_principal; /* apps_set_stream_limit; 0: none */
	struct rm_client *client;  /* this framework, as the resource manager knows it */
	struct event_base *base;
	struct store *store;
	const struct master_config *cfg; /* the master's (borrowed) */
	struct hmap apps;        /* id -> struct m_app* */
	json_t *groups;          /* group id -> {"dependencies":[ids]}: the groups that have
				  * dependencies (api-groups.c; stored as groups/<id>) */
	struct hmap tasks;       /* task id -> struct m_instance* */
	struct event *pass_ev;   /* deferred scheduling pass */
	char framework_id[64];
	char leader[300];        /* "host:port" (apps_set_leader) */
	uint16_t port;
	struct ev_sub *subs;     /* /v2/events subscribers */
	unsigned nsubs;
	uint64_t events_hb_usec;
	bool events_closing;     /* events_close_all ran: publish nothing more */
	uint64_t full_pass_usec;   /* monotonic: last pass that looked at every app */
	bool full_pending;         /* a full pass is under way over several slices */
	size_t pass_cursor;        /* the app (slot of apps) the next pass slice starts at */
	/* Every agent the resource manager knows (it never forgets one, so these stay valid),
	 * for the placement rotation; rebuilt when their number changes. Their state is read
	 * at use: building this per pass cost O(agents) a pass. */
	struct m_agent **agents;
	size_t nagents;
	uint64_t drain_checked_usec; /* monotonic: when any_drain was last computed */
	bool any_drain;              /* an agent was draining then */
	struct m_agent **draining;   /* those agents (borrowed: agents are never freed) */
	size_t ndraining, draining_cap;
	/* While apps_load runs: uuid -> instance, and replacement uuid -> replaced uuid. */
	struct hmap *load_uuids;
	json_t *load_replaces;
	/* metrics series (NULL until apps_metrics_register) */
	struct metrics_series *alloc_pass, *alloc_pass_cpu;
	struct metrics_family *health, *deployments;
	unsigned long render_stale; /* render cache misses BERTH_RENDER_VERIFY caught */
	struct autoscale *as;      /* autoscale.c's, NULL until its first tick */
	struct pods *pods;         /* pods-int.h: Marathon's pods */
	/* apps_set_agent_tls: how to reach HTTPS agents (PEM files), or NULL */
	char *agent_ca, *agent_cert, *agent_key;
	struct hmap place_snaps;   /* inst-order.c: agent id -> its current struct place_snap */
	struct hmap by_agent;      /* inst-count.c: agent id -> struct agent_set */
	struct hmap vol_held;      /* inst-count.c: external volume name -> LIVE holders
				    * (count, as (void *)(uintptr_t)) */
};

/* Something render.c shows of ma changed: its definition, deployment, last failure, any of
 * its instances or their agents. Every writer calls it (or apps_touch, which does), so that
 * the render cache (render-cache.c) never serves an old rendering. */
static inline void apps_changed(struct m_app *ma)
{
	ma->rgen++;
}

/* apps.c: the apps framework */
int apps_load(struct apps *m);
void apps_free_all(struct apps *m);
/* Frees an app and its instances (removed from m->apps by the caller). */
void apps_free_app(struct apps *m, struct m_app *ma);
/* Loads apps, instances and deployments from the store. */
void apps_schedule_pass(struct apps *m);   /* runs the pass on the next loop turn */
/* Marks ma changed (the next pass looks at it) and schedules a pass. */
void apps_touch(struct apps *m, struct m_app *ma);
/* Marks every app changed (an agent came or went) and schedules a pass. */
void apps_touch_all(struct apps *m);
void apps_run_pass(struct apps *m);
/* A status update from an agent for a task (fields as in agent-protocol.md §3). */
/* Takes in->res (reserved: in->reserved) on a in the resource manager's ledger under the
 * app's role (recorded in in->res_role / in->rsv_role), within the pass ac (NULL outside a
 * pass). A no-op when taken already or empty. 0, or -ENOSPC when a does not hold it. */
int apps_take(struct apps *m, struct m_instance *in, struct m_agent *a, bool reserved,
	      struct alloc_ctx *ac);
/* Gives back what apps_take took (a no-op when nothing is). */
void apps_give(struct apps *m, struct m_instance *in, bool reserved);
/* Applies a status update from a; false when its task is not a live task of ours on a. */
bool apps_status_update(struct apps *m, struct m_agent *a, const json_t *update);
/* An agent (re)registered reporting these tasks (task id -> {task_id, state}). */
void apps_agent_registered(struct apps *m, struct m_agent *a, const struct hmap *reported);
/* An agent is gone for good: its tasks are lost. */
void apps_agent_lost(struct apps *m, struct m_agent *a);
struct m_app *apps_get(struct apps *m, const char *id);
/* Queues a KILL for an instance's live task. */
void apps_kill_instance(struct apps *m, struct m_instance *in);
/* Forgets an instance: its volumes, its task id, its store record (in the open transaction
 * if any, and only if it may have one), its place among the app's. O(1). */
void apps_remove_instance(struct apps *m, struct m_instance *in);
/* A new waiting instance of ma with index, and a fresh uuid (uuid NULL) or uuid. O(1). */
struct m_instance *apps_add_instance(struct apps *m, struct m_app *ma, unsigned index,
				     const char *uuid);
unsigned apps_lowest_free_index(struct m_app *ma);
/* Change an instance's goal, phase or what it replaces (an instance of the same app, NULL:
 * nothing), keeping the app's counters and indexes (struct m_app) true. */
void apps_set_goal(struct m_instance *in, enum inst_goal goal);
void apps_set_phase(struct m_instance *in, enum inst_phase phase);
void apps_set_replaces(struct m_instance *in, struct m_instance *old);
/* A new app's instance tables, empty (def and the rest are the caller's). */
struct m_app *apps_app_new(void);
/* The instance replacing old (restart), or NULL. */
struct m_instance *apps_replacement_of(const struct m_app *ma, const struct m_instance *old);
/* Fills one of the app's slots: goal RUN and not being replaced. */
bool apps_in_slot(const struct m_app *ma, const struct m_instance *in);
/* Gives back an instance's volumes: DESTROY_VOLUME to its agent, reservation released. */
void apps_destroy_volumes(struct apps *m, struct m_instance *in);
/* Starts a deployment for ma (replacing none: the caller checked the lock). */
struct m_deployment *apps_deployment_new(struct apps *m, struct m_app *ma, const char *action);
void apps_deployment_free(struct m_deployment *d);
/* The store key of d: deployments/<id>, or deployments/<id>@<app id> for a member. */
void apps_deployment_key(const struct m_deployment *d, char *key, size_t n);
/* Another app of d's deployment of several apps (with unfinished: one whose part is not
 * done), or NULL. */
struct m_app *apps_deployment_other(struct apps *m, const struct m_deployment *d,
				    const struct m_app *self, bool unfinished);
/* For a deployment of several apps: forgets the deployments of its other apps (but self),
 * publishes deployment_failed once and returns true. false (nothing done) for one app. */
bool apps_deployment_cancel_others(struct apps *m, const struct m_deployment *d,
				   const struct m_app *self);
void apps_deployment_done(struct apps *m, struct m_app *ma);
/* Forgets ma's deployment (store and memory) without events. */
void apps_deployment_stop(struct apps *m, struct m_app *ma);
/* deployment_failed for a deployment that was canceled or superseded. */
void apps_deployment_failed_event(struct apps *m, const struct m_deployment *d,
				  const char *reason);
/* deployment_info for ma's deployment that just started. */
void apps_deployment_announce(struct apps *m, struct m_app *ma);
int apps_store_deployment(struct apps *m, const struct m_deployment *d);
/* Persist one instance (inside or outside a txn). */
int apps_store_instance(struct apps *m, struct m_instance *in);

/* resize.c: in-place resize (PATCH ?inPlace=true). prepare takes the growth of every placed
 * instance of ma for def from its agent: 0 and *out, or -EINVAL (not only cpus/mem changed,
 * or a resident app), -ENOSPC (an agent has no room), -EAGAIN (an instance is being
 * stopped), with why; nothing is held then. After def is committed, apply changes the
 * instances (resources, version, store) and sends each agent a RESIZE; if the commit fails,
 * undo gives the growth back. Both free rs. */
struct apps_resize;
int apps_resize_prepare(struct apps *m, struct m_app *ma, const struct app *def,
			struct apps_resize **out, char *why, size_t whylen);
void apps_resize_apply(struct apps *m, struct apps_resize *rs, const char *version);
void apps_resize_undo(struct apps *m, struct apps_resize *rs);
int apps_store_app(struct apps *m, const struct m_app *ma);
/* Persists ma's pending deletion: deleting/<app id> ({app: definition}) and one
 * wipe-volumes/<app id>@<name> record per entry of ma->wipe_volumes. Call inside a txn.
 * apps_load brings such an app back as being deleted, instances and all. */
int apps_store_deletion(struct apps *m, const struct m_app *ma);
/* Deletes the record of one volume v (an entry of ma->wipe_volumes) of ma's pending wipe,
 * or with v NULL the deletion's own record deleting/<app id>; an absent record is no error. */
int apps_store_deletion_done(struct apps *m, const struct m_app *ma, const json_t *v);
/* Running and, where the app has them, healthy and ready: counts as capacity. */
bool apps_instance_up(const struct m_instance *in);
const char *apps_state_intern(const char *state);
/* Assign free service ports to portDefinitions with port 0 in def->json. */
void apps_assign_service_ports(struct apps *m, struct app *def, const struct app *old);
/* The same, also avoiding the service ports of also[0..nalso) (apps of one request). */
void apps_assign_service_ports_also(struct apps *m, struct app *def, const struct app *old,
				    struct app *const *also, size_t nalso);

/* schedule.c: is an external volume (resolved name) held by a live task of any app other
 * than self's? */
bool apps_volume_busy(struct apps *m, const char *name, const struct m_instance *self);
/* wipe.c: for a deleted app without instances, asks agents to remove its external volumes
 * (store writes in the caller's transaction, begun here if *txn is false). Returns whether
 * the wipe is over (done or given up, its records deleted). */
bool apps_wipe_volumes(struct apps *m, struct m_app *ma, uint64_t now, bool *txn);

/* render.c: Marathon JSON */
/* What render_app adds to the stored definition. RENDER_EXTRAS: berth's keys beyond
 * Marathon's (a task's "index", a queue item's "role"), only when the client asked with
 * embed=berth (docs/api.md); Marathon paths send Marathon's exact keys otherwise. */
enum {
	RENDER_TASKS = 1,
	RENDER_COUNTS = 2,
	RENDER_DEPLOYMENTS = 4,
	RENDER_FAILURE = 8,
	RENDER_EXTRAS = 16,
};
json_t *render_app(struct apps *m, const struct m_app *ma, unsigned what);
json_t *render_task(struct apps *m, const struct m_instance *in, bool extras);
json_t *render_deployment(struct apps *m, const struct m_deployment *d);
/* A deployment event's plan (§10.4): {id, steps, version}; heavy adds original and target
 * (root groups before and after), as Marathon before 1.8 sent by default. */
json_t *render_plan(struct apps *m, const struct m_deployment *d, bool heavy);
/* The plan's step under way: {actions: [{action, app}]}. */
json_t *render_plan_step(struct apps *m, const struct m_deployment *d);
/* The queue; with lastUnusedOffers (embed=lastUnusedOffers) that always-empty array too. */
json_t *render_queue(struct apps *m, bool extras, bool last_unused);
/* The same bytes, assembled into b from the apps' cached pieces. */
/* The /v2/queue body; with req, only the apps its principal may view (apps_visible). */
void render_queue_body(struct apps *m, struct http_body *b, bool extras, bool last_unused,
		       struct evhttp_request *req);

/* render-cache.c: the pieces the polled reads are assembled from (borrowed: valid until the
 * app's next change; http_body_piece takes its own reference). */
struct http_piece *rc_app(struct apps *m, struct m_app *ma, unsigned what);
struct http_piece *rc_task(struct apps *m, struct m_instance *in, bool extras);
struct http_piece *rc_deployment(struct apps *m, struct m_app *ma); /* ma->deploy set */
/* ',' then j's bytes as http_reply_json sends them (j taken); lead 1. */
struct http_piece *render_piece(json_t *j);
void rc_free_app(struct m_app *ma);
void rc_free_inst(struct m_instance *in);
/* Overrides BERTH_RENDER_VERIFY (tests). */
void render_cache_set_verify(bool on);

/* inst-order.c: the orders and placement counts of an app's instances (invariants there).
 * apps_inst_sync after any change of in's goal, phase, replaces or times (apps_set_* call
 * it); unorder before an instance is freed. */
void apps_order_init(struct m_app *ma);
void apps_order_release(struct m_app *ma);
void apps_order_init_inst(struct m_instance *in);
void apps_inst_sync(struct m_instance *in);
void apps_inst_unorder(struct m_instance *in);
/* Empties every order in O(1) (the instances' places become stale through order_epoch),
 * for a stop of every instance: it then costs O(1) per instance instead of O(log n) per
 * order. Each instance must be synced again before the orders are read. */
void apps_order_drop(struct m_app *ma);
/* The slot a scale-down stops first (killSelection; highest index for a stateful app), or
 * NULL; and the suspended instance a stateful scale-up wakes first, or NULL. O(1). */
struct m_instance *apps_first_to_stop(const struct m_app *ma);
struct m_instance *apps_first_to_wake(const struct m_app *ma);
/* Counts in's task on a in its app's placed (in LIVE; once), and uncounts it. */
void apps_place_count(struct apps *m, struct m_instance *in, const struct m_agent *a);
void apps_place_uncount(struct m_instance *in);
void apps_place_snaps_free(struct apps *m);
/* Live tasks of ma on a, counted. */
unsigned apps_tasks_on(const struct m_app *ma, const struct m_agent *a);

/* inst-count.c: counters and indexes kept as instances change (invariants there).
 * apps_inst_recount after any change of in's goal, phase, state, healthy, ready, kill_sent,
 * version, agent_id or pinned_agent (apps_inst_sync calls it); apps_inst_uncount before an
 * instance is freed (apps_inst_unorder calls it). */
void apps_inst_recount(struct m_instance *in);
void apps_inst_uncount(struct m_instance *in);
void apps_count_init(struct m_app *ma);
void apps_count_release(struct m_app *ma);
void apps_by_agent_free(struct apps *m);
/* Instances with goal RUN up (apps_instance_up), counted. O(1). */
size_t apps_up_count(const struct m_app *ma);
/* Is an instance of ma LIVE at a version older than its config_version? O(versions). */
bool apps_any_live_outdated(const struct m_app *ma);
/* Appends ma's LIVE instances at a version older than config_version to *v (length *n,
 * capacity *cap). O(those instances + versions). */
void apps_live_outdated(const struct m_app *ma, struct m_instance ***v, size_t *n,
			size_t *cap);
/* The LIVE instances with a task on agent id (with pinned: those pinned there), as an
 * array the caller frees; *n its length. O(those instances). */
struct m_instance **apps_insts_on_agent(struct apps *m, const char *id, bool pinned,
					size_t *n);
/* The apps of every agent: is an external volume (resolved name) held by a LIVE instance
 * other than self? O(1). */
bool apps_volume_held(struct apps *m, const char *name, const struct m_instance *self);

/* task-spec.c: the LAUNCH record for in's next task on a (new reference). */
json_t *apps_task_spec(struct apps *m, const struct m_instance *in, const struct m_agent *a);

/* framework.c */
/* TASK_ADDED / TASK_UPDATED on the operator stream (nothing when nobody listens). */
void apps_event_task_added(struct apps *m, const struct m_instance *in);
void apps_event_task_updated(struct apps *m, const struct m_instance *in, const char *state,
			     const char *message);
void apps_count_health(struct apps *m, bool healthy);
void apps_count_deployment(struct apps *m, const char *outcome); /* started|success|failed|canceled */
/* api-volumes.c: GET /api/berth/volumes */
void api_volumes(struct apps *m, struct evhttp_request *req);

/* autoscale.c (policies: autoscale.h) */
/* Samples, decides and scales the apps with a policy: bounded work per call. */
void autoscale_tick(struct apps *m);
void autoscale_free(struct apps *m);
/* The app's BERTH_AUTOSCALE_* labels are a valid policy or none: 0, or -EINVAL with err. */
int autoscale_check(const struct app *def, struct verr *err);

/* events.c: Marathon's SSE event bus */
void events_handle(struct apps *m, struct evhttp_request *req);
/* Publishes an event of type to matching subscribers; payload (taken) gets eventType and
 * timestamp added. */
void events_publish(struct apps *m, const char *type, json_t *payload);
/* Like events_publish, but subscribers that asked for plan-format=light get light and the
 * others heavy (both taken). */
void events_publish_plan(struct apps *m, const char *type, json_t *light, json_t *heavy);
/* Which forms of a deployment event of type its subscribers want (light: plan-format=light);
 * events_publish_plan takes NULL for a form nobody wants. */
void events_plan_formats(struct apps *m, const char *type, bool *light, bool *heavy);
void events_tick(struct apps *m);
void events_close_all(struct apps *m);


/* instctl.c: per-instance control (docs/api.md "Instances"). */
/* An instance's held flag changes only while its goal is not SUSPEND (then nheld, which
 * counts held instances with goal SUSPEND, stays true without help). */
/* Loads every app's instenv/ record (after the apps are loaded). */
int instctl_load(struct apps *m);
/* The environment overrides of index in ma (borrowed), or NULL. */
json_t *instctl_env(const struct m_app *ma, unsigned index);

/* per-agent.c: for an app with BERTH_PER_AGENT, one instance bound (pinned_agent) to each
 * agent the app may run on; the others stop. Sets def->instances (and its JSON) to that
 * count. Store writes go in the pass's transaction (begun with txn_begin(ctx)). */
void per_agent_reconcile(struct apps *m, struct m_app *ma, void (*txn_begin)(void *ctx),
			 void *ctx);

/* api-groups-deps.c: the dependency layer (0, 1, …) of each of the apps ids[0..n) (deps[i]:
 * app i's own dependencies) under the groups' dependencies as they are: -ELOOP for a cycle. */
int groups_layers_now(struct apps *m, const char **ids, const json_t **deps, size_t n,
		      int *layer);

/* deploy-steps.c: a deployment's steps as the scheduler runs them (its StopApplication
 * actions, then its other actions in dependency layers; one step for one app):
 * [{"actions":[{action, app}]}], new reference. */
json_t *deploy_steps(struct apps *m, const struct m_deployment *d);
/* The step under way (0-based) of steps (deploy_steps(d)): the first with an app whose part
 * of d is not done. */
size_t deploy_current_step(struct apps *m, const struct m_deployment *d, const json_t *steps);
/* Does app's part of d, once done, end the step under way (the others of it are done)? */
bool deploy_step_ends_with(struct apps *m, const struct m_deployment *d, const char *app);
/* Marks every app of d changed (their rendered deployment shows its progress). */
void deploy_touch_members(struct apps *m, const struct m_deployment *d);

/* api-groups.c: are the dependencies of ma's groups (and their ancestors') converged? */
bool apps_group_dependencies_ready(struct apps *m, const struct m_app *ma);

/* Whether the principal of req may see app id (apps_set_view_filter); true without a
 * filter. */
bool apps_visible(const struct apps *m, struct evhttp_request *req, const char *id);
