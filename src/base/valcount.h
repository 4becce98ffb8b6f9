/* Counts of (field, value) pairs: for each field, how many members have each value and how
 * many have the field at all. An app keeps one of where its live tasks are (hostname, every
 * attribute of their agents, the agent id), so that placement constraints (UNIQUE,
 * MAX_PER, CLUSTER, GROUP_BY) and the spread read a count instead of walking the app's
 * instances (apps/inst-order.c).
 *
 * Invariants: a value is present exactly while its count is > 0; a field is present
 * exactly while its total (the sum of its values' counts) is > 0. Both maps grow
 * incrementally (base/hmap.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/hmap.h"

struct valcount {
	struct hmap fields; /* field -> struct valcount_field* */
};

struct valcount_field {
	size_t total;
	struct hmap vals; /* value -> (void *)(uintptr_t)count */
};

#define VALCOUNT_INIT { HMAP_INIT }

void valcount_init(struct valcount *vc);
void valcount_release(struct valcount *vc);
/* One more member has value for field. */
void valcount_add(struct valcount *vc, const char *field, const char *value);
/* One member less has it (it must be counted). */
void valcount_del(struct valcount *vc, const char *field, const char *value);
/* Members with value for field. */
size_t valcount_get(const struct valcount *vc, const char *field, const char *value);
/* Members with any value for field. */
size_t valcount_total(const struct valcount *vc, const char *field);
/* The values of field with their counts: for (size_t i = 0; valcount_next(vc, f, &i, &v,
 * &n);) … O(distinct values of the field). */
bool valcount_next(const struct valcount *vc, const char *field, size_t *iter,
		   const char **value, size_t *count);
