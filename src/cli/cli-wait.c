/* --wait: poll GET /v2/apps/{id} (for a rollback, GET /v2/deployments too) every 0.25 s
 * and show "'/web': 3/5 running" until the change is done or --timeout passes. On a terminal the progress is one line rewritten in
 * place; otherwise one line per change, so logs stay readable. With --json, stdout holds
 * only JSON and progress goes to stderr. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli-internal.h"

#define POLL_USEC 250000

/* Is the task on the version kind wants? A restart wants the app's version exactly; an
 * update wants the current configuration: a task started at or after the last config
 * change (a later scale-only version keeps the older tasks). Versions are ISO-8601 in one
 * format, so they compare as strings. */
static bool task_current(json_t *app, json_t *task, enum cli_wait_kind kind)
{
	const char *version = cli_json_str(app, "version");
	const char *tv = cli_json_str(task, "version");
	if (!version || !tv)
		return false;
	if (kind != CLI_WAIT_UPDATE)
		return strcmp(tv, version) == 0;
	const char *cfg = cli_json_str(json_object_get(app, "versionInfo"), "lastConfigChangeAt");
	return strcmp(tv, cfg ? cfg : version) >= 0;
}

static size_t running_current(json_t *app, enum cli_wait_kind kind)
{
	size_t n = 0, i;
	json_t *t;
	json_array_foreach(json_object_get(app, "tasks"), i, t) {
		const char *state = cli_json_str(t, "state");
		if (state && strcmp(state, "TASK_RUNNING") == 0 && task_current(app, t, kind))
			n++;
	}
	return n;
}

bool cli_app_settled(json_t *app, double stopped, enum cli_wait_kind kind)
{
	if (!json_is_object(app))
		return false;
	double instances = cli_json_num(app, "instances");
	double running = cli_json_num(app, "tasksRunning");
	if (running != instances - stopped ||
	    json_array_size(json_object_get(app, "deployments")) > 0)
		return false;
	if (kind == CLI_WAIT_RESTART || kind == CLI_WAIT_UPDATE) {
		/* every task, not just the running ones, must be on the wanted version */
		size_t i;
		json_t *t;
		json_array_foreach(json_object_get(app, "tasks"), i, t) {
			if (!task_current(app, t, kind))
				return false;
		}
	}
	return kind != CLI_WAIT_GONE;
}

/* "3/5 running" and the like, without the app id. */
static char *progress_status(json_t *app, enum cli_wait_kind kind)
{
	double instances = cli_json_num(app, "instances");
	double running = cli_json_num(app, "tasksRunning");
	if (kind == CLI_WAIT_GONE) {
		size_t left = json_array_size(json_object_get(app, "tasks"));
		return xasprintf("removing, %zu task%s left", left, left == 1 ? "" : "s");
	}
	if (kind == CLI_WAIT_RESTART || kind == CLI_WAIT_UPDATE)
		return xasprintf("%.0f/%.0f running, %zu/%.0f %s", running, instances,
				 running_current(app, kind), instances,
				 kind == CLI_WAIT_RESTART ? "restarted" : "updated");
	return xasprintf("%.0f/%.0f running", running, instances);
}

char *cli_progress_line(json_t *app, enum cli_wait_kind kind)
{
	const char *id = cli_json_str(app, "id");
	_cleanup_free_ char *status = progress_status(app, kind);
	return xasprintf("'%s': %s", id ? id : "?", status);
}

struct progress {
	FILE *out;
	bool tty;
	char *last;
	size_t last_len;
};

static void progress_show(struct progress *p, const char *line)
{
	if (p->last && strcmp(p->last, line) == 0)
		return;
	size_t len = strlen(line);
	if (p->tty) {
		fprintf(p->out, "\r%s", line);
		for (size_t i = len; i < p->last_len; i++)
			fputc(' ', p->out);
	} else {
		fprintf(p->out, "%s\n", line);
	}
	fflush(p->out);
	free(p->last);
	p->last = xstrdup(line);
	p->last_len = len;
}

static void progress_end(struct progress *p, const char *final)
{
	if (final) {
		if (p->tty) {
			progress_show(p, final);
			fputc('\n', p->out);
		} else {
			fprintf(p->out, "%s\n", final);
		}
	} else if (p->tty && p->last) {
		fputc('\n', p->out);
	}
	fflush(p->out);
	free(p->last);
	p->last = NULL;
}

