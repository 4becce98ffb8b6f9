/* App definitions: defaults, a table of bad definitions with their exact paths and
 * messages, ids, merges, versions, config changes, task names and label selectors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/app.h"
#include "model/fetch.h"

static json_t *load(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
	if (!j)
		fail_msg("bad test JSON %s: %s", text, je.text);
	return j;
}

static struct app *parse_ok(const char *text, const char *base)
{
	json_t *j = load(text);
	struct verr err = VERR_INIT;
	struct app *a = NULL;
	if (app_parse(j, base, &err, &a) < 0)
		fail_msg("%s rejected: %s", text, verr_first(&err));
	assert_false(verr_any(&err));
	verr_release(&err);
	json_decref(j);
	return a;
}

static void test_defaults(void **state)
{
	struct app *a = parse_ok("{\"id\":\"web\",\"cmd\":\"sleep 1\"}", "/");
	assert_string_equal(a->id, "/web");
	assert_string_equal(a->cmd, "sleep 1");
	assert_null(a->args);
	assert_true(a->cpus == 1);
	assert_true(a->mem == 128);
	assert_true(a->disk == 0);
	assert_true(a->gpus == 0);
	assert_int_equal(a->instances, 1);
	assert_int_equal(a->nports, 1);
	assert_int_equal(a->ports[0].port, 0);
	assert_string_equal(a->ports[0].name, "default");
	assert_string_equal(a->ports[0].protocol, "tcp");
	assert_false(a->require_ports);
	assert_int_equal(a->nconstraints, 0);
	assert_true(a->backoff_seconds == 1);
	assert_true(a->backoff_factor == 1.15);
	assert_true(a->max_launch_delay_seconds == 300);
	assert_true(a->kill_grace_seconds == 3);
	assert_int_equal(a->kill_selection, KILL_YOUNGEST_FIRST);
	assert_string_equal(a->role, "*");
	assert_null(a->user);
	assert_int_equal(json_object_size(a->env), 0);
	assert_int_equal(json_object_size(a->labels), 0);
	/* The normalized JSON carries the defaults. */
	char *s = json_dumps(a->json, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(15));
	assert_string_equal(
		s, "{\"backoffFactor\":1.15,\"backoffSeconds\":1,\"cmd\":\"sleep 1\","
		   "\"constraints\":[],\"cpus\":1.0,\"dependencies\":[],\"disk\":0.0,\"env\":{},"
		   "\"executor\":\"\",\"gpus\":0,\"healthChecks\":[],\"id\":\"/web\","
		   "\"instances\":1,\"killSelection\":\"YOUNGEST_FIRST\",\"labels\":{},"
		   "\"maxLaunchDelaySeconds\":300,\"mem\":128.0,"
		   "\"portDefinitions\":[{\"name\":\"default\",\"port\":0,\"protocol\":\"tcp\"}],"
		   "\"requirePorts\":false,\"role\":\"*\",\"unreachableStrategy\":"
		   "{\"expungeAfterSeconds\":0,\"inactiveAfterSeconds\":0},"
		   "\"upgradeStrategy\":{\"maximumOverCapacity\":1.0,\"minimumHealthCapacity\":1.0}}");
	free(s);
	app_free(a);
	app_free(NULL);
}

