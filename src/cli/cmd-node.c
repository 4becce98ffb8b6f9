/* berth node drain|deactivate|reactivate|gone HOST|ID: DRAIN_AGENT, DEACTIVATE_AGENT,
 * REACTIVATE_AGENT, MARK_AGENT_GONE on the master's operator API (docs/operator-api.md), the
 * agent named by its id or hostname as /master/slaves lists it (a hostname shared by several
 * agents not gone is refused as ambiguous). drain --wait polls /master/slaves until the agent is drained. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "cli/cli-internal.h"

enum node_op { NODE_DRAIN, NODE_DEACTIVATE, NODE_REACTIVATE, NODE_GONE };

/* The agent's berth_state in /master/slaves (malloc'd), NULL when not listed. */
static char *agent_state(struct cli *c, const char *id, int *rc)
{
	struct cli_reply rep;
	if (cli_request(c, "GET", "/master/slaves", NULL, &rep) != 0) {
		*rc = CLI_FAILED;
		return NULL;
	}
	char *st = NULL;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(rep.json, "slaves"), i, s) {
		const char *sid = cli_json_str(s, "id"), *bs = cli_json_str(s, "berth_state");
		if (sid && bs && !strcmp(sid, id))
			st = strdup(bs);
	}
	cli_reply_release(&rep);
	return st;
}

static int wait_drained(struct cli *c, const char *id, const char *name)
{
	uint64_t deadline = time_mono_usec() + c->o.timeout_sec * 1000000;
	for (;;) {
		int rc = CLI_OK;
		char *st = agent_state(c, id, &rc);
		if (rc != CLI_OK)
			return rc;
		bool done = st && !strcmp(st, "drained");
		bool gone = !st || strcmp(st, "draining");
		free(st);
		if (done) {
			printf("agent %s (%s) drained\n", id, name);
			return CLI_OK;
		}
		if (gone)
			return cli_fail("agent %s (%s) is no longer draining", id, name);
		if (time_mono_usec() >= deadline)
			return cli_fail("timed out after %llu s waiting for agent %s (%s) to drain",
					(unsigned long long)c->o.timeout_sec, id, name);
		struct timespec ts = { 0, 250 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static int node_call(struct cli *c, enum node_op op)
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
		const char *bs = cli_json_str(s, "berth_state");
		if (host && !strcmp(host, name) && !(bs && !strcmp(bs, "gone"))) {
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
		static const char *const types[] = { "DRAIN_AGENT", "DEACTIVATE_AGENT",
						     "REACTIVATE_AGENT", "MARK_AGENT_GONE" };
		static const char *const fields[] = { "drain_agent", "deactivate_agent",
						      "reactivate_agent", "mark_agent_gone" };
		static const char *const done[] = { "draining", "deactivated", "reactivated",
						    "marked gone" };
		json_t *call = json_pack("{s:s, s:{s:{s:s}}}", "type", types[op], fields[op],
					 "agent_id", "value", id);
		struct cli_reply rep;
		if (cli_request(c, "POST", "/api/v1", call, &rep) != 0) {
			rc = CLI_FAILED;
		} else {
			if (rep.status != 200)
				rc = cli_fail_reply(&rep, name);
			else
				printf("agent %s (%s) %s\n", id, name, done[op]);
			cli_reply_release(&rep);
		}
		json_decref(call);
		if (rc == CLI_OK && op == NODE_DRAIN && (c->o.seen & CLI_F_WAIT)) {
			char *idc = strdup(id);
			cli_reply_release(&slaves);
			rc = wait_drained(c, idc, name);
			free(idc);
			return rc;
		}
	}
	cli_reply_release(&slaves);
	return rc;
}

int cli_node_drain(struct cli *c)
{
	return node_call(c, NODE_DRAIN);
}

int cli_node_deactivate(struct cli *c)
{
	return node_call(c, NODE_DEACTIVATE);
}

int cli_node_reactivate(struct cli *c)
{
	return node_call(c, NODE_REACTIVATE);
}

int cli_node_gone(struct cli *c)
{
	return node_call(c, NODE_GONE);
}
