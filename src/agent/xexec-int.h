/* Internal to the agent's executors (agent-xexec.c, agent-xgroup.c): an executor the agent
 * runs, as agent-xexec.c's invariants describe it. */
#pragma once
#include <stdbool.h>

#include "agent/agent-int.h"

struct agent_xexec {
	struct agent_xexec *next;
	struct agent *agent;
	char *framework_id, *executor_id, *sandbox;
	json_t *executor_info;
	bool checkpoint;
	double grace_sec;
	pid_t pid;
	uint64_t start;   /* the process's start time (exec_proc_starttime) */
	bool recovered;   /* reattached by a restarted agent, not subscribed again yet */
	struct event *recover_ev;
	int pidfd;
	struct event *pid_ev;
	struct event *kill_ev; /* SHUTDOWN's grace period */
	struct http_stream *stream;
	json_t *pending; /* TaskInfo not yet sent */
	/* Its uris being fetched (agent-xfetch.c): no process yet (pid 0) until they are. */
	struct agent_xfetch *fetch;
	json_t *spawn_spec;     /* the LAUNCH record it is started from, meanwhile */
	const char *end_reason; /* its tasks' reason when it ends; NULL: EXECUTOR_TERMINATED */
	bool dflt;          /* the default executor (type DEFAULT) */
	bool ctr;           /* in a container, under the shim (agent-xctr.c) */
	char *container_id; /* its container's id (SUBSCRIBED, GET_CONTAINERS) */
	char *group_id;     /* the task group being gathered (dflt), or NULL */
	size_t group_size;
	json_t *group_buf;      /* its TaskInfos so far */
	json_t *pending_groups; /* [[TaskInfo]]: complete groups not yet sent */
	json_t *nested;         /* task id -> its nested ContainerID (dflt) */
	char *cg_name;          /* dflt with --isolation cgroups: its container's cgroup */
	double cg_cpus, cg_mem; /* what the cgroup's limits are made of: the executor's and
				 * its tasks' resources so far */
	char token[AGENT_TOKEN_LEN + 1]; /* its MESOS_EXECUTOR_AUTHENTICATION_TOKEN */
};

/* agent-xexec.c */
/* Writes x's checkpoint (checkpointing frameworks only): tmp, fsync, rename. */
void agent_xexec_checkpoint(struct agent *a, struct agent_xexec *x);
/* Sends ev (taken) on x's event stream: 0, or -EPIPE when it has none. */
int agent_xexec_send(struct agent_xexec *x, json_t *ev);

/* agent-xgroup.c: the default executor's task groups and container */
/* With --isolation cgroups: x's container cgroup made and the executor (x->pid) moved in. 0
 * or -errno (logged). */
int agent_xgroup_cg_start(struct agent *a, struct agent_xexec *x);
/* Task t of a group (spec its TaskSpec, ti its TaskInfo) joins the group being gathered; a
 * complete group goes to the executor as one LAUNCH_GROUP, or waits for its SUBSCRIBE. 0, or
 * -EINVAL (t failed: not a group's task). */
int agent_xgroup_gather(struct agent *a, struct agent_xexec *x, struct agent_task *t,
			json_t *spec, json_t *ti);
/* A KILL of task_id while its group is still held here: every task of that group is
 * TASK_KILLED and the group forgotten; true. false when the executor has it already. */
bool agent_xgroup_drop_unsent(struct agent *a, struct agent_xexec *x, const char *task_id);

/* agent-xctr.c: an executor in a container (its ExecutorInfo's image), under the shim */
/* Whether x (from spec, its LAUNCH record) runs in a container. */
bool agent_xctr_wanted(const struct agent_xexec *x, json_t *spec);
/* Its shim's meta directory (malloc'd). */
char *agent_xctr_meta(const struct agent *a, const struct agent_xexec *x);
/* Whether x's shim's spec is there (a restarted agent: x is containerised). */
bool agent_xctr_exists(const struct agent *a, const struct agent_xexec *x);
/* Writes the shim's spec (env: "K=V" × nenv; argv NULL-terminated, or shell_cmd) and
 * spawns the shim: x->pid set. 0, or -errno with msg (nothing left behind). */
int agent_xctr_spawn(struct agent *a, struct agent_xexec *x, json_t *spec, char **env,
		     size_t nenv, const char **argv, const char *shell_cmd, char *msg,
		     size_t msgsize);
/* SIGTERM to the shim with value (grace in ms, or EXEC_KILL_NOW). */
void agent_xctr_signal(struct agent_xexec *x, int value);
/* The container killed at once (the shim deletes it). */
void agent_xctr_kill(struct agent_xexec *x);
/* The shim has exited: the executor's wait status (and msg) from its status file; its
 * meta directory removed. */
int agent_xctr_ended(struct agent *a, struct agent_xexec *x, char *msg, size_t msgsize);
void agent_xctr_remove(struct agent *a, struct agent_xexec *x);
