/* A command run inside another, running task on the same agent (issue 17's per-instance jobs;
 * docs/jobs.md). Plain libc: part of the shim.
 *
 * A spec with "attach" = the meta directory of a running task (the instance) is run by its own
 * shim as any task is (its status, its kill, its stdout/stderr in its own sandbox, which the
 * agent serves as the run's), but inside the instance, as its pre-stop command would be:
 *  - the instance's environment, with the run's own variables on top;
 *  - the instance's sandbox as cwd and MESOS_SANDBOX, and its user;
 *  - the instance's mount namespace and the pid namespace its shim forks into (the instance's
 *    shim: /proc/<pid>/ns/mnt and pid_for_children), and the instance's cgroup, so that the
 *    run counts against the instance's limits and dies with its pid namespace;
 *  - stdout and stderr are also hard-linked into <instance sandbox>/jobs/<run task id>/, so
 *    that they stay in the instance's sandbox too.
 * The instance's shim is found through <attach>/pid and checked by its start time (a reused
 * pid is refused) and <attach>/status (it must be running): -ESRCH otherwise.
 *
 * In the shim: exec_attach_prepare right after the spec is read (it rewrites the spec's
 * sandbox, env and user and sets stdio_dir), then, in the forked child, exec_attach_child
 * before the usual exec: it joins the cgroup and the namespaces and forks; the grandchild
 * returns to exec the command (in the child's process group, so the shim's kill(-child)
 * reaches it); the child waits for it and hands its wait status through stfd, as an isolated
 * task's init does. */
#pragma once
#include <stddef.h>

#include "executor/exec-spec.h"

#define EXEC_ATTACH_JOBS_DIR "jobs"

/* See above. 0, or -errno with msg (-ESRCH: the instance is not running). */
int exec_attach_prepare(struct exec_spec *s, char *msg, size_t msglen);
/* In the forked child (see above): returns in the grandchild only; errfd gets an errno on a
 * failure before the exec, as child_exec's does. */
void exec_attach_child(int errfd, int stfd);