static void test_full(void **state)
{
	struct app *a = parse_ok(
		"{\"id\":\"../db/pg\",\"args\":[\"postgres\",\"-D\",\"/data\"],\"cpus\":0.5,"
		"\"mem\":256,\"disk\":1024,\"gpus\":1,\"instances\":3,"
		"\"env\":{\"A\":\"1\",\"S\":{\"secret\":\"pw\"}},\"labels\":{\"team\":\"db\"},"
		"\"secrets\":{\"pw\":{\"source\":\"/db/pw\"}},"
		"\"ports\":[5432,0],\"constraints\":[[\"hostname\",\"UNIQUE\"]],"
		"\"backoffSeconds\":2,\"backoffFactor\":2,\"maxLaunchDelaySeconds\":60,"
		"\"taskKillGracePeriodSeconds\":30,\"killSelection\":\"OLDEST_FIRST\","
		"\"role\":\"prod\",\"user\":\"postgres\",\"unreachableStrategy\":\"disabled\","
		"\"custom\":{\"x\":[1,2]},\"version\":\"2015-01-01T00:00:00.000Z\","
		"\"tasksRunning\":4,\"tasks\":[],\"deployments\":[],\"lastTaskFailure\":{}}",
		"/prod/web");
	assert_string_equal(a->id, "/prod/db/pg");
	assert_int_equal(a->nargs, 3);
	assert_string_equal(a->args[2], "/data");
	assert_null(a->args[3]);
	assert_true(a->cpus == 0.5 && a->mem == 256 && a->disk == 1024 && a->gpus == 1);
	assert_int_equal(a->instances, 3);
	assert_int_equal(a->nports, 2);
	assert_int_equal(a->ports[0].port, 5432);
	assert_null(a->ports[0].name);
	assert_int_equal(a->nconstraints, 1);
	assert_true(a->kill_grace_seconds == 30);
	assert_int_equal(a->kill_selection, KILL_OLDEST_FIRST);
	assert_string_equal(a->role, "prod");
	assert_string_equal(a->user, "postgres");
	assert_string_equal(json_string_value(json_object_get(a->env, "A")), "1");
	assert_string_equal(json_string_value(json_object_get(a->labels, "team")), "db");
	/* Unknown kept, output fields and the deprecated ports alias gone. */
	assert_non_null(json_object_get(a->json, "custom"));
	assert_null(json_object_get(a->json, "version"));
	assert_null(json_object_get(a->json, "tasksRunning"));
	assert_null(json_object_get(a->json, "tasks"));
	assert_null(json_object_get(a->json, "deployments"));
	assert_null(json_object_get(a->json, "lastTaskFailure"));
	assert_null(json_object_get(a->json, "ports"));
	assert_int_equal(json_array_size(json_object_get(a->json, "portDefinitions")), 2);
	assert_string_equal(json_string_value(json_object_get(a->json, "id")), "/prod/db/pg");
	assert_string_equal(json_string_value(json_object_get(a->json, "unreachableStrategy")),
			    "disabled");
	app_free(a);

	/* Docker bridge networking: no default port definition; container alone suffices. */
	a = parse_ok("{\"id\":\"/x\",\"container\":{\"type\":\"DOCKER\",\"docker\":{\"image\":"
		     "\"nginx\",\"network\":\"BRIDGE\"}}}",
		     "/");
	assert_int_equal(a->nports, 0);
	assert_null(a->cmd);
	app_free(a);

	/* Boundaries that are fine. */
	a = parse_ok("{\"id\":\"/a-1.b/c\",\"cmd\":\"x\",\"cpus\":0.001,\"mem\":0,"
		     "\"instances\":1000000,\"portDefinitions\":[],\"requirePorts\":true,"
		     "\"upgradeStrategy\":{\"minimumHealthCapacity\":0,\"maximumOverCapacity\":1},"
		     "\"unreachableStrategy\":{\"inactiveAfterSeconds\":5,\"expungeAfterSeconds\":5},"
		     "\"backoffFactor\":1.0,\"gpus\":2.0}",
		     "/");
	assert_int_equal(a->instances, APP_MAX_INSTANCES);
	assert_int_equal(a->nports, 0);
	assert_true(a->gpus == 2);
	app_free(a);
}

static const char id_msg[] =
	"must fully match regular expression "
	"'^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])"
	"|(\\.|\\.\\.)$'";

