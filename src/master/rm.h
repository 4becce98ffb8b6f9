/* The resource manager's public interface: what a framework built into the master (the apps
 * framework; later jobs) and the server that wires the master together may use. Nothing
 * else of src/master is visible to them (master-int.h and fw-int.h are internal).
 *
 * The resource manager keeps the agents (registry.c), the one ledger of their resources
 * (ledger.c), the allocation order with the external frameworks' offers (alloc.c, fw-*.c),
 * roles, quotas and reservations, and the Mesos APIs (/api/v1/scheduler, /api/v1,
 * /master/state). A built-in framework talks to it through this header only:
 *  - it registers once with rm_framework_add, giving callbacks through which the resource
 *    manager hands it the status updates of its tasks, tells it of agents that registered or
 *    were lost, and asks it for its tasks (for /master/state and the operator API);
 *  - it asks what it may place on an agent now (rm_alloc_*: the DRF order's claims of the
 *    external frameworks are left out), takes what it places and gives it back when the task
 *    ends (rm_alloc_take, rm_take, rm_give: the ledger, which nobody else writes);
 *  - it sends LAUNCH, KILL and volume records to agents (rm_send).
 * The resource manager never calls a framework except through its callbacks. */
#pragma once
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hmap.h"
#include "model/app.h"
#include "model/attributes.h"
#include "model/resources.h"
#include "net/http.h"
#include "store/store.h"

struct master; /* the resource manager */
struct metrics;

struct master_config {
	const char *http_addr;
	uint16_t http_port;
	const char *store_url;
	double agent_timeout_sec;
	double heartbeat_sec;
	size_t max_body;
	const char *hostname;      /* advertised in /v2/info, /v2/leader, /master/state */
	/* The DNS server (src/dns, wired by src/server): off while dns_addr is NULL. */
	const char *dns_addr;
	uint16_t dns_port;
	const char *dns_domain;    /* "mesos" */
	const char *dns_resolvers; /* "IP[:PORT],…" for other names, or NULL: REFUSED */
	double dns_ttl_sec;        /* 60 */
	bool dns_soft;             /* berth dev's default address: when it cannot be bound
				    * the master runs without DNS (a warning) */
	const char *svc_watch_buffer; /* "BYTES": a /v2/services watcher's bound (256 KiB) */
	double zk_session_timeout_sec; /* zk:// stores: ZooKeeper session timeout (0: 10 s) */
	const char *zk_auth;           /* zk:// stores: "user:pass" digest auth, or NULL */
	const char *zk_fence;          /* zk:// stores: the leader's election znode, or NULL */
	const char *external_log_file; /* served as /master/log by LIST_FILES/READ_FILE, or NULL */
	size_t max_app_instances;      /* an app's instances at most (0: the default) */
	bool https;                    /* the listener speaks TLS (--tls-cert): the URLs the
					* master writes (Location, webui_url) say https */
	/* Hooks for v1 frameworks' tasks (docs/hooks.md): executables, or NULL; the bound on
	 * each run (0: 10 s). */
	const char *hook_task_launch, *hook_task_end;
	double hook_timeout_sec;
};

/* --max-app-instances when not given: the most an app may ask for (a 422 beyond). */
#define MASTER_DEFAULT_MAX_APP_INSTANCES 1000000

#define MASTER_DEFAULT_MAX_BODY (1024 * 1024)

/* ---- agents ---- */

enum agent_state { AGENT_CONNECTED, AGENT_DISCONNECTED, AGENT_UNREACHABLE };

/* A simulated agent (bench/alloc, tests): receives the records a real agent would get on its
 * stream. The record is taken. */
struct m_agent;
typedef int (*agent_sim_fn)(struct m_agent *a, json_t *record);

/* One agent's resources. Owned by the ledger (ledger.c): no other file writes them (the
 * layer check enforces it); read them with rm_agent_free / rm_agent_total.
 * Invariant: free + used = total, entry by entry; used is the sum of the takes not given
 * back. */
struct ledger_agent {
	struct resources total;
	struct resources used;
	struct resources free;
};

/* The offers outstanding on one agent (fw-offers.c). */
struct fw_agent_offers {
	struct fw_offer **v;
	size_t n, cap;
};

/* An agent as the registry keeps it. Frameworks read id, hostname, ip, attrs, state and the
 * resources (through the accessors); every field is written by src/master only. */
