/* berth instance list | stop | start | env, and `berth app scale ID 1000..1019`: an app's
 * instances by index through /api/berth/apps/{id}/instances (docs/api.md "Instances"),
 * as the Kafka scheduler's CLI does for brokers. Index lists ("3", "3..5", "0,2,7..9") go
 * to the master as given; it checks them. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

/* "/api/berth/apps/<id>/instances[/<op>]" (malloc'd), or NULL for a bad id. */
static char *instances_target(const char *user_id, const char *op)
{
	_cleanup_free_ char *id = cli_app_id(user_id);
	if (!id)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/api/berth/apps");
	cli_url_encode(&sb, id, true);
	strbuf_adds(&sb, "/instances");
	if (op) {
		strbuf_addch(&sb, '/');
		strbuf_adds(&sb, op);
	}
	return strbuf_detach(&sb, NULL);
}

char *cli_render_instances(json_t *answer)
{
	struct table t;
	table_init(&t, 6);
	const char *head[] = { "INDEX", "STATE", "HOST", "PORTS", "TASK", "ENV" };
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		table_add(&t, head[i]);
	size_t i;
	json_t *in;
	json_array_foreach(json_object_get(answer, "list"), i, in) {
		table_addf(&t, "%lld", cli_json_index(in));
		table_add(&t, cli_json_str(in, "state"));
		const char *host = cli_json_str(in, "host");
		table_add(&t, host ? host : cli_json_str(in, "agentId"));
		_cleanup_free_ char *ports = cli_join_numbers(json_object_get(in, "ports"));
		table_add(&t, ports);
		table_add(&t, cli_json_str(in, "taskId"));
		struct strbuf env = STRBUF_INIT;
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(in, "env"), k, v)
			strbuf_addf(&env, "%s%s=%s", env.len ? " " : "", k, json_string_value(v));
		table_add(&t, strbuf_str(&env));
		strbuf_release(&env);
	}
	char *s = table_render(&t);
	table_release(&t);
	return s;
}

