/* berth job add|list|run|history|remove|graph: the jobs framework through its Chronos API
 * (/v1/scheduler, docs/jobs.md) and berth's run history (/api/berth/jobs/{name}/history). */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

#define CHRONOS "/v1/scheduler"

/* "/v1/scheduler/job/<name>" and the like, the name encoded (malloc'd). */
static char *job_target(const char *what, const char *name, const char *query)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, CHRONOS "/%s", what);
	cli_url_encode(&sb, name, false);
	if (query)
		strbuf_adds(&sb, query);
	return strbuf_detach(&sb, NULL);
}

/* A call whose success has no body (204): 0, or CLI_FAILED after saying why. */
static int call(struct cli *c, const char *method, const char *target, json_t *body,
		const char *subject)
{
	struct cli_reply rep;
	if (cli_request(c, method, target, body, &rep) != 0)
		return CLI_FAILED;
	int rc = rep.status / 100 == 2 ? CLI_OK : cli_fail_reply(&rep, subject);
	cli_reply_release(&rep);
	return rc;
}

int cli_job_add(struct cli *c)
{
	json_t *def = cli_read_json_object(c->o.args[0], "job");
	if (!def)
		return CLI_FAILED;
	_cleanup_free_ char *name = xstrdup(cli_json_str(def, "name") ?: "?");
	_cleanup_free_ char *subject = xasprintf("job '%s'", name);
	bool dependent = json_array_size(json_object_get(def, "parents")) > 0 &&
			 !json_object_get(def, "schedule");
	int rc = call(c, "POST", dependent ? CHRONOS "/dependency" : CHRONOS "/iso8601", def,
		      subject);
	json_decref(def);
	if (rc == CLI_OK && !(c->o.seen & CLI_F_JSON))
		printf("job '%s' saved\n", name);
	return rc;
}

char *cli_render_jobs(json_t *jobs, json_t *summary)
{
	struct table t;
	table_init(&t, 8);
	const char *head[] = { "NAME", "SCHEDULE", "STATE", "LAST", "OK", "ERRORS",
			       "LAST SUCCESS", "LAST ERROR" };
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		table_add(&t, head[i]);
	size_t i;
	json_t *j;
	json_array_foreach(jobs, i, j) {
		const char *name = cli_json_str(j, "name");
		json_t *sum = NULL;
		size_t k;
		json_t *s;
		json_array_foreach(summary, k, s)
			if (name && cli_json_str(s, "name") && !strcmp(cli_json_str(s, "name"), name))
				sum = s;
		table_add(&t, name);
		json_t *parents = json_object_get(j, "parents");
		if (json_array_size(parents)) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_adds(&sb, "after ");
			size_t p;
			json_t *pv;
			json_array_foreach(parents, p, pv)
				strbuf_addf(&sb, "%s%s", p ? "," : "", json_string_value(pv) ?: "?");
			table_add(&t, strbuf_str(&sb));
			strbuf_release(&sb);
		} else {
			table_add(&t, cli_json_str(j, "schedule"));
		}
		table_add(&t, json_is_true(json_object_get(j, "disabled")) ? "disabled"
									 : cli_json_str(sum, "state"));
		table_add(&t, cli_json_str(sum, "status"));
		table_addf(&t, "%g", cli_json_num(j, "successCount"));
		table_addf(&t, "%g", cli_json_num(j, "errorCount"));
		const char *ls = cli_json_str(j, "lastSuccess"), *le = cli_json_str(j, "lastError");
		table_add(&t, ls && *ls ? ls : NULL);
		table_add(&t, le && *le ? le : NULL);
	}
	char *out = table_render(&t);
	table_release(&t);
	return out;
}

int cli_job_list(struct cli *c)
{
	struct cli_reply jobs, sum;
	if (cli_request(c, "GET", CHRONOS "/jobs", NULL, &jobs) != 0)
		return CLI_FAILED;
	if (jobs.status != 200 || !json_is_array(jobs.json)) {
		int rc = cli_fail_reply(&jobs, NULL);
		cli_reply_release(&jobs);
		return rc;
	}
	if (c->o.seen & CLI_F_JSON) {
		cli_print_json(jobs.json);
		cli_reply_release(&jobs);
		return CLI_OK;
	}
	if (cli_request(c, "GET", CHRONOS "/jobs/summary", NULL, &sum) != 0) {
		cli_reply_release(&jobs);
		return CLI_FAILED;
	}
	_cleanup_free_ char *s = cli_render_jobs(jobs.json, json_object_get(sum.json, "jobs"));
	fputs(s, stdout);
	cli_reply_release(&sum);
	cli_reply_release(&jobs);
	return CLI_OK;
}

