/* berth's default executor (issue 19; Mesos's default executor's role): one process per
 * task group, started by the agent for a LAUNCH_GROUP whose ExecutorInfo has type DEFAULT
 * (agent-xexec.c). It speaks the v1 executor API to the agent like any executor
 * (SUBSCRIBE, then UPDATE per status) and runs every task of the group as its own child, so
 * that the group shares one container: the executor's process tree (and with it its
 * cgroup and namespaces, where the agent isolates the executor), the host's network, and the
 * executor's sandbox. See docs/internals/executor-api.md. */
#pragma once
#include <jansson.h>
#include <stddef.h>

#define DEXEC_MAX_TASKS 64
#define DEXEC_MAX_ARGS 256
#define DEXEC_MAX_ENV 512
#define DEXEC_MAX_VOLUMES 16

/* A SANDBOX_PATH volume of a task: <task sandbox>/<container_path> shows <base>/<path>,
 * where base is the executor's sandbox (PARENT) or the task's own (SELF). */
struct dexec_volume {
	char *container_path, *path;
	int parent;
};

/* What it takes to start one task: from its TaskInfo, before any fork. */
struct dexec_plan {
	char *task_id;
	char **argv;  /* NULL-terminated; /bin/sh -c value for a shell command */
	char **env;   /* NAME=value, NULL-terminated: the task's variables only */
	struct dexec_volume vols[DEXEC_MAX_VOLUMES];
	size_t nvols;
	double grace_sec; /* kill_policy.grace_period, default 3 s (Mesos's) */
};

/* Checks a TaskInfo of a LAUNCH_GROUP and fills *p (dexec_plan_release frees it). Refuses
 * (-EINVAL with a message naming the field) what the default executor cannot run: no
 * command value, a non-string argument or variable, a volume other than SANDBOX_PATH, an
 * absolute container_path or one with "..", more than the limits above. Pure. */
int dexec_plan_parse(const json_t *ti, struct dexec_plan *p, char *err, size_t errlen);
void dexec_plan_release(struct dexec_plan *p);

/* Creates <exec_sandbox>/tasks/<task_id> and the plan's volumes in it (each a symlink to
 * its directory, created when missing: the tasks have no mount namespace of their own).
 * *sandbox gets the task's sandbox (malloc'd). 0 or -errno with msg. */
int dexec_sandbox_prepare(const char *exec_sandbox, const struct dexec_plan *p,
			  char **sandbox, char *msg, size_t msglen);