int cli_instance_list(struct cli *c)
{
	_cleanup_free_ char *target = instances_target(c->o.args[0], NULL);
	if (!target) {
		fprintf(stderr, "berth: '%s' is not an app id\n", c->o.args[0]);
		return CLI_USAGE;
	}
	_cleanup_free_ char *id = cli_app_id(c->o.args[0]);
	_cleanup_free_ char *subject = xasprintf("app '%s'", id);
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	if (rep.status != 200 || !json_is_object(rep.json)) {
		rc = cli_fail_reply(&rep, subject);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else {
		_cleanup_free_ char *s = cli_render_instances(rep.json);
		fputs(s, stdout);
	}
	cli_reply_release(&rep);
	return rc;
}

/* --wait for stop/start: polls the list until every index of idx (a JSON array) is in
 * state want ("stopped", "running") or --timeout passes. */
static int wait_states(struct cli *c, const char *id, json_t *idx, const char *want)
{
	_cleanup_free_ char *target = instances_target(id, NULL);
	_cleanup_free_ char *subject = xasprintf("app '%s'", id);
	uint64_t deadline = time_mono_usec() + c->o.timeout_sec * 1000000;
	c->deadline = deadline;
	for (;;) {
		struct cli_reply rep;
		if (cli_request(c, "GET", target, NULL, &rep) != 0)
			return CLI_FAILED;
		if (rep.status != 200) {
			int rc = cli_fail_reply(&rep, subject);
			cli_reply_release(&rep);
			return rc;
		}
		size_t left = 0, i, k;
		json_t *x, *in;
		json_array_foreach(idx, i, x) {
			bool ok = false;
			json_array_foreach(json_object_get(rep.json, "list"), k, in)
				if (cli_json_index(in) == json_integer_value(x)) {
					const char *st = cli_json_str(in, "state");
					ok = st && !strcmp(st, want);
				}
			left += !ok;
		}
		cli_reply_release(&rep);
		if (!left) {
			printf("'%s': %s, done\n", id, want);
			return CLI_OK;
		}
		if (time_mono_usec() >= deadline)
			return cli_fail("timed out after %llu s waiting for %zu instance(s) of '%s' "
					"to be %s", (unsigned long long)c->o.timeout_sec, left, id,
					want);
		usleep(250000);
	}
}

/* POST op with body (taken); prints what changed. */
static int post(struct cli *c, const char *op, json_t *body)
{
	_cleanup_free_ char *target = instances_target(c->o.args[0], op);
	if (!target) {
		json_decref(body);
		fprintf(stderr, "berth: '%s' is not an app id\n", c->o.args[0]);
		return CLI_USAGE;
	}
	if (c->o.seen & CLI_F_FORCE) {
		char *t = xasprintf("%s?force=true", target);
		free(target);
		target = t;
	}
	_cleanup_free_ char *id = cli_app_id(c->o.args[0]);
	_cleanup_free_ char *subject = xasprintf("app '%s'", id);
	struct cli_reply rep;
	int r = cli_request(c, "POST", target, body, &rep);
	json_decref(body);
	if (r != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	if (rep.status / 100 != 2) {
		rc = cli_fail_reply(&rep, subject);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else if (!strcmp(op, "add")) {
		printf("Adding instances %s to '%s' (deployment %s)\n", c->o.args[1], id,
		       cli_json_str(rep.json, "deploymentId"));
	} else if (!strcmp(op, "env")) {
		_cleanup_free_ char *rs = cli_join_numbers(json_object_get(rep.json, "restarted"));
		printf("Set the environment of instances %s of '%s'%s%s\n", c->o.args[1], id,
		       *rs ? "; restarted " : " (applies at their next start)", rs);
	} else {
		_cleanup_free_ char *ch = cli_join_numbers(json_object_get(rep.json, "changed"));
		printf("%s instances %s of '%s'%s%s\n", !strcmp(op, "stop") ? "Stopped" : "Started",
		       c->o.args[1], id, *ch ? "; changed: " : "; no change", ch);
	}
	json_t *idx = rc == CLI_OK ? json_incref(json_object_get(rep.json, "indexes")) : NULL;
	cli_reply_release(&rep);
	if (rc == CLI_OK && (c->o.seen & CLI_F_WAIT)) {
		if (!strcmp(op, "add"))
			rc = cli_wait_app(c, id, CLI_WAIT_RUNNING);
		else
			rc = wait_states(c, id, idx, !strcmp(op, "stop") ? "stopped" : "running");
	}
	json_decref(idx);
	return rc;
}

int cli_instance_stop(struct cli *c)
{
	return post(c, "stop", json_pack("{s:s}", "indexes", c->o.args[1]));
}

int cli_instance_start(struct cli *c)
{
	return post(c, "start", json_pack("{s:s}", "indexes", c->o.args[1]));
}

/* NAME=VALUE sets, a bare NAME unsets. */
int cli_instance_env(struct cli *c)
{
	json_t *env = json_object();
	for (size_t i = 2; i < c->o.nargs; i++) {
		const char *a = c->o.args[i];
		const char *eq = strchr(a, '=');
		_cleanup_free_ char *name = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
		if (!*name) {
			json_decref(env);
			fprintf(stderr, "berth: '%s' is not NAME=VALUE or NAME\n", a);
			return CLI_USAGE;
		}
		json_object_set_new(env, name, eq ? json_string(eq + 1) : json_null());
	}
	return post(c, "env", json_pack("{s:s, s:o, s:b}", "indexes", c->o.args[1], "env", env,
					"restart", (c->o.seen & CLI_F_RESTART) != 0));
}

int cli_app_scale_indexes(struct cli *c)
{
	return post(c, "add", json_pack("{s:s}", "indexes", c->o.args[1]));
}
