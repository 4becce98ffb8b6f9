/* ACLs (src/auth/acl.c): Mesos's evaluation (first matching rule decides, NONE denies, ANY
 * requests match only ANY/NONE rules, permissive otherwise), app id prefixes, parse errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/acl.h"

static struct acls *parse(const char *text)
{
	char err[256] = "";
	struct acls *a = NULL;
	if (acls_parse(text, strlen(text), &a, err, sizeof(err)) < 0)
		fail_msg("parse: %s", err);
	return a;
}

static void evaluation(void **state)
{
	(void)state;
	struct acls *a = parse(
		"{\"permissive\": false,"
		" \"run_tasks\": ["
		"  {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"type\": \"ANY\"}},"
		"  {\"principals\": {\"values\": [\"dev\"]}, \"users\": {\"values\": [\"nobody\"]}},"
		"  {\"principals\": {\"values\": [\"evil\"]}, \"users\": {\"type\": \"NONE\"}},"
		"  {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"values\": [\"guest\"]}}],"
		" \"register_frameworks\": ["
		"  {\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"values\": [\"web\"]}}]}");
	assert_true(acls_allowed(a, ACL_RUN_TASKS, "ops", "root"));
	assert_true(acls_allowed(a, ACL_RUN_TASKS, "ops", NULL));
	assert_true(acls_allowed(a, ACL_RUN_TASKS, "dev", "nobody"));
	assert_false(acls_allowed(a, ACL_RUN_TASKS, "dev", "root")); /* no rule: not permissive */
	assert_false(acls_allowed(a, ACL_RUN_TASKS, "evil", "guest")); /* NONE decides first */
	assert_true(acls_allowed(a, ACL_RUN_TASKS, "anyone", "guest"));
	assert_true(acls_allowed(a, ACL_RUN_TASKS, NULL, "guest"));
	assert_false(acls_allowed(a, ACL_RUN_TASKS, NULL, "root"));
	assert_true(acls_allowed(a, ACL_REGISTER_FRAMEWORKS, "x", "web"));
	assert_false(acls_allowed(a, ACL_REGISTER_FRAMEWORKS, "x", "db"));
	assert_false(acls_allowed(a, ACL_TEARDOWN_FRAMEWORKS, "ops", "x")); /* no rules */
	acls_free(a);
	a = parse("{\"run_tasks\": [{\"principals\": {\"values\": [\"dev\"]},"
		  " \"users\": {\"values\": [\"nobody\"]}}]}");
	assert_true(acls_allowed(a, ACL_RUN_TASKS, "other", "root")); /* permissive default */
	assert_true(acls_allowed(a, ACL_RUN_TASKS, "dev", "root"));  /* no rule matches */
	acls_free(a);
	assert_true(acls_allowed(NULL, ACL_RUN_TASKS, NULL, NULL));
}

static void app_prefixes(void **state)
{
	(void)state;
	struct acls *a = parse(
		"{\"permissive\": false, \"create_apps\": ["
		" {\"principals\": {\"values\": [\"dev\"]}, \"app_ids\": {\"values\": [\"/dev/\"]}},"
		" {\"principals\": {\"values\": [\"root\"]}, \"app_ids\": {\"values\": [\"/\"]}}]}");
	assert_true(acls_allowed(a, ACL_CREATE_APPS, "dev", "/dev"));
	assert_true(acls_allowed(a, ACL_CREATE_APPS, "dev", "/dev/web"));
	assert_false(acls_allowed(a, ACL_CREATE_APPS, "dev", "/devx"));
	assert_false(acls_allowed(a, ACL_CREATE_APPS, "dev", "/prod/web"));
	assert_true(acls_allowed(a, ACL_CREATE_APPS, "root", "/prod/web"));
	assert_false(acls_allowed(a, ACL_DELETE_APPS, "root", "/prod/web"));
	acls_free(a);
}

static void parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} t[] = {
		{ "[]", "expected an object" },
		{ "{\"permissive\": 1}", "permissive: expected true or false" },
		{ "{\"run_task\": []}", "unknown key 'run_task'" },
		{ "{\"run_tasks\": {}}", "run_tasks: expected an array" },
		{ "{\"run_tasks\": [1]}", "run_tasks[0]: expected an object" },
		{ "{\"run_tasks\": [{\"principals\": {\"type\": \"ANY\"}}]}",
		  "run_tasks[0].users: expected an object" },
		{ "{\"run_tasks\": [{\"principals\": {\"type\": \"ALL\"}, \"users\": {\"type\": "
		  "\"ANY\"}}]}", "run_tasks[0].principals.type" },
		{ "{\"run_tasks\": [{\"principals\": {}, \"users\": {\"type\": \"ANY\"}}]}",
		  "run_tasks[0].principals: wants \"values\" or \"type\"" },
		{ "{\"run_tasks\": [{\"principals\": {\"values\": [1]}, \"users\": {\"type\": "
		  "\"ANY\"}}]}", "run_tasks[0].principals.values[0]" },
		{ "{\"run_tasks\": [{\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": "
		  "\"ANY\"}}]}", "run_tasks[0]: unknown key 'roles'" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[256] = "";
		struct acls *a = NULL;
		assert_int_equal(acls_parse(t[i].text, strlen(t[i].text), &a, err, sizeof(err)),
				 -EINVAL);
		assert_null(a);
		if (!strstr(err, t[i].msg))
			fail_msg("%s: got '%s'", t[i].text, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(evaluation),
		cmocka_unit_test(app_prefixes),
		cmocka_unit_test(parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
