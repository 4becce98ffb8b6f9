/* Hooks: executables the operator names with --hook-task-launch and --hook-task-end, run by
 * the agent at each task's launch and end (Mesos modules' hooks, without loading code into
 * the agent). The documents they read and write: docs/hooks.md.
 *
 * INVARIANTS:
 * - a hook never blocks the event loop: it runs through net/proc-run (pipes, pidfd, timer),
 *   bounded by --hook-timeout and HOOK_MAX_OUT bytes of output, at most HOOK_MAX_RUNNING at
 *   a time (a launch over the cap fails its task; an end hook over it is skipped, logged);
 * - a task whose launch hook runs has t->hooking set and no shim; agent_task_hooked is called
 *   exactly once when the hook is over (never when the agent stops first: the task then has
 *   no meta dir, and the master reconciles it as lost);
 * - a launch hook that fails (non-zero exit, signal, timeout, too much or invalid output) or
 *   answers {"veto": reason} fails its task, TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "base/log.h"
#include "base/mem.h"
#include "model/hook.h"
#include "net/hook-jobs.h"


struct agent_hooks {
	struct agent *a;
	char *launch, *end;
	struct hook_jobs *jobs;
};

int agent_hooks_init(struct agent *a, const struct agent_config *cfg)
{
	const char *l = cfg->hook_task_launch && *cfg->hook_task_launch ? cfg->hook_task_launch : NULL;
	const char *e = cfg->hook_task_end && *cfg->hook_task_end ? cfg->hook_task_end : NULL;
	if (!l && !e)
		return 0;
	if (hook_check_exe("agent", "hook-task-launch", l) < 0 ||
	    hook_check_exe("agent", "hook-task-end", e) < 0)
		return -EINVAL;
	struct agent_hooks *h = xcalloc(1, sizeof(*h));
	h->a = a;
	h->launch = l ? xstrdup(l) : NULL;
	h->end = e ? xstrdup(e) : NULL;
	h->jobs = hook_jobs_new(a->base,
				cfg->hook_timeout_ms ? cfg->hook_timeout_ms : HOOK_DEFAULT_TIMEOUT_MS,
				HOOK_MAX_RUNNING, HOOK_MAX_OUT);
	a->hooks = h;
	return 0;
}

void agent_hooks_free(struct agent *a)
{
	struct agent_hooks *h = a->hooks;
	if (!h)
		return;
	hook_jobs_free(h->jobs);
	free(h->launch);
	free(h->end);
	free(h);
	a->hooks = NULL;
}

static json_t *doc_base(struct agent *a, struct agent_task *t, const char *hook)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "hook", hook, "agent_id",
			      a->agent_id ? a->agent_id : "", "hostname", a->hostname, "task_id",
			      t->id, "sandbox", t->sandbox);
	if (t->framework_id)
		json_object_set_new(d, "framework_id", json_string(t->framework_id));
	return d;
}

static void on_launch_done(const struct proc_run_result *res, const char *task_id,
			   json_t *spec, void *ctx)
{
	struct agent_hooks *h = ctx;
	struct agent_task *t = agent_task_find(h->a, task_id);
	if (!t || !t->hooking)
		return;
	char msg[700];
	json_t *ans = NULL;
	const char *veto = hook_launch_verdict(res->status, res->timed_out, res->overflow, res->out,
					       res->out_len, hook_jobs_timeout_ms(h->jobs), &ans, msg,
					       sizeof(msg));
	if (!veto && ans) {
		/* The hook's variables win over the task's own. */
		json_t *e = json_object_get(spec, "env");
		if (!json_is_object(e)) {
			e = json_object();
			json_object_set_new(spec, "env", e);
		}
		hook_apply_env(ans, e);
		json_t *labels = hook_labels(ans);
		if (labels) {
			json_decref(t->hook_labels);
			t->hook_labels = labels;
		}
	}
	json_decref(ans);
	if (veto)
		log_info("agent", "task '%s': %s", t->id, veto);
	agent_task_hooked(t, spec, veto);
}

bool agent_hook_launch(struct agent *a, struct agent_task *t, json_t *spec)
{
	struct agent_hooks *h = a->hooks;
	/* A custom executor's task recreated after an agent restart already ran. */
	if (!h || !h->launch || json_object_get(spec, "recovered_state"))
		return false;
	t->hooking = true;
	json_t *doc = doc_base(a, t, "task_launch");
	json_object_set(doc, "task", spec);
	int r = hook_jobs_start(h->jobs, h->launch, doc, t->id, spec, on_launch_done, h);
	if (r < 0) {
		char msg[200];
		if (r == -EAGAIN)
			snprintf(msg, sizeof(msg), "Task launch hook: %d hooks already running",
				 HOOK_MAX_RUNNING);
		else
			snprintf(msg, sizeof(msg), "Task launch hook: cannot run '%s': %s", h->launch,
				 strerror(-r));
		log_warn("agent", "task '%s': %s", t->id, msg);
		agent_task_hooked(t, spec, msg);
	}
	return true;
}

static void on_end_done(const struct proc_run_result *res, const char *task_id, json_t *spec,
			void *ctx)
{
	struct agent_hooks *h = ctx;
	char why[300];
	hook_run_failure(res->status, res->timed_out, res->overflow, hook_jobs_timeout_ms(h->jobs),
			 why, sizeof(why));
	if (why[0])
		log_warn("agent", "task '%s': task end hook %s", task_id, why);
}

void agent_hook_task_end(struct agent *a, struct agent_task *t, const json_t *u)
{
	struct agent_hooks *h = a->hooks;
	if (!h || !h->end)
		return;
	json_t *doc = doc_base(a, t, "task_end");
	json_object_set_new(doc, "status", json_deep_copy(u));
	int r = hook_jobs_start(h->jobs, h->end, doc, t->id, NULL, on_end_done, h);
	if (r < 0)
		log_warn("agent", "task '%s': task end hook not run: %s", t->id,
			 r == -EAGAIN ? "too many hooks running" : strerror(-r));
}
