/* berth task list | task kill, berth node list. */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

/* {task id: statistics} of the running tasks, from their agents' /monitor/statistics
 * (proxied by the master); NULL when no agent has any (agents without --isolation cgroups
 * measure nothing), so the table keeps its usual columns. At most USAGE_MAX_AGENTS agents
 * are asked. */
#define USAGE_MAX_AGENTS 64
static json_t *task_usage(struct cli *c, json_t *tasks)
{
	json_t *asked = json_object(), *usage = json_object();
	size_t i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		const char *aid = cli_json_str(t, "slaveId");
		const char *st = cli_json_str(t, "state");
		if (!aid || !st || strcmp(st, "TASK_RUNNING") || json_object_get(asked, aid) ||
		    json_object_size(asked) >= USAGE_MAX_AGENTS)
			continue;
		json_object_set_new(asked, aid, json_true());
		struct strbuf sb = STRBUF_INIT;
		strbuf_adds(&sb, "/api/berth/agents/");
		cli_url_encode(&sb, aid, false);
		strbuf_adds(&sb, "/monitor/statistics");
		_cleanup_free_ char *target = strbuf_detach(&sb, NULL);
		struct cli_reply rep;
		if (cli_request(c, "GET", target, NULL, &rep) != 0)
			continue;
		size_t j;
		json_t *e;
		if (rep.status == 200)
			json_array_foreach(rep.json, j, e) {
				const char *id = cli_json_str(e, "executor_id");
				json_t *s = json_object_get(e, "statistics");
				if (id && json_is_object(s))
					json_object_set(usage, id, s);
			}
		cli_reply_release(&rep);
	}
	json_decref(asked);
	if (!json_object_size(usage)) {
		json_decref(usage);
		return NULL;
	}
	return usage;
}

int cli_task_list(struct cli *c)
{
	int rc = CLI_OK;
	_cleanup_free_ char *target = NULL;
	if (c->o.app) {
		target = cli_app_target(c->o.app, "/tasks");
		if (!target) {
			fprintf(stderr, "berth: '%s' is not an app id\n", c->o.app);
			return CLI_USAGE;
		}
	} else {
		target = xstrdup("/v2/tasks");
	}
	_cleanup_free_ char *id = c->o.app ? cli_app_id(c->o.app) : NULL;
	_cleanup_free_ char *subject = id ? xasprintf("app '%s'", id) : NULL;
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return CLI_FAILED;
	json_t *tasks = json_object_get(rep.json, "tasks");
	if (rep.status != 200 || !json_is_array(tasks)) {
		rc = cli_fail_reply(&rep, subject);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else {
		json_t *usage = task_usage(c, tasks);
		_cleanup_free_ char *s = cli_render_tasks_usage(tasks, true, usage);
		json_decref(usage);
		fputs(s, stdout);
	}
	cli_reply_release(&rep);
	return rc;
}

/* Finds the task in GET /v2/tasks. Returns its app id (malloc'd) or NULL after printing
 * why (*rc set). */
static char *task_app(struct cli *c, const char *task_id, int *rc)
{
	struct cli_reply rep;
	if (cli_request(c, "GET", "/v2/tasks", NULL, &rep) != 0) {
		*rc = CLI_FAILED;
		return NULL;
	}
	json_t *tasks = json_object_get(rep.json, "tasks");
	if (rep.status != 200 || !json_is_array(tasks)) {
		*rc = cli_fail_reply(&rep, NULL);
		cli_reply_release(&rep);
		return NULL;
	}
	char *app = NULL;
	size_t i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		const char *id = cli_json_str(t, "id");
		const char *a = cli_json_str(t, "appId");
		if (id && a && strcmp(id, task_id) == 0) {
			app = xstrdup(a);
			break;
		}
	}
	cli_reply_release(&rep);
	if (!app)
		*rc = cli_fail("task '%s' does not exist", task_id);
	return app;
}