static void test_bad(void **state)
{
	static const struct {
		const char *json, *path, *msg;
	} cases[] = {
		{ "[]", "/", "error.expected.jsobject" },
		{ "{\"cmd\":\"x\"}", "/id", "error.path.missing" },
		{ "{\"id\":5,\"cmd\":\"x\"}", "/id", "error.expected.jsstring" },
		{ "{\"id\":\"Web\",\"cmd\":\"x\"}", "/id", id_msg },
		{ "{\"id\":\"web_1\",\"cmd\":\"x\"}", "/id", id_msg },
		{ "{\"id\":\"-web\",\"cmd\":\"x\"}", "/id", id_msg },
		{ "{\"id\":\"web-\",\"cmd\":\"x\"}", "/id", id_msg },
		{ "{\"id\":\"a..b\",\"cmd\":\"x\"}", "/id", id_msg },
		{ "{\"id\":\"\",\"cmd\":\"x\"}", "/id", "must not be empty" },
		{ "{\"id\":\"/\",\"cmd\":\"x\"}", "/id", "must not be the root group" },
		{ "{\"id\":\"../../x\",\"cmd\":\"x\"}", "/id", "goes above the root group" },
		{ "{\"id\":\"x\",\"cmd\":\"a\",\"args\":[\"b\"]}", "/",
		  "AppDefinition must contain either 'cmd' or 'args', not both" },
		{ "{\"id\":\"x\"}", "/",
		  "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'." },
		{ "{\"id\":\"x\",\"cmd\":7}", "/cmd", "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"\"}", "/cmd", "must not be empty" },
		{ "{\"id\":\"x\",\"args\":\"ls\"}", "/args", "error.expected.jsarray" },
		{ "{\"id\":\"x\",\"args\":[\"ls\",1]}", "/args/1", "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"cpus\":-1}", "/cpus", "got -1.0, expected 0.001 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"cpus\":0}", "/cpus", "got 0.0, expected 0.001 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"cpus\":\"1\"}", "/cpus", "error.expected.jsnumber" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"mem\":-0.5}", "/mem", "got -0.5, expected 0.0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"disk\":-1}", "/disk", "got -1.0, expected 0.0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"gpus\":1.5}", "/gpus", "error.expected.int" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"gpus\":-1}", "/gpus", "got -1, expected 0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"instances\":-1}", "/instances",
		  "got -1, expected 0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"instances\":1000001}", "/instances",
		  "got 1000001, expected 1000000 or less" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"instances\":\"3\"}", "/instances",
		  "error.expected.jsnumber" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"env\":[]}", "/env", "error.expected.jsobject" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"env\":{\"A\":1}}", "/env/A", "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"env\":{\"A\":{\"x\":\"y\"}}}", "/env/A",
		  "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"A\":true}}", "/labels/A",
		  "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"A\":{\"secret\":\"s\"}}}", "/labels/A",
		  "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"env\":{\"A\":{\"secret\":\"s\"}}}",
		  "/env/A/secret", "references an undefined secret" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"secrets\":{\"s\":{\"source\":\"a/../b\"}}}",
		  "/secrets/s/source", "none '.' or" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"secrets\":{\"s\":{}}}", "/secrets/s/source",
		  "error.path.missing" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"secrets\":{\"s\":\"v\"}}", "/secrets/s",
		  "error.expected.jsobject" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":[{\"port\":70000}]}",
		  "/portDefinitions/0/port", "got 70000, expected between 0 and 65535" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":[{\"port\":-1}]}",
		  "/portDefinitions/0/port", "got -1, expected between 0 and 65535" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":[{\"port\":\"80\"}]}",
		  "/portDefinitions/0/port", "error.expected.jsnumber" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
		  "/portDefinitions", "Port names must be unique." },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":[{\"port\":80},{\"port\":80}]}",
		  "/portDefinitions", "Ports must be unique." },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":[{\"name\":\"Http\"}]}",
		  "/portDefinitions/0/name", "must fully match regular expression '^[a-z0-9-]+$'" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":[{\"protocol\":\"sctp\"}]}",
		  "/portDefinitions/0/protocol", "must be one of tcp, udp, udp,tcp" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":[3]}", "/portDefinitions/0",
		  "error.expected.jsobject" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"portDefinitions\":{}}", "/portDefinitions",
		  "error.expected.jsarray" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"ports\":[80],\"portDefinitions\":[]}", "/",
		  "You cannot specify both ports and port definitions" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"ports\":[\"80\"]}", "/ports/0", "error.expected.jsnumber" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"requirePorts\":\"yes\"}", "/requirePorts",
		  "error.expected.jsboolean" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"requirePorts\":true}", "/portDefinitions/0/port",
		  "must be non-zero when requirePorts is true" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"constraints\":[[\"hostname\",\"NOPE\"]]}",
		  "/constraints/0",
		  "Constraint operator must be one of: UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"backoffSeconds\":-1}", "/backoffSeconds",
		  "got -1.0, expected 0.0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"backoffFactor\":0.5}", "/backoffFactor",
		  "got 0.5, expected 1.0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"maxLaunchDelaySeconds\":-5}", "/maxLaunchDelaySeconds",
		  "got -5.0, expected 0.0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"taskKillGracePeriodSeconds\":-1}",
		  "/taskKillGracePeriodSeconds", "got -1.0, expected 0.0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"killSelection\":\"RANDOM\"}", "/killSelection",
		  "must be one of YOUNGEST_FIRST, OLDEST_FIRST" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"killSelection\":1}", "/killSelection",
		  "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"role\":\"\"}", "/role", "must not be empty" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"user\":3}", "/user", "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"upgradeStrategy\":{\"minimumHealthCapacity\":1.5}}",
		  "/upgradeStrategy/minimumHealthCapacity", "is greater than 1" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"upgradeStrategy\":{\"maximumOverCapacity\":-0.1}}",
		  "/upgradeStrategy/maximumOverCapacity", "is less than 0" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"upgradeStrategy\":1}", "/upgradeStrategy",
		  "error.expected.jsobject" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"unreachableStrategy\":\"off\"}", "/unreachableStrategy",
		  "must be \"disabled\"" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":10,"
		  "\"expungeAfterSeconds\":5}}",
		  "/unreachableStrategy",
		  "inactiveAfterSeconds (10) must be less or equal to expungeAfterSeconds (5)" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":-1}}",
		  "/unreachableStrategy/inactiveAfterSeconds", "got -1, expected 0 or more" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"healthChecks\":{}}", "/healthChecks",
		  "error.expected.jsarray" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"dependencies\":[1]}", "/dependencies/0",
		  "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"executor\":false}", "/executor",
		  "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"uris\":[null]}", "/uris/0", "error.expected.jsstring" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"container\":\"docker\"}", "/container",
		  "error.expected.jsobject" },
		/* berth's labels (app-berth.c) */
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"BERTH_PER_AGENT\":\"yes\"}}",
		  "/labels/BERTH_PER_AGENT", "must be 'true' or 'false', not 'yes'" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"BERTH_PER_AGENT\":\"true\","
		  "\"BERTH_AUTOSCALE_MAX\":\"3\"}}",
		  "/labels/BERTH_PER_AGENT", "may not have an autoscaling policy" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"BERTH_PER_AGENT\":\"true\"},"
		  "\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"d\","
		  "\"mode\":\"RW\",\"persistent\":{\"size\":1}}]}}",
		  "/labels/BERTH_PER_AGENT", "may not have local persistent volumes" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"BERTH_INSTANCE_INDEX_OFFSET\":\"-1\"}}",
		  "/labels/BERTH_INSTANCE_INDEX_OFFSET", "must be a whole number from 0 to 1000000000" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"BERTH_INSTANCE_INDEX_OFFSET\":\"\"}}",
		  "/labels/BERTH_INSTANCE_INDEX_OFFSET", "not ''" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"BERTH_INSTANCE_INDEX_OFFSET\":"
		  "\"1000000001\"}}",
		  "/labels/BERTH_INSTANCE_INDEX_OFFSET", "not '1000000001'" },
		{ "{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"BERTH_INSTANCE_INDEX_OFFSET\":\"1e3\"}}",
		  "/labels/BERTH_INSTANCE_INDEX_OFFSET", "not '1e3'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = load(cases[i].json);
		struct verr err = VERR_INIT;
		struct app *a = (void *)1;
		int rc = app_parse(j, "/", &err, &a);
		if (rc != -EINVAL)
			fail_msg("%s accepted", cases[i].json);
		assert_null(a);
		/* The wanted message is among the errors at the wanted path. */
		bool found = false;
		size_t k;
		json_t *d;
		json_array_foreach(err.details, k, d) {
			if (strcmp(json_string_value(json_object_get(d, "path")), cases[i].path))
				continue;
			size_t m;
			json_t *e;
			json_array_foreach(json_object_get(d, "errors"), m, e)
				if (strstr(json_string_value(e), cases[i].msg))
					found = true;
		}
		if (!found) {
			char *dump = json_dumps(err.details, JSON_COMPACT);
			fail_msg("%s: want %s '%s', got %s", cases[i].json, cases[i].path,
				 cases[i].msg, dump);
		}
		verr_release(&err);
		json_decref(j);
	}
}

