/* The v1 executor API's wire (agent/xapi.h): calls accepted and refused with the field
 * named, events in Mesos's JSON shapes, the executor's environment. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/xapi.h"

#define IDS "\"executor_id\":{\"value\":\"e1\"},\"framework_id\":{\"value\":\"f1\"}"

static int parse(const char *text, struct xapi_call *c, char *err, json_t **keep)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	*keep = j;
	return xapi_call_parse(j, c, err, 256);
}

static void test_calls_ok(void **state)
{
	struct xapi_call c;
	char err[256];
	json_t *j;
	assert_int_equal(parse("{\"type\":\"SUBSCRIBE\"," IDS "}", &c, err, &j), 0);
	assert_int_equal(c.type, XAPI_SUBSCRIBE);
	assert_string_equal(c.executor_id, "e1");
	assert_string_equal(c.framework_id, "f1");
	assert_null(c.tasks);
	json_decref(j);

	assert_int_equal(parse("{\"type\":\"SUBSCRIBE\"," IDS ",\"subscribe\":{"
			       "\"unacknowledged_tasks\":[{\"task_id\":{\"value\":\"t1\"}}],"
			       "\"unacknowledged_updates\":[{\"status\":{\"task_id\":{\"value\":"
			       "\"t1\"},\"state\":\"TASK_RUNNING\",\"uuid\":\"AAEC\"}}]}}",
			       &c, err, &j), 0);
	assert_int_equal(json_array_size(c.tasks), 1);
	assert_int_equal(json_array_size(c.updates), 1);
	json_decref(j);

	assert_int_equal(parse("{\"type\":\"UPDATE\"," IDS ",\"update\":{\"status\":{"
			       "\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_FINISHED\","
			       "\"uuid\":\"AAECAw==\"}}}", &c, err, &j), 0);
	assert_int_equal(c.type, XAPI_UPDATE);
	assert_string_equal(c.task_id, "t1");
	assert_string_equal(c.state, "TASK_FINISHED");
	assert_string_equal(c.uuid, "AAECAw==");
	json_decref(j);

	assert_int_equal(parse("{\"type\":\"MESSAGE\"," IDS ",\"message\":{\"data\":\"aGk=\"}}",
			       &c, err, &j), 0);
	assert_string_equal(c.data, "aGk=");
	json_decref(j);
}

static void refused(const char *text, const char *needle)
{
	struct xapi_call c;
	char err[256] = "";
	json_t *j;
	assert_int_equal(parse(text, &c, err, &j), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not name '%s'", err, needle);
	json_decref(j);
}

static void test_calls_refused(void **state)
{
	refused("[]", "JSON object");
	refused("{}", "'type'");
	refused("{\"type\":\"LAUNCH\"," IDS "}", "Unknown call type");
	refused("{\"type\":\"SUBSCRIBE\",\"framework_id\":{\"value\":\"f\"}}", "executor_id");
	refused("{\"type\":\"SUBSCRIBE\",\"executor_id\":{\"value\":\"e\"},"
		"\"framework_id\":{\"value\":\"\"}}", "framework_id.value");
	refused("{\"type\":\"SUBSCRIBE\",\"executor_id\":{\"value\":1},"
		"\"framework_id\":{\"value\":\"f\"}}", "executor_id.value");
	refused("{\"type\":\"UPDATE\"," IDS "}", "'update'");
	refused("{\"type\":\"UPDATE\"," IDS ",\"update\":{\"status\":{\"task_id\":"
		"{\"value\":\"t\"},\"state\":\"RUNNING\",\"uuid\":\"AAEC\"}}}", "update.status.state");
	refused("{\"type\":\"UPDATE\"," IDS ",\"update\":{\"status\":{\"task_id\":"
		"{\"value\":\"t\"},\"state\":\"TASK_RUNNING\"}}}", "update.status.uuid");
	refused("{\"type\":\"UPDATE\"," IDS ",\"update\":{\"status\":{\"task_id\":"
		"{\"value\":\"t\"},\"state\":\"TASK_RUNNING\",\"uuid\":\"A=AA\"}}}",
		"update.status.uuid");
	refused("{\"type\":\"UPDATE\"," IDS ",\"update\":{\"status\":{"
		"\"state\":\"TASK_RUNNING\",\"uuid\":\"AAEC\"}}}", "task_id");
	refused("{\"type\":\"MESSAGE\"," IDS ",\"message\":{\"data\":\"not base64!\"}}",
		"message.data");
	refused("{\"type\":\"SUBSCRIBE\"," IDS ",\"subscribe\":{\"unacknowledged_tasks\":[1]}}",
		"unacknowledged_tasks[0]");
	refused("{\"type\":\"SUBSCRIBE\"," IDS ",\"subscribe\":{\"unacknowledged_updates\":"
		"[{\"status\":{}}]}}", "unacknowledged_updates[0].status");
}

static void same(json_t *got, const char *want)
{
	json_t *w = json_loads(want, 0, NULL);
	assert_non_null(w);
	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("got %s, want %s", g, want);
	}
	json_decref(w);
	json_decref(got);
}

static void test_events(void **state)
{
	json_t *ei = json_pack("{s:{s:s}}", "executor_id", "value", "e1");
	json_t *fi = json_pack("{s:s}", "name", "fw");
	json_t *ai = json_pack("{s:s}", "hostname", "h");
	same(xapi_event_subscribed(ei, fi, ai, "c1"),
	     "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"executor_info\":{\"executor_id\":"
	     "{\"value\":\"e1\"}},\"framework_info\":{\"name\":\"fw\"},\"agent_info\":"
	     "{\"hostname\":\"h\"},\"container_id\":{\"value\":\"c1\"}}}");
	json_t *ti = json_pack("{s:s}", "name", "t");
	same(xapi_event_launch(ti), "{\"type\":\"LAUNCH\",\"launch\":{\"task\":{\"name\":\"t\"}}}");
	same(xapi_event_kill("t1", 2.5), "{\"type\":\"KILL\",\"kill\":{\"task_id\":{\"value\":"
	     "\"t1\"},\"kill_policy\":{\"grace_period\":{\"nanoseconds\":2500000000}}}}");
	same(xapi_event_kill("t1", -1), "{\"type\":\"KILL\",\"kill\":{\"task_id\":{\"value\":"
	     "\"t1\"}}}");
	same(xapi_event_acknowledged("t1", "AAEC"), "{\"type\":\"ACKNOWLEDGED\",\"acknowledged\":"
	     "{\"task_id\":{\"value\":\"t1\"},\"uuid\":\"AAEC\"}}");
	same(xapi_event_message("aGk="), "{\"type\":\"MESSAGE\",\"message\":{\"data\":\"aGk=\"}}");
	same(xapi_event_error("x"), "{\"type\":\"ERROR\",\"error\":{\"message\":\"x\"}}");
	same(xapi_event_plain("SHUTDOWN"), "{\"type\":\"SHUTDOWN\"}");
	same(xapi_event_plain("HEARTBEAT"), "{\"type\":\"HEARTBEAT\"}");
	json_decref(ei);
	json_decref(fi);
	json_decref(ai);
	json_decref(ti);
}

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void test_env(void **state)
{
	struct xapi_env_in in = {
		.framework_id = "f1", .executor_id = "e1", .agent_id = "a-S0",
		.sandbox = "/w/sandboxes/x", .agent_endpoint = "127.0.0.1:5051",
		.checkpoint = 1, .grace_seconds = 5,
	};
	char *v[32];
	size_t n = 0;
	int k = xapi_env(&in, v, &n, 32);
	assert_true(k > 0);
	assert_int_equal((size_t)k, n);
	assert_true(has(v, n, "MESOS_FRAMEWORK_ID=f1"));
	assert_true(has(v, n, "MESOS_EXECUTOR_ID=e1"));
	assert_true(has(v, n, "MESOS_SLAVE_ID=a-S0"));
	assert_true(has(v, n, "MESOS_DIRECTORY=/w/sandboxes/x"));
	assert_true(has(v, n, "MESOS_SANDBOX=/w/sandboxes/x"));
	assert_true(has(v, n, "MESOS_AGENT_ENDPOINT=127.0.0.1:5051"));
	assert_true(has(v, n, "MESOS_CHECKPOINT=1"));
	assert_true(has(v, n, "MESOS_RECOVERY_TIMEOUT=15mins"));
	assert_true(has(v, n, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5secs"));
	assert_true(has(v, n, "MESOS_SLAVE_PID=slave(1)@127.0.0.1:5051"));
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	in.checkpoint = 0;
	n = 0;
	assert_true(xapi_env(&in, v, &n, 32) > 0);
	assert_true(has(v, n, "MESOS_CHECKPOINT=0"));
	for (size_t i = 0; i < n; i++)
		assert_null(strstr(v[i], "MESOS_RECOVERY_TIMEOUT"));
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	in.checkpoint = 1;
	/* No room: nothing added, nothing leaked. */
	n = 30;
	assert_int_equal(xapi_env(&in, v, &n, 32), -ENOSPC);
	assert_int_equal(n, 30);

	char d[32];
	xapi_duration(0.1, d, sizeof(d));
	assert_string_equal(d, "100ms");
	xapi_duration(2.5, d, sizeof(d));
	assert_string_equal(d, "2.5secs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_ok),
		cmocka_unit_test(test_calls_refused),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
