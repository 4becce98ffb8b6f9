/* Container tasks in berth-executor (docs/isolation.md, "Images"). Plain libc.
 *
 * For a spec with "image", the shim, before it forks the task:
 *   1. (BRIDGE) binds the port mappings' host ports, then forks the port forwarder, which
 *      moves into a new network namespace (loopback up) and relays each connection accepted
 *      on a host port to 127.0.0.1:<containerPort> inside that namespace — the container's
 *      network namespace (the container joins it by path);
 *   2. runs `berth-image bundle <meta>` (the image found, imported or pulled; the rootfs
 *      mounted; config.json written); its output goes to the sandbox's stderr;
 *   3. writes <meta>/ctr.sh, which runs crun for this task in a mount namespace of its own
 *      (where a hybrid machine's cgroup2 mount is hidden: crun refuses hybrid hierarchies;
 *      crun runs with --cgroup-manager=disabled, the task's cgroup being the shim's), and
 *      makes the task's command "ctr.sh run": crun runs in the foreground as the task, so
 *      stdout/stderr, the cgroup, the kill (crun forwards signals to the container's init)
 *      and the exit status work as for any task;
 *   4. rewrites each COMMAND check into "ctr.sh exec '<command>'": it runs inside the
 *      container (its namespaces and rootfs).
 * The shim's own pid/mount isolation is not applied (crun gives the container its own).
 * At the end the shim stops the forwarder, deletes the container (killing what is left in
 * it) and unmounts and removes the bundle. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "executor/exec-spec.h"

struct exec_ctr {
	int active;
	pid_t fwd;          /* the port forwarder, or 0 */
	char script[4200];  /* <meta>/ctr.sh */
	char run[8];        /* "run" */
	char **cmds;        /* the rewritten checks' commands (malloc'd) */
	size_t ncmds;
	const char *meta;
};

/* Steps 1–4 above for s (modified: args, shell, isolate, checks; s keeps pointing into c
 * until exec_container_cleanup). err: the sandbox's stderr. 0, or -errno with msg. */
int exec_container_prepare(struct exec_spec *s, const char *meta, int err, struct exec_ctr *c,
			   char *msg, size_t msglen);
/* The end (above). Safe on an inactive c. */
void exec_container_cleanup(struct exec_ctr *c, int err);