int cli_job_run(struct cli *c)
{
	const char *name = c->o.args[0];
	char *query = NULL;
	if (c->o.nargs > 1) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_adds(&sb, "?arguments=");
		for (size_t i = 1; i < c->o.nargs; i++) {
			if (i > 1)
				strbuf_adds(&sb, "%20");
			cli_url_encode(&sb, c->o.args[i], false);
		}
		query = strbuf_detach(&sb, NULL);
	}
	_cleanup_free_ char *target = job_target("job/", name, query);
	free(query);
	_cleanup_free_ char *subject = xasprintf("job '%s'", name);
	int rc = call(c, "PUT", target, NULL, subject);
	if (rc == CLI_OK && !(c->o.seen & CLI_F_JSON))
		printf("job '%s' started\n", name);
	return rc;
}

int cli_job_remove(struct cli *c)
{
	const char *name = c->o.args[0];
	_cleanup_free_ char *target = job_target("job/", name, NULL);
	_cleanup_free_ char *subject = xasprintf("job '%s'", name);
	int rc = call(c, "DELETE", target, NULL, subject);
	if (rc == CLI_OK && !(c->o.seen & CLI_F_JSON))
		printf("job '%s' removed\n", name);
	return rc;
}

char *cli_render_job_history(json_t *h)
{
	struct table t;
	table_init(&t, 6);
	const char *head[] = { "SCHEDULED", "STARTED", "FINISHED", "RESULT", "ATTEMPTS", "TASK" };
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		table_add(&t, head[i]);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(h, "runs"), i, r) {
		const char *st = cli_json_str(r, "startedAt");
		table_add(&t, cli_json_str(r, "scheduledAt"));
		table_add(&t, st && *st ? st : NULL);
		table_add(&t, cli_json_str(r, "finishedAt"));
		table_add(&t, cli_json_str(r, "result"));
		table_addf(&t, "%g", cli_json_num(r, "attempts"));
		table_add(&t, cli_json_str(r, "taskId"));
	}
	json_array_foreach(json_object_get(h, "pending"), i, r) {
		table_add(&t, cli_json_str(r, "scheduledAt"));
		table_add(&t, NULL);
		table_add(&t, NULL);
		table_add(&t, cli_json_str(r, "state"));
		table_addf(&t, "%g", cli_json_num(r, "attempt") + 1);
		table_add(&t, cli_json_str(r, "taskId"));
	}
	char *tab = table_render(&t);
	table_release(&t);
	const char *next = cli_json_str(h, "nextRun");
	char *out = xasprintf("%snext run: %s, runs skipped: %g\n", tab,
			      next && *next ? next : "-", cli_json_num(h, "skipCount"));
	free(tab);
	return out;
}

int cli_job_history(struct cli *c)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/api/berth/jobs/");
	cli_url_encode(&sb, c->o.args[0], false);
	strbuf_adds(&sb, "/history");
	_cleanup_free_ char *target = strbuf_detach(&sb, NULL);
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	if (rep.status != 200 || !json_is_object(rep.json)) {
		rc = cli_fail_reply(&rep, NULL);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else {
		_cleanup_free_ char *s = cli_render_job_history(rep.json);
		fputs(s, stdout);
	}
	cli_reply_release(&rep);
	return rc;
}

int cli_job_graph(struct cli *c)
{
	struct cli_reply rep;
	if (cli_request(c, "GET", CHRONOS "/graph/csv", NULL, &rep) != 0)
		return CLI_FAILED;
	if (rep.status != 200) {
		int rc = cli_fail_reply(&rep, NULL);
		cli_reply_release(&rep);
		return rc;
	}
	/* every job with its last result and state, then "parent -> child" lines */
	struct strbuf links = STRBUF_INIT, alone = STRBUF_INIT;
	char *body = rep.body ? rep.body : "";
	char *save = NULL;
	char *copy = xstrdup(body);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { 0 };
		char *s2 = NULL;
		size_t n = 0;
		for (char *x = strtok_r(line, ",", &s2); x && n < 4; x = strtok_r(NULL, ",", &s2))
			f[n++] = x;
		if (n >= 3 && !strcmp(f[0], "link"))
			strbuf_addf(&links, "%s -> %s\n", f[1], f[2]);
		else if (n >= 3 && !strcmp(f[0], "node"))
			strbuf_addf(&alone, "%s (%s%s%s)\n", f[1], f[2], n > 3 ? ", " : "",
				    n > 3 ? f[3] : "");
	}
	free(copy);
	for (size_t i = 0; i < links.len; i++)
		if ((unsigned char)links.buf[i] < 0x20 && links.buf[i] != '\n')
			links.buf[i] = '?';
	for (size_t i = 0; i < alone.len; i++)
		if ((unsigned char)alone.buf[i] < 0x20 && alone.buf[i] != '\n')
			alone.buf[i] = '?';
	fputs(strbuf_str(&alone), stdout);
	if (links.len)
		fputs(strbuf_str(&links), stdout);
	strbuf_release(&links);
	strbuf_release(&alone);
	cli_reply_release(&rep);
	return CLI_OK;
}
