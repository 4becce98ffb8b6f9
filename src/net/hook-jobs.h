/* The hook programs an agent or a master is running (docs/hooks.md): each runs through
 * proc-run for one task, with a JSON document on stdin, and the set bounds how many run at
 * once. Freeing the set kills those still running (their callbacks are not called). */
#pragma once
#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "net/proc-run.h"

struct hook_jobs;

/* Called once, from the loop, when a hook is over; task_id and spec (the run's, or NULL) are
 * borrowed for the call, and the job is gone already (a new one may start from here). */
typedef void (*hook_jobs_cb)(const struct proc_run_result *res, const char *task_id,
			     json_t *spec, void *ctx);

struct hook_jobs *hook_jobs_new(struct event_base *base, unsigned timeout_ms,
				size_t max_running, size_t max_out);
void hook_jobs_free(struct hook_jobs *h);
unsigned hook_jobs_timeout_ms(const struct hook_jobs *h);

/* Runs path with doc (taken, sent compact on stdin) for task_id, keeping a reference to spec
 * for cb. 0; -EAGAIN when max_running already run (nothing starts); other -errno. */
int hook_jobs_start(struct hook_jobs *h, const char *path, json_t *doc, const char *task_id,
		    json_t *spec, hook_jobs_cb cb, void *ctx);

/* A hook flag's value must be an absolute path to an executable file: 0, or -EINVAL with a
 * line in the log naming the flag (who: "agent", "master"). */
int hook_check_exe(const char *who, const char *flag, const char *path);
