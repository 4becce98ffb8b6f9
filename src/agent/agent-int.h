/* Internals shared by the agent's files. Not for other modules.
 *
 * Invariants:
 * - Every task in the table has a meta dir <work>/meta/<id>/ and a sandbox
 *   <work>/sandboxes/<id>/. It leaves the table (and its meta dir is removed) only once its
 *   terminal update is acknowledged and none of its updates is still queued.
 * - Updates sit in one FIFO in the order they were made; the first up to AGENT_BATCH_MAX of
 *   them are sent in one POST, at most one POST in flight; an update leaves the FIFO only
 *   when the master acknowledges its uuid. So per task, order is kept and nothing is lost
 *   while the agent runs.
 * - A shim is watched through a pidfd (also an adopted one after an agent restart); its end
 *   is read from its status file, which it writes before exiting.
 * - Health: shims write <work>/health/<task_id> (exec-health.h); one inotify watch on that
 *   directory tells the agent of each write. A task's health update that is queued but not
 *   yet sent is t->health_pending: a newer result replaces its content in place (so a
 *   flapping check costs one update per POST round trip, not one per result); once sent it
 *   is never touched again (the master dedupes by uuid). */
#pragma once
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/agent.h"
#include "net/creds.h"
#include "executor/exec-spec.h"
#include "net/recordio.h"

#define AGENT_BATCH_MAX 256
#define AGENT_MAX_QUEUED_UPDATES 200000
#define AGENT_MAX_RECORD (4u << 20)
#define AGENT_READ_MAX (1u << 20)
#define AGENT_DEFAULT_GRACE_MS 3000

struct agent_task {
	char *id;
	char *meta_dir;
	char *sandbox;
	const char *state;      /* last state reported, a static string "TASK_…" */
	bool terminal;          /* a terminal update was made */
	bool kill_requested;
	bool terminal_acked;
	bool child;             /* spawned by this agent process: reap with waitid */
	pid_t shim_pid;
	int pidfd;
	struct event *pid_ev;
	int notify_fd;
	struct event *notify_ev;
	uint32_t grace_ms;
	uint32_t kill_grace_ms;
	bool in_backlog;        /* waiting to be sent to the fork server */
	uint64_t health_hseq;   /* last health result forwarded (exec_health.hseq) */
	bool ready_sent;
	struct agent_update *health_pending; /* queued, not yet sent; see above */
	unsigned queued;        /* updates of this task still in the FIFO */
	struct agent *agent;
	struct agent_task *hnext;
	/* volumes (agent-volume.c) */
	struct agent_vols *vols;  /* NULL: the task has none */
	json_t *pending_spec;     /* held while external volumes are being mounted */
	bool preparing;           /* external volumes being mounted; no shim yet */
	bool releasing;           /* external volumes being unmounted; terminal update waits */
	bool fenced;              /* killed by the fence (agent-volume.c) */
	struct agent_xexec *xexec; /* run by a custom executor (agent-xexec.c), or NULL */
	char *framework_id;       /* the owning framework (agent-taskmeta.c), or NULL */
	json_t *framework_info;   /* its FrameworkInfo from the LAUNCH, or NULL */
	/* hooks (agent-hook.c) */
	bool hooking;             /* its launch hook runs; no shim yet */
	json_t *hook_labels;      /* Labels its launch hook added (on its updates), or NULL */
};

struct agent_update {
	struct agent_update *next;
	char uuid[37];
	json_t *json;
	struct agent_task *task; /* NULL for a task the agent does not know */
	bool terminal;
	bool sent;               /* in a POST at least once: content frozen */
};

#define AGENT_TOKEN_LEN 64 /* hex digits of a master or executor token */

