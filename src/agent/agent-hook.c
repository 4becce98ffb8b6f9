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
#include "net/proc-run.h"


struct hook_job {
	struct hook_job *next, *prev;
	struct agent_hooks *h;
	struct proc_run *run;
	char *task_id;
	json_t *spec; /* launch: the TaskSpec, decorated in place; NULL for an end hook */
};

struct agent_hooks {
	struct agent *a;
	char *launch, *end;
	uint32_t timeout_ms;
	struct hook_job *jobs;
	size_t njobs;
};

static int check_exe(const char *flag, const char *path)
{
	if (path[0] != '/' || access(path, X_OK) < 0) {
		log_error("agent", "--%s '%s': not an absolute path to an executable file", flag,
			  path);
		return -EINVAL;
	}
	return 0;
}

int agent_hooks_init(struct agent *a, const struct agent_config *cfg)
{
	const char *l = cfg->hook_task_launch && *cfg->hook_task_launch ? cfg->hook_task_launch : NULL;
	const char *e = cfg->hook_task_end && *cfg->hook_task_end ? cfg->hook_task_end : NULL;
	if (!l && !e)
		return 0;
	if ((l && check_exe("hook-task-launch", l) < 0) || (e && check_exe("hook-task-end", e) < 0))
		return -EINVAL;
	struct agent_hooks *h = xcalloc(1, sizeof(*h));
	h->a = a;
	h->launch = l ? xstrdup(l) : NULL;
	h->end = e ? xstrdup(e) : NULL;
	h->timeout_ms = cfg->hook_timeout_ms ? cfg->hook_timeout_ms : HOOK_DEFAULT_TIMEOUT_MS;
	a->hooks = h;
	return 0;
}

static void job_free(struct hook_job *j)
{
	struct agent_hooks *h = j->h;
	if (j->prev)
		j->prev->next = j->next;
	else
		h->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	h->njobs--;
	free(j->task_id);
	json_decref(j->spec);
	free(j);
}

void agent_hooks_free(struct agent *a)
{
	struct agent_hooks *h = a->hooks;
	if (!h)
		return;
	while (h->jobs) {
		proc_run_cancel(h->jobs->run);
		job_free(h->jobs);
	}
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

static int job_start(struct agent_hooks *h, const char *path, json_t *doc, const char *task_id,
		     json_t *spec, proc_run_cb cb)
{
	if (h->njobs >= HOOK_MAX_RUNNING) {
		json_decref(doc);
		return -EAGAIN;
	}
	char *in = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!in)
		return -ENOMEM;
	struct hook_job *j = xcalloc(1, sizeof(*j));
	j->h = h;
	j->task_id = xstrdup(task_id);
	char *argv[] = { (char *)path, NULL };
	int r = proc_run_start(h->a->base, argv, NULL, in, strlen(in), h->timeout_ms, HOOK_MAX_OUT,
			       cb, j, &j->run);
	free(in);
	if (r < 0) {
		free(j->task_id);
		free(j);
		return r;
	}
	j->spec = json_incref(spec);
	j->next = h->jobs;
	if (h->jobs)
		h->jobs->prev = j;
	h->jobs = j;
	h->njobs++;
	return 0;
}

static void on_launch_done(const struct proc_run_result *res, void *ctx)
{
	struct hook_job *j = ctx;
	struct agent_hooks *h = j->h;
	struct agent_task *t = agent_task_find(h->a, j->task_id);
	json_t *spec = json_incref(j->spec);
	job_free(j);
	if (!t || !t->hooking) {
		json_decref(spec);
		return;
	}
	char msg[700];
	json_t *ans = NULL;
	const char *veto = hook_launch_verdict(res->status, res->timed_out, res->overflow, res->out,
					       res->out_len, h->timeout_ms, &ans, msg, sizeof(msg));
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
	json_decref(spec);
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
	int r = job_start(h, h->launch, doc, t->id, spec, on_launch_done);
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

static void on_end_done(const struct proc_run_result *res, void *ctx)
{
	struct hook_job *j = ctx;
	char why[300];
	hook_run_failure(res->status, res->timed_out, res->overflow, j->h->timeout_ms, why,
			 sizeof(why));
	if (why[0])
		log_warn("agent", "task '%s': task end hook %s", j->task_id, why);
	job_free(j);
}

void agent_hook_task_end(struct agent *a, struct agent_task *t, const json_t *u)
{
	struct agent_hooks *h = a->hooks;
	if (!h || !h->end)
		return;
	json_t *doc = doc_base(a, t, "task_end");
	json_object_set_new(doc, "status", json_deep_copy(u));
	int r = job_start(h, h->end, doc, t->id, NULL, on_end_done);
	if (r < 0)
		log_warn("agent", "task '%s': task end hook not run: %s", t->id,
			 r == -EAGAIN ? "too many hooks running" : strerror(-r));
}
