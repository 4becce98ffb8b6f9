/* Task ids, backoff arithmetic and the environment a task starts with. Pure functions. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/app.h"

/* "<safeAppId>.instance-<uuid>._app.<attempt>", safeAppId = path without the leading '/'
 * and '/' replaced by '_' ("/prod/web" -> "prod_web"). out holds TASK_ID_MAX bytes. */
#define TASK_ID_MAX 640
void task_id_format(const char *app_id, const char *instance_uuid, unsigned attempt, char *out);
/* Splits a task id of either form (also legacy "<safeAppId>.<uuid>", attempt 1).
 * safe_app_id and instance_uuid are TASK_ID_MAX buffers. 0 or -EINVAL. */
int task_id_parse(const char *task_id, char *safe_app_id, char *instance_uuid, unsigned *attempt);

/* Delay before launch number failures+1 after `failures` consecutive failures:
 * min(backoff_seconds * factor^(failures-1), max_launch_delay) for failures >= 1, 0 for 0. */
double backoff_delay_seconds(double backoff_seconds, double factor, double max_delay,
			     unsigned failures);

/* Environment as Marathon sets it (reference/compat.md §3.5), the app's env last.
 * Returns a JSON object {NAME: value} (new ref). ports are the host ports assigned, in
 * portDefinitions order. */
json_t *task_env_build(const struct app *a, const char *host, const uint32_t *ports,
		       size_t nports, const char *task_id);

/* Whether a Mesos task state ("TASK_FINISHED", …) is terminal: FINISHED, FAILED, KILLED,
 * LOST, ERROR, DROPPED, GONE, GONE_BY_OPERATOR. NULL is not. */
bool task_state_terminal(const char *state);
/* The static string of a Mesos task state equal to state (so that it can be kept without a
 * copy), or NULL when state (or NULL) is none. */
const char *task_state_intern(const char *state);
