/* The pure pieces of the Mesos state JSON: resources and attributes in the legacy and v1
 * shapes, UPIDs, labels, Marathon's DiscoveryInfo, and the operator API's media checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/verr.h"
#include "master/state-json.h"
#include "model/discovery.h"
#include "model/app.h"

static struct resources parse_res(const char *text)
{
	struct resources r = RESOURCES_INIT;
	char err[256];
	if (resources_parse(text, &r, err, sizeof(err)) < 0)
		fail_msg("'%s' rejected: %s", text, err);
	return r;
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

static void assert_dump(json_t *j, const char *want)
{
	char *s = dump(j);
	assert_string_equal(s, want);
	free(s);
}

static void test_resources_legacy(void **state)
{
	static const struct {
		const char *in, *role, *out;
	} cases[] = {
		/* defaults always there, no ports key without ports */
		{ "", NULL, "{\"cpus\":0.0,\"disk\":0.0,\"gpus\":0.0,\"mem\":0.0}" },
		/* a single port is a-a (Mesos-DNS needs every element to be lo-hi) */
		{ "cpus:0.5;mem:256;ports:[31005-31005]", NULL,
		  "{\"cpus\":0.5,\"disk\":0.0,\"gpus\":0.0,\"mem\":256.0,\"ports\":\"[31005-31005]\"}" },
		{ "ports:[31007-31008, 31005]", NULL,
		  "{\"cpus\":0.0,\"disk\":0.0,\"gpus\":0.0,\"mem\":0.0,"
		  "\"ports\":\"[31005-31005, 31007-31008]\"}" },
		/* scalars summed over roles, ranges merged over roles */
		{ "cpus(*):2;cpus(prod):6;ports(*):[1-2];ports(prod):[3-3,9-9]", NULL,
		  "{\"cpus\":8.0,\"disk\":0.0,\"gpus\":0.0,\"mem\":0.0,\"ports\":\"[1-3, 9-9]\"}" },
		/* one role only */
		{ "cpus(*):2;cpus(prod):6;ports(*):[1-2];ports(prod):[3-3,9-9]", "prod",
		  "{\"cpus\":6.0,\"disk\":0.0,\"gpus\":0.0,\"mem\":0.0,\"ports\":\"[3-3, 9-9]\"}" },
		{ "cpus(*):2;mem(prod):6", "*",
		  "{\"cpus\":2.0,\"disk\":0.0,\"gpus\":0.0,\"mem\":0.0}" },
		/* sets "{a, b}", other scalars kept by name */
		{ "disks:{ssd,hdd};disks(prod):{nvme,ssd};foo:3", NULL,
		  "{\"cpus\":0.0,\"disk\":0.0,\"disks\":\"{hdd, nvme, ssd}\",\"foo\":3.0,\"gpus\":0.0,"
		  "\"mem\":0.0}" },
		{ "gpus:1;disk:710534", NULL,
		  "{\"cpus\":0.0,\"disk\":710534.0,\"gpus\":1.0,\"mem\":0.0}" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resources r = parse_res(cases[i].in);
		assert_dump(state_json_resources(&r, cases[i].role), cases[i].out);
		resources_release(&r);
	}
}

/* The ports string read back with Mesos-DNS's own algorithm gives the ports. */
static void test_ports_mesos_dns_parse(void **state)
{
	struct resources r = RESOURCES_INIT;
	uint32_t want[] = { 31000, 31001, 31002, 31010, 40000 };
	for (size_t i = 0; i < 5; i++)
		resources_add_range(&r, "ports", "*", want[i], want[i]);
	json_t *o = state_json_resources(&r, NULL);
	const char *s = json_string_value(json_object_get(o, "ports"));
	assert_string_equal(s, "[31000-31002, 31010-31010, 40000-40000]");
	/* split("[")[1], split("]")[0], split(","), trim, split("-") */
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", strchr(s, '[') + 1);
	*strchr(buf, ']') = '\0';
	size_t k = 0;
	for (char *p = buf, *next; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		char *dash = strchr(p, '-');
		assert_non_null(dash); /* a bare port would crash Mesos-DNS */
		unsigned long lo = strtoul(p, NULL, 10), hi = strtoul(dash + 1, NULL, 10);
		for (unsigned long v = lo; v <= hi; v++) {
			assert_true(k < 5);
			assert_int_equal(v, want[k++]);
		}
	}
	assert_int_equal(k, 5);
	json_decref(o);
	resources_release(&r);
}

