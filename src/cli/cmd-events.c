/* berth events [--type T]... [--json]: GET /v2/events as Server-Sent Events, one line per
 * event as it arrives, until Ctrl-C (exit 0) or the stream ends (exit 1: an event stream
 * does not end by itself). The body is read as it comes (httpc_stream) and framed by sse.c,
 * one event at most CLI_MAX_EVENT bytes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli-internal.h"
#include "cli/sse.h"

#define SUMMARY_MAX 1000 /* bytes of an event's summary shown */

/* ---- rendering (pure) ---- */

/* What to show per type: keys of the event's JSON, in order; a key ending in '=' is shown
 * as "key=value", others as the bare value. Missing or empty values are left out. */
static const struct {
	const char *type;
	const char *keys;
} summaries[] = {
	{ "status_update_event", "appId taskId taskStatus host= message=" },
	{ "instance_changed_event", "runSpecId instanceId condition host=" },
	{ "instance_health_changed_event", "runSpecId instanceId healthy=" },
	{ "unknown_instance_terminated_event", "runSpecId instanceId condition" },
	{ "health_status_changed_event", "appId instanceId alive=" },
	{ "failed_health_check_event", "appId taskId" },
	{ "unhealthy_instance_kill_event", "appId taskId reason=" },
	{ "add_health_check_event", "appId version=" },
	{ "remove_health_check_event", "appId version=" },
	{ "app_terminated_event", "appId" },
	{ "api_post_event", "uri clientIp=" },
	{ "group_change_success", "groupId version=" },
	{ "group_change_failed", "groupId version= reason=" },
	{ "event_stream_attached", "remoteAddress" },
	{ "event_stream_detached", "remoteAddress" },
	{ "scheduler_registered_event", "frameworkId master=" },
	{ "scheduler_reregistered_event", "master=" },
	{ "subscribe_event", "callbackUrl clientIp=" },
	{ "unsubscribe_event", "callbackUrl clientIp=" },
	{ "framework_message_event", "slaveId executorId" },
	{ "pod_created_event", "uri clientIp=" },
	{ "pod_updated_event", "uri clientIp=" },
	{ "pod_deleted_event", "uri clientIp=" },
};

/* A JSON value as text: strings as they are, the rest as compact JSON (malloc'd). NULL for
 * an absent value or an empty string. */