/* berth's labels at their bounds: the largest offset, per-agent off and on. */
static void test_berth_labels(void **state)
{
	(void)state;
	struct app *a = parse_ok("{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{"
				 "\"BERTH_INSTANCE_INDEX_OFFSET\":\"1000000000\","
				 "\"BERTH_PER_AGENT\":\"false\"}}", "/");
	assert_int_equal(a->index_offset, 1000000000u);
	assert_false(a->per_agent);
	app_free(a);
	a = parse_ok("{\"id\":\"x\",\"cmd\":\"x\",\"labels\":{\"BERTH_PER_AGENT\":\"true\"}}",
		     "/");
	assert_true(a->per_agent);
	assert_int_equal(a->index_offset, 0);
	app_free(a);
	a = parse_ok("{\"id\":\"x\",\"cmd\":\"x\"}", "/");
	assert_false(a->per_agent);
	assert_int_equal(a->index_offset, 0);
	app_free(a);
}

static void test_every_problem(void **state)
{
	json_t *j = load("{\"id\":\"Bad\",\"cmd\":\"x\",\"args\":[\"y\"],\"cpus\":-1,"
			 "\"instances\":\"3\",\"mem\":null}");
	struct verr err = VERR_INIT;
	struct app *a;
	assert_int_equal(app_parse(j, "/", &err, &a), -EINVAL);
	assert_int_equal(json_array_size(err.details), 4); /* /id, /, /cpus, /instances */
	verr_release(&err);
	json_decref(j);
}

