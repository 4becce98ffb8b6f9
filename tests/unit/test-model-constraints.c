/* Placement constraints: validation messages and paths, and every operator's decision,
 * including agents that lack the attribute. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/constraints.h"

/* Agents a0..a5: hostname "hN", rack r1/r1/r2/r2/r3/(none), a5 without any attribute. */
static struct attributes attrs[6];
static struct placement_target agents[6];
static const char *const hosts[6] = { "h0", "h1", "h2", "h3", "h4", "h5" };
static const char *const attr_text[6] = {
	"rack:r1;dc:east;cores:8",  "rack:r1;dc:east;cores:16", "rack:r2;dc:west;cores:8",
	"rack:r2;dc:west;cores:4", "rack:r3;dc:west;cores:8",  "",
};

static int setup(void **state)
{
	char err[128];
	for (int i = 0; i < 6; i++) {
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
	for (int i = 0; i < 6; i++)
		attributes_release(&attrs[i]);
	return 0;
}

static struct constraint *parse_ok(const char *json, size_t *n)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	assert_non_null(j);
	struct verr err = VERR_INIT;
	struct constraint *c;
	int rc = constraints_parse(j, "/constraints", &err, &c, n);
	if (rc < 0)
		fail_msg("%s rejected: %s", json, verr_first(&err));
	verr_release(&err);
	json_decref(j);
	return c;
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *json, *path, *msg;
	} cases[] = {
		{ "{}", "/constraints", "error.expected.jsarray" },
		{ "[\"hostname\"]", "/constraints/0", "error.expected.jsarray" },
		{ "[[\"hostname\"]]", "/constraints/0", "Each constraint must have either 2 or 3 fields" },
		{ "[[\"a\",\"UNIQUE\",\"b\",\"c\"]]", "/constraints/0",
		  "Each constraint must have either 2 or 3 fields" },
		{ "[[\"hostname\",\"FOO\"]]", "/constraints/0",
		  "Constraint operator must be one of: UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, "
		  "MAX_PER, IS" },
		{ "[[\"hostname\",\"unique\"]]", "/constraints/0", "Constraint operator must be one of" },
		{ "[[1,\"UNIQUE\"]]", "/constraints/0/0", "error.expected.jsstring" },
		{ "[[\"hostname\",\"UNIQUE\",\"x\"]]", "/constraints/0", "Value specified but not used" },
		{ "[[\"hostname\",\"LIKE\"]]", "/constraints/0",
		  "A regular expression value must be provided" },
		{ "[[\"hostname\",\"UNLIKE\"]]", "/constraints/0",
		  "A regular expression value must be provided" },
		{ "[[\"hostname\",\"LIKE\",\"(\"]]", "/constraints/0", "is not a valid regular expression" },
		/* repetitions of repetitions: regcomp's tree would take gigabytes (fuzz-app) */
		{ "[[\"a\",\"UNLIKE\",\"5++++++++++++++++++++++++++++++++++++++++\"]]",
		  "/constraints/0", "too costly a regular expression" },
		{ "[[\"a\",\"LIKE\",\"((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+\"]]",
		  "/constraints/0", "too costly a regular expression" },
		{ "[[\"a\",\"LIKE\",\"(a{1,200}){1,200}\"]]", "/constraints/0",
		  "too costly a regular expression" },
		{ "[[\"hostname\",\"MAX_PER\"]]", "/constraints/0", "Missing value" },
		{ "[[\"hostname\",\"MAX_PER\",\"two\"]]", "/constraints/0", "Value was not an integer" },
		{ "[[\"hostname\",\"MAX_PER\",\"1.5\"]]", "/constraints/0", "Value was not an integer" },
		{ "[[\"hostname\",\"GROUP_BY\",\"x\"]]", "/constraints/0", "Value was not an integer" },
		{ "[[\"hostname\",\"IS\"]]", "/constraints/0", "Missing value" },
		{ "[[\"hostname\",\"UNIQUE\"],[\"rack\",\"BAD\"]]", "/constraints/1",
		  "Constraint operator must be one of" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_error_t je;
		json_t *j = json_loads(cases[i].json, 0, &je);
		assert_non_null(j);
		struct verr err = VERR_INIT;
		struct constraint *c = (void *)1;
		size_t n = 99;
		assert_int_equal(constraints_parse(j, "/constraints", &err, &c, &n), -EINVAL);
		assert_null(c);
		assert_int_equal(n, 0);
		json_t *d = json_array_get(err.details, 0);
		const char *path = json_string_value(json_object_get(d, "path"));
		const char *msg = json_string_value(json_array_get(json_object_get(d, "errors"), 0));
		if (strcmp(path, cases[i].path) || !strstr(msg, cases[i].msg))
			fail_msg("%s: got %s '%s', want %s '%s'", cases[i].json, path, msg,
				 cases[i].path, cases[i].msg);
		verr_release(&err);
		json_decref(j);
	}
}

