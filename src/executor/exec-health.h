/* The shim's health file: the current result of a task's health and readiness checks
 * (agent-protocol.md §7), written by berth-executor, read by the agent. Plain libc only.
 *
 * Where: <work-dir>/health/<task_id>, replaced atomically (tmp file ".<task_id>.tmp" in the
 * same directory + rename). One directory for all tasks so that the agent learns of every
 * change through a single inotify watch (IN_MOVED_TO, the name is the task id); the file
 * itself is the current state, so a restarted agent just reads it.
 *
 * Text, one item a line:
 *   seq=<n>          bumped on every write; the agent forwards each seq it has not seen
 *   ready=0|1        all readiness checks have passed once
 *   hseq=<n>         the seq of the last write that carried a health result to forward (an
 *                    alive change or a counted failure); 0 = none yet. Readiness-only writes
 *                    keep it, so a reader that missed a write still sees the health result
 *   check=<index> <alive> <consecutive_failures> <first_success> <last_success>
 *         <last_failure> <cause…>
 *                    alive is 1, 0 or -1 (no result yet); times are epoch milliseconds,
 *                    0 = never; the cause runs to the end of the line. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define EXEC_HEALTH_MAX_CHECKS 32u
#define EXEC_HEALTH_CAUSE_MAX 160u
#define EXEC_HEALTH_FILE_MAX 8192u

struct exec_health_check {
	int alive; /* 1, 0, -1 unknown */
	uint32_t consecutive_failures;
	uint64_t first_success_ms, last_success_ms, last_failure_ms;
	char cause[EXEC_HEALTH_CAUSE_MAX];
};

struct exec_health {
	uint64_t seq;
	int ready;
	uint64_t hseq;
	size_t nchecks;
	struct exec_health_check checks[EXEC_HEALTH_MAX_CHECKS];
};

/* Formats h into buf. Returns the length or -E2BIG. Newlines in causes become spaces. */
int exec_health_format(const struct exec_health *h, char *buf, size_t size);
/* Parses text (NUL-terminated). 0 or -EINVAL. Unknown keys are ignored. */
int exec_health_parse(const char *text, struct exec_health *h);
/* Writes <dir>/<name> atomically. 0 or -errno. */
int exec_health_write(const char *dir, const char *name, const struct exec_health *h);
/* Reads <dir>/<name>. 0, -ENOENT, -EINVAL. */
int exec_health_read(const char *dir, const char *name, struct exec_health *h);