static void test_limits(void **state)
{
	/* env: 1000 entries pass, 1001 do not; a value of 64 KiB passes, one byte more not. */
	json_t *j = load("{\"id\":\"x\",\"cmd\":\"x\"}");
	json_t *env = json_object();
	char k[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "K%d", i);
		json_object_set_new(env, k, json_string("v"));
	}
	json_object_set_new(j, "env", env);
	struct verr err = VERR_INIT;
	struct app *a;
	assert_int_equal(app_parse(j, "/", &err, &a), 0);
	app_free(a);
	json_object_set_new(env, "ONE_MORE", json_string("v"));
	assert_int_equal(app_parse(j, "/", &err, &a), -EINVAL);
	assert_string_equal(verr_first(&err), "'/env': must not have more than 1000 entries");
	verr_release(&err);
	json_object_clear(env);
	char *big = malloc(64 * 1024 + 2);
	memset(big, 'a', 64 * 1024 + 1);
	big[64 * 1024] = '\0';
	json_object_set_new(env, "BIG", json_string(big));
	assert_int_equal(app_parse(j, "/", &err, &a), 0);
	app_free(a);
	big[64 * 1024] = 'a';
	big[64 * 1024 + 1] = '\0';
	json_object_set_new(env, "BIG", json_string(big));
	assert_int_equal(app_parse(j, "/", &err, &a), -EINVAL);
	assert_string_equal(verr_first(&err), "'/env/BIG': value longer than 65536 bytes");
	verr_release(&err);
	free(big);

	/* An id of exactly APP_MAX_ID_LEN characters passes, one more does not. */
	char id[APP_MAX_ID_LEN + 2];
	memset(id, 'a', sizeof(id));
	id[0] = '/';
	id[APP_MAX_ID_LEN] = '\0';
	json_object_set_new(j, "id", json_string(id));
	json_object_del(j, "env");
	assert_int_equal(app_parse(j, "/", &err, &a), 0);
	app_free(a);
	id[APP_MAX_ID_LEN] = 'a';
	id[APP_MAX_ID_LEN + 1] = '\0';
	json_object_set_new(j, "id", json_string(id));
	assert_int_equal(app_parse(j, "/", &err, &a), -EINVAL);
	assert_string_equal(verr_first(&err), "'/id': is longer than 512 characters");
	verr_release(&err);
	json_decref(j);
}

