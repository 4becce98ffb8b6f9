/* Offer bookkeeping of the scheduler API: decline filters and refuse_seconds
 * (src/master/fw-offers.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "master/fw-int.h"

static void refuse_seconds(void **state)
{
	static const struct {
		const char *json;
		double want;
	} t[] = {
		{ NULL, FW_DEFAULT_REFUSE_SEC },
		{ "{}", FW_DEFAULT_REFUSE_SEC },
		{ "{\"refuse_seconds\": 0}", 0 },
		{ "{\"refuse_seconds\": 1.5}", 1.5 },
		{ "{\"refuse_seconds\": -1}", FW_DEFAULT_REFUSE_SEC },
		{ "{\"refuse_seconds\": \"7\"}", FW_DEFAULT_REFUSE_SEC },
		{ "{\"refuse_seconds\": 31536000}", FW_MAX_REFUSE_SEC },
		{ "{\"refuse_seconds\": 31536001}", FW_MAX_REFUSE_SEC },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *j = t[i].json ? json_loads(t[i].json, 0, NULL) : NULL;
		assert_true(fw_refuse_seconds(j) == t[i].want);
		json_decref(j);
	}
}

static void filters(void **state)
{
	struct fw_framework fw;
	memset(&fw, 0, sizeof(fw));
	uint64_t now = time_mono_usec();
	fw_filter_add(&fw, "a1", 0);      /* no filter */
	fw_filter_add(&fw, "a2", -1);
	assert_int_equal(hmap_len(&fw.filters), 0);
	assert_false(fw_filtered(&fw, "a1", now));
	fw_filter_add(&fw, "a1", 10);
	fw_filter_add(&fw, "a2", 100);
	assert_int_equal(hmap_len(&fw.filters), 2);
	assert_true(fw_filtered(&fw, "a1", now));
	assert_true(fw_filtered(&fw, "a2", now));
	assert_false(fw_filtered(&fw, "a3", now));
	/* Past 10 s only a2 is filtered; pruning drops a1. */
	uint64_t later = now + 20 * 1000000ull;
	assert_false(fw_filtered(&fw, "a1", later));
	assert_true(fw_filtered(&fw, "a2", later));
	fw_filters_prune(&fw, later);
	assert_int_equal(hmap_len(&fw.filters), 1);
	assert_non_null(hmap_get(&fw.filters, "a2"));
	/* A second filter for an agent replaces the first. */
	fw_filter_add(&fw, "a2", 1);
	assert_int_equal(hmap_len(&fw.filters), 1);
	assert_false(fw_filtered(&fw, "a2", now + 2 * 1000000ull));
	fw_filters_clear(&fw);
	assert_int_equal(hmap_len(&fw.filters), 0);
	assert_int_equal(fw.filters.len, 0);
	/* Bounded. */
	char id[32];
	for (int i = 0; i < FW_MAX_FILTERS + 10; i++) {
		snprintf(id, sizeof(id), "agent-%d", i);
		fw_filter_add(&fw, id, 60);
	}
	assert_int_equal(hmap_len(&fw.filters), FW_MAX_FILTERS);
	assert_false(fw_filtered(&fw, id, now));
	fw_filters_clear(&fw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refuse_seconds),
		cmocka_unit_test(filters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
