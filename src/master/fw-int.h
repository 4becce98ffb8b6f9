/* External frameworks (Mesos v1 scheduler API): state shared by frameworks.c (HTTP calls,
 * subscriptions, persistence, failover), fw-offers.c (offers, ACCEPT/LAUNCH, DECLINE) and
 * fw-tasks.c (status updates, KILL, RECONCILE, recovery). Not a public API.
 *
 * Ownership: struct frameworks owns the frameworks (fws), the outstanding offers (offers)
 * and the tasks (tasks, by task id; a task id is unique across all frameworks and apps).
 * Each framework keeps a count of its tasks and offers, never pointers to them; a task or
 * offer points at its framework. A task whose framework was removed (TEARDOWN, failover
 * timeout) stays as an orphan (fw NULL) until its agent reports it terminal, so that its
 * resources go back to the agent exactly once.
 *
 * Invariants:
 *  - A live (non-terminal, not lost) task's resources are taken on its agent in the ledger
 *    (t->held, under t->alloc_role) and counted in a->ntasks; they are given back once, when
 *    the task's terminal state arrives or it is lost (fw_task_release).
 *  - Offers hold nothing for good: they are optimistic. An ACCEPT is checked against the
 *    agent's free resources. For FW_OFFER_CLAIM_SEC an offer holds its resources against the clients that
 *    come after its framework in the allocation order (alloc.c), not against those before.
 *  - An agent's a->offers lists exactly its offers in offers.
 *  - agent_tasks lists exactly the tasks in tasks, grouped by agent id; watched lists
 *    exactly the tasks with kill_pending or a status not acked (fw-tasks.c).
 *  - A task's LAUNCH reaches its agent only after the task is stored: ACCEPTs queue their
 *    tasks (dirty) and LAUNCHes (launches), and fw_flush, at the end of the event-loop
 *    iteration, stores every queued task in one commit (group commit: many ACCEPTs, one
 *    fsync) and then sends the LAUNCHes.
 *  - A framework is subscribed (connected) exactly while fw->stream is non-NULL, or, for an
 *    in-process framework (fw_sim_subscribe), always; fw_subscribed says which.
 *  - fw->noffers is the number of its offers in fws->offers. */
#pragma once
#include "base/strbuf.h"
#include "master/master-int.h"

#define FW_HEARTBEAT_SEC 15.0
#define FW_OFFER_TIMEOUT_SEC 30.0
#define FW_OFFER_CLAIM_SEC 2.0      /* an offer's first claim on its resources (alloc.c) */
#define FW_DEFAULT_REFUSE_SEC 5.0
#define FW_MAX_REFUSE_SEC 31536000.0
#define FW_RESEND_SEC 10.0          /* unacknowledged status updates are sent again */
#define FW_STREAM_MAX_PENDING (8u * 1024 * 1024)
#define FW_MAX_ROLES 64
/* failover_timeout bound: INT64_MAX nanoseconds, as Mesos holds it */
#define FW_MAX_FAILOVER_SEC 9223372036.0
#define FW_MAX_OFFERS 5000          /* outstanding offers per framework */
#define FW_OFFERS_PER_EVENT 500     /* offers in one OFFERS event */
/* The offer pass puts an agent in at most this many frameworks' offers at once (optimistic,
 * but not every framework sees every agent); the claim of a framework ahead of the apps
 * framework (alloc.c) is made regardless. */
#define FW_MAX_OFFERS_PER_AGENT 2
/* New offers per framework and pass: the agents' slots (above) split among the frameworks
 * being offered, at least this many. */
#define FW_MIN_OFFERS_PER_PASS 16
#define FW_MAX_FILTERS 65536       /* decline filters per framework */
#define FW_FILTER_PRUNE_USEC (10u * 1000000u) /* expired filters are dropped this often */
#define FW_MAX_FRAMEWORKS 1024
#define FW_MAX_TASKS 100000        /* all frameworks together */
#define FW_MAX_TASK_PORTS 1024
#define FW_MAX_EXECUTORS 100000    /* custom executors, all frameworks together */
#define FW_MAX_REMOVED 1024        /* ids of removed frameworks remembered */
#define FW_OP_STATUSES 256         /* operation statuses kept per framework (fw-ops.c) */
#define FW_MAX_RECONCILE_OPS 4096  /* operations named in one RECONCILE_OPERATIONS */

