/* berth logs TASK_ID [--stderr] [--follow]: the task's sandbox file through the master
 * (GET /api/berth/tasks/{id}/files/read), read in chunks of up to 1 MiB. --follow polls
 * every 0.5 s from the last offset until interrupted, or until the task is terminal (or
 * gone from /v2/tasks) and the file stopped growing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "cli/cli-internal.h"

#define LOG_CHUNK (1024 * 1024)
#define FOLLOW_POLL_NSEC 500000000L

static bool state_terminal(const char *s)
{
	static const char *const live[] = { "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING",
					    "TASK_KILLING", "TASK_UNREACHABLE" };
	for (size_t i = 0; i < ARRAY_SIZE(live); i++)
		if (strcmp(s, live[i]) == 0)
			return false;
	return true;
}

/* 1 when the task is terminal or no longer listed, 0 when live, -1 after an error. */
static int task_done(struct cli *c, const char *task_id)
{
	struct cli_reply rep;
	if (cli_request(c, "GET", "/v2/tasks", NULL, &rep) != 0)
		return -1;
	if (rep.status != 200) {
		cli_fail_reply(&rep, NULL);
		cli_reply_release(&rep);
		return -1;
	}
	int done = 1;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(rep.json, "tasks"), i, t) {
		const char *id = cli_json_str(t, "id");
		const char *state = cli_json_str(t, "state");
		if (id && strcmp(id, task_id) == 0) {
			done = state && state_terminal(state);
			break;
		}
	}
	cli_reply_release(&rep);
	return done;
}

/* Reads one chunk at *offset and writes it to stdout. Returns the byte count, or -1 after
 * printing an error (or -2 for a 404). */
static long read_chunk(struct cli *c, const char *base, const char *task_id, uint64_t *offset)
{
	_cleanup_free_ char *target = xasprintf("%s&offset=%llu&length=%d", base,
						(unsigned long long)*offset, LOG_CHUNK);
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return -1;
	if (rep.status == 404) {
		cli_reply_release(&rep);
		return -2;
	}
	json_t *data = json_object_get(rep.json, "data");
	if (rep.status != 200 || !json_is_string(data)) {
		_cleanup_free_ char *subject = xasprintf("task '%s'", task_id);
		cli_fail_reply(&rep, subject);
		cli_reply_release(&rep);
		return -1;
	}
	size_t n = json_string_length(data);
	if (n > LOG_CHUNK) /* the agent sent more than asked: still bounded by the client cap */
		n = LOG_CHUNK;
	if (n && fwrite(json_string_value(data), 1, n, stdout) != n) {
		cli_reply_release(&rep);
		cli_fail("cannot write output: %s", strerror(errno));
		return -1;
	}
	*offset += n;
	cli_reply_release(&rep);
	return (long)n;
}

int cli_logs(struct cli *c)
{
	const char *task_id = c->o.args[0];
	bool follow = c->o.seen & CLI_F_FOLLOW;
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/api/berth/tasks/");
	cli_url_encode(&sb, task_id, false);
	strbuf_addf(&sb, "/files/read?path=%s", c->o.seen & CLI_F_STDERR ? "stderr" : "stdout");
	_cleanup_free_ char *base = strbuf_detach(&sb, NULL);

	uint64_t offset = 0;
	bool first = true;
	bool was_done = false;
	for (;;) {
		long n = read_chunk(c, base, task_id, &offset);
		if (n == -2) {
			if (first)
				return cli_fail("task '%s' does not exist", task_id);
			return CLI_OK; /* the sandbox went away while following */
		}
		if (n < 0)
			return CLI_FAILED;
		first = false;
		if (n == LOG_CHUNK)
			continue;
		if (!follow)
			return CLI_OK;
		fflush(stdout);
		if (n > 0)
			was_done = false;
		if (n == 0) {
			/* done once a read that started after the task ended found nothing new */
			if (was_done)
				return CLI_OK;
			int d = task_done(c, task_id);
			if (d < 0)
				return CLI_FAILED;
			if (d == 1) {
				was_done = true;
				continue;
			}
		}
		struct timespec ts = { 0, FOLLOW_POLL_NSEC };
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
}
