/* base/iheap and base/valcount, the O(changed) structures of an app's kill order and of
 * where its tasks are (issue 12): both against a plain model under random changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/iheap.h"
#include "base/valcount.h"

struct item {
	int key;
	int id;
	uint32_t place;
};

static bool before(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	return x->key != y->key ? x->key < y->key : x->id < y->id;
}

static void check_heap(const struct iheap *h, const struct item *items, size_t n,
		       const bool *in)
{
	size_t members = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(iheap_contains(h, &items[i]), in[i]);
		members += in[i];
	}
	assert_int_equal(iheap_len(h), members);
	for (size_t i = 0; i < iheap_len(h); i++) {
		const struct item *x = iheap_at(h, i);
		assert_int_equal(x->place, i);
		if (i)
			assert_false(before(x, iheap_at(h, (i - 1) / 2)));
	}
	/* The top is the model's first member. */
	const struct item *first = NULL;
	for (size_t i = 0; i < n; i++)
		if (in[i] && (!first || before(&items[i], first)))
			first = &items[i];
	assert_ptr_equal(iheap_top(h), first);
}

static void test_heap_random(void **state)
{
	(void)state;
	enum { N = 500 };
	static struct item items[N];
	static bool in[N];
	struct iheap h;
	iheap_init(&h, offsetof(struct item, place), before);
	srand(12);
	for (int i = 0; i < N; i++) {
		items[i].id = i;
		items[i].key = rand() % 50;
		iheap_init_item(&items[i], h.off);
		in[i] = false;
	}
	for (int step = 0; step < 20000; step++) {
		int i = rand() % N;
		switch (rand() % 4) {
		case 0: /* membership */
			in[i] = !in[i];
			iheap_sync(&h, &items[i], in[i]);
			break;
		case 1: /* key change of a member or not */
			items[i].key = rand() % 50;
			iheap_sync(&h, &items[i], in[i]);
			break;
		case 2: /* take the first ones, as a scale-down does */
			for (int k = rand() % 4; k > 0 && iheap_len(&h); k--) {
				struct item *t = iheap_top(&h);
				iheap_remove(&h, t);
				in[t->id] = false;
			}
			break;
		default:
			if (in[i]) {
				iheap_remove(&h, &items[i]);
				in[i] = false;
			}
		}
		if (step % 97 == 0)
			check_heap(&h, items, N, in);
	}
	check_heap(&h, items, N, in);
	/* Popping everything gives the model's order. */
	struct item *prev = NULL;
	while (iheap_len(&h)) {
		struct item *t = iheap_top(&h);
		if (prev)
			assert_false(before(t, prev));
		iheap_remove(&h, t);
		assert_false(iheap_contains(&h, t));
		prev = t;
	}
	iheap_release(&h);
}

/* Picking the k first of a million costs k pops, not a sort: 1,000,000 members, 1,000
 * taken, all in order. */
static void test_heap_large(void **state)
{
	(void)state;
	enum { N = 1000000 };
	struct item *items = calloc(N, sizeof(*items));
	assert_non_null(items);
	struct iheap h;
	iheap_init(&h, offsetof(struct item, place), before);
	for (int i = 0; i < N; i++) {
		items[i].id = i;
		items[i].key = (int)(((uint64_t)i * 7919u) % N);
		iheap_init_item(&items[i], h.off);
		iheap_push(&h, &items[i]);
	}
	for (int k = 0; k < 1000; k++) {
		struct item *t = iheap_top(&h);
		assert_int_equal(t->key, k);
		iheap_remove(&h, t);
	}
	assert_int_equal(iheap_len(&h), N - 1000);
	iheap_release(&h);
	free(items);
}

static void test_valcount_random(void **state)
{
	(void)state;
	enum { F = 3, V = 7 };
	static const char *const fields[F] = { "hostname", "rack", "" };
	static const char *const vals[V] = { "a", "b", "c", "d", "e", "f", "g" };
	size_t model[F][V] = { { 0 } };
	struct valcount vc = VALCOUNT_INIT;
	srand(5);
	for (int step = 0; step < 20000; step++) {
		int f = rand() % F, v = rand() % V;
		if (rand() % 2 && model[f][v]) {
			valcount_del(&vc, fields[f], vals[v]);
			model[f][v]--;
		} else {
			valcount_add(&vc, fields[f], vals[v]);
			model[f][v]++;
		}
		if (step % 101)
			continue;
		for (int i = 0; i < F; i++) {
			size_t total = 0, seen = 0, sum = 0;
			for (int j = 0; j < V; j++) {
				assert_int_equal(valcount_get(&vc, fields[i], vals[j]), model[i][j]);
				total += model[i][j];
				seen += model[i][j] > 0;
			}
			assert_int_equal(valcount_total(&vc, fields[i]), total);
			const char *x;
			size_t c, nv = 0;
			for (size_t it = 0; valcount_next(&vc, fields[i], &it, &x, &c);) {
				assert_true(c > 0);
				sum += c;
				nv++;
			}
			assert_int_equal(nv, seen);
			assert_int_equal(sum, total);
		}
	}
	assert_int_equal(valcount_get(&vc, "none", "a"), 0);
	assert_int_equal(valcount_total(&vc, "none"), 0);
	valcount_release(&vc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_random),
		cmocka_unit_test(test_heap_large),
		cmocka_unit_test(test_valcount_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
