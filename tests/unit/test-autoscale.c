/* Autoscaling policies (src/apps/autoscale-policy.c): labels, metric answers, decisions. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "apps/autoscale.h"

static json_t *labels(const char *extra_key, const char *extra_val)
{
	json_t *l = json_pack("{s:s, s:s, s:s, s:s, s:s}", "team", "web",
			      "BERTH_AUTOSCALE_URL", "http://$HOST:$PORT0/m",
			      "BERTH_AUTOSCALE_TARGET", "0.5", "BERTH_AUTOSCALE_MIN", "2",
			      "BERTH_AUTOSCALE_MAX", "6");
	if (extra_key)
		json_object_set_new(l, extra_key, json_string(extra_val));
	return l;
}

static const char *first_path(struct verr *e)
{
	json_t *b = verr_body(e);
	static char buf[200];
	snprintf(buf, sizeof(buf), "%s",
		 json_string_value(json_object_get(json_array_get(json_object_get(b, "details"),
								  0), "path")));
	json_decref(b);
	return buf;
}

static void test_parse(void **st)
{
	(void)st;
	struct as_policy p;
	struct verr e = VERR_INIT;
	json_t *none = json_pack("{s:s}", "team", "web");
	assert_int_equal(as_policy_parse(none, "/", &p, &e), 0);
	assert_int_equal(as_policy_parse(NULL, "/", &p, &e), 0);
	json_decref(none);
	json_t *l = labels(NULL, NULL);
	assert_int_equal(as_policy_parse(l, "/", &p, &e), 1);
	assert_false(verr_any(&e));
	assert_int_equal(p.metric, AS_METRIC_HTTP);
	assert_string_equal(p.url, "http://$HOST:$PORT0/m");
	assert_true(p.target == 0.5 && p.min == 2 && p.max == 6 && p.step == 1);
	assert_true(p.cooldown == 60 && p.interval == 10 && p.tolerance == 0.1);
	json_decref(l);

	struct { const char *k, *v, *path; } bad[] = {
		{ "BERTH_AUTOSCALE_MIN", "7", "/labels/BERTH_AUTOSCALE_MAX" },
		{ "BERTH_AUTOSCALE_MIN", "-1", "/labels/BERTH_AUTOSCALE_MIN" },
		{ "BERTH_AUTOSCALE_MAX", "1001", "/labels/BERTH_AUTOSCALE_MAX" },
		{ "BERTH_AUTOSCALE_TARGET", "0", "/labels/BERTH_AUTOSCALE_TARGET" },
		{ "BERTH_AUTOSCALE_TARGET", "0x10", "/labels/BERTH_AUTOSCALE_TARGET" },
		{ "BERTH_AUTOSCALE_TARGET", " 1", "/labels/BERTH_AUTOSCALE_TARGET" },
		{ "BERTH_AUTOSCALE_STEP", "0", "/labels/BERTH_AUTOSCALE_STEP" },
		{ "BERTH_AUTOSCALE_COOLDOWN", "inf", "/labels/BERTH_AUTOSCALE_COOLDOWN" },
		{ "BERTH_AUTOSCALE_METRIC", "cpu", "/labels/BERTH_AUTOSCALE_URL" },
		{ "BERTH_AUTOSCALE_URL", "file:///etc/passwd", "/labels/BERTH_AUTOSCALE_URL" },
		{ "BERTH_AUTOSCALE_URL", "http://169.254.169.254/", "/labels/BERTH_AUTOSCALE_URL" },
		{ "BERTH_AUTOSCALE_URL", "http://$HOSTX:1/", "/labels/BERTH_AUTOSCALE_URL" },
		{ "BERTH_AUTOSCALE_JSON_PATH", ".a", "/labels/BERTH_AUTOSCALE_JSON_PATH" },
		{ "BERTH_AUTOSCALE_MINIMUM", "1", "/labels/BERTH_AUTOSCALE_MINIMUM" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct verr be = VERR_INIT;
		json_t *b = labels(bad[i].k, bad[i].v);
		assert_int_equal(as_policy_parse(b, "/", &p, &be), -EINVAL);
		assert_string_equal(first_path(&be), bad[i].path);
		verr_release(&be);
		json_decref(b);
	}
	/* the cpu metric: no URL */
	json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "BERTH_AUTOSCALE_METRIC", "cpu",
			      "BERTH_AUTOSCALE_TARGET", "0.7", "BERTH_AUTOSCALE_MIN", "0",
			      "BERTH_AUTOSCALE_MAX", "4");
	assert_int_equal(as_policy_parse(c, "/", &p, &e), 1);
	assert_int_equal(p.metric, AS_METRIC_CPU);
	json_decref(c);
	verr_release(&e);
}