int cli_task_kill(struct cli *c)
{
	const char *task_id = c->o.args[0];
	bool scale = c->o.seen & CLI_F_SCALE;
	int rc = CLI_OK;
	_cleanup_free_ char *app = task_app(c, task_id, &rc);
	if (!app)
		return rc;
	struct strbuf sb = STRBUF_INIT;
	_cleanup_free_ char *base = cli_app_target(app, "/tasks/");
	strbuf_adds(&sb, base ? base : "/v2/apps//tasks/");
	cli_url_encode(&sb, task_id, false);
	if (scale)
		strbuf_adds(&sb, "?scale=true");
	_cleanup_free_ char *target = strbuf_detach(&sb, NULL);
	_cleanup_free_ char *subject = xasprintf("task '%s'", task_id);

	struct cli_reply rep;
	if (cli_request(c, "DELETE", target, NULL, &rep) != 0)
		return CLI_FAILED;
	if (rep.status / 100 != 2) {
		rc = cli_fail_reply(&rep, subject);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else {
		const char *dep = cli_json_str(rep.json, "deploymentId");
		if (scale)
			printf("Killing task '%s' and scaling '%s' down by one%s%s%s\n", task_id, app,
			       dep ? " (deployment " : "", dep ? dep : "", dep ? ")" : "");
		else
			printf("Killing task '%s' ('%s' will replace it)\n", task_id, app);
	}
	cli_reply_release(&rep);
	return rc;
}

/* Mesos attributes {"rack":"3","weight":2} → "rack:3;weight:2". */
static char *join_attributes(json_t *attrs)
{
	struct strbuf sb = STRBUF_INIT;
	const char *k;
	json_t *v;
	json_object_foreach(attrs, k, v) {
		strbuf_addf(&sb, "%s%s:", sb.len ? ";" : "", k);
		if (json_is_string(v))
			strbuf_adds(&sb, json_string_value(v));
		else if (json_is_number(v))
			strbuf_addf(&sb, "%g", json_number_value(v));
		else {
			_cleanup_free_ char *j = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			strbuf_adds(&sb, j ? j : "?");
		}
	}
	if (sb.len == 0)
		strbuf_adds(&sb, "-");
	return strbuf_detach(&sb, NULL);
}

/* Reservations {"web":{"cpus":1,"mem":512,…},…} → "web:cpus=1,mem=512" (roles joined by
 * ';', zero scalars and ranges left out); NULL when there are none. */
char *cli_join_reserved(json_t *reserved)
{
	static const char *const scalars[] = { "cpus", "mem", "disk", "gpus" };
	struct strbuf sb = STRBUF_INIT;
	const char *role;
	json_t *res;
	json_object_foreach(reserved, role, res) {
		size_t mark = sb.len;
		strbuf_addf(&sb, "%s%s:", sb.len ? ";" : "", role);
		bool any = false;
		for (size_t k = 0; k < ARRAY_SIZE(scalars); k++) {
			double v = cli_json_num(res, scalars[k]);
			if (v == 0)
				continue;
			strbuf_addf(&sb, "%s%s=%g", any ? "," : "", scalars[k], v);
			any = true;
		}
		if (!any) {
			sb.len = mark;
			sb.buf[mark] = '\0';
		}
	}
	if (sb.len == 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

char *cli_render_nodes(json_t *slaves, json_t *tasks)
{
	/* A RESERVED column only when some agent has reservations (reserved_resources). */
	bool with_reserved = false;
	size_t i;
	json_t *s;
	json_array_foreach(slaves, i, s) {
		_cleanup_free_ char *r = cli_join_reserved(json_object_get(s, "reserved_resources"));
		if (r)
			with_reserved = true;
	}
	struct table t;
	table_init(&t, with_reserved ? 9 : 8);
	const char *head[] = { "ID", "HOSTNAME", "STATE", "CPUS", "MEM", "DISK", "TASKS",
			       "RESERVED", "ATTRIBUTES" };
	for (size_t h = 0; h < ARRAY_SIZE(head); h++)
		if (with_reserved || strcmp(head[h], "RESERVED"))
			table_add(&t, head[h]);
	json_array_foreach(slaves, i, s) {
		const char *id = cli_json_str(s, "id");
		json_t *res = json_object_get(s, "resources");
		json_t *used = json_object_get(s, "used_resources");
		json_t *active = json_object_get(s, "active");
		size_t ntasks = 0, j;
		json_t *task;
		json_array_foreach(tasks, j, task) {
			const char *sid = cli_json_str(task, "slaveId");
			if (id && sid && strcmp(id, sid) == 0)
				ntasks++;
		}
		table_add(&t, id);
		table_add(&t, cli_json_str(s, "hostname"));
		const char *bs = cli_json_str(s, "berth_state");
		bool maint = bs && (!strcmp(bs, "deactivated") || !strcmp(bs, "draining") ||
				    !strcmp(bs, "drained") || !strcmp(bs, "gone"));
		table_add(&t, maint ? bs : json_is_false(active) ? "inactive" : "active");
		table_addf(&t, "%g/%g", cli_json_num(used, "cpus"), cli_json_num(res, "cpus"));
		table_addf(&t, "%g/%g", cli_json_num(used, "mem"), cli_json_num(res, "mem"));
		table_addf(&t, "%g/%g", cli_json_num(used, "disk"), cli_json_num(res, "disk"));
		table_addf(&t, "%zu", ntasks);
		if (with_reserved) {
			_cleanup_free_ char *r =
				cli_join_reserved(json_object_get(s, "reserved_resources"));
			table_add(&t, r ? r : "-");
		}
		_cleanup_free_ char *attrs = join_attributes(json_object_get(s, "attributes"));
		table_add(&t, attrs);
	}
	char *out = table_render(&t);
	table_release(&t);
	return out;
}

int cli_node_list(struct cli *c)
{
	struct cli_reply slaves, tasks;
	if (cli_request(c, "GET", "/master/slaves", NULL, &slaves) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	json_t *arr = json_object_get(slaves.json, "slaves");
	if (slaves.status != 200 || !json_is_array(arr)) {
		rc = cli_fail_reply(&slaves, NULL);
		cli_reply_release(&slaves);
		return rc;
	}
	if (c->o.seen & CLI_F_JSON) {
		cli_print_json(slaves.json);
		cli_reply_release(&slaves);
		return CLI_OK;
	}
	/* /master/slaves has no reservations: take them from /master/state when it has. */
	struct cli_reply st;
	if (cli_request(c, "GET", "/master/state", NULL, &st) == 0) {
		size_t i, j;
		json_t *s, *ss;
		json_t *sslaves = st.status == 200 ? json_object_get(st.json, "slaves") : NULL;
		json_array_foreach(arr, i, s) {
			const char *id = cli_json_str(s, "id");
			json_array_foreach(sslaves, j, ss) {
				const char *sid = cli_json_str(ss, "id");
				json_t *rr = json_object_get(ss, "reserved_resources");
				if (id && sid && !strcmp(id, sid) && json_is_object(rr) &&
				    !json_object_get(s, "reserved_resources"))
					json_object_set(s, "reserved_resources", rr);
			}
		}
		cli_reply_release(&st);
	}
	if (cli_request(c, "GET", "/v2/tasks", NULL, &tasks) != 0) {
		cli_reply_release(&slaves);
		return CLI_FAILED;
	}
	if (tasks.status != 200) {
		rc = cli_fail_reply(&tasks, NULL);
	} else {
		_cleanup_free_ char *s = cli_render_nodes(arr, json_object_get(tasks.json, "tasks"));
		fputs(s, stdout);
	}
	cli_reply_release(&tasks);
	cli_reply_release(&slaves);
	return rc;
}
