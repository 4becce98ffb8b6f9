/* One page of /master/tasks (task-page.c): the tasks ordered by their first status's time,
 * ties in the order they were added. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct task_page {
	long long limit, offset; /* >= 0 */
	bool asc;
};

struct task_page_entry {
	double time;
	size_t idx; /* the order added: ties */
	void *p;    /* the caller's */
};

struct task_page_list {
	struct task_page_entry *v;
	size_t n, cap;
};

void task_page_add(struct task_page_list *l, double time, void *p);
/* Puts the page's entries, in order, at l->v[*from .. *to) (l's other entries are moved or
 * dropped: l->n may shrink). O(n + k log k) with k = offset + limit when k is small against
 * n, O(n log n) else. The caller frees l->v. */
void task_page_select(struct task_page_list *l, const struct task_page *pg, size_t *from,
		      size_t *to);
