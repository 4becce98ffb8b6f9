/* Marathon pods in the apps framework (issue 19; docs/api.md "Pods"). Internal to src/apps.
 *
 * A pod (model/pod.h: its normalised definition) wants scaling.instances instances. An
 * instance is one task group on the default executor (agent-xexec.c, dexec.h): one task per
 * container, all launched together on one agent with one executor ("instance-<instance
 * id>"), and killed together. Ids as Marathon's: instance "<safe pod id>.instance-<uuid>",
 * task "<instance id>.<container name>".
 *
 * Invariants:
 * - An instance is PENDING (nothing launched, holds nothing) or LIVE (its tasks launched on
 *   agent_id; it holds res there in the ledger while held is true). A LIVE instance ends
 *   when every one of its tasks has reached a terminal state: it gives res back, leaves
 *   the task index and the store, and goes into the pod's terminationHistory. Nothing
 *   else removes a LIVE instance.
 * - pods.tasks indexes exactly the tasks of the LIVE instances.
 * - An instance with stop set is ended and not replaced (scale-down, an old version after
 *   an update, the pod's deletion). One killed through the API without stop is replaced:
 *   the pass keeps scaling.instances instances of the current version.
 * - Store: pods/<id> {pod, versions} is written before the API answers; pod-instances/<id>
 *   {pod, version, agent, tasks} when an instance is launched, deleted when it ends. A
 *   restarted master loads both; an instance's resources are taken again when its agent
 *   re-registers reporting its tasks (those it does not report are lost). */
#pragma once
#include "apps/apps-int.h"

#define POD_MAX_VERSIONS 50
#define PODS_MAX 10000 /* pods on one master (a berth bound: 422 beyond) */
#define POD_MAX_HISTORY 10
#define POD_INST_ID_MAX (APP_MAX_ID_LEN + 64)

enum pod_phase { POD_PENDING, POD_LIVE };

struct pod_ctr {
	char *name;           /* the container's name */
	char *task_id;        /* "<instance id>.<name>" */
	const char *state;    /* TASK_* (apps_state_intern); NULL before the launch */
	uint64_t since_usec;  /* realtime: when state began */
	char *message;
	int exit_code;        /* -1: none */
	int healthy;          /* its healthCheck's last result (the default executor's "healthy"):
			       * 1, 0, or -1 unreported */
	uint64_t health_usec; /* realtime: when healthy last changed */
	uint32_t *ports;      /* its endpoints' host ports, in order */
	size_t nports;
};

struct pod_inst {
	struct m_pod *pod;
	char id[POD_INST_ID_MAX];
	char version[32];
	enum pod_phase phase;
	bool stop, kill_sent, held, failed;
	char *agent_id;
	struct resources res; /* its tasks' and its executor's, taken under role "*" */
	uint64_t created_usec, changed_usec; /* realtime */
	struct pod_ctr *ctr;
	size_t nctr;
};

struct pod_dep {
	char id[37];
	char version[32];
	const char *action; /* "StartPod", "ScalePod", "RestartPod", "StopPod" */
	uint64_t created_usec;
};

struct m_pod {
	char *id;
	json_t *def;       /* normalised, with "version" */
	char config_version[32]; /* the version of its last change beyond scaling: what its
				  * instances must run (an instance's version) */
	json_t *versions;  /* version -> definition, the oldest dropped past POD_MAX_VERSIONS */
	struct pod_inst **inst;
	size_t ninst, cap;
	struct pod_dep *deploy; /* in flight, or NULL */
	json_t *history;   /* terminationHistory, newest first */
	bool deleting;
	unsigned failures;
	uint64_t delay_until_usec; /* monotonic: no launch before (backoff) */
	bool settled;              /* the last pass found nothing to do (no deployment, as many
				    * instances as wanted, all launched, none stopping, none
				    * old): passes skip it until something of it changes */
	const char *status;        /* last PodState rendered, and since when */
	uint64_t status_since_usec;
};

struct pods {
	struct hmap pods;  /* id -> struct m_pod* */
	struct hmap tasks; /* task id -> struct pod_inst* (LIVE instances' tasks) */
};

/* pods.c: state and store */
struct pods *pods_new(void);
void pods_free(struct apps *m);
int pods_load(struct apps *m);
struct m_pod *pods_get(struct apps *m, const char *id);
/* A new PENDING instance of mp at its current version (a fresh uuid). */
struct pod_inst *pods_add_instance(struct apps *m, struct m_pod *mp);
/* Ends a LIVE instance (all its tasks terminal) or drops a PENDING one: resources back,
 * indexes, store, history (LIVE only). Frees it. */
void pods_end_instance(struct apps *m, struct pod_inst *pi);
int pods_store_pod(struct apps *m, const struct m_pod *mp);
int pods_store_instance(struct apps *m, const struct pod_inst *pi);
void pods_free_pod(struct apps *m, struct m_pod *mp);
/* The version string of mp's definition. */
const char *pods_version(const struct m_pod *mp);

/* Whether container i of pi has a healthCheck (in pi's version). */
bool pods_ctr_checked(const struct pod_inst *pi, size_t i);
/* Whether pi's container i is running and, when it has a healthCheck, reported healthy. */
bool pods_ctr_ok(const struct pod_inst *pi, size_t i);

/* pods-sched.c: launching, kills, status updates, the pass */
void pods_pass(struct apps *m);
bool pods_status_update(struct apps *m, struct m_agent *a, const json_t *update);
const char *pods_task_agent(struct apps *m, const char *task_id);
void pods_agent_registered(struct apps *m, struct m_agent *a, const struct hmap *reported);
void pods_agent_lost(struct apps *m, struct m_agent *a);
void pods_each_task(struct apps *m, bool detail, rm_task_fn fn, void *fnctx);
/* KILL to each live task of pi (once). */
void pods_kill_instance(struct apps *m, struct pod_inst *pi);
/* Starts a deployment of mp (replacing any), stored in the open transaction if any. */
struct pod_dep *pods_deployment_new(struct apps *m, struct m_pod *mp, const char *action);

/* pods-render.c: Marathon's JSON */
json_t *pods_render_status(struct apps *m, struct m_pod *mp);
json_t *pods_render_instance(struct apps *m, const struct pod_inst *pi);
json_t *pods_render_deployment(const struct m_pod *mp);
/* The definitions of the pods whose group is gid ("/a" for "/a/p"), by id: a group's
 * "pods" in /v2/groups. */
json_t *pods_in_group(struct apps *m, const char *gid);
/* /v2/queue's items of the pods with instances waiting for a place (Marathon's pod queue
 * item: count, delay, since, processedOffersSummary, pod), those req may see (req NULL:
 * all). */
json_t *pods_queue(struct apps *m, bool last_unused, struct evhttp_request *req);
/* Appends mp's deployments to the /v2/deployments list body arr. */
void pods_deployments(struct apps *m, json_t *arr);

/* pods-api.c: DELETE /v2/deployments/{id} when id is a pod's deployment (answered; true),
 * else false (nothing sent). ?force=true stops tracking it (202); without, it is rolled
 * back: a StartPod by deleting the pod, a ScalePod or RestartPod by the pod's previous
 * version (200 {"version","deploymentId"}). */
bool pods_deployment_delete(struct apps *m, struct evhttp_request *req, const char *id);
