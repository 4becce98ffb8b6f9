/* berth app add | list | show | scale | restart | update | remove. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/util.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

/* ---- rendering (pure) ---- */

char *cli_render_apps(json_t *apps)
{
	struct table t;
	table_init(&t, 6);
	const char *head[] = { "ID", "INSTANCES", "CPUS", "MEM", "DEPLOYMENTS", "VERSION" };
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		table_add(&t, head[i]);
	size_t i;
	json_t *a;
	json_array_foreach(apps, i, a) {
		table_add(&t, cli_json_str(a, "id"));
		table_addf(&t, "%.0f/%.0f", cli_json_num(a, "tasksRunning"),
			   cli_json_num(a, "instances"));
		table_addf(&t, "%g", cli_json_num(a, "cpus"));
		table_addf(&t, "%g", cli_json_num(a, "mem"));
		table_addf(&t, "%zu", json_array_size(json_object_get(a, "deployments")));
		table_add(&t, cli_json_str(a, "version"));
	}
	char *s = table_render(&t);
	table_release(&t);
	return s;
}

char *cli_render_tasks(json_t *tasks, bool with_app)
{
	return cli_render_tasks_usage(tasks, with_app, NULL);
}

/* "12.5s/0.50" (CPU seconds used / cpus limit) and "23.4/64MiB" from a Mesos
 * ResourceStatistics object. */
static void add_usage(struct table *t, const json_t *st)
{
	if (!st) {
		table_add(t, "-");
		table_add(t, "-");
		return;
	}
	double cpu = json_number_value(json_object_get(st, "cpus_user_time_secs")) +
		     json_number_value(json_object_get(st, "cpus_system_time_secs"));
	table_addf(t, "%.1fs/%.2f", cpu, json_number_value(json_object_get(st, "cpus_limit")));
	double mib = 1024.0 * 1024.0;
	table_addf(t, "%.1f/%.0fMiB",
		   (double)json_integer_value(json_object_get(st, "mem_rss_bytes")) / mib,
		   (double)json_integer_value(json_object_get(st, "mem_limit_bytes")) / mib);
}

char *cli_render_tasks_usage(json_t *tasks, bool with_app, json_t *usage)
{
	struct table t;
	table_init(&t, (with_app ? 7 : 6) + (usage ? 2 : 0));
	table_add(&t, "ID");
	if (with_app)
		table_add(&t, "APP");
	table_add(&t, "INDEX");
	table_add(&t, "HOST");
	table_add(&t, "STATE");
	table_add(&t, "PORTS");
	table_add(&t, "STARTED");
	if (usage) {
		table_add(&t, "CPU(USED/LIMIT)");
		table_add(&t, "MEM(RSS/LIMIT)");
	}
	json_t *sorted = cli_sort_by_index(tasks, "appId");
	size_t i;
	json_t *task;
	json_array_foreach(sorted, i, task) {
		table_add(&t, cli_json_str(task, "id"));
		if (with_app)
			table_add(&t, cli_json_str(task, "appId"));
		long long index = cli_json_index(task);
		if (index >= 0)
			table_addf(&t, "%lld", index);
		else
			table_add(&t, NULL);
		table_add(&t, cli_json_str(task, "host"));
		table_add(&t, cli_json_str(task, "state"));
		_cleanup_free_ char *ports = cli_join_numbers(json_object_get(task, "ports"));
		table_add(&t, *ports ? ports : "-");
		table_add(&t, cli_json_str(task, "startedAt"));
		if (usage)
			add_usage(&t, json_object_get(usage, cli_json_str(task, "id") ?: ""));
	}
	json_decref(sorted);
	char *s = table_render(&t);
	table_release(&t);
	return s;
}

/* {"k":"v",…} → "k=v, …"; "-" when empty. Non-string values are shown as JSON. */
static char *join_object(json_t *obj)
{
	struct strbuf sb = STRBUF_INIT;
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		strbuf_addf(&sb, "%s%s=", sb.len ? ", " : "", k);
		if (json_is_string(v)) {
			strbuf_adds(&sb, json_string_value(v));
		} else {
			_cleanup_free_ char *j = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			strbuf_adds(&sb, j ? j : "?");
		}
	}
	if (sb.len == 0)
		strbuf_adds(&sb, "-");
	return strbuf_detach(&sb, NULL);
}

