/* The shim's status file (<meta>/status) and pid file (<meta>/pid); see exec-spec.h.
 * Plain libc only.
 *
 * status is text, one "key=value" a line:
 *   state=running|exited|signaled|exec_failed
 *   pid=<task pid>  exit_code=<n>  signal=<n>  killed=0|1  error=<errno of a failed exec>
 *   volume=<n>  (exec_failed only: 1-based index of the spec's volume that could not be
 *                mounted; 0 = the failure was not a volume's)
 *   fenced=0|1  the shim itself killed the task (or did not start it) because the agent's
 *               volume lease ran out (exec-lease.h); killed=1 too
 *   cgroup=0|1  (exec_failed only) the task's cgroup could not be made (error= says why)
 *   fetch=<n>   (exec_failed only) 1-based index of the spec's URI that could not be
 *               fetched; berth-fetcher's message is in <meta>/fetch_error
 *   user=0|1    (exec_failed only) the spec's user could not be switched to
 *   image=0|1   (exec_failed only) the container's image or bundle could not be made;
 *               berth-image's message is in <meta>/image_error
 *   oom=0|1     the task's cgroup saw an OOM kill (exec-cgroup.h); with it
 *   mem_limit=<bytes> mem_max=<bytes>  the memory limit and the largest usage (0: unknown)
 * A reader that finds no file knows the shim has not started the task yet. */
#pragma once
#include <stdint.h>
#include <sys/types.h>

enum exec_state { EXEC_NONE, EXEC_RUNNING, EXEC_EXITED, EXEC_SIGNALED, EXEC_EXEC_FAILED };

struct exec_status {
	enum exec_state state;
	int pid;
	int exit_code;
	int signal;
	int killed; /* a kill was requested before the task ended */
	int error;
	int volume; /* see "volume=" above */
	int fenced; /* see "fenced=" above */
	int oom;    /* see "oom=" above */
	int cgroup; /* see "cgroup=" above */
	int user;   /* see "user=" above */
	int fetch;  /* see "fetch=" above */
	int image;  /* see "image=" above */
	uint64_t mem_limit, mem_max;
};

/* Formats st into buf (NUL-terminated). Returns the length, or -E2BIG if it does not fit. */
int exec_status_format(const struct exec_status *st, char *buf, size_t size);
/* Parses text. 0 or -EINVAL. Unknown keys are ignored (newer shims may add some). */
int exec_status_parse(const char *text, struct exec_status *st);
/* Writes <dir>/<name> atomically (tmp + rename); durable adds fsync of file and dir. */
int exec_file_replace(const char *dir, const char *name, const char *data, size_t len,
		      int durable);
/* exec_file_replace of the formatted status as <dir>/status. */
int exec_status_write(const char *dir, const struct exec_status *st, int durable);
/* Reads <dir>/status. 0, -ENOENT when absent, -EINVAL when malformed. */
int exec_status_read(const char *dir, struct exec_status *st);

/* Start time of pid in clock ticks since boot (/proc/<pid>/stat field 22), to tell a live
 * shim from a later process that reuses its pid. 0 or -errno. */
int exec_proc_starttime(pid_t pid, uint64_t *out);
/* Reads <dir>/pid. 0, -ENOENT, -EINVAL. */
int exec_pidfile_read(const char *dir, pid_t *pid, uint64_t *starttime);
