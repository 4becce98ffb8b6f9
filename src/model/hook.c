/* Hooks' answers (hook.h, docs/hooks.md). */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "model/hook.h"

void hook_run_failure(int status, bool timed_out, bool overflow, unsigned timeout_ms, char *msg,
		      size_t len)
{
	msg[0] = '\0';
	if (timed_out)
		snprintf(msg, len, "timed out after %g s", timeout_ms / 1000.0);
	else if (overflow)
		snprintf(msg, len, "its output went over %d bytes", HOOK_MAX_OUT);
	else if (status < 0)
		snprintf(msg, len, "its exit status is unknown");
	else if (WIFSIGNALED(status))
		snprintf(msg, len, "terminated by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		snprintf(msg, len, "exited with status %d", WEXITSTATUS(status));
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* 0, or -1 with msg: the answer's environment and labels are well-formed. */
static int check(const json_t *o, char *msg, size_t len)
{
	const json_t *env = json_object_get(o, "environment");
	const json_t *vars = json_object_get(env, "variables");
	if (env && (!json_is_array(vars) || json_array_size(vars) > HOOK_MAX_ENV)) {
		snprintf(msg, len, "'environment' must be {\"variables\": [...]} with at most %d "
				   "variables", HOOK_MAX_ENV);
		return -1;
	}
	size_t i;
	const json_t *v;
	json_array_foreach(vars, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		if (!n || !*n || strchr(n, '=') || strlen(n) > 256 ||
		    !json_is_string(json_object_get(v, "value"))) {
			snprintf(msg, len, "'environment.variables[%zu]' needs a 'name' (no '=') and "
					   "a string 'value'", i);
			return -1;
		}
	}
	const json_t *labels = json_object_get(o, "labels");
	const json_t *arr = json_object_get(labels, "labels");
	if (labels && (!json_is_array(arr) || json_array_size(arr) > HOOK_MAX_LABELS)) {
		snprintf(msg, len, "'labels' must be {\"labels\": [...]} with at most %d labels",
			 HOOK_MAX_LABELS);
		return -1;
	}
	json_array_foreach(arr, i, v) {
		const json_t *val = json_object_get(v, "value");
		if (!json_is_string(json_object_get(v, "key")) || (val && !json_is_string(val))) {
			snprintf(msg, len, "'labels.labels[%zu]' needs a string 'key' (and 'value')",
				 i);
			return -1;
		}
	}
	return 0;
}

const char *hook_launch_verdict(int status, bool timed_out, bool overflow, const char *out,
				size_t len, unsigned timeout_ms, json_t **answer, char *msg,
				size_t msglen)
{
	*answer = NULL;
	char why[200], bad[300];
	hook_run_failure(status, timed_out, overflow, timeout_ms, why, sizeof(why));
	json_error_t je;
	json_t *o = blank(out, len) ? NULL : json_loadb(out, len, 0, &je);
	const char *veto = json_string_value(json_object_get(o, "veto"));
	if (veto && !timed_out && !overflow)
		snprintf(msg, msglen, "Vetoed by the task launch hook: %.500s", veto);
	else if (why[0])
		snprintf(msg, msglen, "Task launch hook %s", why);
	else if (!blank(out, len) && !json_is_object(o))
		snprintf(msg, msglen, "Task launch hook: invalid output (expected a JSON object): "
				      "%.200s", o ? "not an object" : je.text);
	else if (o && check(o, bad, sizeof(bad)) < 0)
		snprintf(msg, msglen, "Task launch hook: invalid output: %s", bad);
	else {
		*answer = o;
		return NULL;
	}
	json_decref(o);
	return msg;
}

void hook_apply_env(const json_t *answer, json_t *env)
{
	size_t i;
	const json_t *v;
	json_array_foreach(json_object_get(json_object_get(answer, "environment"), "variables"), i,
			   v)
		json_object_set(env, json_string_value(json_object_get(v, "name")),
				json_object_get(v, "value"));
}

json_t *hook_labels(const json_t *answer)
{
	const json_t *arr = json_object_get(json_object_get(answer, "labels"), "labels");
	return json_array_size(arr) ? json_pack("{s:O}", "labels", arr) : NULL;
}