static char *join_constraints(json_t *cons)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, j;
	json_t *c, *f;
	json_array_foreach(cons, i, c) {
		if (sb.len)
			strbuf_adds(&sb, ", ");
		json_array_foreach(c, j, f) {
			if (j)
				strbuf_addch(&sb, ':');
			strbuf_adds(&sb, json_is_string(f) ? json_string_value(f) : "?");
		}
	}
	if (sb.len == 0)
		strbuf_adds(&sb, "-");
	return strbuf_detach(&sb, NULL);
}

static char *join_ports(json_t *defs)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *d;
	json_array_foreach(defs, i, d) {
		const char *name = cli_json_str(d, "name");
		strbuf_addf(&sb, "%s%.0f", sb.len ? ", " : "", cli_json_num(d, "port"));
		if (name)
			strbuf_addf(&sb, " (%s)", name);
	}
	if (sb.len == 0)
		strbuf_adds(&sb, "-");
	return strbuf_detach(&sb, NULL);
}

char *cli_render_app(json_t *app)
{
	struct table t;
	table_init(&t, 2);
	table_add(&t, "Id:");
	table_add(&t, cli_json_str(app, "id"));
	if (cli_json_str(app, "cmd")) {
		table_add(&t, "Command:");
		table_add(&t, cli_json_str(app, "cmd"));
	}
	json_t *args = json_object_get(app, "args");
	if (json_array_size(args) > 0) {
		_cleanup_free_ char *j = json_dumps(args, JSON_COMPACT);
		table_add(&t, "Args:");
		table_add(&t, j);
	}
	table_add(&t, "Instances:");
	table_addf(&t, "%.0f/%.0f running, %.0f staged, %.0f healthy, %.0f unhealthy",
		   cli_json_num(app, "tasksRunning"), cli_json_num(app, "instances"),
		   cli_json_num(app, "tasksStaged"), cli_json_num(app, "tasksHealthy"),
		   cli_json_num(app, "tasksUnhealthy"));
	table_add(&t, "Resources:");
	table_addf(&t, "cpus %g, mem %g MiB, disk %g MiB", cli_json_num(app, "cpus"),
		   cli_json_num(app, "mem"), cli_json_num(app, "disk"));
	_cleanup_free_ char *ports = join_ports(json_object_get(app, "portDefinitions"));
	table_add(&t, "Ports:");
	table_add(&t, ports);
	_cleanup_free_ char *cons = join_constraints(json_object_get(app, "constraints"));
	table_add(&t, "Constraints:");
	table_add(&t, cons);
	_cleanup_free_ char *env = join_object(json_object_get(app, "env"));
	table_add(&t, "Env:");
	table_add(&t, env);
	_cleanup_free_ char *labels = join_object(json_object_get(app, "labels"));
	table_add(&t, "Labels:");
	table_add(&t, labels);
	table_add(&t, "Version:");
	table_add(&t, cli_json_str(app, "version"));

	struct strbuf deps = STRBUF_INIT;
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(app, "deployments"), i, d) {
		const char *id = cli_json_str(d, "id");
		strbuf_addf(&deps, "%s%s", deps.len ? ", " : "", id ? id : "?");
	}
	table_add(&t, "Deployments:");
	table_add(&t, deps.len ? strbuf_str(&deps) : "none");
	strbuf_release(&deps);

	json_t *ltf = json_object_get(app, "lastTaskFailure");
	if (json_is_object(ltf)) {
		table_add(&t, "Last failure:");
		table_addf(&t, "%s %s on %s at %s: %s", cli_json_str(ltf, "taskId") ?: "?",
			   cli_json_str(ltf, "state") ?: "?", cli_json_str(ltf, "host") ?: "?",
			   cli_json_str(ltf, "timestamp") ?: "?", cli_json_str(ltf, "message") ?: "");
	}
	_cleanup_free_ char *kv = table_render(&t);
	table_release(&t);
	_cleanup_free_ char *tasks = cli_render_tasks(json_object_get(app, "tasks"), false);
	return xasprintf("%s\nTasks:\n%s", kv, tasks);
}

/* ---- commands ---- */

