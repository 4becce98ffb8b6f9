/* Confines /files/browse and /files/read to task sandboxes.
 *
 * A request path P is "<task_id>[/<rel>]" relative to the sandbox root, or an absolute path
 * inside the root. It is refused when it leaves one sandbox: a ".." component, an absolute
 * path elsewhere, the root itself, or (checked on the filesystem) a symlink that resolves
 * outside the task's sandbox. Symlinks that stay inside the sandbox are fine. */
#pragma once

/* Lexical part, pure. root is absolute without a trailing '/'. On success fills *task_id and
 * *rel (malloc'd; rel is "" for the sandbox itself, else components joined by '/', no "."
 * or empty ones) and returns 0. -EACCES for a path outside one sandbox, -EINVAL for an
 * empty path or an invalid task id. */
int sandbox_path_split(const char *root, const char *path, char **task_id, char **rel);

/* Full check: sandbox_path_split, then resolves symlinks. On success *real is the resolved
 * absolute path (malloc'd) and *display the unresolved one (root/task_id/rel, malloc'd).
 * -EACCES, -EINVAL, -ENOENT (missing), other -errno. */
int sandbox_path_resolve(const char *root, const char *path, char **real, char **display);

/* Opens P (after sandbox_path_resolve's checks) with openat2 RESOLVE_BENEATH from the task's
 * sandbox where the kernel has it, so that a symlink swapped in after the check cannot lead
 * out either. flags as for open(2) (O_CLOEXEC is added). Returns the fd, or -EACCES,
 * -ENOENT, -errno. *display as in sandbox_path_resolve (may be NULL). A regular file with
 * several hard links, not readable by all and owned by another user than the sandbox
 * directory's, is -EACCES (a link to a file the task's user could not read). */
int sandbox_path_open(const char *root, const char *path, int flags, char **display);