/* The context of a framework's stream: on_close runs deferred, possibly after the framework
 * is gone, so it finds the framework through this link (fw NULL once it is removed). */
struct fw_link {
	struct fw_framework *fw;
};

/* One operation status sent (fw-ops.c). */
struct fw_op_record {
	char *id;       /* the operation's id; NULL: an empty slot */
	json_t *status; /* OperationStatus as sent */
};

struct fw_framework {
	struct frameworks *fws;
	int wire;                  /* FW_WIRE_JSON or FW_WIRE_PROTOBUF: its stream's encoding */
	struct fw_link *link;       /* of stream, or NULL */
	char *id;
	json_t *info;              /* FrameworkInfo as last subscribed, id filled in */
	char *roles[FW_MAX_ROLES]; /* roles (or the old "role"), "*" by default */
	size_t nroles;
	bool suppressed[FW_MAX_ROLES];
	bool partition_aware;
	bool refinement;           /* RESERVATION_REFINEMENT */
	double failover_sec;
	struct http_stream *stream;
	char stream_id[37];
	uint64_t disconnected_usec; /* monotonic; since when it has no stream */
	uint64_t hb_usec;           /* monotonic; last heartbeat or event sent */
	struct hmap filters;        /* agent id -> uint64_t* until (monotonic usec) */
	uint64_t pruned_usec;       /* monotonic: when expired filters were last dropped */
	uint64_t filter_min_usec;   /* monotonic: when its first filter runs out; 0: none */
	bool quiet;                 /* its last walk went round: look at changed agents only */
	unsigned ntasks;            /* live tasks */
	unsigned noffers;           /* outstanding offers */
	/* In-process framework (bench/alloc): the RecordIO bytes of each event go to sim
	 * (borrowed for the call) instead of to a stream. */
	int (*sim)(struct fw_framework *fw, const char *rec, size_t len, void *ctx);
	void *sim_ctx;
	struct resources used;      /* resources of its live tasks (DRF) */
	uint64_t registered_usec;   /* realtime: first subscription (this master run) */
	uint64_t reregistered_usec; /* realtime: last subscription */
	struct fw_op_record ops[FW_OP_STATUSES]; /* the last operation statuses sent (a ring) */
	size_t ops_next;                          /* the slot the next one takes */
};

struct fw_offer {
	char id[96];
	struct fw_framework *fw;
	char *agent_id;             /* agent_id and role: in the offer's own allocation */
	char *role;                 /* allocation role */
	struct resources res;
	uint64_t expires_usec;      /* monotonic */
	uint64_t claim_until_usec;  /* monotonic */
	struct quota_drf_client key; /* its framework's place in the order when offered */
};

/* Tasks in no particular order (fw-tasks.c's indexes): each task knows its place in the
 * lists it is on (fw_task.slot), so that adding and removing are O(1). */
struct fw_task_list {
	struct fw_task **v;
	size_t n, cap;
};

enum fw_task_slot { FW_SLOT_AGENT, FW_SLOT_WATCH, FW_NSLOTS };
#define FW_NO_SLOT ((size_t)-1)

struct fw_task {
	char *id;
	struct frameworks *fws;     /* its owner */
	struct fw_framework *fw;    /* NULL: orphan (its framework was removed) */
	char *fw_id;
	char *agent_id;
	char *name;
	char *group;                /* LAUNCH_GROUP: the group's id (its first task's), or NULL */
	const char *state;          /* static string */
	struct resources res;
	double grace_sec;
	bool held;                  /* res is taken on its agent in the ledger */
	uint64_t started_usec;      /* realtime: when it was seen RUNNING; 0 before */
	char *alloc_role;           /* while held: the role res is counted for in the ledger */
	bool kill_pending;          /* a KILL to send once the agent is connected */
	bool kill_sent;
	/* The last TaskStatus sent to the framework, as JSON text (a tree costs about 3 KiB a
	 * task; the text a tenth of that), or NULL; and its uuid ("" when it has none). */
	char *status;
	char status_uuid[32];
	bool acked;                 /* status needs no (more) acknowledgement */
	uint64_t sent_usec;         /* monotonic: when status was last sent */
	uint64_t agent_gen;         /* fw_agent_view generation that last confirmed it */
	char seen[4][37];           /* last agent update uuids applied (idempotency) */
	unsigned seen_next;
	size_t slot[FW_NSLOTS];     /* its index in agent_tasks / watched, or FW_NO_SLOT */
};