/* Reads a whole file (or stdin for "-") up to CLI_MAX_APP_FILE. 0 or CLI_FAILED. */
static int read_input(const char *name, struct strbuf *sb)
{
	int fd = STDIN_FILENO;
	if (strcmp(name, "-") != 0) {
		fd = open(name, O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			return cli_fail("cannot read '%s': %s", name, strerror(errno));
	}
	int rc = 0;
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			rc = cli_fail("cannot read '%s': %s", name, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (sb->len + (size_t)n > CLI_MAX_APP_FILE) {
			rc = cli_fail("'%s' is larger than %u MiB", name, CLI_MAX_APP_FILE >> 20);
			break;
		}
		strbuf_add(sb, buf, (size_t)n);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

static const char *first_deployment(json_t *json)
{
	const char *id = cli_json_str(json, "deploymentId");
	if (id)
		return id;
	return cli_json_str(json_array_get(json_object_get(json, "deployments"), 0), "id");
}

void cli_report_change(struct cli *c, json_t *json, const char *what)
{
	if (c->o.seen & CLI_F_JSON) {
		cli_print_json(json);
		return;
	}
	const char *dep = first_deployment(json);
	if (dep)
		printf("%s (deployment %s)\n", what, dep);
	else
		printf("%s\n", what);
	fflush(stdout);
}

json_t *cli_read_json_object(const char *file, const char *what)
{
	const char *shown = strcmp(file, "-") == 0 ? "stdin" : file;
	struct strbuf in = STRBUF_INIT;
	if (read_input(file, &in) != 0) {
		strbuf_release(&in);
		return NULL;
	}
	json_error_t jerr;
	json_t *app = json_loadb(strbuf_str(&in), in.len, 0, &jerr);
	strbuf_release(&in);
	if (!app) {
		cli_fail("%s:%d:%d: %s", shown, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (json_is_array(app)) {
		json_decref(app);
		cli_fail("%s holds a JSON array: '%s' takes one app per file", shown, what);
		return NULL;
	}
	if (!json_is_object(app)) {
		json_decref(app);
		cli_fail("%s does not hold a JSON object (an app definition)", shown);
		return NULL;
	}
	return app;
}

int cli_app_add(struct cli *c)
{
	json_t *app = cli_read_json_object(c->o.args[0], "app add");
	if (!app)
		return CLI_FAILED;
	const char *given = cli_json_str(app, "id");
	_cleanup_free_ char *subject = given ? xasprintf("app '%s'", given) : xstrdup("app");

	struct cli_reply rep;
	int rc = cli_request(c, "POST", "/v2/apps", app, &rep);
	json_decref(app);
	if (rc != 0)
		return rc;
	if (rep.status / 100 != 2) {
		rc = cli_fail_reply(&rep, subject);
		cli_reply_release(&rep);
		return rc;
	}
	const char *id = cli_json_str(rep.json, "id");
	_cleanup_free_ char *app_id = xstrdup(id ? id : given ? given : "");
	_cleanup_free_ char *what = xasprintf("Created app '%s'", app_id);
	cli_report_change(c, rep.json, what);
	cli_reply_release(&rep);
	if ((c->o.seen & CLI_F_WAIT) && *app_id)
		return cli_wait_app(c, app_id, CLI_WAIT_RUNNING);
	return CLI_OK;
}

int cli_app_list(struct cli *c)
{
	struct cli_reply rep;
	if (cli_request(c, "GET", "/v2/apps", NULL, &rep) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	if (rep.status != 200 || !json_is_array(json_object_get(rep.json, "apps"))) {
		rc = cli_fail_reply(&rep, NULL);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else {
		_cleanup_free_ char *s = cli_render_apps(json_object_get(rep.json, "apps"));
		fputs(s, stdout);
	}
	cli_reply_release(&rep);
	return rc;
}

/* The app id argument as a target; prints a usage error for an empty one. */
static char *app_target_arg(struct cli *c, const char *suffix, int *rc)
{
	char *target = cli_app_target(c->o.args[0], suffix);
	if (!target) {
		fprintf(stderr, "berth: '%s' is not an app id\n", c->o.args[0]);
		*rc = CLI_USAGE;
	}
	return target;
}

int cli_app_show(struct cli *c)
{
	int rc = CLI_OK;
	_cleanup_free_ char *target = app_target_arg(c, NULL, &rc);
	if (!target)
		return rc;
	_cleanup_free_ char *id = cli_app_id(c->o.args[0]);
	_cleanup_free_ char *subject = xasprintf("app '%s'", id);
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return CLI_FAILED;
	json_t *app = json_object_get(rep.json, "app");
	if (rep.status != 200 || !json_is_object(app)) {
		rc = cli_fail_reply(&rep, subject);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else {
		_cleanup_free_ char *s = cli_render_app(app);
		fputs(s, stdout);
	}
	cli_reply_release(&rep);
	return rc;
}

/* Runs one change (PUT scale, POST restart, DELETE) and waits when asked. */
static int app_change(struct cli *c, const char *method, const char *suffix, json_t *body,
		      const char *what_fmt, const char *extra, enum cli_wait_kind kind)
{
	int rc = CLI_OK;
	_cleanup_free_ char *path = app_target_arg(c, suffix, &rc);
	if (!path)
		return rc;
	_cleanup_free_ char *target =
		xasprintf("%s%s", path, (c->o.seen & CLI_F_FORCE) ? "?force=true" : "");
	_cleanup_free_ char *id = cli_app_id(c->o.args[0]);
	_cleanup_free_ char *subject = xasprintf("app '%s'", id);
	struct cli_reply rep;
	if (cli_request(c, method, target, body, &rep) != 0)
		return CLI_FAILED;
	if (rep.status / 100 != 2) {
		rc = cli_fail_reply(&rep, subject);
		cli_reply_release(&rep);
		return rc;
	}
	_cleanup_free_ char *what = xasprintf(what_fmt, id, extra);
	cli_report_change(c, rep.json, what);
	cli_reply_release(&rep);
	if (c->o.seen & CLI_F_WAIT)
		return cli_wait_app(c, id, kind);
	return CLI_OK;
}

int cli_app_scale(struct cli *c)
{
	if (strstr(c->o.args[1], "..") || strchr(c->o.args[1], ','))
		return cli_app_scale_indexes(c); /* berth: add these indexes */
	uint64_t n;
	if (parse_u64(c->o.args[1], &n) < 0 || n > 1000000) {
		fprintf(stderr, "berth: instance count must be a whole number from 0 to 1000000, "
				"not '%s'\n", c->o.args[1]);
		return CLI_USAGE;
	}
	json_t *body = json_pack("{s:I}", "instances", (json_int_t)n);
	char extra[32];
	snprintf(extra, sizeof(extra), "%llu", (unsigned long long)n);
	int rc = app_change(c, "PATCH", NULL, body, "Scaling '%s' to %s instances", extra,
			    CLI_WAIT_RUNNING);
	json_decref(body);
	return rc;
}

int cli_app_restart(struct cli *c)
{
	return app_change(c, "POST", "/restart", NULL, "Restarting '%s'%s", "",
			  CLI_WAIT_RESTART);
}

int cli_app_update(struct cli *c)
{
	_cleanup_free_ char *id = cli_app_id(c->o.args[0]);
	if (!id) {
		fprintf(stderr, "berth: '%s' is not an app id\n", c->o.args[0]);
		return CLI_USAGE;
	}
	json_t *body = cli_read_json_object(c->o.args[1], "app update");
	if (!body)
		return CLI_FAILED;
	/* an id in the body must name the same app (Marathon ignores it otherwise) */
	const char *bid = cli_json_str(body, "id");
	_cleanup_free_ char *body_id = bid ? cli_app_id(bid) : NULL;
	if (body_id && strcmp(body_id, id) != 0) {
		json_decref(body);
		return cli_fail("the file is for app '%s', not '%s'", body_id, id);
	}
	/* Marathon's PUT answers 201 with the new app when it did not exist */
	int rc = app_change(c, "PUT", NULL, body, "Updating '%s'%s", "", CLI_WAIT_UPDATE);
	json_decref(body);
	return rc;
}

int cli_app_remove(struct cli *c)
{
	return app_change(c, "DELETE", NULL, NULL, "Removing '%s'%s", "", CLI_WAIT_GONE);
}
