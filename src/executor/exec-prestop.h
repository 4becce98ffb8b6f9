/* The pre-stop request (agent-protocol.md §9) that the agent hands to a task's shim.
 * Plain libc only: the shim links this without libevent or jansson.
 *
 * <meta>/prestop is written by the agent (atomically) just before it signals the shim for a
 * KILL that carries pre_stop, and removed before it signals for a KILL without one; the
 * shim reads it when the kill signal arrives and from then on owns the sequence (pre-stop
 * command, SIGTERM, grace, SIGKILL), so an agent restart changes nothing.
 *
 * Format: NUL-terminated strings: EXEC_PRESTOP_MAGIC, the timeout in ms (decimal, 1 ..
 * EXEC_PRESTOP_MAX_TIMEOUT_MS), the command (non-empty, run by /bin/sh -c).
 *
 * The kill signal itself is SIGTERM sent with sigqueue: its value is the grace period in ms
 * (>= 0), or EXEC_KILL_NOW for the fence: SIGKILL to the task at once, no pre-stop (and one
 * that runs is killed). Any other value, or a plain kill(2), means the spec's grace. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define EXEC_PRESTOP_MAGIC "berth-prestop-1"
#define EXEC_PRESTOP_FILE "prestop"
#define EXEC_PRESTOP_MAX_COMMAND (64u << 10)
#define EXEC_PRESTOP_MAX_TIMEOUT_MS (86400u * 1000u)
#define EXEC_PRESTOP_DEFAULT_TIMEOUT_MS 30000u
#define EXEC_KILL_NOW (-2)

/* Writes <dir>/prestop atomically. 0, -EINVAL for an empty command or a timeout out of
 * range, -E2BIG for a command over EXEC_PRESTOP_MAX_COMMAND bytes, -errno. */
int exec_prestop_write(const char *dir, const char *command, uint32_t timeout_ms);
/* Removes <dir>/prestop. 0 (also when there was none) or -errno. */
int exec_prestop_remove(const char *dir);
/* Parses the file's bytes. On success *command is a malloc'd copy (the caller frees it).
 * 0, -EINVAL for anything malformed, -ENOMEM. */
int exec_prestop_parse(const char *buf, size_t len, char **command, uint32_t *timeout_ms);
/* Reads and parses <dir>/prestop. 0, -ENOENT when there is none, -EINVAL, -E2BIG, -errno. */
int exec_prestop_read(const char *dir, char **command, uint32_t *timeout_ms);
