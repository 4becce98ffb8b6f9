/* The shared fixture of the unit tests that run the real shim, berth-executor, from
 * BERTH_EXECUTOR (test-agent-exec, test-agent-prestop, test-exec-prestop, test-exec-volume,
 * test-exec-lease; test-agent-volume for its directory): temporary directories and the
 * paths in them, files read and waited for, the shim started on a spec and waited for.
 *
 * Plain libc and cmocka, as the executor's own tests link nothing else. Functions assert
 * (cmocka) where a test could do nothing but fail, instead of returning an error. Every path
 * the fixture returns is the fixture's: tests do not free them; shimfx_end does. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "executor/exec-spec.h"
#include "executor/exec-status.h"

/* Whether the shim can run here: BERTH_EXECUTOR is set (meson sets it for these tests).
 * shimfx_can_mount: and the test runs as root (mount namespaces, bind mounts). Tests call
 * skip() when the one they need is false. */
bool shimfx_have_shim(void);
bool shimfx_can_mount(void);

/* A new directory /tmp/<prefix>-XXXXXX (prefix: the test's name). */
char *shimfx_tmpdir(const char *prefix);
/* "<dir>/<name>". */
char *shimfx_path(const char *dir, const char *name);
/* A task's directories as the agent lays them out: dir, new (shimfx_tmpdir); meta,
 * <dir>/meta, made (the spec and status files); sb, <dir>/sandbox, which the shim makes. */
struct shimfx_dirs {
	char *dir, *meta, *sb;
};
struct shimfx_dirs shimfx_dirs(const char *prefix);
/* mkdir of path with mode; asserts it was made (or, with exist_ok, that it exists). */
void shimfx_mkdir(const char *path, mode_t mode, bool exist_ok);
/* Ends the run, given the failures of cmocka_run_group_tests, and returns them (for main):
 * with none, removes every shimfx_tmpdir (without crossing into a mount point); otherwise
 * keeps them and prints where they are, for a look. Frees the fixture's paths. */
int shimfx_end(int failures);

/* The contents of <dir>/<name> (dir NULL: name is the whole path), at most 64 KiB,
 * NUL-terminated; malloc'd, the caller frees. NULL if it cannot be opened. */
char *shimfx_slurp(const char *dir, const char *name);
/* Asserts that <dir>/<name> (dir NULL: name is the path) holds exactly want; a failure is
 * reported at the caller's line. */
#define shimfx_assert_file(dir, name, want) \
	shimfx_assert_file_at((dir), (name), (want), __FILE__, __LINE__)
void shimfx_assert_file_at(const char *dir, const char *name, const char *want,
			   const char *file, int line);
/* Whether <dir>/<name> can be read and contains what. */
bool shimfx_has(const char *dir, const char *name, const char *what);
/* Writes text into path (created or truncated). */
void shimfx_write(const char *path, const char *text);
/* Waits up to ms for <dir>/<name> to exist (what NULL) or to contain what; whether it did. */
bool shimfx_wait_file(const char *dir, const char *name, const char *what, int ms);

/* Monotonic time in seconds. */
double shimfx_now(void);
/* Whether pid is a live process. A zombie is not: nobody reaps the orphans of a test. */
bool shimfx_running(pid_t pid);
/* Waits up to ms for pid to stop running; whether it did. */
bool shimfx_wait_gone(pid_t pid, int ms);

/* Writes s as <meta>/spec and starts the shim on meta, a child of the test, in the way the
 * agent's fork server does. With notify_fd non-NULL the shim gets --notify-fd, and
 * *notify_fd the read end (the caller closes it). Returns the shim's pid. */
pid_t shimfx_start(const char *meta, const struct exec_spec *s, int *notify_fd);
/* The first byte of the shim's next notification: 'R' (the task runs) or 'F' (it could not
 * be started); asserts that one came. */
char shimfx_notified(int notify_fd);
/* Waits for the shim pid to exit and returns the status it wrote into meta. Asserts the
 * shim's own exit: 1 when it could not start the task, 0 whatever the task did. */
struct exec_status shimfx_finish(pid_t pid, const char *meta);
/* shimfx_start without a notification, then shimfx_finish: the status of a task run to
 * its end. */
struct exec_status shimfx_run(const char *meta, const struct exec_spec *s);