struct agent {
	struct event_base *base;
	struct agent_hooks *hooks; /* --hook-task-*: agent-hook.c; NULL when none */
	char *master_host;
	char *authorization;     /* "Basic …" for the master (--credential), or NULL */
	/* agent-auth.c: the HTTP server's authentication (--credentials) */
	bool http_auth;
	struct auth_creds http_creds;
	char master_token[AGENT_TOKEN_LEN + 1]; /* sent on each SUBSCRIBE; "" before */
	struct http_tls *tls_server; /* --tls-cert: the HTTP server's, or NULL */
	struct http_tls *tls_client; /* an https:// master: the link's, or NULL */
	uint16_t master_port;
	/* --master may list several masters (HA): the link follows a standby's 307 to the
	 * leader and, when the current one cannot be reached, tries the next. */
	char **masters;      /* "host:port" each */
	size_t nmasters, master_cur;
	char *http_addr;
	uint16_t http_port;
	char *work_dir, *meta_root, *sandbox_root, *health_root;
	int inotify_fd;
	struct event *inotify_ev;
	char *resources, *attributes, *hostname, *executor_path;
	char *endpoint; /* host:port the master can reach us on */
	char *agent_id;
	struct http_server *http;

	struct agent_task **buckets;
	size_t nbuckets, ntasks;

	struct agent_update *uq_head, *uq_tail;
	size_t uq_len;
	size_t inflight;         /* how many at the head of the FIFO are in the POST in flight */
	struct event *flush_ev;  /* deferred / retry of the update POST */
	bool flush_retry_wait;

	/* the fork server (berth-executor --server), see executor.c */
	int spawner_fd;
	pid_t spawner_pid;
	struct event *spawner_ev;
	struct agent_task **backlog; /* tasks whose spawn request did not fit the socket */
	size_t nbacklog, backlog_alloc;

	/* master link */
	struct evhttp_connection *stream_conn, *post_conn, *hb_conn;
	struct evhttp_request *stream_req;
	struct recordio_decoder dec;
	bool stream_ok;          /* got a 200 for the current subscribe */
	bool registered;
	bool gone;               /* the master marked us gone: tasks killed, stopping */
	struct agent_zk *zk;     /* --master zk://…: the leader detector (agent-zk.c), or NULL */
	bool hb_inflight;
	double hb_interval;
	uint64_t last_heard_usec;
	uint64_t backoff_usec;
	struct event *reconnect_ev, *hb_ev, *watchdog_ev;

	/* volumes and fencing (agent-volume.c) */
	char *volume_root;        /* <work>/volumes */
	char *volume_plugin_dir;  /* --volume-plugin-dir, searched first; may be NULL */
	char *secrets_dir;        /* --secrets-dir (absolute, checked), or NULL (agent-secret.c) */
	uint32_t plugin_timeout_ms;
	double lease_sec;         /* volume_lease_seconds from REGISTERED; 0 = no fencing */
	uint64_t fence_heard_usec; /* last word from the master (not reset by reconnects) */
	struct event *fence_ev;
	char *lease_path;         /* <work>/lease, published for the shims (exec-lease.h) */
	uint64_t lease_published; /* deadline last written there (0: none known) */
	uint64_t lease_written_usec; /* when */
	bool lease_write_failed;  /* logged once until a write succeeds */
	char **activated;         /* drivers that answered Plugin.Activate */
	size_t nactivated;
	struct agent_vrm *removals; /* REMOVE_VOLUME calls in flight (at most AGENT_MAX_REMOVALS) */
	size_t nremovals;
	/* Isolation (agent-isolation.c) */
	char *cg_root, *cg_parent; /* always set after init */
	char *cg_name_buf;         /* the name in the spec being written */
	int cg_version;            /* EXEC_CG_V1/V2; 0 = no cgroups */
	uint64_t cg_pids_max;
	bool cg_cfs, ns_isolation, switch_user;
	char *default_user;        /* --default-user, or NULL */
	char *fetch_cache;          /* the fetcher cache's directory (absolute), or NULL: none */
	uint64_t fetch_cache_max;
	char *img_store, *img_dir, *img_registry; /* agent-image.c; img_store always set */
	char *img_auth;                           /* --docker-config, or NULL */
	char **img_params;         /* the docker.parameters of the spec being written */
	size_t nimg_params;
	struct agent_xexec *xexecs; /* custom executors (agent-xexec.c) */
};

