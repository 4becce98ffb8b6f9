/* base/idxset: counted indexes and the lowest free one, against a plain array model under
 * random adds and removes, and at the word and summary boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/idxset.h"

static unsigned model_lowest(const uint32_t *cnt, size_t n)
{
	unsigned i = 0;
	while (i < n && cnt[i])
		i++;
	return i;
}

static void test_empty(void **state)
{
	(void)state;
	struct idxset s = IDXSET_INIT;
	assert_int_equal(idxset_lowest_free(&s), 0);
	assert_int_equal(idxset_count(&s, 12345), 0);
	idxset_release(&s);
}

/* 0 … n-1 held: the lowest free is n, across a word (64) and a summary chunk (4,096). */
static void test_dense_boundaries(void **state)
{
	(void)state;
	const unsigned sizes[] = { 1, 63, 64, 65, 4095, 4096, 4097, 8192, 100000 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
		struct idxset s = IDXSET_INIT;
		for (unsigned i = 0; i < sizes[k]; i++) {
			assert_int_equal(idxset_lowest_free(&s), i);
			idxset_add(&s, i);
		}
		assert_int_equal(idxset_lowest_free(&s), sizes[k]);
		/* A hole reopens below, then closes again. */
		unsigned hole = sizes[k] / 2;
		idxset_del(&s, hole);
		assert_int_equal(idxset_lowest_free(&s), hole);
		idxset_add(&s, hole);
		assert_int_equal(idxset_lowest_free(&s), sizes[k]);
		idxset_release(&s);
	}
}

/* Two members on one index (a replacement shares its old instance's): free only when both
 * are gone. */
static void test_counted(void **state)
{
	(void)state;
	struct idxset s = IDXSET_INIT;
	idxset_add(&s, 0);
	idxset_add(&s, 0);
	idxset_add(&s, 1);
	assert_int_equal(idxset_count(&s, 0), 2);
	idxset_del(&s, 0);
	assert_int_equal(idxset_lowest_free(&s), 2);
	idxset_del(&s, 0);
	assert_int_equal(idxset_lowest_free(&s), 0);
	idxset_release(&s);
}

static void test_random_against_model(void **state)
{
	(void)state;
	enum { N = 20000, ROOM = N + 6000 }; /* room for the fill below */
	uint32_t *cnt = calloc(ROOM, sizeof(*cnt));
	struct idxset s = IDXSET_INIT;
	srand(12);
	for (int step = 0; step < 400000; step++) {
		unsigned i = (unsigned)rand() % (step % 3 ? 300 : N);
		if (rand() % 2 && cnt[i]) {
			idxset_del(&s, i);
			cnt[i]--;
		} else {
			idxset_add(&s, i);
			cnt[i]++;
		}
		if (step % 97 == 0) {
			assert_int_equal(idxset_lowest_free(&s), model_lowest(cnt, ROOM));
			assert_int_equal(idxset_count(&s, i), cnt[i]);
		}
	}
	/* Fill from the lowest free, as a scale-up does. */
	for (int k = 0; k < 5000; k++) {
		unsigned i = idxset_lowest_free(&s);
		assert_int_equal(i, model_lowest(cnt, ROOM));
		idxset_add(&s, i);
		cnt[i]++;
	}
	idxset_release(&s);
	free(cnt);
}

static unsigned model_lowest_from(const uint32_t *cnt, unsigned room, unsigned from)
{
	unsigned i = from;
	while (i < room && cnt[i])
		i++;
	return i;
}

/* The lowest free index from an offset (an app's BERTH_INSTANCE_INDEX_OFFSET): within a
 * word, at word and chunk boundaries, past full chunks and past the covered range. */
static void test_lowest_free_from(void **state)
{
	(void)state;
	enum { ROOM = 3 * 4096 + 200 };
	uint32_t *cnt = calloc(ROOM, sizeof(*cnt));
	struct idxset s = IDXSET_INIT;
	assert_int_equal(idxset_lowest_free_from(&s, 1000), 1000); /* empty: the offset */
	for (unsigned i = 0; i < 2 * 4096 + 70; i++) { /* two full chunks and a bit */
		idxset_add(&s, i);
		cnt[i]++;
	}
	idxset_del(&s, 64 + 5);
	cnt[64 + 5]--;
	const unsigned from[] = { 0, 63, 64, 69, 70, 4095, 4096, 8191, 8192, 8261, 8262, 9000 };
	for (size_t k = 0; k < sizeof(from) / sizeof(from[0]); k++)
		assert_int_equal(idxset_lowest_free_from(&s, from[k]),
				 model_lowest_from(cnt, ROOM, from[k]));
	assert_int_equal(idxset_lowest_free_from(&s, 1u << 30), 1u << 30); /* beyond: itself */
	srand(7);
	for (int step = 0; step < 20000; step++) {
		unsigned i = (unsigned)rand() % ROOM;
		if (rand() % 3 == 0 && cnt[i]) {
			idxset_del(&s, i);
			cnt[i]--;
		} else if (i < ROOM - 100) {
			idxset_add(&s, i);
			cnt[i]++;
		}
		unsigned f = (unsigned)rand() % (ROOM - 100);
		unsigned got = idxset_lowest_free_from(&s, f);
		assert_int_equal(got, model_lowest_from(cnt, ROOM, f));
	}
	idxset_release(&s);
	free(cnt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_dense_boundaries),
		cmocka_unit_test(test_counted),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_lowest_free_from),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
