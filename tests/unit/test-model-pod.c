/* Marathon pod definitions (model/pod.h): Marathon's defaults filled in, every refusal
 * named by its path, what counts as a change beyond scaling, the safe id. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/pod.h"

#define CTR "{\"name\":\"c\",\"resources\":{\"cpus\":0.5,\"mem\":64},\"exec\":{\"command\":{\"shell\":\"true\"}}}"

static json_t *parse(const char *text, struct verr *err, int *rc)
{
	json_t *in = json_loads(text, 0, NULL);
	assert_non_null(in);
	json_t *out = NULL;
	*rc = pod_parse(in, "/g", err, &out);
	json_decref(in);
	return out;
}

static void test_defaults(void **state)
{
	(void)state;
	struct verr err = VERR_INIT;
	int rc;
	json_t *p = parse("{\"id\":\"p\",\"version\":\"x\",\"containers\":[" CTR "]}", &err, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(json_string_value(json_object_get(p, "id")), "/g/p");
	assert_null(json_object_get(p, "version"));
	assert_int_equal(pod_instances(p), 1);
	json_t *want = json_loads(
		"{\"scaling\":{\"kind\":\"fixed\",\"instances\":1},\"networks\":[{\"mode\":\"host\"}],"
		"\"executorResources\":{\"cpus\":0.1,\"mem\":32.0,\"disk\":10.0},"
		"\"scheduling\":{\"backoff\":{\"backoff\":1.0,\"backoffFactor\":1.15,"
		"\"maxLaunchDelay\":3600.0},\"upgrade\":{\"minimumHealthCapacity\":1.0,"
		"\"maximumOverCapacity\":1.0},\"killSelection\":\"YOUNGEST_FIRST\","
		"\"unreachableStrategy\":{\"inactiveAfterSeconds\":0,\"expungeAfterSeconds\":0}}}",
		0, NULL);
	const char *k;
	json_t *v;
	json_object_foreach(want, k, v)
		if (!json_equal(json_object_get(p, k), v))
			fail_msg("'%s' is not Marathon's default", k);
	json_t *r = json_object_get(json_array_get(json_object_get(p, "containers"), 0),
				    "resources");
	assert_true(json_number_value(json_object_get(r, "disk")) == 0.0);
	assert_int_equal(json_integer_value(json_object_get(r, "gpus")), 0);
	json_decref(want);
	/* normalised is a fixed point; scaling is not a config change, env is */
	json_t *q = NULL;
	assert_int_equal(pod_parse(p, "/", &err, &q), 0);
	assert_true(json_equal(p, q));
	json_object_set_new(json_object_get(q, "scaling"), "instances", json_integer(5));
	json_object_set_new(q, "version", json_string("2026-01-01T00:00:00.000Z"));
	assert_false(pod_config_differs(p, q));
	json_object_set_new(q, "environment", json_pack("{s:s}", "A", "1"));
	assert_true(pod_config_differs(p, q));
	json_decref(q);
	json_decref(p);
	verr_release(&err);
}

