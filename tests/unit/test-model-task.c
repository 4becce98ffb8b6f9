/* Task ids (both Marathon forms), backoff arithmetic, Java double formatting and the task
 * environment (reference/compat.md §3.5). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/task.h"

#define UUID "564bd685-4c30-11e5-98c1-be5b2935a987"

static void test_task_ids(void **state)
{
	char id[TASK_ID_MAX], safe[TASK_ID_MAX], uuid[TASK_ID_MAX];
	unsigned attempt = 0;
	task_id_format("/minecraft/survival-world", UUID, 1, id);
	assert_string_equal(id, "minecraft_survival-world.instance-" UUID "._app.1");
	assert_int_equal(task_id_parse(id, safe, uuid, &attempt), 0);
	assert_string_equal(safe, "minecraft_survival-world");
	assert_string_equal(uuid, UUID);
	assert_int_equal(attempt, 1);

	task_id_format("/a.b/instance-x", UUID, 42, id);
	assert_int_equal(task_id_parse(id, safe, uuid, &attempt), 0);
	assert_string_equal(safe, "a.b_instance-x");
	assert_int_equal(attempt, 42);

	/* Legacy form. */
	assert_int_equal(task_id_parse("prod_web." UUID, safe, uuid, &attempt), 0);
	assert_string_equal(safe, "prod_web");
	assert_string_equal(uuid, UUID);
	assert_int_equal(attempt, 1);

	static const char *const bad[] = {
		"",
		"web",
		"web.instance-" UUID,
		"web.instance-" UUID "._app.",
		"web.instance-" UUID "._app.x",
		"web.instance-" UUID "._app.1x",
		"web.instance-" UUID "._app.99999999999",
		".instance-" UUID "._app.1",
		"." UUID,
		"web.564bd685-4c30-11e5-98c1-be5b2935a98",
		"web.564bd685x4c30-11e5-98c1-be5b2935a987",
		"web.instance-zzzzzzzz-4c30-11e5-98c1-be5b2935a987._app.1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (task_id_parse(bad[i], safe, uuid, &attempt) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	/* Too long for the buffers. */
	char longid[TASK_ID_MAX + 10];
	memset(longid, 'a', sizeof(longid));
	memcpy(longid + sizeof(longid) - 38, "." UUID, 38);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(task_id_parse(longid, safe, uuid, &attempt), -EINVAL);
}

static void test_states(void **state)
{
	(void)state;
	static const char *const terminal[] = { "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED",
						"TASK_LOST", "TASK_ERROR", "TASK_DROPPED",
						"TASK_GONE", "TASK_GONE_BY_OPERATOR" };
	static const char *const live[] = { "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING",
					    "TASK_KILLING", "TASK_UNREACHABLE", "TASK_UNKNOWN" };
	for (size_t i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++) {
		assert_true(task_state_terminal(terminal[i]));
		char copy[32];
		snprintf(copy, sizeof(copy), "%s", terminal[i]);
		const char *in = task_state_intern(copy);
		assert_non_null(in);
		assert_ptr_not_equal(in, copy);
		assert_string_equal(in, terminal[i]);
	}
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		assert_false(task_state_terminal(live[i]));
		assert_string_equal(task_state_intern(live[i]), live[i]);
	}
	assert_false(task_state_terminal(NULL));
	assert_false(task_state_terminal("task_finished"));
	assert_null(task_state_intern("TASK_RUNNINGX"));
	assert_null(task_state_intern(NULL));
}

static void test_backoff(void **state)
{
	static const struct {
		double b, f, max;
		unsigned failures;
		double want;
	} cases[] = {
		{ 1, 1.15, 300, 0, 0 },
		{ 1, 1.15, 300, 1, 1 },
		{ 1, 1.15, 300, 2, 1.15 },
		{ 1, 1.15, 300, 3, 1.3225 },
		{ 1, 2, 300, 9, 256 },
		{ 1, 2, 300, 10, 300 },
		{ 1, 2, 300, 100000, 300 },
		{ 5, 1, 3, 4, 3 },
		{ 0, 2, 300, 7, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double got = backoff_delay_seconds(cases[i].b, cases[i].f, cases[i].max,
						   cases[i].failures);
		if (fabs(got - cases[i].want) > 1e-9)
			fail_msg("case %zu: %g want %g", i, got, cases[i].want);
	}
}

static void test_java_double(void **state)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
		{ 0.5, "0.5" },       { 256, "256.0" },	   { 1, "1.0" },	{ 0, "0.0" },
		{ 0.001, "0.001" },   { 0.1, "0.1" },	   { 1.15, "1.15" },	{ -1, "-1.0" },
		{ 1234567, "1234567.0" }, { 1e7, "1.0E7" }, { 12345678, "1.2345678E7" },
		{ 0.0001, "1.0E-4" }, { 15360, "15360.0" }, { 100.25, "100.25" }, { 10, "10.0" },
	};
	char buf[32];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		app_double_java(cases[i].v, buf);
		if (strcmp(buf, cases[i].s))
			fail_msg("%.17g: '%s' want '%s'", cases[i].v, buf, cases[i].s);
	}
}

