/* Chronos's job container translated through Marathon's container checks and LAUNCH record
 * (model/container.h): the record for each form, and each bad form's message naming
 * Chronos's field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/container.h"

static json_t *chronos(const char *text, int *rc, char *err, size_t len)
{
	json_error_t je;
	json_t *in = json_loads(text, JSON_DECODE_ANY, &je);
	if (!in)
		fail_msg("bad test JSON %s: %s", text, je.text);
	json_t *out = NULL;
	err[0] = '\0';
	*rc = container_from_chronos(in, &out, err, len);
	json_decref(in);
	return out;
}

static void test_good(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want; /* want: the LAUNCH "container", or NULL for none */
	} cases[] = {
		{ "{\"type\":\"DOCKER\",\"image\":\"busybox:1.36\"}",
		  "{\"type\":\"DOCKER\",\"image\":\"busybox:1.36\",\"network\":\"HOST\","
		  "\"force_pull\":false}" },
		{ "{\"image\":\"a/b\",\"network\":\"BRIDGE\",\"forcePullImage\":true,\"volumes\":[],"
		  "\"parameters\":[{\"key\":\"env\",\"value\":\"A=1\"}]}",
		  "{\"type\":\"DOCKER\",\"image\":\"a/b\",\"network\":\"BRIDGE\",\"force_pull\":true,"
		  "\"parameters\":[[\"env\",\"A=1\"]],\"port_mappings\":[]}" },
		{ "{\"type\":\"mesos\",\"image\":\"x:1\",\"forcePullImage\":\"true\"}",
		  "{\"type\":\"MESOS\",\"image\":\"x:1\",\"network\":\"HOST\",\"force_pull\":true}" },
		{ "{}", NULL },
		{ "null", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256];
		int rc;
		json_t *got = chronos(cases[i].in, &rc, err, sizeof(err));
		if (rc != 0)
			fail_msg("case %zu %s: %d %s", i, cases[i].in, rc, err);
		if (!cases[i].want) {
			assert_null(got);
			continue;
		}
		json_t *want = json_loads(cases[i].want, 0, NULL);
		if (!json_equal(got, want)) {
			char *g = json_dumps(got, JSON_SORT_KEYS);
			fail_msg("case %zu: got %s", i, g);
		}
		json_decref(want);
		json_decref(got);
	}
}

static void test_bad(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "5", "'container' must be an object" },
		{ "{\"type\":\"DOCKER\"}", "'container.image' is required" },
		{ "{\"image\":\"\"}", "'container.image' is required" },
		{ "{\"type\":\"RKT\",\"image\":\"a\"}", "'container.type': " },
		{ "{\"type\":7,\"image\":\"a\"}", "'container.type' must be DOCKER or MESOS" },
		{ "{\"image\":\"a\",\"network\":\"USER\"}", "'container.network': 'USER' networking" },
		{ "{\"image\":\"a\",\"network\":3}", "'container.network' must be HOST or BRIDGE" },
		{ "{\"image\":\"a\",\"forcePullImage\":\"yes\"}", "'container.forcePullImage'" },
		{ "{\"image\":\"a\",\"parameters\":{}}", "'container.parameters': " },
		{ "{\"image\":\"a\",\"parameters\":[{\"key\":\"env\",\"value\":\"A=1\"},"
		  "{\"key\":\"privileged\",\"value\":\"1\"}]}",
		  "'container.parameters[1]': parameter 'privileged' is not supported" },
		{ "{\"image\":\"a\",\"volumes\":[{\"containerPath\":\"/x\",\"hostPath\":\"/y\"}]}",
		  "'container.volumes': host-path volumes are not supported" },
		{ "{\"image\":\"a\",\"volumes\":7}", "'container.volumes' must be an array" },
		{ "{\"image\":\"a\",\"networkName\":\"dcos\"}", "'container.networkName'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256];
		int rc;
		json_t *got = chronos(cases[i].in, &rc, err, sizeof(err));
		assert_null(got);
		if (rc != -EINVAL || !strstr(err, cases[i].want))
			fail_msg("case %zu %s: %d '%s', want '%s'", i, cases[i].in, rc, err,
				 cases[i].want);
	}
}

/* Marathon's docker.pullConfig: checked against the app's secrets (MESOS only), and the
 * LAUNCH record's "pull_secret" reference (name and source, never a value). */
static void test_pull_config(void **state)
{
	(void)state;
	static const struct {
		const char *app, *err_path; /* err_path NULL: accepted */
	} cases[] = {
		{ "{\"secrets\":{\"p\":{\"source\":\"reg/cfg\"}},\"container\":{\"type\":\"MESOS\","
		  "\"docker\":{\"image\":\"a\",\"pullConfig\":{\"secret\":\"p\"}}}}", NULL },
		{ "{\"secrets\":{\"p\":{\"source\":\"reg/cfg\"}},\"container\":{\"type\":\"MESOS\","
		  "\"docker\":{\"image\":\"a\",\"pullConfig\":{\"secret\":\"q\"}}}}",
		  "/container/docker/pullConfig" },
		{ "{\"container\":{\"type\":\"MESOS\",\"docker\":{\"image\":\"a\","
		  "\"pullConfig\":{}}}}", "/container/docker/pullConfig/secret" },
		{ "{\"secrets\":{\"p\":{\"source\":\"reg/cfg\"}},\"container\":{\"type\":\"DOCKER\","
		  "\"docker\":{\"image\":\"a\",\"pullConfig\":{\"secret\":\"p\"}}}}",
		  "/container/docker/pullConfig" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *app = json_loads(cases[i].app, 0, NULL);
		assert_non_null(app);
		struct verr v = VERR_INIT;
		int rc = container_check(app, &v);
		if (!cases[i].err_path) {
			if (rc != 0 || verr_any(&v))
				fail_msg("case %zu: refused: %s", i, verr_first(&v));
			json_t *spec = container_spec(app, NULL, 0);
			json_t *want = json_pack("{s:s, s:s}", "secret", "p", "source", "reg/cfg");
			assert_true(json_equal(json_object_get(spec, "pull_secret"), want));
			json_decref(want);
			json_decref(spec);
		} else {
			json_t *d = json_array_get(v.details, 0);
			const char *path = json_string_value(json_object_get(d, "path"));
			if (!verr_any(&v) || !path || strcmp(path, cases[i].err_path))
				fail_msg("case %zu: want an error at %s, got %s", i, cases[i].err_path,
					 path ? path : "none");
		}
		verr_release(&v);
		json_decref(app);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_pull_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