/* agent-xapi-http.c: POST /api/v1/executor */
void agent_xapi_handle(struct agent *a, struct evhttp_request *req);
/* agent-xexec.c: custom executors (see there) */
struct agent_xexec;
/* The executor whose MESOS_EXECUTOR_AUTHENTICATION_TOKEN is token (NULL: none), or NULL. */
struct agent_xexec *agent_xexec_by_token(struct agent *a, const char *token);
struct agent_xexec *agent_xexec_find(struct agent *a, const char *framework_id,
				     const char *executor_id);
/* t's TaskSpec has "executor": start it if new, hand it t. 0, or -errno (t reported failed). */
int agent_xexec_launch(struct agent *a, struct agent_task *t, json_t *spec);
/* SUBSCRIBE: req becomes x's event stream (SUBSCRIBED, then the pending LAUNCHes). */
struct xapi_call;
/* SUBSCRIBE (c: the parsed call, its unacknowledged updates and tasks reconciled after an
 * agent restart). */
void agent_xexec_subscribe(struct agent *a, struct agent_xexec *x, struct evhttp_request *req,
			   const struct xapi_call *c);
/* At startup: reattaches the checkpointed executors still running (see agent-xexec.c). */
void agent_xexecs_recover(struct agent *a);
/* KILL of a task of a custom executor: a KILL event. False when t has none. */
bool agent_xexec_kill(struct agent *a, struct agent_task *t, double grace_seconds);
void agent_xexec_acknowledged(struct agent_xexec *x, const char *task_id, const char *uuid);
void agent_xexecs_free(struct agent *a);
/* Appends each running custom executor to arr as the v1 GetExecutors.Executor. */
void agent_xexecs_v1(struct agent *a, json_t *arr);
/* A scheduler's SHUTDOWN: the SHUTDOWN event, then SIGKILL to the executor's process group
 * after its grace period (MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD) if it is still there. */
void agent_xexec_shutdown(struct agent *a, const char *framework_id, const char *executor_id);
/* A scheduler's MESSAGE (data: base64) as a MESSAGE event; dropped (logged) when the
 * executor is not running or not subscribed. */
void agent_xexec_message(struct agent *a, const char *framework_id, const char *executor_id,
			 const char *data);
/* The default executor's status of task_id (borrowed): notes its nested container's id. */
void agent_xexec_status_seen(struct agent_xexec *x, const char *task_id, json_t *status);
/* Appends the executors' containers to arr as GET_CONTAINERS's entries, and with show_nested
 * the default executors' tasks' nested containers (container_id with its parent). */
void agent_xexecs_containers(struct agent *a, json_t *arr, bool show_nested);
/* agent-xexec.c: a status update of t (state: a static "TASK_…" string). */
struct agent_update *agent_task_report(struct agent_task *t, const char *state,
				       const char *message, const char *reason);

/* agent-task.c */
struct agent_task *agent_task_find(struct agent *a, const char *id);
void agent_task_remove(struct agent *a, struct agent_task *t); /* frees t */
void agent_tasks_free(struct agent *a);
void agent_spawner_stop(struct agent *a);
int agent_task_launch(struct agent *a, json_t *spec);
/* KILL: TASK_KILLING and the shim's kill sequence. pre_stop (borrowed, may be NULL) is the
 * record's {"command", "timeout_seconds"}: handed to the shim in <meta>/prestop, which runs
 * it before the SIGTERM (agent-protocol.md §9); an unusable one is logged and ignored. */
void agent_task_kill(struct agent *a, const char *task_id, double grace_seconds,
		     json_t *pre_stop);
/* The record's pre_stop → command (borrowed from it) and timeout. 0, or -EINVAL for a
 * missing/empty command, one with a NUL or over EXEC_PRESTOP_MAX_COMMAND bytes. A timeout
 * that is absent or not in (0, 86400] s becomes EXEC_PRESTOP_DEFAULT_TIMEOUT_MS. */
