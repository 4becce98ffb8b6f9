/* Mesos Resource/Attribute JSON conversion, DRF ordering, base64 and uuid helpers
 * (src/model/mesos-resources.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "model/mesos-resources.h"

static void from_json_ok(void **state)
{
	json_t *j = json_loads(
		"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
		" {\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":256},\"role\":\"prod\"},"
		" {\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":10},"
		"  \"reservations\":[{\"type\":\"STATIC\",\"role\":\"a\"},{\"role\":\"a/b\"}]},"
		" {\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":"
		"  [{\"begin\":31005,\"end\":31005},{\"begin\":31000,\"end\":31004}]},\"extra\":1},"
		" {\"name\":\"zones\",\"type\":\"SET\",\"set\":{\"item\":[\"b\",\"a\"]}},"
		" {\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.25}}]",
		0, NULL);
	assert_non_null(j);
	struct resources r = RESOURCES_INIT;
	char err[256];
	assert_int_equal(mesos_resources_from_json(j, &r, err, sizeof(err)), 0);
	char *text = resources_format(&r);
	assert_non_null(strstr(text, "cpus(*):0.75"));
	assert_non_null(strstr(text, "mem(prod):256"));
	assert_non_null(strstr(text, "disk(a/b):10"));
	assert_non_null(strstr(text, "ports(*):[31000-31005]"));
	assert_non_null(strstr(text, "zones(*):{a,b}"));
	free(text);
	/* And back: every entry keeps its role; allocation_info as asked. */
	json_t *back = mesos_resources_to_json(&r, "*", false);
	assert_int_equal(json_array_size(back), r.n);
	struct resources again = RESOURCES_INIT;
	assert_int_equal(mesos_resources_from_json(back, &again, err, sizeof(err)), 0);
	assert_true(resources_contains(&r, &again) && resources_contains(&again, &r));
	size_t i;
	json_t *e;
	json_array_foreach(back, i, e) {
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(e, "allocation_info"), "role")), "*");
		assert_null(json_object_get(e, "reservations"));
	}
	json_decref(back);
	back = mesos_resources_to_json(&r, NULL, true);
	json_array_foreach(back, i, e) {
		const char *role = json_string_value(json_object_get(e, "role"));
		assert_null(json_object_get(e, "allocation_info"));
		assert_int_equal(json_object_get(e, "reservations") != NULL, strcmp(role, "*") != 0);
	}
	json_decref(back);
	resources_release(&again);
	resources_release(&r);
	json_decref(j);
}

