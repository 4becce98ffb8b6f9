/* Route patterns (src/net/route.c): literal segments, {x} and {x*} captures, trailing
 * slashes, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/route.h"

static void literal_and_captures(void **state)
{
	(void)state;
	struct route_args a;
	assert_true(route_match("/v2/apps", "/v2/apps", &a));
	assert_int_equal(a.n, 0);
	assert_true(route_match("/v2/apps", "/v2/apps/", &a));
	assert_false(route_match("/v2/apps", "/v2/app", &a));
	assert_false(route_match("/v2/apps", "/v2/apps/x", &a));
	assert_false(route_match("/v2/apps", "v2/apps", &a));
	assert_true(route_match("/v2/deployments/{id}", "/v2/deployments/abc", &a));
	assert_int_equal(a.n, 1);
	assert_string_equal(a.v[0], "abc");
	assert_false(route_match("/v2/deployments/{id}", "/v2/deployments", &a));
	assert_false(route_match("/v2/deployments/{id}", "/v2/deployments/a/b", &a));
}

static void multi_segment_ids(void **state)
{
	(void)state;
	struct route_args a;
	assert_true(route_match("/v2/apps/{id*}", "/v2/apps/prod/db/pg", &a));
	assert_string_equal(a.v[0], "prod/db/pg");
	assert_true(route_match("/v2/apps/{id*}/restart", "/v2/apps/prod/web/restart", &a));
	assert_string_equal(a.v[0], "prod/web");
	assert_false(route_match("/v2/apps/{id*}/restart", "/v2/apps/restart", &a));
	assert_true(route_match("/v2/apps/{id*}/tasks/{taskId}", "/v2/apps/a/b/tasks/t.1", &a));
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0], "a/b");
	assert_string_equal(a.v[1], "t.1");
	assert_true(route_match("/v2/apps/{id*}/*", "/v2/apps/grp/*", &a));
	assert_string_equal(a.v[0], "grp");
	/* Empty segments are no id. */
	assert_false(route_match("/v2/apps/{id*}", "/v2/apps//x", &a));
	assert_false(route_match("/v2/apps/{id*}", "/v2/apps/", &a));
	/* A trailing slash is ignored. */
	assert_true(route_match("/v2/apps/{id*}", "/v2/apps/web/", &a));
	assert_string_equal(a.v[0], "web");
}

static void bounds_and_patterns(void **state)
{
	(void)state;
	char *p = malloc(ROUTE_MAX_PATH + 2);
	p[0] = '/';
	memset(p + 1, 'a', ROUTE_MAX_PATH);
	p[ROUTE_MAX_PATH + 1] = '\0';
	assert_false(route_match("/{x}", p, NULL)); /* one byte over */
	p[ROUTE_MAX_PATH] = '\0';
	assert_true(route_match("/{x}", p, NULL)); /* exactly at the limit */
	free(p);
	char many[4 * (ROUTE_MAX_SEGMENTS + 1) + 1] = "";
	for (int i = 0; i <= ROUTE_MAX_SEGMENTS; i++)
		strcat(many, "/a");
	assert_false(route_match("/{x*}", many, NULL));
	assert_true(route_pattern_valid("/v2/apps/{id*}/tasks/{taskId}"));
	assert_false(route_pattern_valid("/{a*}/{b*}"));
	assert_false(route_pattern_valid("/{a}/{b}/{c}"));
	assert_false(route_pattern_valid("v2"));
	assert_false(route_pattern_valid("/a//b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literal_and_captures),
		cmocka_unit_test(multi_segment_ids),
		cmocka_unit_test(bounds_and_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
