/* The page of /master/tasks (master/task-page.c): for random times (many ties), offsets and
 * limits, both orders, the page is exactly the slice of a full sort by (time, order added),
 * whether found with the heap (small pages) or by the sort; and its cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "master/task-page.h"

static int ref_asc(const void *a, const void *b)
{
	const struct task_page_entry *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int ref_des(const void *a, const void *b)
{
	return -ref_asc(a, b);
}

static void check(size_t n, long long off, long long lim, bool asc, unsigned seed)
{
	srand(seed);
	struct task_page_list l = { 0 };
	struct task_page_entry *ref = calloc(n + 1, sizeof(*ref));
	for (size_t i = 0; i < n; i++) {
		double t = (double)(rand() % (int)(n / 3 + 2)) / 7.0; /* ties */
		task_page_add(&l, t, (void *)(uintptr_t)(i + 1));
		ref[i] = l.v[i];
	}
	qsort(ref, n, sizeof(*ref), asc ? ref_asc : ref_des);
	struct task_page pg = { .limit = lim, .offset = off, .asc = asc };
	size_t from, to;
	task_page_select(&l, &pg, &from, &to);
	size_t want_from = (size_t)off < n ? (size_t)off : n;
	size_t want_to = (size_t)lim < n - want_from ? want_from + (size_t)lim : n;
	assert_int_equal(from, want_from);
	assert_int_equal(to, want_to);
	for (size_t i = from; i < to; i++)
		assert_ptr_equal(l.v[i].p, ref[i].p);
	free(ref);
	free(l.v);
}

static void test_pages_match_a_full_sort(void **state)
{
	(void)state;
	static const size_t ns[] = { 0, 1, 2, 7, 100, 1000 };
	static const long long offs[] = { 0, 1, 3, 50, 999, 2000 };
	static const long long lims[] = { 0, 1, 2, 10, 100, 5000 };
	unsigned seed = 1;
	for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
		for (size_t b = 0; b < sizeof(offs) / sizeof(offs[0]); b++)
			for (size_t c = 0; c < sizeof(lims) / sizeof(lims[0]); c++)
				for (int asc = 0; asc < 2; asc++)
					check(ns[a], offs[b], lims[c], asc, seed++);
}

static double page_ms(size_t n, long long lim, bool asc)
{
	struct task_page_list l = { 0 };
	double best = 1e9;
	for (int r = 0; r < 5; r++) {
		l.n = 0;
		for (size_t i = 0; i < n; i++)
			task_page_add(&l, 1.7e9 + (double)(rand() % 100000) / 1e3, NULL);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		struct task_page pg = { .limit = lim, .offset = 0, .asc = asc };
		size_t from, to;
		task_page_select(&l, &pg, &from, &to);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		best = ms < best ? ms : best;
	}
	free(l.v);
	return best;
}

/* The figures (printed, bounded loosely: the machine is shared): a default page of 100 out
 * of 10,000 and 100,000 tasks against a full sort of them. */
static void test_cost(void **state)
{
	(void)state;
	double p10k = page_ms(10000, 100, false), s10k = page_ms(10000, 10000, false);
	double p100k = page_ms(100000, 100, true), s100k = page_ms(100000, 100000, true);
	printf("# page of 100: 10k tasks %.3f ms (full sort %.3f ms), 100k tasks %.3f ms "
	       "(full sort %.3f ms)\n", p10k, s10k, p100k, s100k);
	assert_true(p100k < s100k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_match_a_full_sort),
		cmocka_unit_test(test_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
