/* Indexed binary heap: see iheap.h. */
#include <stdlib.h>

#include "base/iheap.h"
#include "base/mem.h"

static uint32_t *place(const struct iheap *h, void *item)
{
	return (uint32_t *)((char *)item + h->off);
}

static void set(struct iheap *h, size_t i, void *item)
{
	h->v[i] = item;
	*place(h, item) = (uint32_t)i;
}

static size_t up(struct iheap *h, size_t i)
{
	void *x = h->v[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!h->before(x, h->v[p]))
			break;
		set(h, i, h->v[p]);
		i = p;
	}
	set(h, i, x);
	return i;
}

static void down(struct iheap *h, size_t i)
{
	void *x = h->v[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->before(h->v[c + 1], h->v[c]))
			c++;
		if (!h->before(h->v[c], x))
			break;
		set(h, i, h->v[c]);
		i = c;
	}
	set(h, i, x);
}

void iheap_init(struct iheap *h, size_t place_offset, bool (*before)(const void *, const void *))
{
	h->v = NULL;
	h->n = h->cap = 0;
	h->off = place_offset;
	h->before = before;
}

void iheap_release(struct iheap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

void iheap_push(struct iheap *h, void *item)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	set(h, h->n++, item);
	up(h, h->n - 1);
}

void iheap_remove(struct iheap *h, void *item)
{
	size_t i = *place(h, item);
	*place(h, item) = IHEAP_NONE;
	void *last = h->v[--h->n];
	if (i == h->n)
		return;
	set(h, i, last);
	if (up(h, i) == i)
		down(h, i);
}

void iheap_fix(struct iheap *h, void *item)
{
	size_t i = *place(h, item);
	if (up(h, i) == i)
		down(h, i);
}

void iheap_sync(struct iheap *h, void *item, bool in)
{
	bool is = iheap_contains(h, item);
	if (in && !is)
		iheap_push(h, item);
	else if (!in && is)
		iheap_remove(h, item);
	else if (in)
		iheap_fix(h, item);
}