static void sleep_usec(uint64_t usec)
{
	struct timespec ts = { .tv_sec = (time_t)(usec / 1000000),
			       .tv_nsec = (long)(usec % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* How many of the app's instances the operator stopped (berth instance stop): they count in
 * `instances` but run no task. Asked only when fewer tasks run than instances and no
 * deployment is listed, the one case where it decides; 0 when the answer is not there. */
static double stopped_instances(struct cli *c, json_t *app, const char *id)
{
	if (!json_is_object(app) ||
	    cli_json_num(app, "tasksRunning") >= cli_json_num(app, "instances") ||
	    json_array_size(json_object_get(app, "deployments")) > 0)
		return 0;
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/api/berth/apps");
	cli_url_encode(&sb, id, true);
	strbuf_adds(&sb, "/instances");
	_cleanup_free_ char *target = strbuf_detach(&sb, NULL);
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return 0;
	double n = rep.status == 200 ? cli_json_num(rep.json, "stopped") : 0;
	cli_reply_release(&rep);
	return n;
}

int cli_wait_app(struct cli *c, const char *app_id, enum cli_wait_kind kind)
{
	_cleanup_free_ char *target = cli_app_target(app_id, NULL);
	_cleanup_free_ char *id = cli_app_id(app_id);
	struct progress p = { .out = c->o.seen & CLI_F_JSON ? stderr : stdout };
	p.tty = isatty(fileno(p.out)) == 1;
	uint64_t deadline = time_mono_usec() + c->o.timeout_sec * 1000000;
	c->deadline = deadline;
	int rc;
	for (;;) {
		uint64_t started = time_mono_usec();
		struct cli_reply rep;
		if (cli_request(c, "GET", target, NULL, &rep) != 0) {
			rc = CLI_FAILED;
			progress_end(&p, NULL);
			break;
		}
		if (rep.status == 404 && kind == CLI_WAIT_GONE) {
			cli_reply_release(&rep);
			_cleanup_free_ char *fin = xasprintf("'%s': removed", id);
			progress_end(&p, fin);
			rc = CLI_OK;
			break;
		}
		if (rep.status != 200) {
			progress_end(&p, NULL);
			_cleanup_free_ char *subject = xasprintf("app '%s'", id);
			rc = cli_fail_reply(&rep, subject);
			cli_reply_release(&rep);
			break;
		}
		json_t *app = json_object_get(rep.json, "app");
		_cleanup_free_ char *line = cli_progress_line(app, kind);
		if (cli_app_settled(app, stopped_instances(c, app, id), kind)) {
			_cleanup_free_ char *fin = xasprintf("%s, done", line);
			progress_end(&p, fin);
			cli_reply_release(&rep);
			rc = CLI_OK;
			break;
		}
		progress_show(&p, line);
		uint64_t now = time_mono_usec();
		if (now >= deadline) {
			progress_end(&p, NULL);
			_cleanup_free_ char *status = progress_status(app, kind);
			rc = cli_fail("timed out after %llu s waiting for '%s' (%s)",
				      (unsigned long long)c->o.timeout_sec, id, status);
			cli_reply_release(&rep);
			break;
		}
		cli_reply_release(&rep);
		uint64_t next = started + POLL_USEC;
		if (next > deadline)
			next = deadline;
		if (next > now)
			sleep_usec(next - now);
	}
	c->deadline = 0;
	return rc;
}

/* Is deployment id still listed? 1 yes, 0 no, -1 after printing an error. */
static int deployment_listed(struct cli *c, const char *id)
{
	struct cli_reply rep;
	if (cli_request(c, "GET", "/v2/deployments", NULL, &rep) != 0)
		return -1;
	if (rep.status != 200 || !json_is_array(rep.json)) {
		cli_fail_reply(&rep, NULL);
		cli_reply_release(&rep);
		return -1;
	}
	int found = 0;
	size_t i;
	json_t *d;
	json_array_foreach(rep.json, i, d) {
		const char *did = cli_json_str(d, "id");
		if (did && strcmp(did, id) == 0)
			found = 1;
	}
	cli_reply_release(&rep);
	return found;
}

/* The app's progress for a deployment ("'/web': 2/3 running, 1/3 updated", or "'/web':
 * removed" once it is gone), or NULL after printing an error. */
static char *deployment_app_line(struct cli *c, const char *app_id, const char *target)
{
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return NULL;
	char *line = NULL;
	if (rep.status == 404) {
		line = xasprintf("'%s': removed", app_id);
	} else if (rep.status != 200 || !json_is_object(json_object_get(rep.json, "app"))) {
		_cleanup_free_ char *subject = xasprintf("app '%s'", app_id);
		cli_fail_reply(&rep, subject);
	} else {
		line = cli_progress_line(json_object_get(rep.json, "app"), CLI_WAIT_UPDATE);
	}
	cli_reply_release(&rep);
	return line;
}

int cli_wait_deployment(struct cli *c, const char *dep_id, const char *app_id)
{
	_cleanup_free_ char *target = app_id ? cli_app_target(app_id, NULL) : NULL;
	_cleanup_free_ char *id = app_id ? cli_app_id(app_id) : NULL;
	struct progress p = { .out = c->o.seen & CLI_F_JSON ? stderr : stdout };
	p.tty = isatty(fileno(p.out)) == 1;
	uint64_t deadline = time_mono_usec() + c->o.timeout_sec * 1000000;
	c->deadline = deadline;
	int rc;
	for (;;) {
		uint64_t started = time_mono_usec();
		int listed = deployment_listed(c, dep_id);
		if (listed < 0) {
			progress_end(&p, NULL);
			rc = CLI_FAILED;
			break;
		}
		_cleanup_free_ char *line = NULL;
		if (target) {
			line = deployment_app_line(c, id, target);
			if (!line) {
				progress_end(&p, NULL);
				rc = CLI_FAILED;
				break;
			}
		} else {
			line = xasprintf("deployment %s: %s", dep_id, listed ? "in progress" : "done");
		}
		if (!listed) {
			/* "'/web': 3/3 running, 3/3 updated, done"; a removed app says so alone */
			bool removed = strlen(line) > 9 && strcmp(line + strlen(line) - 9, ": removed") == 0;
			_cleanup_free_ char *fin = target && !removed ? xasprintf("%s, done", line)
								    : xstrdup(line);
			progress_end(&p, fin);
			rc = CLI_OK;
			break;
		}
		progress_show(&p, line);
		uint64_t now = time_mono_usec();
		if (now >= deadline) {
			progress_end(&p, NULL);
			rc = cli_fail("timed out after %llu s waiting for deployment %s",
				      (unsigned long long)c->o.timeout_sec, dep_id);
			break;
		}
		uint64_t next = started + POLL_USEC;
		if (next > deadline)
			next = deadline;
		if (next > now)
			sleep_usec(next - now);
	}
	c->deadline = 0;
	return rc;
}