static void test_reserved(void **state)
{
	struct resources r = parse_res("cpus(*):2;cpus(prod):6;mem(prod):10;disk(eng/db):5");
	assert_dump(state_json_reserved(&r),
		    "{\"eng/db\":{\"cpus\":0.0,\"disk\":5.0,\"gpus\":0.0,\"mem\":0.0},"
		    "\"prod\":{\"cpus\":6.0,\"disk\":0.0,\"gpus\":0.0,\"mem\":10.0}}");
	resources_release(&r);
	r = parse_res("cpus:1");
	assert_dump(state_json_reserved(&r), "{}");
	resources_release(&r);
}

static void test_resources_v1(void **state)
{
	struct resources r = parse_res("cpus:1.5;ports:[10-12,20-20];cpus(prod):2;d:{a,b}");
	assert_dump(state_json_resources_v1(&r, NULL),
		    "[{\"name\":\"cpus\",\"role\":\"*\",\"scalar\":{\"value\":1.5},\"type\":\"SCALAR\"},"
		    "{\"name\":\"cpus\",\"reservations\":[{\"role\":\"prod\",\"type\":\"STATIC\"}],"
		    "\"role\":\"prod\",\"scalar\":{\"value\":2.0},\"type\":\"SCALAR\"},"
		    "{\"name\":\"d\",\"role\":\"*\",\"set\":{\"item\":[\"a\",\"b\"]},\"type\":\"SET\"},"
		    "{\"name\":\"ports\",\"ranges\":{\"range\":[{\"begin\":10,\"end\":12},"
		    "{\"begin\":20,\"end\":20}]},\"role\":\"*\",\"type\":\"RANGES\"}]");
	struct resources one = parse_res("mem:32");
	assert_dump(state_json_resources_v1(&one, "*"),
		    "[{\"allocation_info\":{\"role\":\"*\"},\"name\":\"mem\",\"role\":\"*\","
		    "\"scalar\":{\"value\":32.0},\"type\":\"SCALAR\"}]");
	struct resources none = RESOURCES_INIT;
	assert_dump(state_json_resources_v1(&none, "*"), "[]");
	resources_release(&r);
	resources_release(&one);
}

static void test_spaced_list(void **state)
{
	static const char *const cases[][2] = {
		{ "[1-3,5-6]", "[1-3, 5-6]" }, { "{a,b,c}", "{a, b, c}" }, { "[1-2]", "[1-2]" },
		{ "{a, b}", "{a, b}" },        { "", "" },                  { "x,", "x, " },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = state_json_spaced_list(cases[i][0]);
		assert_string_equal(s, cases[i][1]);
		free(s);
	}
}

static void test_attributes(void **state)
{
	struct attributes a = ATTRIBUTES_INIT;
	char err[256];
	assert_int_equal(attributes_parse("rack:r1;zone:3;ids:[1-3,5-6];kinds:{a,b};w:2.5", &a,
					  err, sizeof(err)),
			 0);
	assert_dump(state_json_attributes(&a),
		    "{\"ids\":\"[1-3, 5-6]\",\"kinds\":\"{a, b}\",\"rack\":\"r1\",\"w\":2.5,"
		    "\"zone\":3.0}");
	assert_dump(state_json_attributes_v1(&a),
		    "[{\"name\":\"rack\",\"text\":{\"value\":\"r1\"},\"type\":\"TEXT\"},"
		    "{\"name\":\"zone\",\"scalar\":{\"value\":3.0},\"type\":\"SCALAR\"},"
		    "{\"name\":\"ids\",\"ranges\":{\"range\":[{\"begin\":1,\"end\":3},"
		    "{\"begin\":5,\"end\":6}]},\"type\":\"RANGES\"},"
		    "{\"name\":\"kinds\",\"set\":{\"item\":[\"a\",\"b\"]},\"type\":\"SET\"},"
		    "{\"name\":\"w\",\"scalar\":{\"value\":2.5},\"type\":\"SCALAR\"}]");
	attributes_release(&a);
	struct attributes none = ATTRIBUTES_INIT;
	assert_dump(state_json_attributes(&none), "{}");
	assert_dump(state_json_attributes_v1(&none), "[]");
}