/* What frameworks.c last saw of an agent's connection, to notice re-registrations (a task
 * not reported by the agent when it re-registered is lost). */
struct fw_agent_view {
	unsigned registrations; /* the agent's count when last looked at */
	uint64_t gen;
	uint64_t swept_gen;     /* the gen whose lost tasks fw_tasks_tick has reported */
};

struct frameworks {
	struct master *m;
	struct hmap fws;            /* id -> struct fw_framework* */
	struct hmap offers;         /* offer id -> struct fw_offer* */
	struct hmap dirty;          /* task id -> (void *)1: to store at the next fw_flush */
	json_t *launches;           /* [{agent, task, record}]: LAUNCHes for after that commit */
	struct event *flush_ev;     /* runs fw_flush at the end of this loop iteration */
	struct hmap tasks;          /* task id -> struct fw_task* */
	struct hmap views;          /* agent id -> struct fw_agent_view* */
	struct hmap executors;      /* custom executors (fw-executors.c) */
	struct hmap executor_ids;   /* "<agent>\x1f<framework>" -> [ExecutorID] (fw-executors.c) */
	/* fw-tasks.c's indexes of tasks, so that its tick need not walk them all: every task
	 * by agent, and the tasks that need the tick (kill_pending, or a status not acked).
	 * Released with the last task. */
	struct hmap agent_tasks;    /* agent id -> struct fw_task_list* */
	struct fw_task_list watched;
	struct hmap removed;        /* framework id -> (void *)1 */
	char prefix[40];            /* master id (uuid) for framework ids */
	char offer_prefix[40];      /* this run's uuid, for offer ids */
	unsigned fw_seq;
	uint64_t offer_seq;
	uint64_t last_offer_usec;
	/* The last offer pass: offers made, time deciding them and rendering and sending them. */
	size_t pass_offers;
	uint64_t pass_decide_usec, pass_send_usec;
	struct m_agent **changed;   /* the offer pass's scratch list of agents */
	size_t offer_cursor;        /* where the next framework's walk starts in the agents */
	size_t changed_cap;
	struct hook_jobs *hooks;    /* the hooks running (fw-hooks.c), or NULL */
};

/* frameworks.c */
/* Sends one event (taken) on fw's stream; -ENOTCONN when not subscribed. */
int fw_send(struct fw_framework *fw, json_t *event);
/* Sends one event already encoded as JSON text (len > 0 bytes, borrowed). */
int fw_send_text(struct fw_framework *fw, const char *json, size_t len);
/* Sends one event already framed as a RecordIO record ("<length>\n<json>"). */
int fw_send_record(struct fw_framework *fw, const char *rec, size_t len);
static inline bool fw_subscribed(const struct fw_framework *fw)
{
	return fw->stream || fw->sim;
}
/* Subscribes an in-process framework (a new id, FrameworkInfo info borrowed, validated by
 * the caller) whose events go to sim. NULL when there are too many frameworks or it
 * cannot be stored. Its calls are the fw_call_* functions. */
struct fw_framework *fw_sim_subscribe(struct frameworks *fws, const json_t *info,
				      int (*sim)(struct fw_framework *, const char *, size_t,
						 void *),
				      void *ctx);
/* Persists fw (frameworks/<id>). */
int fw_store(struct fw_framework *fw);
/* Kills fw's tasks, rescinds its offers, forgets it (memory and store). */
void fw_remove(struct fw_framework *fw, const char *why);
bool fw_has_role(const struct fw_framework *fw, const char *role);

/* fw-pass.c: the offer pass */
void fw_offers_tick(struct frameworks *fws);
/* Something about fw changed (subscribed, revived, roles): the next tick makes an offer
 * pass, and fw walks every agent again. */