static void test_ids(void **state)
{
	static const struct {
		const char *text, *base, *out;
	} good[] = {
		{ "web", "/", "/web" },
		{ "web", NULL, "/web" },
		{ "/prod/web", "/x", "/prod/web" },
		{ "web", "/prod", "/prod/web" },
		{ "./web", "/prod", "/prod/web" },
		{ "../web", "/prod/a", "/prod/web" },
		{ "..", "/prod/a", "/prod" },
		{ "/a//b/", "/", "/a/b" },
		{ "a.b-c/d0", "/", "/a.b-c/d0" },
		{ "/", "/", "/" },
	};
	char out[APP_MAX_ID_LEN + 1], err[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (app_id_canonical(good[i].text, good[i].base, out, err, sizeof(err)) < 0)
			fail_msg("'%s': %s", good[i].text, err);
		assert_string_equal(out, good[i].out);
	}
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "Web", "'Web' is not a valid path: segments are lower-case letters, digits, '-' and '.'" },
		{ "/ok/b_c", "'b_c' is not a valid path" },
		{ "a.", "'a.' is not a valid path" },
		{ "../..", "goes above the root group" },
		{ "", "the id is empty" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(app_id_canonical(bad[i].text, "/", out, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': '%s'", bad[i].text, err);
	}
	assert_true(app_id_segment_valid("a-b.c", 5));
	assert_false(app_id_segment_valid("a-.c", 4));
}

static void test_merge_version_differs(void **state)
{
	json_t *old = load("{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":2,\"env\":{\"A\":\"1\"}}");
	json_t *patch = load("{\"instances\":5,\"env\":{\"B\":\"2\"},\"cmd\":null}");
	json_t *m = app_merge(old, patch);
	char *s = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"cmd\":\"x\",\"env\":{\"B\":\"2\"},\"id\":\"/a\",\"instances\":5}");
	free(s);
	/* old is untouched. */
	assert_int_equal(json_integer_value(json_object_get(old, "instances")), 2);

	struct verr err = VERR_INIT;
	struct app *a, *b, *c;
	assert_int_equal(app_parse(old, "/", &err, &a), 0);
	json_object_set_new(old, "instances", json_integer(9));
	json_object_set_new(old, "cpus", json_real(1.0)); /* same as the default 1 */
	assert_int_equal(app_parse(old, "/", &err, &b), 0);
	assert_false(app_config_differs(a, b));
	assert_int_equal(app_parse(m, "/", &err, &c), 0);
	assert_true(app_config_differs(a, c));

	app_set_version(a, 1440620619463000ull, true, NULL);
	assert_string_equal(a->version, "2015-08-26T20:23:39.463Z");
	assert_string_equal(json_string_value(json_object_get(a->json, "version")), a->version);
	json_t *vi = json_object_get(a->json, "versionInfo");
	assert_string_equal(json_string_value(json_object_get(vi, "lastScalingAt")), a->version);
	assert_string_equal(json_string_value(json_object_get(vi, "lastConfigChangeAt")), a->version);
	app_set_version(b, 1440620620000000ull, false, "2015-08-26T20:23:39.463Z");
	vi = json_object_get(b->json, "versionInfo");
	assert_string_equal(json_string_value(json_object_get(vi, "lastScalingAt")),
			    "2015-08-26T20:23:40.000Z");
	assert_string_equal(json_string_value(json_object_get(vi, "lastConfigChangeAt")),
			    "2015-08-26T20:23:39.463Z");
	assert_false(app_config_differs(a, b)); /* versions do not count */

	app_free(a);
	app_free(b);
	app_free(c);
	json_decref(m);
	json_decref(old);
	json_decref(patch);
}

