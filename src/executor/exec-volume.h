/* Volumes of a task inside berth-executor (agent-protocol.md §8). Plain libc only.
 *
 * The shim calls exec_volumes_mount on itself just before it forks the task: it moves into a
 * new mount namespace whose root is a slave of the host's (host mounts still propagate in,
 * nothing propagates out) and bind-mounts each volume's source at its container path (a
 * volume without one is only checked to exist: the task uses its source, a host mount that
 * propagates into the namespace, where it is). The task and the shim's COMMAND checks share
 * that view; nothing is visible outside, and it all
 * goes away with the last process of the namespace (so a failed setup leaves nothing). */
#pragma once
#include <stddef.h>

#include "executor/exec-spec.h"

/* The absolute container path of v for a task whose sandbox is sandbox: a relative path is
 * under the sandbox; an empty one (no bind mount) gives the source itself. 0, -EINVAL
 * (invalid path) or -ENAMETOOLONG. */
int exec_volume_target(const char *sandbox, const struct exec_volume *v, char *buf, size_t size);

/* Sets up the mount namespace described above for s's volumes. 0, or -errno with *failed =
 * the index of the volume at fault (-1 when the namespace itself failed) and a message in
 * msg. */
int exec_volumes_mount(const struct exec_spec *s, int *failed, char *msg, size_t msglen);