int agent_prestop_parse(json_t *pre_stop, const char **command, uint32_t *timeout_ms);
int agent_tasks_recover(struct agent *a);
json_t *agent_tasks_json(struct agent *a, bool with_sandbox);

/* agent-taskmeta.c: the task's framework id and FrameworkInfo (from the LAUNCH spec's
 * "framework_id" and "framework_info"), kept in <meta>/<task>/framework_id and
 * framework_info. */
void agent_task_framework_set(struct agent_task *t, const json_t *spec);
int agent_task_framework_save(const struct agent_task *t); /* 0 or -errno (logged) */
void agent_task_framework_load(struct agent_task *t);

/* agent-api.c: POST /api/v1, the agent's v1 operator calls */
void agent_api_v1(struct agent *a, struct evhttp_request *req);
/* agent-http.c: a file owner's user / group name (the number when it has none) */
/* The entries of the sandbox directory path (checked by sandbox_path_open), at most
 * AGENT_LIST_MAX_ENTRIES, each made by entry from its displayed path and lstat. 0 and *out
 * (an array), -EIO when the directory cannot be read, or sandbox_path_open's -errno. Both the
 * files API's browse and the v1 LIST_FILES use it. */
#define AGENT_LIST_MAX_ENTRIES 10000
struct stat;
typedef json_t *(*agent_list_entry_fn)(const char *path, const struct stat *st);
int agent_sandbox_list(struct agent *a, const char *path, agent_list_entry_fn entry,
		       json_t **out);
json_t *agent_user_name(uid_t uid);
json_t *agent_group_name(gid_t gid);

/* agent-link.c */
int agent_link_start(struct agent *a, const char *master_url);
void agent_link_stop(struct agent *a);
/* Queues an update (made here: uuid, timestamp, source). exit_code < 0 and sig == 0 are
 * left out, as are a NULL message and reason. Returns it (owned by the FIFO), or NULL when
 * the FIFO is full and it was dropped. */
struct agent_update *agent_update_queue(struct agent *a, struct agent_task *t, const char *task_id,
			const char *state, const char *message, const char *reason,
			int exit_code, int sig);
void agent_updates_free(struct agent *a);
/* An executor's MESSAGE (data) or its exit (data NULL, status: the wait status) to its
 * scheduler (POST /api/berth/agent/message), best effort: dropped when the link is down or
 * the master does not take it. */
void agent_link_message(struct agent *a, const char *framework_id, const char *executor_id,
			const char *data, int status);

/* agent-health.c */
/* Watches <work>/health. 0 or -errno (then health results are only read on recovery). */
int agent_health_start(struct agent *a);
void agent_health_stop(struct agent *a);
/* Reads t's health file and forwards what is new. */
void agent_health_read(struct agent *a, struct agent_task *t);
/* Removes t's health file. */
void agent_health_forget(struct agent *a, struct agent_task *t);
/* TaskSpec "health_checks"/"readiness_checks" → out (up to max). Returns the count, or
 * -EINVAL with msg filled for a check the shim cannot run. */
int agent_health_checks_parse(json_t *spec, struct exec_check *out, size_t max, char *msg,
			      size_t msglen);

/* agent-volume.c */
struct agent_vols;
/* A persistence id usable as a directory name: 1..200 bytes, no '/', not "." or "..", no
 * ".." anywhere, no control characters. */
bool agent_volume_id_valid(const char *id);
/* Fencing decision: true when a lease is set and nothing was heard for lease_sec. */
bool agent_fence_due(uint64_t now_usec, uint64_t last_heard_usec, double lease_sec);
/* TaskSpec "volumes" → t->vols; persistent directories are created here. 0 or -EINVAL /
 * -errno with msg. No volumes: 0 and t->vols stays NULL. */
int agent_volumes_parse(struct agent *a, struct agent_task *t, json_t *spec, char *msg,
			size_t msglen);
bool agent_volumes_external(const struct agent_task *t);
/* Mounts t's external volumes through their drivers, one at a time; then done(t, 0, NULL),
 * or, after unmounting what was mounted, done(t, -errno, "Volume 'name': <Err>"). */