static void from_json_bad(void **state)
{
	static const char *const bad[] = {
		"{}",
		"[1]",
		"[{\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}]",
		"[{\"name\":\"cpus\",\"scalar\":{\"value\":1}}]",
		"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":-1}}]",
		"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":\"1\"}}]",
		"[{\"name\":\"cpus\",\"type\":\"SCALAR\"}]",
		"[{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":5,\"end\":4}]}}]",
		"[{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":-1,\"end\":4}]}}]",
		"[{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":{}}}]",
		"[{\"name\":\"s\",\"type\":\"SET\",\"set\":{\"item\":[1]}}]",
		"[{\"name\":\"x\",\"type\":\"TEXT\",\"text\":{\"value\":\"a\"}}]",
		"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},\"role\":\"-bad\"}]",
		"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}},"
		" {\"name\":\"cpus\",\"type\":\"RANGES\",\"ranges\":{\"range\":[]}}]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		struct resources r = RESOURCES_INIT;
		char err[256] = "";
		assert_int_equal(mesos_resources_from_json(j, &r, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
		resources_release(&r);
		json_decref(j);
	}
	/* NULL (absent) is an empty list; the entry count is bounded. */
	struct resources r = RESOURCES_INIT;
	char err[256];
	assert_int_equal(mesos_resources_from_json(NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	json_t *many = json_array();
	for (int i = 0; i <= RESOURCES_MAX_ENTRIES; i++)
		json_array_append_new(many, json_pack("{s:s, s:s, s:{s:f}}", "name", "cpus", "type",
						      "SCALAR", "scalar", "value", 1.0));
	assert_int_equal(mesos_resources_from_json(many, &r, err, sizeof(err)), -EINVAL);
	json_array_remove(many, 0);
	assert_int_equal(mesos_resources_from_json(many, &r, err, sizeof(err)), 0);
	assert_true(resources_scalar(&r, "cpus", "*") == RESOURCES_MAX_ENTRIES);
	resources_release(&r);
	json_decref(many);
}

static void attributes_json(void **state)
{
	struct attributes a = ATTRIBUTES_INIT;
	char err[128];
	assert_int_equal(attributes_parse("rack:r1;ssd:1;zones:[1-3,5-6];disks:{ssd,hdd}", &a, err,
					  sizeof(err)), 0);
	json_t *j = mesos_attributes_to_json(&a);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(strstr(s, "{\"name\":\"rack\",\"text\":{\"value\":\"r1\"},\"type\":\"TEXT\"}"));
	assert_non_null(strstr(s, "{\"name\":\"ssd\",\"scalar\":{\"value\":1.0},\"type\":\"SCALAR\"}"));
	assert_non_null(strstr(s, "\"range\":[{\"begin\":1,\"end\":3},{\"begin\":5,\"end\":6}]"));
	assert_non_null(strstr(s, "\"set\":{\"item\":[\"ssd\",\"hdd\"]}") ||
			strstr(s, "\"set\":{\"item\":[\"hdd\",\"ssd\"]}"));
	free(s);
	json_decref(j);
	attributes_release(&a);
}

static void drf(void **state)
{
	struct resources total = RESOURCES_INIT, x = RESOURCES_INIT, y = RESOURCES_INIT,
			 z = RESOURCES_INIT;
	char err[128];
	assert_int_equal(resources_parse("cpus:10; mem:1000; disk:0", &total, err, sizeof(err)), 0);
	/* x: 2 cpus (20%), 100 mem (10%) -> 0.2; y: 1 cpu (10%), 500 mem (50%) -> 0.5. */
	assert_int_equal(resources_parse("cpus:2; mem:100; disk:50", &x, err, sizeof(err)), 0);
	assert_int_equal(resources_parse("cpus(prod):1; mem:500", &y, err, sizeof(err)), 0);
	assert_true(mesos_drf_share(&x, &total) > 0.199 && mesos_drf_share(&x, &total) < 0.201);
	assert_true(mesos_drf_share(&y, &total) > 0.499 && mesos_drf_share(&y, &total) < 0.501);
	assert_true(mesos_drf_share(&z, &total) == 0);
	assert_true(mesos_drf_share(&x, &z) == 0); /* empty cluster */
	struct drf_entry v[] = {
		{ "y", mesos_drf_share(&y, &total), NULL },
		{ "x", mesos_drf_share(&x, &total), NULL },
		{ "b", 0, NULL },
		{ "a", 0, NULL },
	};
	mesos_drf_sort(v, 4);
	assert_string_equal(v[0].id, "a");
	assert_string_equal(v[1].id, "b");
	assert_string_equal(v[2].id, "x");
	assert_string_equal(v[3].id, "y");
	mesos_drf_sort(v, 0);
	resources_release(&total);
	resources_release(&x);
	resources_release(&y);
}

static void base64_and_uuid(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		  { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[16], back[16];
		assert_int_equal(mesos_b64_encode(t[i].in, strlen(t[i].in), out, sizeof(out)),
				 (int)strlen(t[i].out));
		assert_string_equal(out, t[i].out);
		int n = mesos_b64_decode(out, back, sizeof(back));
		assert_int_equal(n, (int)strlen(t[i].in));
		assert_memory_equal(back, t[i].in, (size_t)n);
	}
	char small[5];
	assert_int_equal(mesos_b64_encode("foo", 3, small, 4), -E2BIG);
	assert_int_equal(mesos_b64_encode("foo", 3, small, 5), 4);
	char buf[8];
	assert_int_equal(mesos_b64_decode("Zm9", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mesos_b64_decode("Zm9v!A==", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mesos_b64_decode("Zg==Zm9v", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mesos_b64_decode("=Zg=", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mesos_b64_decode("Zm9vYmFy", buf, 5), -E2BIG);
	/* The example of reference/compat.md: "hTaLQ0b5Q1OZuab7QclTKQ==". */
	char b64[25];
	assert_int_equal(mesos_uuid_b64("85368b43-46f9-4353-99b9-a6fb41c95329", b64), 0);
	assert_string_equal(b64, "hTaLQ0b5Q1OZuab7QclTKQ==");
	unsigned char raw[16];
	assert_int_equal(mesos_b64_decode(b64, raw, sizeof(raw)), 16);
	assert_int_equal(raw[0], 0x85);
	assert_int_equal(mesos_uuid_b64("85368b43-46f9-4353-99b9-a6fb41c9532", b64), -EINVAL);
	assert_int_equal(mesos_uuid_b64("85368b43x46f9-4353-99b9-a6fb41c95329", b64), -EINVAL);
	assert_int_equal(mesos_uuid_b64("85368b43-46f9-4353-99b9-a6fb41c9532g", b64), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_json_ok),	  cmocka_unit_test(from_json_bad),
		cmocka_unit_test(attributes_json), cmocka_unit_test(drf),
		cmocka_unit_test(base64_and_uuid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
