/* Running a helper program from an event loop without blocking it (hooks: docs/hooks.md).
 *
 * The program gets `input` on its stdin (then EOF), its stdout is collected up to max_out
 * bytes, its stderr is the caller's, and it runs in a process group of its own. It is killed
 * (SIGKILL to its group) when it outlives timeout_ms or writes more than max_out bytes.
 * Everything is non-blocking: pipes, a pidfd for its exit, a timer. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

struct proc_run;

struct proc_run_result {
	int status;      /* wait status (WIFEXITED…), or -1 when unknown */
	bool timed_out;  /* killed after timeout_ms */
	bool overflow;   /* killed: stdout went over max_out */
	const char *out; /* stdout, NUL-terminated (borrowed for the callback) */
	size_t out_len;
};

/* Called once, from the loop, when the program has exited and its stdout is closed (or it
 * was killed); the run is freed after it returns. */
typedef void (*proc_run_cb)(const struct proc_run_result *res, void *ctx);

/* Starts argv[0] (a path) with argv and env (NULL: the caller's environment). 0 and *out,
 * or -errno (nothing runs, cb is never called). */
int proc_run_start(struct event_base *base, char *const *argv, char *const *env,
		   const char *input, size_t input_len, unsigned timeout_ms, size_t max_out,
		   proc_run_cb cb, void *ctx, struct proc_run **out);

/* Kills the program (SIGKILL to its group), reaps it if it can without waiting, and frees the
 * run; cb is not called. */
void proc_run_cancel(struct proc_run *p);
