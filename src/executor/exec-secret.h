/* The agent's file-backed secret store (docs/security.md, "Secrets"): one file per secret
 * source under the agent's --secrets-dir. Plain libc: the shim reads the values itself
 * (as the agent's user, before it becomes the task's), so they are never written to the
 * spec file, a checkpoint or a log; the agent checks them the same way before it spawns
 * the shim, to fail a task with a clear message.
 *
 * A source is "name" or "/a/b" (one leading '/' ignored): '/'-separated segments of
 * [A-Za-z0-9._-], none "." or "..", at most EXEC_SECRET_MAX_SOURCE bytes. Its file is
 * DIR/<segments>, reached without following symlinks; it must be a regular file owned by
 * the reader's effective user, without any group or other permission bits, and at most
 * EXEC_SECRET_MAX_BYTES. The value is its content with one trailing "\n" (or "\r\n")
 * removed; a NUL byte in it is refused. */
#pragma once
#include <stddef.h>

#define EXEC_SECRET_MAX_SOURCE 255u
#define EXEC_SECRET_MAX_BYTES (64u << 10)
/* Where a container task with secrets has berth-secret-exec (exec-container.h). */
#define EXEC_SECRET_EXEC_PATH "/dev/.berth-secret-exec"

/* Whether a source name is acceptable (above). */
int exec_secret_source_valid(const char *source);
/* Checks the store directory itself: a directory owned by the effective user, without
 * group or other permission bits. 0 or -errno (-EPERM: the mode or owner), msg filled. */
int exec_secret_dir_check(const char *dir, char *msg, size_t msgsize);
/* Reads one secret: 0 with *value (malloc'd, NUL-terminated, *len bytes) or -errno with
 * msg naming the source (never any of the file's bytes). */
int exec_secret_read(const char *dir, const char *source, char **value, size_t *len, char *msg,
		     size_t msgsize);
/* Builds "NAME=value" for a spec "secret" entry "NAME=SOURCE": 0 with *out (malloc'd) or
 * -errno with msg. */
int exec_secret_env(const char *dir, const char *entry, char **out, char *msg, size_t msgsize);
