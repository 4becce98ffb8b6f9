/* Unit tests for src/json: jnull_strip (JSON null as an absent protobuf field). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/jnull.h"

static const char *const maps[] = { "limits", "offer_filters", NULL };

static const struct {
	const char *in, *out;
	const char *const *map_keys;
} cases[] = {
	/* Nothing to strip; a null or a scalar at the top is left alone. */
	{ "{}", "{}", NULL },
	{ "null", "null", NULL },
	{ "5", "5", NULL },
	{ "{\"a\":\"null\",\"b\":0,\"c\":false,\"d\":\"\"}",
	  "{\"a\":\"null\",\"b\":0,\"c\":false,\"d\":\"\"}", NULL },
	/* Members and elements, at every depth; order kept. */
	{ "{\"a\":null}", "{}", NULL },
	{ "[null,null]", "[]", NULL },
	{ "[1,null,2,null,3]", "[1,2,3]", NULL },
	{ "[[null],null,[1,null,2]]", "[[],[1,2]]", NULL },
	{ "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"root\","
	  "\"name\":\"x\",\"id\":null,\"role\":null,\"roles\":null,"
	  "\"capabilities\":[null,{\"type\":null}]}}}",
	  "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"root\","
	  "\"name\":\"x\",\"capabilities\":[{}]}}}", NULL },
	/* A member that only held nulls stays, empty (it was set, to an empty message). */
	{ "{\"filters\":{\"refuse_seconds\":null}}", "{\"filters\":{}}", NULL },
	/* Proto maps keep their null values, and lose the nulls inside the others. */
	{ "{\"limits\":{\"cpus\":null,\"mem\":{\"value\":1,\"x\":null}}}",
	  "{\"limits\":{\"cpus\":null,\"mem\":{\"value\":1}}}", maps },
	{ "{\"a\":[{\"offer_filters\":{\"*\":null}}]}",
	  "{\"a\":[{\"offer_filters\":{\"*\":null}}]}", maps },
	{ "{\"limits\":null}", "{}", maps },
	{ "{\"limits\":[null,1]}", "{\"limits\":[1]}", maps },
	{ "{\"other\":{\"cpus\":null}}", "{\"other\":{}}", maps },
	/* Without the list, a map is an object like any other. */
	{ "{\"limits\":{\"cpus\":null}}", "{\"limits\":{}}", NULL },
};

static void test_strip_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *in = json_loads(cases[i].in, JSON_DECODE_ANY, NULL);
		json_t *want = json_loads(cases[i].out, JSON_DECODE_ANY, NULL);
		assert_non_null(in);
		assert_non_null(want);
		jnull_strip(in, cases[i].map_keys);
		if (!json_equal(in, want)) {
			char *got = json_dumps(in, JSON_COMPACT | JSON_ENCODE_ANY);
			print_error("case %zu: got %s, want %s\n", i, got, cases[i].out);
			free(got);
			fail();
		}
		json_decref(in);
		json_decref(want);
	}
	jnull_strip(NULL, maps); /* accepted, nothing done */
}

/* Many nulls before many values: linear, not one move of the tail per null. */
static void test_strip_long_array(void **state)
{
	enum { N = 200000 };
	json_t *a = json_array();
	for (int i = 0; i < N; i++)
		json_array_append_new(a, json_null());
	for (int i = 0; i < N; i++)
		json_array_append_new(a, json_integer(i));
	json_t *obj = json_pack("{s:o}", "items", a);
	jnull_strip(obj, NULL);
	assert_int_equal(json_array_size(a), N);
	for (int i = 0; i < N; i += 9999)
		assert_int_equal(json_integer_value(json_array_get(a, (size_t)i)), i);
	assert_int_equal(json_integer_value(json_array_get(a, N - 1)), N - 1);
	json_decref(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip_table),
		cmocka_unit_test(test_strip_long_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
