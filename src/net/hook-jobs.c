/* The running hooks of an agent or a master (hook-jobs.h).
 *
 * INVARIANTS:
 * - every job is on the set's list from a successful proc_run_start until its callback
 *   starts (it is unlinked and freed first) or the set is freed (the run is cancelled);
 * - njobs is the list's length, never above max_running. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/hook-jobs.h"

struct hook_job {
	struct hook_job *next, *prev;
	struct hook_jobs *h;
	struct proc_run *run;
	char *task_id;
	json_t *spec;
	hook_jobs_cb cb;
	void *ctx;
};

struct hook_jobs {
	struct event_base *base;
	unsigned timeout_ms;
	size_t max_running, max_out;
	struct hook_job *jobs;
	size_t njobs;
};

struct hook_jobs *hook_jobs_new(struct event_base *base, unsigned timeout_ms,
				size_t max_running, size_t max_out)
{
	struct hook_jobs *h = xcalloc(1, sizeof(*h));
	h->base = base;
	h->timeout_ms = timeout_ms;
	h->max_running = max_running;
	h->max_out = max_out;
	return h;
}

unsigned hook_jobs_timeout_ms(const struct hook_jobs *h)
{
	return h->timeout_ms;
}

static void job_free(struct hook_job *j)
{
	struct hook_jobs *h = j->h;
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

void hook_jobs_free(struct hook_jobs *h)
{
	if (!h)
		return;
	while (h->jobs) {
		proc_run_cancel(h->jobs->run);
		job_free(h->jobs);
	}
	free(h);
}

static void on_done(const struct proc_run_result *res, void *ctx)
{
	struct hook_job *j = ctx;
	hook_jobs_cb cb = j->cb;
	void *cb_ctx = j->ctx;
	char *task_id = j->task_id;
	json_t *spec = j->spec;
	j->task_id = NULL;
	j->spec = NULL;
	job_free(j);
	cb(res, task_id, spec, cb_ctx);
	free(task_id);
	json_decref(spec);
}

int hook_jobs_start(struct hook_jobs *h, const char *path, json_t *doc, const char *task_id,
		    json_t *spec, hook_jobs_cb cb, void *ctx)
{
	if (h->njobs >= h->max_running) {
		json_decref(doc);
		return -EAGAIN;
	}
	char *in = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!in)
		return -ENOMEM;
	struct hook_job *j = xcalloc(1, sizeof(*j));
	j->h = h;
	j->cb = cb;
	j->ctx = ctx;
	char *argv[] = { (char *)path, NULL };
	int r = proc_run_start(h->base, argv, NULL, in, strlen(in), h->timeout_ms, h->max_out,
			       on_done, j, &j->run);
	free(in);
	if (r < 0) {
		free(j);
		return r;
	}
	j->task_id = xstrdup(task_id);
	j->spec = json_incref(spec);
	j->next = h->jobs;
	if (h->jobs)
		h->jobs->prev = j;
	h->jobs = j;
	h->njobs++;
	return 0;
}

int hook_check_exe(const char *who, const char *flag, const char *path)
{
	if (path && (path[0] != '/' || access(path, X_OK) < 0)) {
		log_error(who, "--%s '%s': not an absolute path to an executable file", flag, path);
		return -EINVAL;
	}
	return 0;
}
