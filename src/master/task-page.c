/* The page of /master/tasks (legacy-http.c): the first offset + limit entries in (time, idx)
 * order, ascending or descending.
 *
 * Invariants:
 * - The order is total (idx breaks ties), so the page is the same whichever way it is
 *   found: the whole render (a sort of the document's tasks) and the cached answer (the
 *   state cache's entries) give the same bytes.
 * - A small page (k = offset + limit under a quarter of the tasks) does not sort every
 *   task: a max-heap (in the page's order) of the first k seen so far is kept in l->v[0..k),
 *   its root the last of them; an entry before the root replaces it. Then the k are sorted.
 */
#include <stdlib.h>

#include "base/mem.h"
#include "master/task-page.h"

void task_page_add(struct task_page_list *l, double time, void *p)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n] = (struct task_page_entry){ time, l->n, p };
	l->n++;
}

static int asc(const void *a, const void *b)
{
	const struct task_page_entry *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int des(const void *a, const void *b)
{
	return -asc(a, b);
}

static void sift_down(struct task_page_entry *v, size_t n, size_t i,
		      int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t big = i, c = 2 * i + 1;
		if (c < n && cmp(&v[c], &v[big]) > 0)
			big = c;
		if (c + 1 < n && cmp(&v[c + 1], &v[big]) > 0)
			big = c + 1;
		if (big == i)
			return;
		struct task_page_entry t = v[i];
		v[i] = v[big];
		v[big] = t;
		i = big;
	}
}

void task_page_select(struct task_page_list *l, const struct task_page *pg, size_t *from,
		      size_t *to)
{
	int (*cmp)(const void *, const void *) = pg->asc ? asc : des;
	size_t off = (unsigned long long)pg->offset < l->n ? (size_t)pg->offset : l->n;
	size_t lim = (unsigned long long)pg->limit < l->n - off ? (size_t)pg->limit : l->n - off;
	size_t k = off + lim;
	if (k < l->n / 4) {
		for (size_t i = k / 2; i-- > 0;)
			sift_down(l->v, k, i, cmp);
		for (size_t i = k; k && i < l->n; i++)
			if (cmp(&l->v[i], &l->v[0]) < 0) {
				l->v[0] = l->v[i];
				sift_down(l->v, k, 0, cmp);
			}
		l->n = k;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp);
	*from = off;
	*to = k;
}