static void test_upid(void **state)
{
	char buf[64];
	assert_int_equal(state_json_upid("master", "10.0.0.1", 5050, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "master@10.0.0.1:5050");
	assert_int_equal(state_json_upid("slave(1)", "10.0.0.11", 5051, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "slave(1)@10.0.0.11:5051");
	assert_int_equal(state_json_upid("master", "::1", 5050, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "master@[::1]:5050");
	/* exactly fitting, then one byte short */
	assert_int_equal(state_json_upid("m", "1.2.3.4", 1, buf, 12), 0);
	assert_string_equal(buf, "m@1.2.3.4:1");
	assert_int_equal(state_json_upid("m", "1.2.3.4", 1, buf, 11), -E2BIG);
	assert_string_equal(buf, "");
}

static void test_labels(void **state)
{
	json_t *l = json_pack("{s:s, s:s}", "HAPROXY_GROUP", "external", "a", "");
	assert_dump(discovery_labels_json(l), "[{\"key\":\"HAPROXY_GROUP\",\"value\":\"external\"},"
					  "{\"key\":\"a\",\"value\":\"\"}]");
	json_decref(l);
	assert_dump(discovery_labels_json(NULL), "[]");
	json_t *arr = json_array();
	assert_dump(discovery_labels_json(arr), "[]");
	json_decref(arr);
}

static struct app *parse_app(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	struct verr err = VERR_INIT;
	struct app *a = NULL;
	if (app_parse(j, "/", &err, &a) < 0)
		fail_msg("%s rejected: %s", text, verr_first(&err));
	verr_release(&err);
	json_decref(j);
	return a;
}

static void test_discovery(void **state)
{
	struct app *a = parse_app(
		"{\"id\":\"/prod/web\",\"cmd\":\"x\",\"portDefinitions\":["
		"{\"port\":0,\"name\":\"http\"},"
		"{\"port\":0,\"protocol\":\"udp,tcp\",\"labels\":{\"VIP_0\":\"1.2.3.4:80\"}},"
		"{\"port\":0}]}");
	char name[APP_MAX_ID_LEN + 1];
	app_task_name(a->id, name);
	assert_string_equal(name, "web.prod");
	uint32_t ports[] = { 31005, 31007 };
	/* the third port has no host port: 0 */
	assert_dump(discovery_info_json(a, name, ports, 2),
		    "{\"name\":\"web.prod\",\"ports\":{\"ports\":["
		    "{\"name\":\"http\",\"number\":31005,\"protocol\":\"tcp\"},"
		    "{\"labels\":{\"labels\":[{\"key\":\"VIP_0\",\"value\":\"1.2.3.4:80\"}]},"
		    "\"number\":31007,\"protocol\":\"udp\"},"
		    "{\"labels\":{\"labels\":[{\"key\":\"VIP_0\",\"value\":\"1.2.3.4:80\"}]},"
		    "\"number\":31007,\"protocol\":\"tcp\"},"
		    "{\"number\":0,\"protocol\":\"tcp\"}]},\"visibility\":\"FRAMEWORK\"}");
	app_free(a);
	a = parse_app("{\"id\":\"/db\",\"cmd\":\"x\",\"portDefinitions\":[]}");
	assert_dump(discovery_info_json(a, "db", NULL, 0),
		    "{\"name\":\"db\",\"ports\":{\"ports\":[]},\"visibility\":\"FRAMEWORK\"}");
	app_free(a);
}

static void test_accepts_json(void **state)
{
	static const struct {
		const char *accept;
		bool ok;
	} cases[] = {
		{ NULL, true },
		{ "", true },
		{ "   ", true },
		{ "application/json", true },
		{ "APPLICATION/JSON", true },
		{ "application/json; charset=utf-8", true },
		{ "*/*", true },
		{ "application/*", true },
		{ "text/html, application/*;q=0.5", true },
		{ "application/x-protobuf", false },
		{ "text/plain", false },
		{ "application/json;q=0", false },
		{ "application/json; q=0.0, text/plain", false },
		{ "application/json;q=0.001", true },
		{ "application/json;q=junk", false },
		{ "application/jsonx", false },
		{ "application/x-protobuf, application/json", true },
		{ ",,,", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (state_json_accepts_json(cases[i].accept) != cases[i].ok)
			fail_msg("Accept '%s': expected %d", cases[i].accept ? cases[i].accept : "(null)",
				 cases[i].ok);
}

static void test_content_type(void **state)
{
	static const struct {
		const char *ct;
		int want;
	} cases[] = {
		{ NULL, -ENOENT },
		{ "", -ENOENT },
		{ "application/json", 0 },
		{ " Application/JSON ; charset=utf-8", 0 },
		{ "application/x-protobuf", -EPROTONOSUPPORT },
		{ "text/plain", -EINVAL },
		{ "application/json-seq", -EINVAL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(state_json_content_type(cases[i].ct), cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resources_legacy),
		cmocka_unit_test(test_ports_mesos_dns_parse),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_resources_v1),
		cmocka_unit_test(test_spaced_list),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_upid),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_accepts_json),
		cmocka_unit_test(test_content_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
