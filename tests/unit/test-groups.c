/* Group paths and plan layering (src/apps/groups.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "apps/groups.h"

static void test_under(void **state)
{
	(void)state;
	assert_true(group_under("/a", "/"));
	assert_true(group_under("/a/b/c", "/a"));
	assert_true(group_under("/a/b/c", "/a/b"));
	assert_false(group_under("/", "/"));
	assert_false(group_under("/a", "/a"));
	assert_false(group_under("/ab/c", "/a"));
	assert_false(group_under("/b/c", "/a"));
}

static void test_parent_child(void **state)
{
	(void)state;
	char out[64];
	group_parent("/a/b/c", out, sizeof(out));
	assert_string_equal(out, "/a/b");
	group_parent("/c", out, sizeof(out));
	assert_string_equal(out, "/");
	group_child("/", "/a/b/c", out, sizeof(out));
	assert_string_equal(out, "/a");
	group_child("/a", "/a/b/c/d", out, sizeof(out));
	assert_string_equal(out, "/a/b");
	group_child("/a/b", "/a/b/c", out, sizeof(out));
	assert_string_equal(out, "/a/b/c");
}

static void test_layers(void **state)
{
	(void)state;
	int layer[5];
	/* data(0) -> name(1) -> journal(2); 3 alone; 4 -> journal and data */
	size_t from[] = { 0, 1, 4, 4 }, to[] = { 1, 2, 2, 0 };
	assert_int_equal(group_layers(5, from, to, 4, layer), 0);
	assert_int_equal(layer[2], 0);
	assert_int_equal(layer[1], 1);
	assert_int_equal(layer[0], 2);
	assert_int_equal(layer[3], 0);
	assert_int_equal(layer[4], 3);
	size_t cf[] = { 0, 1, 2 }, ct[] = { 1, 2, 0 };
	assert_int_equal(group_layers(3, cf, ct, 3, layer), -ELOOP);
	size_t sf[] = { 0 }, st[] = { 0 }; /* a dependency on itself is no step */
	assert_int_equal(group_layers(1, sf, st, 1, layer), 0);
	assert_int_equal(group_layers(0, NULL, NULL, 0, layer), 0);
	/* a long chain settles in linear time: 999 -> 998 -> ... -> 0 */
	enum { N = 20000 };
	static size_t lf[N], lt[N];
	static int ll[N];
	for (size_t i = 1; i < N; i++) {
		lf[i - 1] = i;
		lt[i - 1] = i - 1;
	}
	assert_int_equal(group_layers(N, lf, lt, N - 1, ll), 0);
	assert_int_equal(ll[N - 1], N - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_under),
		cmocka_unit_test(test_parent_child),
		cmocka_unit_test(test_layers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
