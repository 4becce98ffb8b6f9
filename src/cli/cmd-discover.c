/* berth discover APP [--watch] [--json]: an app's healthy endpoints from GET /v2/services/
 * (docs/dns.md), one line per endpoint "TASK HOST IP PORTS"; with --watch the stream of
 * changes (?watch=true, Server-Sent Events): the endpoints first, then one line per change,
 * "+ TASK HOST IP PORTS" or "- TASK …", until Ctrl-C (exit 0) or the stream ends (exit 1).
 * A watch says on stderr when it has started ("berth: watching '/app' (N endpoints)"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "cli/cli-internal.h"
#include "cli/sse.h"

/* "TASK HOST IP PORTS" of one endpoint (malloc'd); control bytes shown as '?'. */
char *cli_endpoint_line(const char *prefix, json_t *ep)
{
	_cleanup_free_ char *ports = cli_join_numbers(json_object_get(ep, "ports"));
	const char *task = cli_json_str(ep, "taskId"), *host = cli_json_str(ep, "host"),
		   *ip = cli_json_str(ep, "ipAddress");
	char *line = xasprintf("%s%s %s %s %s", prefix, task ? task : "?", host ? host : "?",
			       ip ? ip : "?", ports && *ports ? ports : "-");
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return line;
}

static int print_endpoints(json_t *data)
{
	size_t i;
	json_t *ep;
	json_array_foreach(json_object_get(data, "endpoints"), i, ep) {
		_cleanup_free_ char *line = cli_endpoint_line("", ep);
		puts(line);
	}
	return 0;
}

struct watch {
	bool json;
};

static int on_event(const char *type, const char *data, size_t len, void *ctx)
{
	struct watch *w = ctx;
	if (w->json) {
		fwrite(data, 1, len, stdout);
		fputc('\n', stdout);
	} else {
		json_t *j = json_loadb(data, len, 0, NULL);
		if (!strcmp(type, "endpoints")) {
			fprintf(stderr, "berth: watching '%s' (%zu endpoints)\n",
				cli_json_str(j, "appId") ?: "?",
				json_array_size(json_object_get(j, "endpoints")));
			print_endpoints(j);
		} else if (!strcmp(type, "endpoint_added") || !strcmp(type, "endpoint_removed")) {
			_cleanup_free_ char *line =
				cli_endpoint_line(type[9] == 'a' ? "+ " : "- ", j);
			puts(line);
		} else if (!strcmp(type, "store")) {
			fprintf(stderr, "berth: %s\n",
				json_is_true(json_object_get(j, "stale"))
					? "the master cannot reach its store: last known endpoints"
					: "the master reaches its store again");
		}
		json_decref(j);
	}
	return fflush(stdout) == EOF || ferror(stdout) ? -EIO : 0;
}

int cli_discover(struct cli *c)
{
	_cleanup_free_ char *id = cli_app_id(c->o.args[0]);
	if (!id) {
		fprintf(stderr, "berth: '%s' is not an app id\n", c->o.args[0]);
		return CLI_USAGE;
	}
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/v2/services");
	cli_url_encode(&sb, id, true);
	if (c->o.seen & CLI_F_WATCH)
		strbuf_adds(&sb, "?watch=true");
	_cleanup_free_ char *target = strbuf_detach(&sb, NULL);
	if (c->o.seen & CLI_F_WATCH) {
		/* No idle limit: a service may not change for hours. */
		struct watch w = { .json = c->o.seen & CLI_F_JSON };
		return cli_follow(c, target, "service", 0, on_event, &w);
	}
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	if (rep.status != 200 || !json_is_object(rep.json))
		rc = cli_fail_reply(&rep, NULL);
	else if (c->o.seen & CLI_F_JSON)
		cli_print_json(rep.json);
	else
		print_endpoints(rep.json);
	cli_reply_release(&rep);
	return rc;
}