struct m_agent {
	struct master *m;
	agent_sim_fn sim;          /* NULL for real agents */
	void *sim_ctx;
	char *id;
	char *hostname;
	char *http;     /* "ip:port" of the agent's own HTTP server */
	char *ip;       /* the ip part of http, for ipAddresses / pid */
	bool http_tls;    /* its HTTP server speaks HTTPS (its SUBSCRIBE's "https") */
	char *http_token; /* the agent's token for its HTTP server (its last SUBSCRIBE), or
			   * NULL; in memory only, never in an answer, a log or the store */
	char *resources_text;
	char *attributes_text;
	struct ledger_agent led;   /* ledger.c's */
	struct attributes attrs;
	enum agent_state state;
	uint64_t last_seen_usec;   /* monotonic */
	uint64_t registered_usec;  /* realtime */
	struct http_stream *stream; /* NULL while not connected */
	unsigned registrations;    /* grows at every (re)registration */
	unsigned ntasks;           /* live tasks placed here (counted by the ledger's takes) */
	uint64_t offer_fp;         /* fw-pass.c: what the last offer pass saw of it, */
	unsigned offer_n;          /* and how many offers it was in then */
	struct fw_agent_offers offers; /* its outstanding offers (fw-offers.c) */
	/* fw-pass.c: what every offer of this agent says of it (agent_id … url, and the
	 * attributes) as JSON text, made when the agent registers. */
	char *offer_head, *offer_attrs;
	/* maint.c: DEACTIVATE_AGENT set it (persisted): no offers, no new tasks here. */
	bool deactivated;
	/* maint.c: DRAIN_AGENT (persisted; deactivated is set too). DRAINING: frameworks move
	 * their tasks off (the apps framework within each app's upgradeStrategy); DRAINED once
	 * no task is left. */
	enum agent_drain { AGENT_DRAIN_NONE, AGENT_DRAINING, AGENT_DRAINED } drain;
	int64_t drain_grace_nsec; /* max_grace_period, -1 when not given */
	bool drain_mark_gone;
	uint64_t drain_started_usec; /* realtime */
	/* maint.c: MARK_AGENT_GONE, or a drain with mark_gone once drained (persisted, for
	 * good): state is AGENT_UNREACHABLE, its tasks ended as TASK_GONE_BY_OPERATOR, and a
	 * subscribe with its id is answered 410 (the agent shuts down). */
	bool gone;
	uint64_t gone_usec; /* realtime */
	/* maint.c: its machine went DOWN (START_MAINTENANCE) since it last registered. */
	bool down;
	/* fw-inverse.c: its machine is in a maintenance window (not DOWN yet): frameworks get
	 * inverse offers; the apps framework moves its instances off as in a drain. */
	bool maint_draining;
};

static inline const struct resources *rm_agent_free(const struct m_agent *a)
{
	return &a->led.free;
}

static inline const struct resources *rm_agent_total(const struct m_agent *a)
{
	return &a->led.total;
}

/* What the agent's tasks and volumes hold. */
static inline const struct resources *rm_agent_used(const struct m_agent *a)
{
	return &a->led.used;
}

/* The agent with that id, or NULL. */
struct m_agent *rm_agent_get(struct master *m, const char *id);
/* Every agent known: id -> struct m_agent* (borrowed; iterate with hmap_next, do not change). */
const struct hmap *rm_agents(const struct master *m);
/* Sends a record (taken) to a connected agent: LAUNCH, KILL, DESTROY_VOLUME, REMOVE_VOLUME
 * (docs/internals/agent-protocol.md). 0, or -ENOTCONN when its stream is down. */
int rm_send(struct m_agent *a, json_t *record);

/* ---- what a framework needs of the master ---- */

struct store *rm_store(struct master *m);
/* false while the store cannot be reached (store_healthy): the master serves what it has
 * in memory, and the discovery API says its endpoints are the last known ones. */
bool rm_store_healthy(const struct master *m);
struct event_base *rm_base(struct master *m);
const struct master_config *rm_config(const struct master *m);
/* Who may see which framework and task (the ACLs' view_frameworks and view_tasks, whose
 * objects are users): /master/state and the endpoints built from it leave out the frameworks
 * whose user, and the tasks whose user (else their framework's), may_view refuses for the
 * request's principal; /api/berth/tasks/{id}/files/… answers 403 when access_sandboxes
 * refuses the task's user. action is "view_frameworks", "view_tasks" or "access_sandboxes".
 * NULL: all visible. */
typedef bool (*rm_view_fn)(void *ctx, const char *action, const char *principal,
			   const char *user);
void rm_set_view_filter(struct master *m, rm_view_fn may_view, void *ctx);
/* The client TLS context for agents that serve HTTPS (their sandboxes through
 * /api/berth/tasks/…/files); borrowed, outlives m. */