static void test_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *pod, *path;
	} bad[] = {
		{ "{\"containers\":[" CTR "]}", "/id" },
		{ "{\"id\":\"Bad\",\"containers\":[" CTR "]}", "/id" },
		{ "{\"id\":\"p\",\"containers\":[]}", "/containers" },
		{ "{\"id\":\"p\",\"containers\":[" CTR "," CTR "]}", "/containers" },
		{ "{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"resources\":{\"cpus\":0.0005}}]}",
		  "/containers(0)/resources/cpus" },
		{ "{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"resources\":{}}]}",
		  "/containers(0)/exec" },
		{ "{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"resources\":{},\"exec\":{\"command\":"
		  "{\"shell\":\"x\",\"argv\":[\"x\"]}}}]}", "/containers(0)/exec/command" },
		{ "{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"resources\":{},\"image\":{\"kind\":"
		  "\"DOCKER\",\"id\":\"x\"},\"exec\":{\"command\":{\"shell\":\"x\"}}}]}",
		  "/containers(0)/image" },
		{ "{\"id\":\"p\",\"networks\":[{\"mode\":\"container/bridge\"}],\"containers\":[" CTR
		  "]}", "/networks" },
		{ "{\"id\":\"p\",\"volumes\":[{\"name\":\"v\",\"host\":\"/etc\"}],\"containers\":["
		  CTR "]}", "/volumes(0)" },
		{ "{\"id\":\"p\",\"containers\":[{\"name\":\"c\",\"resources\":{},\"exec\":{\"command\":"
		  "{\"shell\":\"x\"}},\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"m\"}]}]}",
		  "/containers(0)/volumeMounts(0)/name" },
		{ "{\"id\":\"p\",\"volumes\":[{\"name\":\"v\"}],\"containers\":[{\"name\":\"c\","
		  "\"resources\":{},\"exec\":{\"command\":{\"shell\":\"x\"}},\"volumeMounts\":[{\"name\":"
		  "\"v\",\"mountPath\":\"a/../../b\"}]}]}", "/containers(0)/volumeMounts(0)/mountPath" },
		{ "{\"id\":\"p\",\"scaling\":{\"kind\":\"fixed\",\"instances\":-1},\"containers\":[" CTR
		  "]}", "/scaling/instances" },
		{ "{\"id\":\"p\",\"scaling\":{\"kind\":\"auto\"},\"containers\":[" CTR "]}",
		  "/scaling/kind" },
		{ "{\"id\":\"p\",\"secrets\":{\"s\":{\"source\":\"/x\"}},\"containers\":[" CTR "]}",
		  "/secrets" },
		{ "{\"id\":\"p\",\"scheduling\":{\"upgrade\":{\"minimumHealthCapacity\":2}},"
		  "\"containers\":[" CTR "]}", "/scheduling/upgrade/minimumHealthCapacity" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct verr err = VERR_INIT;
		int rc;
		json_t *p = parse(bad[i].pod, &err, &rc);
		assert_int_equal(rc, -EINVAL);
		assert_null(p);
		json_t *body = verr_body(&err);
		bool found = false;
		size_t k;
		json_t *d;
		json_array_foreach(json_object_get(body, "details"), k, d)
			found = found || !strcmp(json_string_value(json_object_get(d, "path")),
						 bad[i].path);
		if (!found)
			fail_msg("case %zu: no error at '%s' (%s)", i, bad[i].path, verr_first(&err));
		json_decref(body);
		verr_release(&err);
	}
}

/* scheduling.placement in Marathon's pod form, as apps' constraints; healthCheck normalised
 * with Marathon's defaults. */
static void test_placement_and_health(void **state)
{
	(void)state;
	struct verr err = VERR_INIT;
	int rc;
	json_t *p = parse("{\"id\":\"p\",\"scheduling\":{\"placement\":{\"constraints\":["
			  "{\"fieldName\":\"hostname\",\"operator\":\"UNIQUE\"},{\"fieldName\":"
			  "\"rack\",\"operator\":\"LIKE\",\"value\":\"r[12]\"}],"
			  "\"acceptedResourceRoles\":[\"*\"]}},\"containers\":[{\"name\":\"c\","
			  "\"exec\":{\"command\":{\"shell\":\"x\"}},\"endpoints\":[{\"name\":"
			  "\"e\"}],\"healthCheck\":{\"tcp\":{\"endpoint\":\"e\"}}}]}",
			  &err, &rc);
	assert_int_equal(rc, 0);
	json_t *cj = pod_constraints_json(p);
	char *s = json_dumps(cj, JSON_COMPACT);
	assert_string_equal(s, "[[\"hostname\",\"UNIQUE\"],[\"rack\",\"LIKE\",\"r[12]\"]]");
	free(s);
	json_decref(cj);
	s = json_dumps(json_object_get(json_array_get(json_object_get(p, "containers"), 0),
				       "healthCheck"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"delaySeconds\":15,\"gracePeriodSeconds\":300,"
			       "\"intervalSeconds\":60,\"maxConsecutiveFailures\":3,"
			       "\"tcp\":{\"endpoint\":\"e\"},\"timeoutSeconds\":20}");
	free(s);
	json_decref(p);
	p = parse("{\"id\":\"p\",\"scheduling\":{\"placement\":{\"constraints\":["
		  "{\"fieldName\":\"rack\",\"operator\":\"BOGUS\"}]}},\"containers\":[" CTR
		  "]}", &err, &rc);
	assert_int_equal(rc, -EINVAL);
	assert_null(p);
	verr_release(&err);
}

static void test_safe_id(void **state)
{
	(void)state;
	char out[64];
	pod_safe_id("/a/b.c/d", out);
	assert_string_equal(out, "a_b.c_d");
	pod_safe_id("/x", out);
	assert_string_equal(out, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_safe_id),
		cmocka_unit_test(test_placement_and_health),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