static char *value_text(json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_length(v) ? xstrdup(json_string_value(v)) : NULL;
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void add_value(struct strbuf *sb, const char *key, size_t klen, bool labelled, json_t *v)
{
	_cleanup_free_ char *text = value_text(v);
	if (!text)
		return;
	if (sb->len)
		strbuf_addch(sb, ' ');
	if (labelled)
		strbuf_addf(sb, "%.*s=", (int)klen, key);
	strbuf_adds(sb, text);
}

static void add_keys(struct strbuf *sb, json_t *data, const char *keys)
{
	for (const char *k = keys; *k;) {
		size_t n = strcspn(k, " ");
		bool labelled = n > 0 && k[n - 1] == '=';
		size_t klen = labelled ? n - 1 : n;
		char key[64];
		if (klen < sizeof(key)) {
			memcpy(key, k, klen);
			key[klen] = '\0';
			add_value(sb, key, klen, labelled, json_object_get(data, key));
		}
		k += n;
		while (*k == ' ')
			k++;
	}
}

/* "ID: RestartApplication /web" for the deployment events. */
static void add_deployment(struct strbuf *sb, const char *type, json_t *data)
{
	json_t *plan = json_object_get(data, "plan");
	const char *id = cli_json_str(data, "id");
	if (!id)
		id = cli_json_str(plan, "id");
	strbuf_adds(sb, id ? id : "?");
	json_t *actions = json_object_get(json_object_get(data, "currentStep"), "actions");
	struct strbuf acts = STRBUF_INIT;
	size_t i, j;
	json_t *a, *step;
	if (json_array_size(actions) == 0) {
		/* the whole plan's actions */
		json_array_foreach(json_object_get(plan, "steps"), i, step) {
			json_array_foreach(json_object_get(step, "actions"), j, a) {
				const char *app = cli_json_str(a, "app") ?: cli_json_str(a, "pod");
				strbuf_addf(&acts, "%s%s%s%s", acts.len ? ", " : "",
					    cli_json_str(a, "action") ?: "?", app ? " " : "",
					    app ? app : "");
			}
		}
	} else {
		json_array_foreach(actions, i, a) {
			const char *app = cli_json_str(a, "app") ?: cli_json_str(a, "pod");
			strbuf_addf(&acts, "%s%s%s%s", acts.len ? ", " : "",
				    cli_json_str(a, "action") ?: "?", app ? " " : "", app ? app : "");
		}
	}
	if (acts.len)
		strbuf_addf(sb, ": %s", strbuf_str(&acts));
	strbuf_release(&acts);
	if (strcmp(type, "deployment_failed") == 0 || strcmp(type, "deployment_step_failure") == 0)
		add_keys(sb, data, "reason=");
}

/* Any other type: its top-level fields as key=value. */
static void add_generic(struct strbuf *sb, json_t *data)
{
	const char *k;
	json_t *v;
	json_object_foreach(data, k, v) {
		if (strcmp(k, "eventType") == 0 || strcmp(k, "timestamp") == 0)
			continue;
		add_value(sb, k, strlen(k), true, v);
		if (sb->len > SUMMARY_MAX)
			break;
	}
}

char *cli_event_line(const char *type, json_t *data)
{
	char now[32];
	const char *ts = cli_json_str(data, "timestamp");
	if (!ts)
		ts = time_iso8601(time_real_usec(), now);
	struct strbuf sum = STRBUF_INIT;
	if (!json_is_object(data)) {
		strbuf_adds(&sum, "(data is not a JSON object)");
	} else if (strncmp(type, "deployment_", 11) == 0) {
		add_deployment(&sum, type, data);
	} else {
		const char *keys = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(summaries); i++)
			if (strcmp(summaries[i].type, type) == 0)
				keys = summaries[i].keys;
		if (keys)
			add_keys(&sum, data, keys);
		else
			add_generic(&sum, data);
	}
	if (sum.len > SUMMARY_MAX) {
		/* cut at a UTF-8 character boundary */
		size_t n = SUMMARY_MAX;
		while (n > 0 && ((unsigned char)sum.buf[n] & 0xC0) == 0x80)
			n--;
		sum.len = n;
		sum.buf[n] = '\0';
		strbuf_adds(&sum, "…");
	}
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s %s%s%s", ts, type, sum.len ? " " : "", strbuf_str(&sum));
	strbuf_release(&sum);
	/* no control characters from the network on the terminal */
	for (size_t i = 0; i < sb.len; i++)
		if ((unsigned char)sb.buf[i] < 0x20 || sb.buf[i] == 0x7f)
			sb.buf[i] = '?';
	return strbuf_detach(&sb, NULL);
}

/* ---- the stream ---- */

/* SIGINT and SIGTERM write a byte to this self-pipe; the stream waits on it as well as on
 * the network, so a signal stops it whenever it comes. */
static int stop_pipe[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
	(void)sig;
	int saved = errno;
	ssize_t n = write(stop_pipe[1], "x", 1);
	(void)n; /* a full pipe already says stop */
	errno = saved;
}

/* One stream followed by cli_follow. */
struct follow {
	struct sse_parser sse;
	sse_event_fn fn;
	void *ctx;
	bool got_bytes;   /* the stream had started */
	bool write_failed;
	size_t skipped;   /* oversized events already reported */
};