void fw_wake(struct fw_framework *fw);
/* fw_wake for every framework (quotas or weights changed). */
void fw_offers_wake_all(struct frameworks *fws);
/* The first role of fw that is not suppressed, or NULL (none: it is offered nothing). */
const char *fw_active_role(const struct fw_framework *fw);
/* Makes fw an offer of what it may be offered on a and does not hold in an offer there yet
 * (capped by its role's quota headroom when snap is non-NULL); the offer claims its
 * resources at key. Returns the offer (recorded, for the caller to send in a batch), or
 * NULL when there is nothing to offer. */
struct fw_offer *fw_offer_agent(struct frameworks *fws, struct fw_framework *fw,
				struct m_agent *a, const struct quota_snapshot *snap,
				const struct quota_drf_client *key, uint64_t now);
/* Offers made to one framework, to be sent together. */
struct fw_offer_batch {
	struct fw_framework *fw;
	struct fw_offer **v;
	struct m_agent **agents; /* v[i]'s agent */
	size_t n, cap;
};
void fw_offer_batch_add(struct fw_offer_batch *b, struct fw_offer *o, struct m_agent *a);
/* Sends b's offers to b->fw in OFFERS events of at most FW_OFFERS_PER_EVENT, each written
 * straight to text into sb (a buffer kept by the caller across batches), and empties b. */
void fw_offer_batch_send(struct fw_offer_batch *b, struct strbuf *sb);
/* An offer as the Offer JSON of the scheduler API (new reference). */
json_t *fw_offer_json(const struct fw_offer *o, const struct m_agent *a);
/* The same JSON written as text to sb, without a tree; false (nothing written) when a's
 * resources are not plain (resv_agent_plain) and fw_offer_json must be used. */
bool fw_offer_text(struct strbuf *sb, const struct fw_offer *o, struct m_agent *a);

/* fw-offers.c: outstanding offers, filters, DECLINE, ACCEPT */
/* Adds to held the resources that unexpired claims on a hold against a client at key
 * (claims of offers whose key comes before it). Returns whether there were any. */
bool fw_claims_before(const struct m_agent *a, const struct quota_drf_client *key, uint64_t now,
		      struct resources *held);
/* Adds a new offer (already in fws->offers) to its agent's offers (a->offers). */
void fw_offer_index(struct fw_offer *o, struct m_agent *a);
/* Removes an offer; rescind sends RESCIND to its framework first. */
void fw_offer_remove(struct frameworks *fws, struct fw_offer *o, bool rescind);
void fw_offers_remove_framework(struct frameworks *fws, struct fw_framework *fw, bool rescind);
void fw_offers_remove_agent(struct frameworks *fws, const char *agent_id);
void fw_offer_free(struct fw_offer *o);
/* ACCEPT / DECLINE bodies (validated by the caller: framework subscribed). 0, or -EINVAL
 * with a message for a 400. */
int fw_call_accept(struct fw_framework *fw, const json_t *accept, char *err, size_t errlen);
int fw_call_decline(struct fw_framework *fw, const json_t *decline, char *err, size_t errlen);
/* fw-inverse.c: ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS (body: {inverse_offer_ids,
 * filters}); unknown ids are ignored, as Mesos does. 0, or -EINVAL (err set). */
int fw_call_inverse(struct fw_framework *fw, bool accept, const json_t *body, char *err,
		    size_t errlen);
/* REVIVE (suppress false) and SUPPRESS bodies (frameworks.c): the roles given, all when
 * none. 0, or -EINVAL with a message. */
int fw_call_revive_suppress(struct fw_framework *fw, const json_t *body, bool suppress,
			    char *err, size_t errlen);
/* Decline filters: fw is not offered agent_id for secs (<= 0: no filter; a second filter
 * for the same agent replaces the first; at most FW_MAX_FILTERS). */
void fw_filter_add(struct fw_framework *fw, const char *agent_id, double secs);
bool fw_filtered(const struct fw_framework *fw, const char *agent_id, uint64_t now_usec);
/* Drops the filters expired at now_usec; clears all of them (REVIVE). */
void fw_filters_prune(struct fw_framework *fw, uint64_t now_usec);
void fw_filters_clear(struct fw_framework *fw);
/* refuse_seconds of a Filters object (borrowed, may be NULL): default 5, a negative or
 * non-finite value means the default, capped at FW_MAX_REFUSE_SEC. */