static void test_parse_good(void **state)
{
	size_t n;
	struct constraint *c = parse_ok("[[\"@hostname\",\"UNIQUE\"],[\"rack\",\"GROUP_BY\"],"
					"[\"rack\",\"GROUP_BY\",\"3\"],[\"rack\",\"MAX_PER\",2],"
					"[\"rack\",\"CLUSTER\"],[\"dc\",\"LIKE\",\"e.*\"]]",
					&n);
	assert_int_equal(n, 6);
	size_t n2;
	struct constraint *c2 = parse_ok("[[\"rack\",\"LIKE\",\"rack-[0-9]+(a|b)?\"],"
					 "[\"dc\",\"UNLIKE\",\"(us|eu)-[a-z]{2,8}-[0-9]{1,3}\"]]",
					 &n2);
	constraints_free(c2, n2);
	assert_string_equal(c[0].field, "hostname");
	assert_int_equal(c[0].op, C_UNIQUE);
	assert_null(c[0].value);
	assert_int_equal(c[1].number, 0);
	assert_int_equal(c[2].number, 3);
	assert_int_equal(c[3].number, 2);
	assert_string_equal(c[3].value, "2");
	assert_true(c[5].has_re);
	assert_string_equal(constraint_op_name(c[5].op), "LIKE");
	constraints_free(c, n);
	c = parse_ok("[]", &n);
	assert_null(c);
	assert_int_equal(n, 0);
	constraints_free(NULL, 0);
}

/* Does constraint json allow agent cand given tasks on placed_idx (-1 terminated)? */
static bool allows(const char *json, int cand, const int *placed_idx)
{
	size_t n;
	struct constraint *c = parse_ok(json, &n);
	const struct placement_target *placed[16], *all[6];
	size_t np = 0;
	for (; placed_idx && placed_idx[np] >= 0; np++)
		placed[np] = &agents[placed_idx[np]];
	for (int i = 0; i < 6; i++)
		all[i] = &agents[i];
	bool r = constraints_allow(c, n, &agents[cand], placed, np, all, 6);
	constraints_free(c, n);
	return r;
}

#define P(...) ((const int[]){ __VA_ARGS__, -1 })

