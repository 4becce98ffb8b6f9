/* Unit tests for server/history: the ring keeps the newest HISTORY_CAP samples in order,
 * rates come from the counter's growth, and the JSON parses back with since honoured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/strbuf.h"
#include "server/history.h"

static struct history_sample at(uint64_t t_ms, uint64_t updates, double tasks)
{
	struct history_sample s = { .time_ms = t_ms, .updates_total = updates,
				    .tasks_running = tasks, .cpus = 4, .cpus_used = 1.5 };
	return s;
}

static void test_empty(void **state)
{
	(void)state;
	static struct history h;
	history_init(&h);
	assert_int_equal(history_len(&h), 0);
	assert_null(history_at(&h, 0));
	struct strbuf sb = STRBUF_INIT;
	history_render_json(&h, 0, &sb);
	assert_string_equal(strbuf_str(&sb),
			    "{\"intervalSeconds\":10,\"capacity\":360,\"samples\":[]}");
	strbuf_release(&sb);
}

static void test_wraps_keeping_newest(void **state)
{
	(void)state;
	static struct history h;
	history_init(&h);
	const size_t total = HISTORY_CAP * 2 + 17;
	for (size_t i = 0; i < total; i++) {
		struct history_sample s = at(1000000 + i * 10000, i * 5, (double)i);
		history_push(&h, &s);
		assert_int_equal(history_len(&h), i + 1 < HISTORY_CAP ? i + 1 : HISTORY_CAP);
	}
	assert_int_equal(history_len(&h), HISTORY_CAP);
	for (size_t i = 0; i < HISTORY_CAP; i++) {
		const struct history_sample *s = history_at(&h, i);
		assert_non_null(s);
		assert_int_equal((size_t)s->tasks_running, total - HISTORY_CAP + i);
	}
	assert_null(history_at(&h, HISTORY_CAP));
	/* 5 updates every 10 s */
	assert_true(history_at(&h, HISTORY_CAP - 1)->updates_per_sec == 0.5);
}

static void test_rates(void **state)
{
	(void)state;
	static struct history h;
	history_init(&h);
	struct history_sample a = at(10000, 100, 0), b = at(20000, 130, 0), c = at(30000, 5, 0),
			      d = at(30000, 50, 0);
	a.updates_per_sec = 99; /* ignored: computed */
	history_push(&h, &a);
	history_push(&h, &b);
	history_push(&h, &c); /* the counter went back (a new master): 0, not negative */
	history_push(&h, &d); /* the clock did not advance: 0, no division by zero */
	assert_true(history_at(&h, 0)->updates_per_sec == 0);
	assert_true(history_at(&h, 1)->updates_per_sec == 3);
	assert_true(history_at(&h, 2)->updates_per_sec == 0);
	assert_true(history_at(&h, 3)->updates_per_sec == 0);
}

static void test_json_since(void **state)
{
	(void)state;
	static struct history h;
	history_init(&h);
	for (uint64_t i = 1; i <= 5; i++) {
		struct history_sample s = at(i * 10000, i * 10, (double)i);
		history_push(&h, &s);
	}
	struct strbuf sb = STRBUF_INIT;
	history_render_json(&h, 30000, &sb);
	json_error_t err;
	json_t *j = json_loads(strbuf_str(&sb), 0, &err);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "capacity")), HISTORY_CAP);
	json_t *arr = json_object_get(j, "samples");
	assert_int_equal(json_array_size(arr), 2);
	json_t *s0 = json_array_get(arr, 0);
	assert_int_equal(json_integer_value(json_object_get(s0, "timestamp")), 40000);
	assert_true(json_number_value(json_object_get(s0, "tasksRunning")) == 4);
	assert_true(json_number_value(json_object_get(s0, "cpusUsed")) == 1.5);
	assert_true(json_number_value(json_object_get(s0, "cpus")) == 4);
	assert_true(json_number_value(json_object_get(s0, "statusUpdatesPerSecond")) == 1);
	assert_int_equal(json_integer_value(json_object_get(s0, "statusUpdatesTotal")), 40);
	json_decref(j);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_wraps_keeping_newest),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_json_since),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