void agent_volumes_prepare(struct agent *a, struct agent_task *t,
			   void (*done)(struct agent_task *t, int r, const char *msg));
/* Unmounts t's mounted external volumes (errors logged); false when there is nothing to do,
 * else done(t) follows from the loop. */
bool agent_volumes_release(struct agent *a, struct agent_task *t,
			   void (*done)(struct agent_task *t));
/* The exec_volume list for the spec (borrowing t's strings); returns the count. */
size_t agent_volumes_exec(const struct agent_task *t, struct exec_volume *out, size_t max);
/* Appends the spec's "host_volumes" ({host_path, container_path, mode}: Marathon's hostPath
 * volumes) to out (*n entries so far, at most max), borrowing spec's strings. A missing host
 * path is made as a directory (as Mesos does). 0, or -EINVAL/-errno with msg ("Volume
 * '<container path>': ..."). */
int agent_host_volumes(json_t *spec, struct exec_volume *out, size_t *n, size_t max,
		       char *msg, size_t msglen);
/* Name of volume i for messages ("name" or the container path). */
const char *agent_volume_label(const struct agent_task *t, size_t i);
/* <meta>/volumes: written when the shim is about to start, read on recovery. */
void agent_volumes_save(struct agent_task *t);
void agent_volumes_load(struct agent *a, struct agent_task *t);
void agent_volumes_free(struct agent_task *t);
/* DESTROY_VOLUME: removes <work>/volumes/<id> unless a live task uses it. 0, -EINVAL,
 * -EBUSY, -errno. */
int agent_volume_destroy(struct agent *a, const char *persistence_id);
/* An external volume name: 1..255 bytes, no control characters. */
bool agent_volume_name_valid(const char *name);
#define AGENT_MAX_REMOVALS 64
/* REMOVE_VOLUME: VolumeDriver.Remove {"Name": name} through driver (Plugin.Activate first
 * when this run has not activated it), each call bounded by a->plugin_timeout_ms; the
 * outcome is logged (one line) when the driver answers. Refused (logged) for a bad driver or
 * name (-EINVAL), a volume a live task on this agent uses or has mounted (-EBUSY), too many
 * removals in flight (-EAGAIN), a driver not found (-ENOENT). 0: started. Calls in flight
 * are abandoned by agent_fence_stop. */
int agent_volume_remove(struct agent *a, const char *driver, const char *name);
/* The fence timer (agent-volume.c): start with the link, stop with it (which also abandons
 * the REMOVE_VOLUME calls in flight). */
int agent_fence_start(struct agent *a);
void agent_fence_stop(struct agent *a);
/* The master was heard from (a record, or a POST it answered): renews the lease, and
 * publishes it for the shims unless that was done less than EXEC_LEASE_CHECK_USEC ago (the
 * fence timer catches up). */
void agent_lease_heard(struct agent *a);
/* Writes <work>/lease now if it is not current. 0 (also when there is no lease: fencing
 * off), or -errno. Called before a task with volumes is spawned, so that its shim finds the
 * lease. */
int agent_lease_publish(struct agent *a);
/* agent-zk.c: --master zk://HOSTS/PATH: reads the leading master from PATH/leader and
 * calls agent_link_leader with it whenever it changes. 0, or -errno (logged); a->zk is
 * set either way and agent_zk_stop frees it. */
int agent_zk_start(struct agent *a, const char *url);
void agent_zk_stop(struct agent *a);
/* agent-link.c: the leading master is at hostport now (the ZooKeeper detector): talk to
 * it, subscribing there at once if it is not the one we talk to. */
void agent_link_leader(struct agent *a, const char *hostport);
/* agent-task.c: SIGKILL t's process group at once through its shim (the fence). */
void agent_task_fence(struct agent *a, struct agent_task *t);

/* agent-http.c */
void agent_http_handle(struct evhttp_request *req, void *ctx);

