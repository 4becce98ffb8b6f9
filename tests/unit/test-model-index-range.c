/* Instance index lists (model/index-range.h): the forms the CLI takes, their boundaries and
 * every kind of refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/index-range.h"

static void test_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t n;
		unsigned first, last;
	} ok[] = {
		{ "3", 1, 3, 3 },
		{ "0", 1, 0, 0 },
		{ "3..5", 3, 3, 5 },
		{ "5..5", 1, 5, 5 },
		{ "0,2,7..9", 5, 0, 9 },
		{ "9,1", 2, 1, 9 },               /* sorted */
		{ "1..3,2..4,3", 4, 1, 4 },       /* duplicates once */
		{ "1000..1019", 20, 1000, 1019 },
		{ "2000000000", 1, 2000000000u, 2000000000u },
		{ "0..99", 100, 0, 99 },          /* exactly the bound */
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		unsigned *v;
		size_t n;
		char err[200] = "";
		assert_int_equal(index_range_parse(ok[i].text, 100, &v, &n, err, sizeof(err)), 0);
		assert_int_equal(n, ok[i].n);
		assert_int_equal(v[0], ok[i].first);
		assert_int_equal(v[n - 1], ok[i].last);
		for (size_t k = 1; k < n; k++)
			assert_true(v[k - 1] < v[k]);
		free(v);
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int code;
		const char *msg;
	} bad[] = {
		{ "", -EINVAL, "no index" },
		{ "5..3", -EINVAL, "goes down" },
		{ "1,,2", -EINVAL, "not an index list" },
		{ "3,", -EINVAL, "not an index list" },
		{ ",3", -EINVAL, "not an index list" },
		{ "3..", -EINVAL, "not an index list" },
		{ "3...5", -EINVAL, "not an index list" },
		{ " 3", -EINVAL, "not an index list" },
		{ "-1", -EINVAL, "not an index list" },
		{ "a", -EINVAL, "not an index list" },
		{ "2000000001", -EINVAL, "index over" },
		{ "99999999999999999999", -EINVAL, "index over" },
		{ "0..100", -E2BIG, "more than 100" }, /* one over the bound */
		{ "0..2000000000", -E2BIG, "more than 100" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned *v = (unsigned *)1;
		size_t n = 7;
		char err[200] = "";
		assert_int_equal(index_range_parse(bad[i].text, 100, &v, &n, err, sizeof(err)),
				 bad[i].code);
		assert_null(v);
		assert_int_equal(n, 0);
		assert_non_null(strstr(err, bad[i].msg));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