static void test_allow(void **state)
{
	const struct {
		const char *json;
		int cand;
		const int *placed;
		bool want;
	} cases[] = {
		/* UNIQUE */
		{ "[[\"hostname\",\"UNIQUE\"]]", 0, NULL, true },
		{ "[[\"hostname\",\"UNIQUE\"]]", 0, P(1, 2), true },
		{ "[[\"hostname\",\"UNIQUE\"]]", 0, P(1, 0), false },
		{ "[[\"rack\",\"UNIQUE\"]]", 1, P(0), false },
		{ "[[\"rack\",\"UNIQUE\"]]", 2, P(0), true },
		{ "[[\"rack\",\"UNIQUE\"]]", 5, NULL, false }, /* missing attribute */
		/* CLUSTER with and without value */
		{ "[[\"rack\",\"CLUSTER\",\"r2\"]]", 2, NULL, true },
		{ "[[\"rack\",\"CLUSTER\",\"r2\"]]", 0, NULL, false },
		{ "[[\"rack\",\"CLUSTER\",\"r2\"]]", 5, NULL, false },
		{ "[[\"rack\",\"CLUSTER\"]]", 4, NULL, true },
		{ "[[\"rack\",\"CLUSTER\"]]", 1, P(0), true },
		{ "[[\"rack\",\"CLUSTER\"]]", 2, P(0), false },
		{ "[[\"hostname\",\"CLUSTER\",\"h3\"]]", 3, NULL, true },
		{ "[[\"cores\",\"CLUSTER\",\"8\"]]", 0, NULL, true },
		/* GROUP_BY: racks r1, r2, r3 known */
		{ "[[\"rack\",\"GROUP_BY\"]]", 0, NULL, true },
		{ "[[\"rack\",\"GROUP_BY\"]]", 1, P(0), false },
		{ "[[\"rack\",\"GROUP_BY\"]]", 2, P(0), true },
		{ "[[\"rack\",\"GROUP_BY\"]]", 0, P(0, 2, 4), true },
		{ "[[\"rack\",\"GROUP_BY\"]]", 4, P(0, 2), true },
		{ "[[\"rack\",\"GROUP_BY\"]]", 3, P(0, 2), false },
		{ "[[\"rack\",\"GROUP_BY\"]]", 5, NULL, false },
		/* with a count above the known values, unseen values count 0 */
		{ "[[\"rack\",\"GROUP_BY\",\"4\"]]", 0, P(0, 2, 4), false },
		{ "[[\"rack\",\"GROUP_BY\",\"3\"]]", 0, P(0, 2, 4), true },
		/* LIKE / UNLIKE: whole value */
		{ "[[\"dc\",\"LIKE\",\"east\"]]", 0, NULL, true },
		{ "[[\"dc\",\"LIKE\",\"eas\"]]", 0, NULL, false },
		{ "[[\"dc\",\"LIKE\",\"e.*|w.*\"]]", 2, NULL, true },
		{ "[[\"dc\",\"LIKE\",\".*\"]]", 5, NULL, false },
		{ "[[\"dc\",\"UNLIKE\",\"east\"]]", 0, NULL, false },
		{ "[[\"dc\",\"UNLIKE\",\"east\"]]", 2, NULL, true },
		{ "[[\"dc\",\"UNLIKE\",\"eas\"]]", 0, NULL, true },
		{ "[[\"dc\",\"UNLIKE\",\".*\"]]", 5, NULL, true }, /* only UNLIKE on missing */
		{ "[[\"hostname\",\"LIKE\",\"h[0-2]\"]]", 2, NULL, true },
		{ "[[\"hostname\",\"LIKE\",\"h[0-2]\"]]", 3, NULL, false },
		/* MAX_PER */
		{ "[[\"rack\",\"MAX_PER\",\"2\"]]", 0, P(1), true },
		{ "[[\"rack\",\"MAX_PER\",\"2\"]]", 0, P(1, 0), false },
		{ "[[\"rack\",\"MAX_PER\",\"2\"]]", 2, P(1, 0), true },
		{ "[[\"rack\",\"MAX_PER\",\"0\"]]", 2, NULL, false },
		{ "[[\"rack\",\"MAX_PER\",\"1\"]]", 5, NULL, false },
		/* IS, text and scalar */
		{ "[[\"dc\",\"IS\",\"west\"]]", 2, NULL, true },
		{ "[[\"dc\",\"IS\",\"wes\"]]", 2, NULL, false },
		{ "[[\"cores\",\"IS\",\"16\"]]", 1, NULL, true },
		{ "[[\"cores\",\"IS\",\"16.0\"]]", 1, NULL, true },
		{ "[[\"cores\",\"IS\",\"8\"]]", 1, NULL, false },
		{ "[[\"dc\",\"IS\",\"west\"]]", 5, NULL, false },
		/* all constraints must hold */
		{ "[[\"dc\",\"IS\",\"west\"],[\"hostname\",\"UNIQUE\"]]", 2, P(2), false },
		{ "[[\"dc\",\"IS\",\"west\"],[\"hostname\",\"UNIQUE\"]]", 3, P(2), true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = allows(cases[i].json, cases[i].cand, cases[i].placed);
		if (got != cases[i].want)
			fail_msg("case %zu %s on a%d: got %d", i, cases[i].json, cases[i].cand, got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_allow),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
