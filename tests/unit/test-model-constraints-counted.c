/* Placement constraints decided from counts (constraints_allow_counted, issue 12) give the
 * same answers as from the list of placed tasks (constraints_allow), for every operator,
 * after random sequences of placements and removals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/constraints.h"

enum { NA = 8 };
static struct attributes attrs[NA];
static struct placement_target agents[NA];
static const char *const hosts[NA] = { "h0", "h1", "h2", "h3", "h4", "h5", "h0", "h7" };
static const char *const attr_text[NA] = {
	"rack:r1;dc:east;cores:8",  "rack:r1;dc:east;cores:16", "rack:r2;dc:west;cores:8",
	"rack:r2;dc:west;cores:4",  "rack:r3;dc:west;cores:8",  "",
	"rack:r1;dc:east;cores:8.0", "rack:r4;hostname:fake",
};

static int setup(void **state)
{
	(void)state;
	char err[128];
	for (int i = 0; i < NA; i++) {
		attributes_init(&attrs[i]);
		if (attributes_parse(attr_text[i], &attrs[i], err, sizeof(err)) < 0)
			return -1;
		agents[i].hostname = hosts[i];
		agents[i].attrs = &attrs[i];
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NA; i++)
		attributes_release(&attrs[i]);
	return 0;
}

static const char *const cases[] = {
	"[[\"hostname\",\"UNIQUE\"]]",
	"[[\"rack\",\"UNIQUE\"]]",
	"[[\"rack\",\"GROUP_BY\"]]",
	"[[\"rack\",\"GROUP_BY\",\"5\"]]",
	"[[\"dc\",\"GROUP_BY\",\"2\"]]",
	"[[\"hostname\",\"GROUP_BY\"]]",
	"[[\"rack\",\"MAX_PER\",\"2\"]]",
	"[[\"@hostname\",\"MAX_PER\",\"3\"]]",
	"[[\"cores\",\"MAX_PER\",\"1\"]]",
	"[[\"dc\",\"CLUSTER\",\"west\"]]",
	"[[\"rack\",\"LIKE\",\"r[12]\"]]",
	"[[\"rack\",\"UNLIKE\",\"r1\"]]",
	"[[\"cores\",\"IS\",\"8\"]]",
	"[[\"rack\",\"GROUP_BY\"],[\"hostname\",\"MAX_PER\",\"2\"],[\"dc\",\"UNLIKE\",\"x\"]]",
};

static void compare(const struct constraint *c, size_t n, const int *placed, size_t np,
		    const struct valcount *vc)
{
	const struct placement_target *pl[512], *all[NA];
	for (size_t i = 0; i < np; i++)
		pl[i] = &agents[placed[i]];
	for (int i = 0; i < NA; i++)
		all[i] = &agents[i];
	size_t gmin[8] = { 0 };
	for (size_t i = 0; i < n; i++)
		if (c[i].op == C_GROUP_BY)
			gmin[i] = constraints_group_min(&c[i], vc, all, NA);
	for (int a = 0; a < NA; a++) {
		bool list = constraints_allow(c, n, &agents[a], pl, np, all, NA);
		bool counted = constraints_allow_counted(c, n, &agents[a], vc, gmin);
		if (list != counted)
			fail_msg("agent %d, %zu placed: list %d, counted %d", a, np, list, counted);
	}
}

static void test_same_answers(void **state)
{
	(void)state;
	srand(7);
	for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
		json_t *j = json_loads(cases[k], 0, NULL);
		assert_non_null(j);
		struct verr err = VERR_INIT;
		struct constraint *c;
		size_t n;
		assert_int_equal(constraints_parse(j, "/constraints", &err, &c, &n), 0);
		verr_release(&err);
		json_decref(j);
		int placed[512];
		size_t np = 0;
		struct valcount vc = VALCOUNT_INIT;
		for (int step = 0; step < 400; step++) {
			if (np && (rand() % 3 == 0 || np == 512)) {
				size_t i = (size_t)rand() % np;
				constraints_count_target(&vc, &agents[placed[i]], -1);
				placed[i] = placed[--np];
			} else {
				int a = rand() % NA;
				placed[np++] = a;
				constraints_count_target(&vc, &agents[a], 1);
			}
			compare(c, n, placed, np, &vc);
		}
		valcount_release(&vc);
		constraints_free(c, n);
	}
}

/* CLUSTER without a value: the first placement fixes the value. */
static void test_cluster_first(void **state)
{
	(void)state;
	json_t *j = json_loads("[[\"rack\",\"CLUSTER\"]]", 0, NULL);
	struct verr err = VERR_INIT;
	struct constraint *c;
	size_t n;
	assert_int_equal(constraints_parse(j, "/constraints", &err, &c, &n), 0);
	verr_release(&err);
	json_decref(j);
	struct valcount vc = VALCOUNT_INIT;
	assert_true(constraints_allow_counted(c, n, &agents[2], &vc, NULL));
	constraints_count_target(&vc, &agents[2], 1); /* r2 */
	assert_true(constraints_allow_counted(c, n, &agents[3], &vc, NULL));  /* r2 */
	assert_false(constraints_allow_counted(c, n, &agents[0], &vc, NULL)); /* r1 */
	assert_false(constraints_allow_counted(c, n, &agents[5], &vc, NULL)); /* none */
	constraints_count_target(&vc, &agents[2], -1);
	assert_true(constraints_allow_counted(c, n, &agents[0], &vc, NULL));
	valcount_release(&vc);
	constraints_free(c, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_answers),
		cmocka_unit_test(test_cluster_first),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