struct http_tls;
void rm_set_agent_tls(struct master *m, struct http_tls *client);
/* At most n operator SUBSCRIBE streams per authenticated principal (429 beyond); 0: none. */
void rm_set_stream_limit(struct master *m, unsigned n);
/* An agent cut off this long kills its tasks that hold volumes (it fences itself). */
double rm_volume_lease_sec(const struct master *m);
/* The id of the built-in framework registered first ("<master id>-0000"), kept in the store
 * so that it survives restarts (Marathon's framework id). */
const char *rm_builtin_framework_id(const struct master *m);
/* The FrameworkInfo of the external (v1 scheduler API) framework id, or NULL when there is
 * none: borrowed, valid until the loop runs on (authorization reads its user and principal). */
const json_t *rm_framework_info(const struct master *m, const char *id);

/* ---- frameworks built into the master ---- */

/* A task as /master/state and the operator API show it (every field borrowed for the call of
 * the callback that passes it). */
struct rm_task_view {
	const char *id;
	const char *framework_id;
	const char *name;
	const char *agent_id;       /* "" when not placed */
	const char *state;          /* "TASK_RUNNING", … */
	const char *role;           /* the allocation role */
	const char *user;           /* or NULL */
	const struct resources *res;
	uint64_t staged_usec;       /* realtime; 0 unknown */
	uint64_t started_usec;      /* realtime; 0 until RUNNING */
	int healthy;                /* -1: no health checks or no result yet, else 0 or 1 */
	bool has_health;            /* it has health checks (healthy -1: no result yet) */
	const json_t *labels;       /* object {key: value} or NULL */
	json_t *discovery;          /* DiscoveryInfo (protobuf JSON), taken; or NULL */
	bool has_index;             /* a stateful app's instance: index is stable across */
	unsigned index;             /* relaunches (DNS <index>.<app>.<framework>.<domain>) */
	const char *app_id;         /* the built-in framework's app ("/prod/web"), or NULL */
};
typedef void (*rm_task_fn)(const struct rm_task_view *t, void *ctx);

struct rm_framework_ops {
	/* When task_id is one of this framework's tasks: the id of its agent ("" while it has
	 * none); NULL when it is not. */
	const char *(*task_agent)(void *ctx, const char *task_id);
	/* A status update from a (fields as agent-protocol.md §3), inside the store transaction
	 * of the updates' group commit: true when it is for a task of this framework on a (it
	 * took the update), false when not (the resource manager asks the next one). */
	bool (*status_update)(void *ctx, struct m_agent *a, const json_t *update);
	/* a (re)registered. reported: task id -> {task_id, state} of every task it runs (each
	 * framework looks up its own). The framework recovers its tasks there that were
	 * reported and ends as lost those it placed on a that were not. */
	void (*agent_registered)(void *ctx, struct m_agent *a, const struct hmap *reported);
	/* a became unreachable, or was marked gone (a->gone): its tasks are lost, or gone by
	 * the operator (TASK_GONE_BY_OPERATOR; local volumes there are gone too). */
	void (*agent_lost)(void *ctx, struct m_agent *a);
	/* Calls fn for every live task (for /master/state, GET_STATE, GET_TASKS, metrics); with
	 * detail false only id, agent_id, state and res need be filled in. */
	void (*each_task)(void *ctx, bool detail, rm_task_fn fn, void *fnctx);
	/* The roles the framework uses (for GET_ROLES): calls fn for each. */
	void (*each_role)(void *ctx, void (*fn)(const char *role, void *fnctx), void *fnctx);
	/* Something it waits for may have changed (an agent came, updates arrived): run its
	 * pass soon. */
	void (*wake)(void *ctx);
	/* a began draining (a->drain, maint.c): move the framework's tasks off it. May be
	 * NULL. */
	void (*agent_draining)(void *ctx, struct m_agent *a);
};

/* A built-in framework, as the resource manager knows it. */
struct rm_client;

/* Registers a built-in framework (ops and ctx borrowed for the master's life) under id
 * (copied) and name. At most RM_MAX_CLIENTS. Returns the client (freed with the master). */
#define RM_MAX_CLIENTS 8
struct rm_client *rm_framework_add(struct master *m, const char *id, const char *name,
				   const struct rm_framework_ops *ops, void *ctx);

/* Calls fn for every live task of every framework, built-in or external (detail: as in
 * rm_framework_ops.each_task): the server's metrics, and the jobs framework's per-instance
 * jobs, which look up an app's instances (read-only). */
void rm_each_task(struct master *m, bool detail, rm_task_fn fn, void *ctx);

