/* The master's hooks for v1 frameworks' tasks (docs/hooks.md): --hook-task-launch runs
 * between an ACCEPT's LAUNCH and the LAUNCH record to the agent, --hook-task-end when the
 * task's terminal update arrives. The documents: docs/hooks.md.
 *
 * INVARIANTS:
 * - hooks run through net/proc-run: never on the loop's time, bounded by --hook-timeout and
 *   HOOK_MAX_OUT bytes, at most HOOK_MAX_RUNNING at once (a launch beyond fails its task);
 * - a task whose launch hook runs is recorded (stored, its resources held) but its LAUNCH
 *   record is not queued: fw_hook_launched queues it (decorated) or ends the task with
 *   TASK_ERROR; a task killed or gone meanwhile is not launched (a KILL already sent makes
 *   the agent report it unknown, which ends it). A master that stops meanwhile kills the
 *   hooks; the task, stored without a LAUNCH, is reconciled as lost by the next leader. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "master/fw-int.h"
#include "model/hook.h"
#include "net/hook-jobs.h"


int fw_hooks_check(const struct master_config *cfg)
{
	if (hook_check_exe("master", "hook-task-launch", cfg->hook_task_launch) < 0 ||
	    hook_check_exe("master", "hook-task-end", cfg->hook_task_end) < 0)
		return -EINVAL;
	return 0;
}

static unsigned timeout_ms(const struct frameworks *fws)
{
	double s = fws->m->cfg.hook_timeout_sec;
	return s > 0 ? (unsigned)(s * 1000.0) : HOOK_DEFAULT_TIMEOUT_MS;
}

void fw_hooks_free(struct frameworks *fws)
{
	hook_jobs_free(fws->hooks);
	fws->hooks = NULL;
}

static int job_start(struct frameworks *fws, const char *path, json_t *doc, const char *task_id,
		     json_t *spec, hook_jobs_cb cb)
{
	if (!fws->hooks)
		fws->hooks = hook_jobs_new(fws->m->base, timeout_ms(fws), HOOK_MAX_RUNNING,
					   HOOK_MAX_OUT);
	return hook_jobs_start(fws->hooks, path, doc, task_id, spec, cb, fws);
}

/* The task ends before its LAUNCH went out: TASK_ERROR with msg, its resources back. */
static void refuse(struct frameworks *fws, struct fw_task *t, const char *msg)
{
	log_info("frameworks", "task '%s': %s", t->id, msg);
	json_t *s = fw_status_master(t->id, t->agent_id, "TASK_ERROR", "REASON_TASK_INVALID", msg);
	if (t->fw)
		fw_send_update(t->fw, s);
	operator_event_fw_task_updated(fws->m, t, s);
	json_decref(s);
	fw_task_forget(fws, t);
}

/* Applies a launch hook's answer to spec (the TaskSpec): its env; its own and its
 * task_info's labels (Mesos's masterLaunchTaskLabelDecorator: they replace the TaskInfo's). */
static void decorate(json_t *spec, const json_t *ans)
{
	json_t *e = json_object_get(spec, "env");
	if (json_is_object(e))
		hook_apply_env(ans, e);
	json_t *labels = hook_labels(ans);
	if (!labels)
		return;
	json_t *ti = json_object_get(spec, "task_info");
	if (json_is_object(ti))
		json_object_set(ti, "labels", labels);
	json_object_set_new(spec, "labels", labels);
}

static void on_launch_done(const struct proc_run_result *res, const char *task_id,
			   json_t *spec, void *ctx)
{
	struct frameworks *fws = ctx;
	struct fw_task *t = hmap_get(&fws->tasks, task_id);
	if (!t || task_state_terminal(t->state) || t->kill_sent || t->kill_pending)
		return;
	char msg[700];
	json_t *ans = NULL;
	const char *veto = hook_launch_verdict(res->status, res->timed_out, res->overflow, res->out,
					       res->out_len, timeout_ms(fws), &ans, msg, sizeof(msg));
	if (!veto && ans)
		decorate(spec, ans);
	json_decref(ans);
	if (veto)
		refuse(fws, t, veto);
	else
		fw_task_queue(fws, t, json_pack("{s:s, s:O}", "type", "LAUNCH", "task", spec));
}

bool fw_hook_launch(struct frameworks *fws, struct fw_task *t, const json_t *ti, json_t *spec)
{
	const char *path = fws->m->cfg.hook_task_launch;
	if (!path)
		return false;
	fw_task_queue(fws, t, NULL); /* stored now; its LAUNCH waits for the hook */
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:O}", "hook", "task_launch", "task_id", t->id,
				"framework_id", t->fw_id, "agent_id", t->agent_id, "task", ti);
	if (t->fw && json_is_object(t->fw->info))
		json_object_set(doc, "framework_info", t->fw->info);
	int r = job_start(fws, path, doc, t->id, spec, on_launch_done);
	if (r < 0) {
		char msg[300];
		if (r == -EAGAIN)
			snprintf(msg, sizeof(msg), "Task launch hook: %d hooks already running",
				 HOOK_MAX_RUNNING);
		else
			snprintf(msg, sizeof(msg), "Task launch hook: cannot run it: %s",
				 strerror(-r));
		refuse(fws, t, msg);
	}
	return true;
}

static void on_end_done(const struct proc_run_result *res, const char *task_id, json_t *spec,
			void *ctx)
{
	char why[300];
	hook_run_failure(res->status, res->timed_out, res->overflow, timeout_ms(ctx), why,
			 sizeof(why));
	if (why[0])
		log_warn("frameworks", "task '%s': task end hook %s", task_id, why);
}

void fw_hook_task_end(struct frameworks *fws, const struct fw_task *t, const json_t *status)
{
	const char *path = fws->m->cfg.hook_task_end;
	if (!path)
		return;
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:O}", "hook", "task_end", "task_id", t->id,
				"framework_id", t->fw_id, "agent_id", t->agent_id, "status", status);
	int r = job_start(fws, path, doc, t->id, NULL, on_end_done);
	if (r < 0)
		log_warn("frameworks", "task '%s': task end hook not run: %s", t->id,
			 r == -EAGAIN ? "too many hooks running" : strerror(-r));
}
