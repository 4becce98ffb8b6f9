/* The default executor's reading of a task group's TaskInfos (agent/dexec.h): what it runs,
 * what it refuses (the field named), and the task sandboxes with their shared volumes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/dexec.h"

static int plan(const char *text, struct dexec_plan *p, char *err)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	int r = dexec_plan_parse(j, p, err, 256);
	json_decref(j);
	return r;
}

static void test_shell_and_argv(void **state)
{
	(void)state;
	struct dexec_plan p;
	char err[256];
	assert_int_equal(plan("{\"task_id\":{\"value\":\"t\"},\"command\":{\"value\":\"echo hi\","
			      "\"environment\":{\"variables\":[{\"name\":\"A\",\"value\":\"1\"}]}}}",
			      &p, err), 0);
	assert_string_equal(p.argv[0], "/bin/sh");
	assert_string_equal(p.argv[2], "echo hi");
	assert_null(p.argv[3]);
	assert_string_equal(p.env[0], "A=1");
	assert_null(p.env[1]);
	assert_true(p.grace_sec == 3.0);
	dexec_plan_release(&p);
	/* shell false: execvp(value, arguments), arguments[0] being argv[0] */
	assert_int_equal(plan("{\"task_id\":{\"value\":\"t\"},\"command\":{\"shell\":false,"
			      "\"value\":\"/bin/echo\",\"arguments\":[\"echo\",\"a\",\"b\"]},"
			      "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":250000000}}}",
			      &p, err), 0);
	assert_string_equal(p.argv[0], "/bin/echo");
	assert_string_equal(p.argv[1], "a");
	assert_string_equal(p.argv[2], "b");
	assert_null(p.argv[3]);
	assert_true(p.grace_sec == 0.25);
	dexec_plan_release(&p);
}

static void test_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *ti, *field;
	} bad[] = {
		{ "{\"command\":{\"value\":\"x\"}}", "task_id" },
		{ "{\"task_id\":{\"value\":\"a/b\"},\"command\":{\"value\":\"x\"}}", "task_id" },
		{ "{\"task_id\":{\"value\":\"t\"}}", "command.value" },
		{ "{\"task_id\":{\"value\":\"t\"},\"command\":{\"value\":\"\"}}", "command.value" },
		{ "{\"task_id\":{\"value\":\"t\"},\"command\":{\"shell\":false,\"value\":\"x\","
		  "\"arguments\":[\"x\",1]}}", "command.arguments[1]" },
		{ "{\"task_id\":{\"value\":\"t\"},\"command\":{\"value\":\"x\",\"environment\":"
		  "{\"variables\":[{\"name\":\"A=B\",\"value\":\"1\"}]}}}", "variables[0]" },
		{ "{\"task_id\":{\"value\":\"t\"},\"command\":{\"value\":\"x\",\"environment\":"
		  "{\"variables\":[{\"name\":\"S\",\"type\":\"SECRET\"}]}}}", "variables[0]" },
		{ "{\"task_id\":{\"value\":\"t\"},\"command\":{\"value\":\"x\"},\"container\":"
		  "{\"volumes\":[{\"container_path\":\"v\",\"host_path\":\"/etc\"}]}}",
		  "volumes[0].source.type" },
		{ "{\"task_id\":{\"value\":\"t\"},\"command\":{\"value\":\"x\"},\"container\":"
		  "{\"volumes\":[{\"container_path\":\"/abs\",\"source\":{\"type\":\"SANDBOX_PATH\","
		  "\"sandbox_path\":{\"type\":\"PARENT\",\"path\":\"s\"}}}]}}",
		  "volumes[0].container_path" },
		{ "{\"task_id\":{\"value\":\"t\"},\"command\":{\"value\":\"x\"},\"container\":"
		  "{\"volumes\":[{\"container_path\":\"v\",\"source\":{\"type\":\"SANDBOX_PATH\","
		  "\"sandbox_path\":{\"type\":\"PARENT\",\"path\":\"a/../../b\"}}}]}}",
		  "sandbox_path.path" },
		{ "{\"task_id\":{\"value\":\"t\"},\"command\":{\"value\":\"x\"},\"container\":"
		  "{\"volumes\":[{\"container_path\":\"v\",\"source\":{\"type\":\"SANDBOX_PATH\","
		  "\"sandbox_path\":{\"type\":\"OTHER\",\"path\":\"s\"}}}]}}",
		  "sandbox_path.type" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dexec_plan p;
		char err[256] = "";
		assert_int_equal(plan(bad[i].ti, &p, err), -EINVAL);
		if (!strstr(err, bad[i].field))
			fail_msg("case %zu: '%s' does not name '%s'", i, err, bad[i].field);
		assert_null(p.task_id); /* released */
	}
}

static void test_sandbox_and_shared_volume(void **state)
{
	(void)state;
	char root[] = "/tmp/berth-dexec-XXXXXX";
	assert_non_null(mkdtemp(root));
	struct dexec_plan p;
	char err[256], msg[256];
	assert_int_equal(plan("{\"task_id\":{\"value\":\"t1\"},\"command\":{\"value\":\"x\"},"
			      "\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"container_path\":"
			      "\"in/shared\",\"mode\":\"RW\",\"source\":{\"type\":\"SANDBOX_PATH\","
			      "\"sandbox_path\":{\"type\":\"PARENT\",\"path\":\"data\"}}}]}}",
			      &p, err), 0);
	char *box = NULL;
	assert_int_equal(dexec_sandbox_prepare(root, &p, &box, msg, sizeof(msg)), 0);
	char want[512], link[512], target[512];
	snprintf(want, sizeof(want), "%s/tasks/t1", root);
	assert_string_equal(box, want);
	snprintf(link, sizeof(link), "%s/in/shared", box);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	snprintf(want, sizeof(want), "%s/data", root);
	assert_string_equal(target, want);
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* again (an agent's retry): the same result */
	free(box);
	assert_int_equal(dexec_sandbox_prepare(root, &p, &box, msg, sizeof(msg)), 0);
	free(box);
	dexec_plan_release(&p);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shell_and_argv),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_sandbox_and_shared_volume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
