/* An indexed binary heap of borrowed items: each item keeps its own place in the heap (a
 * uint32_t at a fixed offset inside it), so that an item is removed, or put back in order
 * after its key changed, in O(log n) without a search. The item that comes first (before)
 * is at the top. Used for an app's kill order (apps/inst-order.c): picking the k first of n
 * instances costs O(k log n), not a sort of the n.
 *
 * Invariants: for every i > 0, !before(v[i], v[(i - 1) / 2]); the place field of v[i] is i;
 * an item not in the heap has IHEAP_NONE there (iheap_init_item). Growth is by doubling
 * the pointer array (a realloc, not a rehash). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IHEAP_NONE UINT32_MAX

struct iheap {
	void **v;
	size_t n, cap;
	size_t off; /* offsetof the item's uint32_t place */
	bool (*before)(const void *a, const void *b);
};

void iheap_init(struct iheap *h, size_t place_offset, bool (*before)(const void *, const void *));
/* Frees the array; the items are the caller's (their place fields are not reset). */
void iheap_release(struct iheap *h);
/* Marks an item as in no heap (its place field at off). */
static inline void iheap_init_item(void *item, size_t off)
{
	*(uint32_t *)((char *)item + off) = IHEAP_NONE;
}
static inline bool iheap_contains(const struct iheap *h, const void *item)
{
	return *(const uint32_t *)((const char *)item + h->off) != IHEAP_NONE;
}
static inline size_t iheap_len(const struct iheap *h) { return h->n; }
/* The first item, or NULL when empty. */
static inline void *iheap_top(const struct iheap *h) { return h->n ? h->v[0] : NULL; }
/* The item at place i (0 … len - 1): in no particular order beyond the heap's. */
static inline void *iheap_at(const struct iheap *h, size_t i) { return h->v[i]; }
/* Adds an item that is in no heap. */
void iheap_push(struct iheap *h, void *item);
/* Removes an item that is in h. */
void iheap_remove(struct iheap *h, void *item);
/* Puts an item of h back in order after its key changed. */
void iheap_fix(struct iheap *h, void *item);
/* Puts item in h (in: true) or takes it out, or back in order when it stays: the one call
 * for "this item's membership or key may have changed". */
void iheap_sync(struct iheap *h, void *item, bool in);
