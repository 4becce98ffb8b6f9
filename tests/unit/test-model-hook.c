/* Hooks' answers (src/model/hook.c): what a launch hook's run means. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "model/hook.h"

#define EXIT(n) ((n) << 8)

static const char *verdict(int status, const char *out, json_t **ans, char *msg, size_t len)
{
	return hook_launch_verdict(status, false, false, out, strlen(out), 2000, ans, msg, len);
}

static void test_verdicts(void **state)
{
	char msg[700];
	json_t *ans;
	/* Nothing printed: start as is. */
	assert_null(verdict(0, " \n", &ans, msg, sizeof(msg)));
	assert_null(ans);
	/* Decorations. */
	assert_null(verdict(0, "{\"environment\":{\"variables\":[{\"name\":\"A\",\"value\":\"1\"}]},"
			       "\"labels\":{\"labels\":[{\"key\":\"k\",\"value\":\"v\"}]}}",
			    &ans, msg, sizeof(msg)));
	json_t *env = json_pack("{s:s, s:s}", "A", "0", "B", "2");
	hook_apply_env(ans, env);
	assert_string_equal(json_string_value(json_object_get(env, "A")), "1");
	assert_string_equal(json_string_value(json_object_get(env, "B")), "2");
	json_t *l = hook_labels(ans);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(l, "labels"), 0), "key")),
			    "k");
	json_decref(l);
	json_decref(env);
	json_decref(ans);
	/* Refusals, with their messages. */
	assert_string_equal(verdict(0, "{\"veto\":\"no\"}", &ans, msg, sizeof(msg)),
			    "Vetoed by the task launch hook: no");
	assert_string_equal(verdict(EXIT(2), "{\"veto\":\"why\"}", &ans, msg, sizeof(msg)),
			    "Vetoed by the task launch hook: why");
	assert_string_equal(verdict(EXIT(3), "", &ans, msg, sizeof(msg)),
			    "Task launch hook exited with status 3");
	assert_string_equal(verdict(SIGKILL, "", &ans, msg, sizeof(msg)),
			    "Task launch hook terminated by signal 9");
	assert_non_null(strstr(verdict(0, "[1]", &ans, msg, sizeof(msg)), "invalid output"));
	assert_non_null(strstr(verdict(0, "{", &ans, msg, sizeof(msg)), "invalid output"));
	assert_non_null(strstr(verdict(0, "{\"environment\":{\"variables\":[{\"name\":\"A=B\","
					  "\"value\":\"1\"}]}}", &ans, msg, sizeof(msg)),
			       "'environment.variables[0]'"));
	assert_non_null(strstr(verdict(0, "{\"labels\":{\"labels\":[{\"value\":\"v\"}]}}", &ans,
				       msg, sizeof(msg)),
			       "'labels.labels[0]'"));
	assert_null(ans);
	assert_string_equal(hook_launch_verdict(-1, true, false, "", 0, 2000, &ans, msg,
						sizeof(msg)),
			    "Task launch hook timed out after 2 s");
	/* A veto cut short by the output bound is not read as one. */
	assert_non_null(strstr(hook_launch_verdict(SIGKILL, false, true, "{\"veto\":\"x\"}", 12,
						   2000, &ans, msg, sizeof(msg)),
			       "output went over"));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_verdicts) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