static void test_task_name(void **state)
{
	char out[APP_MAX_ID_LEN + 1];
	app_task_name("/prod/db/pg", out);
	assert_string_equal(out, "pg.db.prod");
	app_task_name("/web", out);
	assert_string_equal(out, "web");
	app_task_name("/a.b/c", out);
	assert_string_equal(out, "c.a.b");
	app_task_name("/", out);
	assert_string_equal(out, "");
}

static void test_label_selectors(void **state)
{
	json_t *labels = load("{\"env\":\"prod\",\"tier\":\"web\",\"odd,key\":\"v\",\"empty\":\"\"}");
	static const struct {
		const char *sel;
		int want;
	} cases[] = {
		{ "env", 1 },
		{ "nope", 0 },
		{ "env==prod", 1 },
		{ "env==dev", 0 },
		{ " env == prod ", 1 },
		{ "env!=dev", 1 },
		{ "env!=prod", 0 },
		{ "nope!=x", 0 }, /* Marathon: the key must be there */
		{ "env in (dev,prod)", 1 },
		{ "env in (dev, test)", 0 },
		{ "env notin (dev,test)", 1 },
		{ "env notin (prod)", 0 },
		{ "nope notin (x)", 0 },
		{ "env==prod,tier==web", 1 },
		{ "env==prod,tier==db", 0 },
		{ "env in (prod),tier", 1 },
		{ "odd\\,key==v", 1 },
		{ "empty", 1 },
		{ "", -EINVAL },
		{ "env==", -EINVAL },
		{ "env in prod", -EINVAL },
		{ "env in (prod", -EINVAL },
		{ "env in ()", -EINVAL },
		{ "env,", -EINVAL },
		{ ",env", -EINVAL },
		{ "env=prod", -EINVAL },
		{ "env==prod junk", -EINVAL },
		{ "nope,env=prod", -EINVAL }, /* bad even after a non-match */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = app_label_selector_match(cases[i].sel, labels);
		if (got != cases[i].want)
			fail_msg("'%s': got %d want %d", cases[i].sel, got, cases[i].want);
	}
	assert_int_equal(app_label_selector_match("env", NULL), 0);
	json_decref(labels);
}

/* fetch and uris as the agent's LAUNCH carries them (model/fetch.h) */
static void test_fetch_spec(void **state)
{
	(void)state;
	assert_null(fetch_spec(NULL, NULL));
	json_t *none = json_loads("[{\"extract\": true}, 3]", 0, NULL);
	assert_null(fetch_spec(none, none));
	json_t *fetch = json_loads("[{\"uri\": \"http://h/a.tgz\"}, {\"uri\": \"http://h/run\", "
				   "\"extract\": false, \"executable\": true, \"outputFile\": \"r\"}]",
				   0, NULL);
	json_t *uris = json_loads("[\"http://h/b.zip\", 7]", 0, NULL);
	json_t *got = fetch_spec(fetch, uris);
	json_t *want = json_loads(
		"[{\"uri\": \"http://h/a.tgz\", \"extract\": true, \"executable\": false},"
		" {\"uri\": \"http://h/run\", \"extract\": false, \"executable\": true,"
		"  \"output_file\": \"r\"},"
		" {\"uri\": \"http://h/b.zip\", \"extract\": true, \"executable\": false}]",
		0, NULL);
	assert_non_null(got);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	json_decref(fetch);
	json_decref(uris);
	json_decref(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_every_problem),
		cmocka_unit_test(test_berth_labels),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_merge_version_differs),
		cmocka_unit_test(test_task_name),
		cmocka_unit_test(test_label_selectors),
		cmocka_unit_test(test_fetch_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
