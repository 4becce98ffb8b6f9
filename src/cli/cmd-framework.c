/* berth framework list: the frameworks the master knows, from GET /master/state. */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/util.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

/* "a,b" from "roles" (MULTI_ROLE frameworks), else the single "role", else "*". */
static char *framework_roles(json_t *fw)
{
	json_t *roles = json_object_get(fw, "roles");
	if (json_is_array(roles) && json_array_size(roles)) {
		struct strbuf sb = STRBUF_INIT;
		size_t i;
		json_t *r;
		json_array_foreach(roles, i, r)
			if (json_is_string(r))
				strbuf_addf(&sb, "%s%s", sb.len ? "," : "", json_string_value(r));
		return strbuf_detach(&sb, NULL);
	}
	const char *role = cli_json_str(fw, "role");
	return xstrdup(role ? role : "*");
}

char *cli_render_frameworks(json_t *frameworks)
{
	struct table t;
	table_init(&t, 7);
	const char *head[] = { "ID", "NAME", "ROLES", "ACTIVE", "TASKS", "CPUS", "MEM" };
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		table_add(&t, head[i]);
	size_t i;
	json_t *fw;
	json_array_foreach(frameworks, i, fw) {
		json_t *used = json_object_get(fw, "used_resources");
		table_add(&t, cli_json_str(fw, "id"));
		table_add(&t, cli_json_str(fw, "name"));
		_cleanup_free_ char *roles = framework_roles(fw);
		table_add(&t, roles);
		table_add(&t, json_is_true(json_object_get(fw, "active")) ? "true" : "false");
		table_addf(&t, "%zu", json_array_size(json_object_get(fw, "tasks")));
		table_addf(&t, "%g", cli_json_num(used, "cpus"));
		table_addf(&t, "%g", cli_json_num(used, "mem"));
	}
	char *out = table_render(&t);
	table_release(&t);
	return out;
}

int cli_framework_list(struct cli *c)
{
	struct cli_reply st;
	if (cli_request(c, "GET", "/master/state", NULL, &st) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	json_t *arr = json_object_get(st.json, "frameworks");
	if (st.status != 200 || !json_is_array(arr)) {
		rc = cli_fail_reply(&st, NULL);
	} else if (c->o.seen & CLI_F_JSON) {
		json_t *o = json_pack("{s:O}", "frameworks", arr);
		cli_print_json(o);
		json_decref(o);
	} else {
		_cleanup_free_ char *s = cli_render_frameworks(arr);
		fputs(s, stdout);
	}
	cli_reply_release(&st);
	return rc;
}
