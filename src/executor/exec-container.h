/* Container tasks in berth-executor (docs/isolation.md, "Images"). Plain libc.
 *
 * For a spec with "image", the shim, before it forks the task:
 *   1. (BRIDGE) binds the port mappings' host ports, then forks the port forwarder, which
 *      moves into a new network namespace (loopback up) and relays each connection accepted
 *      on a host port to 127.0.0.1:<containerPort> inside that namespace — the container's
 *      network namespace (the container joins it by path);
 *   2. runs `berth-image bundle <meta>` (the image found, imported or pulled; the rootfs
 *      mounted; config.json written); its output goes to the sandbox's stderr. With a
 *      pullConfig secret ("img.auth_secret"), the shim reads it and gives berth-image its
 *      value (a docker config.json) as a sealed memfd at fd 3, `--pull-config
 *      /proc/self/fd/3`: the credentials are never in a file;
 *   3. writes <meta>/ctr.sh, which runs crun for this task in a mount namespace of its own
 *      (where a hybrid machine's cgroup2 mount is hidden: crun refuses hybrid hierarchies;
 *      crun runs with --cgroup-manager=disabled, the task's cgroup being the shim's), and
 *      makes the task's command "ctr.sh run": crun runs in the foreground as the task, so
 *      stdout/stderr, the cgroup, the kill (crun forwards signals to the container's init)
 *      and the exit status work as for any task;
 *   3b. with secrets (exec_container_secrets, after the shim read them): puts the
 *      "NAME=value" entries into a sealed memfd, which the task gets as fd 3; ctr.sh then runs
 *      `crun run --preserve-fds 1`, and berth-image has made the container's first program
 *      berth-secret-exec (bind-mounted read-only at EXEC_SECRET_EXEC_PATH), which sets them
 *      in its environment, closes fd 3 and execs the real args. The values are never
 *      written to a file: not config.json, not ctr.sh, not crun's state; crun's own
 *      environment does not have them either;
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
	char run[8];        /* "run" or "run-fd" */
	int secret_fd;      /* the secrets' memfd (>= 10, close-on-exec), or -1 */
	char **cmds;        /* the rewritten checks' commands (malloc'd) */
	size_t ncmds;
	const char *meta;
};

/* Steps 1–4 above for s (modified: args, shell, isolate, checks; s keeps pointing into c
 * until exec_container_cleanup). err: the sandbox's stderr. 0, or -errno with msg. */
int exec_container_prepare(struct exec_spec *s, const char *meta, int err, struct exec_ctr *c,
			   char *msg, size_t msglen);
/* Step 3b: moves the secrets (s->secret_env) into c's memfd, wiping and dropping them from s
 * (so that crun's environment has none). 0 or -errno. */
int exec_container_secrets(struct exec_spec *s, struct exec_ctr *c);
/* In the forked task before exec: the memfd as fd 3 (errfd, if 3, moved first). 0 or errno. */
int exec_container_child_fds(const struct exec_ctr *c, int *errfd);
/* The end (above). Safe on an inactive c. */
void exec_container_cleanup(struct exec_ctr *c, int err);
