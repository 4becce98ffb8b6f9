/* Hooks' answers (docs/hooks.md): what a task launch hook's run means, read the same way by
 * the agent (agent-hook.c) and the master (fw-hooks.c), which run the programs. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define HOOK_MAX_OUT 65536          /* bytes of output; more kills the program */
#define HOOK_MAX_RUNNING 256        /* runs at once, per agent or master */
#define HOOK_DEFAULT_TIMEOUT_MS 10000
#define HOOK_MAX_ENV 256
#define HOOK_MAX_LABELS 64

/* Why a run failed, in msg ("" when it exited 0): "timed out after S s", "its output went
 * over N bytes", "terminated by signal N", "exited with status N". status: the wait status,
 * or -1 when unknown. */
void hook_run_failure(int status, bool timed_out, bool overflow, unsigned timeout_ms, char *msg,
		      size_t len);

/* A launch hook's run: NULL when the task may start, *answer then its answer (a new
 * reference, checked: environment and labels well-formed), or NULL when it printed nothing;
 * else the task's failure message, in msg (and returned). */
const char *hook_launch_verdict(int status, bool timed_out, bool overflow, const char *out,
				size_t len, unsigned timeout_ms, json_t **answer, char *msg,
				size_t msglen);

/* Sets answer's environment variables in env (an object, name → string value). */
void hook_apply_env(const json_t *answer, json_t *env);

/* answer's labels as a Labels object {"labels": [...]} (a new reference), or NULL. */
json_t *hook_labels(const json_t *answer);
