/* berth deployment list | rollback. */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

/* "RestartApplication" for one app's deployment, "StartApplication /a, StartApplication
 * /b" when it touches several. */
static char *join_actions(json_t *actions, bool with_app)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *a;
	json_array_foreach(actions, i, a) {
		const char *action = cli_json_str(a, "action");
		const char *app = cli_json_str(a, "app");
		if (!app)
			app = cli_json_str(a, "pod");
		strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", action ? action : "?");
		if (with_app && app)
			strbuf_addf(&sb, " %s", app);
	}
	if (sb.len == 0)
		strbuf_adds(&sb, "-");
	return strbuf_detach(&sb, NULL);
}

static char *join_strings(json_t *arr)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		if (json_is_string(v))
			strbuf_addf(&sb, "%s%s", sb.len ? "," : "", json_string_value(v));
	}
	if (sb.len == 0)
		strbuf_adds(&sb, "-");
	return strbuf_detach(&sb, NULL);
}

char *cli_render_deployments(json_t *deployments)
{
	struct table t;
	table_init(&t, 5);
	const char *head[] = { "ID", "APPS", "ACTIONS", "STEP", "VERSION" };
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		table_add(&t, head[i]);
	size_t i;
	json_t *d;
	json_array_foreach(deployments, i, d) {
		json_t *apps = json_object_get(d, "affectedApps");
		json_t *pods = json_object_get(d, "affectedPods");
		size_t napps = json_array_size(apps) + json_array_size(pods);
		_cleanup_free_ char *app_list = join_strings(apps);
		/* the current step's actions; the plan's first step if none is current */
		json_t *actions = json_object_get(d, "currentActions");
		if (json_array_size(actions) == 0) {
			double cur = cli_json_num(d, "currentStep");
			size_t idx = cur >= 1 ? (size_t)cur - 1 : 0;
			actions = json_object_get(json_array_get(json_object_get(d, "steps"), idx),
						  "actions");
		}
		_cleanup_free_ char *action_list = join_actions(actions, napps > 1);
		table_add(&t, cli_json_str(d, "id"));
		table_add(&t, app_list);
		table_add(&t, action_list);
		table_addf(&t, "%.0f/%.0f", cli_json_num(d, "currentStep"),
			   cli_json_num(d, "totalSteps"));
		table_add(&t, cli_json_str(d, "version"));
	}
	char *s = table_render(&t);
	table_release(&t);
	return s;
}

int cli_deployment_list(struct cli *c)
{
	struct cli_reply rep;
	if (cli_request(c, "GET", "/v2/deployments", NULL, &rep) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	if (rep.status != 200 || !json_is_array(rep.json)) {
		rc = cli_fail_reply(&rep, NULL);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else {
		_cleanup_free_ char *s = cli_render_deployments(rep.json);
		fputs(s, stdout);
	}
	cli_reply_release(&rep);
	return rc;
}

/* The first app deployment id touches (malloc'd), NULL when it is not listed; -1 in *rc
 * after an error. */
static char *deployment_app(struct cli *c, const char *id, int *rc)
{
	struct cli_reply rep;
	*rc = 0;
	if (cli_request(c, "GET", "/v2/deployments", NULL, &rep) != 0) {
		*rc = -1;
		return NULL;
	}
	char *app = NULL;
	size_t i;
	json_t *d;
	json_array_foreach(json_is_array(rep.json) ? rep.json : NULL, i, d) {
		const char *did = cli_json_str(d, "id");
		const char *a = json_string_value(json_array_get(json_object_get(d, "affectedApps"), 0));
		if (did && a && strcmp(did, id) == 0) {
			app = xstrdup(a);
			break;
		}
	}
	cli_reply_release(&rep);
	return app;
}

int cli_deployment_rollback(struct cli *c)
{
	const char *dep = c->o.args[0];
	bool force = c->o.seen & CLI_F_FORCE;
	if (force && (c->o.seen & CLI_F_WAIT)) {
		fprintf(stderr, "berth: --wait has nothing to wait for with --force (the deployment "
				"just stops)\n");
		return CLI_USAGE;
	}
	if (!*dep) {
		fprintf(stderr, "berth: '' is not a deployment id\n");
		return CLI_USAGE;
	}
	int lrc;
	_cleanup_free_ char *app = deployment_app(c, dep, &lrc);
	if (lrc < 0)
		return CLI_FAILED;
	_cleanup_free_ char *of = app ? xasprintf(" of '%s'", app) : xstrdup("");

	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/v2/deployments/");
	cli_url_encode(&sb, dep, false);
	if (force)
		strbuf_adds(&sb, "?force=true");
	_cleanup_free_ char *target = strbuf_detach(&sb, NULL);
	struct cli_reply rep;
	if (cli_request(c, "DELETE", target, NULL, &rep) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	if (rep.status / 100 != 2) {
		_cleanup_free_ char *subject = xasprintf("deployment '%s'", dep);
		rc = cli_fail_reply(&rep, subject);
		cli_reply_release(&rep);
		return rc;
	}
	if (rep.status == 202 || !cli_json_str(rep.json, "deploymentId")) {
		/* --force: the deployment just stops where it is */
		if (c->o.seen & CLI_F_JSON) {
			json_t *j = json_is_object(rep.json) ? json_incref(rep.json) : json_object();
			cli_print_json(j);
			json_decref(j);
		} else {
			printf("Stopped deployment %s%s without rolling back; the app stays as it "
			       "is now\n", dep, of);
		}
		cli_reply_release(&rep);
		return CLI_OK;
	}
	_cleanup_free_ char *rollback = xstrdup(cli_json_str(rep.json, "deploymentId"));
	_cleanup_free_ char *what = xasprintf("Rolling back deployment %s%s", dep, of);
	cli_report_change(c, rep.json, what);
	cli_reply_release(&rep);
	if (c->o.seen & CLI_F_WAIT)
		rc = cli_wait_deployment(c, rollback, app);
	return rc;
}
