/* berth volume list: the volumes the apps hold (GET /api/berth/volumes), local persistent
 * volumes per instance and external volumes by their resolved name. */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

char *cli_render_volumes(json_t *volumes)
{
	struct table t;
	table_init(&t, 9);
	const char *head[] = { "TYPE", "APP", "INDEX", "NAME", "PATH", "SIZE", "HOST", "STATE",
			       "TASK" };
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		table_add(&t, head[i]);
	json_t *sorted = cli_sort_by_index(volumes, "app");
	size_t i;
	json_t *v;
	json_array_foreach(sorted, i, v) {
		const char *type = cli_json_str(v, "type");
		table_add(&t, type);
		table_add(&t, cli_json_str(v, "app"));
		long long index = cli_json_index(v);
		if (index >= 0)
			table_addf(&t, "%lld", index);
		else
			table_add(&t, NULL);
		/* an external volume is known by its name, a local one by its persistence id */
		const char *name = cli_json_str(v, "name");
		table_add(&t, name ? name : cli_json_str(v, "persistenceId"));
		table_add(&t, cli_json_str(v, "containerPath"));
		json_t *size = json_object_get(v, "sizeMiB");
		if (json_is_number(size))
			table_addf(&t, "%g MiB", json_number_value(size));
		else
			table_add(&t, NULL);
		const char *host = cli_json_str(v, "host");
		table_add(&t, host ? host : cli_json_str(v, "agentId"));
		table_add(&t, cli_json_str(v, "state"));
		table_add(&t, cli_json_str(v, "taskId"));
	}
	json_decref(sorted);
	char *s = table_render(&t);
	table_release(&t);
	return s;
}

/* With --app and nothing listed: is that because the app does not exist? Returns CLI_OK
 * when it does, else CLI_FAILED after saying why. */
static int check_app(struct cli *c, const char *app_id)
{
	_cleanup_free_ char *target = cli_app_target(app_id, "");
	_cleanup_free_ char *subject = xasprintf("app '%s'", app_id);
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return CLI_FAILED;
	int rc = rep.status == 200 ? CLI_OK : cli_fail_reply(&rep, subject);
	cli_reply_release(&rep);
	return rc;
}

int cli_volume_list(struct cli *c)
{
	_cleanup_free_ char *app_id = NULL;
	if (c->o.app) {
		app_id = cli_app_id(c->o.app);
		if (!app_id) {
			fprintf(stderr, "berth: '%s' is not an app id\n", c->o.app);
			return CLI_USAGE;
		}
	}
	struct cli_reply rep;
	if (cli_request(c, "GET", "/api/berth/volumes", NULL, &rep) != 0)
		return CLI_FAILED;
	json_t *vols = json_object_get(rep.json, "volumes");
	if (rep.status != 200 || !json_is_array(vols)) {
		int rc = cli_fail_reply(&rep, NULL);
		cli_reply_release(&rep);
		return rc;
	}
	json_t *shown = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(vols, i, v) {
		const char *app = cli_json_str(v, "app");
		if (!app_id || (app && strcmp(app, app_id) == 0))
			json_array_append(shown, v);
	}
	int rc = CLI_OK;
	if (app_id && json_array_size(shown) == 0)
		rc = check_app(c, app_id);
	if (rc == CLI_OK) {
		if (c->o.seen & CLI_F_JSON) {
			json_t *out = json_pack("{s:O}", "volumes", shown);
			cli_print_json(out);
			json_decref(out);
		} else {
			_cleanup_free_ char *s = cli_render_volumes(shown);
			fputs(s, stdout);
		}
	}
	json_decref(shown);
	cli_reply_release(&rep);
	return rc;
}