static void test_metric_value(void **st)
{
	(void)st;
	double v;
	char why[200];
	assert_int_equal(as_metric_value(" 12.5\n", 6, "", &v, why, sizeof(why)), 0);
	assert_true(v == 12.5);
	assert_int_equal(as_metric_value("12 13", 5, "", &v, why, sizeof(why)), -EINVAL);
	assert_int_equal(as_metric_value("nan", 3, "", &v, why, sizeof(why)), -EINVAL);
	assert_int_equal(as_metric_value("", 0, "", &v, why, sizeof(why)), -EINVAL);
	assert_int_equal(as_metric_value("1\0", 2, "", &v, why, sizeof(why)), -EINVAL);
	const char *j = "{\"a\": {\"b\": 3, \"s\": \"4.5\", \"o\": {}}}";
	assert_int_equal(as_metric_value(j, strlen(j), "a.b", &v, why, sizeof(why)), 0);
	assert_true(v == 3);
	assert_int_equal(as_metric_value(j, strlen(j), "a.s", &v, why, sizeof(why)), 0);
	assert_true(v == 4.5);
	assert_int_equal(as_metric_value(j, strlen(j), "a.o", &v, why, sizeof(why)), -EINVAL);
	assert_int_equal(as_metric_value(j, strlen(j), "a.c", &v, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "a.c"));
	assert_int_equal(as_metric_value("[1]", 3, "a", &v, why, sizeof(why)), -EINVAL);
}

static void test_decide(void **st)
{
	(void)st;
	struct as_policy p = { .metric = AS_METRIC_HTTP, .target = 1, .tolerance = 0.1, .min = 1,
			       .max = 10, .step = 3 };
	char r[200];
	/* within tolerance: nothing */
	assert_int_equal(as_decide(&p, 4, 1.05, 4, false, r, sizeof(r)), 4);
	/* 2x: wants 8, step 3 */
	assert_int_equal(as_decide(&p, 4, 2, 4, false, r, sizeof(r)), 7);
	assert_non_null(strstr(r, "above the target"));
	/* stateful: one at a time */
	assert_int_equal(as_decide(&p, 4, 2, 4, true, r, sizeof(r)), 5);
	/* at max, more load: stays */
	assert_int_equal(as_decide(&p, 10, 5, 10, false, r, sizeof(r)), 10);
	/* no load: down by step, never below min */
	assert_int_equal(as_decide(&p, 10, 0, 10, false, r, sizeof(r)), 7);
	assert_non_null(strstr(r, "below the target"));
	assert_int_equal(as_decide(&p, 2, 0, 2, false, r, sizeof(r)), 1);
	assert_int_equal(as_decide(&p, 1, 0, 1, false, r, sizeof(r)), 1);
	/* outside the bounds: back in, by step, with or without samples */
	assert_int_equal(as_decide(&p, 0, NAN, 0, false, r, sizeof(r)), 1);
	assert_non_null(strstr(r, "below the policy's minimum 1"));
	assert_int_equal(as_decide(&p, 20, NAN, 0, false, r, sizeof(r)), 17);
	assert_int_equal(as_decide(&p, 12, NAN, 0, false, r, sizeof(r)), 10);
	/* no samples inside the bounds: nothing */
	assert_int_equal(as_decide(&p, 5, NAN, 0, false, r, sizeof(r)), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_metric_value),
		cmocka_unit_test(test_decide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
