/* berth node deactivate|reactivate HOST|ID: DEACTIVATE_AGENT / REACTIVATE_AGENT on the
 * master's operator API (docs/operator-api.md), the agent named by its id or hostname as
 * /master/slaves lists it (a hostname shared by several agents is refused as ambiguous). */
#include <stdio.h>
#include <string.h>

#include "cli/cli-internal.h"

static int node_set_active(struct cli *c, bool active)
{
	const char *name = c->o.args[0];
	struct cli_reply slaves;
	if (cli_request(c, "GET", "/master/slaves", NULL, &slaves) != 0)
		return CLI_FAILED;
	json_t *arr = json_object_get(slaves.json, "slaves");
	if (slaves.status != 200 || !json_is_array(arr)) {
		int rc = cli_fail_reply(&slaves, NULL);
		cli_reply_release(&slaves);
		return rc;
	}
	const char *id = NULL;
	size_t i, nhost = 0;
	json_t *s;
	json_array_foreach(arr, i, s) {
		const char *sid = cli_json_str(s, "id"), *host = cli_json_str(s, "hostname");
		if (sid && !strcmp(sid, name)) {
			id = sid;
			nhost = 1;
			break;
		}
		if (host && !strcmp(host, name)) {
			id = sid;
			nhost++;
		}
	}
	int rc = CLI_OK;
	if (!id) {
		rc = cli_fail("no agent with id or hostname '%s' (see berth node list)", name);
	} else if (nhost > 1) {
		rc = cli_fail("%zu agents have hostname '%s': name one by its id", nhost, name);
	} else {
		const char *type = active ? "REACTIVATE_AGENT" : "DEACTIVATE_AGENT";
		json_t *call = json_pack("{s:s, s:{s:{s:s}}}", "type", type,
					 active ? "reactivate_agent" : "deactivate_agent",
					 "agent_id", "value", id);
		struct cli_reply rep;
		if (cli_request(c, "POST", "/api/v1", call, &rep) != 0) {
			rc = CLI_FAILED;
		} else {
			if (rep.status != 200)
				rc = cli_fail_reply(&rep, name);
			else
				printf("agent %s (%s) %s\n", id, name,
				       active ? "reactivated" : "deactivated");
			cli_reply_release(&rep);
		}
		json_decref(call);
	}
	cli_reply_release(&slaves);
	return rc;
}

int cli_node_deactivate(struct cli *c)
{
	return node_set_active(c, false);
}

int cli_node_reactivate(struct cli *c)
{
	return node_set_active(c, true);
}