/* agent-auth.c: see there. agent_auth_init loads --credentials FILE (NULL: auth off). */
int agent_auth_init(struct agent *a, const char *file);
void agent_auth_free(struct agent *a);
/* A fresh random token (AGENT_TOKEN_LEN hex digits). */
void agent_auth_token(char out[AGENT_TOKEN_LEN + 1]);
/* The token of "Authorization: Bearer T" or "token=T", or NULL. */
const char *agent_auth_bearer(struct evhttp_request *req);
/* given (NULL: false) equals the non-empty token, in constant time. */
bool agent_auth_token_is(const char *given, const char *token);
/* Answers 401 with WWW-Authenticate: Basic (or Bearer) realm="realm". */
void agent_auth_challenge(struct evhttp_request *req, const char *realm, bool bearer);
/* true when req may proceed (auth off, /health, the master's token or an operator's
 * credentials), else false after answering 401. Not for /api/v1/executor. */
bool agent_auth_check(struct agent *a, struct evhttp_request *req, const char *path);
/* TLS on the HTTP server and the link to an https:// master (cfg's tls_*): -EINVAL logged. */
int agent_tls_init(struct agent *a, const struct agent_config *cfg);

/* agent-secret.c: agent_secrets_init checks --secrets-dir (NULL/"": none; -errno logged).
 * agent_secrets_spec checks each of spec's "secrets" in the store and sets es->secrets to
 * "NAME=SOURCE" strings (*owned, free each and the array); 0, or -errno with msg naming the
 * secret (a TASK_FAILED message). */
int agent_secrets_init(struct agent *a, const char *dir);
int agent_secrets_spec(struct agent *a, json_t *spec, struct exec_spec *es, char ***owned,
		       char *msg, size_t msgsize);
/* For a custom executor (no shim): resolves spec's "secrets" into "NAME=value" strings
 * appended to env (at most max in all; *n counts them; malloc'd: wipe and free them). 0, or
 * -errno with msg naming the secret. */
int agent_secrets_env(struct agent *a, json_t *spec, char **env, size_t *n, size_t max,
		      char *msg, size_t msgsize);

/* agent-cred.c: reads --credential FILE into "Basic …" (*authorization, malloc'd).
 * 0, or -errno with the reason logged (never the secret). */
int agent_credential_load(const char *path, char **authorization);
/* agent-image.c: container tasks (docs/isolation.md, "Images") */
struct agent_config;
struct exec_spec;
struct exec_status;
struct exec_portmap;
/* --image-store, --image-dir, --docker-registry into a. 0 or -EINVAL (logged). */
int agent_image_init(struct agent *a, const struct agent_config *cfg);
void agent_image_free(struct agent *a);
/* The TaskSpec's "container" (image, network, port_mappings, force_pull) into es; pm (pmcap
 * entries) holds the port mappings. 0, or -EINVAL with the task's failure message. */
int agent_image_spec(struct agent *a, json_t *spec, struct exec_spec *es,
		     struct exec_portmap *pm, size_t pmcap, char *msg, size_t msgsize);
/* What a container task's shim left when it died without its cleanup (killed, or while the
 * agent was down): the crun container deleted (what is left in it killed), the rootfs
 * unmounted. Quick: `crun delete` and a lazy unmount. */
void agent_image_cleanup(const struct agent_task *t);
/* The message and reason of a shim that failed before its task ran for a cause of its own
 * (the cgroup, a fetch, the user, the image), or NULL. */
const char *agent_launch_failure(const struct agent_task *t, const struct exec_status *st,
				 char *msg, size_t size);
/* agent-isolation.c */
/* --isolation LIST into its two switches. 0 or -EINVAL with err set. */
int agent_isolation_parse(const char *list, bool *cgroups, bool *namespaces, char *err,
			  size_t errsize);
/* The isolation flags into a; -EINVAL (bad flag) or -ENOENT (cgroups asked for, none
 * mounted), logged. */
