/* berth discover APP [--watch] [--json]: an app's healthy endpoints from GET /v2/services/
 * (docs/dns.md), one line per endpoint "TASK HOST IP PORTS"; with --watch the stream of
 * changes (?watch=true, Server-Sent Events): the endpoints first, then one line per change,
 * "+ TASK HOST IP PORTS" or "- TASK …", until Ctrl-C (exit 0) or the stream ends (exit 1).
 * A watch says on stderr when it has started ("berth: watching '/app' (N endpoints)"). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static int stop_pipe[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
	(void)sig;
	int saved = errno;
	ssize_t n = write(stop_pipe[1], "x", 1);
	(void)n;
	errno = saved;
}

struct watch {
	struct sse_parser sse;
	bool json, got_bytes, write_failed;
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
	if (fflush(stdout) == EOF || ferror(stdout)) {
		w->write_failed = true;
		return -EIO;
	}
	return 0;
}

static int on_body(const char *data, size_t len, void *ctx)
{
	struct watch *w = ctx;
	w->got_bytes = true;
	return sse_feed(&w->sse, data, len, on_event, w);
}

static int watch(struct cli *c, const char *target)
{
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return cli_fail("cannot create a pipe: %s", strerror(errno));
	struct watch w = { .json = c->o.seen & CLI_F_JSON };
	sse_init(&w.sse, CLI_MAX_EVENT);
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESTART };
	struct sigaction old_int, old_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	_cleanup_free_ char *url = httpc_url_join(&c->url, target);
	struct httpc_request req = {
		.method = "GET", .url = url, .accept = "text/event-stream", .cacert = c->cacert,
		.timeout_usec = CLI_REQUEST_TIMEOUT_USEC, .max_redirects = HTTPC_MAX_REDIRECTS,
	};
	/* No idle limit: a service may not change for hours. */
	struct httpc_stream_opts so = { .on_body = on_body, .ctx = &w, .cancel_fd = stop_pipe[0] };
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "";
	int r = httpc_stream(&req, &so, &resp, err, sizeof(err));
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
	sse_release(&w.sse);
	if (r == -ECANCELED)
		return CLI_OK;
	if (w.write_failed)
		return cli_fail("cannot write output: %s", strerror(errno));
	bool streamed = resp.status / 100 == 2;
	if (streamed && (r == 0 || r == -EPIPE)) {
		httpc_response_release(&resp);
		return cli_fail("the master at %s closed the service stream", c->master);
	}
	if (r < 0)
		return streamed || w.got_bytes
			       ? cli_fail("service stream from %s broke: %s", c->master, err)
			       : cli_fail_http(c, r, err);
	struct cli_reply rep = { .status = resp.status, .body = TAKE_PTR(resp.body),
				 .body_len = resp.body_len };
	if (rep.body_len > 0)
		rep.json = json_loadb(rep.body, rep.body_len, JSON_DECODE_ANY, NULL);
	httpc_response_release(&resp);
	int rc = cli_fail_reply(&rep, NULL);
	cli_reply_release(&rep);
	return rc;
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
	if (c->o.seen & CLI_F_WATCH)
		return watch(c, target);
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