double fw_refuse_seconds(const json_t *filters);

/* fw-tasks.c */
/* A new task (in fws->tasks and its agent's list), STAGING, acked, nothing held. */
struct fw_task *fw_task_new(struct frameworks *fws, struct fw_framework *fw, const char *id,
			    const char *agent_id);
/* Frees t and takes it off the indexes (not off fws->tasks: the caller does). NULL is
 * fine. */
void fw_task_free(struct fw_task *t);
/* Takes t's resources on a in the ledger (its role: quota_fw_task_role) and counts it for
 * its framework (used, ntasks). 0, or -ENOSPC when a's free does not hold them (nothing
 * held). */
int fw_task_hold(struct frameworks *fws, struct fw_task *t, struct m_agent *a);
/* Gives a held task's resources back to its agent (once). */
void fw_task_release(struct frameworks *fws, struct fw_task *t);
/* Forgets a task (memory and store). */
void fw_task_forget(struct frameworks *fws, struct fw_task *t);
/* Writes t's record (fwtasks/<id>) now; an orphan is not stored (0). -EINVAL for a
 * grace_sec that is not finite, or the store's -errno. */
int fw_task_store(struct frameworks *fws, const struct fw_task *t);
/* t as /master/state and the operator API show it (fields borrowed from t). */
void fw_task_view(const struct fw_task *t, struct rm_task_view *v);
/* A master-made TaskStatus (no uuid) for task_id, new reference. */
json_t *fw_status_master(const char *task_id, const char *agent_id, const char *state,
			 const char *reason, const char *message);
/* Sends an UPDATE with status (borrowed). */
void fw_send_update(struct fw_framework *fw, const json_t *status);
/* Sends an UPDATE with a status kept as JSON text (borrowed). */
void fw_send_update_text(struct fw_framework *fw, const char *status);
/* Keeps status (borrowed, may be NULL) as t's last status. */
void fw_task_set_status(struct fw_task *t, const json_t *status);
/* Sends a KILL for t now, or later when its agent is back. */
void fw_task_kill(struct frameworks *fws, struct fw_task *t, double grace_sec);
int fw_call_kill(struct fw_framework *fw, const json_t *kill, char *err, size_t errlen);
int fw_call_acknowledge(struct fw_framework *fw, const json_t *ack, char *err, size_t errlen);
int fw_call_reconcile(struct fw_framework *fw, const json_t *rec, char *err, size_t errlen);

/* One call of a subscribed framework (any type but SUBSCRIBE; call is the whole Call
 * object, borrowed), as POST /api/v1/scheduler handles it once the stream id is checked:
 * the HTTP status to answer (200, 202; 400 with the reason in err; 503 with the message in
 * err). fw is freed by TEARDOWN. */
int fw_call(struct fw_framework *fw, const char *type, const json_t *call, char *err,
	    size_t errlen);

/* fw-ops.c: operation statuses and RECONCILE_OPERATIONS */
/* Sends UPDATE_OPERATION_STATUS for op (an Offer.Operation) when it asked for feedback (has
 * an id), and keeps it for reconciliation. */
void fw_op_status(struct fw_framework *fw, const json_t *op, const char *agent_id,
		  const char *state, const char *message);
/* RECONCILE_OPERATIONS (body: {"operations": [...]}, borrowed): 0 with the statuses sent,
 * or -EINVAL with a message for a 400 (nothing sent). */
int fw_call_reconcile_operations(struct fw_framework *fw, const json_t *body, char *err,
				 size_t errlen);
void fw_ops_free(struct fw_framework *fw);
/* Sends again the unacknowledged statuses of fw (all, or those older than FW_RESEND_SEC). */
void fw_tasks_resend(struct frameworks *fws, struct fw_framework *fw, bool all);
/* Stores the dirty tasks (launched or acknowledged since the last call) in one commit,
 * then sends the queued LAUNCHes of tasks still wanted (fw-tasks.c). */
void fw_flush(struct frameworks *fws);
/* Marks t to be stored by the next fw_flush (at the end of this event-loop iteration);
 * launch_record (taken, may be NULL) is sent to t's agent after it. */