int agent_isolation_init(struct agent *a, const struct agent_config *cfg);
void agent_isolation_free(struct agent *a);
/* cpu shares (1024 a cpu, at least 2), CFS quota per 100 ms (cfs only; at least 1 ms) and
 * memory limit (at least 32 MiB) for a task's cpus and mem (MiB), as Mesos sets them. */
void agent_isolation_limits(double cpus, double mem_mib, bool cfs, uint64_t *shares,
			    uint64_t *quota_us, uint64_t *mem_bytes);
/* Fills es's cgroup, namespace, user and fetcher cache fields for task t of spec (es's strings
 * borrow from a and spec until the next call); for a spec with "attach" (a run inside another
 * running task, exec-attach.h) only es->attach. 0, or -errno with the task's failure message
 * in msg (-ESRCH: the task to attach to is not running here). */
/* The user a task of spec runs as, or NULL for the agent's own: the spec's `user` with
 * --switch-user, else --default-user (NULL for a container without a user: its image's). */
const char *agent_task_user(const struct agent *a, json_t *spec);
int agent_isolation_spec(struct agent *a, struct agent_task *t, json_t *spec,
			 struct exec_spec *es, char *msg, size_t msgsize);
/* RESIZE (berth's in-place resize): the running task's cgroup gets the limits of resources'
 * cpus and mem (as at its launch). A task not running here is logged; a failure to write the
 * limits (e.g. a memory limit below what the task uses) is reported to the master as a status
 * update in the task's current state with reason REASON_BERTH_RESIZE_FAILED. */
void agent_isolation_resize(struct agent *a, const char *task_id, json_t *resources);
/* Removes task t's cgroup if its shim left one (killed, or the task died while the agent
 * was down): its processes are killed. */
void agent_isolation_cleanup(struct agent *a, const struct agent_task *t);
/* GET /monitor/statistics: Mesos's array of {executor_id, executor_name, framework_id,
 * source, statistics} for every running task that has a cgroup (none without
 * --isolation cgroups). */
json_t *agent_isolation_statistics(struct agent *a);
/* "Failed to fetch '<uri>': <berth-fetcher's message>" for t's URI index (0-based). */
void agent_fetch_failure(const struct agent_task *t, int index, char *msg, size_t size);

/* agent-task.c: starts berth-executor (a->executor_path) with argv in a session of its own:
 * stdin/out/err on /dev/null, fd (if >= 0; dup'ed to 3) its channel back, every other fd
 * closed, every signal at its default. Returns posix_spawn's error number (0 on success). */
int agent_spawn_executor(struct agent *a, int fd, char **argv, pid_t *pid);

/* ==== agent-hook.c: --hook-task-launch, --hook-task-end (docs/hooks.md) ==== */
int agent_hooks_init(struct agent *a, const struct agent_config *cfg);
/* Kills the hooks still running; their tasks get no callback. */
void agent_hooks_free(struct agent *a);
/* Runs the launch hook for t (spec: its TaskSpec): true when it runs, and
 * agent_task_hooked follows from the loop; false when there is no launch hook. */
bool agent_hook_launch(struct agent *a, struct agent_task *t, json_t *spec);
/* The launch hook is over: veto NULL (spec decorated) starts the task, else fails it. */
void agent_task_hooked(struct agent_task *t, json_t *spec, const char *veto);
/* Runs the end hook for t's terminal update u (TaskStatus-like JSON), fire and forget. */
void agent_hook_task_end(struct agent *a, struct agent_task *t, const json_t *u);

/* ==== agent-xfetch.c: a custom executor's uris, fetched before it starts ==== */
struct agent_xfetch;
/* Fetches fetch (the LAUNCH record's array) into sandbox one URI after the other; done is
 * called once from the loop (never from here) with NULL or the failure. 0, or -errno. */
int agent_xfetch_start(struct agent *a, const char *sandbox, const json_t *fetch,
		       void (*done)(void *ctx, const char *err), void *ctx,
		       struct agent_xfetch **out);
/* Stops it (the fetcher killed); done is not called. Accepts NULL. */
void agent_xfetch_cancel(struct agent_xfetch *f);
