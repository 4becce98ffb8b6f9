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

/* deps[a] is a bit set of what a depends on */
static bool dep(void *ctx, size_t a, size_t b)
{
	const unsigned *deps = ctx;
	return deps[a] & (1u << b);
}

static void test_layers(void **state)
{
	(void)state;
	int layer[5];
	/* data(0) -> name(1) -> journal(2); 3 alone; 4 -> journal and data */
	unsigned deps[5] = { 1u << 1, 1u << 2, 0, 0, (1u << 2) | (1u << 0) };
	assert_int_equal(group_layers(5, dep, deps, layer), 0);
	assert_int_equal(layer[2], 0);
	assert_int_equal(layer[1], 1);
	assert_int_equal(layer[0], 2);
	assert_int_equal(layer[3], 0);
	assert_int_equal(layer[4], 3);
	unsigned cyc[3] = { 1u << 1, 1u << 2, 1u << 0 };
	assert_int_equal(group_layers(3, dep, cyc, layer), -ELOOP);
	unsigned self_only[1] = { 1u << 0 }; /* a dependency on itself is no step */
	assert_int_equal(group_layers(1, dep, self_only, layer), 0);
	assert_int_equal(group_layers(0, dep, deps, layer), 0);
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