void fw_task_queue(struct frameworks *fws, struct fw_task *t, json_t *launch_record);
/* Pending kills, lost tasks after re-registrations. */
void fw_tasks_tick(struct frameworks *fws);
struct fw_agent_view *fw_agent_view(struct frameworks *fws, const struct m_agent *a);
int fw_tasks_load(struct frameworks *fws);

/* fw-executors.c: custom executors (their resources, /master/state, GET_EXECUTORS) */
/* For a TaskInfo with an executor to launch on a: 1 with the executor's resources in exres
 * when the executor is new there; 0 when it has none or runs there already (same
 * ExecutorInfo); -EINVAL with a message. */
int fw_executor_check(struct fw_framework *fw, const struct m_agent *a, const json_t *ti,
		      struct resources *exres, char *err, size_t errlen);
/* Records ti's executor on a and takes exres there in the ledger under role (checked by
 * the caller: 0, or -ENOSPC and nothing changed). */
int fw_executor_add(struct fw_framework *fw, struct m_agent *a, const json_t *ti,
		    const struct resources *exres, const char *role);
/* Forgets an executor and gives its resources back (none known: nothing). */
void fw_executor_drop(struct frameworks *fws, const char *agent_id, const char *fw_id,
		      const char *eid, const char *why);
void fw_executors_drop_all(struct frameworks *fws, const char *agent_id, const char *fw_id,
			   const char *why);
void fw_executors_release(struct frameworks *fws);
/* The ids of fw_id's executors on agent_id as [ExecutorID] (borrowed), or NULL: none. */
const json_t *fw_executor_ids(struct frameworks *fws, const char *agent_id, const char *fw_id);
/* Appends to each framework of /master/state's "frameworks" (borrowed) its executors. */
void fw_executors_fill_state(struct master *m, json_t *frameworks);
/* The same for one framework object of /master/state. */
void fw_executors_fill_framework(struct master *m, json_t *f);
/* The operator API's GetExecutors (new reference). */
json_t *fw_executors_v1(struct master *m);

/* fw-wire.c: the scheduler API's encodings, JSON and protobuf. */
enum { FW_WIRE_JSON = 0, FW_WIRE_PROTOBUF = 1 };
/* The media type of a header value, without parameters, compared case-insensitively. */
bool fw_media_is(const char *value, const char *type);
/* The encoding an Accept header allows (JSON when it allows both, or is NULL), or -1. */
int fw_wire_accept(const char *accept);
/* A call's body by its Content-Type, as JSON: 0 with *call, or an HTTP status and msg. */
int fw_wire_read_call(struct evhttp_request *req, json_t **call, char *msg, size_t msglen);
/* The RecordIO record of event ev in encoding wire (malloc'd), or NULL. */
char *fw_wire_record(int wire, const json_t *ev, size_t *len);

/* ==== fw-volumes.c: v1 frameworks' persistent volumes on the agent ==== */
/* The agent's directory name of volume id of role ("mesos#<role>#<id>"), or NULL. */
char *fw_volume_dir(const char *role, const char *id);
/* The TaskSpec "volumes" (agent-protocol.md §8) of a TaskInfo's resources: *out NULL when it
 * has none; -EINVAL with err when one cannot be mounted. */
int fw_task_volumes(const json_t *task_res, json_t **out, char *err, size_t errlen);
/* DESTROY of volumes (Resource JSON array) on a: the agent removes their directories. */
void fw_volume_destroyed(struct master *m, struct m_agent *a, const json_t *volumes);

/* ==== fw-hooks.c: --hook-task-launch, --hook-task-end (docs/hooks.md) ==== */
/* The hook flags name executables: 0, or -EINVAL (logged). */
int fw_hooks_check(const struct master_config *cfg);
void fw_hooks_free(struct frameworks *fws);
/* With a launch hook: stores t, runs the hook, then queues its LAUNCH record (spec,
 * decorated) or refuses t; true. Without: false (the caller queues the LAUNCH). */
bool fw_hook_launch(struct frameworks *fws, struct fw_task *t, const json_t *ti, json_t *spec);
/* t's terminal status (TaskStatus JSON) to the end hook, fire and forget. */
void fw_hook_task_end(struct frameworks *fws, const struct fw_task *t, const json_t *status);