static int follow_event(const char *type, const char *data, size_t len, void *ctx)
{
	struct follow *f = ctx;
	int r = f->fn(type, data, len, f->ctx);
	if (r == -EIO)
		f->write_failed = true;
	return r;
}

static int follow_body(const char *data, size_t len, void *ctx)
{
	struct follow *f = ctx;
	f->got_bytes = true;
	int r = sse_feed(&f->sse, data, len, follow_event, f);
	if (f->sse.skipped > f->skipped) {
		f->skipped = f->sse.skipped;
		fprintf(stderr, "berth: skipped an event larger than %u KiB\n", CLI_MAX_EVENT >> 10);
	}
	return r;
}

int cli_follow(struct cli *c, const char *target, const char *what, uint64_t idle_usec,
	       sse_event_fn fn, void *ctx)
{
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return cli_fail("cannot create a pipe: %s", strerror(errno));
	struct follow f = { .fn = fn, .ctx = ctx };
	sse_init(&f.sse, CLI_MAX_EVENT);
	/* SA_RESTART: a signal while printing does not fail the write */
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESTART };
	struct sigaction old_int, old_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	_cleanup_free_ char *url = httpc_url_join(&c->url, target);
	struct httpc_request req = {
		.method = "GET",
		.url = url,
		.accept = "text/event-stream",
		.cacert = c->cacert,
		.client_cert = c->cert,
		.client_key = c->key,
		.insecure = c->insecure,
		.authorization = c->authorization,
		.timeout_usec = CLI_REQUEST_TIMEOUT_USEC,
		.max_redirects = HTTPC_MAX_REDIRECTS,
	};
	struct httpc_stream_opts so = {
		.on_body = follow_body,
		.ctx = &f,
		.idle_timeout_usec = idle_usec,
		.cancel_fd = stop_pipe[0],
	};
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "";
	int r = httpc_stream(&req, &so, &resp, err, sizeof(err));

	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
	sse_release(&f.sse);

	if (r == -ECANCELED)
		return CLI_OK;
	if (f.write_failed)
		return cli_fail("cannot write output: %s", strerror(errno));
	bool streamed = resp.status / 100 == 2; /* the 2xx head had come */
	if (streamed && (r == 0 || r == -EPIPE)) {
		httpc_response_release(&resp);
		return cli_fail("the master at %s closed the %s stream", c->master, what);
	}
	if (r < 0) {
		if (streamed || f.got_bytes)
			return cli_fail("%s stream from %s broke: %s", what, c->master, err);
		return cli_fail_http(c, r, err);
	}
	struct cli_reply rep = { .status = resp.status, .body = TAKE_PTR(resp.body),
				 .body_len = resp.body_len };
	if (rep.body_len > 0)
		rep.json = json_loadb(rep.body, rep.body_len, JSON_DECODE_ANY, NULL);
	httpc_response_release(&resp);
	int rc = cli_fail_reply(&rep, NULL);
	cli_reply_release(&rep);
	return rc;
}

static int on_event(const char *type, const char *data, size_t len, void *ctx)
{
	bool json = *(bool *)ctx;
	if (json) {
		fwrite(data, 1, len, stdout);
		fputc('\n', stdout);
	} else {
		json_t *j = json_loadb(data, len, 0, NULL);
		_cleanup_free_ char *line = cli_event_line(type, j);
		json_decref(j);
		puts(line);
	}
	return fflush(stdout) == EOF || ferror(stdout) ? -EIO : 0;
}

int cli_events(struct cli *c)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/v2/events");
	for (size_t i = 0; i < c->o.ntypes; i++) {
		strbuf_adds(&sb, i ? "&event_type=" : "?event_type=");
		cli_url_encode(&sb, c->o.types[i], false);
	}
	_cleanup_free_ char *target = strbuf_detach(&sb, NULL);
	bool json = c->o.seen & CLI_F_JSON;
	return cli_follow(c, target, "event", CLI_EVENTS_IDLE_USEC, on_event, &json);
}