/* ---- the ledger: taking and giving resources ---- */

/* Takes r (in role's allocation) on a for client c: a's free shrinks by r, its used, role's
 * and c's allocation grow. 0, or -ENOSPC when a's free does not hold r (nothing changed).
 * Every take is matched by one rm_give of the same a, role and r. */
int rm_take(struct master *m, struct m_agent *a, const char *role, struct rm_client *c,
	    const struct resources *r);
/* Gives back what an rm_take took. */
void rm_give(struct master *m, struct m_agent *a, const char *role, struct rm_client *c,
	     const struct resources *r);
/* Counts a live task of c on a (a->ntasks, the framework's task count) or one less; a or c
 * may be NULL. The only writers of a->ntasks. */
void rm_task_placed(struct master *m, struct m_agent *a, struct rm_client *c);
void rm_task_gone(struct master *m, struct m_agent *a, struct rm_client *c);

/* ---- the allocation order (alloc.c) ---- */

/* One placement pass of client c in the DRF order with the external frameworks (c NULL: the
 * external frameworks' own offer pass, which uses no rm_alloc_available / rm_alloc_take). */
struct alloc_ctx;
struct alloc_ctx *rm_alloc_begin(struct master *m, struct rm_client *c);
/* Ends the pass: the offers it made the frameworks before c go out. */
void rm_alloc_end(struct alloc_ctx *ac);
/* Whether one more task of def fits its role's quota and the others' guarantees. */
bool rm_alloc_allows(struct alloc_ctx *ac, const struct app *def);
/* What of a's free resources c may place a task of role onto now: first the external
 * frameworks before c in the order are offered a, then what their offers claim is left out.
 * Returns rm_agent_free(a) when nothing is claimed, else tmp (initialised by the caller,
 * released by it after use) filled with the rest. */
const struct resources *rm_alloc_available(struct alloc_ctx *ac, struct m_agent *a,
					   const char *role, struct resources *tmp);
/* rm_take within the pass (its accounting follows). */
int rm_alloc_take(struct alloc_ctx *ac, struct m_agent *a, const char *role,
		  const struct resources *r);

/* ---- the operator event stream ---- */

/* Whether anyone listens to the operator event stream (so that a framework builds its task
 * views only then). */
bool rm_event_listeners(const struct master *m);
/* TASK_ADDED / TASK_UPDATED for a task of c (state: the new state; message may be NULL).
 * Each returns at once when nobody is subscribed; t->discovery is taken either way. */
void rm_event_task_added(struct master *m, struct rm_client *c, const struct rm_task_view *t);
void rm_event_task_updated(struct master *m, struct rm_client *c, const struct rm_task_view *t,
			   const char *state, const char *message);

/* A task listener (the DNS module): told of every task change of every framework, built-in
 * and external, as it happens. t is borrowed for the call (t->discovery too: not taken);
 * framework is the framework's name; state the task's new state, or NULL when the master
 * forgets the task without a status (its framework was removed). t->healthy is -1 when the
 * task has no health checks or no result yet. One listener per master; fn NULL removes it.
 * Registering calls fn at once for every live task (its current state). */
typedef void (*rm_task_listener_fn)(void *ctx, const struct rm_task_view *t,
				    const char *framework, const char *state);
void rm_task_listen(struct master *m, rm_task_listener_fn fn, void *ctx);

/* A framework listener (the DNS module's <framework>.<domain> names): told of every
 * framework the master knows, as /master/state lists them. present true: id subscribed,
 * re-subscribed or changed its FrameworkInfo (name and hostname as they are now); false: id
 * was removed (name and hostname NULL). hostname is FrameworkInfo.hostname ("" when it gave
 * none) for an external framework, NULL for a built-in one (it runs in the master). There
 * is no libprocess PID: v1 frameworks have none, as /master/state shows (no "pid").
 * Everything is borrowed for the call. One listener per master; fn NULL removes it.
 * Registering calls fn at once for every framework known. */
typedef void (*rm_framework_listener_fn)(void *ctx, const char *id, const char *name,
					 const char *hostname, bool present);
void rm_framework_listen(struct master *m, rm_framework_listener_fn fn, void *ctx);

/* ---- metrics ---- */

/* Counters a framework reports into (the master's metrics registry; no-ops before
 * rm_metrics_register). */
void rm_count_launch(struct master *m);
void rm_count_kill(struct master *m);
/* A status update applied (state borrowed). */
void rm_count_status(struct master *m, const char *state);
/* A store commit took usec. */
void rm_count_commit_usec(struct master *m, uint64_t usec);