static const char *env_get(json_t *env, const char *k)
{
	return json_string_value(json_object_get(env, k));
}

static void test_env(void **state)
{
	json_error_t je;
	json_t *j = json_loads(
		"{\"id\":\"/webshop/db\",\"cmd\":\"x\",\"cpus\":0.5,\"mem\":256,\"gpus\":0,"
		"\"portDefinitions\":[{\"port\":0,\"name\":\"http\"},{\"port\":10001,"
		"\"name\":\"admin-api\"},{\"port\":0}],"
		"\"labels\":{\"HAPROXY_GROUP\":\"external\",\"a.b-c\":\"1\",\"x--y!z\":\"2\"},"
		"\"env\":{\"PORT0\":\"override\",\"MY\":\"v\",\"SECRET\":{\"secret\":\"s\"}},"
		"\"secrets\":{\"s\":{\"source\":\"s\"}}}",
		0, &je);
	assert_non_null(j);
	/* A label key and a label value of 512 characters are skipped; 511 kept. */
	char big[513];
	memset(big, 'k', 512);
	big[512] = '\0';
	json_object_set_new(json_object_get(j, "labels"), big, json_string("v"));
	json_object_set_new(json_object_get(j, "labels"), "bigval", json_string(big));
	big[511] = '\0';
	json_object_set_new(json_object_get(j, "labels"), "okval", json_string(big));
	struct verr err = VERR_INIT;
	struct app *a;
	assert_int_equal(app_parse(j, "/", &err, &a), 0);
	app_set_version(a, 1440620619463000ull, true, NULL);
	uint32_t ports[3] = { 31000, 31001, 31002 };
	json_t *env = task_env_build(a, "agent1.example", ports, 3, "webshop_db.instance-" UUID "._app.1");

	assert_string_equal(env_get(env, "HOST"), "agent1.example");
	assert_string_equal(env_get(env, "PORT0"), "override"); /* the app's env wins */
	assert_string_equal(env_get(env, "PORT1"), "31001");
	assert_string_equal(env_get(env, "PORT2"), "31002");
	assert_null(env_get(env, "PORT3"));
	assert_string_equal(env_get(env, "PORT"), "31000");
	assert_string_equal(env_get(env, "PORTS"), "31000,31001,31002");
	assert_string_equal(env_get(env, "PORT_31000"), "31000");
	assert_string_equal(env_get(env, "PORT_10001"), "31001");
	assert_string_equal(env_get(env, "PORT_31002"), "31002");
	assert_null(env_get(env, "PORT_31001"));
	assert_string_equal(env_get(env, "PORT_HTTP"), "31000");
	assert_string_equal(env_get(env, "PORT_ADMIN-API"), "31001");
	assert_string_equal(env_get(env, "MESOS_TASK_ID"), "webshop_db.instance-" UUID "._app.1");
	assert_string_equal(env_get(env, "MARATHON_APP_ID"), "/webshop/db");
	assert_string_equal(env_get(env, "MARATHON_APP_VERSION"), "2015-08-26T20:23:39.463Z");
	assert_string_equal(env_get(env, "MARATHON_APP_RESOURCE_CPUS"), "0.5");
	assert_string_equal(env_get(env, "MARATHON_APP_RESOURCE_MEM"), "256.0");
	assert_string_equal(env_get(env, "MARATHON_APP_RESOURCE_DISK"), "0.0");
	assert_string_equal(env_get(env, "MARATHON_APP_RESOURCE_GPUS"), "0");
	assert_string_equal(env_get(env, "MARATHON_APP_LABEL_HAPROXY_GROUP"), "external");
	assert_string_equal(env_get(env, "MARATHON_APP_LABEL_A_B_C"), "1");
	assert_string_equal(env_get(env, "MARATHON_APP_LABEL_X_Y_Z"), "2");
	assert_string_equal(env_get(env, "MARATHON_APP_LABEL_OKVAL"), big);
	assert_null(env_get(env, "MARATHON_APP_LABEL_BIGVAL"));
	assert_string_equal(env_get(env, "MARATHON_APP_LABELS"), "HAPROXY_GROUP A_B_C X_Y_Z OKVAL");
	assert_string_equal(env_get(env, "MY"), "v");
	assert_null(env_get(env, "SECRET"));
	assert_null(env_get(env, "MARATHON_APP_DOCKER_IMAGE"));
	json_decref(env);

	/* No ports: no PORT, PORTS. */
	env = task_env_build(a, "h", NULL, 0, "t");
	assert_null(env_get(env, "PORT"));
	assert_null(env_get(env, "PORTS"));
	assert_string_equal(env_get(env, "MESOS_TASK_ID"), "t");
	json_decref(env);
	app_free(a);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_ids),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_java_double),
		cmocka_unit_test(test_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
